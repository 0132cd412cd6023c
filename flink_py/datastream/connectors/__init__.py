"""Connectors of the DataStream API (``pyflink.datastream.connectors``)."""

from flink_py.datastream.connectors.base import DeliveryGuarantee
from flink_py.datastream.connectors.file_system import (
    BucketAssigner, FileSink, FileSource, FileSourceBuilder, OutputFileConfig, RollingPolicy,
    StreamFormat)
from flink_py.datastream.connectors.number_seq import NumberSequenceSource

__all__ = ["BucketAssigner", "DeliveryGuarantee", "FileSink", "FileSource", "FileSourceBuilder",
           "NumberSequenceSource", "OutputFileConfig", "RollingPolicy", "StreamFormat"]
