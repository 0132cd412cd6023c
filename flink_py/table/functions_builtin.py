"""Flink's built-in scalar functions: string, math, conditional and JSON functions, with
Flink's result types, NULL handling and validation messages.

``BUILTINS`` maps a function's lower-case SQL name to its builder; the expression resolver
(``expressions.Call``) consults it, so a SQL call (``SUBSTRING(s, 2)``), a Table API method
(``col('s').substring(2)``) and ``call('substring', ...)`` resolve to the same builder. A
builder gets the resolved arguments and returns (the result type, the evaluator). Unless a
function says otherwise it is strict: a NULL argument gives NULL.

A constant option of a call (a JSON function's ON ERROR behaviour, a RETURNING type) is a
:class:`Symbol` argument, as Calcite's symbol operands.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from flink_py.table import decimals
from flink_py.table import types as t
from flink_py.table.errors import ValidationException
from flink_py.table.expressions import (Expression, Resolved, Scope, _is_integer, _is_numeric,
                                        _is_string, _to_expr, _wrap, calcite_name, common_type)

__all__ = ["BUILTINS", "Symbol", "SymbolType"]

Evaluator = Callable[[tuple], Any]
Builder = Callable[[str, List[Resolved]], Tuple[t.DataType, Evaluator]]

#: the builders, by lower-case SQL name
BUILTINS: Dict[str, Builder] = {}

_STRING = t.VarCharType


class SymbolType(t.DataType):
    """The type of a :class:`Symbol` operand (a flag of the call, not a value)."""

    sql_name = "SYMBOL"


class Symbol(Expression):
    """A constant option of a function call: a flag (``'TRAILING'``, ``'NULL ON EMPTY'``), a
    data type (``RETURNING INT``) or a Python enum member of the Table API."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def resolve(self, scope: Scope) -> Resolved:
        value = self.value
        return Resolved(SymbolType(False), lambda row: value, None, constant=True)

    def __repr__(self) -> str:
        return f"Symbol({self.value!r})"


def builtin(*names: str) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        for name in names:
            BUILTINS[name] = builder
        return builder
    return register


# -- validation -------------------------------------------------------------------------------

def type_name(dt: t.DataType) -> str:
    """A type as Calcite's operand-type errors name it (``INTEGER``, ``CHAR(1)``)."""
    if isinstance(dt, t.IntType):
        return "INTEGER"
    return calcite_name(dt)


def _family_of(dt: t.DataType) -> set:
    if isinstance(dt, t.NullType):
        return {"ANY", "CHARACTER", "STRING", "INTEGER", "NUMERIC", "EXACT_NUMERIC", "BOOLEAN"}
    if _is_string(dt):
        return {"ANY", "CHARACTER", "STRING"}
    if _is_integer(dt):
        return {"ANY", "INTEGER", "NUMERIC", "EXACT_NUMERIC"}
    if isinstance(dt, t.DecimalType):
        return {"ANY", "NUMERIC", "EXACT_NUMERIC"}
    if isinstance(dt, (t.DoubleType, t.FloatType)):
        return {"ANY", "NUMERIC", "APPROXIMATE_NUMERIC"}
    if isinstance(dt, t.BooleanType):
        return {"ANY", "BOOLEAN"}
    if isinstance(dt, SymbolType):
        return {"SYMBOL"}
    return {"ANY"}


def check(name: str, args: Sequence[Resolved], *forms: Sequence[str]) -> None:
    """Refuses ``args`` unless they match one of ``forms`` (each a list of type families:
    CHARACTER, INTEGER, NUMERIC, EXACT_NUMERIC, BOOLEAN, ANY), with Calcite's message."""
    sql = name.upper()
    counts = {len(f) for f in forms}
    if len(args) not in counts:
        expected = sorted(counts)
        if len(expected) == 1:
            raise ValidationException(
                f"Invalid number of arguments to function '{sql}'. Was expecting "
                f"{expected[0]} arguments")
        raise ValidationException(
            f"Invalid number of arguments to function '{sql}'. Was expecting "
            f"{expected[0]} to {expected[-1]} arguments")
    for form in forms:
        if len(form) == len(args) and all(
                family in _family_of(a.data_type) for family, a in zip(form, args)):
            return
    given = ", ".join(f"<{type_name(a.data_type)}>" for a in args)
    supported = "\n".join(f"'{sql}(" + ", ".join(f"<{f}>" for f in form) + ")'"
                          for form in forms if len(form) == len(args))
    raise ValidationException(f"Cannot apply '{sql}' to arguments of type '{sql}({given})'. "
                              f"Supported form(s): {supported}")


