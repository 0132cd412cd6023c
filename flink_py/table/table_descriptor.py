"""``FormatDescriptor`` and ``TableDescriptor`` (``pyflink.table.table_descriptor``): a
format and its options, for ``TableDescriptor.Builder.format``."""

from __future__ import annotations

from typing import Any, Dict

from flink_py.table.catalog import TableDescriptor
from flink_py.table.errors import ValidationException

__all__ = ["FormatDescriptor", "TableDescriptor", "java_hash_order"]


def _java_string_hash(s: str) -> int:
    h = 0
    for unit in s.encode("utf-16-be").hex(" ", 2).split():
        h = (31 * h + int(unit, 16)) & 0xFFFFFFFF
    return h


def java_hash_order(keys: Any) -> list:
    """String keys in the order a ``java.util.HashMap`` they were put into in this order
    iterates them: by bucket (the spread hash code masked by the table size, 16 doubled
    while the map is over 3/4 full), then by insertion within a bucket."""
    keys = list(keys)
    capacity = 16
    while len(keys) > capacity * 3 // 4:
        capacity *= 2

    def bucket(key: str) -> int:
        h = _java_string_hash(key)
        return (h ^ (h >> 16)) & (capacity - 1)
    return [k for _, k in sorted(enumerate(keys), key=lambda ik: (bucket(ik[1]), ik[0]))]


class FormatDescriptor:
    """A format and its options (without the format's prefix), e.g.
    ``FormatDescriptor.for_format('csv').option('field-delimiter', ';').build()``, which a
    table descriptor turns into ``'format' = 'csv'`` and ``'csv.field-delimiter' = ';'``."""

    def __init__(self, format: str, options: Dict[str, str]) -> None:  # noqa: A002
        self._format, self._options = format, options

    @staticmethod
    def for_format(format: str) -> "FormatDescriptor.Builder":  # noqa: A002
        """A builder of the descriptor of the format ``format`` (its factory identifier)."""
        if not isinstance(format, str) or not format:
            raise ValidationException(f"for_format expects a format identifier, got "
                                      f"{format!r}")
        return FormatDescriptor.Builder(format)

    def get_format(self) -> str:
        return self._format

    def get_options(self) -> Dict[str, str]:
        return dict(self._options)

    def __str__(self) -> str:
        """As Flink's: ``json[{ignore-parse-errors=true}]`` (the options in the order of a
        Java HashMap)."""
        options = ", ".join(f"{k}={self._options[k]}" for k in java_hash_order(self._options))
        return f"{self._format}[{{{options}}}]"

    def __repr__(self) -> str:
        return str(self)

    def __eq__(self, other: Any) -> bool:
        return (isinstance(other, FormatDescriptor) and self._format == other._format
                and self._options == other._options)

    def __hash__(self) -> int:
        return hash((self._format, tuple(sorted(self._options.items()))))

    class Builder:
        """Builds a FormatDescriptor."""

        def __init__(self, format: str) -> None:  # noqa: A002
            self._format = format
            self._options: Dict[str, str] = {}

        def option(self, key: Any, value: Any) -> "FormatDescriptor.Builder":
            """Sets an option of the format (its key without the format's prefix)."""
            key = key if isinstance(key, str) else key.key()
            self._options[key] = str(value).lower() if isinstance(value, bool) else str(value)
            return self

        def build(self) -> "FormatDescriptor":
            return FormatDescriptor(self._format, dict(self._options))
