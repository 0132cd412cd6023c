"""The compiled parts of flink_py, each optional: when a C compiler or Python's headers are
missing, the install goes on and the pure Python modules they speed up are used instead
(pyproject.toml holds everything else)."""

from setuptools import Extension, setup

setup(ext_modules=[
    # Flink's heap timer queue (flink_py/runtime/state/timer_queue.py is the fallback)
    Extension("flink_py.runtime.state._timer_heap", ["flink_py/runtime/state/_timer_heap.c"],
              optional=True),
    # KeyGroupStreamPartitioner's routing loop (partitioners.py's loops are the fallback)
    Extension("flink_py.runtime.network._key_router",
              ["flink_py/runtime/network/_key_router.c"], optional=True),
    # the columnar encoding of buffers that cross processes (buffer_codec.py: pickle, and
    # its Python decoder, are the fallback)
    Extension("flink_py.runtime.network._buffer_codec",
              ["flink_py/runtime/network/_buffer_codec.c"], optional=True),
    # non-blocking socket calls that keep the GIL (socket_io.py falls back to socket methods)
    Extension("flink_py.runtime.network._socket_io",
              ["flink_py/runtime/network/_socket_io.c"], optional=True),
])
