"""The implementation of :mod:`flink_py.datastream.window`, one module per job.

- :mod:`~flink_py.datastream.windowing.windows`: ``Window``, ``TimeWindow``, ``CountWindow``,
  ``GlobalWindow``, their serializers and ``MAX_LONG_VALUE`` / ``MIN_LONG_VALUE``;
- :mod:`~flink_py.datastream.windowing.triggers`: ``TriggerResult``, ``Trigger`` and the
  built-in triggers;
- :mod:`~flink_py.datastream.windowing.assigners`: ``WindowAssigner``,
  ``MergingWindowAssigner`` and every built-in assigner;
- :mod:`~flink_py.datastream.windowing.evictors`: ``TimestampedValue``, ``Evictor`` and the
  built-in evictors;
- :mod:`~flink_py.datastream.windowing._common`: the type variables and the ms conversion they
  share.

Import the public names from :mod:`flink_py.datastream.window` (PyFlink's
``pyflink.datastream.window``), which re-exports all of them.
"""
