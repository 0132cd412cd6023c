"""Time attributes, watermarks and windows of the Table API and SQL, as plan nodes on our
DataStream operators.

* ``WatermarkAssigner``: a rowtime column's record timestamps and the watermarks of its
  ``WATERMARK FOR ts AS <expr>`` (``Schema.watermark``): the largest value of the expression
  seen so far, emitted every ``pipeline.auto-watermark-interval`` as Flink's
  WatermarkAssignerOperator emits it (not less one, unlike the DataStream API's
  bounded-out-of-orderness strategy).
* ``WindowTableFunction``: ``TABLE(TUMBLE|HOP|CUMULATE(TABLE t, DESCRIPTOR(ts), ...))``,
  the input's rows with ``window_start``, ``window_end`` and ``window_time`` (a HOP or
  CUMULATE row once per window it falls in).
* ``WindowAggregate``: a group aggregation per window (window TVF aggregation, legacy
  ``GROUP BY TUMBLE(...)``, the Table API's ``window(Tumble ...)``). As Flink's slicing window
  operator: each row is accumulated into its slice (a tumbling window is one slice, a hopping
  window ``size / gcd(size, slide)`` slices of ``gcd``, a cumulative window ``size / step``
  slices of ``step``); a window fires when the watermark reaches its end - 1 and merges its
  slices -- a hopping window from its last slice back to its first, a cumulative one from
  its first on, which is the order Flink's float sums are rounded in; a row whose slice has
  fired is late and dropped. Session windows merge, as Flink's session assigner merges
  ``[ts, ts + gap)`` windows that touch. Accumulators are keyed MapState: checkpointed.
* ``OverAggregate``: ``agg OVER (PARTITION BY ... ORDER BY rowtime ROWS|RANGE BETWEEN ...
  PRECEDING AND CURRENT ROW)``: rows wait in keyed state until the watermark passes their
  timestamp, then each is emitted with the aggregates of its frame, in timestamp order.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from flink_py.table import types as t
from flink_py.table.errors import TableException, ValidationException
from flink_py.table.expressions import Resolved
from flink_py.table.planner import AggSpec, PlanNode, _accumulate, translate
from flink_py.table.temporal import from_millis, to_millis

__all__ = ["WatermarkAssigner", "WindowSpec", "WindowTableFunction", "WindowAggregate",
           "OverAggregate"]

_WINDOW_COLUMNS = ("window_start", "window_end", "window_time")


def rowtime_type(dt: t.DataType, batch: bool = False) -> t.DataType:
    if not isinstance(dt, t.TimestampType) or getattr(dt, "precision", 3) > 3:
        raise ValidationException(
            f"Invalid data type of time field for watermark definition. The field must be of "
            f"type TIMESTAMP(p) or TIMESTAMP_LTZ(p), the supported precision 'p' is from 0 to "
            f"3, but the time field type is {dt.sql()}")
    return dt.as_time_attribute("ROWTIME", not batch)  # type: ignore[attr-defined]


def is_rowtime(dt: t.DataType) -> bool:
    return getattr(dt, "time_attribute", None) == "ROWTIME"


def is_proctime(dt: t.DataType) -> bool:
    return getattr(dt, "time_attribute", None) == "PROCTIME"


class WatermarkAssigner(PlanNode):
    """The watermarks of ``WATERMARK FOR <column> AS <expression>`` over ``child``."""

    def __init__(self, child: PlanNode, column: int, watermark: Resolved,
                 batch: bool = False) -> None:
        if not isinstance(watermark.data_type, t.TimestampType):
            raise ValidationException(
                f"Invalid data type of expression for watermark definition. The field must be "
                f"of type TIMESTAMP(p) or TIMESTAMP_LTZ(p), but is {watermark.data_type.sql()}")
        self.inputs = (child,)
        self.column, self.watermark = column, watermark
        self.names = list(child.names)
        self.data_types = list(child.data_types)
        self.data_types[column] = rowtime_type(child.data_types[column], batch)
        self.qualified = child.qualified

    def describe(self) -> str:
        return (f"WatermarkAssigner(rowtime=[{self.names[self.column]}], "
                f"watermark=[...])")

    def to_stream(self, env: Any, batch: bool) -> Any:
        stream = translate(self.inputs[0], env, batch)
        if batch:
            return stream
        from flink_py.common.watermark_strategy import WatermarkStrategy
        index, expression = self.column, self.watermark.evaluate

        def extract(row: tuple, record_timestamp: int) -> int:
            value = row[index]
            if value is None:
                raise TableException(
                    f"RowTime field should not be null, please convert it to a non-null "
                    f"long value (column {index})")
            return to_millis(value)
        strategy = WatermarkStrategy.for_generator(
            lambda context: ExpressionWatermarks(expression)).with_timestamp_assigner(extract)
        return stream.assign_timestamps_and_watermarks(strategy)


from flink_py.common.watermark_strategy import WatermarkGenerator  # noqa: E402


class SourceWatermark(PlanNode):
    """``WATERMARK FOR rowtime AS SOURCE_WATERMARK()``: the column is the rowtime and the
    stream's own watermarks stand."""

    def __init__(self, child: PlanNode, column: int, batch: bool = False) -> None:
        self.inputs, self.column = (child,), column
        self.names = list(child.names)
        self.data_types = list(child.data_types)
        self.data_types[column] = rowtime_type(child.data_types[column], batch)
        self.qualified = child.qualified

    def to_stream(self, env: Any, batch: bool) -> Any:
        return translate(self.inputs[0], env, batch)


