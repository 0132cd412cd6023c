"""Table functions, aggregate functions and table aggregate functions in a plan: their call
expressions, the plan nodes that run them (``Correlate`` for a table function,
``MapRow`` for ``Table.map``, ``TableAggregate`` for ``flat_aggregate``), the group
aggregation that calls UDAFs or retracts, and the Table API operations on them.

Every user function is a plain Python call on the task's thread; the task opens it before
the first row and closes it at the end (``FunctionContext``), as scalar UDFs are.

A group aggregation with a UDAF, or over an updating input, keeps per group the list of its
aggregates' accumulators and the number of rows in the group in keyed ValueState
(checkpointed); per row it calls ``accumulate`` (``retract`` for a -U/-D row), then emits
``+I`` for a new group, ``-U``/``+U`` when its result changed, ``-D`` when its last row was
retracted -- the changelog of Flink's GroupAggFunction (and PyFlink's, one row per
bundle). Built-in aggregates there use retractable accumulators (MIN/MAX a count per
value). A table aggregate retracts every row it emitted before (``-D``) and emits the new
ones (``+I``), as PyFlink's GroupTableAggFunction.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple

from flink_py.common.types import Row
from flink_py.table import types as t
from flink_py.table.errors import TableException, ValidationException
from flink_py.table.expressions import (Aggregate, Alias, Call, ColumnRef, Expression,
                                        Literal, Resolved, Scope, _result_checker)
from flink_py.table.planner import (DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE,
                                    AggSpec, GroupAggregate, PlanNode, Project, _wrapper,
                                    translate)

__all__ = ["Correlate", "MapRow", "TableAggregate", "TableFunctionCall", "UdafCall",
           "TableAggregateCall", "agg_spec"]


# -- expressions -------------------------------------------------------------------------------

class RowOfColumns(Expression):
    """Every input column as one Row argument (PyFlink's ``with_columns(col('*'))`` for a
    function given without a call: ``flat_map(split_row)``); fields named as the columns."""

    def resolve(self, scope: Scope) -> Resolved:
        names = list(scope.names)
        row_type = t.RowType([t.RowField(n, dt) for n, dt in zip(names, scope.data_types)])

        def evaluate(row: tuple) -> Row:
            r = Row(*row)
            r.set_field_names(names)
            return r
        return Resolved(row_type, evaluate)

    def __repr__(self) -> str:
        return "*"


def _call_of(func: Any, aliased: bool = True) -> Expression:
    """A function given without a call (``map(f)``, ``join_lateral(f.alias('a'))``): its
    call on the whole row, under the names ``f.alias(...)`` gave (PyFlink's ``map`` and
    ``flat_map`` ignore them: ``aliased`` False)."""
    func._set_takes_row_as_input()
    call = func(RowOfColumns())
    names = getattr(func, "_alias_names", None)
    if aliased and names and isinstance(call, (TableFunctionCall, UdafCall)):
        call = call.alias(*names)
    return call


class ResolvedTableCall:
    """A table function call resolved against its input: its columns, and ``rows(row)``,
    the function's rows (tuples, checked against the column types) for an input row."""

    def __init__(self, names: List[str], data_types: List[t.DataType],
                 rows: Callable[[tuple], List[tuple]], udfs: Tuple[Any, ...]) -> None:
        self.names, self.data_types, self.rows, self.udfs = names, data_types, rows, udfs


class TableFunctionCall(Expression):
    """A call of a table function (``udtf``); ``alias`` names its columns."""

    def __init__(self, udtf: Any, args: Sequence[Expression],
                 names: Optional[Sequence[str]] = None) -> None:
        self.udtf, self.args = udtf, list(args)
        self.names = list(names) if names else None

    def alias(self, name: str, *extra_names: str) -> "TableFunctionCall":
        return TableFunctionCall(self.udtf, self.args, [name, *extra_names])

    def resolve(self, scope: Scope) -> Resolved:
        raise ValidationException(
            f"the table function {self.udtf._name!r} can only be called in join_lateral, "
            f"left_outer_join_lateral, flat_map or SQL's LATERAL TABLE(...)")

    def resolve_table(self, scope: Scope) -> ResolvedTableCall:
        resolved = [a.resolve(scope) for a in self.args]
        udtf = self.udtf
        types = list(udtf._result_types)
        names = self.names if self.names is not None else list(udtf._result_names)
        if len(names) != len(types):
            raise ValidationException(
                f"The table function {udtf._name!r} has {len(types)} result columns "
                f"({', '.join(udtf._result_names)}) but {len(names)} aliases were given: "
                f"{', '.join(names)}")
        evals = [r.evaluate for r in resolved]
        function = udtf._function
        call = function.eval
        normalize = _row_normalizer(types, udtf._name)

        def rows(row: tuple) -> List[tuple]:
            result = call(*[f(row) for f in evals])
            if result is None:
                return []
            if isinstance(result, (tuple, Row)) or not hasattr(result, "__iter__"):
                return [normalize(result)]  # one row returned, not an iterable of rows
            return [normalize(item) for item in result]
        return ResolvedTableCall(names, types, rows,
                                 tuple(u for r in resolved for u in r.udfs) + (function,))

    def __repr__(self) -> str:
        return f"{self.udtf._name}({', '.join(map(repr, self.args))})"


