"""The logical plan of a Table and its translation onto DataStream operators.

A plan is a tree of :class:`PlanNode`; each node knows its output columns (names, types)
and whether its output is insert-only or an updating changelog. ``translate`` builds the
DataStream program: ``Values`` a collection source, ``Project`` a map, ``Filter`` a filter,
``GroupAggregate`` a keyed operator -- in streaming mode a keyed process function whose
accumulators are keyed ValueState (checkpointed like any DataStream state) and which emits
``+I`` for a new group and ``-U``/``+U`` when its result changes (nothing when it does not,
as Flink's GroupAggFunction); in batch mode a keyed reduce of accumulators, which BATCH
execution emits once per key at the end of input.

Records travel as tuples of column values; behind an updating node, as ``(kind, values)``
with ``kind`` a :class:`RowKind` value.
"""

from __future__ import annotations

import decimal

from typing import Any, Callable, List, Optional, Sequence, Tuple

from flink_py.common.types import RowKind
from flink_py.table import types as t
from flink_py.table.errors import TableException, ValidationException
from flink_py.table.expressions import Aggregate, Resolved, Scope, numeric_result_type

INSERT, UPDATE_BEFORE, UPDATE_AFTER, DELETE = (RowKind.INSERT.value,
                                               RowKind.UPDATE_BEFORE.value,
                                               RowKind.UPDATE_AFTER.value,
                                               RowKind.DELETE.value)


class PlanNode:
    """A node of the logical plan."""

    names: List[str]
    data_types: List[t.DataType]
    updating: bool = False
    inputs: Sequence["PlanNode"] = ()
    #: per column, the FROM relation's name or alias and the column's name there (SQL's
    #: ``alias.column``); None outside a FROM clause's scope
    qualified: Optional[List[Tuple[Optional[str], str]]] = None

    def scope(self) -> Scope:
        return Scope(self.names, self.data_types, self.qualified)

    def to_stream(self, env: Any, batch: bool) -> Any:
        """The DataStream of this node's records; nodes defined outside this module
        implement it (``translate`` handles the ones here)."""
        raise TableException(f"{type(self).__name__} cannot be translated")

    def explain(self, indent: int = 0) -> str:
        lines = ["  " * indent + self.describe()]
        for child in self.inputs:
            lines.append(child.explain(indent + 1))
        return "\n".join(lines)

    def describe(self) -> str:
        return type(self).__name__


class Values(PlanNode):
    def __init__(self, rows: List[tuple], names: List[str], data_types: List[t.DataType]
                 ) -> None:
        self.rows, self.names, self.data_types = rows, names, data_types

    def describe(self) -> str:
        return f"Values(tuples=[{len(self.rows)} rows], fields=[{', '.join(self.names)}])"


