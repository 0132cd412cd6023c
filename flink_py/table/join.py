"""Regular joins (``JOIN ... ON``, the Table API's ``join``/``*_outer_join``) and set
operations (``UNION [ALL]``, ``INTERSECT [ALL]``, ``EXCEPT [ALL]``) as plan nodes.

Streaming, a :class:`Join` is Flink's StreamingJoinOperator: both inputs keyed by the
equi-join key (all rows to one key when the condition has none, as Flink's planner does with
a ``single`` exchange), each side's rows in keyed MapState (row -> how many times it is
there and, on an outer side, with how many rows of the other side it joins), so a restored
job goes on joining. A new row joins the other side's rows of its key for which the whole
condition is TRUE; an outer side's row without a match is emitted NULL-padded (``+I``) and
retracted (``-D``) when its first match arrives, re-emitted when its last match goes. An
inner join forwards its input's row kind (``+U``/``-U`` of an updating input); an outer
join emits ``+I``/``-D`` only -- exactly the changelog of Flink's operator. In batch mode
both sides are gathered per key and joined at the end of input.
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Sequence

from flink_py.table import types as t
from flink_py.table.errors import TableException, ValidationException
from flink_py.table.expressions import (Call, Expression, Resolved, Scope, _is_numeric,
                                        common_type)
from flink_py.table.planner import DELETE, INSERT, UPDATE_AFTER, Filter, PlanNode, translate

__all__ = ["Join", "JoinChanges", "SetOperation", "UsingJoin", "where_plan", "join_names",
           "set_operation_plan", "using_join"]

JOIN_TYPES = ("inner", "left", "right", "full")


def join_names(left: Sequence[str], right: Sequence[str]) -> List[str]:
    """The output names of a join: a name already taken gets the first number that makes it
    unique among the names before it (Calcite's ``SqlValidatorUtil.uniquify``: a right ``k``
    beside a left ``k`` is ``k0``)."""
    used: set = set()
    out: List[str] = []
    for name in list(left) + list(right):
        unique, j = name, 0
        while unique in used:
            unique, j = f"{name}{j}", j + 1
        used.add(unique)
        out.append(unique)
    return out


class _RecordingScope(Scope):
    """A scope that notes which columns an expression reads."""

    def __init__(self, scope: Scope) -> None:
        super().__init__(scope.names, scope.data_types, scope.qualified)
        self.used: set = set()

    def index_of(self, name: str, position: Optional[str] = None,
                 qualifier: Optional[str] = None) -> int:
        index = super().index_of(name, position, qualifier)
        self.used.add(index)
        return index


def columns_used(expr: Expression, scope: Scope) -> set:
    """The indices of the columns of ``scope`` that ``expr`` reads."""
    recording = _RecordingScope(scope)
    expr.resolve(recording)
    return recording.used


def flink_string(expr: Expression) -> str:
    """An expression as Flink's Table API prints it in messages: ``equals(k, k)``."""
    from flink_py.table.expressions import Alias, ColumnRef, Literal
    if isinstance(expr, ColumnRef):
        return expr.name
    if isinstance(expr, Literal):
        return repr(expr)
    if isinstance(expr, Alias):
        return f"as({flink_string(expr.child)}, '{expr.name}')"
    if isinstance(expr, Call):
        names = {"and": "and", "or": "or", "not_equals": "notEquals",
                 "less_than": "lessThan", "less_than_or_equal": "lessThanOrEqual",
                 "greater_than": "greaterThan", "greater_than_or_equal": "greaterThanOrEqual"}
        return (f"{names.get(expr.function, expr.function)}"
                f"({', '.join(flink_string(a) for a in expr.args)})")
    return repr(expr)


def conjuncts(expr: Optional[Expression]) -> List[Expression]:
    """``a AND b AND c`` as ``[a, b, c]``."""
    if expr is None:
        return []
    if isinstance(expr, Call) and expr.function == "and":
        return [c for a in expr.args for c in conjuncts(a)]
    return [expr]


