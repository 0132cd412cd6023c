"""Serialization schemas and encoders, as in ``pyflink.common.serialization``.

An :class:`Encoder` turns the records of a row-format ``FileSink`` into the bytes of its part
files; :class:`SimpleStringSchema` turns strings into bytes and back.
"""

from __future__ import annotations

import codecs
from typing import Any

from flink_py.errors import InvalidProgramError

__all__ = ["SerializationSchema", "DeserializationSchema", "SimpleStringSchema",
           "ByteArraySchema", "Encoder"]


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
