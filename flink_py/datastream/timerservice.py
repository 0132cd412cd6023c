"""PyFlink's public path for :mod:`flink_py.api.timerservice`, where these classes live.

The contracts that the runtime uses too sit in :mod:`flink_py.api`, which imports no runtime;
this module re-exports the very same objects (``is`` holds), so programs and pickles that
name ``flink_py.datastream.timerservice`` keep working.
"""

from flink_py.api.timerservice import *  # noqa: F401,F403
