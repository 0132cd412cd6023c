"""A user function's traceback as the client shows it: the user's own frames, nothing else.

A user function fails on a task thread (or in another process); its exception reaches the
client pickled, and a traceback does not pickle. ``user_frames`` records, where the exception
is caught, the frames from the first one outside flink_py on (the runtime's frames that called
the function are of no use to the user); ``with_user_traceback`` gives the exception, in the
client, a real traceback object of those frames. Python then prints it as usual, with the
user's file, line, source and carets (the code positions are kept), before the
JobExecutionError that names the job, task, operator and subtask:

>>> def parse(x):
...     return int(x)
>>> try:
...     parse("x")
... except ValueError as exc:
...     frames = user_frames(exc)
>>> [frame[5] for frame in frames]
['<module>', 'parse']
>>> restored = with_user_traceback(ValueError("again"), frames)
>>> import traceback
>>> [f.name for f in traceback.extract_tb(restored.__traceback__)]
['<module>', 'parse']
"""

from __future__ import annotations

import os
import types
from typing import List, Optional, Tuple

import flink_py

__all__ = ["Frame", "user_frames", "with_user_traceback"]

#: one frame: file name, line, end line, column, end column (the code positions; the end line
#: and columns may be None) and function name
Frame = Tuple[str, int, Optional[int], Optional[int], Optional[int], str]

_RUNTIME_DIR = os.path.dirname(os.path.abspath(flink_py.__file__)) + os.sep


def _is_runtime(filename: str) -> bool:
    """flink_py's own code: its files, and the code it compiles (``<fused Map -> Map>``)."""
    return filename.startswith("<fused ") or os.path.abspath(filename).startswith(_RUNTIME_DIR)


def user_frames(exc: BaseException) -> List[Frame]:
    """The frames of ``exc``'s traceback from the first one outside flink_py on.

    Frames of flink_py after that one stay (a user function calling ``ctx.output`` or a
    state's ``update`` that raised); none are dropped when all are flink_py's (then the
    failure is the runtime's own).
    """
    frames: List[Frame] = []
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        positions = next(iter(_positions_at(code, tb.tb_lasti)), None)
        line, end_line, col, end_col = positions or (tb.tb_lineno, None, None, None)
        frames.append((code.co_filename, line if line is not None else tb.tb_lineno,
                       end_line, col, end_col, code.co_name))
        tb = tb.tb_next
    first_user = next((i for i, frame in enumerate(frames) if not _is_runtime(frame[0])),
                      None)
    return frames if first_user is None else frames[first_user:]


def _positions_at(code: types.CodeType, lasti: int) -> List[tuple]:
    """The (line, end line, column, end column) of the instruction at byte offset ``lasti``."""
    if lasti < 0:
        return []
    positions = list(code.co_positions())
    index = lasti // 2
    return [positions[index]] if index < len(positions) else []


def _fake_traceback(frame: Frame) -> Optional[types.TracebackType]:
    """A traceback entry of one frame at ``frame``'s file, line and code positions.

    It is made as Jinja makes its template frames: code compiled under the user's file name
    whose failing call sits at the same line and columns, renamed to the user's function.
    """
    filename, line, end_line, col, end_col, name = frame
    if line < 1:
        return None
    if col is None or end_col is None or end_line != line or end_col - col < 3:
        col, end_col = 0, 1000  # no columns to keep: a span past the line shows no carets
    if line == 1:
        source = "_()"
    else:
        source = ("\n" * (line - 2) + "_hold(\n" + " " * col + "_("
                  + " " * (end_col - col - 3) + "))")
    code = compile(source, filename, "exec").replace(co_name=name, co_qualname=name)

    def fail() -> None:
        raise _Marker

    try:
        exec(code, {"_": fail, "_hold": lambda value: value, "__name__": "__flink_py__"})
    except _Marker as marker:
        tb = marker.__traceback__
        assert tb is not None and tb.tb_next is not None  # this frame, then the code's
        entry = tb.tb_next
        entry.tb_next = None
        return entry
    return None


class _Marker(Exception):
    """What the rebuilt frame raises; only its traceback entry is kept."""


def with_user_traceback(exc: BaseException, frames: List[Frame]) -> BaseException:
    """``exc`` with a traceback of ``frames`` (outermost first); returns ``exc``."""
    head: Optional[types.TracebackType] = None
    for frame in reversed(frames):
        entry = _fake_traceback(frame)
        if entry is not None:
            entry.tb_next = head
            head = entry
    return exc.with_traceback(head)