class RecordTimestamp(PlanNode):
    """``child``'s rows with the stream record's timestamp appended (the ``rowtime``
    metadata of ``from_data_stream``), a TIMESTAMP_LTZ(3) or, for a legacy ``.rowtime``
    field, a TIMESTAMP(3)."""

    def __init__(self, child: PlanNode, name: str, data_type: t.DataType) -> None:
        self.inputs = (child,)
        self.names = list(child.names) + [name]
        self.data_types = list(child.data_types) + [data_type]

    def to_stream(self, env: Any, batch: bool) -> Any:
        from flink_py.datastream.functions import ProcessFunction
        from flink_py.table.temporal import ltz_from_millis
        ltz = isinstance(self.data_types[-1], t.LocalZonedTimestampType)

        class AppendTimestamp(ProcessFunction):
            def process_element(self, row: tuple, ctx: Any) -> Any:
                ts = ctx.timestamp()
                if ts is None:
                    raise TableException(
                        "Rowtime timestamp is not defined. Please make sure that a proper "
                        "TimestampAssigner is defined and the stream environment uses the "
                        "EventTime time characteristic.")
                yield row + ((ltz_from_millis(ts) if ltz else from_millis(ts)),)
        return translate(self.inputs[0], env, batch).process(AppendTimestamp())


def _schema_extras(schema: Any) -> Tuple[Dict[str, str], List[str]]:
    """What Flink's ResolvedSchema adds to a column list: `` AS <expr>`` after a computed
    column, `` METADATA`` after a metadata one, then WATERMARK and PRIMARY KEY lines."""
    from flink_py.table.catalog import Metadata
    from flink_py.table.sql import flink_sql_text
    suffixes: Dict[str, str] = {}
    types: Dict[str, t.DataType] = {}
    for name, declared in schema.columns:
        if isinstance(declared, Metadata):
            suffixes[name] = " METADATA" + (" VIRTUAL" if declared.virtual else "") + (
                f" FROM '{declared.key}'" if declared.key != name else "")
            types[name] = declared.data_type
        elif isinstance(declared, t.DataType):
            types[name] = declared
        else:
            suffixes[name] = f" AS {flink_sql_text(declared)}"
    lines = []
    for column, watermark in schema.watermarks:
        lines.append(f"WATERMARK FOR `{column}`: {{type:{column}}} AS "
                     f"{flink_sql_text(watermark)}")
    key = getattr(schema, "primary_key", None)
    if key:
        lines.append(f"CONSTRAINT `PK_{'_'.join(key)}` PRIMARY KEY "
                     f"({', '.join(f'`{k}`' for k in key)}) NOT ENFORCED")
    return suffixes, lines


def _with_record_timestamp(plan: PlanNode, metadata: List[Tuple[str, Any]]) -> PlanNode:
    if len(metadata) != 1 or metadata[0][1].key != "rowtime":
        raise TableException(
            f"the metadata columns {[n for n, _ in metadata]} of a DataStream: only "
            f"'rowtime' (the record's timestamp) is available")
    name, declared = metadata[0]
    if not isinstance(declared.data_type, t.LocalZonedTimestampType):
        raise ValidationException(
            f"Invalid data type for metadata column '{name}': the rowtime metadata of a "
            f"DataStream is TIMESTAMP_LTZ(3), got {declared.data_type.sql()}")
    return RecordTimestamp(plan, name, declared.data_type)


class ExpressionWatermarks(WatermarkGenerator):
    """A periodic generator of the largest watermark expression value seen so far."""

    def __init__(self, expression: Callable[[tuple], Any]) -> None:
        self.expression = expression
        self.current: Optional[int] = None

    def on_event(self, event: Any, event_timestamp: int, output: Any) -> None:
        value = self.expression(event)
        if value is not None:
            millis = to_millis(value)
            if self.current is None or millis > self.current:
                self.current = millis

    def on_periodic_emit(self, output: Any) -> None:
        if self.current is not None:
            from flink_py.common.watermark_strategy import Watermark
            output.emit_watermark(Watermark(self.current))



