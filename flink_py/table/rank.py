"""Top-N, deduplication and their window variants: ``ROW_NUMBER() OVER (PARTITION BY ...
ORDER BY ...)`` filtered by ``rn <= N`` (``rn < N``, ``rn = 1``), as plan nodes on our
DataStream operators.

The SQL translation makes a ``RowNumberCall`` of ``ROW_NUMBER() OVER (...)``; the select
that holds it becomes a :class:`Rank` (the input's columns, then the row number) under a
projection; the filter on the row number of an enclosing select sets the Rank's limit (Flink's
FlinkLogicalRank). Then, as Flink's physical rules choose:

* **Top-N** (streaming, insert-only input): Flink's AppendOnlyTopNFunction. Each key keeps
  its sorted top rows in keyed state; with the row number in the output a row that enters
  shifts the ranks after it (``-U``/``+U`` per rank, ``+I`` for a new rank; a Top-1 emits
  ``+U`` without ``-U``), without it the row that drops out is ``-D`` and the new one ``+I``.
* **Deduplication** (rank 1 only, one time-attribute order key, no row number in the
  output): proctime keep-first emits a key's first row (insert-only), keep-last every row
  (``-U``/``+U``); rowtime keep-last emits a row with a later or equal rowtime than the kept
  one; rowtime keep-first waits for the watermark and emits the earliest row once
  (RowTimeDeduplicateKeepFirstRowFunction: a row older than the watermark is late).
* **Window Top-N / deduplication** (partitioned by ``window_start, window_end`` of a window
  table function or window aggregation): rows wait in keyed state until the window's end
  passes, then the top rows are emitted once, in order (insert-only).
* **Batch**: every partition sorted at the end of input.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, List, Optional, Sequence, Tuple

from flink_py.table import types as t
from flink_py.table.errors import TableException, ValidationException
from flink_py.table.expressions import (Alias, Call, ColumnRef, Expression, InputRef, Literal,
                                        Resolved, Scope)
from flink_py.table.planner import (DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, Filter,
                                    PlanNode, Project, Qualify, translate)

__all__ = ["RowNumberCall", "Rank", "row_number_plan", "rank_where", "mark_rank_output"]


class RowNumberCall(Expression):
    """``ROW_NUMBER() OVER (PARTITION BY partition ORDER BY order)``; ``order`` holds
    ``(expression, ascending, nulls_first)``."""

    def __init__(self, partition: List[Expression],
                 order: List[Tuple[Expression, bool, bool]]) -> None:
        self.partition, self.order = partition, order

    def resolve(self, scope: Scope) -> Resolved:
        raise ValidationException("ROW_NUMBER() OVER (...) is allowed in a select only")

    def __repr__(self) -> str:
        return f"ROW_NUMBER() OVER (PARTITION BY {self.partition} ORDER BY {self.order})"


def row_number_call(node: Any, to_expression: Callable[[Any], Expression]) -> RowNumberCall:
    """The RowNumberCall of sqlglot's ``exp.Window(this=RowNumber())``."""
    order = node.args.get("order")
    if order is None or not order.expressions:
        # Calcite's FlinkLogicalOverAggregateConverter refuses a rank without an order
        raise ValidationException("Over Agg: The window rank function requires order by "
                                  "clause with non-constant fields. please re-check the over "
                                  "window statement.")
    if node.args.get("spec") is not None:
        raise TableException("ROW_NUMBER() OVER (... ROWS|RANGE BETWEEN ...) is not supported "
                             "yet")
    keys = []
    for o in order.expressions:
        ascending = not o.args.get("desc")
        keys.append((to_expression(o.this), ascending, not ascending))
    return RowNumberCall([to_expression(p) for p in node.args.get("partition_by") or []],
                         keys)


def _compare(orders: Sequence[Tuple[bool, bool]]) -> Callable[[tuple, tuple], int]:
    """A comparator of sort-key tuples by ``orders`` ((ascending, nulls_first) per key)."""
    def compare(a: tuple, b: tuple) -> int:
        for (ascending, nulls_first), x, y in zip(orders, a, b):
            if x is None or y is None:
                if x is None and y is None:
                    continue
                return (-1 if nulls_first else 1) * (1 if x is None else -1)
            if x != y:
                c = -1 if x < y else 1
                return c if ascending else -c
        return 0
    return compare


