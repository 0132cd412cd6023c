"""flink_py runtime."""
