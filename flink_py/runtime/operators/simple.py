"""Stateless one- and two-input operators: map, flat_map, filter, process, co-map."""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

from flink_py.api.functions import ProcessFunction
from flink_py.api.output_tag import OutputTag
from flink_py.errors import InvalidProgramError
from flink_py.runtime.tasks.fusion import FusionStage
from flink_py.runtime.operators.base import (
    TwoInputStreamOperator, UdfOperator, close_function, unwrap_function)


class StreamMap(UdfOperator):
    """``map``: one output per input; timestamps pass through unchanged."""

    def open(self) -> None:
        super().open()
        self._map = unwrap_function(self.function, "map")

    def fusion_stage(self) -> FusionStage:
        return FusionStage("map", self._map)

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        f = self._map
        try:
            out = [f(v) for v in values]
        except Exception as exc:
            raise self.user_error(exc)
        self.output.emit(out, timestamps)


class StreamFilter(UdfOperator):
    """``filter``: keeps the records the predicate is true for."""

    def open(self) -> None:
        super().open()
        self._filter = unwrap_function(self.function, "filter")

    def fusion_stage(self) -> FusionStage:
        return FusionStage("filter", self._filter)

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        f = self._filter
        try:
            if timestamps is None:
                out = [v for v in values if f(v)]
                if out:
                    self.output.emit(out, None)
                return
            kept = [(v, t) for v, t in zip(values, timestamps) if f(v)]
        except Exception as exc:
            raise self.user_error(exc)
        if kept:
            self.output.emit([v for v, _ in kept], [t for _, t in kept])


def _flat_map_batch(operator: UdfOperator, f: Any, values: list,
                    timestamps: Optional[list]) -> None:
    """Applies an iterable-returning function to a buffer and emits the concatenation."""
    out: list = []
    try:
        if timestamps is None:
            extend = out.extend
            for v in values:
                r = f(v)
                if r is not None:
                    extend(r)
            if out:
                operator.output.emit(out, None)
            return
        out_ts: list = []
        for v, t in zip(values, timestamps):
            r = f(v)
            if r is not None:
                n = len(out)
                out.extend(r)
                out_ts.extend([t] * (len(out) - n))
    except Exception as exc:
        raise operator.user_error(exc)
    if out:
        operator.output.emit(out, out_ts)


class StreamFlatMap(UdfOperator):
    """``flat_map``: the function returns or yields any number of outputs per input."""

    def open(self) -> None:
        super().open()
        self._flat_map = unwrap_function(self.function, "flat_map")

    def fusion_stage(self) -> FusionStage:
        return FusionStage("flat_map", self._flat_map)

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        _flat_map_batch(self, self._flat_map, values, timestamps)


class SimpleTimerService:
    """The timer service of a non-keyed context: clocks only, no timers."""

    def __init__(self, operator: Any) -> None:
        self._operator = operator

    def current_processing_time(self) -> int:
        return time.time_ns() // 1_000_000

    def current_watermark(self) -> int:
        return self._operator.current_watermark

    def _keyed_only(self, *args: Any) -> None:
        raise InvalidProgramError(
            f"timers can only be used on a keyed stream; '{self._operator.name}' is not keyed "
            f"(use key_by(...).process(KeyedProcessFunction))")

    register_event_time_timer = register_processing_time_timer = _keyed_only
    delete_event_time_timer = delete_processing_time_timer = _keyed_only


class _ProcessContext(ProcessFunction.Context):
    __slots__ = ("_timestamp", "_timer_service")

    def __init__(self, timer_service: SimpleTimerService) -> None:
        self._timestamp: Optional[int] = None
        self._timer_service = timer_service

    def timestamp(self) -> Optional[int]:
        return self._timestamp

    def timer_service(self) -> SimpleTimerService:
        return self._timer_service


class SideOutputCollector:
    """Splits a process function's yields into main outputs and per-tag side outputs."""

    __slots__ = ("main", "main_ts", "side", "with_timestamps")

    def __init__(self, with_timestamps: bool) -> None:
        self.main: list = []
        self.main_ts: Optional[list] = [] if with_timestamps else None
        self.side: Dict[str, List[list]] = {}
        self.with_timestamps = with_timestamps

    def add_all(self, results: Any, timestamp: Optional[int]) -> None:
        """Adds one invocation's results (an iterable or None)."""
        if results is None:
            return
        main, main_ts = self.main, self.main_ts
        for r in results:
            if type(r) is tuple and len(r) == 2 and type(r[0]) is OutputTag:
                bucket = self.side.get(r[0].tag_id)
                if bucket is None:
                    bucket = self.side[r[0].tag_id] = [[], []]
                bucket[0].append(r[1])
                bucket[1].append(timestamp)
            else:
                main.append(r)
                if main_ts is not None:
                    main_ts.append(timestamp)

    def flush_to(self, output: Any) -> None:
        if self.main:
            output.emit(self.main, self.main_ts)
        for tag_id, (vals, tss) in self.side.items():
            output.side(tag_id)(vals, tss if self.with_timestamps else None)


