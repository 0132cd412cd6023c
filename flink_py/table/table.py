"""``Table`` and ``GroupedTable`` (``pyflink.table.Table``): relational operations that build
a logical plan (``planner``), run when ``execute()`` is called."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Optional, Sequence, Union

from flink_py.table import types as t
from flink_py.table.errors import ValidationException
from flink_py.table.expressions import Alias, ColumnRef, Expression, InputRef, Resolved, col
from flink_py.table.planner import Filter, GroupAggregate, Limit, PlanNode, Project, Sort

if TYPE_CHECKING:
    from flink_py.table.table_environment import TableEnvironment
    from flink_py.table.table_result import TableResult

__all__ = ["Table", "GroupedTable", "TableSchema", "AggregatedTable", "FlatAggregateTable"]

ExprLike = Union[Expression, str]


def _as_expression(e: ExprLike) -> Expression:
    if isinstance(e, Expression):
        return e
    if isinstance(e, str):
        return col(e.strip())
    raise ValidationException(f"expected an Expression or a column name, got {e!r}")


def project(child: PlanNode, exprs: Sequence[Expression], unnamed: str) -> Project:
    """A projection of ``exprs`` over ``child``; an expression without a name gets
    ``unnamed.format(i)`` (``_c{}`` for the Table API, ``EXPR${}`` for SQL)."""
    scope = child.scope()
    resolved = [e.resolve(scope) for e in exprs]
    names = [r.name if r.name is not None else
             (_api_cast_name(e) if unnamed == "_c{}" else None) or unnamed.format(i)
             for i, (e, r) in enumerate(zip(exprs, resolved))]
    return Project(child, resolved, _unique(names))


def _api_cast_name(e: Expression) -> Optional[str]:
    """The Table API names an unaliased cast of a column ``<column>-<TYPE>`` (seen in
    PyFlink 2.3: ``col('a').cast(DataTypes.BIGINT())`` is ``a-BIGINT``)."""
    from flink_py.table.expressions import Cast
    if isinstance(e, Cast) and isinstance(e.child, ColumnRef):
        return f"{e.child.name}-{e.data_type.sql()}"
    return None


def _unique(names: List[str]) -> List[str]:
    """The names, a repeated one suffixed with the first number that makes it unique."""
    taken = set(names)
    out: List[str] = []
    used: set = set()
    for n in names:
        if n not in used:
            used.add(n)
            out.append(n)
            continue
        i = 0
        while f"{n}{i}" in taken or f"{n}{i}" in used:
            i += 1
        used.add(f"{n}{i}")
        out.append(f"{n}{i}")
    return out


def aggregate_plan(child: PlanNode, keys: Sequence[Expression],
                   select: Sequence[Expression], unnamed: str) -> PlanNode:
    """``GROUP BY keys SELECT select``: a GroupAggregate of the keys and every aggregate
    call in ``select``, then the select's projection over them."""
    scope = child.scope()
    resolved_keys = [k.resolve(scope) for k in keys]
    key_names = [r.name if r.name is not None else f"$f{i}"
                 for i, r in enumerate(resolved_keys)]
    calls = []
    for e in select:
        calls += e.aggregates()
    from flink_py.table.udf_plan import agg_spec
    specs = [agg_spec(c, scope) for c in calls]
    agg = GroupAggregate(child, resolved_keys, key_names, specs,
                         [f"$agg{i}" for i in range(len(specs))])
    # the select's expressions over the aggregate's output: keys by name or expression,
    # each aggregate call by its position
    rewritten = [_rewrite(e, keys, resolved_keys, calls, len(keys), agg, scope)
                 for e in select]
    out = []
    for e, original in zip(rewritten, select):
        r = e.resolve(agg.scope())
        kept = Resolved(r.data_type, r.evaluate, original.name_hint())
        kept.expr, kept.input_names = r.expr, r.input_names  # for explain
        out.append(kept)
    names = [r.name if r.name is not None else unnamed.format(i) for i, r in enumerate(out)]
    if unnamed == "_c{}":
        names = _api_aggregate_names(select, rewritten, names, len(keys))
    return Project(agg, out, _unique(names))


