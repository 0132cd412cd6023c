"""The compiled parts of flink_py, each optional: when a C compiler or Python's headers are
missing, the install goes on and the pure Python modules they speed up are used instead
(pyproject.toml holds everything else)."""

from setuptools import Extension, setup

setup(ext_modules=[
    # Flink's heap timer queue (flink_py/runtime/state/timer_queue.py is the fallback)
    Extension("flink_py.runtime.state._timer_heap", ["flink_py/runtime/state/_timer_heap.c"],
              optional=True),
])