class ProcessOperator(UdfOperator):
    """``process`` with a ProcessFunction: a generator per element, with side outputs."""

    def open(self) -> None:
        super().open()
        self._process = unwrap_function(self.function, "process_element")
        self._ctx = _ProcessContext(SimpleTimerService(self))

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        f = self._process
        ctx = self._ctx
        collector = SideOutputCollector(timestamps is not None)
        add_all = collector.add_all
        try:
            if timestamps is None:
                ctx._timestamp = None
                for v in values:
                    add_all(f(v, ctx), None)
            else:
                for v, t in zip(values, timestamps):
                    ctx._timestamp = t
                    add_all(f(v, ctx), t)
        except Exception as exc:
            raise self.user_error(exc)
        collector.flush_to(self.output)


class _CoOperator(TwoInputStreamOperator):
    """Base of the co-operators: one function object with a method per input."""

    method_names = ("", "")

    def __init__(self, name: str, function: Any) -> None:
        super().__init__(name)
        self.function = function

    def open(self) -> None:
        try:
            self.open_user_function(self.function)
        except Exception as exc:
            raise self.user_error(exc, "open()")
        first, second = self.method_names
        f = self.function
        if isinstance(f, (tuple, list)) and len(f) == 2:
            self._f1, self._f2 = f
        else:
            self._f1, self._f2 = getattr(f, first), getattr(f, second)

    def close(self) -> None:
        try:
            close_function(self.function)
        except Exception as exc:
            raise self.user_error(exc, "close()")


class CoStreamMap(_CoOperator):
    """``ConnectedStreams.map``: ``map1`` for input 1, ``map2`` for input 2."""

    method_names = ("map1", "map2")

    def _map(self, f: Any, values: list, timestamps: Optional[list]) -> None:
        try:
            out = [f(v) for v in values]
        except Exception as exc:
            raise self.user_error(exc)
        self.output.emit(out, timestamps)

    def process_batch1(self, values: list, timestamps: Optional[list]) -> None:
        self._map(self._f1, values, timestamps)

    def process_batch2(self, values: list, timestamps: Optional[list]) -> None:
        self._map(self._f2, values, timestamps)


class CoStreamFlatMap(_CoOperator):
    """``ConnectedStreams.flat_map``: ``flat_map1`` / ``flat_map2`` yield outputs."""

    method_names = ("flat_map1", "flat_map2")

    def process_batch1(self, values: list, timestamps: Optional[list]) -> None:
        _flat_map_batch(self, self._f1, values, timestamps)

    def process_batch2(self, values: list, timestamps: Optional[list]) -> None:
        _flat_map_batch(self, self._f2, values, timestamps)


class _KeyedScope:
    """Mixin: the record's key is made current before the function sees it (keyed state on a
    KeyedStream's map/flat_map/filter). Such operators are not fused."""

    computes_keys = True

    def __init__(self, name: str, function: Any, key_selector: Any = None) -> None:
        super().__init__(name, function)  # type: ignore[call-arg]
        self.key_selector = key_selector

    def fusion_stage(self) -> None:
        return None

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        backend = self.keyed_state_backend  # type: ignore[attr-defined]
        set_key = backend.set_current_key
        key_of = self.key_selector
        run = super().process_batch  # type: ignore[misc]
        for i, v in enumerate(values):
            set_key(key_of(v))
            run([v], None if timestamps is None else [timestamps[i]])


class KeyedStreamMap(_KeyedScope, StreamMap):
    pass


class KeyedStreamFlatMap(_KeyedScope, StreamFlatMap):
    pass


class KeyedStreamFilter(_KeyedScope, StreamFilter):
    pass


#: the keyed-state-scoped operator for each stateless one, on a KeyedStream
KEYED_VARIANTS = {StreamMap: KeyedStreamMap, StreamFlatMap: KeyedStreamFlatMap,
                  StreamFilter: KeyedStreamFilter}