class Rank(PlanNode):
    """The input's columns and its row number per partition (BIGINT NOT NULL); ``limit``
    the largest rank kept (None: every row, batch mode only)."""

    def __init__(self, child: PlanNode, call: RowNumberCall) -> None:
        scope = child.scope()
        self.inputs = (child,)
        self.partition = [p.resolve(scope) for p in call.partition]
        self.order = [(e.resolve(scope), asc, nulls) for e, asc, nulls in call.order]
        self.partition_names = [p.name.lower() if isinstance(p, ColumnRef) else None
                                for p in call.partition]
        self.limit: Optional[int] = None
        self.output_rank = True
        self.rank_filtered = False
        self.names = list(child.names) + ["w0$o0"]
        self.data_types = list(child.data_types) + [t.BigIntType(False)]

    @property
    def updating(self) -> bool:  # type: ignore[override]
        return not self._window_input() and not self._dedup_insert_only()

    def describe(self) -> str:
        return (f"Rank(rankType=[ROW_NUMBER], rankRange=[rankStart=1, rankEnd={self.limit}], "
                f"outputRankNumber=[{str(self.output_rank).lower()}])")

    def _time_order(self) -> Optional[str]:
        """'ROWTIME' / 'PROCTIME' when the Rank is a deduplication (Flink's
        canConvertToDeduplicate), else None."""
        from flink_py.table.windows import is_proctime, is_rowtime
        if self.limit != 1 or len(self.order) != 1:
            return None
        dt = self.order[0][0].data_type
        if is_rowtime(dt):  # PyFlink 2.3 deduplicates on a rowtime with rn output too
            return "ROWTIME"
        return "PROCTIME" if is_proctime(dt) and not self.output_rank else None

    def _dedup_insert_only(self) -> bool:
        kind = self._time_order()
        return kind is not None and self.order[0][1]  # keep-first

    def _window_input(self) -> Optional[Any]:
        """The window table function or window aggregation under the input when the
        partition has window_start and window_end (Flink's WindowRank), else None."""
        from flink_py.table.windows import WindowAggregate, WindowTableFunction
        if not {"window_start", "window_end"} <= set(self.partition_names):
            return None
        node = self.inputs[0]
        while isinstance(node, (Qualify, Filter, Project)):
            if isinstance(node, (WindowTableFunction, WindowAggregate)):
                break
            node = node.inputs[0]
        return node if isinstance(node, (WindowTableFunction, WindowAggregate)) else None

    def to_stream(self, env: Any, batch: bool) -> Any:
        child = self.inputs[0]
        stream = translate(child, env, batch)
        key_fns = [p.evaluate for p in self.partition]

        def key_of(row: tuple) -> tuple:
            return tuple(f(row) for f in key_fns)
        order_fns = [e.evaluate for e, _, _ in self.order]
        compare = _compare([(asc, nulls) for _, asc, nulls in self.order])
        if batch:
            if child.updating:
                stream = stream.map(lambda change: change[1])
            ranked = _batch_rank(stream, key_of, order_fns, compare, self.limit,
                                 self.output_rank)
            # final rows; a changelog of inserts where the plan expects one
            return ranked.map(lambda row: (INSERT, row)) if self.updating else ranked
        if self.limit is None:
            if self.order[0][1]:
                raise TableException("OVER windows' ordering in stream mode must be defined "
                                     "on a time attribute.")
            raise TableException("The window can only be ordered in ASCENDING mode.")
        window = self._window_input()
        if window is not None:
            end_index = self.names.index("window_end")
            return stream.key_by(key_of).process(WindowRankFunction(
                order_fns, compare, self.limit, self.output_rank, end_index, window.clock,
                self._time_order() == "ROWTIME" and not self.order[0][1]))
        if child.updating:
            if window is not None:
                raise TableException("a window Top-N over an updating input is not "
                                     "supported")
            return stream.key_by(lambda change: key_of(change[1])).process(
                RetractableTopNFunction(order_fns, compare, self.limit, self.output_rank))
        kind = self._time_order()
        if kind is not None:
            return stream.key_by(key_of).process(DeduplicateFunction(
                self.order[0][0].evaluate, kind == "ROWTIME", not self.order[0][1],
                self.output_rank))
        return stream.key_by(key_of).process(AppendOnlyTopNFunction(
            order_fns, compare, self.limit, self.output_rank))