class CatalogSource(PlanNode):
    """A connector table read (``FROM src`` where ``src`` was made by DDL or a
    descriptor)."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.names, self.data_types = list(table.names), list(table.data_types)

    def describe(self) -> str:
        return f"TableSourceScan(table=[[{self.table.path.replace('.', ', ')}]])"


class StreamSource(PlanNode):
    """A DataStream as a table (``from_data_stream``)."""

    def __init__(self, stream: Any, names: List[str], data_types: List[t.DataType]) -> None:
        self.stream, self.names, self.data_types = stream, names, data_types

    def describe(self) -> str:
        return f"DataStreamScan(fields=[{', '.join(self.names)}])"


class Qualify(PlanNode):
    """A relation of a SQL ``FROM`` under its name or alias (``FROM t AS x``, ``(SELECT ...)
    AS s(a, b)``): its columns as ``x.column``, renamed when the alias lists names."""

    def __init__(self, child: PlanNode, qualifier: Optional[str],
                 names: Optional[Sequence[str]] = None) -> None:
        if names is not None and len(names) != len(child.names):
            raise ValidationException(
                f"List of column aliases must have same degree as table; table has "
                f"{len(child.names)} columns {child.names}, whereas alias list has "
                f"{len(names)} columns")
        self.inputs = (child,)
        self.names = list(names) if names is not None else list(child.names)
        self.data_types, self.updating = child.data_types, child.updating
        self.qualified = [(qualifier, n) for n in self.names]

    def describe(self) -> str:
        return self.inputs[0].describe()


class Project(PlanNode):
    def __init__(self, child: PlanNode, exprs: List[Resolved], names: List[str]) -> None:
        self.inputs = (child,)
        self.exprs, self.names = exprs, names
        self.data_types = [e.data_type for e in exprs]
        self.updating = child.updating

    def describe(self) -> str:
        return f"Project(fields=[{', '.join(self.names)}])"


class Filter(PlanNode):
    def __init__(self, child: PlanNode, condition: Resolved) -> None:
        if not isinstance(condition.data_type, (t.BooleanType, t.NullType)):
            raise ValidationException(
                f"A filter condition must be BOOLEAN, got '{condition.data_type.sql()}'")
        self.inputs = (child,)
        self.condition = condition
        self.names, self.data_types = child.names, child.data_types
        self.updating, self.qualified = child.updating, child.qualified


class Limit(PlanNode):
    """``OFFSET o FETCH n`` / ``LIMIT n`` without an order: the first rows that arrive."""

    def __init__(self, child: PlanNode, offset: int, fetch: Optional[int]) -> None:
        for what, value in (("OFFSET", offset), ("FETCH/LIMIT", fetch)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 0):
                raise ValidationException(f"{what} must be a non-negative integer, got "
                                          f"{value!r}")
        self.inputs = (child,)
        self.offset, self.fetch = offset, fetch
        self.names, self.data_types = child.names, child.data_types

    def describe(self) -> str:
        return f"Limit(offset=[{self.offset}], fetch=[{self.fetch}])"


class Sort(PlanNode):
    """``ORDER BY`` keys, then ``OFFSET``/``FETCH``: in batch mode only (a streaming sort
    needs a time attribute, which Flink requires first)."""

    def __init__(self, child: PlanNode, keys: List[Tuple[Resolved, bool, bool]],
                 offset: int = 0, fetch: Optional[int] = None) -> None:
        self.inputs = (child,)
        self.keys, self.offset, self.fetch = keys, offset, fetch
        self.names, self.data_types = child.names, child.data_types

    def describe(self) -> str:
        return (f"Sort(orderBy=[{len(self.keys)} keys], offset=[{self.offset}], "
                f"fetch=[{self.fetch}])")


class AggSpec:
    """One aggregate of a group aggregation: its function, its argument's evaluator (None for
    COUNT(*)) and the result type (Flink's: COUNT is BIGINT NOT NULL, SUM and AVG keep an
    integer argument's type, MIN/MAX the argument's)."""

    def __init__(self, call: Aggregate, scope: Scope) -> None:
        self.distinct = call.is_distinct
        self.function = call.function
        self.arg: Optional[Resolved] = call.arg.resolve(scope) if call.arg is not None else None
        arg_type = self.arg.data_type if self.arg is not None else None
        if self.function == "count":
            self.data_type: t.DataType = t.BigIntType(False)
        elif self.function in ("sum", "sum0", "avg"):
            if arg_type is None or not (isinstance(arg_type, (t._IntegerType, t.FloatType,
                                                              t.DoubleType, t.DecimalType))):
                raise ValidationException(
                    f"{self.function.upper()} expects a numeric argument, got "
                    f"'{arg_type.sql() if arg_type else '*'}'")
            if isinstance(arg_type, t.DecimalType):  # Flink's DECIMAL(38, s) / (38, max(6, s))
                from flink_py.table import decimals
                widened = decimals.avg_type(arg_type) if self.function == "avg" else \
                    decimals.sum_type(arg_type)
            else:
                widened = numeric_result_type(arg_type, arg_type)
            self.data_type = widened.nullable() if self.function != "sum0" else \
                widened.not_null()
        elif self.function in ("min", "max"):
            assert arg_type is not None
            self.data_type = arg_type.nullable()
            if isinstance(self.data_type, t.TimestampType):  # a time attribute's MIN is not one
                self.data_type = self.data_type.as_time_attribute(None)
        else:
            raise ValidationException(f"unknown aggregate function {self.function!r}")

    def describe(self) -> str:
        inner = "*" if self.arg is None else ("DISTINCT $" if self.distinct else "$")
        return f"{self.function.upper()}({inner})"


class GroupAggregate(PlanNode):
    """``GROUP BY keys`` with aggregates; output columns: the keys, then the aggregates."""

    def __init__(self, child: PlanNode, keys: List[Resolved], key_names: List[str],
                 aggs: List[AggSpec], agg_names: List[str]) -> None:
        # over an updating child it retracts (udf_plan): a UDAF without retract fails
        # when a retraction reaches it, as in PyFlink ("Method retract is not implemented")
        self.inputs = (child,)
        self.keys, self.aggs = keys, aggs
        self.names = key_names + agg_names
        self.data_types = [k.data_type for k in keys] + [a.data_type for a in aggs]
        self.updating = True

    def describe(self) -> str:
        return (f"GroupAggregate(groupBy=[{', '.join(self.names[:len(self.keys)])}], "
                f"select=[{', '.join(a.describe() for a in self.aggs)}])")


# -- accumulators ----------------------------------------------------------------------------

def _accumulate(specs: List[AggSpec]) -> Tuple[Callable[[tuple], list],
                                               Callable[[list, list], list],
                                               Callable[[list], tuple], list]:
    """(the accumulators of one row, the merge of two, the results of accumulators, the
    accumulators of no row -- the identity of the merge).

    Each accumulator is a value: COUNT an int; SUM/MIN/MAX the value or None (no non-NULL
    input yet); AVG a (sum, count) pair; a DISTINCT aggregate a dict of each distinct
    non-NULL value to how many rows had it.
    """
    args = [s.arg.evaluate if s.arg is not None else None for s in specs]
    functions = [s.function for s in specs]
    distinct = [s.distinct for s in specs]
    wraps = [_wrapper(s.data_type) for s in specs]
    integer = [isinstance(s.data_type, t._IntegerType) for s in specs]
    zero = [{} if d else (0 if fn in ("count", "sum0") else None)
            for fn, d in zip(functions, distinct)]

    def create(row: tuple) -> list:
        accs: list = []
        for fn, arg, d in zip(functions, args, distinct):
            v = arg(row) if arg is not None else 1
            if d:
                accs.append({} if v is None else {v: 1})
            elif fn == "count":
                accs.append(0 if v is None else 1)
            elif fn == "avg":
                accs.append(None if v is None else (v, 1))
            elif fn == "sum0":
                accs.append(0 if v is None else v)
            else:
                accs.append(v)
        return accs

    def merge(a: list, b: list) -> list:
        out = []
        for fn, x, y, wrap, d in zip(functions, a, b, wraps, distinct):
            if d:
                merged = dict(x)
                for v, n in y.items():
                    merged[v] = merged.get(v, 0) + n
                out.append(merged)
            elif fn == "count":
                out.append(x + y)
            elif x is None:
                out.append(y)
            elif y is None:
                out.append(x)
            elif fn in ("sum", "sum0"):
                out.append(wrap(x + y))
            elif fn == "min":
                out.append(x if x <= y else y)
            elif fn == "max":
                out.append(x if x >= y else y)
            else:  # avg
                out.append((x[0] + y[0], x[1] + y[1]))
        return out

    def average(total: Any, count: int, is_int: bool, wrap: Callable[[Any], Any]) -> Any:
        if is_int:  # Flink's AVG of an integer type is that type, truncated
            q = abs(total) // count
            return wrap(q if total >= 0 else -q)
        if isinstance(total, decimal.Decimal):  # rounded HALF_UP to the result's scale
            from flink_py.table import decimals
            return wrap(decimals.divide(total, decimal.Decimal(count)))
        return wrap(total / count)

    def results(accs: list) -> tuple:
        out = []
        for fn, acc, is_int, wrap, d in zip(functions, accs, integer, wraps, distinct):
            if d:
                values = list(acc)
                if fn == "count":
                    out.append(len(values))
                elif not values:
                    out.append(0 if fn == "sum0" else None)
                elif fn in ("sum", "sum0"):
                    out.append(wrap(sum(values)))
                elif fn == "min":
                    out.append(min(values))
                elif fn == "max":
                    out.append(max(values))
                else:
                    out.append(average(sum(values), len(values), is_int, wrap))
            elif fn == "avg" and acc is not None:
                out.append(average(acc[0], acc[1], is_int, wrap))
            else:
                out.append(acc)
        return tuple(out)
    return create, merge, results, zero


def _wrapper(dt: t.DataType) -> Callable[[Any], Any]:
    from flink_py.table.expressions import _wrap
    if isinstance(dt, (t._IntegerType, t.FloatType, t.DoubleType, t.DecimalType)):
        return _wrap(dt)
    return lambda v: v


def sources(node: PlanNode) -> List[PlanNode]:
    """The leaves of the plan."""
    if not node.inputs:
        return [node]
    return [leaf for child in node.inputs for leaf in sources(child)]


def translate(node: PlanNode, env: Any, batch: bool) -> Any:
    """The DataStream of ``node``'s records in ``env``."""
    if isinstance(node, Qualify):
        return translate(node.inputs[0], env, batch)
    if isinstance(node, Values):
        return env.from_collection(list(node.rows))
    if isinstance(node, CatalogSource):
        from flink_py.table.connectors import source_stream
        return source_stream(node.table, env, batch)
    if isinstance(node, StreamSource):
        from flink_py.table.conversions import to_values
        if node.stream.get_execution_environment() is not env:
            raise TableException("a table made from a DataStream runs in that stream's "
                                 "StreamExecutionEnvironment only")
        return node.stream.map(to_values)
    if isinstance(node, Project):
        stream = translate(node.inputs[0], env, batch)
        fns = [e.evaluate for e in node.exprs]
        udfs = [u for e in node.exprs for u in e.udfs]
        if node.updating:
            def project_change(kv: tuple) -> tuple:
                return (kv[0], tuple(f(kv[1]) for f in fns))
            return stream.map(_with_udfs(project_change, udfs, "map"))
        if len(fns) == 1:
            f0 = fns[0]

            def project_one(row: tuple) -> tuple:
                return (f0(row),)
            return stream.map(_with_udfs(project_one, udfs, "map"))

        def project_row(row: tuple) -> tuple:
            return tuple(f(row) for f in fns)
        return stream.map(_with_udfs(project_row, udfs, "map"))
    if isinstance(node, Filter):
        stream = translate(node.inputs[0], env, batch)
        cond = node.condition.evaluate
        udfs = list(node.condition.udfs)
        if node.updating:
            def keep_change(kv: tuple) -> bool:
                return cond(kv[1]) is True
            return stream.filter(_with_udfs(keep_change, udfs, "filter"))

        def keep(row: tuple) -> bool:
            return cond(row) is True
        return stream.filter(_with_udfs(keep, udfs, "filter"))
    if isinstance(node, GroupAggregate):
        return _translate_group_aggregate(node, env, batch)
    if isinstance(node, Limit):
        return _translate_limit(node, env, batch)
    if isinstance(node, Sort):
        return _translate_sort(node, env, batch)
    return node.to_stream(env, batch)