# -- window specs ------------------------------------------------------------------------------
class WindowSpec:
    """A window kind over a time attribute: TUMBLE(size), HOP(slide, size),
    CUMULATE(step, size), SESSION(gap); sizes in milliseconds."""

    def __init__(self, kind: str, time_index: int, size: int, slide: Optional[int] = None,
                 offset: int = 0, partition: Optional[List[int]] = None) -> None:
        kind = kind.upper()
        for what, value in (("size", size), ("slide/step", slide)):
            if value is not None and value <= 0:
                raise ValidationException(f"{kind} window {what} must be positive, got "
                                          f"{value} ms")
        if kind == "HOP" and size % slide:  # type: ignore[operator]
            # Flink accepts it; slices of gcd(size, slide) cover both
            pass
        if kind == "CUMULATE" and size % slide:  # type: ignore[operator]
            raise ValidationException(
                f"CUMULATE table function based aggregate requires maxSize must be an "
                f"integral multiple of step, but got maxSize {size} ms and step {slide} ms.")
        self.kind, self.time_index, self.size, self.slide = kind, time_index, size, slide
        self.offset = offset
        self.partition = partition or []

    @property
    def slice_size(self) -> int:
        if self.kind == "HOP":
            return math.gcd(self.size, self.slide)  # type: ignore[arg-type]
        if self.kind == "CUMULATE":
            return self.slide  # type: ignore[return-value]
        return self.size

    def slice_end(self, ts: int) -> int:
        size = self.slice_size
        start = ts - ((ts - self.offset) % size)
        return start + size

    def window_ends(self, slice_end: int) -> List[int]:
        """The ends of the windows a slice belongs to, earliest first."""
        if self.kind == "TUMBLE":
            return [slice_end]
        if self.kind == "HOP":
            # the windows [s, s + size) with s on the slide grid that hold the slice
            slice_start = slice_end - self.slice_size
            return [start + self.size for start, _ in self.windows_of(slice_start)]
        # CUMULATE: the windows of the slice's window start, from this slice's end on
        start = slice_end - self.slice_size
        window_start = start - ((start - self.offset) % self.size)
        return list(range(slice_end, window_start + self.size + 1,
                          self.slide))  # type: ignore[arg-type]

    def slices_of(self, window_end: int) -> List[int]:
        """The slice ends a window merges, in the order Flink merges them."""
        if self.kind == "TUMBLE":
            return [window_end]
        if self.kind == "HOP":
            n = self.size // self.slice_size
            return [window_end - i * self.slice_size for i in range(n)]  # last slice first
        window_start = self.window_start(window_end)
        return list(range(window_start + self.slide, window_end + 1,  # type: ignore[operator]
                          self.slide))  # type: ignore[arg-type]

    def window_start(self, window_end: int) -> int:
        if self.kind == "CUMULATE":
            start = window_end - self.slide  # type: ignore[operator]
            return start - ((start - self.offset) % self.size)
        return window_end - self.size

    def expired_slices(self, window_end: int) -> List[int]:
        """The slices no window after this one needs."""
        if self.kind == "TUMBLE":
            return [window_end]
        if self.kind == "HOP":
            return [window_end - self.size + self.slice_size]
        if window_end == self.window_start(window_end) + self.size:
            return self.slices_of(window_end)
        return []

    def windows_of(self, ts: int) -> List[Tuple[int, int]]:
        """The windows ``[start, end)`` a timestamp falls in (the TVF's rows), earliest
        start first."""
        if self.kind == "TUMBLE":
            start = ts - ((ts - self.offset) % self.size)
            return [(start, start + self.size)]
        if self.kind == "HOP":
            slide = self.slide  # type: ignore[assignment]
            start = ts - ((ts - self.offset) % slide)  # type: ignore[operator]
            starts = []
            while start > ts - self.size:
                starts.append(start)
                start -= slide  # type: ignore[operator]
            return [(s, s + self.size) for s in reversed(starts)]
        if self.kind == "CUMULATE":
            start = ts - ((ts - self.offset) % self.size)
            first_end = self.slice_end(ts)
            return [(start, e) for e in range(first_end, start + self.size + 1,
                                              self.slide)]  # type: ignore[arg-type]
        raise TableException(f"{self.kind} windows have no fixed bounds")


def _window_types(time_type: t.DataType) -> List[t.DataType]:
    """window_start, window_end: TIMESTAMP(3) NOT NULL; window_time: the time attribute's
    type (a rowtime) NOT NULL."""
    time = t.LocalZonedTimestampType(3, False) if isinstance(
        time_type, t.LocalZonedTimestampType) else t.TimestampType(3, False)
    return [t.TimestampType(3, False), t.TimestampType(3, False),
            time.as_time_attribute("ROWTIME") if is_rowtime(time_type) else time]


class WindowTableFunction(PlanNode):
    """``TABLE(TUMBLE|HOP|CUMULATE|SESSION(TABLE t, DESCRIPTOR(ts), ...))``: the rows of
    ``child`` with their windows' ``window_start``, ``window_end``, ``window_time``."""

    def __init__(self, child: PlanNode, spec: WindowSpec) -> None:
        if child.updating:
            raise TableException("a window table function over an updating input is not "
                                 "supported")
        time_type = child.data_types[spec.time_index]
        if not (is_rowtime(time_type) or is_proctime(time_type)):
            raise ValidationException(
                f"The window function requires the timecol is a time attribute type, but is "
                f"{time_type.sql()}.")
        self.inputs, self.spec = (child,), spec
        self.clock = WindowClock(time_type)
        self.names = list(child.names) + list(_WINDOW_COLUMNS)
        self.data_types = list(child.data_types) + _window_types(time_type)

    def describe(self) -> str:
        return f"WindowTableFunction(window=[{self.spec.kind}])"

    def to_stream(self, env: Any, batch: bool) -> Any:
        if self.spec.kind == "SESSION":
            raise TableException("the SESSION window table function is supported with a "
                                 "window aggregation only (GROUP BY window_start, window_end)")
        stream = translate(self.inputs[0], env, batch)
        spec, index, clock = self.spec, self.spec.time_index, self.clock

        def with_windows(row: tuple) -> Any:
            for start, end in spec.windows_of(clock.local(row[index])):
                yield row + clock.values(start, end)
        return stream.flat_map(with_windows)


