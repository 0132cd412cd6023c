"""SQL on sqlglot: Flink's dialect of it, and the translation of a parsed query into the
Table API's expressions and plan nodes.

sqlglot (a well-kept SQL parser with dialects) parses; ``FlinkDialect`` sets Flink's
lexical rules (backtick identifiers, single-quoted strings). What is translated so far:
``SELECT [*,] expressions FROM table [WHERE ...] [GROUP BY ...] [HAVING ...]`` with
arithmetic, comparisons, ``AND``/``OR``/``NOT``, ``IS [NOT] NULL``, ``CASE``, ``CAST``,
``||``, ``UPPER``/``LOWER``/``CHAR_LENGTH``/``ABS``/``COALESCE``/``CONCAT`` and the aggregates
``COUNT``, ``SUM``, ``MIN``, ``MAX``, ``AVG``; Flink's built-in string, math, conditional and
JSON functions (``sql_functions`` translates sqlglot's nodes of them and parses the JSON
functions' clauses). An exact numeric literal (``1.5``) is DECIMAL. Anything else is refused with a
``TableException`` that names it, never run with other semantics.
"""

from __future__ import annotations

import decimal
from typing import Any, Callable, List, Optional

import sqlglot
from sqlglot import exp, tokens
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError

from flink_py.table import decimals
from flink_py.table import types as t
from flink_py.table.errors import SqlParserException, TableException, ValidationException
from flink_py.table.expressions import (Aggregate, Alias, Call, Cast, ColumnRef, Expression,
                                        Literal, NamedCall)
from flink_py.table.planner import Filter, PlanNode
from flink_py.table.sql_functions import FlinkParser
from flink_py.table.sql_functions import translate as translate_builtin

__all__ = ["FlinkDialect", "parse_statement", "query_plan"]


class FlinkDialect(Dialect):
    """Flink SQL's lexical rules for sqlglot."""

    NULL_ORDERING = "nulls_are_large"  # ASC puts NULLs last, DESC first

    class Tokenizer(tokens.Tokenizer):
        IDENTIFIERS = ["`"]
        QUOTES = ["'"]

    Parser = FlinkParser  # with Flink's JSON function clauses


def parse_statement(statement: str) -> exp.Expression:
    """One statement parsed; a syntax error raises SqlParserException naming line and
    column."""
    try:
        parsed = sqlglot.parse(statement, read=FlinkDialect)
    except ParseError as exc:
        error = exc.errors[0] if exc.errors else {}
        line, column = error.get("line", 1), error.get("col", 1)
        near = error.get("highlight") or ""
        raise SqlParserException(
            f"SQL parse failed. Encountered \"{near}\" at line {line}, column "
            f"{max(1, column - len(near) + 1)}.\n{error.get('description', str(exc))}"
        ) from None
    except TokenError as exc:
        raise SqlParserException(f"SQL parse failed. {exc}") from None
    statements = [p for p in parsed if p is not None]
    if len(statements) != 1:
        raise SqlParserException(
            f"expected one SQL statement, got {len(statements)}: use a StatementSet or "
            f"execute them one by one")
    return statements[0]


_BINARY = {
    exp.Add: "plus", exp.Sub: "minus", exp.Mul: "times", exp.Div: "divide", exp.Mod: "mod",
    exp.EQ: "equals", exp.NEQ: "not_equals", exp.LT: "less_than",
    exp.LTE: "less_than_or_equal", exp.GT: "greater_than", exp.GTE: "greater_than_or_equal",
    exp.And: "and", exp.Or: "or", exp.DPipe: "concat",
}
_AGGREGATES = {exp.Count: "count", exp.Sum: "sum", exp.Min: "min", exp.Max: "max",
               exp.Avg: "avg"}
_FUNCTIONS = {exp.Upper: "upper", exp.Lower: "lower", exp.Length: "char_length",
              exp.Abs: "abs"}
_TYPES: dict = {
    "BOOLEAN": t.BooleanType, "TINYINT": t.TinyIntType, "SMALLINT": t.SmallIntType,
    "INT": t.IntType, "BIGINT": t.BigIntType, "FLOAT": t.FloatType, "DOUBLE": t.DoubleType,
    "TEXT": t.VarCharType, "VARCHAR": t.VarCharType, "CHAR": t.CharType, "DATE": t.DateType,
}