def _nullable(args: Sequence[Resolved]) -> bool:
    return any(a.data_type.is_nullable for a in args)


def strict(args: Sequence[Resolved], fn: Callable[..., Any]) -> Evaluator:
    """An evaluator of ``fn`` on the argument values, NULL when any of them is NULL."""
    fs = [a.evaluate for a in args]
    if len(fs) == 1:
        (f0,) = fs
        return lambda row: None if (v := f0(row)) is None else fn(v)
    if len(fs) == 2:
        f0, f1 = fs

        def evaluate2(row: tuple) -> Any:
            x, y = f0(row), f1(row)
            return None if x is None or y is None else fn(x, y)
        return evaluate2

    def evaluate(row: tuple) -> Any:
        values = [f(row) for f in fs]
        return None if None in values else fn(*values)
    return evaluate


def _string(args: Sequence[Resolved], nullable: Optional[bool] = None) -> t.DataType:
    return _STRING(t.MAX_LENGTH, _nullable(args) if nullable is None else nullable)


def _symbol(arg: Resolved) -> Any:
    return arg.evaluate(())


# -- string functions -------------------------------------------------------------------------

def substring_sql(s: str, pos: int, length: int = t.MAX_LENGTH) -> Optional[str]:
    """Flink's ``SUBSTRING``: a 1-based start, a negative one counting from the end, 0 as 1;
    a negative length is NULL."""
    if length < 0:
        return None
    n = len(s)
    if pos > 0:
        start = pos - 1
        if start >= n:
            return ""
    elif pos < 0:
        start = n + pos
        if start < 0:
            return ""
    else:
        start = 0
    return s[start:start + length]


@builtin("substring", "substr")
def _substring(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["CHARACTER", "INTEGER"], ["CHARACTER", "INTEGER", "INTEGER"])
    return _string(args), strict(args, substring_sql)