class WindowAggregate(PlanNode):
    """Aggregates per group and window; output: the keys, window_start, window_end,
    window_time, then the aggregates. Insert-only: a window's row is final when it fires."""

    def __init__(self, child: PlanNode, spec: WindowSpec, keys: List[Resolved],
                 key_names: List[str], aggs: List[AggSpec], agg_names: List[str]) -> None:
        if child.updating:
            raise TableException("a window aggregation over an updating input is not "
                                 "supported")
        time_type = child.data_types[spec.time_index]
        if not (is_rowtime(time_type) or is_proctime(time_type)):
            raise ValidationException(
                f"Window aggregate can only be defined over a time attribute column, but "
                f"{child.names[spec.time_index]} of type {time_type.sql()} is not one")
        self.inputs, self.spec = (child,), spec
        self.keys, self.aggs = keys, aggs
        self.event_time = is_rowtime(time_type)
        self.clock = WindowClock(time_type)
        self.names = key_names + list(_WINDOW_COLUMNS) + agg_names
        self.data_types = ([k.data_type for k in keys] + _window_types(time_type)
                           + [a.data_type for a in aggs])

    def describe(self) -> str:
        return (f"WindowAggregate(groupBy=[{', '.join(self.names[:len(self.keys)])}], "
                f"window=[{self.spec.kind}], select=[{', '.join(a.describe() for a in self.aggs)}])")

    def to_stream(self, env: Any, batch: bool) -> Any:
        if batch:
            return self._batch_stream(env)
        stream = translate(self.inputs[0], env, batch)
        key_fns = [k.evaluate for k in self.keys]

        def key_of(row: tuple) -> tuple:
            return tuple(f(row) for f in key_fns)
        function = (SessionWindowAggFunction if self.spec.kind == "SESSION"
                    else SliceWindowAggFunction)(self)
        return stream.key_by(key_of).process(function)

    def _batch_stream(self, env: Any) -> Any:
        """Batch mode: every window of every row, aggregated at the end of input."""
        if self.spec.kind == "SESSION":
            raise TableException("SESSION windows in batch mode are not supported yet")
        stream = translate(self.inputs[0], env, True)
        spec, index = self.spec, self.spec.time_index
        key_fns = [k.evaluate for k in self.keys]
        create, merge, results, _ = _accumulate(self.aggs)
        clock = self.clock

        def per_window(row: tuple) -> Any:
            key = tuple(f(row) for f in key_fns)
            for start, end in spec.windows_of(clock.local(row[index])):
                yield ((key, start, end), create(row))

        def combine(a: tuple, b: tuple) -> tuple:
            return (a[0], merge(a[1], b[1]))

        def finish(kv: tuple) -> tuple:
            (key, start, end), accs = kv
            return key + clock.values(start, end) + results(accs)
        return (stream.flat_map(per_window).key_by(lambda kv: kv[0]).reduce(combine)
                .map(finish))


class WindowClock:
    """Window bounds in the time attribute's wall clock: a TIMESTAMP rowtime's own value; a
    TIMESTAMP_LTZ one's in the session time zone (Flink's shift time zone), so that a day
    window starts at local midnight. Timers and watermarks stay in epoch milliseconds."""

    def __init__(self, time_type: t.DataType) -> None:
        self.ltz = isinstance(time_type, t.LocalZonedTimestampType)
        from flink_py.table.temporal import _SESSION_ZONE
        self.zone_name = _SESSION_ZONE.get() if self.ltz else None
        self._zone: Any = None

    def _tz(self) -> Any:
        if self._zone is None:
            from flink_py.table.temporal import zone_of
            self._zone = zone_of(self.zone_name)
        return self._zone

    def local(self, value: Any) -> int:
        """A time attribute value as wall-clock milliseconds."""
        if not self.ltz:
            return to_millis(value)
        return to_millis(value.astimezone(self._tz()).replace(tzinfo=None))

    def timer(self, local_millis: int) -> int:
        """The epoch milliseconds of a wall-clock instant (a timer, a watermark)."""
        if not self.ltz:
            return local_millis
        return to_millis(from_millis(local_millis).replace(tzinfo=self._tz()))

    def local_of_timer(self, epoch_millis: int) -> int:
        if not self.ltz:
            return epoch_millis
        from flink_py.table.temporal import ltz_from_millis
        return self.local(ltz_from_millis(epoch_millis))

    def values(self, start: int, end: int) -> tuple:
        """window_start, window_end (wall-clock TIMESTAMP(3)) and window_time."""
        if self.ltz:
            from flink_py.table.temporal import ltz_from_millis
            time = ltz_from_millis(self.timer(end - 1))
        else:
            time = from_millis(end - 1)
        return (from_millis(start), from_millis(end), time)


def _keyed_function_base() -> Any:
    from flink_py.datastream.functions import KeyedProcessFunction
    return KeyedProcessFunction


class _WindowAggFunction(_keyed_function_base()):  # type: ignore[misc]
    """What the window aggregations share: the accumulators of the node's aggregates, its
    window clock, and the UDFs its keys and arguments call (opened and closed here)."""

    def __init__(self, node: WindowAggregate) -> None:
        self.spec, self.event_time = node.spec, node.event_time
        self.create, self.merge, self.results, self.zero = _accumulate(node.aggs)
        self.clock = node.clock
        self.udfs = [u for k in node.keys for u in k.udfs] + [
            u for a in node.aggs if a.arg is not None for u in a.arg.udfs]

    def open(self, runtime_context: Any) -> None:
        from flink_py.table.udf import open_functions
        open_functions(self.udfs, runtime_context)

    def close(self) -> None:
        from flink_py.table.udf import close_functions
        close_functions(self.udfs)


class SliceWindowAggFunction(_WindowAggFunction):
    """Tumbling, hopping and cumulative window aggregation over slices (see the module)."""

    def open(self, runtime_context: Any) -> None:
        from flink_py.common.typeinfo import Types
        from flink_py.datastream.state import MapStateDescriptor
        self.slices = runtime_context.get_map_state(MapStateDescriptor(
            "window-slices", Types.LONG(), Types.PICKLED_BYTE_ARRAY()))
        super().open(runtime_context)

    def process_element(self, row: tuple, ctx: Any) -> Any:
        timers, clock = ctx.timer_service(), self.clock
        if self.event_time:
            slice_end = self.spec.slice_end(clock.local(row[self.spec.time_index]))
            if clock.timer(slice_end - 1) <= timers.current_watermark():
                return  # late: its slice has fired
        else:
            slice_end = self.spec.slice_end(clock.local_of_timer(
                timers.current_processing_time()))
        previous = self.slices.get(slice_end)
        accs = self.create(row)
        self.slices.put(slice_end, accs if previous is None else self.merge(previous, accs))
        if previous is None:
            for end in self.spec.window_ends(slice_end):
                if self.event_time:
                    timers.register_event_time_timer(clock.timer(end - 1))
                else:
                    timers.register_processing_time_timer(clock.timer(end - 1))
        return
        yield  # a generator: emits only from on_timer

    def on_timer(self, timestamp: int, ctx: Any) -> Any:
        window_end = self.clock.local_of_timer(timestamp) + 1
        accs, seen = self.zero, False
        for slice_end in self.spec.slices_of(window_end):
            part = self.slices.get(slice_end)
            if part is not None:
                accs, seen = self.merge(accs, part), True
        for slice_end in self.spec.expired_slices(window_end):
            self.slices.remove(slice_end)
        if seen:
            start = self.spec.window_start(window_end)
            yield (ctx.get_current_key() + self.clock.values(start, window_end)
                   + self.results(accs))


