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
from sqlglot.tokens import TokenType

from flink_py.table import decimals
from flink_py.table import types as t
from flink_py.table.errors import SqlParserException, TableException, ValidationException
from flink_py.table.expressions import (Aggregate, Alias, Call, Cast, ColumnRef, Expression,
                                        InputRef, Literal, NamedCall)
from flink_py.table.planner import Filter, PlanNode, Qualify
from flink_py.table.sql_functions import FlinkParser
from flink_py.table.sql_functions import translate as translate_builtin

__all__ = ["FlinkDialect", "parse_statement", "query_plan"]


#: Flink's windowing table-valued functions (and the legacy group-window functions of the
#: same names): their arguments may be ``TABLE t [PARTITION BY ...]`` and ``name => value``
WINDOW_FUNCTIONS = ("TUMBLE", "HOP", "CUMULATE", "SESSION")


class FlinkDialect(Dialect):
    """Flink SQL's lexical rules for sqlglot, and the argument syntax of its window
    table-valued functions."""

    NULL_ORDERING = "nulls_are_large"  # ASC puts NULLs last, DESC first

    class Tokenizer(tokens.Tokenizer):
        IDENTIFIERS = ["`"]
        QUOTES = ["'"]
        # SESSION is a window function in Flink, not a keyword
        KEYWORDS = {k: v for k, v in tokens.Tokenizer.KEYWORDS.items() if k != "SESSION"}

    class Parser(FlinkParser):  # with Flink's JSON function clauses
        def _parse_window_function_args(self, name: str) -> exp.Expression:
            """``TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '5' SECOND)``, with arguments
            by position or as ``DATA => TABLE t, TIMECOL => DESCRIPTOR(ts), ...``."""
            args: List[exp.Expression] = []
            while True:
                keyword = None
                if (self._next is not None and self._next.token_type == TokenType.FARROW
                        and self._curr is not None):
                    keyword = self._curr.text.upper()
                    self._advance(2)
                if self._match(TokenType.TABLE):
                    value: exp.Expression = self._parse_table_parts()
                    if self._match(TokenType.PARTITION_BY):
                        if self._match(TokenType.L_PAREN):
                            keys = self._parse_csv(self._parse_column)
                            self._match_r_paren()
                        else:
                            keys = [self._parse_column()]
                        value.set("partition_by", keys)
                else:
                    value = self._parse_lambda()
                args.append(exp.Kwarg(this=exp.var(keyword), expression=value)
                            if keyword else value)
                if not self._match(TokenType.COMMA):
                    break
            return exp.Anonymous(this=name, expressions=args)

        def _parse_watermark(self) -> exp.Expression:
            """``WATERMARK FOR <column> AS <expression>`` in CREATE TABLE."""
            self._match(TokenType.FOR)
            column = self._parse_column()
            self._match(TokenType.ALIAS)
            return self.expression(exp.WatermarkColumnConstraint(
                this=column, expression=self._parse_disjunction()))

        def _parse_timestamp_literal(self, this: exp.Expression, data_type: exp.DataType
                                     ) -> exp.Expression:
            """``TIMESTAMP '2024-01-01 10:00:00.5'``: a cast marked as a typed literal,
            whose precision is its fraction's digits (Calcite's rule)."""
            cast = self.expression(exp.Cast(this=this, to=data_type))
            cast.meta["typed_literal"] = True
            return cast

        TYPE_LITERAL_PARSERS = {
            **FlinkParser.TYPE_LITERAL_PARSERS,
            exp.DType.TIMESTAMP: lambda self, this, data_type:
                self._parse_timestamp_literal(this, data_type)}

        CONSTRAINT_PARSERS = {**FlinkParser.CONSTRAINT_PARSERS,
                              "WATERMARK": lambda self: self._parse_watermark()}
        SCHEMA_UNNAMED_CONSTRAINTS = {*FlinkParser.SCHEMA_UNNAMED_CONSTRAINTS, "WATERMARK"}

        FUNCTION_PARSERS = {
            **FlinkParser.FUNCTION_PARSERS,
            **{name: (lambda self, name=name: self._parse_window_function_args(name))
               for name in WINDOW_FUNCTIONS}}