def _api_aggregate_names(select: Sequence[Expression], rewritten: Sequence[Expression],
                         names: List[str], width: int) -> List[str]:
    """The Table API names an unaliased aggregate call of an aggregating select
    ``EXPR$<i>``, ``i`` its place among the items that are not grouping keys (seen in
    PyFlink 2.3: ``group_by(k).select(k, id.count, v.sum)`` is ``k, EXPR$0, EXPR$1``);
    another unnamed expression stays ``_c<position>``."""
    from flink_py.table.expressions import Aggregate
    out, place = list(names), 0
    for i, (e, r) in enumerate(zip(select, rewritten)):
        if isinstance(r, InputRef) and r.index < width:
            continue  # a grouping key
        if isinstance(e, Aggregate) and e.name_hint() is None:
            out[i] = f"EXPR${place}"
        place += 1
    return out


def _same_column(e: ColumnRef, k: ColumnRef, scope: Any) -> bool:
    """Whether two column references name the same input column (``a`` and ``t.a``)."""
    try:
        return (scope.index_of(e.name, None, e.qualifier)
                == scope.index_of(k.name, None, k.qualifier))
    except ValidationException:
        return False


def _rewrite(e: Expression, keys: Sequence[Expression], resolved_keys: List[Resolved],
             calls: List[Any], offset: int, agg: GroupAggregate, scope: Any) -> Expression:
    from flink_py.table.expressions import Aggregate, Call, Cast, NamedCall, UdfCall
    if isinstance(e, NamedCall) and e.udaf_call() is not None:
        e = e.udaf_call()  # type: ignore[assignment]
    for i, k in enumerate(keys):
        if e is k or (isinstance(e, ColumnRef) and isinstance(k, ColumnRef)
                      and _same_column(e, k, scope)) or (
                not isinstance(e, ColumnRef) and repr(e) == repr(k)):
            return InputRef(i, resolved_keys[i].data_type, resolved_keys[i].name)
    if isinstance(e, Aggregate):
        index = next(i for i, c in enumerate(calls) if c is e)
        return InputRef(offset + index, agg.data_types[offset + index])
    if isinstance(e, Alias):
        return Alias(_rewrite(e.child, keys, resolved_keys, calls, offset, agg, scope), e.name)
    if isinstance(e, Cast):
        return Cast(_rewrite(e.child, keys, resolved_keys, calls, offset, agg, scope), e.data_type)
    if isinstance(e, Call):
        return Call(e.function, [_rewrite(a, keys, resolved_keys, calls, offset, agg, scope)
                                 for a in e.args])
    if isinstance(e, (NamedCall, UdfCall)):  # a scalar UDF of keys and aggregates
        args = [_rewrite(a, keys, resolved_keys, calls, offset, agg, scope) for a in e.args]
        return NamedCall(e.name, args) if isinstance(e, NamedCall) else UdfCall(e.udf, args)
    if isinstance(e, ColumnRef):
        raise ValidationException(
            f"Expression '{e.name}' is not being grouped: select only grouping keys and "
            f"aggregates")
    return e


def sort_plan(child: PlanNode, keys: Sequence[Expression]) -> Sort:
    """``ORDER BY keys`` over ``child``."""
    from flink_py.table.expressions import Ordering
    scope = child.scope()
    resolved = []
    for k in keys:
        ordering = k if isinstance(k, Ordering) else Ordering(k, True)
        resolved.append((ordering.child.resolve(scope), ordering.ascending,
                         ordering.nulls_come_first))
    return Sort(child, resolved)


