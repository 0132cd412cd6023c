"""Helpers for testing and benchmarking flink_py itself with real processes."""
