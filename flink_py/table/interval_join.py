"""Time-based joins of two streams as plan nodes.

* :class:`IntervalJoin`: a join whose condition bounds the left rowtime by the right one
  (``a.ts BETWEEN b.ts - INTERVAL '4' SECOND AND b.ts``, or a ``>=``/``>`` and a ``<=``/``<``
  conjunct), found as Flink's planner finds it (``IntervalJoinUtil.extractWindowBounds``):
  ``left.ts - right.ts`` in ``[lower, upper]`` milliseconds, a strict bound moved by one. As
  Flink's RowTimeIntervalJoin it is insert-only: each side's rows wait in keyed MapState
  (time -> ``[row, emitted]``) until the watermark passes the last time a row of the other
  side could join them; an outer side's row that never joined is emitted NULL-padded then.
  A row whose window the other side's watermark has already passed is joined with the
  cached rows and, on an outer side, padded at once, as Flink does.
* :class:`WindowJoin`: two window TVF relations joined on ``window_start`` and
  ``window_end`` (and more keys): each window's rows wait until the watermark reaches the
  window's end - 1, then are joined; an outer side's rows without a match are padded.
"""

from __future__ import annotations

import datetime
from typing import Any, List, Optional, Tuple

from flink_py.table import types as t
from flink_py.table.errors import TableException, ValidationException
from flink_py.table.expressions import Call, ColumnRef, Expression, Scope
from flink_py.table.join import Join, conjuncts
from flink_py.table.planner import PlanNode, translate
from flink_py.table.temporal import to_millis
from flink_py.table.windows import is_proctime, is_rowtime

__all__ = ["IntervalJoin", "WindowJoin", "TemporalJoin", "time_join", "temporal_join_plan"]

_COMPARISONS = {"greater_than": ">", "greater_than_or_equal": ">=", "less_than": "<",
                "less_than_or_equal": "<="}
_FLIPPED = {">": "<", ">=": "<=", "<": ">", "<=": ">="}


def _time_offset(expr: Expression, scope: Scope) -> Optional[Tuple[int, int]]:
    """``expr`` as (column index, offset in milliseconds) when it is a time attribute column
    plus or minus constant intervals, else None."""
    if isinstance(expr, ColumnRef):
        try:
            index = scope.index_of(expr.name, qualifier=getattr(expr, "qualifier", None))
        except ValidationException:  # not a column of this scope: no bound
            return None
        dt = scope.data_types[index]
        if is_rowtime(dt) or is_proctime(dt):
            return index, 0
        return None
    if isinstance(expr, Call) and expr.function in ("plus", "minus") and len(expr.args) == 2:
        base = _time_offset(expr.args[0], scope)
        if base is None:
            return None
        resolved = expr.args[1].resolve(scope)
        if not resolved.constant:
            return None
        value = resolved.evaluate(())
        if not isinstance(value, datetime.timedelta):
            return None
        millis = value // datetime.timedelta(milliseconds=1)
        return base[0], base[1] + (millis if expr.function == "plus" else -millis)
    return None


def window_bounds(join: Join) -> Optional[Tuple[int, int, int, int]]:
    """(left time index, right time index in the right row, lower, upper) of an interval
    join: ``lower <= left.ts - right.ts <= upper``; None when the condition does not bound
    the two sides' time attributes both ways."""
    if join.condition_expr is None:
        return None
    scope = join.scope()
    n_left = len(join.inputs[0].names)
    lower: Optional[int] = None
    upper: Optional[int] = None
    columns: Optional[Tuple[int, int]] = None
    for part in conjuncts(join.condition_expr):
        if not isinstance(part, Call):
            continue
        if part.function == "between" and len(part.args) == 3:
            comparisons = [(">=", part.args[0], part.args[1]), ("<=", part.args[0], part.args[2])]
        elif part.function in _COMPARISONS:
            comparisons = [(_COMPARISONS[part.function], part.args[0], part.args[1])]
        else:
            continue
        for op, a, b in comparisons:
            ta, tb = _time_offset(a, scope), _time_offset(b, scope)
            if ta is None or tb is None:
                continue
            if ta[0] >= n_left and tb[0] < n_left:
                ta, tb, op = tb, ta, _FLIPPED[op]
            if not (ta[0] < n_left <= tb[0]):
                continue
            if columns is not None and columns != (ta[0], tb[0]):
                continue  # Flink bounds one pair of time attributes
            columns = (ta[0], tb[0])
            # left.ts + oa OP right.ts + ob  <=>  left.ts - right.ts OP ob - oa
            bound = tb[1] - ta[1]
            if op == ">=":
                lower = bound if lower is None else max(lower, bound)
            elif op == ">":
                lower = bound + 1 if lower is None else max(lower, bound + 1)
            elif op == "<=":
                upper = bound if upper is None else min(upper, bound)
            else:
                upper = bound - 1 if upper is None else min(upper, bound - 1)
    if columns is None or lower is None or upper is None:
        return None
    left_type, right_type = scope.data_types[columns[0]], scope.data_types[columns[1]]
    if is_proctime(left_type) or is_proctime(right_type):
        raise TableException("A processing-time interval join is not supported yet")
    if not (is_rowtime(left_type) and is_rowtime(right_type)):
        return None
    return columns[0], columns[1] - n_left, lower, upper


