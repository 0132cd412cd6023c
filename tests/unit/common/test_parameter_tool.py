"""ParameterTool, following Flink's ParameterToolTest / AbstractParameterToolTest."""

from __future__ import annotations

import math

import pytest

from flink_py.common.configuration import Configuration
from flink_py.common.utils import NO_VALUE_KEY, ParameterTool
from flink_py.errors import ConfigurationError


def test_from_cli_args_as_flinks_test() -> None:
    params = ParameterTool.from_args([
        "--input", "myInput", "-expectedCount", "15", "--withoutValues",
        "--negativeFloat", "-0.58", "-isWorking", "true", "--maxByte", "127",
        "-negativeShort", "-1024",
    ])
    assert params.get_number_of_parameters() == 7
    assert params.get_required("input") == "myInput"
    assert params.get("output", "myDefaultValue") == "myDefaultValue"
    assert params.get("whatever") is None
    assert params.get_long("expectedCount", -1) == 15
    assert params.has("withoutValues")
    assert params.get("withoutValues") == NO_VALUE_KEY == "__NO_VALUE_KEY"
    assert params.get_float("negativeFloat") == pytest.approx(-0.58)
    assert params.get_boolean("isWorking") is True
    assert params.get_byte("maxByte") == 127
    assert params.get_short("negativeShort") == -1024


def test_flags() -> None:
    assert ParameterTool.from_args(["-berlin"]).to_dict() == {"berlin": NO_VALUE_KEY}
    params = ParameterTool.from_args(["--a", "-b", "-c", "-d", "--e", "--f"])
    assert params.get_number_of_parameters() == 6
    assert all(params.has(key) for key in "abcdef")


def test_negative_numbers_are_values_not_keys() -> None:
    params = ParameterTool.from_args(["--offset", "-5", "--scale", "-1.5e3", "--hex", "-0x1F", "--x", "-y"])
    assert params.get_int("offset") == -5
    assert params.get_double("scale") == -1500.0
    assert params.get("hex") == "-0x1F"
    assert params.get("x") == NO_VALUE_KEY and params.has("y")


def test_duplicate_key_keeps_last_value_as_flink() -> None:
    assert ParameterTool.from_args(["--a", "1", "--a", "2"]).get("a") == "2"


@pytest.mark.parametrize(
    "args, message",
    [
        (["a"], r"Error parsing arguments '\[a\]' on 'a'. Please prefix keys with -- or -."),
        (["--a", "-b", "--"], r"The input \[--a, -b, --\] contains an empty argument"),
        (["--a", "-b", "-"], r"The input \[--a, -b, -\] contains an empty argument"),
        (["--a", "1", "stray"], "on 'stray'. Please prefix keys"),
    ],
)
def test_malformed_args(args: list[str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ParameterTool.from_args(args)


def test_missing_required_key() -> None:
    params = ParameterTool.from_args(["--output", "o"])
    with pytest.raises(ConfigurationError, match="No data for required key 'input'"):
        params.get_required("input")
    with pytest.raises(ConfigurationError, match="No data for required key 'port'"):
        params.get_int("port")
    with pytest.raises(ConfigurationError, match="No data for required key 'verbose'"):
        params.get_boolean("verbose")


@pytest.mark.parametrize(
    "getter, value, kind",
    [
        ("get_int", "abc", "an int"),
        ("get_int", "1.5", "an int"),
        ("get_int", "2147483648", "an int"),
        ("get_int", " 5", "an int"),
        ("get_int", "1_000", "an int"),
        ("get_long", "9223372036854775808", "a long"),
        ("get_short", "40000", "a short"),
        ("get_byte", "128", "a byte"),
        ("get_float", "fast", "a float"),
        ("get_double", "inf", "a double"),
        ("get_double", "1_0.5", "a double"),
    ],
)
def test_malformed_numbers_name_key_and_value(getter: str, value: str, kind: str) -> None:
    params = ParameterTool.from_map({"port": value})
    with pytest.raises(ConfigurationError, match=f"Value '{value}' of key 'port' is not {kind}"):
        getattr(params, getter)("port")
    with pytest.raises(ConfigurationError, match=f"of key 'port' is not {kind}"):
        getattr(params, getter)("port", 0)


def test_flag_without_value_is_not_a_number() -> None:
    params = ParameterTool.from_args(["-int"])
    with pytest.raises(ConfigurationError,
                       match="Value '__NO_VALUE_KEY' of key 'int' is not an int .* without a value"):
        params.get_int("int")


def test_numbers_and_defaults() -> None:
    params = ParameterTool.from_map({"i": "+7", "l": "-9223372036854775808", "f": "4f",
                                     "d": " 8.0 ", "nan": "NaN", "inf": "-Infinity", "h": "0x1p3"})
    assert params.get_int("i") == 7
    assert params.get_long("l") == -(2**63)
    assert params.get_float("f") == 4.0
    assert params.get_double("d") == 8.0
    assert math.isnan(params.get_double("nan"))
    assert params.get_double("inf") == -math.inf
    assert params.get_double("h") == 8.0
    assert params.get_int("missing", 3) == 3
    assert params.get_double("missing", 0.5) == 0.5
    assert params.get_boolean("missing", True) is True


def test_boolean_is_java_boolean_value_of() -> None:
    params = ParameterTool.from_args(["--a", "TRUE", "--b", "yes", "--flag"])
    assert params.get_boolean("a") is True
    assert params.get_boolean("b") is False  # anything but "true" is false, never an error
    assert params.get_boolean("flag") is False  # as in Flink; use has() for flags
    assert params.has("flag")


def test_unrequested_parameters() -> None:
    params = ParameterTool.from_args([
        "-boolean", "true", "-byte", "1", "-short", "2", "-int", "4", "-long", "8",
        "-float", "4.0", "-double", "8.0", "-string", "∞", "-flag",
    ])
    assert params.get_unrequested_parameters() == {
        "boolean", "byte", "short", "int", "long", "float", "double", "string", "flag"}
    params.get_boolean("boolean")
    params.get_byte("byte")
    params.get_short("short", 0)
    params.get_int("int")
    params.get_long("long")
    params.get_float("float")
    params.get_double("double")
    assert params.get_unrequested_parameters() == {"string", "flag"}
    assert "flag" in params
    params.get_required("string")
    assert params.get_unrequested_parameters() == set()
    params.to_dict()  # not tracked


def test_from_map_and_to_dict() -> None:
    params = ParameterTool.from_map({"a": "1", "b": True, "c": 2})
    assert params.to_dict() == {"a": "1", "b": "true", "c": "2"}
    assert params.to_map() == params.get_properties() == params.to_dict()
    assert params == ParameterTool.from_args(["--a", "1", "--b", "true", "--c", "2"])
    with pytest.raises(ConfigurationError, match="Unable to initialize from empty map"):
        ParameterTool.from_map(None)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="keys must be strings"):
        ParameterTool.from_map({1: "a"})  # type: ignore[dict-item]


def test_merge_with() -> None:
    left = ParameterTool.from_args(["--input", "myInput", "--shared", "left"])
    right = ParameterTool.from_map({"expectedCount": "15", "shared": "right"})
    left.get("input")
    merged = left.merge_with(right)
    assert merged.get_number_of_parameters() == 3
    assert merged.get_unrequested_parameters() == {"expectedCount", "shared"}
    assert merged.get("shared") == "right"
    assert merged.get_long("expectedCount", -1) == 15


def test_get_configuration() -> None:
    conf = ParameterTool.from_args(["--expectedCount", "15"]).get_configuration()
    assert isinstance(conf, Configuration)
    assert conf.get_integer("expectedCount", -1) == 15