def _data_type(node: exp.DataType) -> t.DataType:
    name = node.this.name if hasattr(node.this, "name") else str(node.this)
    params = [int(p.name) for p in node.expressions if p.name.isdigit()]
    if name == "DECIMAL":
        return t.DecimalType(*params) if params else t.DecimalType()
    if name in ("TIMESTAMP", "DATETIME"):
        return t.TimestampType(*params) if params else t.TimestampType()
    factory = _TYPES.get(name)
    if factory is None:
        raise TableException(f"the SQL type {node.sql()} is not supported yet")
    if factory in (t.VarCharType, t.CharType) and params:
        return factory(params[0])
    return factory()


def position(node: exp.Expression) -> Optional[str]:
    """Where ``node``'s token is in the statement, as Flink's validation errors say it:
    ``At line 1, column 8`` or ``From line 1, column 16 to line 1, column 19``."""
    meta = node.meta
    if not meta or "line" not in meta:
        return None
    line, end = meta["line"], meta["col"]
    start = end - (meta.get("end", 0) - meta.get("start", 0))
    if start == end:
        return f"At line {line}, column {end}"
    return f"From line {line}, column {start} to line {line}, column {end}"


def _number(text: str) -> Literal:
    """A numeric literal: DOUBLE with an exponent, DECIMAL of the digits written with a
    point, else INT or BIGINT (Calcite's types)."""
    if "e" in text.lower():
        return Literal(float(text))
    if "." in text:
        return Literal(decimal.Decimal(text), decimals.sql_literal_type(text))
    if not -2 ** 63 <= int(text) < 2 ** 63:
        raise ValidationException(f"Numeric literal '{text}' out of range")
    return Literal(int(text))


def to_expression(node: exp.Expression) -> Expression:
    """A parsed SQL expression as a Table API expression."""
    if isinstance(node, exp.Paren):
        return to_expression(node.this)
    if isinstance(node, exp.Column):  # qualified or not: one table per query so far
        return ColumnRef(node.name, position(node.this))
    if isinstance(node, exp.Literal):
        if node.is_string:
            return Literal(node.this)
        return _number(node.this)
    if isinstance(node, exp.Boolean):
        return Literal(bool(node.this))
    if isinstance(node, exp.Null):
        return Literal(None)
    if isinstance(node, exp.Alias):
        return Alias(to_expression(node.this), node.alias)
    if isinstance(node, exp.Neg):
        inner = node.this
        if isinstance(inner, exp.Literal) and not inner.is_string:  # -2147483648 is an INT
            return _number("-" + inner.this)
        return Call("minus_prefix", [to_expression(inner)])
    if isinstance(node, exp.Not):
        inner = node.this
        if isinstance(inner, exp.Is) and isinstance(inner.expression, exp.Null):
            return Call("is_not_null", [to_expression(inner.this)])
        return Call("not", [to_expression(inner)])
    if isinstance(node, exp.Is):
        if isinstance(node.expression, exp.Null):
            return Call("is_null", [to_expression(node.this)])
        if isinstance(node.expression, exp.Boolean):
            return Call("is_true" if node.expression.this else "is_false",
                        [to_expression(node.this)])
    builtin = translate_builtin(node, to_expression)
    if builtin is not None:
        return builtin
    for kind, name in _BINARY.items():
        if type(node) is kind:
            return Call(name, [to_expression(node.this), to_expression(node.expression)])
    for kind, name in _AGGREGATES.items():
        if type(node) is kind:
            arg = node.this
            distinct = isinstance(arg, exp.Distinct)
            if distinct:
                if len(arg.expressions) != 1:
                    raise TableException(f"{name.upper()}(DISTINCT ...) of several "
                                         f"expressions is not supported yet")
                arg = arg.expressions[0]
            if isinstance(arg, exp.Star):
                return Aggregate("count", None, distinct)
            return Aggregate(name, to_expression(arg), distinct)
    for kind, name in _FUNCTIONS.items():
        if type(node) is kind:
            return Call(name, [to_expression(node.this)])
    if isinstance(node, exp.Coalesce):
        return Call("coalesce", [to_expression(node.this)]
                    + [to_expression(e) for e in node.expressions])
    if isinstance(node, exp.Concat):
        return Call("concat", [to_expression(e) for e in node.expressions])
    if isinstance(node, exp.Case):
        if node.this is not None:  # CASE x WHEN v THEN ...: a comparison per branch
            subject = to_expression(node.this)
            args: List[Expression] = []
            for branch in node.args.get("ifs", []):
                args += [Call("equals", [subject, to_expression(branch.this)]),
                         to_expression(branch.args["true"])]
        else:
            args = []
            for branch in node.args.get("ifs", []):
                args += [to_expression(branch.this), to_expression(branch.args["true"])]
        default = node.args.get("default")
        if default is not None:
            args.append(to_expression(default))
        return Call("case", args)
    if isinstance(node, exp.If):
        return Call("case", [to_expression(node.this), to_expression(node.args["true"]),
                             to_expression(node.args["false"]) if node.args.get("false")
                             else Literal(None)])
    if isinstance(node, exp.Cast):
        return Cast(to_expression(node.this), _data_type(node.to))
    if isinstance(node, exp.Anonymous):  # a function sqlglot does not know: a UDF's call
        return NamedCall(node.name, [to_expression(e) for e in node.expressions])
    raise TableException(f"the SQL expression {node.sql(dialect=FlinkDialect)!r} is not "
                         f"supported yet")


