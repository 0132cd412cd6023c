"""Value types shared by the DataStream and Table APIs: :class:`Row` and :class:`RowKind`.

Mirrors ``pyflink.common.types``: a PyFlink job that builds, reads or prints rows behaves the
same here. ``Row`` is a plain object (not a tuple subclass), as in PyFlink.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Dict, Iterator, List, Optional, Sequence

from flink_py.errors import InvalidFieldReferenceError, InvalidProgramError

__all__ = ["Row", "RowKind"]


class RowKind(Enum):
    """The kind of change a row describes in a changelog.

    ``str(kind)`` is the short string Flink prints in front of a row (``+I``, ``-U``, ``+U``,
    ``-D``), as in PyFlink.

    ::

        >>> str(RowKind.UPDATE_BEFORE)
        '-U'
        >>> RowKind.DELETE.short_string()
        '-D'
    """

    INSERT = 0
    UPDATE_BEFORE = 1
    UPDATE_AFTER = 2
    DELETE = 3

    def short_string(self) -> str:
        """Returns the short string of this kind, as Java's ``RowKind.shortString()``.

        Not in PyFlink's Python API (where ``str(kind)`` gives the same text); kept for
        parity with the Java name.

        :return: ``"+I"``, ``"-U"``, ``"+U"`` or ``"-D"``.
        """
        return _SHORT_STRINGS[self.value]

    def __str__(self) -> str:
        return _SHORT_STRINGS[self.value]


_SHORT_STRINGS = ("+I", "-U", "+U", "-D")


def _create_row(fields: Optional[List[Any]], values: Sequence[Any],
                row_kind: Optional[RowKind] = None) -> "Row":
    """Builds a row from its parts; the target of :meth:`Row.__reduce__` (pickling)."""
    row = Row(*values)
    if fields is not None:
        row._fields = fields
    if row_kind is not None:
        row._row_kind = row_kind
    return row


class Row(object):
    """
    A row: a fixed-length, null-aware record whose fields have an order and, optionally,
    names.

    The fields can be accessed

    * like attributes (``row.key``),
    * like dictionary values (``row[key]``),
    * by position (``row[0]``).

    ``key in row`` searches the field names of a named row, the values of an unnamed one.

    Named arguments create a named row; the fields keep the order in which they are given
    (current PyFlink no longer sorts them, although its docstring still says so). A field
    that is None or missing must be given explicitly as None.

    ::

        >>> row = Row(name="Alice", age=11)
        >>> row
        Row(name='Alice', age=11)
        >>> row['name'], row['age'], row[1]
        ('Alice', 11, 11)
        >>> row.name, row.age
        ('Alice', 11)
        >>> 'name' in row
        True
        >>> 'wrong_key' in row
        False
        >>> Row(1, 'a')
        <Row(1, 'a')>

    A row of names can be used as a factory of named rows:

    ::

        >>> Person = Row("name", "age")
        >>> Person
        <Row('name', 'age')>
        >>> 'name' in Person
        True
        >>> Person("Alice", 11)
        Row(name='Alice', age=11)

    Every row carries a :class:`RowKind` (``INSERT`` unless set), which takes part in
    equality and pickling.
    """

    # Slots instead of PyFlink's guarded __setattr__: the same effect (only these attributes
    # can be set) without a Python-level call on every assignment. An unset ``_fields`` means
    # an unnamed row, exactly as PyFlink's ``hasattr(row, "_fields")`` checks.
    __slots__ = ("_fields", "_values", "_from_dict", "_row_kind")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and kwargs:
            raise ValueError("Can not use both args and kwargs to create Row")
        if kwargs:
            self._fields = list(kwargs.keys())
            self._values = list(kwargs.values())
            self._from_dict = True
        else:
            self._values = list(args)
            self._from_dict = False
        self._row_kind = RowKind.INSERT

    @staticmethod
    def of_kind(row_kind: RowKind, *args: Any, **kwargs: Any) -> "Row":
        """Creates a row of the given kind.

        ::

            >>> Row.of_kind(RowKind.DELETE, 1, 'a').get_row_kind()
            <RowKind.DELETE: 3>

        :param row_kind: the kind of the new row.
        :param args: the values of an unnamed row.
        :param kwargs: the names and values of a named row.
        :return: the new row.
        """
        row = Row(*args, **kwargs)
        row._row_kind = row_kind
        return row

    def as_dict(self, recursive: bool = False) -> Dict[str, Any]:
        """Returns the row as a dict from field name to value.

        ::

            >>> Row(name="Alice", age=11).as_dict() == {'name': 'Alice', 'age': 11}
            True
            >>> row = Row(key=1, value=Row(name='a', age=2))
            >>> row.as_dict() == {'key': 1, 'value': Row(name='a', age=2)}
            True
            >>> row.as_dict(True) == {'key': 1, 'value': {'name': 'a', 'age': 2}}
            True

        :param recursive: also turn nested rows (in lists and dicts too) into dicts.
        :return: a dict in field order.
        :raises TypeError: if the row has no field names.
        """
        if not hasattr(self, "_fields"):
            raise TypeError("Cannot convert a Row class into dict")
        if recursive:
            def conv(obj: Any) -> Any:
                if isinstance(obj, Row):
                    return obj.as_dict(True)
                if isinstance(obj, list):
                    return [conv(o) for o in obj]
                if isinstance(obj, dict):
                    return dict((k, conv(v)) for k, v in obj.items())
                return obj

            return dict(zip(self._fields, (conv(o) for o in self._values)))
        return dict(zip(self._fields, self._values))

    def get_row_kind(self) -> RowKind:
        """Returns the kind of change this row describes.

        :return: the row kind; ``RowKind.INSERT`` unless set.
        """
        return self._row_kind

    def set_row_kind(self, row_kind: RowKind) -> None:
        """Sets the kind of change this row describes.

        :param row_kind: the new row kind.
        """
        self._row_kind = row_kind

    def set_field_names(self, field_names: List[str]) -> None:
        """Names the fields of this row.

        :param field_names: one name per field, in field order.
        """
        self._fields = field_names

    def get_fields_by_names(self, names: List[str]) -> List[Any]:
        """Returns the values of the named fields, in the order of ``names``.

        As in PyFlink, an unnamed row, or ``names`` equal to the row's own field names,
        returns the row's value list itself.

        ::

            >>> Row(a=1, b=2, c=3).get_fields_by_names(['c', 'a'])
            [3, 1]

        :param names: the field names to look up.
        :return: the values.
        :raises InvalidFieldReferenceError: if a name is not a field of this row.
        """
        if not hasattr(self, "_fields") or names == self._fields:
            return self._values
        missing = [name for name in names if name not in self._fields]
        if missing:
            raise InvalidFieldReferenceError(
                "Field names %s not exist in %s." % (missing, self._fields))
        return [self._values[self._fields.index(name)] for name in names]

    def _is_retract_msg(self) -> bool:
        return self._row_kind is RowKind.UPDATE_BEFORE or self._row_kind is RowKind.DELETE

    def _is_accumulate_msg(self) -> bool:
        return self._row_kind is RowKind.UPDATE_AFTER or self._row_kind is RowKind.INSERT

    def _field_index(self, name: Any) -> int:
        fields = getattr(self, "_fields", None)
        if fields is None:
            raise InvalidFieldReferenceError(
                "field %r does not exist: %r has no field names" % (name, self))
        try:
            return fields.index(name)
        except ValueError:
            raise InvalidFieldReferenceError(
                "field %r does not exist in a row with fields %s" % (name, list(fields))
            ) from None

    def __contains__(self, item: Any) -> bool:
        fields = getattr(self, "_fields", None)
        if fields is not None:
            return item in fields
        return item in self._values

    def __call__(self, *args: Any) -> "Row":
        """Creates a row whose field names are this row's values (Row as a factory)."""
        if len(args) > len(self._values):
            raise ValueError("Can not create Row with fields %s, expected %d values "
                             "but got %s" % (self, len(self._values), args))
        return _create_row(self._values, args, self._row_kind)

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, (int, slice)):
            return self._values[item]
        return self._values[self._field_index(item)]

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(key, (int, slice)):
            self._values[key] = value
            return
        self._values[self._field_index(key)] = value

    def __getattr__(self, item: str) -> Any:
        # Only reached when normal lookup fails, i.e. for field names and unset slots.
        if item.startswith("_"):
            raise AttributeError(item)
        fields = getattr(self, "_fields", None)
        if fields is not None and item in fields:
            index = fields.index(item)
            if index < len(self._values):
                return self._values[index]
        raise AttributeError(item)

    def __reduce__(self) -> Any:
        """Pickles the row with its field names and kind."""
        return _create_row, (getattr(self, "_fields", None), tuple(self._values),
                             self._row_kind)

    def __repr__(self) -> str:
        """The text PyFlink shows for a row, in the REPL and in ``print()`` of pickled rows."""
        if hasattr(self, "_fields"):
            return "Row(%s)" % ", ".join("%s=%r" % (k, v)
                                         for k, v in zip(self._fields, self._values))
        return "<Row(%s)>" % ", ".join(repr(field) for field in self._values)

    def __eq__(self, other: object) -> bool:
        # As PyFlink: kind and values must match; named rows match when they have the same
        # names with the same values, whatever the field order.
        if not isinstance(other, Row) or self.__class__ != other.__class__:
            return False
        if self._row_kind != other._row_kind:
            return False
        has_fields = hasattr(self, "_fields")
        if has_fields != hasattr(other, "_fields"):
            return False
        if not has_fields or len(self._values) != len(other._values):
            return self._values == other._values
        if self._fields == other._fields:
            return self._values == other._values
        if sorted(self._fields) != sorted(other._fields):
            return False
        return all(self._values[self._fields.index(name)]
                   == other._values[other._fields.index(name)] for name in self._fields)

    def __hash__(self) -> int:
        # PyFlink hashes ``tuple(values)``, which breaks the hash contract for named rows that
        # are equal with their fields in another order; hash those in name order instead.
        fields = getattr(self, "_fields", None)
        if fields is None:
            return hash(tuple(self._values))
        order = sorted(range(len(fields)), key=fields.__getitem__)
        return hash(tuple(self._values[i] for i in order if i < len(self._values)))

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def to_row(item: Any, field_names: List[str], where: str) -> "Row":
    """``item`` (a tuple or list of the row's arity, or a Row) as a Row with ``field_names``.

    PyFlink's row coder turns what a function declared as a ROW into Row objects; ``where``
    names the declaration for the error when ``item`` does not fit.
    """
    if isinstance(item, Row):
        return item
    if not isinstance(item, (tuple, list)) or len(item) != len(field_names):
        raise InvalidProgramError(
            f"{where}: {item!r} does not match the row type with fields {field_names}")
    row = Row(*item)
    row.set_field_names(list(field_names))
    return row
