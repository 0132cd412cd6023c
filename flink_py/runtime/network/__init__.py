"""flink_py runtime/network."""