def _row_normalizer(types: List[t.DataType], name: str) -> Callable[[Any], tuple]:
    """A function result's row as a tuple of checked values: a tuple or Row is the row's
    fields, anything else its one field (PyFlink's normalize_table_function_result)."""
    checks = [_result_checker(dt, name) for dt in types]
    width = len(types)

    def normalize(item: Any) -> tuple:
        if isinstance(item, Row):
            values = tuple(item)
        elif isinstance(item, tuple):
            values = item
        else:
            values = (item,)
        if len(values) != width:
            raise ValidationException(
                f"the function {name!r} gave the row {item!r} of {len(values)} fields; its "
                f"result type has {width}")
        return tuple(check(v) for check, v in zip(checks, values))
    return normalize


class UdafCall(Aggregate):
    """A call of an aggregate function (``udaf``); ``alias`` with several names names the
    fields of its ROW result (``aggregate(count_sum(col('v')).alias('cnt', 'total'))``)."""

    def __init__(self, udaf: Any, args: Sequence[Expression],
                 names: Optional[Sequence[str]] = None) -> None:
        super().__init__("udaf", None)
        self.udaf, self.args = udaf, list(args)
        self.names = list(names) if names else None

    def alias(self, name: str, *extra_names: str) -> Expression:
        if extra_names:
            return type(self)(self.udaf, self.args, [name, *extra_names])
        return Alias(self, name)

    @property
    def distinct(self) -> "Aggregate":
        raise TableException(f"a DISTINCT call of the aggregate function "
                             f"{self.udaf._name!r} is not supported yet")

    def name_hint(self) -> Optional[str]:
        return None

    def __repr__(self) -> str:
        return f"{self.udaf._name}({', '.join(map(repr, self.args))})"


class TableAggregateCall(UdafCall):
    """A call of a table aggregate function (``udtaf``), for ``flat_aggregate``."""

    def aggregates(self) -> List[Aggregate]:
        raise ValidationException(
            f"the table aggregate function {self.udaf._name!r} can only be called in "
            f"flat_aggregate")


# -- aggregate specs and their accumulators ----------------------------------------------------

class UdafSpec:
    """One UDAF call in a group aggregation: the function, its arguments' evaluators, its
    result type."""

    is_udaf = True
    distinct = False
    function = "udaf"
    arg = None

    def __init__(self, call: UdafCall, scope: Scope) -> None:
        self.udaf = call.udaf
        self.args = [a.resolve(scope) for a in call.args]
        self.data_type: t.DataType = call.udaf._result_type

    def describe(self) -> str:
        return f"{self.udaf._name}(...)"

    def udfs(self) -> List[Any]:
        return [u for a in self.args for u in a.udfs] + [self.udaf._function]

    def handle(self) -> "_UdafHandle":
        return _UdafHandle(self)


def agg_spec(call: Aggregate, scope: Scope) -> Any:
    """The spec of an aggregate call: a UDAF's or a built-in's."""
    if isinstance(call, UdafCall):
        return UdafSpec(call, scope)
    return AggSpec(call, scope)


def has_udafs(specs: Sequence[Any]) -> bool:
    return any(getattr(s, "is_udaf", False) for s in specs)


class _UdafHandle:
    """A UDAF's accumulator operations on input rows."""

    def __init__(self, spec: UdafSpec) -> None:
        function = spec.udaf._function
        evals = [a.evaluate for a in spec.args]
        self.create = function.create_accumulator
        accumulate, retract = function.accumulate, function.retract
        check = _result_checker(spec.data_type, spec.udaf._name) \
            if not isinstance(spec.data_type, t.RowType) else (lambda v: v)
        get_value = getattr(function, "get_value", None)

        def add(acc: Any, row: tuple) -> None:
            accumulate(acc, *[f(row) for f in evals])

        def remove(acc: Any, row: tuple) -> None:
            retract(acc, *[f(row) for f in evals])

        self.accumulate, self.retract = add, remove
        self.value = (lambda acc: check(get_value(acc))) if get_value is not None else None
        self.function = function