def time_join(plan: PlanNode) -> PlanNode:
    """``plan`` as a time-based join when it is a :class:`Join` of one: a window join of two
    window TVF relations on their windows, an interval join when its condition bounds the
    two rowtimes; otherwise ``plan``."""
    if type(plan) is not Join or plan.inputs[0].updating or plan.inputs[1].updating:
        return plan
    window = _window_columns(plan)
    if window is not None:
        return WindowJoin(plan, *window)
    bounds = window_bounds(plan)
    if bounds is None:
        return plan
    return IntervalJoin(plan, *bounds)


class IntervalJoin(Join):
    """A :class:`Join` bounded in event time: Flink's RowTimeIntervalJoin."""

    def __init__(self, join: Join, left_time: int, right_time: int, lower: int,
                 upper: int) -> None:
        super().__init__(join.inputs[0], join.inputs[1], join.join_type, join.condition_expr)
        self.left_time, self.right_time = left_time, right_time
        self.lower, self.upper = lower, upper
        self.updating = False

    def describe(self) -> str:
        kind = {"inner": "InnerJoin", "left": "LeftOuterJoin", "right": "RightOuterJoin",
                "full": "FullOuterJoin"}[self.join_type]
        return (f"IntervalJoin(joinType=[{kind}], windowBounds=[isRowTime=true, "
                f"leftLowerBound={self.lower}, leftUpperBound={self.upper}, "
                f"leftTimeIndex={self.left_time}, rightTimeIndex={self.right_time}], "
                f"where=[{self.condition_expr!r}], select=[{', '.join(self.names)}])")

    def to_stream(self, env: Any, batch: bool) -> Any:
        if batch:  # in batch the bounds are just part of the condition
            return Join(self.inputs[0], self.inputs[1], self.join_type,
                        self.condition_expr).to_stream(env, batch)
        left, right = self.inputs
        left_stream = translate(left, env, batch)
        right_stream = translate(right, env, batch)
        lk, rk = self.left_keys, self.right_keys
        return (left_stream.connect(right_stream)
                .key_by(lambda row: tuple(f(row) for f in lk),
                        lambda row: tuple(f(row) for f in rk))
                .process(_interval_join_function(self)))


