"""Connectors of the DataStream API (``pyflink.datastream.connectors``)."""

from flink_py.datastream.connectors.file_system import (
    BucketAssigner, FileSink, FileSource, FileSourceBuilder, OutputFileConfig, RollingPolicy,
    StreamFormat)

__all__ = ["BucketAssigner", "FileSink", "FileSource", "FileSourceBuilder",
           "OutputFileConfig", "RollingPolicy", "StreamFormat"]
