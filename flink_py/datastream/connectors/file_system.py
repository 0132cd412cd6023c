"""File sources, as in ``pyflink.datastream.connectors.file_system``."""

from __future__ import annotations

import functools
import os
from typing import Any, List, Optional

from flink_py.common.time import Duration
from flink_py.errors import InvalidProgramError
from flink_py.runtime.operators.sources import TextFileSource


class StreamFormat:
    """How a file's bytes become records."""

    def __init__(self, kind: str, charset_name: str) -> None:
        self.kind = kind
        self.charset_name = charset_name

    @staticmethod
    def text_line_format(charset_name: str = "UTF-8") -> "StreamFormat":
        """One record per line (the line terminator removed), as strings."""
        return StreamFormat("text_line", charset_name)


class FileSource:
    """A source of the records in files or directories.

    Example::

        source = FileSource.for_record_stream_format(
            StreamFormat.text_line_format(), "/tmp/input.txt").build()
        ds = env.from_source(source, WatermarkStrategy.no_watermarks(), "file-source")
    """

    def __init__(self, stream_format: StreamFormat, paths: List[str],
                 monitor_interval: Optional[Duration] = None) -> None:
        self.stream_format = stream_format
        self.paths = paths
        self.monitor_interval = monitor_interval

    @property
    def bounded(self) -> bool:
        return self.monitor_interval is None

    @staticmethod
    def for_record_stream_format(stream_format: StreamFormat, *paths: str
                                 ) -> "FileSourceBuilder":
        return FileSourceBuilder(stream_format, list(paths))

    def _create_source_operator(self, name: str) -> Any:
        return functools.partial(TextFileSource, name, self.paths,
                                 _python_encoding(self.stream_format.charset_name))

    def _output_type(self) -> Any:
        from flink_py.common.typeinfo import Types
        return Types.STRING()


class FileSourceBuilder:
    """Builds a FileSource."""

    def __init__(self, stream_format: StreamFormat, paths: List[str]) -> None:
        if not isinstance(stream_format, StreamFormat):
            raise InvalidProgramError(
                f"expected a StreamFormat such as StreamFormat.text_line_format(), got "
                f"{stream_format!r}")
        if not paths:
            raise InvalidProgramError("FileSource needs at least one path")
        self._format = stream_format
        self._paths = [os.fspath(p) for p in paths]
        self._monitor: Optional[Duration] = None

    def monitor_continuously(self, discovery_interval: Duration) -> "FileSourceBuilder":
        """Makes the source unbounded, watching for new files (not supported yet)."""
        raise InvalidProgramError(
            "FileSource.monitor_continuously is not supported yet by flink_py; read a "
            "bounded set of files, or use a socket or custom source for unbounded input")

    def process_static_file_set(self) -> "FileSourceBuilder":
        self._monitor = None
        return self

    def build(self) -> FileSource:
        check_input_paths(self._paths)
        return FileSource(self._format, self._paths, self._monitor)


def check_input_paths(paths: List[str]) -> None:
    """Raises at job definition time for an input path that does not exist."""
    for path in paths:
        if path.startswith("file://"):
            path = path[len("file://"):]
        if not os.path.exists(path):
            raise InvalidProgramError(f"input path {path!r} does not exist")


def _python_encoding(charset_name: str) -> str:
    return charset_name.lower().replace("_", "-")