def limit_plan(child: PlanNode, offset: int, fetch: Optional[int]) -> PlanNode:
    """``OFFSET``/``FETCH`` over ``child``: part of its sort when it is one."""
    if isinstance(child, Sort) and child.offset == 0 and child.fetch is None:
        Limit(child.inputs[0], offset, fetch)  # checks the values
        return Sort(child.inputs[0], child.keys, offset, fetch)
    return Limit(child, offset, fetch)


def _column_name(f: ExprLike) -> str:
    if isinstance(f, str):
        return f.strip()
    if isinstance(f, ColumnRef):
        return f.name
    raise ValidationException(f"expected a column (col(name) or its name), got {f!r}")


def _column_names(e: Expression) -> set:
    """The names of the columns an expression refers to."""
    if isinstance(e, ColumnRef):
        return {e.name}
    names: set = set()
    for attr in ("child", "arg"):
        inner = getattr(e, attr, None)
        if isinstance(inner, Expression):
            names |= _column_names(inner)
    for inner in getattr(e, "args", None) or []:
        if isinstance(inner, Expression):
            names |= _column_names(inner)
    return names


class TableSchema:
    """A table's columns, as ``Table.get_schema()`` returns (PyFlink's ``TableSchema``)."""

    def __init__(self, names: Sequence[str], data_types: Sequence[t.DataType]) -> None:
        self._names, self._types = list(names), list(data_types)

    def get_field_names(self) -> List[str]:
        return list(self._names)

    def get_field_data_types(self) -> List[t.DataType]:
        return list(self._types)

    def get_field_count(self) -> int:
        return len(self._names)

    def get_field_data_type(self, field: Union[int, str]) -> Optional[t.DataType]:
        if isinstance(field, int):
            return self._types[field] if 0 <= field < len(self._types) else None
        return self._types[self._names.index(field)] if field in self._names else None

    def to_row_data_type(self) -> t.RowType:
        return t.RowType([t.RowField(n, dt) for n, dt in zip(self._names, self._types)])

    def __str__(self) -> str:
        lines = ["root"] + [f" |-- {n}: {dt.sql()}" for n, dt in zip(self._names, self._types)]
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return str(self)


