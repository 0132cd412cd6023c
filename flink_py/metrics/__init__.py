"""User-defined metrics, as in ``pyflink.metrics``: a function gets its
:class:`MetricGroup` from ``runtime_context.get_metrics_group()`` in ``open`` and registers
counters, gauges, meters and distributions on it.

flink_py keeps the metrics of each parallel operator instance in that instance (they count,
measure and can be read back); it has no metrics system yet that reports them (issue 14).
"""

from flink_py.metrics.metricbase import Counter, Distribution, Meter, Metric, MetricGroup

__all__ = ["MetricGroup", "Metric", "Counter", "Meter", "Distribution"]