def _sort_key(order_fns: Sequence[Callable[[tuple], Any]], row: tuple) -> tuple:
    return tuple(f(row) for f in order_fns)


def _batch_rank(stream: Any, key_of: Callable[[tuple], tuple],
                order_fns: Sequence[Callable[[tuple], Any]],
                compare: Callable[[tuple, tuple], int], limit: Optional[int],
                output_rank: bool) -> Any:
    """Each partition's rows, gathered by a keyed reduce (final at the end of input), sorted
    and numbered."""
    def gather(a: tuple, b: tuple) -> tuple:
        a[1].extend(b[1])
        return a

    def ranked(kv: tuple) -> Any:
        key = functools.cmp_to_key(compare)  # made here: a KeyWrapper cannot be pickled
        rows = sorted(kv[1], key=lambda r: key(_sort_key(order_fns, r)))  # stable
        for i, row in enumerate(rows[:limit] if limit is not None else rows):
            yield row + ((i + 1) if output_rank else None,)
    return (stream.map(lambda row: (key_of(row), [row])).key_by(lambda kv: kv[0])
            .reduce(gather).flat_map(ranked))


def _keyed_base() -> Any:
    from flink_py.datastream.functions import KeyedProcessFunction
    return KeyedProcessFunction


def _value_state(runtime_context: Any, name: str) -> Any:
    from flink_py.common.typeinfo import Types
    from flink_py.datastream.state import ValueStateDescriptor
    return runtime_context.get_state(ValueStateDescriptor(name, Types.PICKLED_BYTE_ARRAY()))


class AppendOnlyTopNFunction(_keyed_base()):  # type: ignore[misc]
    """Flink's AppendOnlyTopNFunction: a key's top rows, sorted (rows of one sort key in
    arrival order), in keyed state."""

    def __init__(self, order_fns: Sequence[Callable[[tuple], Any]],
                 compare: Callable[[tuple, tuple], int], limit: int, output_rank: bool) -> None:
        self.order_fns, self.compare = list(order_fns), compare
        self.limit, self.output_rank = limit, output_rank

    def open(self, runtime_context: Any) -> None:
        self.buffer = _value_state(runtime_context, "topn-buffer")

    def process_element(self, row: tuple, ctx: Any) -> Any:
        buffer: List[Tuple[tuple, tuple]] = list(self.buffer.value() or [])
        sort_key = _sort_key(self.order_fns, row)
        n = self.limit
        if buffer and len(buffer) >= n and self.compare(sort_key, buffer[-1][0]) >= 0:
            return  # not in the top rows
        position = len(buffer)  # after the rows of an equal sort key
        for i, (k, _) in enumerate(buffer):
            if self.compare(sort_key, k) < 0:
                position = i
                break
        buffer.insert(position, (sort_key, row))
        if self.output_rank:
            # the new row takes rank position + 1; each row after it moves down one rank
            current = row
            for rank in range(position + 1, min(len(buffer), n) + 1):
                if rank < len(buffer):
                    previous = buffer[rank][1]
                    if n > 1:
                        yield (UPDATE_BEFORE, previous + (rank,))
                    yield (UPDATE_AFTER, current + (rank,))
                    current = previous
                else:
                    yield (INSERT, current + (rank,))
        elif n == 1 and len(buffer) > 1:
            yield (UPDATE_BEFORE, buffer[1][1] + (None,))
            yield (UPDATE_AFTER, row + (None,))
        else:
            if len(buffer) > n:
                yield (DELETE, buffer[-1][1] + (None,))
            yield (INSERT, row + (None,))
        self.buffer.update(buffer[:n])