def parse_expression(text: str) -> Expression:
    """A SQL expression (a computed column's, a watermark's) as a Table API expression."""
    try:
        node = sqlglot.parse_one(text, read=FlinkDialect)
    except (ParseError, TokenError) as exc:
        raise SqlParserException(f"SQL parse failed. Invalid expression {text!r}: "
                                 f"{exc}") from None
    return to_expression(node)


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
_DATE_PARTS = {exp.Year: "year", exp.Month: "month", exp.Day: "dayofmonth",
               exp.DayOfMonth: "dayofmonth", exp.Hour: "hour", exp.Minute: "minute",
               exp.Second: "second"}
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
    if name == "TIMESTAMPLTZ":  # TIMESTAMP_LTZ(p), TIMESTAMP(p) WITH LOCAL TIME ZONE
        return t.LocalZonedTimestampType(*params) if params else t.LocalZonedTimestampType()
    factory = _TYPES.get(name)
    if factory is None:
        raise TableException(f"the SQL type {node.sql()} is not supported yet")
    if factory in (t.VarCharType, t.CharType) and params:
        return factory(params[0])
    return factory()


#: functions Flink's serialized schema prints bare (Calcite's and the planner's own
#: operators); a function of the newer built-in stack prints as a quoted identifier
_BARE_FUNCTIONS = {"PROCTIME", "SOURCE_WATERMARK", "CURRENT_TIMESTAMP", "LOCALTIMESTAMP",
                   "NOW", "UPPER", "LOWER", "ABS", "COALESCE", "CAST", "CHAR_LENGTH",
                   "SUBSTRING", "TRIM", "CONCAT"}
_SQL_OPERATORS = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.Mod: "%",
                  exp.EQ: "=", exp.NEQ: "<>", exp.LT: "<", exp.LTE: "<=", exp.GT: ">",
                  exp.GTE: ">=", exp.And: "AND", exp.Or: "OR", exp.DPipe: "||"}


def flink_sql_text(expression: Any) -> str:
    """An expression as Flink's serialized schema prints it (``print_schema`` of a table
    with computed columns or a watermark): identifiers quoted, ``TO_TIMESTAMP_LTZ`` as
    `` `TO_TIMESTAMP_LTZ`(`id` * 1700000, 3)``, ``ts - INTERVAL '1' SECOND``."""
    if not isinstance(expression, str):
        return repr(expression)
    try:
        node = sqlglot.parse_one(expression, read=FlinkDialect)
    except (ParseError, TokenError):
        return expression
    return _unparse(node)


def _unparse(node: exp.Expression) -> str:
    if isinstance(node, exp.Paren):
        return f"({_unparse(node.this)})"
    if isinstance(node, exp.Column):
        return ".".join(f"`{part}`" for part in (node.table, node.name) if part)
    if isinstance(node, exp.Literal):
        return f"'{node.this}'" if node.is_string else str(node.this)
    if isinstance(node, exp.Interval):
        amount = node.this.this if isinstance(node.this, exp.Literal) else node.this.sql()
        return f"INTERVAL '{amount}' {node.unit.name.upper() if node.unit else 'SECOND'}"
    if isinstance(node, exp.Cast):
        return f"CAST({_unparse(node.this)} AS {_data_type(node.to).sql()})"
    for kind, symbol in _SQL_OPERATORS.items():
        if type(node) is kind:
            return f"{_unparse(node.this)} {symbol} {_unparse(node.expression)}"
    if isinstance(node, exp.Func):
        name = node.name.upper() if isinstance(node, exp.Anonymous) else node.sql_name()
        args = node.expressions if isinstance(node, exp.Anonymous) else [
            a for a in node.args.values() if isinstance(a, exp.Expression)]
        text = ", ".join(_unparse(a) for a in args)
        return f"{name}({text})" if name in _BARE_FUNCTIONS else f"`{name}`({text})"
    return node.sql(dialect=FlinkDialect)