class _BuiltinHandle:
    """A built-in aggregate with a retractable accumulator (a list or dict updated in
    place): COUNT [n]; SUM/SUM0/AVG [sum, non-NULL count]; MIN/MAX and DISTINCT ones a dict
    of each value to its count."""

    def __init__(self, spec: AggSpec) -> None:
        fn, distinct = spec.function, spec.distinct
        arg = spec.arg.evaluate if spec.arg is not None else (lambda row: 1)
        wrap = _wrapper(spec.data_type)
        integer = isinstance(spec.data_type, t._IntegerType)
        by_value = distinct or fn in ("min", "max")

        def create() -> Any:
            return {} if by_value else ([0] if fn == "count" else [0, 0])

        def update(acc: Any, row: tuple, sign: int) -> None:
            v = arg(row)
            if v is None:
                return
            if by_value:
                n = acc.get(v, 0) + sign
                if n:
                    acc[v] = n
                else:
                    del acc[v]
            elif fn == "count":
                acc[0] += sign
            else:
                acc[0] += sign * v
                acc[1] += sign

        def average(total: Any, count: int) -> Any:
            if integer:  # Flink's AVG of an integer type is that type, truncated
                q = abs(total) // count
                return wrap(q if total >= 0 else -q)
            return wrap(total / count)

        def value(acc: Any) -> Any:
            if by_value:
                values = list(acc)
                if fn == "count":
                    return len(values)
                if not values:
                    return 0 if fn == "sum0" else None
                if fn in ("sum", "sum0"):
                    return wrap(sum(values))
                if fn == "min":
                    return min(values)
                if fn == "max":
                    return max(values)
                return average(sum(values), len(values))
            if fn == "count":
                return acc[0]
            if acc[1] == 0:
                return 0 if fn == "sum0" else None
            if fn == "avg":
                return average(acc[0], acc[1])
            return wrap(acc[0])

        self.create = create
        self.accumulate = lambda acc, row: update(acc, row, 1)
        self.retract = lambda acc, row: update(acc, row, -1)
        self.value = value


def _handles(specs: Sequence[Any]) -> list:
    return [s.handle() if getattr(s, "is_udaf", False) else _BuiltinHandle(s) for s in specs]


def _spec_udfs(specs: Sequence[Any]) -> List[Any]:
    out: List[Any] = []
    for s in specs:
        if getattr(s, "is_udaf", False):
            out += s.udfs()
        elif s.arg is not None:
            out += list(s.arg.udfs)
    return out


# -- translation of aggregations -------------------------------------------------------------

def _opening(udfs: List[Any], base: type) -> type:
    """A subclass of the DataStream function class ``base`` whose open/close open and close
    the given user functions."""
    from flink_py.table.udf import close_functions, open_functions

    class Opening(base):  # type: ignore[valid-type, misc]
        def open(self, runtime_context: Any) -> None:
            open_functions(udfs, runtime_context)

        def close(self) -> None:
            close_functions(udfs)
    return Opening


def translate_general_group_aggregate(node: GroupAggregate, env: Any, batch: bool) -> Any:
    """A group aggregation with UDAFs or over an updating input (see the module's doc)."""
    child = node.inputs[0]
    stream = translate(child, env, batch)
    key_fns = [k.evaluate for k in node.keys]
    handles = _handles(node.aggs)
    udfs = [u for k in node.keys for u in k.udfs] + _spec_udfs(node.aggs)
    updating = child.updating

    def key_of(record: tuple) -> tuple:
        row = record[1] if updating else record
        return tuple(f(row) for f in key_fns)

    if batch:
        if has_udafs(node.aggs):
            _refuse_in_batch_mode()
        return _batch_group_aggregate(stream, node, handles, udfs, key_of, updating, env)

    from flink_py.common.typeinfo import Types
    from flink_py.datastream.functions import KeyedProcessFunction
    from flink_py.datastream.state import ValueStateDescriptor
    base = _opening(udfs, KeyedProcessFunction)

    from flink_py.table.state_ttl import current_state_ttl, with_ttl
    ttl = current_state_ttl()

    class GroupAggFunction(base):  # type: ignore[valid-type, misc]
        """The accumulators and the row count of each group in keyed state."""

        def open(self, runtime_context: Any) -> None:
            self.state = runtime_context.get_state(with_ttl(
                ValueStateDescriptor("accumulators", Types.PICKLED_BYTE_ARRAY()), ttl))
            super().open(runtime_context)

        def process_element(self, record: tuple, ctx: Any) -> Any:
            kind, row = record if updating else (INSERT, record)
            retracting = kind in (UPDATE_BEFORE, DELETE)
            stored = self.state.value()
            first = stored is None
            if first:
                if retracting:  # a retraction of a group we never saw: nothing to undo
                    return
                accs, count = [h.create() for h in handles], 0
            else:
                accs, count = stored
            key = ctx.get_current_key()
            # the result before this row, from the accumulators as they are (a fresh
            # group's too, as Flink's GroupAggFunction does)
            before = key + tuple(h.value(a) for h, a in zip(handles, accs))
            if retracting:
                for h, a in zip(handles, accs):
                    h.retract(a, row)
                count -= 1
            else:
                for h, a in zip(handles, accs):
                    h.accumulate(a, row)
                count += 1
            if count == 0 and updating:  # the group's last row was retracted
                self.state.clear()
                if not first:
                    yield (DELETE, before)
                return
            self.state.update([accs, count])
            after = key + tuple(h.value(a) for h, a in zip(handles, accs))
            if first:
                yield (INSERT, after)
            elif before != after:
                yield (UPDATE_BEFORE, before)
                yield (UPDATE_AFTER, after)

    return stream.key_by(key_of).process(GroupAggFunction())


