"""File sources and sinks, as in ``pyflink.datastream.connectors.file_system``."""

from __future__ import annotations

import functools
import os
from typing import Any, List, Optional

from flink_py.api.bucketing import (  # noqa: F401  (PyFlink's public path)
    _MIB, BasePathBucketAssigner, BucketAssigner, DateTimeBucketAssigner, DefaultRollingPolicy,
    OnCheckpointRollingPolicy, RollingPolicy, _millis)
from flink_py.common.serialization import _python_codec
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
                                 _python_codec(self.stream_format.charset_name, "FileSource"))

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


# ---- FileSink ----------------------------------------------------------------------------

#: Flink's FileSink.DEFAULT_BUCKET_CHECK_INTERVAL (ms)
DEFAULT_BUCKET_CHECK_INTERVAL = 60 * 1000


class OutputFileConfig:
    """The prefix and suffix of part file names (``<prefix>-<uuid>-<counter><suffix>``).

    Example::

        config = OutputFileConfig.builder().with_part_prefix("prefix") \\
            .with_part_suffix(".ext").build()
    """

    def __init__(self, part_prefix: str, part_suffix: str) -> None:
        for what, value in (("part prefix", part_prefix), ("part suffix", part_suffix)):
            if not isinstance(value, str):
                raise InvalidProgramError(
                    f"the {what} must be a str, got {type(value).__name__} {value!r}")
            if os.sep in value or (os.altsep and os.altsep in value):
                raise InvalidProgramError(
                    f"the {what} {value!r} must not contain a path separator")
        self._part_prefix = part_prefix
        self._part_suffix = part_suffix

    @staticmethod
    def builder() -> "OutputFileConfig.OutputFileConfigBuilder":
        return OutputFileConfig.OutputFileConfigBuilder()

    def get_part_prefix(self) -> str:
        """The prefix of the part file names ("part" by default)."""
        return self._part_prefix

    def get_part_suffix(self) -> str:
        """The suffix of the part file names ("" by default)."""
        return self._part_suffix

    def __repr__(self) -> str:
        return f"OutputFileConfig({self._part_prefix!r}, {self._part_suffix!r})"

    class OutputFileConfigBuilder:
        """Builds an OutputFileConfig."""

        def __init__(self) -> None:
            self.part_prefix = "part"
            self.part_suffix = ""

        def with_part_prefix(self, prefix: str) -> "OutputFileConfig.OutputFileConfigBuilder":
            self.part_prefix = prefix
            return self

        def with_part_suffix(self, suffix: str) -> "OutputFileConfig.OutputFileConfigBuilder":
            self.part_suffix = suffix
            return self

        def build(self) -> "OutputFileConfig":
            return OutputFileConfig(self.part_prefix, self.part_suffix)


