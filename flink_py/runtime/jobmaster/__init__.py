"""flink_py runtime/jobmaster."""