def sort_rows(rows: List[tuple], keys: List[Tuple[Callable[[tuple], Any], bool, bool]]
              ) -> List[tuple]:
    """``rows`` in the order of ``keys`` ((value of a row, ascending, NULLs first)): one
    stable sort per key, the last key first."""
    for value, ascending, nulls_first in reversed(keys):
        nulls = [r for r in rows if value(r) is None]
        others = sorted((r for r in rows if value(r) is not None), key=value,
                        reverse=not ascending)  # reverse keeps a sort stable
        rows = nulls + others if nulls_first else others + nulls
    return rows


def _insert_only(child: PlanNode, env: Any, batch: bool, what: str) -> Any:
    """The rows of ``child`` without row kinds: in batch mode an aggregation's rows are all
    final (+I); a streaming changelog is refused."""
    stream = translate(child, env, batch)
    if not child.updating:
        return stream
    if not batch:
        raise TableException(f"{what} over an updating (changelog) input in streaming mode "
                             f"is not supported yet")
    return stream.map(lambda change: change[1])


def _translate_sort(node: Sort, env: Any, batch: bool) -> Any:
    """All rows to one key; BATCH execution's reduce gives their list at the end of input,
    which is sorted and sliced."""
    if not batch:
        if node.fetch is not None:
            raise TableException("ORDER BY with LIMIT (Top-N) in streaming mode is not "
                                 "supported yet")
        first = node.keys[0][0].data_type if node.keys else None
        if getattr(first, "time_attribute", None) == "ROWTIME" and node.offset == 0:
            from flink_py.table.windows import temporal_sort_stream
            if node.keys[0][1]:  # Flink sorts a stream ascending on its rowtime only
                return temporal_sort_stream(node, env)
        raise TableException("Sort on a non-time-attribute field is not supported.")
    stream = _insert_only(node.inputs[0], env, batch, "ORDER BY")
    keys = [(r.evaluate, ascending, nulls_first) for r, ascending, nulls_first in node.keys]
    start = node.offset
    end = None if node.fetch is None else node.offset + node.fetch

    def gather(a: list, b: list) -> list:
        a.extend(b)
        return a

    def sorted_slice(rows: list) -> Any:
        return sort_rows(rows, keys)[start:end]

    return (stream.map(lambda row: [row]).key_by(lambda rows: 0).reduce(gather)
            .flat_map(sorted_slice))


