"""Keyed state, as in ``pyflink.datastream.state``: descriptors, state interfaces, TTL.

A function on a keyed stream gets its state from the runtime context in ``open``::

    def open(self, runtime_context):
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))

    def process_element(self, value, ctx):
        current = self.count.value() or 0
        self.count.update(current + 1)
        yield value, current + 1

The state object is scoped to the key of the record being processed (and, inside windows, to
the window): the same ``self.count`` reads a different value for every key.
"""

from __future__ import annotations

import abc
import enum
from typing import Any, Dict, Generic, Iterable, Iterator, List, Optional, Tuple, TypeVar

from flink_py.api.functions import ReduceFunction as _ReduceFunction
from flink_py.common.time import Duration, Time
from flink_py.errors import InvalidProgramError


# -- TTL ----------------------------------------------------------------------------------------


class StateTtlConfig:
    """Time-to-live of state entries (processing time), as Flink's ``StateTtlConfig``.

    Example::

        ttl = (StateTtlConfig.new_builder(Time.seconds(10))
               .set_update_type(StateTtlConfig.UpdateType.OnCreateAndWrite)
               .set_state_visibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
               .build())
        descriptor.enable_time_to_live(ttl)

    Expired entries are never returned (with ``NeverReturnExpired``) and never written to a
    snapshot, whatever the cleanup strategies say; the strategies are kept, as PyFlink keeps
    them, for ``get_cleanup_strategies``.
    """

    class UpdateType(enum.Enum):
        Disabled = 0
        OnCreateAndWrite = 1
        OnReadAndWrite = 2

    class StateVisibility(enum.Enum):
        ReturnExpiredIfNotCleanedUp = 0
        NeverReturnExpired = 1

    class TtlTimeCharacteristic(enum.Enum):
        ProcessingTime = 0

    def __init__(self, update_type: "StateTtlConfig.UpdateType",
                 state_visibility: "StateTtlConfig.StateVisibility",
                 ttl_time_characteristic: "StateTtlConfig.TtlTimeCharacteristic",
                 ttl: Any,
                 cleanup_strategies: "StateTtlConfig.CleanupStrategies") -> None:
        for value, expected in ((update_type, StateTtlConfig.UpdateType),
                                (state_visibility, StateTtlConfig.StateVisibility),
                                (ttl_time_characteristic, StateTtlConfig.TtlTimeCharacteristic),
                                (cleanup_strategies, StateTtlConfig.CleanupStrategies)):
            if not isinstance(value, expected):
                raise InvalidProgramError(
                    f"StateTtlConfig expects a {expected.__qualname__}, got {value!r}")
        #: the TTL in milliseconds, which the state backends read
        self.ttl_ms = _ttl_millis(ttl)
        self._ttl = ttl
        self.update_type = update_type
        self.state_visibility = state_visibility
        self._ttl_time_characteristic = ttl_time_characteristic
        self._cleanup_strategies = cleanup_strategies

    def get_ttl(self) -> Any:
        """The TTL as given to the builder (a :class:`Time` or :class:`Duration`)."""
        return self._ttl if isinstance(self._ttl, (Time, Duration)) else \
            Time.milliseconds(self.ttl_ms)

    def get_update_type(self) -> "StateTtlConfig.UpdateType":
        return self.update_type

    def get_state_visibility(self) -> "StateTtlConfig.StateVisibility":
        return self.state_visibility

    def get_ttl_time_characteristic(self) -> "StateTtlConfig.TtlTimeCharacteristic":
        return self._ttl_time_characteristic

    def get_cleanup_strategies(self) -> "StateTtlConfig.CleanupStrategies":
        return self._cleanup_strategies

    def is_enabled(self) -> bool:
        return self.update_type is not StateTtlConfig.UpdateType.Disabled

    def __repr__(self) -> str:
        return (f"StateTtlConfig<updateType={self.update_type}, "
                f"stateVisibility={self.state_visibility}, "
                f"ttlTimeCharacteristic={self._ttl_time_characteristic}, "
                f"ttl={self.ttl_ms} ms>")

    @staticmethod
    def new_builder(ttl: Any) -> "StateTtlConfig.Builder":
        return StateTtlConfig.Builder(ttl)

    class Builder:
        def __init__(self, ttl: Any) -> None:
            _ttl_millis(ttl)
            self._ttl = ttl
            self._update_type = StateTtlConfig.UpdateType.OnCreateAndWrite
            self._visibility = StateTtlConfig.StateVisibility.NeverReturnExpired
            self._ttl_time_characteristic = StateTtlConfig.TtlTimeCharacteristic.ProcessingTime
            self._is_cleanup_in_background = True
            self._strategies: Dict["StateTtlConfig.CleanupStrategies.Strategies",
                                   "StateTtlConfig.CleanupStrategies.CleanupStrategy"] = {}

        def set_update_type(self, update_type: "StateTtlConfig.UpdateType"
                            ) -> "StateTtlConfig.Builder":
            self._update_type = update_type
            return self

        def update_ttl_on_create_and_write(self) -> "StateTtlConfig.Builder":
            return self.set_update_type(StateTtlConfig.UpdateType.OnCreateAndWrite)

        def update_ttl_on_read_and_write(self) -> "StateTtlConfig.Builder":
            return self.set_update_type(StateTtlConfig.UpdateType.OnReadAndWrite)

        def set_state_visibility(self, state_visibility: "StateTtlConfig.StateVisibility"
                                 ) -> "StateTtlConfig.Builder":
            self._visibility = state_visibility
            return self

        def return_expired_if_not_cleaned_up(self) -> "StateTtlConfig.Builder":
            return self.set_state_visibility(
                StateTtlConfig.StateVisibility.ReturnExpiredIfNotCleanedUp)

        def never_return_expired(self) -> "StateTtlConfig.Builder":
            return self.set_state_visibility(StateTtlConfig.StateVisibility.NeverReturnExpired)

        def set_ttl_time_characteristic(
                self, ttl_time_characteristic: "StateTtlConfig.TtlTimeCharacteristic"
        ) -> "StateTtlConfig.Builder":
            self._ttl_time_characteristic = ttl_time_characteristic
            return self

        def use_processing_time(self) -> "StateTtlConfig.Builder":
            return self.set_ttl_time_characteristic(
                StateTtlConfig.TtlTimeCharacteristic.ProcessingTime)

        def set_ttl(self, ttl: Any) -> "StateTtlConfig.Builder":
            _ttl_millis(ttl)
            self._ttl = ttl
            return self

        def cleanup_full_snapshot(self) -> "StateTtlConfig.Builder":
            strategies = StateTtlConfig.CleanupStrategies
            self._strategies[strategies.Strategies.FULL_STATE_SCAN_SNAPSHOT] = \
                strategies.EMPTY_STRATEGY
            return self

        def cleanup_incrementally(self, cleanup_size: int = 5,
                                  run_cleanup_for_every_record: bool = False
                                  ) -> "StateTtlConfig.Builder":
            strategies = StateTtlConfig.CleanupStrategies
            self._strategies[strategies.Strategies.INCREMENTAL_CLEANUP] = \
                strategies.IncrementalCleanupStrategy(cleanup_size, run_cleanup_for_every_record)
            return self

        def cleanup_in_rocksdb_compact_filter(
                self, query_time_after_num_entries: int = 1000,
                periodic_compaction_time: Optional[Duration] = None
        ) -> "StateTtlConfig.Builder":
            strategies = StateTtlConfig.CleanupStrategies
            self._strategies[strategies.Strategies.ROCKSDB_COMPACTION_FILTER] = \
                strategies.RocksdbCompactFilterCleanupStrategy(query_time_after_num_entries,
                                                               periodic_compaction_time)
            return self

        def disable_cleanup_in_background(self) -> "StateTtlConfig.Builder":
            self._is_cleanup_in_background = False
            return self

        def build(self) -> "StateTtlConfig":
            return StateTtlConfig(
                self._update_type, self._visibility, self._ttl_time_characteristic, self._ttl,
                StateTtlConfig.CleanupStrategies(dict(self._strategies),
                                                 self._is_cleanup_in_background))

    class CleanupStrategies:
        """When expired entries are cleaned up, as the builder configured it (PyFlink's
        ``StateTtlConfig.CleanupStrategies``)."""

        class Strategies(enum.Enum):
            FULL_STATE_SCAN_SNAPSHOT = 0
            INCREMENTAL_CLEANUP = 1
            ROCKSDB_COMPACTION_FILTER = 2

        class CleanupStrategy(abc.ABC):
            """A cleanup strategy's configuration."""

        class EmptyCleanupStrategy(CleanupStrategy):
            """A strategy without settings."""

        class IncrementalCleanupStrategy(CleanupStrategy):
            def __init__(self, cleanup_size: int, run_cleanup_for_every_record: bool) -> None:
                self._cleanup_size = cleanup_size
                self._run_cleanup_for_every_record = run_cleanup_for_every_record

            def get_cleanup_size(self) -> int:
                return self._cleanup_size

            def run_cleanup_for_every_record(self) -> bool:
                return self._run_cleanup_for_every_record

        class RocksdbCompactFilterCleanupStrategy(CleanupStrategy):
            def __init__(self, query_time_after_num_entries: int,
                         periodic_compaction_time: Optional[Duration] = None) -> None:
                self._query_time_after_num_entries = query_time_after_num_entries
                self._periodic_compaction_time = periodic_compaction_time \
                    if periodic_compaction_time else Duration.of_days(30)

            def get_query_time_after_num_entries(self) -> int:
                return self._query_time_after_num_entries

            def get_periodic_compaction_time(self) -> Duration:
                return self._periodic_compaction_time

        EMPTY_STRATEGY: "StateTtlConfig.CleanupStrategies.EmptyCleanupStrategy"

        def __init__(self, strategies: Dict["StateTtlConfig.CleanupStrategies.Strategies",
                                            "StateTtlConfig.CleanupStrategies.CleanupStrategy"],
                     is_cleanup_in_background: bool) -> None:
            self._strategies = strategies
            self._is_cleanup_in_background = is_cleanup_in_background

        def is_cleanup_in_background(self) -> bool:
            return self._is_cleanup_in_background

        def in_full_snapshot(self) -> bool:
            return self.Strategies.FULL_STATE_SCAN_SNAPSHOT in self._strategies

        def get_incremental_cleanup_strategy(
                self) -> Optional["StateTtlConfig.CleanupStrategies.IncrementalCleanupStrategy"]:
            default = self.IncrementalCleanupStrategy(5, False) \
                if self._is_cleanup_in_background else None
            return self._strategies.get(  # type: ignore[return-value]
                self.Strategies.INCREMENTAL_CLEANUP, default)

        def get_rocksdb_compact_filter_cleanup_strategy(
                self
        ) -> Optional["StateTtlConfig.CleanupStrategies.RocksdbCompactFilterCleanupStrategy"]:
            default = self.RocksdbCompactFilterCleanupStrategy(1000) \
                if self._is_cleanup_in_background else None
            return self._strategies.get(  # type: ignore[return-value]
                self.Strategies.ROCKSDB_COMPACTION_FILTER, default)


