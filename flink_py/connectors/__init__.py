"""flink_py connectors."""
