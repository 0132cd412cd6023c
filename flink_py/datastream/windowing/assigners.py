"""The old path of :mod:`flink_py.api.windowing.assigners`, kept for older imports and pickles.

The contracts that the runtime uses too sit in :mod:`flink_py.api`, which imports no runtime;
this module re-exports the very same objects (``is`` holds), so programs and pickles that
name ``flink_py.datastream.windowing.assigners`` keep working.
"""

from flink_py.api.windowing.assigners import *  # noqa: F401,F403
from flink_py.api.windowing.assigners import __all__  # noqa: F401