def _translate_limit(node: Limit, env: Any, batch: bool) -> Any:
    """All rows to one subtask (one key); a count in keyed state (so a restored job goes on
    counting) lets through rows ``offset`` to ``offset + fetch``."""
    from flink_py.common.typeinfo import Types
    from flink_py.datastream.functions import KeyedProcessFunction
    from flink_py.datastream.state import ValueStateDescriptor
    if node.fetch is None and not batch:
        raise TableException("FETCH is missed, which on streaming table is not supported "
                             "currently.")
    stream = _insert_only(node.inputs[0], env, batch, "LIMIT/OFFSET")
    start = node.offset
    end = None if node.fetch is None else node.offset + node.fetch

    class LimitFunction(KeyedProcessFunction):
        def open(self, runtime_context: Any) -> None:
            self.seen = runtime_context.get_state(ValueStateDescriptor("seen", Types.LONG()))

        def process_element(self, row: tuple, ctx: Any) -> Any:
            seen = self.seen.value() or 0
            self.seen.update(seen + 1)
            if seen >= start and (end is None or seen < end):
                yield row

    return stream.key_by(lambda row: 0).process(LimitFunction())


def _with_udfs(fn: Callable[[Any], Any], udfs: List[Any], kind: str) -> Any:
    """``fn`` as is, or, when it calls UDFs, as a map/filter function that opens them before
    the first row and closes them at the end of the task."""
    if not udfs:
        return fn
    from flink_py.datastream.functions import FilterFunction, MapFunction
    from flink_py.table.udf import close_functions, open_functions

    class OpensUdfs:
        def open(self, runtime_context: Any) -> None:
            open_functions(udfs, runtime_context)

        def close(self) -> None:
            close_functions(udfs)

    class MapWithUdfs(OpensUdfs, MapFunction):
        def map(self, value: Any) -> Any:
            return fn(value)

    class FilterWithUdfs(OpensUdfs, FilterFunction):
        def filter(self, value: Any) -> bool:
            return fn(value)

    return MapWithUdfs() if kind == "map" else FilterWithUdfs()


