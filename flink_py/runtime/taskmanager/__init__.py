"""flink_py runtime/taskmanager."""
