"""PyFlink's public path for :mod:`flink_py.api.functions`, where these classes live.

The contracts that the runtime uses too sit in :mod:`flink_py.api`, which imports no runtime;
this module re-exports the very same objects (``is`` holds), so programs and pickles that
name ``flink_py.datastream.functions`` keep working.
"""

from flink_py.api.functions import *  # noqa: F401,F403
from flink_py.api.timerservice import TimerService  # noqa: F401,E402 (PyFlink has it here)
