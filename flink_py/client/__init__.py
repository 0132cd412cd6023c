"""flink_py client."""
