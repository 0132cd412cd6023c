"""The DataStream API, with PyFlink's names (``pyflink.datastream``)."""

from flink_py.datastream.data_stream import (
    ConnectedStreams, DataStream, DataStreamSink, KeyedStream)
from flink_py.datastream.execution_mode import RuntimeExecutionMode
from flink_py.datastream.functions import (
    CoFlatMapFunction, CoMapFunction, FilterFunction, FlatMapFunction, Function, KeySelector,
    MapFunction, Partitioner, ProcessFunction, ReduceFunction, RuntimeContext, SinkFunction,
    SourceFunction)
from flink_py.datastream.output_tag import OutputTag
from flink_py.datastream.stream_execution_environment import StreamExecutionEnvironment

__all__ = [
    "CoFlatMapFunction", "CoMapFunction", "ConnectedStreams", "DataStream", "DataStreamSink",
    "FilterFunction", "FlatMapFunction", "Function", "KeySelector", "KeyedStream",
    "MapFunction", "OutputTag", "Partitioner", "ProcessFunction", "ReduceFunction",
    "RuntimeContext", "RuntimeExecutionMode", "SinkFunction", "SourceFunction",
    "StreamExecutionEnvironment",
]