def _refuse_in_batch_mode() -> None:
    """PyFlink 2.3 plans a general Python aggregate function in streaming mode only."""
    raise TableException(
        "Cannot generate a valid execution plan for the given query: a Python aggregate "
        "function (udaf/udtaf, func_type 'general') in batch mode; Flink runs these in "
        "streaming mode only")


def _batch_group_aggregate(stream: Any, node: Any, handles: list, udfs: List[Any],
                           key_of: Callable[[tuple], tuple], updating: bool, env: Any) -> Any:
    """BATCH execution: a keyed reduce whose value carries the group's accumulators; each
    row is accumulated into them (a UDAF's ``merge`` is not needed), and the final value of
    each key gives its row at the end of input. A batch input is insert-only."""
    from flink_py.datastream.functions import MapFunction

    def fresh(row: tuple) -> list:
        accs = [h.create() for h in handles]
        for h, a in zip(handles, accs):
            h.accumulate(a, row)
        return accs

    class ToPending(_opening(udfs, MapFunction)):  # type: ignore[misc]
        def map(self, record: tuple) -> tuple:
            return (key_of(record), None, record[1] if updating else record)

    def fold(a: tuple, b: tuple) -> tuple:
        accs = a[1] if a[1] is not None else fresh(a[2])
        for h, acc in zip(handles, accs):
            h.accumulate(acc, b[2])
        return (a[0], accs, None)

    def result(kv: tuple) -> tuple:
        accs = kv[1] if kv[1] is not None else fresh(kv[2])
        return (INSERT, kv[0] + tuple(h.value(a) for h, a in zip(handles, accs)))

    pending = stream.map(ToPending())
    if not node.keys:  # a global aggregate over no rows still gives its row
        return _global_batch(pending, handles, fold, result, env)
    return pending.key_by(lambda p: p[0]).reduce(fold).map(_opening_map(udfs, result))


def _opening_map(udfs: List[Any], fn: Callable[[Any], Any]) -> Any:
    from flink_py.datastream.functions import MapFunction

    class OpeningMap(_opening(udfs, MapFunction)):  # type: ignore[misc]
        def map(self, value: Any) -> Any:
            return fn(value)
    return OpeningMap()


def _global_batch(pending: Any, handles: list, fold: Callable, result: Callable,
                  env: Any) -> Any:
    """A global aggregate in batch mode: a marker with fresh accumulators joins the input,
    so no rows still give one row (the aggregates of nothing)."""
    empty = env.from_collection([((), "empty", None)])

    def fold_marked(a: tuple, b: tuple) -> tuple:
        if b[1] == "empty":
            return a
        if a[1] == "empty":
            return b
        return fold(a, b)

    def finish(kv: tuple) -> tuple:
        if kv[1] == "empty":
            return (INSERT, tuple(h.value(h.create()) for h in handles))
        return result(kv)
    return pending.union(empty).key_by(lambda p: p[0]).reduce(fold_marked).map(finish)


# -- plan nodes --------------------------------------------------------------------------------

def _nullable_types(types: Sequence[t.DataType]) -> List[t.DataType]:
    return [dt.nullable() for dt in types]


class Correlate(PlanNode):
    """Each input row joined with the rows its table function call gives (Flink's
    Correlate): inner, or left outer (an input row without function rows is kept, the
    function's columns NULL); ``keep_input`` False for ``flat_map`` (the function's columns
    only)."""

    def __init__(self, child: PlanNode, call: ResolvedTableCall, left_outer: bool = False,
                 condition: Optional[Resolved] = None, keep_input: bool = True) -> None:
        self.inputs = (child,)
        self.call, self.left_outer, self.condition = call, left_outer, condition
        self.keep_input = keep_input
        fn_types = _nullable_types(call.data_types) if left_outer else list(call.data_types)
        if keep_input:
            self.names = list(child.names) + list(call.names)
            self.data_types = list(child.data_types) + fn_types
        else:
            self.names, self.data_types = list(call.names), fn_types
        self.updating = child.updating

    def describe(self) -> str:
        kind = "LEFT" if self.left_outer else "INNER"
        return f"Correlate(joinType=[{kind}], select=[{', '.join(self.names)}])"

    def to_stream(self, env: Any, batch: bool) -> Any:
        from flink_py.datastream.functions import FlatMapFunction
        stream = translate(self.inputs[0], env, batch)
        rows = self.call.rows
        cond = self.condition.evaluate if self.condition is not None else None
        left_outer, keep_input = self.left_outer, self.keep_input
        nulls = (None,) * len(self.call.names)
        updating = self.updating
        udfs = list(self.call.udfs) + (list(self.condition.udfs) if self.condition else [])

        def joined(row: tuple) -> List[tuple]:
            out = [row + r if keep_input else r for r in rows(row)]
            if cond is not None:
                out = [j for j in out if cond(j) is True]
            if left_outer and not out:
                out = [row + nulls if keep_input else nulls]
            return out

        class CorrelateFunction(_opening(udfs, FlatMapFunction)):  # type: ignore[misc]
            def flat_map(self, record: tuple) -> Iterable[tuple]:
                if updating:
                    kind, row = record
                    return [(kind, j) for j in joined(row)]
                return joined(record)
        return stream.flat_map(CorrelateFunction())


