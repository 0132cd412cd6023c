"""Serialization schemas and encoders, as in ``pyflink.common.serialization``.

An :class:`Encoder` turns the records of a row-format ``FileSink`` into the bytes of its part
files; :class:`SimpleStringSchema` turns strings into bytes and back.
"""

from __future__ import annotations

import codecs
from typing import Any

from flink_py.errors import InvalidProgramError

__all__ = ["SerializationSchema", "DeserializationSchema", "SimpleStringSchema",
           "ByteArraySchema", "Encoder", "RowFieldExtractorSchema"]


def _python_codec(charset_name: str, what: str) -> str:
    """The Python codec of a Java charset name (``"UTF-8"``, ``"ISO-8859-1"``, ...)."""
    if not isinstance(charset_name, str):
        raise InvalidProgramError(
            f"{what}: charset name must be a str such as 'UTF-8', got "
            f"{type(charset_name).__name__} {charset_name!r}")
    try:
        return codecs.lookup(charset_name).name
    except LookupError:
        raise InvalidProgramError(
            f"{what}: unknown charset {charset_name!r} (expected a charset such as 'UTF-8', "
            f"'US-ASCII' or 'ISO-8859-1')") from None


class SerializationSchema:
    """Describes how to turn a record into bytes (for sinks such as Kafka's)."""

    def serialize(self, element: Any) -> bytes:
        raise NotImplementedError


class DeserializationSchema:
    """Describes how to turn bytes into a record (for sources such as Kafka's)."""

    def deserialize(self, message: bytes) -> Any:
        raise NotImplementedError


class SimpleStringSchema(SerializationSchema, DeserializationSchema):
    """Strings to bytes and back, in a charset (UTF-8 by default).

    Example::

        >>> schema = SimpleStringSchema()
        >>> schema.serialize("héllo")
        b'h\\xc3\\xa9llo'
        >>> schema.deserialize(b'h\\xc3\\xa9llo')
        'héllo'
    """

    def __init__(self, charset: str = "UTF-8") -> None:
        self.charset = charset
        self._codec = _python_codec(charset, "SimpleStringSchema")

    def serialize(self, element: str) -> bytes:
        return element.encode(self._codec)

    def deserialize(self, message: bytes) -> str:
        return bytes(message).decode(self._codec)


class ByteArraySchema(SerializationSchema, DeserializationSchema):
    """Bytes as they are."""

    def serialize(self, element: bytes) -> bytes:
        return bytes(element)

    def deserialize(self, message: bytes) -> bytes:
        return bytes(message)


class RowFieldExtractorSchema(SerializationSchema):
    """One field of a :class:`~flink_py.common.Row`, which must already be bytes, as the
    serialized record (e.g. a Kafka record's key); a ``None`` row or field is ``b""``.

    Example::

        >>> from flink_py.common import Row
        >>> RowFieldExtractorSchema(1).serialize(Row(b"key", b"value"))
        b'value'

    :param field_index: The zero-based index of the field.
    """

    def __init__(self, field_index: int) -> None:
        if isinstance(field_index, bool) or not isinstance(field_index, int):
            raise InvalidProgramError(
                f"RowFieldExtractorSchema: field_index must be an int, got {field_index!r}")
        if field_index < 0:
            raise ValueError(f"Field index must be non-negative, got: {field_index}")
        self._field_index = field_index

    def get_field_index(self) -> int:
        return self._field_index

    def serialize(self, element: Any) -> bytes:
        if element is None:
            return b""
        from flink_py.common.types import Row
        if not isinstance(element, Row):
            raise InvalidProgramError(
                f"RowFieldExtractorSchema expects a Row, got {type(element).__name__} "
                f"{element!r}")
        if self._field_index >= len(element):
            raise ValueError(f"Cannot access field {self._field_index} in Row with arity "
                             f"{len(element)}")
        field = element[self._field_index]
        if field is None:
            return b""
        if not isinstance(field, (bytes, bytearray)):
            raise ValueError(f"Field at index {self._field_index} must be of type bytes, but "
                             f"was {type(field).__name__} {field!r}")
        return bytes(field)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RowFieldExtractorSchema) and \
            other._field_index == self._field_index

    def __hash__(self) -> int:
        return self._field_index

    def __repr__(self) -> str:
        return f"RowFieldExtractorSchema({self._field_index})"


class Encoder:
    """How a row-format ``FileSink`` writes each record to a part file.

    Only Flink's ``SimpleStringEncoder`` exists (as in PyFlink, whose encoders are Java
    objects): it writes the text Flink's ``toString()`` gives for the record, in the
    encoder's charset, then ``"\\n"``. The text of a record is decided by the type
    information of the stream it comes from (``(a,1)`` for a ``Types.TUPLE``, ``+I[a, 1]``
    for a ``Types.ROW``, ``str(value)`` for a stream without declared type).

    Example::

        sink = FileSink.for_row_format("/tmp/out", Encoder.simple_string_encoder()).build()
    """

    def __init__(self, charset_name: str = "UTF-8") -> None:
        self.charset_name = charset_name
        #: the Python codec the encoder writes with
        self.encoding = _python_codec(charset_name, "Encoder.simple_string_encoder")

    @staticmethod
    def simple_string_encoder(charset_name: str = "UTF-8") -> "Encoder":
        """An Encoder writing each record's string form followed by a newline.

        :param charset_name: the charset of the files, a Java charset name such as ``"UTF-8"``.
        :return: the encoder.
        """
        return Encoder(charset_name)

    def __repr__(self) -> str:
        return f"SimpleStringEncoder({self.charset_name!r})"