class Table:
    """A relational table: the result of a query, built lazily; ``execute()`` runs it."""

    def __init__(self, plan: PlanNode, t_env: "TableEnvironment") -> None:
        self._plan = plan
        self._t_env = t_env

    # -- relational operations ---------------------------------------------------------------
    def select(self, *fields: ExprLike) -> "Table":
        """Projects the given expressions (aggregates are allowed without ``group_by``: a
        global aggregation)."""
        exprs = []
        for f in fields:  # col('*') is every column
            e = _as_expression(f)
            exprs += ([col(n) for n in self._plan.names]
                      if isinstance(e, ColumnRef) and e.name == "*" else [e])
        with self._t_env._functions_in_scope():
            if any(e.aggregates() for e in exprs):
                return Table(aggregate_plan(self._plan, [], exprs, "_c{}"), self._t_env)
            return Table(project(self._plan, exprs, "_c{}"), self._t_env)

    def filter(self, predicate: ExprLike) -> "Table":
        """The rows for which ``predicate`` is TRUE (not FALSE, not NULL)."""
        from flink_py.table.join import Join, where_plan
        with self._t_env._functions_in_scope():
            if isinstance(self._plan, Join):  # into the join's condition: its key
                return Table(where_plan(self._plan, _as_expression(predicate)), self._t_env)
            condition = _as_expression(predicate).resolve(self._plan.scope())
        return Table(Filter(self._plan, condition), self._t_env)

    where = filter

    def alias(self, field: str, *fields: str) -> "Table":
        """The same table with its columns renamed, in order."""
        names = [field, *fields]
        if len(names) != len(self._plan.names):
            raise ValidationException(
                f"Aliasing more fields than we actually have: {len(names)} names for "
                f"{len(self._plan.names)} columns")
        exprs = [Alias(col(old), new) for old, new in zip(self._plan.names, names)]
        return Table(project(self._plan, exprs, "_c{}"), self._t_env)

    def add_columns(self, *fields: ExprLike) -> "Table":
        """The table with the given expressions as new columns at its end."""
        exprs = [col(n) for n in self._plan.names] + [_as_expression(f) for f in fields]
        with self._t_env._functions_in_scope():
            table = Table(project(self._plan, exprs, "_c{}"), self._t_env)
        duplicates = set(self._plan.names) & set(table._plan.names[len(self._plan.names):])
        if len(table._plan.names) != len(set(table._plan.names)) or duplicates:
            raise ValidationException(f"add_columns: the new columns repeat existing names "
                                      f"{sorted(duplicates)}: use add_or_replace_columns")
        return table

    def add_or_replace_columns(self, *fields: ExprLike) -> "Table":
        """``add_columns``, except that a new column replaces an existing one of its name."""
        new = [_as_expression(f) for f in fields]
        new_names = [e.name_hint() for e in new]
        exprs: List[Expression] = []
        for name in self._plan.names:
            if name in new_names:
                exprs.append(new[new_names.index(name)])
            else:
                exprs.append(col(name))
        exprs += [e for e, n in zip(new, new_names) if n not in self._plan.names]
        with self._t_env._functions_in_scope():
            return Table(project(self._plan, exprs, "_c{}"), self._t_env)

    def drop_columns(self, *fields: ExprLike) -> "Table":
        """The table without the given columns."""
        names = [_column_name(f) for f in fields]
        for n in names:
            self._plan.scope().index_of(n)  # an unknown column is named
        dropped = {n.lower() for n in names}
        exprs = [col(n) for n in self._plan.names if n.lower() not in dropped]
        return Table(project(self._plan, exprs, "_c{}"), self._t_env)

    def rename_columns(self, *fields: Expression) -> "Table":
        """The table with columns renamed: ``col('a').alias('b')``, ..."""
        renames = {}
        for f in fields:
            if not isinstance(f, Alias) or not isinstance(f.child, ColumnRef):
                raise ValidationException(f"rename_columns expects col(name).alias(new), got "
                                          f"{f!r}")
            index = self._plan.scope().index_of(f.child.name)
            renames[self._plan.names[index]] = f.name
        exprs = [Alias(col(n), renames[n]) if n in renames else col(n)
                 for n in self._plan.names]
        return Table(project(self._plan, exprs, "_c{}"), self._t_env)

    def order_by(self, *fields: ExprLike) -> "Table":
        """The rows sorted by the given keys (``col('a').desc``; ascending by default);
        batch mode only, as in Flink without a time attribute."""
        with self._t_env._functions_in_scope():
            return Table(sort_plan(self._plan, [_as_expression(f) for f in fields]),
                         self._t_env)

    def limit(self, fetch: int, offset: int = 0) -> "Table":
        """The first ``fetch`` rows after ``offset``: of the order of a preceding
        ``order_by``, else in arrival order."""
        return Table(limit_plan(self._plan, offset, fetch), self._t_env)

    def fetch(self, fetch: int) -> "Table":
        return Table(limit_plan(self._plan, 0, fetch), self._t_env)

    def offset(self, offset: int) -> "Table":
        return Table(limit_plan(self._plan, offset, None), self._t_env)

    def distinct(self) -> "Table":
        """The table without duplicate rows."""
        from flink_py.table.sql import distinct_plan
        if self._plan.updating:
            raise ValidationException("distinct() of an updating table is not supported yet")
        return Table(distinct_plan(self._plan), self._t_env)

    def window(self, window: Any) -> Any:
        """Groups rows by a group window: ``window(Tumble.over(lit(5).seconds).on(col('ts'))
        .alias('w')).group_by(col('w'), ...).select(...)``."""
        from flink_py.table.window import GroupWindow, GroupWindowedTable
        if not isinstance(window, GroupWindow):
            raise ValidationException(f"window() expects a Tumble/Slide/Session window with "
                                      f"an alias, got {window!r}")
        return GroupWindowedTable(self, window)

    def over_window(self, *over_windows: Any) -> Any:
        """Defines over windows: ``over_window(Over.partition_by(col('a')).order_by(
        col('ts')).preceding(row_interval(2)).alias('w')).select(col('b').max.over(
        col('w')))``."""
        from flink_py.table.window import OverWindowedTable
        return OverWindowedTable(self, list(over_windows))

    # -- joins and set operations ------------------------------------------------------------
    def _join(self, right: "Table", join_predicate: Optional[ExprLike], join_type: str
              ) -> "Table":
        from flink_py.table.join import Join
        if not isinstance(right, Table):
            raise ValidationException(f"join expects a Table, got {right!r}")
        if right._t_env is not self._t_env:
            raise ValidationException("Only tables from the same TableEnvironment can be "
                                      "joined.")
        predicate = _as_expression(join_predicate) if join_predicate is not None else None
        clashes = [n for n in self._plan.names if n in set(right._plan.names)]
        if clashes:
            if predicate is not None:
                referenced = _column_names(predicate)
                for n in clashes:
                    if n in referenced:
                        raise ValidationException(f"Ambiguous column name: {n}")
            raise ValidationException(
                f"join relations with ambiguous names: [{', '.join(clashes)}]")
        with self._t_env._functions_in_scope():
            join = Join(self._plan, right._plan, join_type, predicate)
        if predicate is not None and not join.left_keys:
            from flink_py.table.join import flink_string
            raise ValidationException(f"Invalid join condition: {flink_string(predicate)}. "
                                      f"At least one equi-join predicate is required.")
        from flink_py.table.interval_join import time_join
        return Table(time_join(join), self._t_env)

    def join(self, right: "Table", join_predicate: Optional[ExprLike] = None) -> "Table":
        """The inner join with ``right`` on ``join_predicate`` (every pair without one; a
        ``where`` after it is the join's condition). The two tables may not share a column
        name: rename one side's first.

        Example:
        ::

            >>> left.join(right, col('a') == col('d')).select(col('a'), col('e'))
        """
        return self._join(right, join_predicate, "inner")

    def left_outer_join(self, right: "Table", join_predicate: Optional[ExprLike] = None
                        ) -> "Table":
        """The left outer join with ``right``: a left row without a match comes with
        NULLs for the right's columns."""
        return self._join(right, join_predicate, "left")

    def right_outer_join(self, right: "Table", join_predicate: ExprLike) -> "Table":
        """The right outer join with ``right`` on ``join_predicate``."""
        return self._join(right, join_predicate, "right")

    def full_outer_join(self, right: "Table", join_predicate: ExprLike) -> "Table":
        """The full outer join with ``right`` on ``join_predicate``."""
        return self._join(right, join_predicate, "full")

    def _set_operation(self, right: "Table", kind: str, all_: bool) -> "Table":
        from flink_py.table.join import set_operation_plan
        if not isinstance(right, Table):
            raise ValidationException(f"{kind} expects a Table, got {right!r}")
        if self._t_env._settings.is_streaming_mode() and not (kind == "union" and all_):
            # the Table API (unlike SQL) builds only UNION ALL on unbounded tables
            name = {"union": "UNION", "intersect": "INTERSECT", "except": "MINUS"}[kind]
            raise ValidationException(f"The {name} operation on two unbounded tables is "
                                      f"currently not supported.")
        return Table(set_operation_plan(self._plan, right._plan, kind, all_, False),
                     self._t_env)

    def union_all(self, right: "Table") -> "Table":
        """The rows of both tables, duplicates kept (the column names are this table's)."""
        return self._set_operation(right, "union", True)

    def union(self, right: "Table") -> "Table":
        """The distinct rows of both tables."""
        return self._set_operation(right, "union", False)

    def intersect(self, right: "Table") -> "Table":
        """The distinct rows that are in both tables."""
        return self._set_operation(right, "intersect", False)

    def intersect_all(self, right: "Table") -> "Table":
        """The rows in both tables, a row as often as it is in both."""
        return self._set_operation(right, "intersect", True)

    def minus(self, right: "Table") -> "Table":
        """The distinct rows of this table that are not in ``right`` (SQL's EXCEPT)."""
        return self._set_operation(right, "except", False)

    def minus_all(self, right: "Table") -> "Table":
        """The rows of this table, each as often as it is here more than in ``right``
        (SQL's EXCEPT ALL)."""
        return self._set_operation(right, "except", True)

    def group_by(self, *fields: ExprLike) -> "GroupedTable":
        """Groups the rows by the given keys; follow with ``select``."""
        return GroupedTable(self, [_as_expression(f) for f in fields])

    # -- table functions, map, aggregate functions (flink_py.table.udf_plan) ----------------
    def join_lateral(self, table_function_call: Any,
                     join_predicate: Optional[Expression] = None) -> "Table":
        """Each row joined with the rows a table function (``udtf``) gives for it, as SQL's
        inner join with ``LATERAL TABLE``; ``join_predicate`` must hold an equality of an
        input column and a function column. The function itself (``split.alias('a')``)
        takes the whole row as one Row argument."""
        return self._lateral(table_function_call, join_predicate, False)

    def left_outer_join_lateral(self, table_function_call: Any,
                                join_predicate: Optional[Expression] = None) -> "Table":
        """``join_lateral``, keeping a row for which the function gives no rows (its
        columns NULL); the predicate can only be empty or literal TRUE."""
        return self._lateral(table_function_call, join_predicate, True)

    def _lateral(self, call: Any, predicate: Optional[Expression], left_outer: bool
                 ) -> "Table":
        from flink_py.table.udf import UserDefinedTableFunctionWrapper
        from flink_py.table.udf_plan import correlate_plan
        if isinstance(call, UserDefinedTableFunctionWrapper) and not hasattr(
                call, "_alias_names"):
            raise AttributeError('table_function_call must be followed by a alias function'
                                 'e.g. table_function.alias("a", "b")')
        if isinstance(predicate, bool):
            from flink_py.table.expressions import lit
            predicate = lit(predicate)
        with self._t_env._functions_in_scope():
            return Table(correlate_plan(self._plan, call, predicate, left_outer),
                         self._t_env)

    def map(self, func: Any) -> "Table":
        """Each row to the result of a scalar function (``udf``) of it; a ROW result's
        fields become the columns. The function itself takes the whole row as a Row."""
        from flink_py.table.udf_plan import map_plan
        with self._t_env._functions_in_scope():
            return Table(map_plan(self._plan, func), self._t_env)

    def flat_map(self, func: Any) -> "Table":
        """Each row to the rows of a table function (``udtf``) of it, its columns only
        (``f0``, ``f1``, ... unless aliased)."""
        from flink_py.table.udf_plan import flat_map_plan
        with self._t_env._functions_in_scope():
            return Table(flat_map_plan(self._plan, func), self._t_env)

    def aggregate(self, func: Any) -> "AggregatedTable":
        """A global aggregation by an aggregate function (``udaf``); close it with
        ``select``. A ROW result's fields are the columns (named by ``alias(...)``)."""
        return GroupedTable(self, []).aggregate(func)

    def flat_aggregate(self, func: Any) -> "FlatAggregateTable":
        """A global table aggregation (``udtaf``); close it with ``select``."""
        return GroupedTable(self, []).flat_aggregate(func)

    # -- schema and execution ----------------------------------------------------------------
    def get_schema(self) -> TableSchema:
        return TableSchema(self._plan.names, self._plan.data_types)

    def print_schema(self) -> None:
        """Prints the schema as Flink does: ``(\\n  `a` BIGINT,\\n ...)``."""
        extras = getattr(self._plan, "schema_extras", None)  # a declared schema's details
        suffixes, lines = extras if extras is not None else ({}, [])
        columns = [f"  `{n}` {dt.sql()}{suffixes.get(n, '')}"
                   for n, dt in zip(self._plan.names, self._plan.data_types)]
        print("(\n" + ",\n".join(columns + [f"  {line}" for line in lines]) + "\n)")

    def explain(self, *extra_details: Any) -> str:
        """The abstract syntax tree of this table and its plans, as Flink prints them.

        :param extra_details: ``ExplainDetail`` values (``CHANGELOG_MODE`` adds each
            node's changelog mode).
        """
        from flink_py.table.explain import explain_plans
        return explain_plans(self._t_env, [self._plan], extra_details)

    def print_explain(self, *extra_details: Any) -> None:
        print(self.explain(*extra_details))

    def __getattr__(self, name: str) -> Expression:
        """A column as an expression (``table.a``), as PyFlink's Table gives it."""
        if name.startswith("_"):
            raise AttributeError(name)
        plan = self.__dict__.get("_plan")
        if plan is not None and name in plan.names:
            return col(name)
        raise AttributeError(f"'Table' object has no attribute '{name}' (and no column of "
                             f"that name)")

    def execute_insert(self, table_path_or_descriptor: Any, overwrite: bool = False
                       ) -> "TableResult":
        """Submits the job that writes this table's rows into a sink table (a path, or a
        ``TableDescriptor`` for an anonymous one); ``wait()`` on the result for its end."""
        if overwrite:
            from flink_py.table.errors import TableException
            raise TableException("INSERT OVERWRITE is not supported yet")
        path = table_path_or_descriptor
        if not isinstance(path, str):
            from flink_py.table.statement_set import anonymous_sink
            path = anonymous_sink(self._t_env, table_path_or_descriptor)
        return self._t_env._insert(path, self._plan)

    def execute(self) -> "TableResult":
        """Runs the query and returns its result (collect or print it)."""
        return self._t_env._execute_plan(self._plan)

    def __str__(self) -> str:
        """The table registered under a generated name, which SQL can then use
        (``t_env.sql_query("SELECT * FROM %s" % table)``), as PyFlink does."""
        return self._t_env._register_unnamed(self)