class MapRow(PlanNode):
    """``Table.map(f)``: each row to the fields of the scalar function's result (a ROW's
    fields, or its one value)."""

    def __init__(self, child: PlanNode, call: Resolved, names: List[str],
                 data_types: List[t.DataType], expand: bool, function_name: str) -> None:
        self.inputs = (child,)
        self.call, self.names, self.data_types = call, names, data_types
        self.expand, self.function_name = expand, function_name
        self.updating = child.updating

    def describe(self) -> str:
        return f"Calc(select=[{self.function_name}(...) AS ({', '.join(self.names)})])"

    def to_stream(self, env: Any, batch: bool) -> Any:
        from flink_py.datastream.functions import MapFunction
        stream = translate(self.inputs[0], env, batch)
        f = self.call.evaluate
        normalize = _row_normalizer(self.data_types, self.function_name)
        nulls = (None,) * len(self.names)
        expand, updating = self.expand, self.updating

        name = self.function_name

        def values(row: tuple) -> tuple:
            v = f(row)
            if not expand:
                return (v,)
            if v is None:
                return nulls
            if not isinstance(v, Row):  # PyFlink's row coder takes a Row only
                raise ValidationException(
                    f"the function {name!r} returned {v!r} of type {type(v).__name__}, "
                    f"which its ROW result type cannot hold: return a Row")
            return normalize(v)

        class MapFunctionRow(_opening(list(self.call.udfs), MapFunction)):  # type: ignore
            def map(self, record: tuple) -> tuple:
                if updating:
                    return (record[0], values(record[1]))
                return values(record)
        return stream.map(MapFunctionRow())


class TableAggregate(PlanNode):
    """``group_by(keys).flat_aggregate(f)``: the keys, then the columns of the rows the
    table aggregate function emits per group."""

    def __init__(self, child: PlanNode, keys: List[Resolved], key_names: List[str],
                 spec: UdafSpec, fn_names: List[str], fn_types: List[t.DataType]) -> None:
        self.inputs = (child,)
        self.keys, self.spec = keys, spec
        self.names = key_names + fn_names
        self.data_types = [k.data_type for k in keys] + fn_types
        self.fn_types = fn_types
        self.updating = True

    def describe(self) -> str:
        return (f"GroupTableAggregate(groupBy=[{', '.join(self.names[:len(self.keys)])}], "
                f"select=[{self.spec.describe()}])")

    def to_stream(self, env: Any, batch: bool) -> Any:
        child = self.inputs[0]
        stream = translate(child, env, batch)
        updating = child.updating
        key_fns = [k.evaluate for k in self.keys]
        handle = self.spec.handle()
        function = handle.function
        normalize = _row_normalizer(self.fn_types, self.spec.udaf._name)
        udfs = [u for k in self.keys for u in k.udfs] + self.spec.udfs()

        def key_of(record: tuple) -> tuple:
            row = record[1] if updating else record
            return tuple(f(row) for f in key_fns)

        def emitted(key: tuple, acc: Any) -> List[tuple]:
            return [key + normalize(r) for r in (function.emit_value(acc) or ())]

        if batch:  # the rows emitted from each group's final accumulator, at the end
            _refuse_in_batch_mode()
            emitting = _EmittingHandle(handle, normalize)
            aggregated = _batch_group_aggregate(stream, self, [emitting], udfs, key_of,
                                                updating, env)
            return aggregated.flat_map(
                lambda change: [(INSERT, change[1][:-1] + r) for r in change[1][-1]])
        from flink_py.common.typeinfo import Types
        from flink_py.datastream.functions import KeyedProcessFunction
        from flink_py.datastream.state import ValueStateDescriptor

        from flink_py.table.state_ttl import current_state_ttl, with_ttl
        ttl = current_state_ttl()

        class GroupTableAggFunction(_opening(udfs, KeyedProcessFunction)):  # type: ignore
            def open(self, runtime_context: Any) -> None:
                self.state = runtime_context.get_state(with_ttl(
                    ValueStateDescriptor("accumulators", Types.PICKLED_BYTE_ARRAY()), ttl))
                super().open(runtime_context)

            def process_element(self, record: tuple, ctx: Any) -> Any:
                kind, row = record if updating else (INSERT, record)
                retracting = kind in (UPDATE_BEFORE, DELETE)
                stored = self.state.value()
                first = stored is None
                if first:
                    if retracting:
                        return
                    acc, count = handle.create(), 0
                else:
                    acc, count = stored
                key = ctx.get_current_key()
                if not first:  # what it emitted before, retracted before the row changes it
                    for r in emitted(key, acc):
                        yield (DELETE, r)
                if retracting:
                    handle.retract(acc, row)
                    count -= 1
                else:
                    handle.accumulate(acc, row)
                    count += 1
                if count == 0 and updating:
                    self.state.clear()
                    return
                self.state.update([acc, count])
                for r in emitted(key, acc):
                    yield (INSERT, r)

        return stream.key_by(key_of).process(GroupTableAggFunction())


