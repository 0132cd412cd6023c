"""The window contracts, one module per job (re-exported by :mod:`flink_py.datastream.window`).

- :mod:`~flink_py.api.windowing.windows`: ``Window``, ``TimeWindow``, ``CountWindow``,
  ``GlobalWindow``, their serializers and ``MAX_LONG_VALUE`` / ``MIN_LONG_VALUE``;
- :mod:`~flink_py.api.windowing.triggers`: ``TriggerResult``, ``Trigger`` and the
  built-in triggers;
- :mod:`~flink_py.api.windowing.assigners`: ``WindowAssigner``,
  ``MergingWindowAssigner`` and every built-in assigner;
- :mod:`~flink_py.api.windowing.evictors`: ``TimestampedValue``, ``Evictor`` and the
  built-in evictors;
- :mod:`~flink_py.api.windowing._common`: the type variables and the ms conversion they
  share.

Import the public names from :mod:`flink_py.datastream.window` (PyFlink's
``pyflink.datastream.window``), which re-exports all of them.
"""
