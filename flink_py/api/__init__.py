"""The contracts that both the APIs and the runtime use, importing no runtime.

- :mod:`~flink_py.api.functions`: user function interfaces, ``RuntimeContext``,
  ``CheckpointedFunction`` / ``CheckpointListener``, ``SourceFunction`` / ``SinkFunction``;
- :mod:`~flink_py.api.state`: state descriptors, the ``State`` interfaces, TTL;
- :mod:`~flink_py.api.timerservice`, :mod:`~flink_py.api.time_domain`: timers and clocks;
- :mod:`~flink_py.api.output_tag`: ``OutputTag`` (side outputs);
- :mod:`~flink_py.api.windowing`: windows, assigners, triggers and evictors;
- :mod:`~flink_py.api.bucketing`: the file sink's ``BucketAssigner`` and ``RollingPolicy``.

PyFlink's public paths (``flink_py.datastream.functions``, ``.state``, ``.window``, ...)
re-export the very same objects. This package may import :mod:`flink_py.common` and
:mod:`flink_py.errors`, never ``flink_py.runtime``, ``flink_py.datastream`` or
``flink_py.table`` (``tests/unit/test_import_layers.py`` keeps it so).
"""