def sql_type(text: str) -> Optional[t.DataType]:
    """The DataType of a SQL type's text (``TIMESTAMP_LTZ(3)``), None when it is not one."""
    try:
        node = sqlglot.parse_one(f"CAST(NULL AS {text})", read=FlinkDialect)
    except (ParseError, TokenError):
        return None
    if not isinstance(node, exp.Cast):
        return None
    try:
        return _data_type(node.to)
    except TableException:
        return None


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
    if isinstance(node, exp.Column):
        return ColumnRef(node.name, position(node.this), node.table or None)
    if isinstance(node, exp.Literal):
        if node.is_string:
            return Literal(node.this)
        return _number(node.this)
    if isinstance(node, exp.Boolean):
        return Literal(bool(node.this))
    if isinstance(node, exp.Interval):
        from flink_py.table.temporal import interval_literal
        amount = node.this.this if isinstance(node.this, exp.Literal) else node.this.sql()
        unit = node.unit.name if node.unit is not None else "SECOND"
        data_type, value = interval_literal(amount, unit)
        return Literal(value, data_type)
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
        target = _data_type(node.to)
        if (node.meta.get("typed_literal") and not node.to.expressions
                and isinstance(node.this, exp.Literal)):
            text = node.this.name
            fraction = text.split(".", 1)[1] if "." in text else ""
            target = t.TimestampType(len(fraction.strip()))  # TIMESTAMP '...' keeps its digits
        return Cast(to_expression(node.this), target)
    if isinstance(node, exp.Window):
        if isinstance(node.this, exp.RowNumber):
            from flink_py.table.rank import row_number_call
            return row_number_call(node, to_expression)
        return _over_call(node)
    for kind, name in _DATE_PARTS.items():
        if type(node) is kind:
            return Call(name, [to_expression(node.this)])
    if isinstance(node, exp.Extract):  # EXTRACT(HOUR FROM ts)
        part = node.this.name.lower()
        name = {"day": "dayofmonth"}.get(part, part)
        if name not in ("year", "month", "dayofmonth", "hour", "minute", "second"):
            raise TableException(f"EXTRACT({part.upper()} FROM ...) is not supported yet")
        return Call(name, [to_expression(node.expression)])
    if isinstance(node, exp.Anonymous):  # a function sqlglot does not know: a UDF's call
        return NamedCall(node.name, [to_expression(e) for e in node.expressions])
    raise TableException(f"the SQL expression {node.sql(dialect=FlinkDialect)!r} is not "
                         f"supported yet")


_TRANSLATED_CLAUSES = {"expressions", "from_", "from", "joins", "where", "group", "having",
                       "order", "limit", "offset", "distinct", "kind", "windows"}


def from_plan(select: exp.Select, lookup: Callable[[str], PlanNode]) -> PlanNode:
    """The plan of a ``SELECT``'s ``FROM`` clause: its first relation, joined with the
    rest; each relation's columns are in scope as ``name.column`` (``Qualify``)."""
    source = select.args.get("from_") or select.args.get("from")
    if source is None:  # SELECT 1 + 1: one row of no columns
        from flink_py.table.planner import Values
        if select.args.get("joins"):
            raise TableException("a JOIN without FROM is not valid SQL")
        return Values([()], [], [])
    plan = relation_plan(source.this, lookup)
    for join in select.args.get("joins") or []:
        plan = join_plan(plan, join, lookup)
    return plan


def relation_plan(node: exp.Expression, lookup: Callable[[str], PlanNode]) -> PlanNode:
    """The plan of one relation in ``FROM``: a table by name or a subquery, under its
    alias (``AS x`` or ``AS x(a, b)``, which renames its columns)."""
    alias = node.args.get("alias")
    qualifier = alias.name if alias is not None and alias.name else None
    columns = ([c.name for c in alias.columns] if alias is not None and alias.columns
               else None)
    if isinstance(node, exp.Subquery):
        return Qualify(query_plan(node.this, lookup), qualifier, columns)
    if (isinstance(node, exp.Table) and isinstance(node.this, exp.Anonymous)
            and node.this.name.upper() == "TABLE" and len(node.this.expressions) == 1):
        return Qualify(window_table_function(node.this.expressions[0], lookup), qualifier,
                       columns)
    if isinstance(node, exp.Values):
        return Qualify(values_plan(node), qualifier, columns)
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
        for extra, value in node.args.items():
            if value and extra not in ("this", "db", "catalog", "alias"):
                raise TableException(f"{extra.rstrip('s').upper()} on a table in FROM is "
                                     f"not supported yet")
        path = ".".join(p for p in (node.catalog, node.db, node.name) if p)
        try:
            plan = lookup(path)
        except ValidationException:
            where_ = position(node.this)
            raise ValidationException(f"{where_ + ': ' if where_ else ''}Object '{path}' "
                                      f"not found") from None
        return Qualify(plan, qualifier or node.name, columns)
    raise TableException(f"{node.sql(dialect=FlinkDialect)!r} in FROM is not supported yet")