class SessionWindowAggFunction(_WindowAggFunction):
    """Session windows: ``[ts, ts + gap)`` per row, merged with the windows they touch
    (Flink's SessionWindowAssigner: the ceiling window, then the floor one)."""

    def open(self, runtime_context: Any) -> None:
        from flink_py.common.typeinfo import Types
        from flink_py.datastream.state import ValueStateDescriptor
        # {(start, end): accumulators} of the key's open sessions
        self.sessions = runtime_context.get_state(ValueStateDescriptor(
            "sessions", Types.PICKLED_BYTE_ARRAY()))
        super().open(runtime_context)

    def _register(self, timers: Any, end: int) -> None:
        if self.event_time:
            timers.register_event_time_timer(self.clock.timer(end - 1))
        else:
            timers.register_processing_time_timer(self.clock.timer(end - 1))

    def _delete(self, timers: Any, end: int) -> None:
        if self.event_time:
            timers.delete_event_time_timer(self.clock.timer(end - 1))
        else:
            timers.delete_processing_time_timer(self.clock.timer(end - 1))

    def process_element(self, row: tuple, ctx: Any) -> Any:
        timers, clock = ctx.timer_service(), self.clock
        ts = (clock.local(row[self.spec.time_index]) if self.event_time
              else clock.local_of_timer(timers.current_processing_time()))
        start, end = ts, ts + self.spec.size
        if self.event_time and clock.timer(end - 1) <= timers.current_watermark():
            return  # late
        sessions: Dict[Tuple[int, int], list] = dict(self.sessions.value() or {})
        accs = self.create(row)
        window = (start, end)
        ordered = sorted(sessions)
        ceiling = next((w for w in ordered if w >= window), None)
        floor = next((w for w in reversed(ordered) if w <= window), None)
        merged = []
        for other in (ceiling, floor):
            if other is not None and other not in merged and (
                    window[0] <= other[1] and window[1] >= other[0]):
                merged.append(other)
                window = (min(window[0], other[0]), max(window[1], other[1]))
        if merged:
            base = self.zero
            for other in sorted(merged):
                base = self.merge(base, sessions.pop(other))
                self._delete(timers, other[1])
            accs = self.merge(base, accs)
        elif window in sessions:
            accs = self.merge(sessions.pop(window), accs)
            self._delete(timers, window[1])
        sessions[window] = accs
        self._register(timers, window[1])
        self.sessions.update(sessions)
        return
        yield

    def on_timer(self, timestamp: int, ctx: Any) -> Any:
        sessions = dict(self.sessions.value() or {})
        local = self.clock.local_of_timer(timestamp)
        for window in sorted(sessions):
            if window[1] - 1 == local:
                accs = sessions.pop(window)
                yield (ctx.get_current_key() + self.clock.values(window[0], window[1])
                       + self.results(accs))
        self.sessions.update(sessions)


# -- over aggregation --------------------------------------------------------------------------
class OverSpec:
    """``PARTITION BY keys ORDER BY time ROWS|RANGE BETWEEN <preceding> AND CURRENT ROW``;
    ``preceding`` None is UNBOUNDED (rows: a count, range: milliseconds)."""

    def __init__(self, partition: List[Resolved], time_index: int, rows: bool,
                 preceding: Optional[int]) -> None:
        self.partition, self.time_index = partition, time_index
        self.rows, self.preceding = rows, preceding


class OverAggregate(PlanNode):
    """The input's columns, then each aggregate over its row's frame."""

    def __init__(self, child: PlanNode, spec: OverSpec, aggs: List[AggSpec],
                 agg_names: List[str]) -> None:
        if child.updating:
            raise TableException("an OVER aggregation over an updating input is not "
                                 "supported")
        time_type = child.data_types[spec.time_index]
        if not (is_rowtime(time_type) or is_proctime(time_type)):
            raise TableException(
                "OVER windows' ordering in stream mode must be defined on a time attribute.")
        self.inputs, self.spec, self.aggs = (child,), spec, aggs
        self.event_time = is_rowtime(time_type)
        self.names = list(child.names) + agg_names
        self.data_types = list(child.data_types) + [a.data_type for a in aggs]

    def describe(self) -> str:
        return f"OverAggregate(select=[{', '.join(a.describe() for a in self.aggs)}])"

    def to_stream(self, env: Any, batch: bool) -> Any:
        if batch:
            raise TableException("OVER aggregations in batch mode are not supported yet")
        stream = translate(self.inputs[0], env, batch)
        key_fns = [k.evaluate for k in self.spec.partition]

        def key_of(row: tuple) -> tuple:
            return tuple(f(row) for f in key_fns)
        return stream.key_by(key_of).process(OverAggFunction(self))


