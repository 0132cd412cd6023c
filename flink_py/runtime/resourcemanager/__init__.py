"""flink_py runtime/resourcemanager."""