_TVF_PARAMETERS = {"TUMBLE": ("DATA", "TIMECOL", "SIZE", "OFFSET"),
                   "HOP": ("DATA", "TIMECOL", "SLIDE", "SIZE", "OFFSET"),
                   "CUMULATE": ("DATA", "TIMECOL", "STEP", "SIZE", "OFFSET"),
                   "SESSION": ("DATA", "TIMECOL", "GAP")}


def window_table_function(call: exp.Expression, lookup: Callable[[str], PlanNode]
                          ) -> PlanNode:
    """``TUMBLE|HOP|CUMULATE|SESSION(TABLE t, DESCRIPTOR(ts), <intervals>)``, arguments by
    position or by name (``DATA =>``, ``TIMECOL =>``, ``SIZE =>``, ...)."""
    from flink_py.table.windows import WindowSpec, WindowTableFunction, interval_of
    name = call.name.upper() if isinstance(call, exp.Anonymous) else ""
    if name not in _TVF_PARAMETERS:
        raise TableException(f"the table function {call.sql(dialect=FlinkDialect)!r} in FROM "
                             f"is not supported yet")
    parameters = _TVF_PARAMETERS[name]
    args: dict = {}
    for i, arg in enumerate(call.expressions):
        if isinstance(arg, exp.Kwarg):
            args[arg.this.name.upper()] = arg.expression
        elif i < len(parameters):
            args[parameters[i]] = arg
    missing = [p for p in parameters if p not in args and p != "OFFSET"]
    if missing:
        raise ValidationException(f"{name} window table function: missing the argument(s) "
                                  f"{', '.join(missing)}; it takes ({', '.join(parameters)})")
    data, descriptor = args["DATA"], args["TIMECOL"]
    if not isinstance(data, exp.Table):
        raise ValidationException(f"{name}: the first argument must be TABLE <name>")
    source = relation_plan(exp.Table(this=data.this, db=data.args.get("db"),
                                     catalog=data.args.get("catalog")), lookup)
    if not (isinstance(descriptor, exp.Anonymous) and descriptor.name.upper() == "DESCRIPTOR"
            and len(descriptor.expressions) == 1):
        raise ValidationException(f"{name}: the time column must be given as "
                                  f"DESCRIPTOR(<column>)")
    column = to_expression(descriptor.expressions[0])
    scope = source.scope()
    index = scope.index_of(column.name, column.position)  # type: ignore[attr-defined]

    def millis(key: str) -> int:
        return interval_of(to_expression(args[key]).resolve(scope), key.lower())
    offset = millis("OFFSET") if "OFFSET" in args else 0
    if name == "TUMBLE":
        spec = WindowSpec(name, index, millis("SIZE"), offset=offset)
    elif name in ("HOP", "CUMULATE"):
        spec = WindowSpec(name, index, millis("SIZE"),
                          millis("SLIDE" if name == "HOP" else "STEP"), offset=offset)
    else:
        partition = data.args.get("partition_by") or []
        spec = WindowSpec(name, index, millis("GAP"), partition=[
            scope.index_of(to_expression(p).name) for p in partition])  # type: ignore
    return WindowTableFunction(source, spec)


def join_plan(left: PlanNode, join: exp.Join, lookup: Callable[[str], PlanNode]) -> PlanNode:
    """``left`` joined with the relation of ``join``: ``[INNER] JOIN``, ``LEFT|RIGHT|FULL
    [OUTER] JOIN`` ``ON`` a condition or ``USING (columns)``, ``CROSS JOIN`` and ``, b``
    (a join without condition, whose WHERE equalities become its key: ``where_plan``)."""
    from flink_py.table.join import Join, using_join
    relation = join.this
    if isinstance(relation, exp.Table) and relation.args.get("version") is not None:
        from flink_py.table.interval_join import temporal_join_plan  # FOR SYSTEM_TIME AS OF
        return temporal_join_plan(left, join, lambda r: relation_plan(r, lookup), to_expression)
    if isinstance(relation, exp.Lateral):  # LATERAL TABLE(f(...)): a table function
        from flink_py.table.udf_plan import lateral_join_plan
        return lateral_join_plan(left, join)
    if isinstance(relation, (exp.Lateral, exp.Unnest)) or (
            isinstance(relation, exp.Table) and not isinstance(relation.this, exp.Identifier)):
        raise TableException(f"JOIN is not supported yet: "
                             f"{join.sql(dialect=FlinkDialect).strip()!r}")
    for extra in ("method", "global", "hint", "match_condition", "pivots"):
        if join.args.get(extra):
            raise TableException(f"{str(join.args[extra]).upper()} JOIN is not supported yet: "
                                 f"{join.sql(dialect=FlinkDialect).strip()!r}")
    side = (join.args.get("side") or "").upper()
    kind = (join.args.get("kind") or "").upper()
    if kind not in ("", "INNER", "OUTER", "CROSS"):
        raise TableException(f"{kind} JOIN is not supported yet")
    join_type = {"": "inner", "LEFT": "left", "RIGHT": "right", "FULL": "full"}[side]
    right = relation_plan(relation, lookup)
    on, using = join.args.get("on"), join.args.get("using")
    if kind == "CROSS" and (on is not None or using):
        raise SqlParserException("SQL parse failed. A CROSS JOIN takes no ON or USING")
    if using:
        return using_join(left, right, join_type, [u.name for u in using])
    if on is None and join_type != "inner":
        raise SqlParserException(f"SQL parse failed. {side} JOIN needs an ON or USING "
                                 f"condition")
    plan = Join(left, right, join_type)
    if on is None:
        return plan
    from flink_py.table.interval_join import time_join
    return time_join(Join(left, right, join_type, to_expression(on)))


