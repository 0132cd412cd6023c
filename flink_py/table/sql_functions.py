"""SQL calls of Flink's built-in functions: how sqlglot's nodes of them become calls of
``functions_builtin``, and the parsing of the JSON functions' clauses sqlglot does not know
(``JSON_VALUE(j, '$.a' RETURNING INT DEFAULT 0 ON EMPTY)``, ``JSON_QUERY(... WITH ARRAY
WRAPPER)``, ``JSON_EXISTS(... TRUE ON ERROR)``, ``JSON_ARRAY(... NULL ON NULL)``)."""

from __future__ import annotations

from typing import Any, Callable, List, Optional

from sqlglot import exp
from sqlglot.parser import Parser

from flink_py.table.errors import TableException
from flink_py.table.expression import (JsonExistsOnError, JsonOnNull, JsonQueryOnEmptyOrError,
                                       JsonQueryWrapper, JsonType, JsonValueOnEmptyOrError)
from flink_py.table.expressions import Call, Expression

__all__ = ["FlinkParser", "translate"]

Translate = Callable[[exp.Expression], Expression]


#: the prefix of the name of an ``exp.Anonymous`` call parsed here (sqlglot's node classes
#: cannot be subclassed outside it)
_PREFIX = "__flink__"

#: the enums a clause's ``exp.Var`` names a member of
_ENUMS = {e.__name__: e for e in (JsonExistsOnError, JsonOnNull, JsonQueryOnEmptyOrError,
                                  JsonQueryWrapper, JsonType, JsonValueOnEmptyOrError)}


def _flink_call(name: str, args: List[exp.Expression]) -> exp.Expression:
    """A built-in call parsed here, with a clause as an ``exp.Var`` (an enum member) or an
    ``exp.DataType`` (RETURNING)."""
    return exp.Anonymous(this=_PREFIX + name, expressions=args)


def _option(value: Any) -> exp.Expression:
    if value is None or isinstance(value, exp.Expression):
        return value if value is not None else exp.Var(this="STRING")
    return exp.Var(this=f"{type(value).__name__}.{value.name}")


def _parse_behavior(parser: Parser, choices: dict) -> Optional[tuple]:
    """``<choice> ON EMPTY|ERROR``: (EMPTY or ERROR, the choice's value, a DEFAULT's
    expression); None when no clause follows."""
    for words, value in choices.items():
        if parser._match_text_seq(*words.split()):
            default = parser._parse_bitwise() if words == "DEFAULT" else None
            if not parser._match_text_seq("ON"):
                parser.raise_error("Expecting ON EMPTY or ON ERROR")
            if parser._match_text_seq("EMPTY"):
                return "EMPTY", value, default
            if parser._match_text_seq("ERROR"):
                return "ERROR", value, default
            parser.raise_error("Expecting ON EMPTY or ON ERROR")
    return None


def _parse_json_value(parser: Parser) -> exp.Expression:
    from sqlglot.tokens import TokenType
    args = [parser._parse_bitwise()]
    parser._match(TokenType.COMMA)
    args.append(parser._parse_bitwise())
    returning = parser._parse_types() if parser._match_text_seq("RETURNING") else None
    behaviors = {"EMPTY": (JsonValueOnEmptyOrError.NULL, None),
                 "ERROR": (JsonValueOnEmptyOrError.NULL, None)}
    choices = {"NULL": JsonValueOnEmptyOrError.NULL, "ERROR": JsonValueOnEmptyOrError.ERROR,
               "DEFAULT": JsonValueOnEmptyOrError.DEFAULT}
    while (clause := _parse_behavior(parser, choices)) is not None:
        behaviors[clause[0]] = (clause[1], clause[2])
    args.append(_option(returning))
    for key in ("EMPTY", "ERROR"):
        behavior, default = behaviors[key]
        args += [_option(behavior), default if default is not None else exp.Null()]
    return _flink_call("json_value", args)


