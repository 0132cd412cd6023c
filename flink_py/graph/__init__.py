"""flink_py graph."""
