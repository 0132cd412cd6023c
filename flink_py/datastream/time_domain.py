"""PyFlink's public path for :mod:`flink_py.api.time_domain`, where these classes live.

The contracts that the runtime uses too sit in :mod:`flink_py.api`, which imports no runtime;
this module re-exports the very same objects (``is`` holds), so programs and pickles that
name ``flink_py.datastream.time_domain`` keep working.
"""

from flink_py.api.time_domain import *  # noqa: F401,F403