class _EmittingHandle:
    """A table aggregate's handle whose value is the list of rows it emits."""

    def __init__(self, handle: _UdafHandle, normalize: Callable[[Any], tuple]) -> None:
        self.create, self.accumulate, self.retract = (handle.create, handle.accumulate,
                                                      handle.retract)
        emit = handle.function.emit_value
        self.value = lambda acc: [normalize(r) for r in (emit(acc) or ())]


# -- the Table API operations ------------------------------------------------------------------

def _as_table_call(func: Any, what: str) -> "TableFunctionCall":
    from flink_py.table.udf import UserDefinedTableFunctionWrapper
    if isinstance(func, UserDefinedTableFunctionWrapper):
        return _call_of(func, what != "flat_map")  # type: ignore[return-value]
    if isinstance(func, Alias) and isinstance(func.child, TableFunctionCall):
        return func.child.alias(func.name)
    if isinstance(func, TableFunctionCall):
        return func
    from flink_py.table.expressions import NamedCall
    if isinstance(func, NamedCall):
        return _named_table_call(func, func.alias_names)
    raise ValidationException(f"{what} expects a table function call (a udtf called on "
                              f"columns, or the udtf itself), got {func!r}")


def _named_table_call(call: Any, names: Optional[List[str]]) -> "TableFunctionCall":
    """``call('name', ...)`` of a table function registered under ``name``."""
    from flink_py.table.expressions import FUNCTION_CATALOG
    from flink_py.table.udf import UserDefinedTableFunctionWrapper
    function = FUNCTION_CATALOG.get().get(call.name.lower())
    if not isinstance(function, UserDefinedTableFunctionWrapper):
        raise ValidationException(f"Function '{call.name}' cannot be used as a table "
                                  f"function.")
    return TableFunctionCall(function, call.args, names)


def _flink_name(e: Expression) -> str:
    """An expression as Flink's messages print it (``greaterThan(length, 2)``)."""
    if isinstance(e, Call):
        head, *rest = e.function.split("_")
        name = head + "".join(p.capitalize() for p in rest)
        return f"{name}({', '.join(_flink_name(a) for a in e.args)})"
    return repr(e)


def _has_equi_predicate(e: Expression, left: List[str], right: List[str]) -> bool:
    """Whether a conjunct of ``e`` is ``left column = function column``."""
    if isinstance(e, Call) and e.function == "and":
        return any(_has_equi_predicate(a, left, right) for a in e.args)
    if isinstance(e, Call) and e.function == "equals" and all(
            isinstance(a, ColumnRef) for a in e.args):
        a, b = (x.name.lower() for x in e.args)  # type: ignore[attr-defined]
        lower_left, lower_right = [n.lower() for n in left], [n.lower() for n in right]
        return (a in lower_left and b in lower_right) or (b in lower_left and a in lower_right)
    return False


def correlate_plan(child: PlanNode, func: Any, predicate: Optional[Expression],
                   left_outer: bool, api: bool = True) -> Correlate:
    """``join_lateral`` / ``left_outer_join_lateral`` (and SQL's LATERAL TABLE)."""
    call = _as_table_call(func, "join_lateral")
    resolved = call.resolve_table(child.scope())
    clash = {n.lower() for n in child.names} & {n.lower() for n in resolved.names}
    if clash:
        raise ValidationException(
            f"the table function's columns {sorted(clash)} repeat columns of the input: "
            f"alias them (.alias(...))")
    if left_outer and predicate is not None and not (
            isinstance(predicate, Literal) and predicate.value is True):
        raise ValidationException("Predicate for lateral left outer join with table function "
                                  "can only be empty or literal true.")
    condition = None
    if predicate is not None and not left_outer:
        if api and not _has_equi_predicate(predicate, child.names, resolved.names):
            raise ValidationException(f"Invalid join condition: {_flink_name(predicate)}. At "
                                      f"least one equi-join predicate is required.")
        scope = Scope(list(child.names) + resolved.names,
                      list(child.data_types) + resolved.data_types)
        condition = predicate.resolve(scope)
    return Correlate(child, resolved, left_outer, condition)


