"""flink_py runtime/dispatcher."""