class RetractableTopNFunction(_keyed_base()):  # type: ignore[misc]
    """Flink's RetractableTopNFunction: Top-N over an updating input. A key's rows -- all
    of them, since a retracted top row lets the next one in -- sorted in keyed state."""

    def __init__(self, order_fns: Sequence[Callable[[tuple], Any]],
                 compare: Callable[[tuple, tuple], int], limit: int, output_rank: bool) -> None:
        self.order_fns, self.compare = list(order_fns), compare
        self.limit, self.output_rank = limit, output_rank

    def open(self, runtime_context: Any) -> None:
        self.rows = _value_state(runtime_context, "topn-rows")

    def _rank(self, n: int) -> tuple:
        return (1 if self.output_rank else None,)

    def process_element(self, change: tuple, ctx: Any) -> Any:
        kind, row = change
        rows: List[Tuple[tuple, tuple]] = list(self.rows.value() or [])
        n = self.limit
        if kind in (INSERT, UPDATE_AFTER):
            sort_key = _sort_key(self.order_fns, row)
            position = len(rows)
            for i, (k, _) in enumerate(rows):
                if self.compare(sort_key, k) < 0:
                    position = i
                    break
            rows.insert(position, (sort_key, row))
            self.rows.update(rows)
            if position >= n:
                return
            if not self.output_rank or n == 1:  # a Top-1's rank is 1: no shifts
                if len(rows) > n:
                    yield (DELETE, rows[n][1] + self._rank(n))
                yield (INSERT, row + self._rank(n))
                return
            current = row
            for rank in range(position + 1, min(len(rows), n) + 1):
                if rank < len(rows):
                    previous = rows[rank][1]
                    yield (UPDATE_BEFORE, previous + (rank,))
                    yield (UPDATE_AFTER, current + (rank,))
                    current = previous
                else:
                    yield (INSERT, current + (rank,))
            return
        position = next((i for i, (_, r) in enumerate(rows) if r == row), None)
        if position is None:
            return  # a retraction of a row this key does not hold
        old = [r for _, r in rows]
        del rows[position]
        self.rows.update(rows)
        if position >= n:
            return
        if not self.output_rank or n == 1:
            yield (DELETE, row + self._rank(n))
            if len(rows) >= n:
                yield (INSERT, rows[n - 1][1] + self._rank(n))
            return
        for rank in range(position + 1, min(len(old), n) + 1):
            if rank <= len(rows):
                yield (UPDATE_BEFORE, old[rank - 1] + (rank,))
                yield (UPDATE_AFTER, rows[rank - 1][1] + (rank,))
            else:
                yield (DELETE, old[rank - 1] + (rank,))


class DeduplicateFunction(_keyed_base()):  # type: ignore[misc]
    """Deduplication on a time attribute (see the module)."""

    def __init__(self, time_fn: Callable[[tuple], Any], rowtime: bool, keep_last: bool,
                 output_rank: bool) -> None:
        self.time_fn, self.rowtime, self.keep_last = time_fn, rowtime, keep_last
        self.output_rank = output_rank

    def open(self, runtime_context: Any) -> None:
        self.kept = _value_state(runtime_context, "dedup-row")
        self.emitted = _value_state(runtime_context, "dedup-emitted")

    def process_element(self, row: tuple, ctx: Any) -> Any:
        from flink_py.table.temporal import to_millis
        kept = self.kept.value()
        out = row + (1 if self.output_rank else None,)
        if not self.rowtime:
            if kept is None:
                self.kept.update(out)
                yield (INSERT, out) if self.keep_last else out  # keep-first: insert-only
            elif self.keep_last:
                self.kept.update(out)
                yield (UPDATE_BEFORE, kept)
                yield (UPDATE_AFTER, out)
            return
        ts = to_millis(self.time_fn(row))
        if self.keep_last:
            if kept is None:
                self.kept.update(out)
                yield (INSERT, out)
            elif ts >= to_millis(self.time_fn(kept)):
                self.kept.update(out)
                yield (UPDATE_BEFORE, kept)
                yield (UPDATE_AFTER, out)
            return
        timers = ctx.timer_service()
        if ts < timers.current_watermark() or self.emitted.value():
            return  # late, or the key's row is out
        if kept is None or ts < to_millis(self.time_fn(kept)):
            if kept is not None:
                timers.delete_event_time_timer(to_millis(self.time_fn(kept)))
            timers.register_event_time_timer(ts)
            self.kept.update(out)

    def on_timer(self, timestamp: int, ctx: Any) -> Any:
        kept = self.kept.value()
        if kept is not None:
            self.kept.clear()
            self.emitted.update(True)
            yield kept