StateTtlConfig.CleanupStrategies.EMPTY_STRATEGY = \
    StateTtlConfig.CleanupStrategies.EmptyCleanupStrategy()


def _ttl_millis(ttl: Any) -> int:
    if isinstance(ttl, Time):
        millis = ttl.to_milliseconds()
    elif isinstance(ttl, Duration):
        millis = ttl.to_milliseconds()
    elif isinstance(ttl, int) and not isinstance(ttl, bool):
        millis = ttl
    else:
        raise InvalidProgramError(f"a state TTL must be a Time or Duration, got {ttl!r}")
    if millis <= 0:
        raise InvalidProgramError(f"a state TTL must be positive, got {millis} ms")
    return millis


# -- descriptors --------------------------------------------------------------------------------


class StateDescriptor(abc.ABC):
    """Names a piece of keyed state and its type; equal names in one operator are one state."""

    #: "value" | "list" | "map" | "reducing" | "aggregating"
    kind = ""

    def __init__(self, name: str, type_info: Any = None) -> None:
        if not isinstance(name, str) or not name:
            raise InvalidProgramError(
                f"a state descriptor needs a non-empty str name, got {name!r}")
        self.name = name
        self.type_info = type_info
        self.ttl_config: Optional[StateTtlConfig] = None

    def get_name(self) -> str:
        return self.name

    def enable_time_to_live(self, ttl_config: StateTtlConfig) -> None:
        if not isinstance(ttl_config, StateTtlConfig):
            raise InvalidProgramError(
                f"enable_time_to_live expects a StateTtlConfig, got {ttl_config!r}")
        self.ttl_config = ttl_config

    def signature(self) -> Tuple[str, str]:
        """What must match when the same name is asked for again."""
        return self.kind, repr(self.type_info)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.type_info!r})"