def _and(parts: Sequence[Expression]) -> Optional[Expression]:
    result: Optional[Expression] = None
    for p in parts:
        result = p if result is None else Call("and", [result, p])
    return result


def _key_normalizer(left: t.DataType, right: t.DataType) -> Callable[[Any], Any]:
    """Equal keys of two numeric types must hash alike (``1 = 1.0``): an integer key
    compared with a floating-point one is keyed as a float."""
    if _is_numeric(left) and _is_numeric(right) and (
            isinstance(left, (t.FloatType, t.DoubleType))
            != isinstance(right, (t.FloatType, t.DoubleType))):
        return lambda v: None if v is None else float(v)
    return lambda v: v


class Join(PlanNode):
    """``left [INNER|LEFT|RIGHT|FULL] JOIN right ON condition`` (no condition: every pair,
    a CROSS JOIN). Output columns: the left's, then the right's, a right name the left has
    suffixed (``k0``); ``qualified`` keeps both sides' ``alias.column`` names."""

    def __init__(self, left: PlanNode, right: PlanNode, join_type: str,
                 condition: Optional[Expression] = None) -> None:
        if join_type not in JOIN_TYPES:
            raise TableException(f"join type {join_type!r}: expected one of {JOIN_TYPES}")
        self.inputs = (left, right)
        self.join_type = join_type
        self.condition_expr = condition
        self.left_outer = join_type in ("left", "full")
        self.right_outer = join_type in ("right", "full")
        n_left = len(left.names)
        self.names = join_names(left.names, right.names)
        self.data_types = ([dt.nullable() if self.right_outer else dt for dt in left.data_types]
                           + [dt.nullable() if self.left_outer else dt
                              for dt in right.data_types])
        self.qualified = ((left.qualified or [(None, n) for n in left.names])
                          + (right.qualified or [(None, n) for n in right.names]))
        self.updating = left.updating or right.updating or self.left_outer or self.right_outer
        # the condition is resolved over the concatenated row; each conjunct ``l = r`` with
        # ``l`` of the left's columns only and ``r`` of the right's is an equi-join key
        scope = Scope(self.names, self.data_types, self.qualified)
        self.condition: Optional[Resolved] = None
        self.left_keys: List[Callable[[tuple], Any]] = []
        self.right_keys: List[Callable[[tuple], Any]] = []
        self.key_names: List[str] = []
        if condition is None:
            return
        self.condition = condition.resolve(scope)
        if not isinstance(self.condition.data_type, (t.BooleanType, t.NullType)):
            raise ValidationException(f"A join condition must be BOOLEAN, got "
                                      f"'{self.condition.data_type.sql()}'")
        pad = (None,) * n_left
        for part in conjuncts(condition):
            if not (isinstance(part, Call) and part.function == "equals"):
                continue
            a, b = part.args
            used_a, used_b = columns_used(a, scope), columns_used(b, scope)
            if not used_a or not used_b:
                continue
            if all(i >= n_left for i in used_a) and all(i < n_left for i in used_b):
                a, b, used_a, used_b = b, a, used_b, used_a
            if not (all(i < n_left for i in used_a) and all(i >= n_left for i in used_b)):
                continue
            ra, rb = a.resolve(scope), b.resolve(scope)
            normalize = _key_normalizer(ra.data_type, rb.data_type)
            fa, fb = ra.evaluate, rb.evaluate
            self.left_keys.append(lambda row, f=fa, n=normalize: n(f(row)))
            self.right_keys.append(lambda row, f=fb, n=normalize: n(f(pad + row)))
            self.key_names.append(ra.name or repr(a))

    @property
    def udfs(self) -> List[Any]:
        return list(self.condition.udfs) if self.condition is not None else []

    def with_condition(self, extra: Expression) -> "Join":
        """This inner join with ``extra`` ANDed to its condition."""
        return Join(self.inputs[0], self.inputs[1], self.join_type,
                    _and(conjuncts(self.condition_expr) + [extra]))

    def describe(self) -> str:
        kind = {"inner": "InnerJoin", "left": "LeftOuterJoin", "right": "RightOuterJoin",
                "full": "FullOuterJoin"}[self.join_type]
        where = repr(self.condition_expr) if self.condition_expr is not None else "true"
        return f"Join(joinType=[{kind}], where=[{where}], select=[{', '.join(self.names)}])"

    # -- translation -----------------------------------------------------------------------
    def to_stream(self, env: Any, batch: bool) -> Any:
        left, right = self.inputs
        left_stream = _changes(left, translate(left, env, batch))
        right_stream = _changes(right, translate(right, env, batch))
        lk, rk = self.left_keys, self.right_keys

        def left_key(change: tuple) -> tuple:
            return tuple(f(change[1]) for f in lk)

        def right_key(change: tuple) -> tuple:
            return tuple(f(change[1]) for f in rk)
        if batch:
            stream = _batch_join(self, left_stream, right_stream, left_key, right_key)
        else:
            stream = (left_stream.connect(right_stream).key_by(left_key, right_key)
                      .process(_streaming_join_function(self)))
        if self.updating:
            return stream
        return stream.map(lambda change: change[1])


