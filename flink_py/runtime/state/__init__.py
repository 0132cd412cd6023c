"""flink_py runtime/state."""
