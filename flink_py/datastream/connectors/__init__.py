"""Connectors of the DataStream API (``pyflink.datastream.connectors``)."""

from flink_py.datastream.connectors.file_system import FileSource, StreamFormat

__all__ = ["FileSource", "StreamFormat"]