class OverAggFunction(_keyed_function_base()):  # type: ignore[misc]
    """Buffers rows by timestamp until the watermark passes them, then emits each with its
    frame's aggregates (Flink's RowTime{Rows,Range}{Bounded,Unbounded}PrecedingFunction);
    rows of one timestamp are peers in a RANGE frame."""

    def __init__(self, node: OverAggregate) -> None:
        self.spec, self.event_time = node.spec, node.event_time
        self.create, self.merge, self.results, self.zero = _accumulate(node.aggs)
        self.udfs = [u for a in node.aggs if a.arg is not None for u in a.arg.udfs]

    def open(self, runtime_context: Any) -> None:
        from flink_py.common.typeinfo import Types
        from flink_py.datastream.state import MapStateDescriptor, ValueStateDescriptor
        from flink_py.table.udf import open_functions
        self.pending = runtime_context.get_map_state(MapStateDescriptor(
            "pending-rows", Types.LONG(), Types.PICKLED_BYTE_ARRAY()))
        # the rows a bounded frame may still reach, (timestamp, row) in emission order
        self.history = runtime_context.get_state(ValueStateDescriptor(
            "frame-rows", Types.PICKLED_BYTE_ARRAY()))
        self.unbounded = runtime_context.get_state(ValueStateDescriptor(
            "unbounded-accumulators", Types.PICKLED_BYTE_ARRAY()))
        open_functions(self.udfs, runtime_context)

    def close(self) -> None:
        from flink_py.table.udf import close_functions
        close_functions(self.udfs)

    def process_element(self, row: tuple, ctx: Any) -> Any:
        timers = ctx.timer_service()
        if not self.event_time:
            yield from self._emit([row], timers.current_processing_time())
            return
        ts = to_millis(row[self.spec.time_index])
        if ts <= timers.current_watermark():
            return  # late
        rows = self.pending.get(ts)
        if rows is None:
            rows = []
            timers.register_event_time_timer(ts)
        rows.append(row)
        self.pending.put(ts, rows)

    def on_timer(self, timestamp: int, ctx: Any) -> Any:
        rows = self.pending.get(timestamp)
        if rows is None:
            return
        self.pending.remove(timestamp)
        yield from self._emit(rows, timestamp)

    def _emit(self, rows: List[tuple], ts: int) -> Any:
        spec = self.spec
        if spec.preceding is None:  # UNBOUNDED PRECEDING: one running accumulator
            accs = self.unbounded.value() or self.zero
            if spec.rows:
                for row in rows:
                    accs = self.merge(accs, self.create(row))
                    yield row + self.results(accs)
            else:
                for row in rows:
                    accs = self.merge(accs, self.create(row))
                result = self.results(accs)
                for row in rows:
                    yield row + result
            self.unbounded.update(accs)
            return
        history: List[Tuple[int, tuple]] = list(self.history.value() or [])
        if spec.rows:
            for row in rows:
                history.append((ts, row))
                frame = history[-(spec.preceding + 1):]
                accs = self.zero
                for _, r in frame:
                    accs = self.merge(accs, self.create(r))
                yield row + self.results(accs)
            history = history[-spec.preceding:] if spec.preceding else []
        else:
            history += [(ts, r) for r in rows]
            history = [(s, r) for s, r in history if s >= ts - spec.preceding]
            accs = self.zero
            for _, r in history:
                accs = self.merge(accs, self.create(r))
            result = self.results(accs)
            for row in rows:
                yield row + result
        self.history.update(history)


def interval_of(value: Any, what: str) -> int:
    """Milliseconds of an interval literal (a constant ``Resolved``) for a window."""
    import datetime
    if isinstance(value, Resolved):
        if not value.constant:
            raise ValidationException(f"the {what} of a window must be a constant interval")
        value = value.evaluate(())
    if not isinstance(value, datetime.timedelta):
        raise ValidationException(f"the {what} of a window must be an interval such as "
                                  f"INTERVAL '5' SECOND, got {value!r}")
    return value // datetime.timedelta(milliseconds=1)


