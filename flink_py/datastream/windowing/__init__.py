"""The old path of :mod:`flink_py.api.windowing.__init__`, kept for older imports and pickles.

Import the public names from :mod:`flink_py.datastream.window` (PyFlink's
``pyflink.datastream.window``), which re-exports all of them.
"""