class ValueStateDescriptor(StateDescriptor):
    kind = "value"

    def __init__(self, name: str, value_type_info: Any = None) -> None:
        super().__init__(name, value_type_info)


class ListStateDescriptor(StateDescriptor):
    kind = "list"

    def __init__(self, name: str, elem_type_info: Any = None) -> None:
        super().__init__(name, elem_type_info)


class MapStateDescriptor(StateDescriptor):
    kind = "map"

    def __init__(self, name: str, key_type_info: Any = None,
                 value_type_info: Any = None) -> None:
        super().__init__(name, (key_type_info, value_type_info))
        self.key_type_info = key_type_info
        self.value_type_info = value_type_info


class ReducingStateDescriptor(StateDescriptor):
    kind = "reducing"

    def __init__(self, name: str, reduce_function: Any, type_info: Any = None) -> None:
        super().__init__(name, type_info)
        if isinstance(reduce_function, _ReduceFunction):
            self._reduce_function = reduce_function
            self.reduce_function = reduce_function.reduce
        elif callable(reduce_function):
            self._reduce_function = _CallableReduceFunction(reduce_function)
            self.reduce_function = reduce_function
        else:
            raise InvalidProgramError(
                f"ReducingStateDescriptor {name!r} needs a ReduceFunction or a callable, got "
                f"{reduce_function!r}")


    def get_reduce_function(self) -> Any:
        """The ReduceFunction the state reduces with (a plain callable given to the
        constructor comes back wrapped in one, as in PyFlink)."""
        return self._reduce_function