class WindowRankFunction(_keyed_base()):  # type: ignore[misc]
    """Window Top-N / deduplication: a window's rows per key wait until the watermark
    reaches its end - 1, then its top rows are emitted in order (insert-only)."""

    def __init__(self, order_fns: Sequence[Callable[[tuple], Any]],
                 compare: Callable[[tuple, tuple], int], limit: int, output_rank: bool,
                 end_index: int, clock: Any, keep_last: bool) -> None:
        self.order_fns, self.compare = list(order_fns), compare
        self.limit, self.output_rank = limit, output_rank
        self.end_index, self.clock, self.keep_last = end_index, clock, keep_last

    def open(self, runtime_context: Any) -> None:
        from flink_py.common.typeinfo import Types
        from flink_py.datastream.state import MapStateDescriptor
        self.windows = runtime_context.get_map_state(MapStateDescriptor(
            "window-rank-rows", Types.LONG(), Types.PICKLED_BYTE_ARRAY()))

    def process_element(self, row: tuple, ctx: Any) -> Any:
        from flink_py.table.temporal import to_millis
        timers = ctx.timer_service()
        fire = self.clock.timer(to_millis(row[self.end_index]) - 1)
        if fire <= timers.current_watermark():
            return  # the window has fired: late
        rows = self.windows.get(fire)
        if rows is None:
            rows = []
            timers.register_event_time_timer(fire)
        rows.append(row)
        self.windows.put(fire, rows)
        return
        yield  # a generator: emits only from on_timer

    def on_timer(self, timestamp: int, ctx: Any) -> Any:
        rows = self.windows.get(timestamp)
        if rows is None:
            return
        self.windows.remove(timestamp)
        key = functools.cmp_to_key(self.compare)
        if self.keep_last:  # of one rowtime, the row that came last
            rows = list(reversed(rows))
        ordered = sorted(rows, key=lambda r: key(_sort_key(self.order_fns, r)))
        for i, row in enumerate(ordered[:self.limit]):
            yield row + ((i + 1) if self.output_rank else None,)


# -- SQL translation ---------------------------------------------------------------------------
def has_row_number(e: Expression) -> bool:
    from flink_py.table.sql import _children
    return isinstance(e, RowNumberCall) or any(has_row_number(c) for c in _children(e))


def row_number_plan(child: PlanNode, items: Sequence[Expression], unnamed: str) -> PlanNode:
    """A select with ``ROW_NUMBER() OVER (...)``: a Rank, then the select's projection with
    the call replaced by the row number column."""
    from flink_py.table.table import project
    from flink_py.table.windows import _map_children
    calls: List[RowNumberCall] = []

    def collect(e: Any) -> Any:
        if isinstance(e, RowNumberCall):
            calls.append(e)
            return e
        return _map_children(e, collect)
    for e in items:
        collect(e)
    if len({repr(c) for c in calls}) > 1:
        raise TableException("more than one ROW_NUMBER() OVER window in a select is not "
                             "supported yet")
    if child.updating and _window_like(calls[0]):
        raise TableException("a window Top-N over an updating input is not supported")
    rank = Rank(child, calls[0])
    width = len(child.names)

    def replace(e: Any) -> Any:
        if isinstance(e, RowNumberCall):
            return InputRef(width, rank.data_types[width])
        return _map_children(e, replace)
    plan = project(rank, [replace(e) for e in items], unnamed)
    plan.rank_source = (rank, [i for i, e in enumerate(items) if has_row_number(e)])  # type: ignore[attr-defined]
    return plan


