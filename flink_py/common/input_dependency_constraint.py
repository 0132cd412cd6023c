"""PyFlink's ``InputDependencyConstraint`` (``pyflink.common``): when a task with several
inputs may be scheduled in a batch job. PyFlink 2.3 keeps the name and no API takes it any
more (Flink's scheduler decides from the result partition types), nor does flink_py's."""

from __future__ import annotations

from enum import Enum

__all__ = ["InputDependencyConstraint"]


class InputDependencyConstraint(Enum):
    """``ANY``: schedule once any input is consumable; ``ALL``: once all are."""

    ANY = 0
    ALL = 1