# -- tables of DataStreams ---------------------------------------------------------------------
def stream_table_plan(source: PlanNode, schema: Any = None,
                      fields: Sequence[Any] = (), batch: bool = False,
                      from_catalog: bool = False) -> PlanNode:
    """The plan of ``from_data_stream(stream, schema)`` or ``(stream, *fields)`` over the
    stream's ``source`` node: Instant fields as TIMESTAMP_LTZ values; the schema's columns
    in declared order (its physical columns found in the stream by name, its computed ones
    evaluated) and its watermark; or ``col('ts').rowtime`` / ``col('pt').proctime`` fields."""
    from flink_py.table.expressions import InputRef, TimeAttribute
    from flink_py.table.planner import Project
    from flink_py.table.temporal import instant_to_ltz
    plan = source
    if any(isinstance(dt, t.LocalZonedTimestampType) for dt in source.data_types):
        exprs = []
        for i, dt in enumerate(source.data_types):
            if isinstance(dt, t.LocalZonedTimestampType):
                exprs.append(Resolved(dt, lambda row, i=i: None if row[i] is None
                                      else instant_to_ltz(row[i]), source.names[i]))
            else:
                exprs.append(InputRef(i, dt, source.names[i]).resolve(source.scope()))
        plan = Project(source, exprs, list(source.names))
    if schema is not None:
        from flink_py.table.catalog import Metadata
        from flink_py.table.sql import parse_expression
        metadata = [(n, d) for n, d in schema.columns if isinstance(d, Metadata)]
        if metadata:
            plan = _with_record_timestamp(plan, metadata)
        scope = plan.scope()
        exprs, names = [], []
        columns = list(schema.columns)
        if not any(isinstance(d, t.DataType) for _, d in columns):
            # no physical column declared: every field of the stream is one, first
            columns = [(n, dt) for n, dt in zip(source.names, plan.data_types)] + columns
        for name, declared in columns:
            if isinstance(declared, Metadata):
                index = len(plan.names) - 1
                exprs.append(Resolved(declared.data_type, lambda row, i=index: row[i], name))
            elif isinstance(declared, t.DataType):
                index = scope.index_of(name)
                exprs.append(Resolved(declared, lambda row, i=index: row[i], name))
            else:
                e = parse_expression(declared) if isinstance(declared, str) else declared
                exprs.append(e.resolve(scope))
            names.append(name)
        plan = Project(plan, exprs, names)
        declared_physical = any(isinstance(d, t.DataType) for _, d in schema.columns)
        extras = None if declared_physical and not from_catalog else _schema_extras(schema)
        for column, watermark in schema.watermarks:
            index = plan.scope().index_of(column)
            if isinstance(watermark, str) and watermark.strip().upper().replace(" ", "") == \
                    "SOURCE_WATERMARK()":
                plan = SourceWatermark(plan, index, batch)  # the stream's own watermarks
                continue
            e = parse_expression(watermark) if isinstance(watermark, str) else watermark
            plan = WatermarkAssigner(plan, index, e.resolve(plan.scope()), batch)
        if extras is not None:
            # Flink prints a table read straight from a declared schema with the schema's
            # computed and metadata columns, watermarks and key (print_schema)
            suffixes, lines = extras
            for i, name in enumerate(plan.names):
                dt = plan.data_types[i]
                plain = dt.as_time_attribute(None) if isinstance(dt, t.TimestampType) else dt
                lines = [line.replace(f"{{type:{name}}}", plain.sql()) for line in lines]
            plan.schema_extras = (suffixes, lines)
        plan.primary_key = schema.primary_key  # a versioned table's (temporal joins)
        return plan
    if fields:
        names = [f if isinstance(f, str) else f.name_hint() for f in fields]
        kinds = [f.kind if isinstance(f, TimeAttribute) else None for f in fields]
        if any(k is not None for k in kinds) or len(fields) != len(plan.names):
            return _legacy_time_fields(plan, names, kinds)
        return Project(plan, [InputRef(i, dt, n).resolve(plan.scope()) for i, (dt, n) in
                              enumerate(zip(plan.data_types, names))], names)
    return plan


def _legacy_time_fields(plan: PlanNode, names: List[str], kinds: List[Optional[str]]
                        ) -> PlanNode:
    """``from_data_stream(ds, col('a'), col('ts').rowtime, col('pt').proctime)``: a rowtime
    field replaces (when it names a column) or appends a column with the stream record's
    timestamp, the stream's watermarks standing; a proctime field appends the processing
    time."""
    from flink_py.table.planner import Project
    physical = [n for n, k in zip(names, kinds) if k is None]
    width = len(plan.names)
    if any(k == "ROWTIME" for k in kinds):
        plan = RecordTimestamp(plan, "$rowtime", LEGACY_ROWTIME_TYPE)
    exprs: List[Resolved] = []
    position = 0
    for name, kind in zip(names, kinds):
        if kind is None or (kind == "ROWTIME" and name in plan.names[:width]):
            if position >= width:
                raise ValidationException(
                    f"from_data_stream: {len(physical)} field names for "
                    f"{width} columns ({', '.join(plan.names[:width])})")
            i = position
            position += 1
            if kind is None:
                exprs.append(Resolved(plan.data_types[i], lambda row, i=i: row[i], name))
                continue
        if kind == "ROWTIME":
            exprs.append(Resolved(rowtime_type(LEGACY_ROWTIME_TYPE),
                                  lambda row, i=width: row[i], name))
        elif kind == "PROCTIME":
            from flink_py.table.temporal import _proctime
            dt, f = _proctime("proctime", [])
            exprs.append(Resolved(dt, f, name))
    if position != width:
        raise ValidationException(
            f"from_data_stream: {len(physical)} field names for {width} columns "
            f"({', '.join(plan.names[:width])})")
    return Project(plan, exprs, names)


#: the type of a legacy ``col('ts').rowtime`` field
LEGACY_ROWTIME_TYPE: t.DataType = t.TimestampType(3)


# -- plans of windowed selects -----------------------------------------------------------------
def window_spec(kind: str, child: PlanNode, time_field: Any, size: Any,
                slide: Any = None) -> WindowSpec:
    """The spec of a window over ``child``'s time attribute ``time_field``."""
    from flink_py.table.expressions import ColumnRef
    scope = child.scope()
    if not isinstance(time_field, ColumnRef):
        raise ValidationException(f"a window's time attribute must be a column, got "
                                  f"{time_field!r}")
    index = scope.index_of(time_field.name, time_field.position, time_field.qualifier)
    size_ms = interval_of(size.resolve(scope), "size")
    slide_ms = interval_of(slide.resolve(scope), "slide") if slide is not None else None
    return WindowSpec(kind, index, size_ms, slide_ms)