def values_plan(node: exp.Values) -> PlanNode:
    """``VALUES (1, 'a'), (2, 'b')``: a literal row per tuple, each column of its values'
    common type, named ``EXPR$0``, ... (an alias list renames them)."""
    from flink_py.table.expressions import Scope, common_type
    from flink_py.table.planner import Values
    empty = Scope([], [])
    rows = []
    for row in node.expressions:
        items = row.expressions if isinstance(row, exp.Tuple) else [row]
        rows.append([to_expression(e).resolve(empty) for e in items])
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise ValidationException("Values passed to VALUES operator must have compatible "
                                  "types")
    for r in rows:
        for resolved in r:
            if not resolved.constant:
                raise TableException("VALUES of other than constant expressions is not "
                                     "supported yet")
    types = [common_type([r[i].data_type for r in rows]) for i in range(width)]
    values = [tuple(r[i].evaluate(()) for i in range(width)) for r in rows]
    return Values(values, [f"EXPR${i}" for i in range(width)], types)


def _star(plan: PlanNode, qualifier: Optional[str]) -> List[Expression]:
    """The columns ``*`` (or ``qualifier.*``) selects, by position: a join's output may
    have two columns of one name."""
    qualified = plan.qualified or [(None, n) for n in plan.names]
    if qualifier is not None and qualifier not in {q for q, _ in qualified}:
        raise ValidationException(f"Unknown identifier '{qualifier}'")
    hidden = getattr(plan, "hidden_in_star", ()) if qualifier is None else ()
    return [InputRef(i, plan.data_types[i], n) for i, ((q, n), _) in
            enumerate(zip(qualified, plan.names))
            if (qualifier is None or q == qualifier) and i not in hidden]


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
        width = len(plan.names)
        if order is not None:
            keys = []
            hidden: List[exp.Expression] = []
            for o in order.expressions:
                key = to_expression(o.this)  # a column of the query's output ...
                try:
                    key.resolve(plan.scope())
                except ValidationException:
                    # ... or of its input, when the select does not aggregate: sorted by a
                    # hidden column, projected away after the sort
                    if not isinstance(inner, exp.Select) or inner.args.get("group") or \
                            inner.args.get("distinct"):
                        raise
                    hidden.append(o.this)
                    key = ColumnRef(f"$sort{len(hidden) - 1}")
                keys.append(Ordering(key, not o.args.get("desc"),
                                     bool(o.args.get("nulls_first"))))
            if hidden:
                widened = inner.copy()
                widened.set("expressions", list(inner.expressions) + [
                    exp.alias_(e.copy(), f"$sort{i}", quoted=True)
                    for i, e in enumerate(hidden)])
                plan = query_plan(widened, lookup)
            plan = sort_plan(plan, keys)
        fetch = None
        if limit is not None:
            count = limit.args.get("count") if isinstance(limit, exp.Fetch) else limit.expression
            fetch = _integer(count, "LIMIT")
        skip = _integer(offset.expression, "OFFSET") if offset is not None else 0
        if limit is not None or offset is not None:
            plan = limit_plan(plan, skip, fetch)
        if len(plan.names) > width:  # the hidden sort columns go
            from flink_py.table.table import project as project_columns
            plan = project_columns(plan, [InputRef(i, plan.data_types[i], plan.names[i])
                                          for i in range(width)], "EXPR${}")
        return plan
    from flink_py.table.table import aggregate_plan, project
    if isinstance(select, (exp.Union, exp.Intersect, exp.Except)):
        return _set_operation_plan(select, lookup)
    if not isinstance(select, exp.Select):
        raise TableException(f"only SELECT queries are supported yet, got "
                             f"{type(select).__name__.upper()}")
    for clause, value in select.args.items():
        if value and clause not in _TRANSLATED_CLAUSES:
            # a clause we do not translate is refused, never dropped (JOIN, WINDOW, WITH,
            # other dialects' SORT BY, QUALIFY, PIVOT, ...)
            raise TableException(f"{clause.rstrip('_').upper()} in a query is not supported "
                                 f"yet")
    group_node = select.args.get("group")
    if group_node is not None:
        for extra, value in group_node.args.items():
            if value and extra != "expressions":
                raise TableException(f"GROUP BY ... {extra.upper()} is not supported yet")
    plan = from_plan(select, lookup)
    _NAMED_WINDOWS.clear()
    for named in select.args.get("windows") or []:
        _NAMED_WINDOWS[named.this.name.lower()] = named
    where = select.args.get("where")
    if where is not None:
        from flink_py.table.join import where_plan
        from flink_py.table.rank import rank_where
        condition = to_expression(where.this)
        ranked = rank_where(plan, condition)  # WHERE rn <= N over a ROW_NUMBER: a Top-N
        if ranked is not None:
            plan, condition = ranked
        if condition is not None:
            plan = where_plan(plan, condition)
    items: List[Expression] = []
    for e in select.expressions:
        if isinstance(e, exp.Star):
            items += _star(plan, None)
        elif isinstance(e, exp.Column) and isinstance(e.this, exp.Star):
            items += _star(plan, e.table)
        else:
            items.append(to_expression(e))
    group = select.args.get("group")
    having = select.args.get("having")
    keys = [to_expression(g) for g in group.expressions] if group is not None else []
    from flink_py.table.rank import has_row_number, mark_rank_output, row_number_plan
    mark_rank_output(plan, items)
    if any(has_row_number(i) for i in items):
        return row_number_plan(plan, items, "EXPR${}")
    windowed = _window_aggregation(plan, keys, items)
    if windowed is not None:
        if having is not None:
            raise TableException("HAVING on a window aggregation is not supported yet")
        return windowed
    if any(_has_over(i) for i in items):
        from flink_py.table.windows import over_plan
        return over_plan(plan, items, "EXPR${}")
    if keys or any(i.aggregates() for i in items) or having is not None:
        having_expr: Optional[Expression] = (to_expression(having.this)
                                             if having is not None else None)
        if having_expr is not None:
            items_with_having = items + [having_expr]
            grouped = aggregate_plan(plan, keys, items_with_having, "EXPR${}")
            condition = grouped.exprs[-1]  # type: ignore[attr-defined]
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


