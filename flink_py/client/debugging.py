"""pdb in user functions of a local job: the debugger's trace reaches the task threads.

pdb (``python -m pdb job.py``) traces the thread it runs in only, and a local job runs its
user functions on the threads of its tasks: a breakpoint set in one (``b job.py:12``) would
never be hit. While a local job runs, ``trace_task_threads`` hands the main thread's trace
function to the threads started from then on (``threading.settrace``), so the breakpoint
stops the task that reaches it. At the job's end the threads' trace does nothing any more
(threads of the runtime that outlive the job must not stop at pdb's prompt once the program
is restarted).

Nothing is done when the thread is not traced (no cost then), or when threads already get
a trace function of their own: thread-aware debuggers (debugpy, PyCharm) set one.
"""

from __future__ import annotations

import bdb
import os
import sys
import threading
from types import FrameType
from typing import Any, Callable, Optional, Set

__all__ = ["trace_task_threads", "job_ended", "debugger_active"]

TraceFunction = Callable[[FrameType, str, Any], Any]


class _TaskThreadTrace:
    """The trace function of threads started while a debugged job runs: the debugger's,
    as long as one of the jobs it was set for runs."""

    def __init__(self, trace: TraceFunction) -> None:
        self.trace = trace
        self.jobs: Set[str] = set()

    def __call__(self, frame: FrameType, event: str, arg: Any) -> Optional[TraceFunction]:
        if not self.jobs:
            return None
        return self.trace(frame, event, arg)


_lock = threading.Lock()
_current: Optional[_TaskThreadTrace] = None


def debugger_active() -> Optional[str]:
    """What says a debugger is (or may soon be) at work in this process, or None: a trace
    function (pdb, an IDE), debugpy or pydevd loaded, ``breakpoint()`` hooked or redirected.
    A local job then runs in this process, where breakpoints in its functions can stop."""
    if sys.gettrace() is not None or threading.gettrace() is not None:
        return "a trace function is set"
    for module in ("debugpy", "pydevd"):
        if module in sys.modules:
            return f"{module} is loaded"
    if sys.breakpointhook is not sys.__breakpointhook__:
        return "breakpoint() is hooked"
    if os.environ.get("PYTHONBREAKPOINT", "0") not in ("", "0"):
        return "PYTHONBREAKPOINT is set"
    return None


def trace_task_threads(job_id: str) -> None:
    """Traces the threads started from now on with this thread's trace function (a
    debugger's), until ``job_ended(job_id)``; does nothing when this thread is not traced."""
    global _current
    trace = sys.gettrace()
    if trace is None:
        return
    with _lock:
        installed = threading.gettrace()
        if installed is not None and installed is not _current:
            return  # a thread-aware debugger traces the threads itself
        if _current is None or _current.trace != trace:
            _serialize_prompts(trace)
            _current = _TaskThreadTrace(trace)
        _current.jobs.add(job_id)
        threading.settrace(_current)


def job_ended(job_id: str) -> None:
    """The job ``trace_task_threads`` was called for ended: its threads stop tracing."""
    with _lock:
        if _current is None or job_id not in _current.jobs:
            return
        _current.jobs.discard(job_id)
        if not _current.jobs and threading.gettrace() is _current:
            threading.settrace(None)  # type: ignore[arg-type]


def _serialize_prompts(trace: TraceFunction) -> None:
    """Two subtasks at a breakpoint at once take turns at pdb's prompt."""
    debugger = getattr(trace, "__self__", None)
    if not isinstance(debugger, bdb.Bdb) or hasattr(debugger, "_flink_py_prompt_lock"):
        return
    lock = threading.RLock()
    interaction = debugger.interaction  # type: ignore[attr-defined]

    def one_at_a_time(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return interaction(*args, **kwargs)

    debugger._flink_py_prompt_lock = lock  # type: ignore[attr-defined]
    debugger.interaction = one_at_a_time  # type: ignore[attr-defined]