def window_aggregate_plan(child: PlanNode, spec: WindowSpec, keys: Sequence[Any],
                          select: Sequence[Any], window_refs: Dict[str, Any],
                          unnamed: Callable[[int, Any], str]) -> PlanNode:
    """``GROUP BY keys + a window SELECT select``: a WindowAggregate, then the select's
    projection over it. ``window_refs`` maps what stands for window_start, window_end and
    window_time in ``select`` (a predicate on an expression) -- they become its columns."""
    from flink_py.table.expressions import InputRef
    from flink_py.table.planner import Project
    from flink_py.table.table import _rewrite, _unique
    scope = child.scope()
    resolved_keys = [k.resolve(scope) for k in keys]
    key_names = [r.name if r.name is not None else f"$f{i}"
                 for i, r in enumerate(resolved_keys)]
    calls: List[Any] = []
    for e in select:
        calls += e.aggregates()
    specs = [AggSpec(c, scope) for c in calls]
    agg = WindowAggregate(child, spec, resolved_keys, key_names, specs,
                          [f"$agg{i}" for i in range(len(specs))])
    n = len(keys)
    window_columns = {prop: InputRef(n + i, agg.data_types[n + i], name)
                      for i, (prop, name) in enumerate(zip(("start", "end", "time"),
                                                           _WINDOW_COLUMNS))}

    def replace(e: Any) -> Any:
        for prop, matches in window_refs.items():
            if matches(e):
                return window_columns[prop]
        return _map_children(e, replace)
    pseudo_keys = list(keys) + [window_columns[p] for p in ("start", "end", "time")]
    resolved_pseudo = resolved_keys + [window_columns[p].resolve(agg.scope())
                                       for p in ("start", "end", "time")]
    out, names = [], []
    for i, e in enumerate(select):
        rewritten = _rewrite(replace(e), pseudo_keys, resolved_pseudo, calls, n + 3, agg,
                             scope)
        r = rewritten.resolve(agg.scope())
        from flink_py.table.expressions import TimeAttribute, WindowProperty
        # a Table API window property has no name of its own (w.rowtime is not 'w')
        name = None if isinstance(e, (WindowProperty, TimeAttribute)) else e.name_hint()
        out.append(Resolved(r.data_type, r.evaluate, name))
        names.append(name if name is not None else unnamed(i, e))
    return Project(agg, out, _unique(names))


def _map_children(e: Any, f: Callable[[Any], Any]) -> Any:
    """``e`` with ``f`` applied to its direct sub-expressions (the shapes _rewrite knows)."""
    from flink_py.table.expressions import Alias, Call, Cast, NamedCall
    if isinstance(e, Alias):
        return Alias(f(e.child), e.name)
    if isinstance(e, Cast):
        return Cast(f(e.child), e.data_type)
    if isinstance(e, Call):
        return Call(e.function, [f(a) for a in e.args])
    if isinstance(e, NamedCall):
        return NamedCall(e.name, [f(a) for a in e.args])
    return e


def over_plan(child: PlanNode, select: Sequence[Any], unnamed: str) -> PlanNode:
    """A select with ``agg OVER (...)`` calls: an OverAggregate of them, then the
    projection with each call replaced by its column."""
    from flink_py.table.expressions import InputRef, OverCall
    from flink_py.table.table import project
    calls: List[OverCall] = []

    def collect(e: Any) -> Any:
        if isinstance(e, OverCall):
            calls.append(e)
            return e
        return _map_children(e, collect)
    for e in select:
        collect(e)
    windows = {repr(c.window) for c in calls}
    if len(windows) > 1:
        raise TableException("Over Agg: Unsupported use of OVER windows. All aggregates must "
                             "be computed on the same window. please re-check the over window statement.")
    scope = child.scope()
    w = calls[0].window
    spec = w.spec(scope)
    specs = [AggSpec(c.aggregate, scope) for c in calls]
    width = len(child.names)
    node = OverAggregate(child, spec, specs, [f"w0$o{i}" for i in range(len(specs))])

    def replace(e: Any) -> Any:
        if isinstance(e, OverCall):
            i = next(i for i, c in enumerate(calls) if c is e)
            return InputRef(width + i, node.data_types[width + i])
        return _map_children(e, replace)
    items = []
    for e in select:
        r = replace(e)
        items.append(r)
    return project(node, items, unnamed)


# -- ORDER BY a rowtime in streaming -----------------------------------------------------------
def temporal_sort_stream(node: Any, env: Any) -> Any:
    """``ORDER BY rowtime[, more keys]`` of an insert-only stream: rows wait in state until
    the watermark passes their time, then leave in time order, ties by the other keys (Flink's
    RowTimeSortOperator, on one subtask); a late row is dropped."""
    from flink_py.table.planner import _insert_only
    stream = _insert_only(node.inputs[0], env, False, "ORDER BY")
    time_key = node.keys[0][0].evaluate
    others = [(r.evaluate, ascending, nulls_first) for r, ascending, nulls_first
              in node.keys[1:]]
    return stream.key_by(lambda row: 0).process(RowTimeSortFunction(time_key, others))


class RowTimeSortFunction(_keyed_function_base()):  # type: ignore[misc]
    def __init__(self, time_key: Callable[[tuple], Any], others: list) -> None:
        self.time_key, self.others = time_key, others

    def open(self, runtime_context: Any) -> None:
        from flink_py.common.typeinfo import Types
        from flink_py.datastream.state import MapStateDescriptor
        self.pending = runtime_context.get_map_state(MapStateDescriptor(
            "rows-by-time", Types.LONG(), Types.PICKLED_BYTE_ARRAY()))

    def process_element(self, row: tuple, ctx: Any) -> Any:
        timers = ctx.timer_service()
        ts = to_millis(self.time_key(row))
        if ts <= timers.current_watermark():
            return  # late
        rows = self.pending.get(ts)
        if rows is None:
            rows = []
            timers.register_event_time_timer(ts)
        rows.append(row)
        self.pending.put(ts, rows)
        return
        yield

    def on_timer(self, timestamp: int, ctx: Any) -> Any:
        from flink_py.table.planner import sort_rows
        rows = self.pending.get(timestamp)
        if rows is None:
            return
        self.pending.remove(timestamp)
        yield from (sort_rows(rows, self.others) if self.others else rows)