#: the named windows of the query being translated (``WINDOW w AS (...)``)
_NAMED_WINDOWS: dict = {}


def _over_call(node: exp.Window) -> Expression:
    """``agg OVER (PARTITION BY ... ORDER BY ts ROWS|RANGE BETWEEN ... AND CURRENT ROW)``
    or ``agg OVER w``."""
    from flink_py.table.expressions import OverCall, OverWindowSpec
    aggregate = to_expression(node.this)
    window = node
    alias = node.args.get("alias")
    if alias is not None and not node.args.get("partition_by") and not node.args.get("order"):
        window = _NAMED_WINDOWS.get(alias.name.lower())
        if window is None:
            raise ValidationException(f"Window '{alias.name}' not found")
    order = window.args.get("order")
    if order is None or len(order.expressions) != 1:
        raise TableException("OVER windows must be ordered by one time attribute "
                             "(ORDER BY rowtime)")
    if order.expressions[0].args.get("desc"):
        raise TableException("OVER windows' ordering in stream mode must be ascending on a "
                             "time attribute.")
    spec = window.args.get("spec")
    rows, preceding = False, None  # Flink's default frame: RANGE UNBOUNDED PRECEDING
    if spec is not None:
        rows = spec.args.get("kind", "").upper() == "ROWS"
        end = spec.args.get("end")
        if (end or "").upper() != "CURRENT ROW" if isinstance(end, str) else end is not None:
            raise TableException("OVER windows end at CURRENT ROW only")
        start = spec.args.get("start")
        if isinstance(start, str) and start.upper() == "UNBOUNDED":
            preceding = None
        elif isinstance(start, str) and start.upper() == "CURRENT ROW":
            preceding = 0 if rows else to_expression(exp.Interval(
                this=exp.Literal.string("0"), unit=exp.var("SECOND")))
        elif rows:
            preceding = _integer(start, "ROWS ... PRECEDING")
        else:
            preceding = to_expression(start)
    return OverCall(aggregate, OverWindowSpec(
        [to_expression(p) for p in window.args.get("partition_by") or []],
        to_expression(order.expressions[0].this), rows, preceding))


