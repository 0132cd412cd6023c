"""Flink's ``ParameterTool``: read program arguments (``--key value``) and maps of parameters.

The parsing rules are Flink's (``org.apache.flink.util.ParameterTool``):

* keys start with ``--`` or ``-``; anything else where a key is expected is an error;
* a key followed by another key, or by nothing, is a flag: its value is ``"__NO_VALUE_KEY"``;
* a value that looks like a number is always a value, so ``--offset -5`` gives ``"-5"``;
* a key given twice keeps the last value.

Getters mark keys as requested, so :meth:`ParameterTool.get_unrequested_parameters` can
report arguments the program never looked at (typos, stale flags).
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from flink_py.errors import ConfigurationError

__all__ = ["ParameterTool"]

#: The value of a key given without a value (a flag), exactly as in Flink.
NO_VALUE_KEY = "__NO_VALUE_KEY"

_MISSING: Any = object()

_INT_RANGE = (-(1 << 31), (1 << 31) - 1)
_LONG_RANGE = (-(1 << 63), (1 << 63) - 1)
_SHORT_RANGE = (-(1 << 15), (1 << 15) - 1)
_BYTE_RANGE = (-(1 << 7), (1 << 7) - 1)

# Integer.parseInt / Long.parseLong: an optional sign and ASCII digits, nothing else.
_JAVA_INTEGER = re.compile(r"[+-]?[0-9]+")
# Double.valueOf after trimming (decimal and hex forms, NaN, Infinity, an f/d suffix).
_JAVA_FLOATING = re.compile(
    r"[+-]?(?:NaN|Infinity"
    r"|(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+)[fFdD]?)"
)
# commons-lang3 NumberUtils.isCreatable (what fromArgs uses to accept "-5" as a value):
# decimal with optional fraction/exponent and type suffix, or hex / octal integers.
_CREATABLE_NUMBER = re.compile(
    r"[+-]?(?:"
    r"(?:0[xX]|#)[0-9a-fA-F]+[lL]?"
    r"|[0-9]+[lL]"
    r"|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?"
    r")"
)


def _java_bool_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


class ParameterTool:
    """Utility methods for reading and parsing program arguments from different sources.

    Example::

        >>> params = ParameterTool.from_args(["--input", "in.txt", "-port", "8080", "--verbose"])
        >>> params.get_required("input"), params.get_int("port"), params.has("verbose")
        ('in.txt', 8080, True)
        >>> params.get("output", "out.txt")
        'out.txt'
    """

    def __init__(self, data: Mapping[str, str]) -> None:
        """Creates a tool over ``data``; prefer :meth:`from_args` and :meth:`from_map`."""
        self._data: dict[str, str] = dict(data)
        self._unrequested: set[str] = set(self._data)

    # ---------------------------------------------------------------- constructors

    @staticmethod
    def from_args(args: list[str]) -> "ParameterTool":
        """Returns a :class:`ParameterTool` for the given program arguments.

        Example arguments: ``--key1 value1 --key2 value2 -key3 value3 --flag``.

        :param args: The arguments, without the program name.
        :return: The parameters.
        :raises ConfigurationError: If an argument where a key is expected does not start
                                    with ``-``, or is only ``-`` / ``--``.
        """
        args = list(args)
        data: dict[str, str] = {}
        i = 0
        while i < len(args):
            arg = args[i]
            if not isinstance(arg, str):
                raise ConfigurationError(
                    f"Error parsing arguments {_java_list(args)}: argument {arg!r} is not a string"
                )
            if arg.startswith("--"):
                key = arg[2:]
            elif arg.startswith("-"):
                key = arg[1:]
            else:
                raise ConfigurationError(
                    f"Error parsing arguments '{_java_list(args)}' on '{arg}'. "
                    "Please prefix keys with -- or -."
                )
            if not key:
                raise ConfigurationError(
                    f"The input {_java_list(args)} contains an empty argument"
                )
            i += 1
            if i >= len(args):
                data[key] = NO_VALUE_KEY
            elif _CREATABLE_NUMBER.fullmatch(args[i]):
                # A negative number is a value, not the next key.
                data[key] = args[i]
                i += 1
            elif args[i].startswith("-"):
                data[key] = NO_VALUE_KEY
            else:
                data[key] = args[i]
                i += 1
        return ParameterTool(data)

    @staticmethod
    def from_map(map: Mapping[str, Any]) -> "ParameterTool":
        """Returns a :class:`ParameterTool` for the given map.

        Values that are not strings are converted (``True`` becomes ``"true"``, as Java
        prints it).

        :param map: A map of arguments; keys must be strings.
        :raises ConfigurationError: If ``map`` is ``None`` or has a non-string key.
        """
        if map is None:
            raise ConfigurationError("Unable to initialize from empty map")
        data: dict[str, str] = {}
        for key, value in map.items():
            if not isinstance(key, str):
                raise ConfigurationError(f"Parameter keys must be strings, got {key!r}")
            if value is None:
                raise ConfigurationError(f"The value of parameter '{key}' must not be None")
            data[key] = _java_bool_string(value)
        return ParameterTool(data)

    # ---------------------------------------------------------------- getters

    def get_number_of_parameters(self) -> int:
        """Returns the number of parameters."""
        return len(self._data)

    def get(self, key: str, default: str | None = None) -> str | None:
        """Returns the value for ``key``, or ``default`` if it does not exist.

        A flag given without a value returns ``"__NO_VALUE_KEY"``.
        """
        self._unrequested.discard(key)
        value = self._data.get(key)
        return default if value is None else value

    def get_required(self, key: str) -> str:
        """Returns the value for ``key``.

        :raises ConfigurationError: ``No data for required key '<key>'`` if it is missing.
        """
        self._unrequested.discard(key)
        value = self._data.get(key)
        if value is None:
            raise ConfigurationError(f"No data for required key '{key}'")
        return value

    def has(self, key: str) -> bool:
        """Checks if a value (or flag) is given for ``key``."""
        self._unrequested.discard(key)
        return key in self._data

    def get_int(self, key: str, default: int = _MISSING) -> int:
        """Returns the value for ``key`` as an int (Java's ``Integer.parseInt``).

        :param default: Returned if the key does not exist; without it the key is required.
        :raises ConfigurationError: If the key is required and missing, or the value is not
                                    an int in -2^31..2^31-1.
        """
        return self._get_integer(key, default, _INT_RANGE, "an int")

    def get_long(self, key: str, default: int = _MISSING) -> int:
        """Returns the value for ``key`` as a long (Java's ``Long.parseLong``)."""
        return self._get_integer(key, default, _LONG_RANGE, "a long")

    def get_short(self, key: str, default: int = _MISSING) -> int:
        """Returns the value for ``key`` as a short (-32768..32767)."""
        return self._get_integer(key, default, _SHORT_RANGE, "a short")

    def get_byte(self, key: str, default: int = _MISSING) -> int:
        """Returns the value for ``key`` as a byte (-128..127)."""
        return self._get_integer(key, default, _BYTE_RANGE, "a byte")

    def get_float(self, key: str, default: float = _MISSING) -> float:
        """Returns the value for ``key`` as a float (Java's ``Float.valueOf`` syntax).

        :raises ConfigurationError: If the key is required and missing, or the value is not
                                    a number.
        """
        return self._get_floating(key, default, "a float")

    def get_double(self, key: str, default: float = _MISSING) -> float:
        """Returns the value for ``key`` as a double (Java's ``Double.valueOf`` syntax)."""
        return self._get_floating(key, default, "a double")

    def get_boolean(self, key: str, default: bool = _MISSING) -> bool:
        """Returns the value for ``key`` as a boolean, as Java's ``Boolean.valueOf``.

        The result is ``True`` only if the value is ``"true"`` ignoring case; any other
        value is ``False``, never an error. As in Flink, a flag given without a value
        (``--verbose``) is ``False`` here: use :meth:`has` for flags.

        :param default: Returned if the key does not exist; without it the key is required.
        """
        value = self._lookup(key, default)
        if value is default:
            return default
        return value.lower() == "true"

    def _lookup(self, key: str, default: Any) -> Any:
        if default is _MISSING:
            return self.get_required(key)
        self._unrequested.discard(key)
        value = self._data.get(key)
        return default if value is None else value

    def _get_integer(self, key: str, default: Any, bounds: tuple[int, int], kind: str) -> int:
        value = self._lookup(key, default)
        if value is default:
            return default
        if _JAVA_INTEGER.fullmatch(value):
            number = int(value)
            if bounds[0] <= number <= bounds[1]:
                return number
        raise ConfigurationError(self._not_a(key, value, kind))

    def _get_floating(self, key: str, default: Any, kind: str) -> float:
        value = self._lookup(key, default)
        if value is default:
            return default
        text = value.strip()
        if _JAVA_FLOATING.fullmatch(text):
            if text[-1] in "fFdD" and not text.endswith("Infinity"):
                text = text[:-1]
            if text.lower().lstrip("+-").startswith("0x"):
                sign = -1.0 if text.startswith("-") else 1.0
                return sign * float.fromhex(text.lstrip("+-"))
            return float(text)
        raise ConfigurationError(self._not_a(key, value, kind))

    @staticmethod
    def _not_a(key: str, value: str, kind: str) -> str:
        message = f"Value '{value}' of key '{key}' is not {kind}"
        if value == NO_VALUE_KEY:
            message += f" (the argument --{key} was given without a value)"
        return message

    # ---------------------------------------------------------------- export & merge

    def get_unrequested_parameters(self) -> set[str]:
        """Returns the keys never requested through :meth:`has` or a ``get`` method.

        Access through :meth:`to_dict` is not tracked.
        """
        return set(self._unrequested)

    def to_dict(self) -> dict[str, str]:
        """Returns all parameters as a dict (a copy)."""
        return dict(self._data)

    def to_map(self) -> dict[str, str]:
        """Same as :meth:`to_dict` (Flink's ``toMap``)."""
        return dict(self._data)

    def get_configuration(self) -> Any:
        """Returns the parameters as a :class:`~flink_py.common.configuration.Configuration`."""
        from flink_py.common.configuration import Configuration

        return Configuration(self._data)

    def get_properties(self) -> dict[str, str]:
        """Returns the parameters as a dict (Flink's ``getProperties``)."""
        return dict(self._data)

    def merge_with(self, other: "ParameterTool") -> "ParameterTool":
        """Merges two tools; ``other``'s values win for keys in both.

        A key requested on either side stays requested in the result.
        """
        merged = ParameterTool({**self._data, **other._data})
        requested = (set(self._data) - self._unrequested) | (set(other._data) - other._unrequested)
        merged._unrequested -= requested
        return merged

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.has(key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParameterTool) and self._data == other._data

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"ParameterTool({self._data!r})"


def _java_list(args: list[Any]) -> str:
    # Java's Arrays.toString, which Flink's error messages use.
    return "[" + ", ".join(str(a) for a in args) + "]"