class FileSink:
    """A sink writing its records to files in buckets under a base path (``sink_to``).

    The base directory holds one directory per bucket (chosen by the
    :class:`BucketAssigner`; by default one per hour of processing time), and each bucket
    holds the part files of the subtasks that wrote to it, named
    ``<prefix>-<uuid>-<counter><suffix>`` (prefix ``part`` and no suffix by default, see
    :class:`OutputFileConfig`): the uuid is drawn per bucket and subtask, the counter counts
    that writer's part files from 0. A part file is *in progress* (hidden, as
    ``.<name>.inprogress.<uuid>``) while written, *pending* once the :class:`RollingPolicy`
    closed it, and *finished* (renamed to its name) when committed, which flink_py does
    when the input ends. Checkpoint-driven commits are not implemented yet: an unbounded job
    keeps its files pending, as Flink does without checkpointing.

    Records are written as the encoder says: ``Encoder.simple_string_encoder()`` writes the
    record's Java ``toString()`` text (by the stream's type: ``(a,1)`` for a tuple,
    ``+I[a, 1]`` for a row) and a newline.

    Example::

        ds.sink_to(FileSink.for_row_format("/tmp/out", Encoder.simple_string_encoder())
                   .with_output_file_config(OutputFileConfig.builder()
                                            .with_part_prefix("prefix")
                                            .with_part_suffix(".ext").build())
                   .with_rolling_policy(RollingPolicy.default_rolling_policy())
                   .build())
    """

    def __init__(self, base_path: str, encoder: Any, bucket_assigner: BucketAssigner,
                 rolling_policy: RollingPolicy, output_file_config: OutputFileConfig,
                 bucket_check_interval: int, input_type: Any = None) -> None:
        self.base_path = base_path
        self.encoder = encoder
        self.bucket_assigner = bucket_assigner
        self.rolling_policy = rolling_policy
        self.output_file_config = output_file_config
        self.bucket_check_interval = bucket_check_interval
        #: the type of the stream the sink is attached to (set by ``sink_to``)
        self.input_type = input_type

    @staticmethod
    def for_row_format(base_path: str, encoder: Any) -> "FileSink.RowFormatBuilder":
        """A builder of a sink writing records one by one with ``encoder``.

        :param base_path: the directory of the buckets (created if missing), a local path or
            a ``file://`` URI.
        :param encoder: how records become bytes, e.g. ``Encoder.simple_string_encoder()``.
        :return: the builder.
        """
        return FileSink.RowFormatBuilder(_check_base_path(base_path), _check_encoder(encoder))

    @staticmethod
    def for_bulk_format(base_path: str, writer_factory: Any) -> "FileSink.RowFormatBuilder":
        """Bulk formats (Parquet, ORC, Avro, ...) are not supported by flink_py yet."""
        raise InvalidProgramError(
            "FileSink.for_bulk_format is not supported yet by flink_py; use "
            "FileSink.for_row_format(base_path, Encoder.simple_string_encoder())")

    def _with_input_type(self, input_type: Any) -> "FileSink":
        """This sink, for a stream of ``input_type`` (called by ``DataStream.sink_to``)."""
        return FileSink(self.base_path, self.encoder, self.bucket_assigner,
                        self.rolling_policy, self.output_file_config,
                        self.bucket_check_interval, input_type)

    def _create_sink_operator(self, name: str) -> Any:
        from flink_py.runtime.operators.file_sink import FileWriter
        formatter = str if self.input_type is None else self.input_type._java_formatter()
        config = self.output_file_config
        return FileWriter(name, self.base_path, formatter, self.encoder.encoding,
                          self.bucket_assigner, self.rolling_policy,
                          config.get_part_prefix(), config.get_part_suffix(),
                          self.bucket_check_interval)

    def __repr__(self) -> str:
        return (f"FileSink({self.base_path!r}, {self.encoder!r}, {self.bucket_assigner!r}, "
                f"{self.rolling_policy!r}, {self.output_file_config!r})")

    class BaseBuilder:
        """What the row- and bulk-format builders share."""

        def __init__(self, base_path: str, encoder: Any) -> None:
            self._base_path = base_path
            self._encoder = encoder
            self._bucket_assigner: BucketAssigner = DateTimeBucketAssigner()
            self._rolling_policy: RollingPolicy = DefaultRollingPolicy()
            self._output_file_config = OutputFileConfig("part", "")
            self._bucket_check_interval = DEFAULT_BUCKET_CHECK_INTERVAL

        def with_bucket_check_interval(self, interval: int) -> "FileSink.BaseBuilder":
            """How often the time conditions of the rolling policy are checked.

            :param interval: the check interval in milliseconds (60 000 by default).
            """
            self._bucket_check_interval = _millis(interval, "the bucket check interval")
            return self

        def with_bucket_assigner(self, bucket_assigner: BucketAssigner
                                 ) -> "FileSink.BaseBuilder":
            if not isinstance(bucket_assigner, BucketAssigner):
                raise InvalidProgramError(
                    f"with_bucket_assigner expects a BucketAssigner such as "
                    f"BucketAssigner.base_path_bucket_assigner(), got "
                    f"{type(bucket_assigner).__name__} {bucket_assigner!r}")
            self._bucket_assigner = bucket_assigner
            return self

        def with_output_file_config(self, output_file_config: OutputFileConfig
                                    ) -> "FileSink.BaseBuilder":
            if not isinstance(output_file_config, OutputFileConfig):
                raise InvalidProgramError(
                    f"with_output_file_config expects an OutputFileConfig (from "
                    f"OutputFileConfig.builder()...build()), got "
                    f"{type(output_file_config).__name__} {output_file_config!r}")
            self._output_file_config = output_file_config
            return self

        def enable_compact(self, strategy: Any, compactor: Any) -> "FileSink.BaseBuilder":
            """File compaction is not supported by flink_py yet."""
            raise InvalidProgramError("FileSink compaction (enable_compact) is not supported "
                                      "yet by flink_py")

        def disable_compact(self) -> "FileSink.BaseBuilder":
            return self

        def with_rolling_policy(self, rolling_policy: RollingPolicy) -> "FileSink.BaseBuilder":
            if not isinstance(rolling_policy, RollingPolicy):
                raise InvalidProgramError(
                    f"with_rolling_policy expects a RollingPolicy such as "
                    f"RollingPolicy.default_rolling_policy(), got "
                    f"{type(rolling_policy).__name__} {rolling_policy!r}")
            self._rolling_policy = rolling_policy
            return self

        def build(self) -> "FileSink":
            return FileSink(self._base_path, self._encoder, self._bucket_assigner,
                            self._rolling_policy, self._output_file_config,
                            self._bucket_check_interval)

    class RowFormatBuilder(BaseBuilder):
        """Builds a row-format FileSink (``FileSink.for_row_format``)."""


def _check_base_path(base_path: Any) -> str:
    """The absolute local directory of ``base_path``; an error for anything else."""
    try:
        path = os.fspath(base_path)
    except TypeError:
        raise InvalidProgramError(
            f"FileSink base_path must be a path (a str), got {type(base_path).__name__} "
            f"{base_path!r}") from None
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if path.startswith("file://"):
        path = path[len("file://"):]
    elif "://" in path:
        raise InvalidProgramError(
            f"FileSink base_path {base_path!r}: only the local file system is supported "
            f"(a path or a file:// URI)")
    if not path:
        raise InvalidProgramError("FileSink base_path must not be empty")
    path = os.path.abspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise InvalidProgramError(
            f"FileSink base_path {path!r} exists and is not a directory; the sink writes its "
            f"buckets into a directory")
    return path


def _check_encoder(encoder: Any) -> Any:
    from flink_py.common.serialization import Encoder
    if not isinstance(encoder, Encoder):
        raise InvalidProgramError(
            f"FileSink.for_row_format expects an Encoder such as "
            f"Encoder.simple_string_encoder(), got {type(encoder).__name__} {encoder!r}")
    return encoder
