"""Flink's built-in scalar functions and DECIMAL, resolved and evaluated directly: result
types (Flink's LogicalTypeMerging for DECIMAL), HALF_UP rounding, overflow to NULL, NULL
handling, and the validation messages Calcite gives for wrong argument types. The values are
the ones PyFlink 2.3 printed in tests/fixtures/pyflink/table_{decimal,functions_*}.txt."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Sequence, Tuple

import pytest

from flink_py.table import DataTypes, ValidationException
from flink_py.table import decimals
from flink_py.table.expressions import Scope, col, concat_ws, lit, null_of
from flink_py.table.functions_builtin import like_regex, split_index, substring_sql
from flink_py.table.sql import parse_statement, to_expression
from flink_py.table.types import DecimalType


def resolve(expr: Any, columns: Sequence[Tuple[str, Any]] = ()) -> Any:
    return expr.resolve(Scope([n for n, _ in columns], [dt for _, dt in columns]))


def sql(text: str, columns: Sequence[Tuple[str, Any]] = ()) -> Any:
    return resolve(to_expression(parse_statement(f"SELECT {text} FROM T").expressions[0]),
                   columns)


A = ("a", DataTypes.DECIMAL(10, 2))
B = ("b", DataTypes.DECIMAL(5, 3))
I = ("i", DataTypes.INT())


@pytest.mark.parametrize("text, precision, scale", [
    ("a + b", 12, 3), ("a * b", 16, 5), ("a / b", 19, 8), ("a % b", 5, 3),
    ("a + i", 13, 2), ("a * i", 21, 2), ("a / i", 21, 13), ("i / b", 19, 6),
    ("CAST(2 AS DECIMAL(38, 10)) * CAST(3 AS DECIMAL(38, 10))", 38, 6),
])
def test_decimal_arithmetic_has_flinks_result_types(text, precision, scale):
    assert sql(text, [A, B, I]).data_type.sql().startswith(f"DECIMAL({precision}, {scale})")


def test_exact_literals_are_decimal_of_their_digits():
    assert sql("0.000").data_type == DecimalType(4, 3, False)
    assert sql("-1.5").data_type == DecimalType(2, 1, False)
    assert sql("1.5e0").data_type.sql() == "DOUBLE NOT NULL"
    assert sql("0.1 + 0.2").evaluate(()) == Decimal("0.3")
    assert resolve(lit(Decimal("1.50"))).data_type == DecimalType(3, 2, False)


def test_decimal_results_round_half_up_and_overflow_to_null():
    assert sql("10.0 / 3").evaluate(()) == Decimal("3.333333333333")
    assert sql("CAST(-2.5 AS DECIMAL(2, 0))").evaluate(()) == Decimal("-3")
    assert sql("CAST(2.45 AS DECIMAL(3, 1))").evaluate(()) == Decimal("2.5")
    assert sql("CAST(0.5 AS INT)").evaluate(()) == 0  # to an integer: cut toward zero
    assert sql("CAST(a AS DECIMAL(3, 1))", [A]).evaluate((Decimal("99999999.99"),)) is None
    with pytest.raises(ArithmeticError, match="Division by zero"):
        sql("a / 0", [A]).evaluate((Decimal("1.00"),))


def test_decimal_aggregate_and_round_types():
    assert decimals.sum_type(DecimalType(10, 2)) == DecimalType(38, 2)
    assert decimals.avg_type(DecimalType(5, 3)) == DecimalType(38, 6)
    assert decimals.avg_type(DecimalType(20, 10)) == DecimalType(38, 10)
    assert decimals.round_type(DecimalType(6, 3), -2, True) == DecimalType(4, 0)
    assert decimals.round_type(DecimalType(6, 3), 2, True) == DecimalType(6, 2)


def test_double_arithmetic_never_becomes_decimal():
    r = sql("a + d", [A, ("d", DataTypes.DOUBLE())])
    assert r.data_type.sql() == "DOUBLE"
    assert r.evaluate((Decimal("12.34"), 2.5)) == 14.84
    assert type(sql("d * 2", [("d", DataTypes.DOUBLE())]).evaluate((1.5,))) is float


def test_substring_counts_from_one_from_the_end_and_gives_null_for_a_negative_length():
    assert substring_sql("Hello World", 2, 3) == "ell"
    assert substring_sql("Hello World", 0, 2) == "He"
    assert substring_sql("Hello World", -3) == "rld"
    assert substring_sql("Hello World", 20) == ""
    assert substring_sql("flink sql", 2, -1) is None


def test_split_index_like_and_in_follow_flink():
    assert split_index("a,b,,c", ",", 2) == ""
    assert split_index("a,b,,c", ",", 9) is None and split_index("", ",", 0) is None
    assert like_regex("100!%", "!").fullmatch("100%")
    assert not like_regex("H_llo%").fullmatch("Hllo")
    s = ("n", DataTypes.INT())
    in_list = sql("n IN (1, 3, NULL)", [s])
    assert [in_list.evaluate((v,)) for v in (3, -1, None)] == [True, None, None]


def test_table_api_methods_call_the_same_builtins():
    s = ("s", DataTypes.STRING())
    assert resolve(col("s").substring(2, 3), [s]).evaluate(("Hello",)) == "ell"
    assert resolve(col("s").locate("hello"), [s]).evaluate(("l",)) == 3
    assert resolve(concat_ws("-", col("s"), null_of(DataTypes.STRING()), "x"),
                   [s]).evaluate(("a",)) == "a-x"
    assert resolve(lit(646.646).round(2)).evaluate(()) == 646.65
    assert resolve(lit(7).round(-1)).evaluate(()) == 10


def test_math_gives_javas_infinities_and_nan():
    assert sql("POWER(0.0, -1)").evaluate(()) == float("inf")
    assert sql("LN(0.0)").evaluate(()) == float("-inf")
    nan = sql("SQRT(-1.0)").evaluate(())
    assert nan != nan
    assert sql("ABS(-2147483648)").evaluate(()) == -2147483648  # INT wraps, as Java's


@pytest.mark.parametrize("text, message", [
    ("SUBSTRING(i, 1)", "Cannot apply 'SUBSTRING' to arguments of type "
                        "'SUBSTRING(<INTEGER>, <INTEGER>)'. Supported form(s): "
                        "'SUBSTRING(<CHARACTER>, <INTEGER>)'"),
    ("MOD(d, 2)", "Cannot apply 'MOD' to arguments of type 'MOD(<DOUBLE>, <INTEGER>)'. "
                  "Supported form(s): 'MOD(<EXACT_NUMERIC>, <EXACT_NUMERIC>)'"),
    ("POWER(i)", "Invalid number of arguments to function 'POWER'. Was expecting 2 "
                 "arguments"),
])
def test_wrong_argument_types_get_calcites_message(text, message):
    with pytest.raises(ValidationException) as caught:
        sql(text, [I, ("d", DataTypes.DOUBLE())])
    assert str(caught.value) == message


J = ("j", DataTypes.STRING())
DOC = '{"a": 1, "b": "x", "c": [1, 2, {"d": true}], "e": null, "f": 2.5, "g": {"h": "i"}}'


@pytest.mark.parametrize("text, document, expected", [
    ("JSON_VALUE(j, '$.a')", DOC, "1"), ("JSON_VALUE(j, '$.c')", DOC, None),
    ("JSON_VALUE(j, '$.c[2].d')", DOC, "true"), ("JSON_VALUE(j, '$.e')", DOC, None),
    ("JSON_VALUE(j, '$[1]')", '[10, 20, "thirty"]', "20"),
    ("JSON_VALUE(j, '$.a')", "not json", None),
    ("JSON_VALUE(j, '$.a' RETURNING INT)", DOC, 1),
    ("JSON_VALUE(j, 'strict $.zz' DEFAULT 'serr' ON ERROR)", DOC, "serr"),
    ("JSON_QUERY(j, '$.c')", DOC, '[1,2,{"d":true}]'), ("JSON_QUERY(j, '$.a')", DOC, None),
    ("JSON_QUERY(j, '$.a' WITH CONDITIONAL ARRAY WRAPPER)", DOC, "[1]"),
    ("JSON_QUERY(j, '$.c' WITH UNCONDITIONAL ARRAY WRAPPER)", DOC, '[[1,2,{"d":true}]]'),
    ("JSON_QUERY(j, 'strict $.zz' EMPTY ARRAY ON ERROR)", DOC, "[]"),
    ("JSON_EXISTS(j, '$.a')", DOC, True), ("JSON_EXISTS(j, '$.zz')", DOC, False),
    ("JSON_EXISTS(j, 'strict $.zz' TRUE ON ERROR)", DOC, True),
    ("JSON_EXISTS(j, 'strict $.zz' UNKNOWN ON ERROR)", DOC, None),
    ("JSON_OBJECT('id' VALUE 3, 'j' VALUE j)", None, '{"id":3,"j":null}'),
    ("JSON_OBJECT('id' VALUE 3, 'j' VALUE j ABSENT ON NULL)", None, '{"id":3}'),
    ("JSON_ARRAY(3, j)", None, "[3]"), ("JSON_ARRAY(3, j NULL ON NULL)", None, "[3,null]"),
])
def test_json_functions_give_what_pyflink_printed(text, document, expected):
    assert sql(text, [J]).evaluate((document,)) == expected
