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

    def __init__(self, ttl_ms: int, update_type: "StateTtlConfig.UpdateType",
                 state_visibility: "StateTtlConfig.StateVisibility") -> None:
        self.ttl_ms = ttl_ms
        self.update_type = update_type
        self.state_visibility = state_visibility

    def get_ttl(self) -> Time:
        return Time.milliseconds(self.ttl_ms)

    def get_update_type(self) -> "StateTtlConfig.UpdateType":
        return self.update_type

    def get_state_visibility(self) -> "StateTtlConfig.StateVisibility":
        return self.state_visibility

    def is_enabled(self) -> bool:
        return self.update_type is not StateTtlConfig.UpdateType.Disabled

    @staticmethod
    def new_builder(ttl: Any) -> "StateTtlConfig.Builder":
        return StateTtlConfig.Builder(ttl)

    class Builder:
        def __init__(self, ttl: Any) -> None:
            self._ttl_ms = _ttl_millis(ttl)
            self._update_type = StateTtlConfig.UpdateType.OnCreateAndWrite
            self._visibility = StateTtlConfig.StateVisibility.NeverReturnExpired

        def set_update_type(self, update_type: "StateTtlConfig.UpdateType"
                            ) -> "StateTtlConfig.Builder":
            self._update_type = update_type
            return self

        def update_ttl_on_create_and_write(self) -> "StateTtlConfig.Builder":
            return self.set_update_type(StateTtlConfig.UpdateType.OnCreateAndWrite)

        def update_ttl_on_read_and_write(self) -> "StateTtlConfig.Builder":
            return self.set_update_type(StateTtlConfig.UpdateType.OnReadAndWrite)

        def set_state_visibility(self, visibility: "StateTtlConfig.StateVisibility"
                                 ) -> "StateTtlConfig.Builder":
            self._visibility = visibility
            return self

        def return_expired_if_not_cleaned_up(self) -> "StateTtlConfig.Builder":
            return self.set_state_visibility(
                StateTtlConfig.StateVisibility.ReturnExpiredIfNotCleanedUp)

        def never_return_expired(self) -> "StateTtlConfig.Builder":
            return self.set_state_visibility(StateTtlConfig.StateVisibility.NeverReturnExpired)

        def set_ttl(self, ttl: Any) -> "StateTtlConfig.Builder":
            self._ttl_ms = _ttl_millis(ttl)
            return self

        def cleanup_full_snapshot(self) -> "StateTtlConfig.Builder":
            return self  # expired entries are never written to snapshots here anyway

        def cleanup_incrementally(self, cleanup_size: int = 5,
                                  run_cleanup_for_every_record: bool = False
                                  ) -> "StateTtlConfig.Builder":
            return self

        def cleanup_in_rocksdb_compact_filter(self, query_time_after_num_entries: int = 1000
                                              ) -> "StateTtlConfig.Builder":
            return self

        def disable_cleanup_in_background(self) -> "StateTtlConfig.Builder":
            return self

        def build(self) -> "StateTtlConfig":
            return StateTtlConfig(self._ttl_ms, self._update_type, self._visibility)


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
        from flink_py.api.functions import ReduceFunction
        if isinstance(reduce_function, ReduceFunction):
            self.reduce_function = reduce_function.reduce
        elif callable(reduce_function):
            self.reduce_function = reduce_function
        else:
            raise InvalidProgramError(
                f"ReducingStateDescriptor {name!r} needs a ReduceFunction or a callable, got "
                f"{reduce_function!r}")


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