def _parse_json_query(parser: Parser) -> exp.Expression:
    from sqlglot.tokens import TokenType
    args = [parser._parse_bitwise()]
    parser._match(TokenType.COMMA)
    args.append(parser._parse_bitwise())
    wrapper = JsonQueryWrapper.WITHOUT_ARRAY
    if parser._match_text_seq("WITHOUT"):
        parser._match_text_seq("ARRAY")
        if not parser._match_text_seq("WRAPPER"):
            parser.raise_error("Expecting WRAPPER")
    elif parser._match_text_seq("WITH"):
        wrapper = JsonQueryWrapper.UNCONDITIONAL_ARRAY
        if parser._match_text_seq("CONDITIONAL"):
            wrapper = JsonQueryWrapper.CONDITIONAL_ARRAY
        else:
            parser._match_text_seq("UNCONDITIONAL")
        parser._match_text_seq("ARRAY")
        if not parser._match_text_seq("WRAPPER"):
            parser.raise_error("Expecting WRAPPER")
    behaviors = {"EMPTY": JsonQueryOnEmptyOrError.NULL, "ERROR": JsonQueryOnEmptyOrError.NULL}
    choices = {"NULL": JsonQueryOnEmptyOrError.NULL, "ERROR": JsonQueryOnEmptyOrError.ERROR,
               "EMPTY ARRAY": JsonQueryOnEmptyOrError.EMPTY_ARRAY,
               "EMPTY OBJECT": JsonQueryOnEmptyOrError.EMPTY_OBJECT}
    while (clause := _parse_behavior(parser, choices)) is not None:
        behaviors[clause[0]] = clause[1]
    args += [_option(wrapper), _option(behaviors["EMPTY"]), _option(behaviors["ERROR"])]
    return _flink_call("json_query", args)


def _parse_json_exists(parser: Parser) -> exp.Expression:
    from sqlglot.tokens import TokenType
    args = [parser._parse_bitwise()]
    parser._match(TokenType.COMMA)
    args.append(parser._parse_bitwise())
    on_error = JsonExistsOnError.FALSE
    choices = {"TRUE": JsonExistsOnError.TRUE, "FALSE": JsonExistsOnError.FALSE,
               "UNKNOWN": JsonExistsOnError.UNKNOWN, "ERROR": JsonExistsOnError.ERROR}
    clause = _parse_behavior(parser, choices)
    if clause is not None:
        if clause[0] != "ERROR":
            parser.raise_error("JSON_EXISTS takes ON ERROR only")
        on_error = clause[1]
    args.append(_option(on_error))
    return _flink_call("json_exists", args)


def _parse_json_array(parser: Parser) -> exp.Expression:
    from sqlglot.tokens import TokenType
    values: List[exp.Expression] = []
    on_null = JsonOnNull.ABSENT
    while parser._curr is not None and parser._curr.token_type != TokenType.R_PAREN:
        if parser._match_text_seq("NULL", "ON", "NULL"):
            on_null = JsonOnNull.NULL
            break
        if parser._match_text_seq("ABSENT", "ON", "NULL"):
            on_null = JsonOnNull.ABSENT
            break
        values.append(parser._parse_bitwise())
        parser._match(TokenType.COMMA)
    return _flink_call("json_array", [_option(on_null)] + values)


class FlinkParser(Parser):
    """sqlglot's parser with Flink's JSON function clauses, and LOG10/LOG2/MOD kept as the
    functions they are (sqlglot rewrites them into LOG(10, x) and ``%``)."""

    FUNCTION_PARSERS = {
        **Parser.FUNCTION_PARSERS,
        "JSON_VALUE": _parse_json_value,
        "JSON_QUERY": _parse_json_query,
        "JSON_EXISTS": _parse_json_exists,
        "JSON_ARRAY": _parse_json_array,
    }
    FUNCTIONS = {
        **Parser.FUNCTIONS,
        "LOG10": lambda args: _flink_call("log10", args),
        "LOG2": lambda args: _flink_call("log2", args),
        "MOD": lambda args: _flink_call("mod_function", args),
        "TRUNCATE": lambda args: _flink_call("truncate", args),
        "POWER": lambda args: _flink_call("power", args),
    }