def flat_map_plan(child: PlanNode, func: Any) -> Correlate:
    """``flat_map``: the rows of a table function of each row, its columns only."""
    call = _as_table_call(func, "flat_map")
    return Correlate(child, call.resolve_table(child.scope()), keep_input=False)


def map_plan(child: PlanNode, func: Any) -> MapRow:
    """``map``: a scalar function of each row; a ROW result's fields are the columns."""
    from flink_py.table.expressions import UdfCall
    from flink_py.table.udf import UserDefinedScalarFunctionWrapper
    if isinstance(func, UserDefinedScalarFunctionWrapper):
        func = _call_of(func, False)
    if not isinstance(func, Expression):
        raise ValidationException(f"map expects a scalar function call, got {func!r}")
    resolved = func.resolve(child.scope())
    dt = resolved.data_type
    name = func.udf._name if isinstance(func, UdfCall) else repr(func)
    if isinstance(dt, t.RowType):
        return MapRow(child, resolved, dt.field_names(), dt.field_types(), True, name)
    return MapRow(child, resolved, [resolved.name or "_c0"], [dt], False, name)


def _result_columns(call: UdafCall) -> Tuple[List[str], List[t.DataType], bool]:
    """A UDAF/UDTAF's result columns: a ROW's fields (named by the call's aliases or the
    ROW's field names), else one column."""
    dt = call.udaf._result_type
    if isinstance(dt, t.RowType):
        names, types, expand = dt.field_names(), dt.field_types(), True
    else:
        names, types, expand = ["f0"], [dt], False
    if call.names is not None:
        if len(call.names) != len(types):
            raise ValidationException(
                f"List of column aliases must have same degree as table; the returned table "
                f"of function '{call!r}' has {len(types)} columns, whereas alias list has "
                f"{len(call.names)} columns")
        names = list(call.names)
    return names, types, expand


def _as_aggregate_call(func: Any, table_aggregate: bool, child: PlanNode) -> UdafCall:
    from flink_py.table.udf import UserDefinedAggregateFunctionWrapper
    what = "flat_aggregate" if table_aggregate else "aggregate"
    if isinstance(func, UserDefinedAggregateFunctionWrapper):
        # the function itself gets one Row of every column (keys included), as PyFlink
        # gives it over a table (over a projection PyFlink 2.3 passes the columns as
        # separate arguments instead, contrary to its documentation; not copied here)
        func = _call_of(func)
    from flink_py.table.expressions import NamedCall
    if isinstance(func, Alias) and isinstance(func.child, NamedCall):
        func = NamedCall(func.child.name, func.child.args, [func.name])
    if isinstance(func, NamedCall) and func.udaf_call() is not None:
        call = func.udaf_call()
        func = type(call)(call.udaf, call.args, func.alias_names)  # type: ignore[union-attr]
    if isinstance(func, Alias) and isinstance(func.child, UdafCall):
        func = type(func.child)(func.child.udaf, func.child.args, [func.name])
    kind = TableAggregateCall if table_aggregate else UdafCall
    if not isinstance(func, kind) or (not table_aggregate
                                      and isinstance(func, TableAggregateCall)):
        raise ValidationException(
            f"{what} expects a call of a {'table ' if table_aggregate else ''}aggregate "
            f"function ({'udtaf' if table_aggregate else 'udaf'}), got {func!r}")
    return func


def aggregate_call_plan(child: PlanNode, keys: Sequence[Expression], func: Any) -> PlanNode:
    """``[group_by(keys).]aggregate(f)``: the keys, then the UDAF result's fields."""
    call = _as_aggregate_call(func, False, child)
    scope = child.scope()
    resolved_keys = [k.resolve(scope) for k in keys]
    key_names = [r.name if r.name is not None else f"$f{i}"
                 for i, r in enumerate(resolved_keys)]
    names, types, expand = _result_columns(call)
    if call.names is None:
        # Flink names the unaliased call TMP_<n> (n counts the unaliased calls before it,
        # made unique among the input's columns) and its flattened fields TMP_<n>$field
        used = set(child.names)
        tmp = f"TMP_{sum(1 for k in keys if not isinstance(k, (ColumnRef, Alias)))}"
        i = 0
        while tmp in used:
            tmp, i = f"{tmp}_{i}", i + 1
        names = [f"{tmp}${n}" for n in names] if expand else [tmp]
    agg = GroupAggregate(child, resolved_keys, key_names, [UdafSpec(call, scope)], ["$agg0"])
    width = len(keys)
    exprs: List[Resolved] = [Resolved(k.data_type, (lambda row, i=i: row[i]), key_names[i])
                             for i, k in enumerate(resolved_keys)]
    if expand:
        for j, (n, dt) in enumerate(zip(names, types)):
            exprs.append(Resolved(dt, (lambda row, j=j: None if row[width] is None
                                       else row[width][j]), n))
    else:
        exprs.append(Resolved(types[0], lambda row: row[width], names[0]))
    return Project(agg, exprs, [e.name for e in exprs])  # type: ignore[misc]