class _CallableReduceFunction(_ReduceFunction):
    """A ReduceFunction whose ``reduce`` calls a plain callable."""

    def __init__(self, function: Any) -> None:
        self._function = function

    def reduce(self, value1: Any, value2: Any) -> Any:
        return self._function(value1, value2)


class AggregatingStateDescriptor(StateDescriptor):
    kind = "aggregating"

    def __init__(self, name: str, agg_function: Any, state_type_info: Any = None) -> None:
        super().__init__(name, state_type_info)
        for method in ("create_accumulator", "add", "get_result"):
            if not callable(getattr(agg_function, method, None)):
                raise InvalidProgramError(
                    f"AggregatingStateDescriptor {name!r} needs an AggregateFunction (with "
                    f"{method}()), got {agg_function!r}")
        self.agg_function = agg_function

    def get_agg_function(self) -> Any:
        """The AggregateFunction the state aggregates with."""
        return self.agg_function


T = TypeVar("T")
IN = TypeVar("IN")
OUT = TypeVar("OUT")
K = TypeVar("K")
V = TypeVar("V")


# -- state interfaces ---------------------------------------------------------------------------


class State(abc.ABC):
    @abc.abstractmethod
    def clear(self) -> None:
        """Removes the value for the current key (and namespace)."""


class ValueState(State, Generic[T]):
    @abc.abstractmethod
    def value(self) -> Any:
        """The value, or None if there is none."""

    @abc.abstractmethod
    def update(self, value: Any) -> None:
        pass