# -- translation ------------------------------------------------------------------------------

#: sqlglot node -> (the built-in, the node's argument keys in call order)
_CALLS = {
    exp.Substring: ("substring", ["this", "start", "length"]),
    exp.Replace: ("replace", ["this", "expression", "replacement"]),
    exp.Repeat: ("repeat", ["this", "times"]),
    exp.Reverse: ("reverse", ["this"]),
    exp.RegexpReplace: ("regexp_replace", ["this", "expression", "replacement"]),
    exp.RegexpExtract: ("regexp_extract", ["this", "expression", "position"]),
    exp.SimilarTo: ("similar", ["this", "expression"]),
    exp.Overlay: ("overlay", ["this", "expression", "from_", "for_"]),
    exp.Ascii: ("ascii", ["this"]),
    exp.Left: ("left", ["this", "expression"]),
    exp.Right: ("right", ["this", "expression"]),
    exp.MD5: ("md5", ["this"]),
    exp.ToBase64: ("to_base64", ["this"]),
    exp.FromBase64: ("from_base64", ["this"]),
    exp.Nullif: ("nullif", ["this", "expression"]),
    exp.Round: ("round", ["this", "decimals"]),
    exp.Trunc: ("truncate", ["this", "decimals"]),
    exp.Floor: ("floor", ["this"]),
    exp.Ceil: ("ceil", ["this"]),
    exp.Pow: ("power", ["this", "expression"]),
    exp.Sqrt: ("sqrt", ["this"]),
    exp.Exp: ("exp", ["this"]),
    exp.Ln: ("ln", ["this"]),
    exp.Sign: ("sign", ["this"]),
    exp.Hex: ("hex", ["this"]),
    exp.Pi: ("pi", []),
    exp.Atan2: ("atan2", ["this", "expression"]),
    exp.NullSafeNEQ: ("is_distinct_from", ["this", "expression"]),
    exp.NullSafeEQ: ("is_not_distinct_from", ["this", "expression"]),
    exp.Initcap: ("initcap", ["this"]),
}
for _name in ("Sin", "Cos", "Tan", "Cot", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Tanh",
              "Degrees", "Radians"):
    if hasattr(exp, _name):
        _CALLS[getattr(exp, _name)] = (_name.lower(), ["this"])

#: arguments sqlglot sets that the call ignores on purpose (INITCAP's default delimiters)
_IGNORED = {exp.Initcap: {"expression"}}


def _simple(node: exp.Expression, to_expression: Translate) -> Optional[Expression]:
    spec = _CALLS.get(type(node))
    if spec is None:
        return None
    name, keys = spec
    extra = [k for k, v in node.args.items()
             if v is not None and v is not False and k not in keys
             and k not in _IGNORED.get(type(node), ())]
    if extra:
        raise TableException(f"{node.sql()!r}: {name.upper()} with {', '.join(extra)} is not "
                             f"supported yet")
    args = [to_expression(node.args[k]) for k in keys if node.args.get(k) is not None]
    return Call(name, args)