def _has_over(e: Expression) -> bool:
    from flink_py.table.expressions import OverCall
    if isinstance(e, OverCall):
        return True
    return any(_has_over(c) for c in _children(e))


def _children(e: Expression) -> List[Expression]:
    from flink_py.table.expressions import Alias, Call, Cast, NamedCall
    if isinstance(e, (Alias, Cast)):
        return [e.child]
    if isinstance(e, (Call, NamedCall)):
        return list(e.args)
    return []


def _named(e: Expression, name: str) -> bool:
    return isinstance(e, ColumnRef) and e.name.lower() == name


def _window_aggregation(plan: PlanNode, keys: List[Expression], items: List[Expression]
                        ) -> Optional[PlanNode]:
    """The plan of a window aggregation -- ``GROUP BY window_start, window_end, ...`` over a
    window table function, or the legacy ``GROUP BY TUMBLE(ts, INTERVAL ...)`` -- or None
    for another query."""
    from flink_py.table.windows import (WindowTableFunction, window_aggregate_plan,
                                        window_spec)

    def unnamed(i: int, e: Any) -> str:
        return f"EXPR${i}"
    legacy = [k for k in keys if isinstance(k, NamedCall)
              and k.name.upper() in WINDOW_FUNCTIONS]
    if legacy:
        if len(legacy) > 1:
            raise TableException("only one group window per GROUP BY is supported")
        call = legacy[0]
        kind = call.name.upper()
        arity = {"TUMBLE": 2, "HOP": 3, "SESSION": 2}.get(kind)
        if arity is None or len(call.args) != arity:
            raise ValidationException(
                f"{kind}(time_attr, interval{', interval' if kind == 'HOP' else ''}) is the "
                f"group window function's signature; got {len(call.args)} arguments")
        if kind == "HOP":
            spec = window_spec(kind, plan, call.args[0], call.args[2], call.args[1])
        else:
            spec = window_spec(kind, plan, call.args[0], call.args[1])

        def prop(suffix: str) -> Callable[[Any], bool]:
            names = {f"{kind}_{s}" for s in suffix.split("|")}
            return lambda e: isinstance(e, NamedCall) and e.name.upper() in names
        regular = [k for k in keys if k is not call]
        return window_aggregate_plan(plan, spec, regular, items,
                                     {"start": prop("START"), "end": prop("END"),
                                      "time": prop("ROWTIME|PROCTIME")}, unnamed)
    node, filters = plan, []
    while not isinstance(node, WindowTableFunction):
        if isinstance(node, Qualify):
            node = node.inputs[0]
        elif isinstance(node, Filter):
            filters.append(node.condition)
            node = node.inputs[0]
        else:
            return None
    if not (any(_named(k, "window_start") for k in keys)
            and any(_named(k, "window_end") for k in keys)):
        return None
    child = node.inputs[0]
    for condition in reversed(filters):
        child = Filter(child, condition)
    regular = [k for k in keys if not any(_named(k, n) for n in
                                          ("window_start", "window_end", "window_time"))]
    return window_aggregate_plan(
        child, node.spec, regular, items,
        {"start": lambda e: _named(e, "window_start"),
         "end": lambda e: _named(e, "window_end"),
         "time": lambda e: _named(e, "window_time")}, unnamed)