class AppendingState(State, Generic[IN, OUT]):
    @abc.abstractmethod
    def get(self) -> Any:
        pass

    @abc.abstractmethod
    def add(self, value: Any) -> None:
        pass


class MergingState(AppendingState[IN, OUT]):
    pass


class ListState(MergingState[T, Iterable[T]]):
    @abc.abstractmethod
    def update(self, values: List[Any]) -> None:
        pass

    @abc.abstractmethod
    def add_all(self, values: List[Any]) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        return iter(self.get() or [])


class ReducingState(MergingState[T, T]):
    pass


class AggregatingState(MergingState[IN, OUT]):
    pass


class MapState(State, Generic[K, V]):
    @abc.abstractmethod
    def get(self, key: Any) -> Any:
        pass

    @abc.abstractmethod
    def put(self, key: Any, value: Any) -> None:
        pass

    @abc.abstractmethod
    def put_all(self, dict_value: Dict[Any, Any]) -> None:
        pass

    @abc.abstractmethod
    def remove(self, key: Any) -> None:
        pass

    @abc.abstractmethod
    def contains(self, key: Any) -> bool:
        pass

    @abc.abstractmethod
    def items(self) -> Iterable[Tuple[Any, Any]]:
        pass

    @abc.abstractmethod
    def keys(self) -> Iterable[Any]:
        pass

    @abc.abstractmethod
    def values(self) -> Iterable[Any]:
        pass

    @abc.abstractmethod
    def is_empty(self) -> bool:
        pass

    def __getitem__(self, key: Any) -> Any:
        return self.get(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.put(key, value)

    def __delitem__(self, key: Any) -> None:
        self.remove(key)

    def __contains__(self, key: Any) -> bool:
        return self.contains(key)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys())



# -- broadcast state and operator state ---------------------------------------------------------


class ReadOnlyBroadcastState(State, Generic[K, V]):
    """A read-only view of a :class:`BroadcastState`: what ``process_element`` of a
    broadcast process function gets from ``ctx.get_broadcast_state(descriptor)``."""

    @abc.abstractmethod
    def get(self, key: Any) -> Any:
        pass

    @abc.abstractmethod
    def contains(self, key: Any) -> bool:
        pass

    @abc.abstractmethod
    def items(self) -> Iterable[Tuple[Any, Any]]:
        pass

    @abc.abstractmethod
    def keys(self) -> Iterable[Any]:
        pass

    @abc.abstractmethod
    def values(self) -> Iterable[Any]:
        pass

    @abc.abstractmethod
    def is_empty(self) -> bool:
        pass

    def __getitem__(self, key: Any) -> Any:
        return self.get(key)

    def __contains__(self, key: Any) -> bool:
        return self.contains(key)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys())


class BroadcastState(ReadOnlyBroadcastState[K, V]):
    """The state of a broadcast stream, one map per :class:`MapStateDescriptor`: every
    parallel instance holds the same entries, written by ``process_broadcast_element``."""

    @abc.abstractmethod
    def put(self, key: Any, value: Any) -> None:
        pass

    @abc.abstractmethod
    def put_all(self, dict_value: Dict[Any, Any]) -> None:
        pass

    @abc.abstractmethod
    def remove(self, key: Any) -> None:
        pass

    def __setitem__(self, key: Any, value: Any) -> None:
        self.put(key, value)

    def __delitem__(self, key: Any) -> None:
        self.remove(key)


class OperatorStateStore(abc.ABC):
    """The operator (non-keyed) state of one operator instance."""

    @abc.abstractmethod
    def get_broadcast_state(self, state_descriptor: MapStateDescriptor) -> BroadcastState:
        """The broadcast state that ``state_descriptor`` names."""