def translate(node: exp.Expression, to_expression: Translate) -> Optional[Expression]:
    """The call of a built-in that ``node`` is, or None when it is not one of them."""
    simple = _simple(node, to_expression)
    if simple is not None:
        return simple
    if isinstance(node, exp.Anonymous) and node.name.startswith(_PREFIX):
        return Call(node.name[len(_PREFIX):],
                    [_argument(e, to_expression) for e in node.expressions])
    if isinstance(node, exp.Trim):
        position = (node.args.get("position") or "BOTH").upper()
        name = {"BOTH": "trim", "LEADING": "ltrim", "TRAILING": "rtrim"}[position]
        args = [to_expression(node.this)]
        if node.args.get("expression") is not None:
            args.append(to_expression(node.args["expression"]))
        return Call(name, args)
    if isinstance(node, exp.StrPosition):
        needle, haystack = to_expression(node.args["substr"]), to_expression(node.this)
        start = node.args.get("position")
        if start is not None:
            return Call("locate", [needle, haystack, to_expression(start)])
        return Call("position", [needle, haystack])
    if isinstance(node, exp.Pad):
        name = "lpad" if node.args.get("is_left") else "rpad"
        return Call(name, [to_expression(node.this), to_expression(node.expression),
                           to_expression(node.args["fill_pattern"])])
    if isinstance(node, exp.ConcatWs):
        return Call("concat_ws", [to_expression(e) for e in node.expressions])
    if isinstance(node, exp.Chr):
        return Call("chr", [to_expression(e) for e in node.expressions])
    if isinstance(node, exp.Log):
        if node.expression is None:
            return Call("log", [to_expression(node.this)])
        return Call("log", [to_expression(node.this), to_expression(node.expression)])
    if isinstance(node, (exp.Greatest, exp.Least)):
        name = "greatest" if isinstance(node, exp.Greatest) else "least"
        return Call(name, [to_expression(node.this)]
                    + [to_expression(e) for e in node.expressions])
    if isinstance(node, exp.Escape) and isinstance(node.this, exp.Like):
        like = node.this
        call = Call("like", [to_expression(like.this), to_expression(like.expression),
                             to_expression(node.expression)])
        return Call("not", [call]) if like.args.get("negate") else call
    if isinstance(node, exp.Like):
        call = Call("like", [to_expression(node.this), to_expression(node.expression)])
        return Call("not", [call]) if node.args.get("negate") else call
    if isinstance(node, exp.In):
        if node.args.get("query") is not None or node.args.get("unnest") is not None:
            raise TableException("IN with a sub-query is not supported yet")
        return Call("in", [to_expression(node.this)]
                    + [to_expression(e) for e in node.expressions])
    if isinstance(node, exp.Between):
        name = "between_symmetric" if node.args.get("symmetric") else "between"
        return Call(name, [to_expression(node.this), to_expression(node.args["low"]),
                           to_expression(node.args["high"])])
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.JSON):
        kind = node.expression.this
        json_type = JsonType[str(kind).upper()] if kind else JsonType.VALUE
        return Call("is_json", [to_expression(node.this), _symbol(json_type)])
    if isinstance(node, exp.JSONObject):
        if node.args.get("unique_keys") is not None or node.args.get("return_type"):
            raise TableException("JSON_OBJECT with UNIQUE KEYS or RETURNING is not "
                                 "supported yet")
        on_null = JsonOnNull.ABSENT if node.args.get("null_handling") == "ABSENT ON NULL" \
            else JsonOnNull.NULL
        args: List[Expression] = [_symbol(on_null)]
        for kv in node.expressions:
            if not isinstance(kv, exp.JSONKeyValue):
                raise TableException(f"{kv.sql()!r} in JSON_OBJECT is not supported yet")
            args += [to_expression(kv.this), to_expression(kv.expression)]
        return Call("json_object", args)
    if isinstance(node, exp.Anonymous) and node.name.upper() == "JSON_ARRAY":
        return Call("json_array", [_symbol(JsonOnNull.ABSENT)]
                    + [to_expression(e) for e in node.expressions])
    return None


def _symbol(value: Any) -> Expression:
    from flink_py.table.functions_builtin import Symbol
    return Symbol(value)


def _argument(node: exp.Expression, to_expression: Translate) -> Expression:
    if isinstance(node, exp.DataType):
        from flink_py.table.sql import _data_type
        return _symbol(_data_type(node))
    if isinstance(node, exp.Var):
        if node.name == "STRING":  # no RETURNING clause
            from flink_py.table.types import VarCharType
            return _symbol(VarCharType())
        enum, _, member = node.name.partition(".")
        return _symbol(_ENUMS[enum][member])
    return to_expression(node)