def _changes(node: PlanNode, stream: Any) -> Any:
    """The records of ``node`` as ``(kind, values)``."""
    if node.updating:
        return stream
    return stream.map(lambda values: (INSERT, values))


def _condition_of(join: Join) -> Callable[[tuple], bool]:
    if join.condition is None:
        return lambda row: True
    cond = join.condition.evaluate
    return lambda row: cond(row) is True


class JoinChanges:
    """The changelog logic of Flink's StreamingJoinOperator for one key, on the two sides'
    states (anything with ``get``/``put``/``remove``/``items`` of row -> ``[count,
    associations]``: keyed MapState in a job)."""

    def __init__(self, join: Join) -> None:
        self.matches = _condition_of(join)
        self.left_outer, self.right_outer = join.left_outer, join.right_outer
        self.left_nulls = (None,) * len(join.inputs[0].names)
        self.right_nulls = (None,) * len(join.inputs[1].names)

    def process(self, mine: Any, other: Any, change: tuple, input_is_left: bool
                ) -> List[tuple]:
        """The join's output for ``change`` (``(kind, row)``) of the left input
        (``input_is_left``) or the right; ``mine`` is that side's state."""
        kind, row = change
        input_outer = self.left_outer if input_is_left else self.right_outer
        other_outer = self.right_outer if input_is_left else self.left_outer
        left_nulls, right_nulls, matches = self.left_nulls, self.right_nulls, self.matches
        out: List[tuple] = []

        def joined(other_row: tuple) -> tuple:
            return row + other_row if input_is_left else other_row + row

        def padded(r: tuple, is_left: bool) -> tuple:
            return r + right_nulls if is_left else left_nulls + r

        # the other side's rows this one joins, a row there n times counted n times
        associated = [(other_row, entry) for other_row, entry in other.items()
                      if matches(joined(other_row)) for _ in range(entry[0])]
        if kind in (INSERT, UPDATE_AFTER):
            if not input_outer:
                _add(mine, row, 0)
            if input_outer and not associated:
                out.append((INSERT, padded(row, input_is_left)))
                _add(mine, row, 0)
                return out
            for other_row, entry in associated:
                if other_outer:  # its NULL-padded row goes with its first match
                    if entry[1] == 0:
                        out.append((DELETE, padded(other_row, not input_is_left)))
                    other.put(other_row, [entry[0], entry[1] + 1])
                    out.append((INSERT, joined(other_row)))
                else:
                    out.append((INSERT if input_outer else kind, joined(other_row)))
            if input_outer:
                _add(mine, row, len(associated))
            return out
        _retract(mine, row)
        if not associated:
            if input_outer:
                out.append((DELETE, padded(row, input_is_left)))
            return out
        for other_row, entry in associated:
            out.append((DELETE if input_outer else kind, joined(other_row)))
            if other_outer:  # Flink's: from the association count read before the loop
                if entry[1] == 1:
                    out.append((INSERT, padded(other_row, not input_is_left)))
                other.put(other_row, [entry[0], entry[1] - 1])
        return out


