"""flink_py runtime/tasks."""