def _window_like(call: RowNumberCall) -> bool:
    names = {p.name.lower() for p in call.partition if isinstance(p, ColumnRef)}
    return {"window_start", "window_end"} <= names


def _rank_below(plan: PlanNode) -> Optional[Tuple[Rank, List[int]]]:
    """The Rank under ``plan`` (a subquery: Qualify over a Rank's projection) and the
    columns of ``plan`` that are its row number."""
    node = plan
    while isinstance(node, Qualify):
        node = node.inputs[0]
    source = getattr(node, "rank_source", None)
    if source is None or source[0].limit is not None:
        return None
    return source


_COMPARISONS = {"less_than_or_equal": 0, "less_than": -1, "equals": 0}


def rank_where(plan: PlanNode, condition: Expression) -> Optional[Tuple[PlanNode, Any]]:
    """``WHERE rn <= N [AND ...]`` over a subquery with a row number: the Rank gets its
    limit; returns the plan and the rest of the condition (or None when the condition does
    not bound the row number)."""
    from flink_py.table.join import _and, conjuncts
    found = _rank_below(plan)
    if found is None:
        return None
    rank, columns = found
    scope = plan.scope()
    rest: List[Expression] = []
    limit: Optional[int] = None
    for part in conjuncts(condition):
        bound = _bound(part, scope, columns)
        if bound is None or limit is not None:
            rest.append(part)
        else:
            limit = bound
    if limit is None:
        return None
    if limit < 1:
        raise TableException(f"a row number filter that keeps no row (rn <= {limit}) is not "
                             f"supported yet")
    rank.limit = limit
    # a filter left on the row number (rn > 1) reads it: the Rank must output it
    rank.rank_filtered = any(_reads(part, scope, columns) for part in rest)
    _refresh(plan)
    return plan, _and(rest)


def _reads(e: Expression, scope: Scope, columns: List[int]) -> bool:
    """Whether ``e`` reads one of ``columns`` of ``scope``."""
    from flink_py.table.sql import _children
    if isinstance(e, InputRef):
        return e.index in columns
    if isinstance(e, ColumnRef):
        try:
            return scope.index_of(e.name, e.position, e.qualifier) in columns
        except ValidationException:
            return True
    return any(_reads(c, scope, columns) for c in _children(e))


def _refresh(plan: PlanNode) -> None:
    """The nodes between ``plan`` and its Rank copied the Rank's changelog kind when they
    were made; a limit or a dropped row number may change it (a deduplication that keeps
    the first row is insert-only)."""
    if isinstance(plan, Rank):
        return
    if isinstance(plan, (Qualify, Filter, Project)):
        _refresh(plan.inputs[0])
        plan.updating = plan.inputs[0].updating


def _bound(part: Expression, scope: Scope, columns: List[int]) -> Optional[int]:
    if not (isinstance(part, Call) and part.function in _COMPARISONS and len(part.args) == 2):
        return None
    column, value = part.args
    if not (isinstance(column, (ColumnRef, InputRef)) and isinstance(value, Literal)):
        return None
    if isinstance(column, ColumnRef):
        try:
            index = scope.index_of(column.name, column.position, column.qualifier)
        except ValidationException:
            return None
    else:
        index = column.index
    if index not in columns or isinstance(value.value, bool) or not isinstance(value.value, int):
        return None
    if part.function == "equals" and value.value != 1:
        raise TableException("a row number filter rn = N other than rn = 1 is not supported "
                             "yet")
    return value.value + _COMPARISONS[part.function]


def mark_rank_output(plan: PlanNode, items: Sequence[Expression]) -> None:
    """Flink's "no ranking number" optimisation: when the select over a Top-N does not read
    the row number, the Rank does not output it (and emits -D/+I instead of -U/+U)."""
    node = plan
    while isinstance(node, (Qualify, Filter)):
        node = node.inputs[0]
    source = getattr(node, "rank_source", None)
    if source is None or source[0].limit is None:
        return
    rank, columns = source
    scope = plan.scope()
    rank.output_rank = rank.rank_filtered or any(_reads(e, scope, columns)
                                                 for e in items)
    _refresh(plan)