def _interval_join_function(join: IntervalJoin) -> Any:
    from flink_py.common.typeinfo import Types
    from flink_py.datastream.functions import KeyedCoProcessFunction
    from flink_py.datastream.state import MapStateDescriptor, ValueStateDescriptor
    from flink_py.table.join import _condition_of
    from flink_py.table.udf import close_functions, open_functions
    matches = _condition_of(join)
    udfs = join.udfs
    left_outer, right_outer = join.left_outer, join.right_outer
    left_nulls = (None,) * len(join.inputs[0].names)
    right_nulls = (None,) * len(join.inputs[1].names)
    left_time, right_time = join.left_time, join.right_time
    # Flink's leftRelativeSize / rightRelativeSize
    left_size, right_size = -join.lower, join.upper
    min_clean_up = max(0, (join.upper - join.lower) // 2)
    max_time = 2 ** 63 - 1

    def expiration(operator_time: int, relative_size: int) -> int:
        if operator_time < max_time:
            return operator_time - relative_size - 1
        return max_time  # the end of input: everything expires

    class RowTimeIntervalJoin(KeyedCoProcessFunction):
        #: rows are emitted up to this much older than the watermark: downstream holds back
        output_watermark_delay = max(left_size, right_size)

        def open(self, runtime_context: Any) -> None:
            pickled = Types.PICKLED_BYTE_ARRAY()
            # time -> [[row, emitted], ...]
            self.caches = [runtime_context.get_map_state(MapStateDescriptor(
                name, Types.LONG(), pickled)) for name in
                ("IntervalJoinLeftCache", "IntervalJoinRightCache")]
            # the clean-up timer of the rows of the left (index 0) / right cache
            self.timers = [runtime_context.get_state(ValueStateDescriptor(name, Types.LONG()))
                           for name in ("IntervalJoinRightTimerState",
                                        "IntervalJoinLeftTimerState")]
            # operator fields in Flink too: how far each cache has been cleaned
            self.expired = [0, 0]
            open_functions(udfs, runtime_context)

        def close(self) -> None:
            close_functions(udfs)

        def process_element1(self, row: tuple, ctx: Any) -> Any:
            return self._process(row, ctx, True)

        def process_element2(self, row: tuple, ctx: Any) -> Any:
            return self._process(row, ctx, False)

        def _process(self, row: tuple, ctx: Any, is_left: bool) -> List[tuple]:
            watermark = ctx.timer_service().current_watermark()
            operator_time = watermark if watermark > 0 else 0
            mine, other = (0, 1) if is_left else (1, 0)
            time = to_millis(row[left_time if is_left else right_time])
            # the other side's times this row joins
            my_size, other_size = (left_size, right_size) if is_left else (right_size,
                                                                            left_size)
            low, high = time - other_size, time + my_size
            other_outer = right_outer if is_left else left_outer
            my_outer = left_outer if is_left else right_outer
            out: List[tuple] = []
            emitted = False
            if self.expired[other] < high:
                self.expired[other] = expiration(operator_time, other_size)
                cache = self.caches[other]
                for other_time, entries in list(cache.items()):
                    updated = False
                    if low <= other_time <= high:
                        for entry in entries:
                            joined = row + entry[0] if is_left else entry[0] + row
                            if matches(joined):
                                out.append(joined)
                                emitted = True
                                if other_outer and not entry[1]:
                                    entry[1] = updated = True
                        if updated:
                            cache.put(other_time, entries)
                    if other_time <= self.expired[other]:
                        if other_outer:
                            out += [_pad(e[0], not is_left, left_nulls, right_nulls)
                                    for e in entries if not e[1]]
                        cache.remove(other_time)
            if operator_time < high:
                cache = self.caches[mine]
                entries = cache.get(time) or []
                entries.append([row, emitted])
                cache.put(time, entries)
                if self.timers[mine].value() is None:
                    self._register(ctx, time, is_left)
            elif not emitted and my_outer:
                out.append(_pad(row, is_left, left_nulls, right_nulls))
            return out

        def _register(self, ctx: Any, time: int, is_left: bool) -> None:
            size = left_size if is_left else right_size
            clean_up = time + size + min_clean_up + 1
            ctx.timer_service().register_event_time_timer(clean_up)
            self.timers[0 if is_left else 1].update(clean_up)

        def on_timer(self, timestamp: int, ctx: Any) -> Any:
            watermark = ctx.timer_service().current_watermark()
            operator_time = watermark if watermark > 0 else 0
            out: List[tuple] = []
            # Flink checks the timer of the right cache's rows first
            for index, is_left, size in ((1, False, right_size), (0, True, left_size)):
                if self.timers[index].value() == timestamp:
                    self.expired[index] = expiration(operator_time, size)
                    out += self._remove_expired(ctx, index, is_left)
            return out

        def _remove_expired(self, ctx: Any, index: int, is_left: bool) -> List[tuple]:
            cache, out, earliest = self.caches[index], [], -1
            outer = left_outer if is_left else right_outer
            for time, entries in list(cache.items()):
                if time <= self.expired[index]:
                    if outer:
                        out += [_pad(e[0], is_left, left_nulls, right_nulls)
                                for e in entries if not e[1]]
                    cache.remove(time)
                elif earliest < 0 or time < earliest:
                    earliest = time
            if earliest > 0:
                self._register(ctx, earliest, is_left)
            else:
                self.timers[index].clear()
                cache.clear()
            return out

    return RowTimeIntervalJoin()


def _pad(row: tuple, is_left: bool, left_nulls: tuple, right_nulls: tuple) -> tuple:
    return row + right_nulls if is_left else left_nulls + row


# -- window joins -----------------------------------------------------------------------

def _window_tvf(plan: PlanNode) -> Optional[Any]:
    """The window TVF a relation's rows come from (through SELECT *, aliases, filters)."""
    from flink_py.table.windows import WindowTableFunction
    while True:
        if isinstance(plan, WindowTableFunction):
            return plan
        if len(plan.inputs) != 1:
            return None
        plan = plan.inputs[0]


def _window_columns(join: Join) -> Optional[Tuple[int, int, Any]]:
    """(left window_end index, right window_end index in the right row, the left's window
    TVF) when ``join`` joins two window TVF relations on window_start and window_end."""
    if join.condition_expr is None:
        return None
    left_tvf, right_tvf = _window_tvf(join.inputs[0]), _window_tvf(join.inputs[1])
    if left_tvf is None or right_tvf is None:
        return None
    scope, n_left = join.scope(), len(join.inputs[0].names)
    pairs = {}
    for part in conjuncts(join.condition_expr):
        if not (isinstance(part, Call) and part.function == "equals"
                and all(isinstance(a, ColumnRef) for a in part.args)):
            continue
        a, b = (scope.index_of(c.name, qualifier=c.qualifier) for c in part.args)
        if a > b:
            a, b = b, a
        if a < n_left <= b and scope.names[a] in ("window_start", "window_end") and \
                (scope.qualified or [(None, n) for n in scope.names])[b][1] == scope.names[a]:
            pairs[scope.names[a]] = (a, b - n_left)
    if set(pairs) != {"window_start", "window_end"}:
        return None
    return pairs["window_end"][0], pairs["window_end"][1], left_tvf


class WindowJoin(Join):
    """Two window TVF relations joined on their windows: Flink's WindowJoinOperator. Each
    window's rows of both sides wait in keyed MapState until the watermark reaches the
    window's end - 1; then the window's rows are joined, an outer side's unmatched rows
    padded. A row of a window that has fired is late and dropped."""

    def __init__(self, join: Join, left_end: int, right_end: int, tvf: Any) -> None:
        super().__init__(join.inputs[0], join.inputs[1], join.join_type, join.condition_expr)
        self.left_end, self.right_end, self.clock = left_end, right_end, tvf.clock
        self.updating = False

    def describe(self) -> str:
        return "WindowJoin" + super().describe()[len("Join"):]

    def to_stream(self, env: Any, batch: bool) -> Any:
        if batch:
            return Join(self.inputs[0], self.inputs[1], self.join_type,
                        self.condition_expr).to_stream(env, batch)
        left_stream = translate(self.inputs[0], env, batch)
        right_stream = translate(self.inputs[1], env, batch)
        lk, rk = self.left_keys, self.right_keys
        return (left_stream.connect(right_stream)
                .key_by(lambda row: tuple(f(row) for f in lk),
                        lambda row: tuple(f(row) for f in rk))
                .process(_window_join_function(self)))


def _window_join_function(join: WindowJoin) -> Any:
    from flink_py.common.typeinfo import Types
    from flink_py.datastream.functions import KeyedCoProcessFunction
    from flink_py.datastream.state import MapStateDescriptor
    from flink_py.table.join import _condition_of
    from flink_py.table.udf import close_functions, open_functions
    matches = _condition_of(join)
    udfs, clock = join.udfs, join.clock
    left_outer, right_outer = join.left_outer, join.right_outer
    left_nulls = (None,) * len(join.inputs[0].names)
    right_nulls = (None,) * len(join.inputs[1].names)
    ends = (join.left_end, join.right_end)

    class WindowJoinFunction(KeyedCoProcessFunction):
        def open(self, runtime_context: Any) -> None:
            pickled = Types.PICKLED_BYTE_ARRAY()
            # window end (its timer) -> the window's rows of this side
            self.buffers = [runtime_context.get_map_state(MapStateDescriptor(
                name, Types.LONG(), pickled)) for name in ("left-records", "right-records")]
            open_functions(udfs, runtime_context)

        def close(self) -> None:
            close_functions(udfs)

        def process_element1(self, row: tuple, ctx: Any) -> Any:
            return self._add(row, ctx, 0)

        def process_element2(self, row: tuple, ctx: Any) -> Any:
            return self._add(row, ctx, 1)

        def _add(self, row: tuple, ctx: Any, side: int) -> List[tuple]:
            timers = ctx.timer_service()
            timer = clock.timer(to_millis(row[ends[side]]) - 1)
            if timer <= timers.current_watermark():
                return []  # late: its window has fired
            rows = self.buffers[side].get(timer) or []
            rows.append(row)
            self.buffers[side].put(timer, rows)
            timers.register_event_time_timer(timer)
            return []

        def on_timer(self, timestamp: int, ctx: Any) -> Any:
            lefts = self.buffers[0].get(timestamp) or []
            rights = self.buffers[1].get(timestamp) or []
            self.buffers[0].remove(timestamp)
            self.buffers[1].remove(timestamp)
            out: List[tuple] = []
            matched_right = [False] * len(rights)
            for lrow in lefts:
                found = False
                for i, rrow in enumerate(rights):
                    if matches(lrow + rrow):
                        found = matched_right[i] = True
                        out.append(lrow + rrow)
                if left_outer and not found:
                    out.append(lrow + right_nulls)
            if right_outer:
                out += [left_nulls + r for r, m in zip(rights, matched_right) if not m]
            return out

    return WindowJoinFunction()


# -- event-time temporal joins ----------------------------------------------------------

def temporal_join_plan(left: PlanNode, join: Any, relation_plan: Any, to_expression: Any
                       ) -> PlanNode:
    """``left [LEFT] JOIN versioned FOR SYSTEM_TIME AS OF left.ts AS r ON ...`` (``join`` a
    sqlglot Join whose table has a ``version``)."""
    relation = join.this.copy()
    version = relation.args["version"]
    relation.set("version", None)
    right = relation_plan(relation)
    side = (join.args.get("side") or "").upper()
    kind = (join.args.get("kind") or "").upper()
    if side not in ("", "LEFT") or kind not in ("", "INNER", "OUTER"):
        raise TableException(f"Unknown join type {side or kind}")  # Flink's own message
    on = join.args.get("on")
    if on is None:
        raise TableException("A temporal join needs an ON condition with an equality on the "
                             "versioned table's primary key")
    plan = Join(left, right, "left" if side == "LEFT" else "inner", to_expression(on))
    as_of = to_expression(version.args["expression"])
    as_of_type = as_of.resolve(left.scope()).data_type
    if not isinstance(as_of_type, (t.TimestampType, t.LocalZonedTimestampType)):
        raise ValidationException(f"The system time period specification expects Timestamp "
                                  f"type but is '{_calcite_name(as_of_type)}'")
    if is_proctime(as_of_type):
        raise TableException("Processing-time temporal join is not supported yet.")
    offset = _time_offset(as_of, left.scope()) if isinstance(as_of, ColumnRef) else None
    if offset is None or not is_rowtime(as_of_type):
        raise ValidationException("Temporal table join currently only supports 'FOR "
                                  "SYSTEM_TIME AS OF' left table's time attribute field")
    right_times = [i for i, dt in enumerate(right.data_types) if is_rowtime(dt)]
    if not right_times:
        raise TableException("A temporal join against a table without a rowtime attribute "
                             "(a processing-time or lookup join) is not supported yet")
    key = _primary_key(right)
    if not key:
        raise ValidationException("Temporal Table Join requires primary key in versioned "
                                  "table, but no primary key can be found.")
    equalities = _equalities(plan)
    joined = {right.names[j] for _, j in equalities}
    if not set(key) <= joined:
        names = plan.names
        shown = ", ".join(f"{names[i]}={names[len(left.names) + j]}" for i, j in equalities)
        raise ValidationException(
            f"Temporal table's primary key [{', '.join(key)}] must be included in the "
            f"equivalence condition of temporal join, but current temporal join condition "
            f"is [{shown}].")
    if left.updating or right.updating:
        raise TableException("A temporal join of an updating input is not supported yet")
    return TemporalJoin(plan, offset[0], right_times[0])


def _calcite_name(dt: t.DataType) -> str:
    """A type as Calcite's validator names it (``INTEGER``, not ``INT``)."""
    sql = dt.sql()
    return "INTEGER" + sql[3:] if sql.startswith("INT") and not sql.startswith("INTERVAL") \
        else sql


def _primary_key(plan: PlanNode) -> List[str]:
    """The primary key of a relation read as it was declared (a DDL table's, a
    ``from_data_stream`` schema's), by its columns' names; empty when none is known."""
    from flink_py.table.planner import CatalogSource, Filter, Qualify
    from flink_py.table.windows import WatermarkAssigner
    names = list(plan.names)
    while True:
        if isinstance(plan, CatalogSource):
            key = plan.table.primary_key or []
            break
        key = getattr(plan, "primary_key", None)
        if key is not None:
            break
        if not isinstance(plan, (Qualify, Filter, WatermarkAssigner)):
            return []  # a query's result: no declared key
        plan = plan.inputs[0]
    # a renaming alias keeps the positions
    return [names[plan.names.index(k)] for k in key if k in plan.names]


def _equalities(join: Join) -> List[Tuple[int, int]]:
    """(left index, right index) of the condition's ``left column = right column``."""
    scope, n_left, out = join.scope(), len(join.inputs[0].names), []
    for part in conjuncts(join.condition_expr):
        if isinstance(part, Call) and part.function == "equals" and all(
                isinstance(a, ColumnRef) for a in part.args):
            a, b = sorted(scope.index_of(c.name, qualifier=c.qualifier) for c in part.args)
            if a < n_left <= b:
                out.append((a, b - n_left))
    return out


class TemporalJoin(Join):
    """An event-time temporal join: Flink's TemporalRowTimeJoinOperator. The left rows wait
    in keyed state until the watermark (of both inputs) passes their time; then each joins
    the version of the right table's key valid at that time -- its row of the largest
    rowtime not after it -- or, in a LEFT join, is padded when there is none. Versions older
    than the one valid at the watermark are dropped."""

    def __init__(self, join: Join, left_time: int, right_time: int) -> None:
        super().__init__(join.inputs[0], join.inputs[1], join.join_type, join.condition_expr)
        self.left_time, self.right_time = left_time, right_time
        self.updating = False

    def describe(self) -> str:
        return "TemporalJoin" + super().describe()[len("Join"):]

    def to_stream(self, env: Any, batch: bool) -> Any:
        if batch:
            raise TableException("A temporal join in batch mode is not supported yet")
        left_stream = translate(self.inputs[0], env, batch)
        right_stream = translate(self.inputs[1], env, batch)
        lk, rk = self.left_keys, self.right_keys
        return (left_stream.connect(right_stream)
                .key_by(lambda row: tuple(f(row) for f in lk),
                        lambda row: tuple(f(row) for f in rk))
                .process(_temporal_join_function(self)))


def _temporal_join_function(join: TemporalJoin) -> Any:
    from flink_py.common.typeinfo import Types
    from flink_py.datastream.functions import KeyedCoProcessFunction
    from flink_py.datastream.state import MapStateDescriptor, ValueStateDescriptor
    from flink_py.table.join import _condition_of
    from flink_py.table.udf import close_functions, open_functions
    matches = _condition_of(join)
    udfs, left_outer = join.udfs, join.left_outer
    right_nulls = (None,) * len(join.inputs[1].names)
    left_time, right_time = join.left_time, join.right_time

    class TemporalRowTimeJoin(KeyedCoProcessFunction):
        def open(self, runtime_context: Any) -> None:
            pickled = Types.PICKLED_BYTE_ARRAY()
            # left: a sequence number -> row (rows in arrival order); right: time -> row
            self.lefts = runtime_context.get_map_state(MapStateDescriptor(
                "left", Types.LONG(), pickled))
            self.rights = runtime_context.get_map_state(MapStateDescriptor(
                "right", Types.LONG(), pickled))
            self.sequence = runtime_context.get_state(ValueStateDescriptor(
                "next-left-index", Types.LONG()))
            open_functions(udfs, runtime_context)

        def close(self) -> None:
            close_functions(udfs)

        def process_element1(self, row: tuple, ctx: Any) -> Any:
            index = self.sequence.value() or 0
            self.lefts.put(index, row)
            self.sequence.update(index + 1)
            ctx.timer_service().register_event_time_timer(to_millis(row[left_time]))
            return []

        def process_element2(self, row: tuple, ctx: Any) -> Any:
            time = to_millis(row[right_time])
            self.rights.put(time, row)
            ctx.timer_service().register_event_time_timer(time)
            return []

        def on_timer(self, timestamp: int, ctx: Any) -> Any:
            watermark = ctx.timer_service().current_watermark()
            versions = sorted(self.rights.items())
            out: List[tuple] = []
            for index, row in sorted(self.lefts.items()):
                time = to_millis(row[left_time])
                if time > watermark:
                    continue
                self.lefts.remove(index)
                version = None
                for version_time, version_row in versions:
                    if version_time > time:
                        break
                    version = version_row
                if version is not None and matches(row + version):
                    out.append(row + version)
                elif left_outer:
                    out.append(row + right_nulls)
            # the version valid at the watermark is the oldest one a later row can need
            valid = [vt for vt, _ in versions if vt <= watermark]
            for version_time, _ in versions:
                if valid and version_time < valid[-1]:
                    self.rights.remove(version_time)
            return out

    return TemporalRowTimeJoin()
