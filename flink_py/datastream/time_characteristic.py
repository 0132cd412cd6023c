"""``TimeCharacteristic``, PyFlink 1.x's ``pyflink.datastream.time_characteristic`` (removed in
Flink 2.0), for programs written against 1.x.

Flink 1.12 made event time the default and deprecated the setting: a stream's notion of time
comes from its WatermarkStrategy (``for_monotonous_timestamps()``, ``no_watermarks()`` plus
processing-time windows, ...), and windows name their time domain
(``TumblingEventTimeWindows`` or ``TumblingProcessingTimeWindows``). What
``env.set_stream_time_characteristic`` still did in 1.12–1.20 is what it does here: set the
periodic watermark interval (0 for ProcessingTime, 200 ms otherwise), with a
DeprecationWarning. Unlike 1.x, IngestionTime does not stamp the records of legacy sources:
give such a stream ``WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(
IngestionTimeAssigner())``.

Example::

    >>> TimeCharacteristic.EventTime.name
    'EventTime'
"""

from __future__ import annotations

from enum import Enum

__all__ = ["TimeCharacteristic"]


class TimeCharacteristic(Enum):
    """The time characteristic of a Flink 1.x program (deprecated since Flink 1.12).

    ProcessingTime: the machine's wall clock; IngestionTime: the time records enter Flink;
    EventTime: the records' own timestamps (the default).
    """

    ProcessingTime = 0
    IngestionTime = 1
    EventTime = 2


#: what 1.x's setStreamTimeCharacteristic set pipeline.auto-watermark-interval to
AUTO_WATERMARK_INTERVALS = {TimeCharacteristic.ProcessingTime: 0,
                            TimeCharacteristic.IngestionTime: 200,
                            TimeCharacteristic.EventTime: 200}

