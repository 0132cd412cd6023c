"""PyFlink's public path for :mod:`flink_py.api.state`, where these classes live.

The contracts that the runtime uses too sit in :mod:`flink_py.api`, which imports no runtime;
this module re-exports the very same objects (``is`` holds), so programs and pickles that
name ``flink_py.datastream.state`` keep working.
"""

from flink_py.api.state import *  # noqa: F401,F403
from flink_py.api.state import (  # noqa: F401
    _ttl_millis)
