"""flink_py cli."""
