"""Helpers for testing flink_py jobs and flink_py itself: operator test harnesses with
snapshot and restore (``harness``), a manual processing-time clock (``clock``), waiting for
a condition with a deadline (``poll``), and a local cluster of real processes for tests and
benchmarks (``process_cluster``)."""
