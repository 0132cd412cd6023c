"""The collect buffer between a job's collect sink and the client of execute_and_collect."""

from __future__ import annotations

import threading

import pytest

from flink_py.runtime.execution.errors import CancelTaskException
from flink_py.runtime.jobmaster.collect import CollectBuffer


def test_a_sinks_end_is_final_only_once_the_job_is_over() -> None:
    buffer = CollectBuffer()
    buffer.put([1, 2])
    buffer.end()  # the first attempt's sink ended ...
    assert buffer.take(0.01) == ([1, 2], False)
    assert buffer.take(0.01) == (None, False), "not over: the job may still restart the sink"
    buffer.put([1, 2, 3])  # ... and a restarted attempt sends again
    assert buffer.take(0.01) == ([1, 2, 3], False)
    buffer.end()
    buffer.close()  # the job is over
    assert buffer.take(0.01) == (None, True)


def test_a_job_over_without_the_sinks_end_is_not_an_end() -> None:
    buffer = CollectBuffer()
    buffer.close()
    assert buffer.take(0.01) == (None, False)  # the caller asks the job why (its failure)
    with pytest.raises(CancelTaskException):
        buffer.put([1])


def test_closing_wakes_a_waiting_client() -> None:
    buffer = CollectBuffer()
    buffer.end()
    answers = []
    client = threading.Thread(target=lambda: answers.append(buffer.take(600.0)))
    client.start()
    buffer.close()
    client.join(10.0)  # far less than the take's own timeout: only the close can end it
    assert not client.is_alive() and answers == [(None, True)]
