"""PyFlink's ``Configuration``, options declared as data, and the config file loader.

* :class:`Configuration` has PyFlink's string-keyed accessors (``get_string``/``set_string``,
  ``get_integer``, ...) plus typed ones, ``get(option)`` / ``set(option, value)``, that parse
  values the way Flink's ``ConfigurationUtils`` does.
* :class:`ConfigOption` declares an option once: key, type, default, description and the old
  keys it is still read from. ``flink_py.common.config_options`` holds the declarations.
* :class:`GlobalConfiguration` loads ``config.yaml`` (Flink 1.19+, nested YAML) or the legacy
  ``flink-conf.yaml`` (flat ``key: value``) from a configuration directory.

Value syntax is Flink's: durations as ``TimeUtils.parseDuration`` (``"100 ms"``, ``"10s"``,
``"1 min"``; a bare number means milliseconds), memory sizes as ``MemorySize.parse``
(``"1728m"``, ``"1 gb"``; a bare number means bytes), booleans ``true``/``false`` in any case,
enums by name in any case, lists ``a;b;c`` and maps ``k1:v1,k2:v2``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import difflib
import datetime
import logging
import math
import os
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, List, Mapping, Optional, Tuple

import yaml

from flink_py.common.time import Duration
from flink_py.errors import ConfigurationError

__all__ = [
    "ConfigOption",
    "ConfigType",
    "Configuration",
    "GlobalConfiguration",
    "format_duration",
    "format_memory_size",
    "parse_duration",
    "parse_memory_size",
]

LOG = logging.getLogger(__name__)

_INT_MIN, _INT_MAX = -(1 << 31), (1 << 31) - 1
_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1
_JAVA_INTEGER = re.compile(r"[+-]?[0-9]+")
_JAVA_FLOATING = re.compile(
    r"[+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)[fFdD]?"
)
_LEADING_DIGITS = re.compile(r"[0-9]*")


class ConfigType(Enum):
    """The value types an option can have (Flink's ``ConfigOptions.key(..).xxxType()``)."""

    #: A Java int (32 bit).
    INT = "int"
    #: A Java long (64 bit).
    LONG = "long"
    #: A float (kept in double precision).
    FLOAT = "float"
    #: A double.
    DOUBLE = "double"
    #: ``true`` / ``false``, case-insensitive.
    BOOLEAN = "boolean"
    #: Any string.
    STRING = "string"
    #: A duration; read as integer milliseconds.
    DURATION = "duration"
    #: A memory size; read as integer bytes.
    MEMORY_SIZE = "memory"
    #: One of the option's ``choices`` (case-insensitive); read as the canonical choice.
    ENUM = "enum"
    #: A list of strings (``a;b;c`` in flat form).
    LIST = "list"
    #: A map of strings (``k1:v1,k2:v2`` in flat form).
    MAP = "map"


_EXPECTED_FORM = {
    ConfigType.INT: "an int in -2147483648..2147483647",
    ConfigType.LONG: "a long in -9223372036854775808..9223372036854775807",
    ConfigType.FLOAT: "a floating point number such as '0.5'",
    ConfigType.DOUBLE: "a floating point number such as '0.5'",
    ConfigType.BOOLEAN: "'true' or 'false' (case-insensitive)",
    ConfigType.STRING: "a string",
    ConfigType.DURATION: (
        "a duration such as '100 ms', '100ms', '10 s', '1 min', '2 h' or '1 d' "
        "(units d, h, min/m, s, ms, µs, ns and their long names; a bare number means "
        "milliseconds)"
    ),
    ConfigType.MEMORY_SIZE: (
        "a memory size such as '1728m', '64 mb', '1g' or '1024' (units b, k/kb, m/mb, g/gb, "
        "t/tb; a bare number means bytes)"
    ),
    ConfigType.LIST: "a list such as 'a;b;c'",
    ConfigType.MAP: "a map such as 'k1:v1,k2:v2'",
}


# --------------------------------------------------------------------------------------------
#  Durations and memory sizes (Flink's TimeUtils / MemorySize syntax)
# --------------------------------------------------------------------------------------------

_NANOS_PER_UNIT = {
    "DAYS": 86_400 * 10**9,
    "HOURS": 3_600 * 10**9,
    "MINUTES": 60 * 10**9,
    "SECONDS": 10**9,
    "MILLISECONDS": 10**6,
    "MICROSECONDS": 10**3,
    "NANOSECONDS": 1,
}
# TimeUtils.TimeUnit labels; "m" for minutes was added in later Flink versions.
_DURATION_LABELS = {
    "DAYS": ("d", "day", "days"),
    "HOURS": ("h", "hour", "hours"),
    "MINUTES": ("min", "m", "minute", "minutes"),
    "SECONDS": ("s", "sec", "secs", "second", "seconds"),
    "MILLISECONDS": ("ms", "milli", "millis", "millisecond", "milliseconds"),
    "MICROSECONDS": ("µs", "micro", "micros", "microsecond", "microseconds"),
    "NANOSECONDS": ("ns", "nano", "nanos", "nanosecond", "nanoseconds"),
}
_DURATION_LABEL_TO_NANOS = {
    label: _NANOS_PER_UNIT[unit] for unit, labels in _DURATION_LABELS.items() for label in labels
}
_FORMAT_UNITS = (("d", 86_400 * 10**9), ("h", 3_600 * 10**9), ("min", 60 * 10**9),
                 ("s", 10**9), ("ms", 10**6), ("µs", 10**3), ("ns", 1))

_MEMORY_UNITS = (
    (("b", "bytes"), 1),
    (("k", "kb", "kibibytes"), 1 << 10),
    (("m", "mb", "mebibytes"), 1 << 20),
    (("g", "gb", "gibibytes"), 1 << 30),
    (("t", "tb", "tebibytes"), 1 << 40),
)
_MEMORY_LABEL_TO_BYTES = {label: size for labels, size in _MEMORY_UNITS for label in labels}


def _split_number_and_unit(text: str) -> tuple[int, str]:
    trimmed = text.strip()
    if not trimmed:
        raise ValueError("the value is an empty or whitespace-only string")
    digits = _LEADING_DIGITS.match(trimmed).group()  # type: ignore[union-attr]
    if not digits:
        raise ValueError("the value does not start with a number")
    value = int(digits)
    if value > _LONG_MAX:
        raise ValueError(f"the number '{digits}' does not fit a 64-bit long")
    # µ lower-cases to itself; Flink lower-cases with Locale.US as well.
    return value, trimmed[len(digits):].strip().lower()


def _parse_duration_nanos(text: str) -> int:
    value, unit = _split_number_and_unit(text)
    if not unit:
        return value * 10**6
    nanos = _DURATION_LABEL_TO_NANOS.get(unit)
    if nanos is None:
        raise ValueError(f"the time unit '{unit}' is not one of the recognised units")
    return value * nanos


def parse_duration(text: str) -> Duration:
    """Parses a duration with Flink's ``TimeUtils.parseDuration`` syntax.

    ``"{number}{unit}"`` with optional whitespace between; units ``d``/``day``,
    ``h``/``hour``, ``min``/``m``/``minute``, ``s``/``sec``/``second``,
    ``ms``/``milli``/``millisecond``, ``µs``/``micro``, ``ns``/``nano`` (plurals allowed,
    case-insensitive). A bare number means milliseconds.

    :param text: The text to parse, e.g. ``"100 ms"``.
    :return: The duration.
    :raises ConfigurationError: If the text is not a duration.

    >>> parse_duration("1 min").to_milliseconds(), parse_duration("250").to_milliseconds()
    (60000, 250)
    """
    try:
        return Duration.of_nanos(_parse_duration_nanos(text))
    except ValueError as e:
        raise ConfigurationError(
            f"Could not parse duration {text!r}: {e}; expected "
            f"{_EXPECTED_FORM[ConfigType.DURATION]}"
        ) from None


def format_duration(duration: Duration | int) -> str:
    """Formats a duration in its largest exact unit, as Flink's ``formatWithHighestUnit``.

    :param duration: A :class:`Duration`, or an int of milliseconds.
    :return: e.g. ``"100 ms"``, ``"1 min"``, ``"3601 s"``.

    >>> format_duration(60_000), format_duration(Duration.of_seconds(3601))
    ('1 min', '3601 s')
    """
    nanos = duration.to_nanos() if isinstance(duration, Duration) else int(duration) * 10**6
    if nanos == 0:
        return "0 ms"
    for label, size in _FORMAT_UNITS:
        if nanos % size == 0:
            return f"{nanos // size} {label}"
    raise AssertionError("unreachable: every duration is a whole number of nanoseconds")


def parse_memory_size(text: str) -> int:
    """Parses a memory size with Flink's ``MemorySize.parse`` syntax into bytes.

    Units ``b``/``bytes``, ``k``/``kb``/``kibibytes``, ``m``/``mb``/``mebibytes``,
    ``g``/``gb``/``gibibytes``, ``t``/``tb``/``tebibytes`` (powers of 1024,
    case-insensitive); a bare number means bytes.

    :raises ConfigurationError: If the text is not a memory size.

    >>> parse_memory_size("1728m")
    1811939328
    """
    try:
        value, unit = _split_number_and_unit(text)
        if unit and unit not in _MEMORY_LABEL_TO_BYTES:
            raise ValueError(f"the memory unit '{unit}' is not one of the recognised units")
        result = value * _MEMORY_LABEL_TO_BYTES.get(unit, 1)
        if result > _LONG_MAX:
            raise ValueError("the size does not fit a 64-bit number of bytes")
        return result
    except ValueError as e:
        raise ConfigurationError(
            f"Could not parse memory size {text!r}: {e}; expected "
            f"{_EXPECTED_FORM[ConfigType.MEMORY_SIZE]}"
        ) from None


def format_memory_size(num_bytes: int) -> str:
    """Formats bytes in the largest exact unit, as Flink's ``MemorySize.toString``.

    >>> format_memory_size(1811939328), format_memory_size(100)
    ('1728 mb', '100 bytes')
    """
    for labels, size in reversed(_MEMORY_UNITS):
        if num_bytes % size == 0 and num_bytes != 0:
            return f"{num_bytes // size} {labels[1]}"
    return f"{num_bytes} bytes"


# --------------------------------------------------------------------------------------------
#  Value conversion (ConfigurationUtils)
# --------------------------------------------------------------------------------------------


def _to_flat_string(value: Any) -> str:
    """The string form of a stored value, as Flink's ``ConfigurationUtils.convertToString``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, Duration):
        return format_duration(value)
    if isinstance(value, datetime.timedelta):
        return format_duration(Duration.of_nanos(_timedelta_nanos(value)))
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (list, tuple)):
        return ";".join(_to_flat_string(element) for element in value)
    if isinstance(value, Mapping):
        return ",".join(
            f"{_to_flat_string(k)}:{_to_flat_string(v)}" for k, v in value.items()
        )
    return str(value)


def _timedelta_nanos(value: datetime.timedelta) -> int:
    return ((value.days * 86_400 + value.seconds) * 10**6 + value.microseconds) * 1000


#: the values a port option takes (0: any free port)
PORT_RANGE = (0, 65535)


class _BadValue(Exception):
    """Internal: a value that does not convert; the caller adds the key and expected form."""


def _convert_int(raw: Any, lo: int, hi: int) -> int:
    if isinstance(raw, bool):
        raise _BadValue
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and _JAVA_INTEGER.fullmatch(raw.strip()):
        value = int(raw.strip())
    else:
        raise _BadValue
    if not lo <= value <= hi:
        raise _BadValue
    return value


def _convert_float(raw: Any) -> float:
    if isinstance(raw, bool):
        raise _BadValue
    if isinstance(raw, (int, float)):
        return float(raw)
    if isinstance(raw, str):
        text = raw.strip()
        if _JAVA_FLOATING.fullmatch(text):
            if text[-1] in "fFdD" and not text.endswith("Infinity"):
                text = text[:-1]
            return float(text)
    raise _BadValue


def _convert_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        lowered = raw.strip().lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
    raise _BadValue


def _convert_duration_millis(raw: Any) -> int:
    if isinstance(raw, bool):
        raise _BadValue
    if isinstance(raw, int):
        return raw
    if isinstance(raw, Duration):
        return raw.to_milliseconds()
    if isinstance(raw, datetime.timedelta):
        return _timedelta_nanos(raw) // 10**6
    if isinstance(raw, str):
        try:
            return _parse_duration_nanos(raw) // 10**6
        except ValueError:
            raise _BadValue from None
    raise _BadValue


def _convert_memory(raw: Any) -> int:
    if isinstance(raw, bool):
        raise _BadValue
    if isinstance(raw, int):
        if raw < 0:
            raise _BadValue
        return raw
    if isinstance(raw, str):
        try:
            return parse_memory_size(raw)
        except ConfigurationError:
            raise _BadValue from None
    raise _BadValue


def _convert_list(raw: Any) -> list[str]:
    if isinstance(raw, (list, tuple)):
        return [_to_flat_string(element) for element in raw]
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(";") if part.strip()]
    raise _BadValue


def _convert_map(raw: Any) -> dict[str, str]:
    if isinstance(raw, Mapping):
        return {_to_flat_string(k): _to_flat_string(v) for k, v in raw.items()}
    if isinstance(raw, str):
        result: dict[str, str] = {}
        for entry in raw.split(","):
            if not entry.strip():
                continue
            k, sep, v = entry.partition(":")
            if not sep:
                raise _BadValue
            result[k.strip()] = v.strip()
        return result
    raise _BadValue


@dataclass(frozen=True)
class ConfigOption:
    """One configuration option, declared as data.

    :param key: Flink's key, e.g. ``"parallelism.default"``.
    :param type: A :class:`ConfigType`, or an :class:`~enum.Enum` subclass (values are then
                 read as its members, matched by name case-insensitively).
    :param default: The default in the type :meth:`Configuration.get` returns (ints of
                    milliseconds for durations, bytes for memory sizes), or ``None`` when the
                    option has no default.
    :param description: What the option does.
    :param deprecated_keys: Older keys still read, in order, when ``key`` is not set (a
                            warning is logged when one is used).
    :param choices: The accepted names of a :attr:`ConfigType.ENUM` option.
    :param fallback_keys: Other options' keys read, without a warning, when neither ``key``
                          nor a deprecated key is set (Flink's ``withFallbackKeys``, e.g.
                          ``rest.address`` falls back to ``jobmanager.rpc.address``).
    :param value_range: For an :attr:`ConfigType.INT` option, the inclusive ``(lowest,
                        highest)`` values accepted (e.g. :data:`PORT_RANGE` for ports).

    Example::

        >>> PORT = ConfigOption("rest.port", ConfigType.INT, 8081, "The REST port.")
        >>> Configuration().set_string("rest.port", "9000").get(PORT)
        9000
    """

    key: str
    type: Any
    default: Any
    description: str = ""
    deprecated_keys: tuple[str, ...] = ()
    choices: tuple[str, ...] = field(default=(), kw_only=True)
    fallback_keys: tuple[str, ...] = field(default=(), kw_only=True)
    value_range: Optional[Tuple[int, int]] = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key:
            raise ConfigurationError(
                f"A config option needs a non-empty string key, got {self.key!r}"
            )
        if not (isinstance(self.type, ConfigType)
                or (isinstance(self.type, type) and issubclass(self.type, Enum))):
            raise ConfigurationError(
                f"Config option '{self.key}' has type {self.type!r}; expected a ConfigType "
                "or an Enum subclass"
            )
        if self.type is ConfigType.ENUM and not self.choices:
            raise ConfigurationError(f"Config option '{self.key}' of type ENUM needs choices")
        object.__setattr__(self, "deprecated_keys", tuple(self.deprecated_keys))
        object.__setattr__(self, "choices", tuple(self.choices))
        object.__setattr__(self, "fallback_keys", tuple(self.fallback_keys))
        if self.default is not None:
            # Canonicalise (and so validate) the declared default once.
            object.__setattr__(self, "default", self.convert(self.default, self.key))

    def has_default_value(self) -> bool:
        """Whether the option has a default value."""
        return self.default is not None

    def expected_form(self) -> str:
        """Describes the accepted values, for error messages and docs."""
        if isinstance(self.type, type):
            return "one of " + ", ".join(member.name for member in self.type)
        if self.type is ConfigType.ENUM:
            return "one of " + ", ".join(self.choices)
        if self.value_range is not None:
            lowest, highest = self.value_range
            what = "a port" if self.value_range == PORT_RANGE else "an int"
            return f"{what} in {lowest}..{highest}"
        return _EXPECTED_FORM[self.type]

    def convert(self, raw: Any, key: str | None = None) -> Any:
        """Converts a raw value (as set or read from a file) to this option's type.

        :param raw: The raw value.
        :param key: The key the value was stored under, for the error message.
        :return: The typed value.
        :raises ConfigurationError: Naming the key, the value and the expected form.
        """
        try:
            value = self._convert(raw)
            if self.value_range is not None and value is not None and \
                    not self.value_range[0] <= value <= self.value_range[1]:
                raise _BadValue()
            return value
        except _BadValue:
            raise ConfigurationError(
                f"Could not parse value {_to_flat_string(raw)!r} for configuration key "
                f"'{key or self.key}': expected {self.expected_form()}"
            ) from None

    def _convert(self, raw: Any) -> Any:
        kind = self.type
        if isinstance(kind, type):
            if isinstance(raw, kind):
                return raw
            name = _to_flat_string(raw).strip().upper()
            for member in kind:
                if member.name.upper() == name:
                    return member
            raise _BadValue
        if kind is ConfigType.STRING:
            return _to_flat_string(raw)
        if kind is ConfigType.INT:
            return _convert_int(raw, _INT_MIN, _INT_MAX)
        if kind is ConfigType.LONG:
            return _convert_int(raw, _LONG_MIN, _LONG_MAX)
        if kind is ConfigType.FLOAT or kind is ConfigType.DOUBLE:
            return _convert_float(raw)
        if kind is ConfigType.BOOLEAN:
            return _convert_bool(raw)
        if kind is ConfigType.DURATION:
            return _convert_duration_millis(raw)
        if kind is ConfigType.MEMORY_SIZE:
            return _convert_memory(raw)
        if kind is ConfigType.ENUM:
            name = _to_flat_string(raw).strip().upper()
            for choice in self.choices:
                if choice.upper() == name:
                    return choice
            raise _BadValue
        if kind is ConfigType.LIST:
            return _convert_list(raw)
        if kind is ConfigType.MAP:
            return _convert_map(raw)
        raise AssertionError(f"unhandled config type {kind}")

    def to_stored(self, value: Any) -> Any:
        """The form :meth:`Configuration.set` stores a typed value in (strings for durations,
        memory sizes and enums, as Flink's ``toMap`` prints them)."""
        typed = self.convert(value)
        if self.type is ConfigType.DURATION:
            if typed < 0:
                return typed  # the duration syntax has no sign; a bare int reads back as ms
            if isinstance(value, (Duration, datetime.timedelta)):
                return _to_flat_string(value)  # keep sub-millisecond precision
            return format_duration(typed)
        if self.type is ConfigType.MEMORY_SIZE:
            return format_memory_size(typed)
        if isinstance(typed, Enum):
            return typed.name
        return typed


_SENSITIVE_KEYS = (
    "password", "secret", "fs.azure.account.key", "apikey", "auth-params", "service-key",
    "token", "basic-auth", "jaas.config", "http-headers",
)
_HIDDEN_CONTENT = "******"
_warned_deprecated: set[str] = set()


def _is_sensitive(key: str) -> bool:
    lowered = key.lower()
    return any(hidden in lowered for hidden in _SENSITIVE_KEYS)


_LONG = ConfigOption("<long>", ConfigType.LONG, None)
_DOUBLE = ConfigOption("<double>", ConfigType.DOUBLE, None)
_BOOLEAN = ConfigOption("<boolean>", ConfigType.BOOLEAN, None)


class Configuration:
    """Lightweight configuration object which stores key/value pairs.

    Values are kept as they were set or read (strings, ints, bools, lists, maps) and
    converted when read, so ``get_integer`` parses a ``"4"`` that came from a YAML file or a
    ``-D`` flag. :meth:`to_dict` gives every value in Flink's flat string form.

    Example::

        >>> from flink_py.common import config_options as opts
        >>> conf = Configuration().set_string("heartbeat.interval", "5 s")
        >>> conf.get(opts.HEARTBEAT_INTERVAL)
        5000
        >>> conf.set(opts.DEFAULT_PARALLELISM, 4).get_integer("parallelism.default", 1)
        4
    """

    def __init__(self, other: "Configuration | Mapping[str, Any] | None" = None) -> None:
        """Creates a new configuration, optionally a copy of ``other``.

        :param other: A configuration or a dict of key/value pairs to copy.
        """
        self._data: dict[str, Any] = {}
        if isinstance(other, Configuration):
            self._data = copy.deepcopy(other._data)
        elif other is not None:
            for key, value in other.items():
                self._set_raw(key, value)

    @classmethod
    def from_dict(cls, map: Mapping[str, str]) -> "Configuration":  # noqa: A002 (PyFlink's)
        """A new configuration holding the key/value pairs of ``map``.

        :param map: The keys and their values.
        """
        if not isinstance(map, Mapping):
            raise ConfigurationError(
                f"Configuration.from_dict expects a dict of keys to values, got {map!r}")
        return cls(map)

    @staticmethod
    def parse_list_value(value: str) -> List[Any]:
        """A list option's value as a list: a YAML flow list (``[a, b]``) or Flink's flat
        form ``a;b;c``, as PyFlink's ``Configuration.parse_list_value``.

        :param value: The value as stored.
        """
        if not value:
            return []
        parsed = yaml.safe_load(value)
        if isinstance(parsed, list):
            return parsed
        return value.split(";")

    # ---------------------------------------------------------------- PyFlink's accessors

    def get_string(self, key: str, default_value: str | None = None) -> str | None:
        """Returns the value associated with the given key as a string.

        :param key: The key pointing to the associated value.
        :param default_value: Returned when there is no value for the key.
        :return: The (default) value associated with the given key.
        """
        raw = self._data.get(key)
        return default_value if raw is None else _to_flat_string(raw)

    def set_string(self, key: str, value: str) -> "Configuration":
        """Adds the given key/value pair to the configuration object.

        :param key: The key of the key/value pair to be added.
        :param value: The value of the key/value pair to be added.
        :return: This configuration.
        """
        self._set_raw(key, _to_flat_string(value))
        return self

    def get_integer(self, key: str, default_value: int | None = None) -> int | None:
        """Returns the value associated with the given key as an integer (a Java long).

        :raises ConfigurationError: If the stored value is not an integer.
        """
        raw = self._data.get(key)
        return default_value if raw is None else _LONG.convert(raw, key)

    def set_integer(self, key: str, value: int) -> "Configuration":
        """Adds the given key/integer pair to the configuration object."""
        self._set_raw(key, _LONG.convert(value, key))
        return self

    def get_boolean(self, key: str, default_value: bool | None = None) -> bool | None:
        """Returns the value associated with the given key as a boolean.

        :raises ConfigurationError: If the stored value is not ``true``/``false``.
        """
        raw = self._data.get(key)
        return default_value if raw is None else _BOOLEAN.convert(raw, key)

    def set_boolean(self, key: str, value: bool) -> "Configuration":
        """Adds the given key/boolean pair to the configuration object."""
        self._set_raw(key, _BOOLEAN.convert(value, key))
        return self

    def get_float(self, key: str, default_value: float | None = None) -> float | None:
        """Returns the value associated with the given key as a float (a Java double).

        :raises ConfigurationError: If the stored value is not a number.
        """
        raw = self._data.get(key)
        return default_value if raw is None else _DOUBLE.convert(raw, key)

    def set_float(self, key: str, value: float) -> "Configuration":
        """Adds the given key/float pair to the configuration object."""
        self._set_raw(key, _DOUBLE.convert(value, key))
        return self

    def get_bytearray(self, key: str, default_value: bytearray | None = None) -> bytearray | None:
        """Returns the value associated with the given key as a byte array.

        Bytes set with :meth:`set_bytearray` are returned as they are; a string value (as
        :meth:`to_dict` renders bytes) is read as base64.

        :raises ConfigurationError: If the value is neither bytes nor base64 text.
        """
        raw = self._data.get(key)
        if raw is None:
            return default_value
        if isinstance(raw, (bytes, bytearray)):
            return bytearray(raw)
        if isinstance(raw, str):
            try:
                return bytearray(base64.b64decode(raw, validate=True))
            except (binascii.Error, ValueError):
                pass
        raise ConfigurationError(
            f"Could not parse value {_to_flat_string(raw)!r} for configuration key '{key}': "
            "expected bytes (or their base64 text)"
        )

    def set_bytearray(self, key: str, value: bytes | bytearray) -> "Configuration":
        """Adds the given byte array to the configuration object."""
        if not isinstance(value, (bytes, bytearray)):
            raise ConfigurationError(
                f"Value {value!r} for configuration key '{key}' is not a bytearray"
            )
        self._set_raw(key, bytes(value))
        return self

    def key_set(self) -> set[str]:
        """Returns the keys of all key/value pairs stored inside this configuration object."""
        return set(self._data)

    def keys(self) -> set[str]:
        """Same as :meth:`key_set`."""
        return set(self._data)

    def add_all_to_dict(self, target_dict: dict) -> None:
        """Adds all entries in this configuration (as strings) to the given dict."""
        target_dict.update(self.to_dict())

    def add_all(self, other: "Configuration", prefix: str | None = None) -> "Configuration":
        """Adds all entries from ``other``, with ``prefix`` prepended to the keys if given.

        :param other: The configuration whose entries are added to this configuration.
        :param prefix: Optional, the prefix to prepend.
        :return: This configuration.
        """
        for key, value in other._data.items():
            self._data[key if prefix is None else prefix + key] = copy.deepcopy(value)
        return self

    def contains_key(self, key: str) -> bool:
        """Checks whether there is an entry with the specified key."""
        return key in self._data

    def to_dict(self) -> dict[str, str]:
        """Converts the configuration into a dict of string key/value pairs."""
        return {key: _to_flat_string(value) for key, value in self._data.items()}

    def remove_config(self, key: "str | ConfigOption") -> bool:
        """Removes a config key, or an option together with its deprecated keys.

        Fallback keys belong to other options and are left alone.

        :param key: The key, or a :class:`ConfigOption`.
        :return: ``True`` if something was removed.
        """
        keys = (key.key, *key.deprecated_keys) if isinstance(key, ConfigOption) else (key,)
        removed = False
        for k in keys:
            if k in self._data:
                del self._data[k]
                removed = True
        return removed

    # ---------------------------------------------------------------- typed accessors

    def get(self, option: ConfigOption) -> Any:
        """Returns the typed value of ``option``, or its default when unset.

        The option's key is looked up first, then its deprecated keys in order.

        :param option: The option to read.
        :return: The value in the option's type (ints of milliseconds for durations, bytes
                 for memory sizes).
        :raises ConfigurationError: If the stored value does not parse.
        """
        found = self._lookup(option)
        if found is None:
            return option.default
        key, raw = found
        return option.convert(raw, key)

    def get_optional(self, option: ConfigOption) -> Any:
        """Like :meth:`get`, but ``None`` when the option is not set (ignoring defaults)."""
        found = self._lookup(option)
        if found is None:
            return None
        key, raw = found
        return option.convert(raw, key)

    def contains(self, option: ConfigOption) -> bool:
        """Whether ``option`` is set under its key or one of its deprecated keys."""
        return self._lookup(option) is not None

    def set(self, option: ConfigOption, value: Any) -> "Configuration":
        """Sets ``option`` to ``value`` after checking it parses.

        :param option: The option to set.
        :param value: A typed value or its string form (``"10 s"`` or ``10000`` for a
                      duration, an enum member or its name, ...).
        :return: This configuration.
        :raises ConfigurationError: If the value does not parse.
        """
        self._data[option.key] = option.to_stored(value)
        return self

    def _lookup(self, option: ConfigOption) -> tuple[str, Any] | None:
        data = self._data
        raw = data.get(option.key)
        if raw is not None:
            return option.key, raw
        for old_key in option.deprecated_keys:
            raw = data.get(old_key)
            if raw is not None:
                if old_key not in _warned_deprecated:
                    _warned_deprecated.add(old_key)
                    LOG.warning(
                        "Config uses deprecated configuration key '%s' instead of proper key '%s'",
                        old_key, option.key,
                    )
                return old_key, raw
        for fallback_key in option.fallback_keys:
            raw = data.get(fallback_key)
            if raw is not None:
                return fallback_key, raw
        return None

    def _set_raw(self, key: str, value: Any) -> None:
        if not isinstance(key, str) or not key:
            raise ConfigurationError(f"A configuration key must be a non-empty string, got {key!r}")
        if value is None:
            raise ConfigurationError(f"The value for configuration key '{key}' must not be None")
        self._data[key] = value

    # ---------------------------------------------------------------- object protocol

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def __deepcopy__(self, memodict: dict | None = None) -> "Configuration":
        return Configuration(self)

    def __copy__(self) -> "Configuration":
        return Configuration(self)

    def __eq__(self, other: object) -> bool:
        # Compared in flat string form: "4" read from a file equals 4 set in code.
        return isinstance(other, Configuration) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(frozenset(self.to_dict().items()))

    def __str__(self) -> str:
        items = ", ".join(
            f"{k}={_HIDDEN_CONTENT if _is_sensitive(k) else v}" for k, v in self.to_dict().items()
        )
        return "{" + items + "}"

    def __repr__(self) -> str:
        return f"Configuration({self})"


# --------------------------------------------------------------------------------------------
#  Loading config.yaml / flink-conf.yaml
# --------------------------------------------------------------------------------------------


class _CoreSchemaLoader(yaml.SafeLoader):
    """YAML 1.2 core schema, as Flink's snakeyaml-engine ``CoreSchema``.

    PyYAML implements YAML 1.1, where ``on``/``yes`` are booleans, ``0100`` is octal and
    ``1:30`` is sexagesimal; Flink reads those as the strings and ints a user means.
    Duplicate keys are an error, as in snakeyaml-engine.
    """


_REPLACED_TAGS = {
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value",
}
_CoreSchemaLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _REPLACED_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_CoreSchemaLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_CoreSchemaLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_CoreSchemaLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _construct_core_int(loader: yaml.SafeLoader, node: yaml.Node) -> int:
    text = loader.construct_scalar(node)  # type: ignore[arg-type]
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


def _construct_core_float(loader: yaml.SafeLoader, node: yaml.Node) -> float:
    text = loader.construct_scalar(node).lower()  # type: ignore[arg-type, union-attr]
    if text.endswith(".inf"):
        return -math.inf if text.startswith("-") else math.inf
    if text == ".nan":
        return math.nan
    return float(text)


def _construct_core_bool(loader: yaml.SafeLoader, node: yaml.Node) -> bool:
    return loader.construct_scalar(node).lower() == "true"  # type: ignore[union-attr]


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
    seen: set[Any] = set()
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f"found duplicate key {key!r}", key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_CoreSchemaLoader.add_constructor("tag:yaml.org,2002:int", _construct_core_int)
_CoreSchemaLoader.add_constructor("tag:yaml.org,2002:float", _construct_core_float)
_CoreSchemaLoader.add_constructor("tag:yaml.org,2002:bool", _construct_core_bool)
_CoreSchemaLoader.add_constructor("tag:yaml.org,2002:map", _construct_unique_mapping)


def _flatten(tree: Mapping[Any, Any], prefix: str, out: dict[str, Any], source: str) -> None:
    for key, value in tree.items():
        full_key = f"{prefix}{_to_flat_string(key)}"
        if isinstance(value, Mapping):
            _flatten(value, full_key + ".", out, source)
        elif value is None:
            LOG.warning(
                "Ignoring configuration key '%s' with an empty value in %s", full_key, source
            )
        else:
            out[full_key] = value


def _describe_yaml_error(error: yaml.YAMLError) -> str:
    """One line for a YAML error (PyYAML's own text spans several, with a caret drawing)."""
    if not isinstance(error, yaml.MarkedYAMLError):
        return " ".join(str(error).split())
    parts = []
    for text, mark in ((error.context, error.context_mark), (error.problem, error.problem_mark)):
        if text:
            parts.append(f"{text} at line {mark.line + 1}, column {mark.column + 1}"
                         if mark is not None else text)
    return ": ".join(parts) or " ".join(str(error).split())


def _legacy_line(line: str) -> tuple[str, str] | None:
    """The key and value of one line of a Flink <= 1.18 file, ``None`` for a blank or
    comment-only line; raises ValueError for a line that is not ``key: value``."""
    conf = line.split("#", 1)[0].strip()
    if not conf:
        return None
    key, sep, value = conf.partition(": ")
    key, value = key.strip(), value.strip()
    if not sep or not key or not value or any(c.isspace() for c in key):
        raise ValueError(conf)
    return key, value


def _parse_legacy_lines(text: str, source: str, why_not_yaml: str) -> dict[str, str]:
    """GlobalConfiguration's pre-1.19 reader ('#' starts a comment, ": " separates key and
    value), for a ``flink-conf.yaml`` that is not YAML. Flink skipped malformed lines with a
    warning, so junk became keys or vanished; here the file loads only if every line is a
    ``key: value`` line, else the first bad line is the error.

    :raises ConfigurationError: naming the file, the line and why YAML did not read it.
    """
    result: dict[str, str] = {}
    for line_number, line in enumerate(text.splitlines(), start=1):
        try:
            entry = _legacy_line(line)
        except ValueError as bad:
            raise ConfigurationError(
                f"Could not parse configuration file {source}: line {line_number} "
                f"({str(bad)!r}) is not a 'key: value' line, and the file is not valid YAML "
                f"({why_not_yaml})") from None
        if entry is not None:
            result[entry[0]] = entry[1]
    LOG.info("%s is not valid YAML (%s); read it as a Flink <= 1.18 file of 'key: value' lines",
             source, why_not_yaml)
    return result


class GlobalConfiguration:
    """Loads Flink's configuration files (Flink's ``GlobalConfiguration``).

    Example::

        >>> conf = GlobalConfiguration.load_configuration(
        ...     None, {"parallelism.default": "4"})  # no FLINK_CONF_DIR: dynamic props only
        >>> conf.get_integer("parallelism.default", 1)
        4
    """

    #: The configuration file of Flink 1.19+ (standard, nested YAML).
    FLINK_CONF_FILENAME = "config.yaml"
    #: The configuration file of Flink <= 1.18 (flat ``key: value`` lines).
    LEGACY_FLINK_CONF_FILENAME = "flink-conf.yaml"
    #: The environment variable naming the configuration directory.
    ENV_FLINK_CONF_DIR = "FLINK_CONF_DIR"
    #: What sensitive values are replaced with in logs and ``str()``.
    HIDDEN_CONTENT = _HIDDEN_CONTENT

    @staticmethod
    def load_configuration(
        conf_dir: str | os.PathLike[str] | None = None,
        dynamic_properties: "Mapping[str, Any] | Configuration | None" = None,
    ) -> Configuration:
        """Loads the configuration of a conf directory and applies dynamic properties.

        ``config.yaml`` is read if it exists, else ``flink-conf.yaml``; nested maps are
        flattened to dotted keys, and both nested and flat notations are accepted in both
        files. Without ``conf_dir`` the directory is ``$FLINK_CONF_DIR``; if that is unset
        too, only the dynamic properties are returned.

        :param conf_dir: The configuration directory.
        :param dynamic_properties: ``-D`` style key/value pairs that override the file.
        :return: The loaded configuration.
        :raises ConfigurationError: If the directory does not exist, holds neither file, or
                                    a file does not parse.
        """
        if conf_dir is None:
            conf_dir = os.environ.get(GlobalConfiguration.ENV_FLINK_CONF_DIR)
        configuration = Configuration()
        if conf_dir is not None:
            configuration = GlobalConfiguration._load_directory(os.fspath(conf_dir))
        if dynamic_properties is not None:
            if isinstance(dynamic_properties, Configuration):
                configuration.add_all(dynamic_properties)
            else:
                for key, value in dynamic_properties.items():
                    configuration._set_raw(key, value)
        return configuration

    @staticmethod
    def _load_directory(conf_dir: str) -> Configuration:
        if not os.path.isdir(conf_dir):
            raise ConfigurationError(
                f"The given configuration directory name '{conf_dir}' "
                f"({os.path.abspath(conf_dir)}) does not describe an existing directory."
            )
        standard = os.path.join(conf_dir, GlobalConfiguration.FLINK_CONF_FILENAME)
        legacy = os.path.join(conf_dir, GlobalConfiguration.LEGACY_FLINK_CONF_FILENAME)
        if os.path.isfile(standard):
            loaded = GlobalConfiguration.load_yaml_file(standard)
            warn_unknown_keys(loaded, standard)
            return loaded
        if os.path.isfile(legacy):
            loaded = GlobalConfiguration.load_yaml_file(legacy, legacy_fallback=True)
            warn_unknown_keys(loaded, legacy)
            return loaded
        raise ConfigurationError(
            f"Neither '{GlobalConfiguration.FLINK_CONF_FILENAME}' nor "
            f"'{GlobalConfiguration.LEGACY_FLINK_CONF_FILENAME}' exists in the configuration "
            f"directory '{conf_dir}' ({os.path.abspath(conf_dir)})."
        )

    @staticmethod
    def load_yaml_file(path: str, legacy_fallback: bool = False) -> Configuration:
        """Reads one YAML configuration file into a flat :class:`Configuration`.

        :param path: The file.
        :param legacy_fallback: Read lines the way Flink <= 1.18 did when the file is not
                                valid YAML (used for ``flink-conf.yaml``, whose values were
                                never required to be YAML), provided that every line is a
                                ``key: value`` line.
        :raises ConfigurationError: If the file is not valid YAML (and no fallback applies,
                                    or a line is not ``key: value``) or its top level is not
                                    a mapping; the message is one line naming file and line.
        """
        with open(path, encoding="utf-8") as f:
            text = f.read()
        try:
            tree = yaml.load(text, Loader=_CoreSchemaLoader)  # noqa: S506 - a safe loader
        except yaml.YAMLError as e:
            if legacy_fallback:
                return Configuration(_parse_legacy_lines(text, path, _describe_yaml_error(e)))
            raise ConfigurationError(
                f"Could not parse configuration file {path}: {_describe_yaml_error(e)}"
            ) from None
        if tree is None:
            return Configuration()
        if not isinstance(tree, Mapping):
            if legacy_fallback:
                return Configuration(_parse_legacy_lines(
                    text, path, f"it holds a {type(tree).__name__}, not a mapping"))
            raise ConfigurationError(
                f"Configuration file {path} must hold a YAML mapping of keys to values, "
                f"found a {type(tree).__name__}"
            )
        flat: dict[str, Any] = {}
        _flatten(tree, "", flat, path)
        for key, value in flat.items():
            LOG.debug("Loading configuration property: %s, %s",
                      key, _HIDDEN_CONTENT if _is_sensitive(key) else value)
        return Configuration(flat)

    @staticmethod
    def is_sensitive(key: str) -> bool:
        """Whether the value of ``key`` must be hidden in logs (passwords, secrets, ...)."""
        return _is_sensitive(key)


def known_keys() -> set:
    """Every key flink_py declares (flink_py.common.config_options), with deprecated and
    fallback keys."""
    from flink_py.common import config_options  # declares its options with this module

    keys = set()
    for value in vars(config_options).values():
        if isinstance(value, ConfigOption):
            keys.add(value.key)
            keys.update(value.deprecated_keys)
            keys.update(value.fallback_keys)
    return keys


def warn_unknown_keys(configuration: "Configuration", source: str) -> List[str]:
    """Logs a warning for each key of ``configuration`` that flink_py does not know, with the
    closest known key when one is close (a typo such as ``taskmanager.numberOfTaskSlot``);
    returns the warnings. Keys under a prefix that holds free-form keys (``env.``,
    ``metrics.reporter.``, ``pipeline.global-job-parameters.``, ...) are not checked."""
    known = known_keys()
    warnings: List[str] = []
    for key in sorted(configuration.keys()):
        if key in known or key.startswith(_FREE_FORM_PREFIXES):
            continue
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.85)
        hint = f"; did you mean '{close[0]}'?" if close else " (flink_py does not use it)"
        warnings.append(f"Unknown configuration key '{key}' in {source}{hint}")
    for warning in warnings:
        LOG.warning("%s", warning)
    return warnings


#: prefixes under which keys are the user's or a plugin's own, not options of flink_py
_FREE_FORM_PREFIXES = ("env.", "metrics.", "pipeline.global-job-parameters.", "s3.", "fs.",
                       "security.", "kubernetes.", "high-availability.", "yarn.", "python.",
                       "table.", "state.backend.rocksdb.", "taskmanager.memory.",
                       "jobmanager.memory.", "cluster.", "web.", "blob.", "akka.", "pekko.")