def _streaming_join_function(join: Join) -> Any:
    """The KeyedCoProcessFunction of a streaming join: Flink's StreamingJoinOperator."""
    from flink_py.common.typeinfo import Types
    from flink_py.datastream.functions import KeyedCoProcessFunction
    from flink_py.datastream.state import MapStateDescriptor
    from flink_py.table.udf import close_functions, open_functions
    logic = JoinChanges(join)
    udfs = join.udfs

    from flink_py.table.state_ttl import current_state_ttl, with_ttl
    ttl = current_state_ttl()

    class StreamingJoin(KeyedCoProcessFunction):
        def open(self, runtime_context: Any) -> None:
            # row -> [how many times it is there, how many rows of the other side it joins]
            self.states = [runtime_context.get_map_state(with_ttl(MapStateDescriptor(
                name, Types.PICKLED_BYTE_ARRAY(), Types.PICKLED_BYTE_ARRAY()), ttl))
                for name in ("left-records", "right-records")]
            open_functions(udfs, runtime_context)

        def close(self) -> None:
            close_functions(udfs)

        def process_element1(self, change: tuple, ctx: Any) -> Any:
            return logic.process(self.states[0], self.states[1], change, True)

        def process_element2(self, change: tuple, ctx: Any) -> Any:
            return logic.process(self.states[1], self.states[0], change, False)

    return StreamingJoin()


def _add(state: Any, row: tuple, associations: int) -> None:
    entry = state.get(row)
    state.put(row, [1, associations] if entry is None else [entry[0] + 1, associations])


def _retract(state: Any, row: tuple) -> None:
    entry = state.get(row)
    if entry is None:
        return  # a retraction of a row never added (state retention): nothing to undo
    if entry[0] <= 1:
        state.remove(row)
    else:
        state.put(row, [entry[0] - 1, entry[1]])


def _batch_join(join: Join, left: Any, right: Any, left_key: Callable[[tuple], tuple],
                right_key: Callable[[tuple], tuple]) -> Any:
    """Both sides gathered per key (BATCH execution's reduce gives them at the end of
    input), then joined."""
    matches = _condition_of(join)
    left_outer, right_outer = join.left_outer, join.right_outer
    left_nulls = (None,) * len(join.inputs[0].names)
    right_nulls = (None,) * len(join.inputs[1].names)

    def gather(a: tuple, b: tuple) -> tuple:
        a[1].extend(b[1])
        a[2].extend(b[2])
        return a

    def pairs(group: tuple) -> List[tuple]:
        _, lefts, rights = group
        out = []
        matched_right = [False] * len(rights)
        for lrow in lefts:
            found = False
            for i, rrow in enumerate(rights):
                if matches(lrow + rrow):
                    found = matched_right[i] = True
                    out.append((INSERT, lrow + rrow))
            if left_outer and not found:
                out.append((INSERT, lrow + right_nulls))
        if right_outer:
            out += [(INSERT, left_nulls + rrow) for rrow, m in zip(rights, matched_right)
                    if not m]
        return out

    tagged = left.map(lambda c: (left_key(c), [c[1]], [])).union(
        right.map(lambda c: (right_key(c), [], [c[1]])))
    return tagged.key_by(lambda g: g[0]).reduce(gather).flat_map(pairs)


def where_plan(plan: PlanNode, condition: Expression) -> PlanNode:
    """``WHERE condition`` over ``plan``: over an inner join (a comma join, ``CROSS
    JOIN``), a conjunct that reads both sides becomes part of its condition, so that an
    equality is its key, as Flink's planner pushes it; the rest filters."""
    if not (isinstance(plan, Join) and plan.join_type == "inner"):
        return Filter(plan, condition.resolve(plan.scope()))
    rest: List[Expression] = []
    for part in conjuncts(condition):
        merged = _push(plan, part)
        if merged is None:
            rest.append(part)
        else:
            plan = merged
    from flink_py.table.interval_join import time_join
    plan = time_join(plan)  # time bounds in WHERE make an interval join, as in Flink
    remaining = _and(rest)
    if remaining is None:
        return plan
    return Filter(plan, remaining.resolve(plan.scope()))


