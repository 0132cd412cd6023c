"""flink_py: Apache Flink's model of stateful stream processing, rebuilt in Python."""

__version__ = "0.1.0"