@builtin("trim", "ltrim", "rtrim", "btrim")
def _trim(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    """``trim(s[, characters])``: the characters (default a space) cut from both ends
    (``ltrim``: the start, ``rtrim``: the end)."""
    if not args or not _is_string(args[0].data_type) and not isinstance(args[0].data_type,
                                                                            t.NullType):
        # Calcite names the trim characters' type (a space: CHAR(1))
        sql_type = type_name(args[1].data_type) if len(args) > 1 else "CHAR(1)"
        raise ValidationException(
            f"Cannot apply 'TRIM' to arguments of type 'TRIM([BOTH|LEADING|TRAILING] <SYMBOL> "
            f"FROM <{sql_type}>)'. Supported form(s): 'TRIM([BOTH|LEADING|TRAILING] <ANY> "
            f"FROM <STRING>)'")
    check(name, args, ["CHARACTER"], ["CHARACTER", "CHARACTER"])
    strip = {"trim": str.strip, "btrim": str.strip, "ltrim": str.lstrip,
             "rtrim": str.rstrip}[name]
    if len(args) == 1:
        return _string(args), strict(args, lambda s: strip(s, " "))
    return _string(args), strict(args, strip)


@builtin("replace")
def _replace(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["CHARACTER", "CHARACTER", "CHARACTER"])
    return _string(args), strict(args, str.replace)


@builtin("position")
def _position(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    """``position(needle, haystack)``: 1-based, 0 when absent."""
    check(name, args, ["CHARACTER", "CHARACTER"])
    return t.IntType(_nullable(args)), strict(args, lambda needle, s: s.find(needle) + 1)


@builtin("locate")
def _locate(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    """``locate(needle, haystack[, start])``: the first occurrence at or after ``start``."""
    check(name, args, ["CHARACTER", "CHARACTER"], ["CHARACTER", "CHARACTER", "INTEGER"])

    def locate(needle: str, s: str, start: int = 1) -> int:
        if start < 1:
            return 0
        return s.find(needle, start - 1) + 1
    return t.IntType(_nullable(args)), strict(args, locate)


@builtin("instr")
def _instr(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["CHARACTER", "CHARACTER"])
    return t.IntType(_nullable(args)), strict(args, lambda s, needle: s.find(needle) + 1)


def initcap(s: str) -> str:
    """Calcite's ``INITCAP``: a letter after anything but [A-Za-z0-9] is upper case, the
    other letters of a word lower case."""
    out = []
    start = True
    for ch in s:
        c = ord(ch)
        alnum = 47 < c < 58 or 64 < c < 91 or 96 < c < 123
        if start:
            if alnum:
                start = False
                if 96 < c < 123:
                    ch = chr(c - 32)
        elif 64 < c < 91:
            ch = chr(c + 32)
        elif not alnum:
            start = True
        out.append(ch)
    return "".join(out)


@builtin("initcap", "init_cap")
def _initcap(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check("initcap", args, ["CHARACTER"])
    return _string(args), strict(args, initcap)


def _pad(left: bool) -> Callable[[str, int, str], Optional[str]]:
    def pad(s: str, length: int, filler: str) -> Optional[str]:
        if length < 0 or filler == "":
            return None
        if length <= len(s):
            return s[:length]
        count = length - len(s)
        fill = (filler * (count // len(filler) + 1))[:count]
        return fill + s if left else s + fill
    return pad


@builtin("lpad", "rpad")
def _lpad(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["CHARACTER", "INTEGER", "CHARACTER"])
    return t.VarCharType(t.MAX_LENGTH, True), strict(args, _pad(name == "lpad"))


@builtin("repeat")
def _repeat(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["CHARACTER", "INTEGER"])
    return _string(args), strict(args, lambda s, n: s * n if n > 0 else "")


@builtin("reverse")
def _reverse(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["CHARACTER"])
    return _string(args), strict(args, lambda s: s[::-1])


def split_index(s: str, separator: str, index: int) -> Optional[str]:
    """The ``index``-th (0-based) token of ``s`` split at ``separator``; NULL out of range
    (Flink: commons-lang's splitByWholeSeparatorPreserveAllTokens)."""
    if index < 0 or s == "":
        return None
    tokens = s.split(separator) if separator else s.split()
    return tokens[index] if index < len(tokens) else None


@builtin("split_index")
def _split_index(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["CHARACTER", "CHARACTER", "INTEGER"])
    return t.VarCharType(t.MAX_LENGTH, True), strict(args, split_index)


@builtin("concat_ws")
def _concat_ws(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    """``concat_ws(separator, s...)``: the non-NULL strings joined; NULL separator: NULL."""
    for a in args:
        if not _is_string(a.data_type) and not isinstance(a.data_type, t.NullType):
            check(name, args, ["CHARACTER"] * len(args))
    separator, fs = args[0].evaluate, [a.evaluate for a in args[1:]]

    def evaluate(row: tuple) -> Optional[str]:
        sep = separator(row)
        if sep is None:
            return None
        return sep.join(v for f in fs if (v := f(row)) is not None)
    return _string(args), evaluate


def java_regex(pattern: str) -> "re.Pattern[str]":
    """A Java regular expression compiled as Python's (the common syntax is the same)."""
    return re.compile(pattern)


def java_replacement(replacement: str) -> str:
    """A Java replacement string (``$1``, ``\\$``) as Python's ``re.sub`` template."""
    out = []
    i = 0
    while i < len(replacement):
        ch = replacement[i]
        if ch == "\\" and i + 1 < len(replacement):
            nxt = replacement[i + 1]
            out.append("\\\\" if nxt == "\\" else nxt)
            i += 2
        elif ch == "$" and i + 1 < len(replacement) and replacement[i + 1].isdigit():
            j = i + 1
            while j < len(replacement) and replacement[j].isdigit():
                j += 1
            out.append(f"\\g<{replacement[i + 1:j]}>")
            i = j
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _cached_regex() -> Callable[[str], Optional["re.Pattern[str]"]]:
    cache: Dict[str, Optional[re.Pattern]] = {}

    def compiled(pattern: str) -> Optional["re.Pattern[str]"]:
        found = cache.get(pattern, cache)
        if found is cache:
            try:
                found = java_regex(pattern)
            except re.error:  # Flink logs an invalid pattern and gives NULL
                found = None
            cache[pattern] = found
        return found  # type: ignore[return-value]
    return compiled


@builtin("regexp_replace")
def _regexp_replace(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["CHARACTER", "CHARACTER", "CHARACTER"])
    compiled = _cached_regex()

    def replace(s: str, pattern: str, replacement: str) -> Optional[str]:
        regex = compiled(pattern)
        if regex is None:
            return None
        try:
            return regex.sub(java_replacement(replacement), s)
        except (re.error, IndexError):
            return None
    return _string(args), strict(args, replace)


@builtin("regexp_extract")
def _regexp_extract(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    """``regexp_extract(s, regex[, group])``: the group (default 0, the whole match) of the
    first match; NULL without a match or for a group the regex does not have."""
    check(name, args, ["CHARACTER", "CHARACTER"], ["CHARACTER", "CHARACTER", "INTEGER"])
    compiled = _cached_regex()

    def extract(s: str, pattern: str, group: int = 0) -> Optional[str]:
        regex = compiled(pattern)
        if regex is None:
            return None
        match = regex.search(s)
        if match is None or not 0 <= group <= regex.groups:
            return None
        return match.group(group)
    return t.VarCharType(t.MAX_LENGTH, True), strict(args, extract)


@builtin("regexp")
def _regexp(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["CHARACTER", "CHARACTER"])
    compiled = _cached_regex()

    def matches(s: str, pattern: str) -> Optional[bool]:
        regex = compiled(pattern)
        return None if regex is None else regex.search(s) is not None
    return t.BooleanType(_nullable(args)), strict(args, matches)


def like_regex(pattern: str, escape: Optional[str] = None, similar: bool = False
               ) -> "re.Pattern[str]":
    """A SQL LIKE pattern (``%`` any run, ``_`` one character; ``similar``: SIMILAR TO's,
    whose other characters are regex syntax) as a regex matching the whole string."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if escape is not None and ch == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(ch if similar else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _pattern_function(similar: bool) -> Builder:
    def build(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
        try:
            check(name, args, ["STRING", "STRING"], ["STRING", "STRING", "STRING"])
        except ValidationException as exc:  # Calcite names only the form with ESCAPE
            raise ValidationException(str(exc).split(" Supported form(s):")[0] + (
                f" Supported form(s): '{name.upper()}(<STRING>, <STRING>, <STRING>)'")
            ) from None
        cache: Dict[Tuple[str, Optional[str]], re.Pattern] = {}

        def match(s: str, pattern: str, escape: Optional[str] = None) -> bool:
            regex = cache.get((pattern, escape))
            if regex is None:
                regex = cache[(pattern, escape)] = like_regex(pattern, escape, similar)
            return regex.fullmatch(s) is not None
        return t.BooleanType(_nullable(args)), strict(args, match)
    return build


BUILTINS["like"] = _pattern_function(False)
BUILTINS["similar"] = _pattern_function(True)


@builtin("overlay")
def _overlay(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    """``overlay(s, replacement, start[, length])``: ``length`` (default the replacement's
    length) characters from 1-based ``start`` replaced."""
    check(name, args, ["CHARACTER", "CHARACTER", "INTEGER"],
          ["CHARACTER", "CHARACTER", "INTEGER", "INTEGER"])

    def overlay(s: str, replacement: str, start: int, length: Optional[int] = None) -> str:
        if length is None:
            length = len(replacement)
        if start - 1 > len(s):  # Flink gives the string as it is
            return s
        return s[:max(0, start - 1)] + replacement + s[max(0, start - 1 + length):]
    return _string(args), strict(args, overlay)


@builtin("ascii")
def _ascii(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["CHARACTER"])
    return t.IntType(_nullable(args)), strict(args, lambda s: ord(s[0]) if s else 0)


@builtin("chr")
def _chr(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    """``chr(n)``: the character of ``n`` modulo 256 (Flink's); a negative ``n`` is ''."""
    check(name, args, ["INTEGER"])
    return _string(args), strict(args, lambda n: "" if n < 0 else chr(n & 0xFF))


@builtin("left", "right")
def _left(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["CHARACTER", "INTEGER"])
    if name == "left":
        return _string(args), strict(args, lambda s, n: s[:n] if n > 0 else "")
    return _string(args), strict(args, lambda s, n: s[len(s) - n:] if 0 < n < len(s)
                                 else (s if n > 0 else ""))


_HASHES = {"md5": (hashlib.md5, 32), "sha1": (hashlib.sha1, 40),
           "sha224": (hashlib.sha224, 56), "sha256": (hashlib.sha256, 64),
           "sha384": (hashlib.sha384, 96), "sha512": (hashlib.sha512, 128)}


@builtin(*_HASHES)
def _hash(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["CHARACTER"])
    digest, length = _HASHES[name]
    return t.CharType(length, _nullable(args)), strict(
        args, lambda s: digest(s.encode("utf-8")).hexdigest())


@builtin("to_base64")
def _to_base64(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["CHARACTER"])
    return _string(args), strict(args, lambda s: base64.b64encode(s.encode("utf-8")).decode())


@builtin("from_base64")
def _from_base64(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["CHARACTER"])
    return _string(args), strict(
        args, lambda s: base64.b64decode(s.encode("ascii")).decode("utf-8", "replace"))


@builtin("starts_with", "ends_with")
def _starts_with(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["CHARACTER", "CHARACTER"])
    test = str.startswith if name == "starts_with" else str.endswith
    return t.BooleanType(_nullable(args)), strict(args, test)


# -- IN, BETWEEN, IS DISTINCT FROM, IF, NULLIF, GREATEST/LEAST -------------------------------

def _comparable_check(name: str, args: Sequence[Resolved]) -> None:
    common_type([a.data_type for a in args])  # refuses incomparable types


@builtin("in")
def _in(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    """``value IN (list)``, three-valued: NULL for a NULL value, TRUE when found, else NULL
    if the list holds a NULL, else FALSE."""
    _comparable_check(name, args)
    value, items = args[0].evaluate, [a.evaluate for a in args[1:]]
    if all(a.constant for a in args[1:]):
        constants = [f(()) for f in items]
        has_null = None in constants
        members = [c for c in constants if c is not None]
        try:
            lookup: Any = frozenset(members)
        except TypeError:
            lookup = members

        def evaluate_constant(row: tuple) -> Optional[bool]:
            v = value(row)
            if v is None:
                return None
            if v in lookup:
                return True
            return None if has_null else False
        return t.BooleanType(_nullable(args)), evaluate_constant

    def evaluate(row: tuple) -> Optional[bool]:
        v = value(row)
        if v is None:
            return None
        unknown = False
        for f in items:
            x = f(row)
            if x is None:
                unknown = True
            elif x == v:
                return True
        return None if unknown else False
    return t.BooleanType(_nullable(args)), evaluate


@builtin("between", "not_between", "between_symmetric", "not_between_symmetric")
def _between(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    """``x BETWEEN lo AND hi`` as ``x >= lo AND x <= hi`` (three-valued); SYMMETRIC swaps
    bounds given in the wrong order."""
    _comparable_check(name, args)
    fx, flo, fhi = (a.evaluate for a in args)
    negate = name.startswith("not_")
    symmetric = name.endswith("_symmetric")

    def evaluate(row: tuple) -> Optional[bool]:
        x, lo, hi = fx(row), flo(row), fhi(row)
        if symmetric and lo is not None and hi is not None and lo > hi:
            lo, hi = hi, lo
        above = None if x is None or lo is None else x >= lo
        below = None if x is None or hi is None else x <= hi
        if above is False or below is False:
            result: Optional[bool] = False
        elif above is None or below is None:
            result = None
        else:
            result = True
        return result if result is None or not negate else not result
    return t.BooleanType(_nullable(args)), evaluate


@builtin("is_distinct_from", "is_not_distinct_from")
def _is_distinct_from(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    _comparable_check(name, args)
    fa, fb = args[0].evaluate, args[1].evaluate
    distinct = name == "is_distinct_from"

    def evaluate(row: tuple) -> bool:
        x, y = fa(row), fb(row)
        if x is None or y is None:
            same = x is None and y is None
        else:
            same = x == y
        return not same if distinct else same
    return t.BooleanType(False), evaluate


@builtin("nullif")
def _nullif(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    """``nullif(a, b)``: NULL where ``a = b``, else ``a``."""
    check(name, args, ["ANY", "ANY"])
    _comparable_check(name, args)
    fa, fb = args[0].evaluate, args[1].evaluate

    def evaluate(row: tuple) -> Any:
        x = fa(row)
        return None if x is not None and x == fb(row) else x
    return args[0].data_type.nullable(), evaluate


@builtin("greatest", "least")
def _greatest(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    """The largest (smallest) argument in their common type; NULL if any is NULL."""
    result = common_type([a.data_type for a in args])
    convert = _wrap(result) if _is_numeric(result) else (lambda v: v)
    pick = max if name == "greatest" else min
    fs = [a.evaluate for a in args]

    def evaluate(row: tuple) -> Any:
        values = [f(row) for f in fs]
        return None if None in values else convert(pick(values))
    return result, evaluate


# -- math functions ---------------------------------------------------------------------------

def _round_int(v: int, places: int, rounding: str) -> int:
    if places >= 0:
        return v
    return int(Decimal(v).quantize(Decimal(1).scaleb(-places), rounding))


def _round_double(v: float, places: int, rounding: str) -> float:
    if v != v or v in (math.inf, -math.inf):
        return v
    # as Flink's: through BigDecimal.valueOf(v), the shortest repr
    result = float(Decimal(repr(v)).quantize(Decimal(1).scaleb(-places), rounding))
    return 0.0 if result == 0 else result


def _rounding(name: str, args: List[Resolved], rounding: str) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["NUMERIC"], ["NUMERIC", "INTEGER"])
    x = args[0].data_type
    places_arg = args[1] if len(args) == 2 else None
    if places_arg is not None and places_arg.constant:
        places = places_arg.evaluate(())
    else:
        places = 0 if places_arg is None else None
    nullable = _nullable(args)
    if isinstance(x, t.DecimalType):
        if places is None:
            raise ValidationException(f"{name.upper()} of a DECIMAL needs a literal number of "
                                      f"places")
        result: t.DataType = decimals.round_type(x, places, nullable)
        quantum = Decimal(1).scaleb(-places)
        fit = decimals.fitter(result)  # type: ignore[arg-type]

        def round_decimal(v: Decimal, p: int = 0) -> Optional[Decimal]:
            return fit(v.quantize(quantum, rounding))
        fn: Callable[..., Any] = round_decimal
    elif _is_integer(x):
        result = x.nullable() if nullable else x.not_null()
        wrap = _wrap(result)
        fn = lambda v, p=0: wrap(_round_int(v, p, rounding))  # noqa: E731
    else:
        result = x.nullable() if nullable else x.not_null()
        wrap = _wrap(result)
        fn = lambda v, p=0: wrap(_round_double(v, p, rounding))  # noqa: E731
    return result, strict(args, fn)


@builtin("round")
def _round(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    """``round(x[, places])``: HALF_UP (away from zero on a tie) to ``places`` decimal
    places, negative ones rounding to tens, hundreds, ..."""
    return _rounding(name, args, ROUND_HALF_UP)


@builtin("truncate")
def _truncate(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    """``truncate(x[, places])``: cut toward zero to ``places`` decimal places."""
    return _rounding(name, args, ROUND_DOWN)


def _java_floor(v: float) -> float:
    if v != v or v in (math.inf, -math.inf):
        return v
    return float(math.floor(v))


def _java_ceil(v: float) -> float:
    if v != v or v in (math.inf, -math.inf):
        return v
    r = float(math.ceil(v))
    return -0.0 if r == 0 and (v < 0 or math.copysign(1.0, v) < 0) else r


@builtin("floor", "ceil")
def _floor(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    if len(args) == 1 and not _is_numeric(args[0].data_type) and not isinstance(
            args[0].data_type, t.NullType):
        raise ValidationException(f"{name.upper()} of a {args[0].data_type.sql()} is not "
                                  f"supported yet")
    check(name, args, ["NUMERIC"])
    x = args[0].data_type
    if isinstance(x, t.DecimalType):
        rounding = "ROUND_FLOOR" if name == "floor" else "ROUND_CEILING"
        result: t.DataType = t.DecimalType(x.precision, 0, x.is_nullable)
        return result, strict(args, lambda v: v.quantize(Decimal(1), rounding))
    if _is_integer(x):
        return x, args[0].evaluate
    wrap = _wrap(x)
    op = _java_floor if name == "floor" else _java_ceil
    return x, strict(args, lambda v: wrap(op(v)))


def java_pow(x: float, y: float) -> float:
    """``Math.pow``: infinities and NaN where Python raises."""
    if x == 0 and y < 0:  # Java: an infinity, negative for -0.0 to an odd power
        odd = y == int(y) and int(y) % 2 == 1
        return -math.inf if odd and math.copysign(1.0, x) < 0 else math.inf
    try:
        return math.pow(x, y)
    except ZeroDivisionError:
        odd = y == int(y) and int(y) % 2 == 1
        return -math.inf if odd and math.copysign(1.0, x) < 0 else math.inf
    except ValueError:
        return math.nan
    except OverflowError:
        odd = y == int(y) and int(y) % 2 == 1
        return -math.inf if x < 0 and odd else math.inf


def _java_unary(f: Callable[[float], float], at_zero: Optional[float] = None
                ) -> Callable[[float], float]:
    def apply(v: float) -> float:
        try:
            return f(v)
        except ValueError:  # a domain error: NaN, or Java's value at a pole
            if v == 0 and at_zero is not None:
                return at_zero
            return math.nan
        except OverflowError:
            return math.inf
    return apply


def _ln(v: float) -> float:
    return math.log(v)


_UNARY_MATH: Dict[str, Callable[[float], float]] = {
    "sqrt": _java_unary(math.sqrt), "exp": _java_unary(math.exp),
    "ln": _java_unary(_ln, -math.inf), "log10": _java_unary(math.log10, -math.inf),
    "log2": _java_unary(lambda v: math.log(v) / math.log(2), -math.inf),
    "sin": math.sin, "cos": math.cos, "tan": math.tan,
    "cot": _java_unary(lambda v: 1.0 / math.tan(v), math.inf),
    "asin": _java_unary(math.asin), "acos": _java_unary(math.acos), "atan": math.atan,
    "sinh": _java_unary(math.sinh), "cosh": _java_unary(math.cosh), "tanh": math.tanh,
    "degrees": math.degrees, "radians": math.radians,
}


def _finite_or(f: Callable[[float], float]) -> Callable[[float], float]:
    """``f`` with Java's results for infinities and NaN (Python raises for some)."""
    def apply(v: float) -> float:
        if v != v:
            return math.nan
        try:
            return f(v)
        except (ValueError, OverflowError):
            return math.nan
    return apply


@builtin(*_UNARY_MATH)
def _unary_math(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["NUMERIC"])
    f = _finite_or(_UNARY_MATH[name])
    return t.DoubleType(_nullable(args)), strict(args, lambda v: f(float(v)))


@builtin("log")
def _log(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    """``log(x)`` is ``ln(x)``; ``log(base, x)`` is ``ln(x) / ln(base)``."""
    check(name, args, ["NUMERIC"], ["NUMERIC", "NUMERIC"])
    ln = _finite_or(_UNARY_MATH["ln"])
    if len(args) == 1:
        return t.DoubleType(_nullable(args)), strict(args, lambda v: ln(float(v)))

    def log(base: Any, v: Any) -> float:
        denominator = ln(float(base))
        numerator = ln(float(v))
        try:
            return numerator / denominator
        except ZeroDivisionError:
            return math.nan if numerator == 0 or numerator != numerator else \
                math.copysign(math.inf, numerator) * math.copysign(1.0, denominator)
    return t.DoubleType(_nullable(args)), strict(args, log)


@builtin("power")
def _power(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["NUMERIC", "NUMERIC"])
    return t.DoubleType(_nullable(args)), strict(args, lambda x, y: java_pow(float(x), float(y)))


@builtin("atan2")
def _atan2(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["NUMERIC", "NUMERIC"])
    return t.DoubleType(_nullable(args)), strict(args, lambda y, x: math.atan2(float(y),
                                                                               float(x)))


@builtin("mod_function")
def _mod_function(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    """SQL's ``MOD(a, b)``: ``a % b`` of exact numbers only."""
    check("mod", args, ["EXACT_NUMERIC", "EXACT_NUMERIC"])
    from flink_py.table.expressions import _arithmetic
    return _arithmetic("mod", args)


@builtin("sign")
def _sign(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["NUMERIC"])
    x = args[0].data_type
    if isinstance(x, t.DecimalType):
        fit = decimals.fitter(x)
        return x, strict(args, lambda v: fit(Decimal((v > 0) - (v < 0))))
    if _is_integer(x):
        return x, strict(args, lambda v: (v > 0) - (v < 0))
    wrap = _wrap(x)
    return x, strict(args, lambda v: v if v == 0 or v != v else wrap(math.copysign(1.0, v)))


@builtin("pi", "e")
def _constant(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, [])
    value = math.pi if name == "pi" else math.e
    return t.DoubleType(False), lambda row: value


@builtin("bin")
def _bin(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    """``bin(n)``: Java's ``Long.toBinaryString`` (two's complement for a negative)."""
    check(name, args, ["INTEGER"])
    return _string(args), strict(args, lambda v: format(v & 0xFFFFFFFFFFFFFFFF, "b"))


@builtin("hex")
def _hex(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    """``hex(n)`` of an integer (two's complement) or of a string's UTF-8 bytes, upper case."""
    check(name, args, ["INTEGER"], ["CHARACTER"])
    if _is_string(args[0].data_type):
        return _string(args), strict(args, lambda s: s.encode("utf-8").hex().upper())
    return _string(args), strict(args, lambda v: format(v & 0xFFFFFFFFFFFFFFFF, "X"))


# -- the Table API's and SQL's names ------------------------------------------------------------

def call(name: str, *args: Any) -> Expression:
    """A call of the built-in ``name`` on ``args`` (expressions or Python values)."""
    from flink_py.table.expressions import Call
    return Call(name, [_to_expr(a) for a in args])


def concat_ws(separator: Any, first: Any, *others: Any) -> Expression:
    """The non-NULL strings joined with ``separator``."""
    return call("concat_ws", separator, first, *others)


def pi() -> Expression:
    """The number pi."""
    return call("pi")


def e() -> Expression:
    """Euler's number."""
    return call("e")


def log(v: Any, base: Any = None) -> Expression:
    """The natural logarithm of ``v``, or its logarithm to ``base``."""
    return call("log", v) if base is None else call("log", base, v)


def atan2(y: Any, x: Any) -> Expression:
    """The arc tangent of ``y / x``."""
    return call("atan2", y, x)


def negative(v: Any) -> Expression:
    """``-v``."""
    return call("minus_prefix", v)


def json_string(value: Any) -> Expression:
    """``value`` serialized as a JSON string."""
    return call("json_string", value)


def json_object(on_null: Any = None, *args: Any) -> Expression:
    """A JSON object string of the key/value pairs ``args``; ``on_null``
    (``JsonOnNull.NULL`` by default) says whether a NULL value is kept."""
    from flink_py.table.expression import JsonOnNull
    return call("json_object", Symbol(on_null or JsonOnNull.NULL), *args)


def json_array(on_null: Any = None, *args: Any) -> Expression:
    """A JSON array string of ``args``; ``on_null`` (``JsonOnNull.ABSENT`` by default) says
    whether a NULL element is kept."""
    from flink_py.table.expression import JsonOnNull
    return call("json_array", Symbol(on_null or JsonOnNull.ABSENT), *args)


# the JSON functions register themselves in BUILTINS (imported last: they build on this module)
from flink_py.table import json_functions  # noqa: E402,F401