def _push(plan: PlanNode, part: Expression) -> Optional[PlanNode]:
    """``plan`` (an inner join) with ``part`` in the join whose two sides it reads, or None
    when it reads one side's columns only (or none)."""
    if not (isinstance(plan, Join) and plan.join_type == "inner"):
        return None
    used = columns_used(part, plan.scope())
    n_left = len(plan.inputs[0].names)
    if not used:
        return None
    if all(i < n_left for i in used):
        pushed = _push(plan.inputs[0], part)
        return None if pushed is None else Join(pushed, plan.inputs[1], "inner",
                                                plan.condition_expr)
    if all(i >= n_left for i in used):
        pushed = _push(plan.inputs[1], part)
        return None if pushed is None else Join(plan.inputs[0], pushed, "inner",
                                                plan.condition_expr)
    return plan.with_condition(part)


# -- set operations ----------------------------------------------------------------------

SET_OPERATIONS = ("union", "intersect", "except")


def set_operation_types(left: PlanNode, right: PlanNode, sql: bool, what: str
                        ) -> List[t.DataType]:
    """The column types of a set operation: per column the inputs' common type (INT with
    BIGINT is BIGINT), as Flink unifies them."""
    api_name = {"UNION": "union", "INTERSECT": "intersect", "EXCEPT": "minus"}[what.split()[0]]
    if len(left.names) != len(right.names):
        if sql:
            raise ValidationException(f"Column count mismatch in {what}")
        raise ValidationException(
            f"The {api_name} operation on two tables of different column sizes: "
            f"{len(left.names)} and {len(right.names)} is not supported")
    types = []
    for i, (a, b) in enumerate(zip(left.data_types, right.data_types)):
        try:
            types.append(common_type([a, b]))
        except ValidationException:
            if sql:
                raise ValidationException(f"Type mismatch in column {i + 1} of {what}") \
                    from None
            raise ValidationException(
                f"Incompatible types for {api_name} operation. Could not find "
                f"a common type at position {i} for '{a.sql()}' and '{b.sql()}'.") from None
    return types


def _converter(source: Sequence[t.DataType], target: Sequence[t.DataType]
               ) -> Optional[Callable[[tuple], tuple]]:
    """Converts a row of ``source`` types to ``target`` (an integer to a float where the
    common type is floating-point); None when nothing changes."""
    floats = [i for i, (s, d) in enumerate(zip(source, target))
              if isinstance(d, (t.FloatType, t.DoubleType))
              and not isinstance(s, (t.FloatType, t.DoubleType))]
    if not floats:
        return None

    def convert(row: tuple) -> tuple:
        values = list(row)
        for i in floats:
            if values[i] is not None:
                values[i] = float(values[i])
        return tuple(values)
    return convert


class SetOperation(PlanNode):
    """``left UNION ALL right`` and, counting each row's occurrences on both sides,
    ``INTERSECT [ALL]`` and ``EXCEPT [ALL]`` (``UNION`` is ``UNION ALL`` then a
    distinct aggregation: see :func:`set_operation_plan`). Columns: the left's names, the
    common types."""

    def __init__(self, left: PlanNode, right: PlanNode, kind: str, all_: bool,
                 data_types: List[t.DataType]) -> None:
        if kind not in SET_OPERATIONS or (kind == "union" and not all_):
            raise TableException(f"set operation {kind!r} (all={all_}): expected UNION ALL, "
                                 f"INTERSECT [ALL] or EXCEPT [ALL]")
        self.inputs = (left, right)
        self.kind, self.all = kind, all_
        self.names = list(left.names)
        self.data_types = data_types
        if kind == "except":
            self.data_types = [dt.nullable() if left_dt.is_nullable else dt.not_null()
                               for dt, left_dt in zip(data_types, left.data_types)]
        # INTERSECT and EXCEPT retract a row a later input row removes (+I/-D)
        self.updating = left.updating or right.updating or kind != "union"

    def describe(self) -> str:
        name = {"union": "Union", "intersect": "Intersect", "except": "Minus"}[self.kind]
        return f"{name}(all=[{str(self.all).lower()}], fields=[{', '.join(self.names)}])"

    def to_stream(self, env: Any, batch: bool) -> Any:
        streams = []
        for node in self.inputs:
            stream = translate(node, env, batch)
            convert = _converter(node.data_types, self.data_types)
            if self.kind == "union" and not self.updating:
                if convert is not None:
                    stream = stream.map(convert)
            else:
                stream = _changes(node, stream)
                if convert is not None:
                    stream = stream.map(lambda c, f=convert: (c[0], f(c[1])))
            streams.append(stream)
        if self.kind == "union":
            return streams[0].union(streams[1])
        return _counted_set_operation(self, streams[0], streams[1], batch)


