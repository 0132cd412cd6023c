"""PyFlink's ``ConfigOptions`` builder: ``ConfigOptions.key("k").int_type().default_value(1)``.

The options it builds are :class:`~flink_py.common.configuration.ConfigOption` declarations,
read and written with :meth:`Configuration.get <flink_py.common.Configuration.get>` and
:meth:`Configuration.set <flink_py.common.Configuration.set>`::

    >>> from flink_py.common import Configuration
    >>> RETRIES = ConfigOptions.key("my.retries").int_type().default_value(3)
    >>> Configuration().get(RETRIES), Configuration().set(RETRIES, 5).get(RETRIES)
    (3, 5)
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from flink_py.common.configuration import ConfigOption, ConfigType

__all__ = ["ConfigOptions"]

T = TypeVar("T")


class ConfigOptions:
    """Builds :class:`ConfigOption` declarations, as Flink's ``ConfigOptions``."""

    @staticmethod
    def key(key: str) -> "ConfigOptions.OptionBuilder":
        """Starts building the option with ``key``; a type comes next.

        :param key: The option's key, e.g. ``"my.retries"``.
        """
        if not isinstance(key, str) or not key:
            raise ValueError(f"a config option's key must be a non-empty str, got {key!r}")
        return ConfigOptions.OptionBuilder(key)

    class OptionBuilder:
        """Picks the type of the option being built."""

        def __init__(self, key: str) -> None:
            self._key = key

        def _typed(self, type_: ConfigType) -> "ConfigOptions.TypedConfigOptionBuilder[Any]":
            return ConfigOptions.TypedConfigOptionBuilder(self._key, type_)

        def boolean_type(self) -> "ConfigOptions.TypedConfigOptionBuilder[bool]":
            return self._typed(ConfigType.BOOLEAN)

        def int_type(self) -> "ConfigOptions.TypedConfigOptionBuilder[int]":
            return self._typed(ConfigType.INT)

        def long_type(self) -> "ConfigOptions.TypedConfigOptionBuilder[int]":
            return self._typed(ConfigType.LONG)

        def float_type(self) -> "ConfigOptions.TypedConfigOptionBuilder[float]":
            return self._typed(ConfigType.FLOAT)

        def double_type(self) -> "ConfigOptions.TypedConfigOptionBuilder[float]":
            return self._typed(ConfigType.DOUBLE)

        def string_type(self) -> "ConfigOptions.TypedConfigOptionBuilder[str]":
            return self._typed(ConfigType.STRING)

    class TypedConfigOptionBuilder(Generic[T]):
        """Ends building an option of a known type, with or without a default."""

        def __init__(self, key: str, type_: ConfigType) -> None:
            self._key = key
            self._type = type_

        def default_value(self, value: T) -> ConfigOption:
            """The option, with ``value`` as its default (checked against the type)."""
            if value is None:
                raise ValueError(f"config option {self._key!r}: a default value must not be "
                                 f"None; use no_default_value()")
            return ConfigOption(self._key, self._type, value)

        def no_default_value(self) -> ConfigOption:
            """The option, without a default (``Configuration.get`` returns ``None``)."""
            return ConfigOption(self._key, self._type, None)