def _set_operation_plan(node: exp.Expression, lookup: Callable[[str], PlanNode]) -> PlanNode:
    """``a UNION [ALL] b``, ``INTERSECT [ALL]``, ``EXCEPT [ALL]``."""
    from flink_py.table.join import set_operation_plan
    for clause, value in node.args.items():
        if value and clause not in ("this", "expression", "distinct", "by_name"):
            raise TableException(f"{clause.upper()} on a set operation is not supported yet")
    if node.args.get("by_name"):
        raise TableException("UNION BY NAME is not supported yet")
    kind = {exp.Union: "union", exp.Intersect: "intersect", exp.Except: "except"}[type(node)]
    left = query_plan(node.this, lookup)
    right = query_plan(node.expression, lookup)
    what = f"{kind.upper()}{'' if node.args.get('distinct') else ' ALL'}"
    from flink_py.table.join import set_operation_types
    try:
        set_operation_types(left, right, True, what)
    except ValidationException as exc:
        count = "Column count" in str(exc)
        where_ = _start_position(node.expression if count else node.this)
        raise ValidationException(f"{where_ + ': ' if where_ else ''}{exc}") from None
    return set_operation_plan(left, right, kind, not node.args.get("distinct"), True)


def _start_position(query: exp.Expression) -> Optional[str]:
    """Where the select list of ``query`` starts (Calcite's position of a set operation's
    error): ``At line 1, column 8``."""
    while isinstance(query, (exp.Union, exp.Intersect, exp.Except)):
        query = query.this
    if not isinstance(query, exp.Select) or not query.expressions:
        return None
    first = query.expressions[0]
    tokens_ = [n for n in first.walk() if n.meta and "line" in n.meta]
    if not tokens_:
        return None
    meta = min((n.meta for n in tokens_), key=lambda m: (m["line"], m["col"]))
    start = meta["col"] - (meta.get("end", 0) - meta.get("start", 0))
    return f"At line {meta['line']}, column {start}"


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
    columns: List[Any] = []
    watermarks: List[Any] = []
    primary_key: Optional[List[str]] = None
    for column in schema.expressions:
        if isinstance(column, exp.WatermarkColumnConstraint):
            if watermarks:
                raise ValidationException("Multiple watermark definitions are not supported "
                                          "yet.")
            watermarks.append((column.this.name, column.expression.sql(dialect=FlinkDialect)))
            continue
        if isinstance(column, exp.PrimaryKey):
            if not any("NOT ENFORCED" in str(o).upper() for o in
                       column.args.get("options") or []):
                raise ValidationException(
                    "Flink doesn't support ENFORCED mode for PRIMARY KEY constraint. ENFORCED/"
                    "NOT ENFORCED controls if the constraint checks are performed on the "
                    "incoming/outgoing data. Flink does not own the data therefore the only "
                    "supported mode is the NOT ENFORCED mode")
            primary_key = [e.name for e in column.expressions]
            continue
        if not isinstance(column, exp.ColumnDef):
            raise TableException(f"{column.sql(dialect=FlinkDialect)!r} in CREATE TABLE is "
                                 f"not supported yet")
        if column.name in [n for n, _ in columns]:
            raise ValidationException(f"A column named '{column.name}' already exists in the "
                                      f"table")
        computed = [c for c in column.args.get("constraints") or []
                    if isinstance(c.kind, exp.ComputedColumnConstraint)]
        if computed:
            columns.append((column.name, computed[0].kind.this.sql(dialect=FlinkDialect)))
            continue
        if column.args.get("kind") is None:
            raise TableException(f"column {column.name!r} has no type")
        dt = _data_type(column.args["kind"])
        for constraint in column.args.get("constraints") or []:
            if isinstance(constraint.kind, exp.NotNullColumnConstraint):
                dt = dt.not_null()
            else:
                raise TableException(f"the constraint {constraint.sql()} of column "
                                     f"{column.name!r} is not supported yet")
        names.append(column.name)
        data_types.append(dt)
        columns.append((column.name, dt))
    if primary_key is not None:
        for k in primary_key:
            if k not in names:
                raise ValidationException(f"Could not create a PRIMARY KEY with column '{k}' "
                                          f"at line 1: it is not a physical column")
            i = names.index(k)
            data_types[i] = data_types[i].not_null()
            columns[[n for n, _ in columns].index(k)] = (k, data_types[i])
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
    return CatalogTable(qualified(path), names, data_types, options, columns, watermarks,
                        primary_key)


def distinct_plan(plan: PlanNode) -> PlanNode:
    """``SELECT DISTINCT``: a group aggregation by every column, without aggregates."""
    from flink_py.table.table import aggregate_plan
    refs: List[Expression] = [ColumnRef(n) for n in plan.names]
    return aggregate_plan(plan, refs, refs, "EXPR${}")