def _multiplicity(kind: str, all_: bool) -> Callable[[int, int], int]:
    """How many times a row that is ``l`` times on the left and ``r`` times on the right is
    in the result."""
    if kind == "intersect":
        return (lambda l, r: min(l, r)) if all_ else (lambda l, r: 1 if l > 0 and r > 0 else 0)
    return (lambda l, r: max(l - r, 0)) if all_ else (lambda l, r: 1 if l > 0 and r == 0 else 0)


def _counted_set_operation(node: SetOperation, left: Any, right: Any, batch: bool) -> Any:
    """Both sides keyed by the whole row, with how many times the row is on each side; a
    change of its count in the result is emitted as ``+I``/``-D`` of the row."""
    times = _multiplicity(node.kind, node.all)
    if batch:
        def gather(a: tuple, b: tuple) -> tuple:
            return (a[0], a[1] + b[1], a[2] + b[2])

        tagged = left.map(lambda c: (c[1], 1, 0)).union(right.map(lambda c: (c[1], 0, 1)))
        return (tagged.key_by(lambda g: g[0]).reduce(gather)
                .flat_map(lambda g: [(INSERT, g[0])] * times(g[1], g[2])))

    from flink_py.common.typeinfo import Types
    from flink_py.datastream.functions import KeyedCoProcessFunction
    from flink_py.datastream.state import ValueStateDescriptor

    class CountedSetOperation(KeyedCoProcessFunction):
        def open(self, runtime_context: Any) -> None:
            self.counts = runtime_context.get_state(
                ValueStateDescriptor("counts", Types.PICKLED_BYTE_ARRAY()))

        def process_element1(self, change: tuple, ctx: Any) -> Any:
            return self._change(change, 0)

        def process_element2(self, change: tuple, ctx: Any) -> Any:
            return self._change(change, 1)

        def _change(self, change: tuple, side: int) -> List[tuple]:
            kind, row = change
            counts = list(self.counts.value() or (0, 0))
            before = times(*counts)
            counts[side] += 1 if kind in (INSERT, UPDATE_AFTER) else -1
            self.counts.update(None if counts == [0, 0] else tuple(counts))
            after = times(*counts)
            if after > before:
                return [(INSERT, row)] * (after - before)
            return [(DELETE, row)] * (before - after)

    return (left.connect(right).key_by(lambda c: c[1], lambda c: c[1])
            .process(CountedSetOperation()))


def set_operation_plan(left: PlanNode, right: PlanNode, kind: str, all_: bool, sql: bool
                       ) -> PlanNode:
    """``left UNION|INTERSECT|EXCEPT [ALL] right``; ``sql`` picks the SQL validator's
    messages over the Table API's."""
    what = {"union": "UNION", "intersect": "INTERSECT", "except": "EXCEPT"}[kind]
    what = f"{what} ALL" if all_ else what
    types = set_operation_types(left, right, sql, what)
    if kind == "union" and not all_:
        from flink_py.table.sql import distinct_plan
        return distinct_plan(SetOperation(left, right, "union", True, types))
    return SetOperation(left, right, kind, all_, types)