def flat_aggregate_plan(child: PlanNode, keys: Sequence[Expression], func: Any) -> PlanNode:
    """``[group_by(keys).]flat_aggregate(f)``: the keys, then the emitted rows' columns."""
    call = _as_aggregate_call(func, True, child)
    scope = child.scope()
    resolved_keys = [k.resolve(scope) for k in keys]
    key_names = [r.name if r.name is not None else f"$f{i}"
                 for i, r in enumerate(resolved_keys)]
    names, types, _ = _result_columns(call)
    return TableAggregate(child, resolved_keys, key_names, UdafSpec(call, scope), names, types)


def _type_family(dt: t.DataType) -> str:
    """A type's family as Calcite's signature messages name it (``<CHARACTER>``)."""
    if isinstance(dt, t.VarCharType):
        return "CHARACTER"
    if isinstance(dt, (t._IntegerType, t.FloatType, t.DoubleType, t.DecimalType)):
        return "NUMERIC"
    return dt.sql_name


def lateral_join_plan(left: PlanNode, join: Any) -> PlanNode:
    """SQL's ``FROM t, LATERAL TABLE(f(...)) [AS s(a, b)]``, ``CROSS JOIN LATERAL
    TABLE(...)``, ``[INNER] JOIN LATERAL TABLE(...) ON cond`` and ``LEFT JOIN LATERAL
    TABLE(...) ON TRUE``: ``left`` correlated with the table function's rows; its columns
    are in scope as ``s.a`` (the function's own names without an alias list)."""
    from sqlglot import exp
    from flink_py.table.expressions import FUNCTION_CATALOG
    from flink_py.table.sql import FlinkDialect, to_expression
    from flink_py.table.udf import UserDefinedTableFunctionWrapper
    lateral = join.this
    table = lateral.this
    if not (isinstance(table, exp.Anonymous) and table.name.upper() == "TABLE"
            and len(table.expressions) == 1):
        raise TableException(f"{lateral.sql(dialect=FlinkDialect)!r} is not supported yet: "
                             f"expected LATERAL TABLE(function(...))")
    inner = table.expressions[0]
    if not isinstance(inner, exp.Anonymous):  # a built-in function of SQL, not a UDTF
        name = inner.sql_name() if isinstance(inner, exp.Func) else inner.sql()
        raise ValidationException(f"Function '{name.lower()}' cannot be used as a table "
                                  f"function.")
    args = [to_expression(e) for e in inner.expressions]
    function = FUNCTION_CATALOG.get().get(inner.name.lower())
    if function is None:
        types = [a.resolve(left.scope()).data_type for a in args]
        raise ValidationException(
            f"No match found for function signature {inner.name}"
            f"({', '.join('<' + _type_family(dt) + '>' for dt in types)})")
    if not isinstance(function, UserDefinedTableFunctionWrapper):
        raise ValidationException(f"Function '{inner.name}' cannot be used as a table "
                                  f"function.")
    alias = lateral.args.get("alias")
    qualifier = alias.name if alias is not None and alias.name else None
    names = [c.name for c in alias.columns] if alias is not None and alias.columns else None
    if names is not None and len(names) != len(function._result_types):
        raise ValidationException(
            f"List of column aliases must have same degree as table; the table function "
            f"{inner.name} has {len(function._result_types)} columns, whereas the alias "
            f"list has {len(names)} columns")
    call = TableFunctionCall(function, args, names).resolve_table(left.scope())
    left_outer = join.args.get("side") is not None and join.side.upper() == "LEFT"
    if join.side and join.side.upper() not in ("LEFT",):
        raise TableException(f"{join.side.upper()} JOIN LATERAL TABLE is not supported")
    on = join.args.get("on")
    predicate = to_expression(on) if on is not None else None
    if left_outer and not (isinstance(predicate, Literal) and predicate.value is True):
        raise TableException("Currently Python correlate does not support conditions in "
                             "left join.")
    left_qualified = left.qualified or [(None, n) for n in left.names]
    qualified = left_qualified + [(qualifier, n) for n in call.names]
    condition = None
    if predicate is not None and not left_outer:
        condition = predicate.resolve(Scope(list(left.names) + call.names,
                                            list(left.data_types) + call.data_types,
                                            qualified))
    node = Correlate(left, call, left_outer, condition)
    from flink_py.table.table import _unique
    node.names = _unique(node.names)  # a repeated name is still found as s.name
    node.qualified = qualified
    return node