_TRANSLATED_CLAUSES = {"expressions", "from_", "from", "where", "group", "having", "order",
                       "limit", "offset", "distinct", "kind"}


def query_plan(select: exp.Expression, lookup: Callable[[str], PlanNode]) -> PlanNode:
    """The plan of a ``SELECT``; ``lookup`` gives a registered table's plan by name."""
    limit, offset = select.args.get("limit"), select.args.get("offset")
    order = select.args.get("order")
    if isinstance(limit, exp.Limit) and limit.args.get("expressions"):
        raise TableException("LIMIT ... BY is not supported")
    if limit is not None or offset is not None or order is not None:
        from flink_py.table.table import limit_plan, sort_plan
        from flink_py.table.expressions import Ordering
        inner = select.copy()
        inner.set("limit", None)
        inner.set("offset", None)
        inner.set("order", None)
        plan = query_plan(inner, lookup)
        if order is not None:
            keys = []
            for o in order.expressions:
                key = to_expression(o.this)  # a column of the query's output
                keys.append(Ordering(key, not o.args.get("desc"),
                                     bool(o.args.get("nulls_first"))))
            plan = sort_plan(plan, keys)
        fetch = None
        if limit is not None:
            count = limit.args.get("count") if isinstance(limit, exp.Fetch) else limit.expression
            fetch = _integer(count, "LIMIT")
        skip = _integer(offset.expression, "OFFSET") if offset is not None else 0
        if limit is None and offset is None:
            return plan
        return limit_plan(plan, skip, fetch)
    from flink_py.table.table import aggregate_plan, project
    if not isinstance(select, exp.Select):
        raise TableException(f"only SELECT queries are supported yet, got "
                             f"{type(select).__name__.upper()}")
    for clause, value in select.args.items():
        if value and clause not in _TRANSLATED_CLAUSES:
            # a clause we do not translate is refused, never dropped (JOIN, WINDOW, WITH,
            # other dialects' SORT BY, QUALIFY, PIVOT, ...)
            raise TableException(f"{clause.rstrip('_').upper()} in a query is not supported "
                                 f"yet")
    source_node = select.args.get("from_") or select.args.get("from")
    if source_node is not None:
        for extra, value in source_node.this.args.items():
            if value and extra not in ("this", "db", "catalog", "alias"):
                raise TableException(f"{extra.rstrip('s').upper()} on a table in FROM is "
                                     f"not supported yet")
    group_node = select.args.get("group")
    if group_node is not None:
        for extra, value in group_node.args.items():
            if value and extra != "expressions":
                raise TableException(f"GROUP BY ... {extra.upper()} is not supported yet")
    source = select.args.get("from_") or select.args.get("from")
    if source is None:
        raise TableException("a SELECT without FROM is not supported yet")
    table = source.this
    if not isinstance(table, exp.Table):
        raise TableException("a subquery in FROM is not supported yet")
    path = ".".join(p for p in (table.catalog, table.db, table.name) if p)
    try:
        plan = lookup(path)
    except ValidationException:
        where_ = position(table.this)
        raise ValidationException(f"{where_ + ': ' if where_ else ''}Object '{path}' not "
                                  f"found") from None
    where = select.args.get("where")
    if where is not None:
        plan = Filter(plan, to_expression(where.this).resolve(plan.scope()))
    items: List[Expression] = []
    for e in select.expressions:
        if isinstance(e, exp.Star):
            items += [ColumnRef(n) for n in plan.names]
        else:
            items.append(to_expression(e))
    group = select.args.get("group")
    having = select.args.get("having")
    keys = [to_expression(g) for g in group.expressions] if group is not None else []
    if keys or any(i.aggregates() for i in items) or having is not None:
        having_expr: Optional[Expression] = (to_expression(having.this)
                                             if having is not None else None)
        if having_expr is not None:
            items_with_having = items + [having_expr]
            grouped = aggregate_plan(plan, keys, items_with_having, "EXPR${}")
            condition = grouped.exprs[-1]  # type: ignore[attr-defined]
            from flink_py.table.expressions import InputRef
            width = len(items)
            filtered = Filter(grouped, type(condition)(
                condition.data_type, lambda row, i=width: row[i]))
            return project(filtered, [InputRef(i, filtered.data_types[i], filtered.names[i])
                                      for i in range(width)], "EXPR${}")
        if select.args.get("distinct"):
            raise TableException("SELECT DISTINCT over an aggregation is not supported yet")
        return aggregate_plan(plan, keys, items, "EXPR${}")
    projected = project(plan, items, "EXPR${}")
    if select.args.get("distinct"):
        return distinct_plan(projected)
    return projected


