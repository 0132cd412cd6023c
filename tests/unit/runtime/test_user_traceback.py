"""A user function's traceback, rebuilt where its exception arrives pickled (no traceback)."""

from __future__ import annotations

import pickle
import traceback
from pathlib import Path
from typing import Any, Callable

import pytest

from flink_py.runtime.execution import user_traceback
from flink_py.runtime.execution.errors import SerializedError
from flink_py.runtime.execution.user_traceback import user_frames, with_user_traceback
from flink_py.runtime.operators.simple import StreamMap
from flink_py.testing.harness import OneInputStreamOperatorTestHarness
from flink_py.testing.doc_examples import assert_examples_hold

PROGRAM = '''\
def helper(values):
    return values[0] / values[1]


def compute(pair):
    total = helper(pair) + 1
    return total
'''


@pytest.fixture
def compute(tmp_path: Path) -> Callable[[Any], Any]:
    path = tmp_path / "user_job.py"
    path.write_text(PROGRAM)
    namespace: dict = {"__name__": "__main__"}
    exec(compile(PROGRAM, str(path), "exec"), namespace)
    return namespace["compute"]


def _failing_map(function: Any) -> BaseException:
    """What a map of ``function`` raises for the record ``(1, 0)``."""
    harness = OneInputStreamOperatorTestHarness(StreamMap("Map", function))
    harness.open()
    return _raised_by(lambda: harness.process_element((1, 0)))


def _raised_by(function: Callable[[], Any]) -> BaseException:
    with pytest.raises(Exception) as info:
        function()
    return info.value


def test_the_rebuilt_traceback_prints_as_the_original(compute: Callable[[Any], Any]) -> None:
    original = _raised_by(lambda: compute((1, 0)))
    frames = user_frames(original)
    copy = pickle.loads(pickle.dumps(original))
    assert copy.__traceback__ is None
    rebuilt = "".join(traceback.format_exception(with_user_traceback(copy, frames)))
    printed = "".join(traceback.format_exception(original))
    # the same frames from the user's function on: file, line, function, source and carets
    assert rebuilt.splitlines() == printed.splitlines(), (rebuilt, printed)
    assert "~~~~~~~~~^~~~~~~~~~" in rebuilt  # the division's carets
    assert "^^^^^^^^^^^^" in rebuilt  # helper(pair)'s


def test_the_runtimes_frames_before_the_users_are_left_out(compute: Callable[[Any], Any]) -> None:
    error = _failing_map(compute)
    assert error.__cause__ is not None
    names = [frame[5] for frame in user_frames(error.__cause__)]
    assert names == ["compute", "helper"]


def test_a_runtime_failure_keeps_all_its_frames() -> None:
    error = _failing_map(int)  # a built-in: no Python frame of the user's
    assert error.__cause__ is not None
    frames = user_frames(error.__cause__)
    assert frames and all("flink_py" in frame[0] for frame in frames)


def test_the_users_frames_travel_with_the_serialized_failure(
        compute: Callable[[Any], Any]) -> None:
    error = _failing_map(compute)
    restored = SerializedError.of(error).to_exception()
    assert str(restored) == "user function in 'Map' (subtask 1/1) raised ZeroDivisionError: division by zero"
    assert [frame[5] for frame in restored.user_frames] == ["compute", "helper"]  # type: ignore


def test_the_module_examples() -> None:
    assert_examples_hold(user_traceback)