class GroupedTable:
    """A table grouped by keys (``Table.group_by``)."""

    def __init__(self, table: Table, keys: List[Expression]) -> None:
        self._table, self._keys = table, keys

    def select(self, *fields: ExprLike) -> Table:
        """The keys and aggregates per group."""
        exprs = [_as_expression(f) for f in fields]
        with self._table._t_env._functions_in_scope():
            plan = aggregate_plan(self._table._plan, self._keys, exprs, "_c{}")
        return Table(plan, self._table._t_env)

    def aggregate(self, func: Any) -> "AggregatedTable":
        """An aggregation of each group by an aggregate function (``udaf``): the keys, then
        its result's fields; close it with ``select``."""
        from flink_py.table.udf_plan import aggregate_call_plan
        with self._table._t_env._functions_in_scope():
            plan = aggregate_call_plan(self._table._plan, self._keys, func)
        return AggregatedTable(Table(plan, self._table._t_env))

    def flat_aggregate(self, func: Any) -> "FlatAggregateTable":
        """A table aggregation of each group (``udtaf``): the keys, then the columns of the
        rows the function emits; close it with ``select``."""
        from flink_py.table.udf_plan import flat_aggregate_plan
        with self._table._t_env._functions_in_scope():
            plan = flat_aggregate_plan(self._table._plan, self._keys, func)
        return FlatAggregateTable(Table(plan, self._table._t_env))


class AggregatedTable:
    """The result of ``aggregate``: its keys and the aggregate's columns, to ``select``
    from."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def select(self, *fields: ExprLike) -> Table:
        """Expressions of the keys and the aggregate's columns (no further aggregates)."""
        return self._table.select(*fields)


class FlatAggregateTable(AggregatedTable):
    """The result of ``flat_aggregate``: its keys and the emitted rows' columns."""