# -- USING ------------------------------------------------------------------------------

class _UsingScope(Scope):
    """A USING join's scope: an unqualified USING column is the merged one."""

    def __init__(self, node: "UsingJoin") -> None:
        super().__init__(node.names, node.data_types, node.qualified)
        self.merged = {n: i for i, n in enumerate(node.using)}

    def index_of(self, name: str, position: Optional[str] = None,
                 qualifier: Optional[str] = None) -> int:
        if qualifier is None and name in self.merged:
            return self.merged[name]
        return super().index_of(name, position, qualifier)


class UsingJoin(PlanNode):
    """``JOIN ... USING (k)``: the join on ``left.k = right.k``, with ``k`` once in front
    (the left's for an inner or left join, the right's for a right join, the first that is
    not NULL for a full join) -- ``SELECT *`` gives it, then the other columns of both
    sides; ``left.k`` and ``right.k`` still name each side's."""

    def __init__(self, join: Join, using: List[str], left_index: List[int],
                 right_index: List[int]) -> None:
        self.inputs = (join,)
        self.using = using
        self.picks = list(zip(left_index, right_index))
        kind = join.join_type
        merged_types = []
        for li, ri in self.picks:
            lt, rt = join.data_types[li], join.data_types[ri]
            if kind == "full":
                merged_types.append(common_type([lt, rt]) if lt.is_nullable and rt.is_nullable
                                    else common_type([lt, rt]).not_null())
            else:
                merged_types.append(rt if kind == "right" else lt)
        self.names = list(using) + join.names
        self.data_types = merged_types + join.data_types
        self.qualified = [(None, n) for n in using] + list(join.qualified or [])
        self.updating = join.updating
        offset = len(using)
        #: the sides' USING columns, which ``SELECT *`` leaves out
        self.hidden_in_star = {offset + i for pair in self.picks for i in pair}

    def scope(self) -> Scope:
        return _UsingScope(self)

    def describe(self) -> str:
        return self.inputs[0].describe()

    def to_stream(self, env: Any, batch: bool) -> Any:
        join = self.inputs[0]
        stream = translate(join, env, batch)
        kind, picks = join.join_type, self.picks

        def merge(row: tuple) -> tuple:
            if kind == "right":
                front = tuple(row[ri] for _, ri in picks)
            elif kind == "full":
                front = tuple(row[li] if row[li] is not None else row[ri] for li, ri in picks)
            else:
                front = tuple(row[li] for li, _ in picks)
            return front + row
        if self.updating:
            return stream.map(lambda change: (change[0], merge(change[1])))
        return stream.map(merge)


def using_join(left: PlanNode, right: PlanNode, join_type: str, using: List[str]
               ) -> PlanNode:
    """``left JOIN right USING (columns)``."""
    left_scope, right_scope = left.scope(), right.scope()
    conditions: List[Expression] = []
    left_index, right_index = [], []
    n_left = len(left.names)
    for name in using:
        for side, scope in (("left", left_scope), ("right", right_scope)):
            matching = [n for n in scope.names if n == name]
            if len(matching) != 1:
                raise ValidationException(
                    f"Column '{name}' {'not found' if not matching else 'is ambiguous'} in "
                    f"the {side} input of JOIN ... USING")
        li, ri = left_scope.index_of(name), right_scope.index_of(name)
        left_index.append(li)
        right_index.append(n_left + ri)
        conditions.append(Call("equals", [_Column(li), _Column(n_left + ri)]))
    join = Join(left, right, join_type, _and(conditions))
    return UsingJoin(join, list(using), left_index, right_index)


class _Column(Expression):
    """A column of the joined row by position (a USING column's side)."""

    def __init__(self, index: int) -> None:
        self.index = index

    def resolve(self, scope: Scope) -> Resolved:
        if isinstance(scope, _RecordingScope):
            scope.used.add(self.index)
        index = self.index
        return Resolved(scope.data_types[index], lambda row: row[index], scope.names[index])

    def __repr__(self) -> str:
        return f"${self.index}"
