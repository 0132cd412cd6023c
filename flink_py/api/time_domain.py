"""``TimeDomain``, as in ``pyflink.datastream.time_domain``."""

from __future__ import annotations

from enum import Enum


class TimeDomain(Enum):
    """Which clock a timer used: the watermark (EVENT_TIME) or the wall clock."""

    EVENT_TIME = 0
    PROCESSING_TIME = 1