def _integer(node: Optional[exp.Expression], what: str) -> int:
    if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit():
        return int(node.this)
    raise TableException(f"{what} must be an integer literal, got "
                         f"{node.sql() if node is not None else None}")


def catalog_table_of(create: exp.Create, qualified: Callable[[str], str]) -> Any:
    """The connector table a ``CREATE TABLE name (columns) WITH (options)`` defines."""
    from flink_py.table.catalog import CatalogTable
    schema = create.this
    if not isinstance(schema, exp.Schema):
        raise TableException("CREATE TABLE ... AS / LIKE is not supported yet")
    table = schema.this
    path = ".".join(p for p in (table.catalog, table.db, table.name) if p)
    names: List[str] = []
    data_types: List[t.DataType] = []
    for column in schema.expressions:
        if not isinstance(column, exp.ColumnDef):
            raise TableException(f"{column.sql(dialect=FlinkDialect)!r} in CREATE TABLE is "
                                 f"not supported yet (computed and metadata columns, "
                                 f"constraints, watermarks)")
        if column.args.get("kind") is None:
            raise TableException(f"column {column.name!r} has no type (computed columns are "
                                 f"not supported yet)")
        dt = _data_type(column.args["kind"])
        for constraint in column.args.get("constraints") or []:
            if isinstance(constraint.kind, exp.NotNullColumnConstraint):
                dt = dt.not_null()
            else:
                raise TableException(f"the constraint {constraint.sql()} of column "
                                     f"{column.name!r} is not supported yet")
        if column.name in names:
            raise ValidationException(f"A column named '{column.name}' already exists in the "
                                      f"table")
        names.append(column.name)
        data_types.append(dt)
    options: dict = {}
    properties = create.args.get("properties")
    for prop in (properties.expressions if properties is not None else []):
        if isinstance(prop, exp.TemporaryProperty):
            continue
        if not isinstance(prop, exp.Property):
            raise TableException(f"{prop.sql(dialect=FlinkDialect)!r} in CREATE TABLE is not "
                                 f"supported yet")
        key = prop.this.this if isinstance(prop.this, exp.Literal) else prop.name
        value = prop.args["value"]
        options[str(key)] = value.this if isinstance(value, exp.Literal) else value.sql()
    return CatalogTable(qualified(path), names, data_types, options)


def distinct_plan(plan: PlanNode) -> PlanNode:
    """``SELECT DISTINCT``: a group aggregation by every column, without aggregates."""
    from flink_py.table.table import aggregate_plan
    refs: List[Expression] = [ColumnRef(n) for n in plan.names]
    return aggregate_plan(plan, refs, refs, "EXPR${}")
