"""flink_py runtime/operators."""