def _translate_group_aggregate(node: GroupAggregate, env: Any, batch: bool) -> Any:
    from flink_py.table.udf_plan import has_udafs, translate_general_group_aggregate
    if node.inputs[0].updating or has_udafs(node.aggs):
        # UDAFs, or an input that retracts: accumulate/retract per row (udf_plan)
        return translate_general_group_aggregate(node, env, batch)
    stream = translate(node.inputs[0], env, batch)
    key_fns = [k.evaluate for k in node.keys]
    create, merge, results, zero = _accumulate(node.aggs)

    def key_of(row: tuple) -> tuple:
        return tuple(f(row) for f in key_fns)

    udfs = [u for k in node.keys for u in k.udfs] + [
        u for a in node.aggs if a.arg is not None for u in a.arg.udfs]
    if batch:
        def to_acc_of(row: tuple) -> tuple:
            return (key_of(row), create(row))
        to_acc = _with_udfs(to_acc_of, udfs, "map")

        def merge_accs(a: tuple, b: tuple) -> tuple:
            return (a[0], merge(a[1], b[1]))
        accumulators = stream.map(to_acc)
        if not key_fns:
            # a global aggregate gives one row in batch mode even over no input (COUNT 0,
            # the rest NULL): the accumulators of no row join the input, the merge's identity
            accumulators = accumulators.union(env.from_collection([((), zero)]))
        return (accumulators.key_by(lambda ka: ka[0]).reduce(merge_accs)
                .map(lambda ka: (INSERT, ka[0] + results(ka[1]))))

    from flink_py.datastream.functions import KeyedProcessFunction
    from flink_py.datastream.state import ValueStateDescriptor
    from flink_py.common.typeinfo import Types

    from flink_py.table.state_ttl import current_state_ttl, with_ttl
    ttl = current_state_ttl()

    class GroupAggFunction(KeyedProcessFunction):
        """Accumulators per group in keyed state; emits the group's changelog."""

        def open(self, runtime_context: Any) -> None:
            self.accs = runtime_context.get_state(with_ttl(
                ValueStateDescriptor("accumulators", Types.PICKLED_BYTE_ARRAY()), ttl))
            from flink_py.table.udf import open_functions
            open_functions(udfs, runtime_context)

        def close(self) -> None:
            from flink_py.table.udf import close_functions
            close_functions(udfs)

        def process_element(self, row: tuple, ctx: Any) -> Any:
            key = ctx.get_current_key()
            previous = self.accs.value()
            current = create(row) if previous is None else merge(previous, create(row))
            self.accs.update(current)
            after = key + results(current)
            if previous is None:
                yield (INSERT, after)
                return
            before = key + results(previous)
            if before != after:
                yield (UPDATE_BEFORE, before)
                yield (UPDATE_AFTER, after)

    return stream.key_by(key_of).process(GroupAggFunction())
