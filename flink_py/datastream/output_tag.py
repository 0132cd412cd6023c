"""PyFlink's public path for :mod:`flink_py.api.output_tag`, where these classes live.

The contracts that the runtime uses too sit in :mod:`flink_py.api`, which imports no runtime;
this module re-exports the very same objects (``is`` holds), so programs and pickles that
name ``flink_py.datastream.output_tag`` keep working.
"""

from flink_py.api.output_tag import *  # noqa: F401,F403
