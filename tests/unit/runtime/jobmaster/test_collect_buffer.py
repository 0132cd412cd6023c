"""The collect buffer between a job's collect sink and the client of execute_and_collect."""

from __future__ import annotations

import threading

import pytest

from flink_py.runtime.execution.errors import CancelTaskException
from flink_py.runtime.jobmaster.collect import (
    CollectBuffer, CollectCommit, CollectReset, CollectResults)


def test_a_sinks_end_is_final_only_once_the_job_is_over() -> None:
    buffer = CollectBuffer()
    buffer.put(CollectReset(0, 0))
    buffer.put(CollectResults(0, 0, [1, 2]))
    buffer.end()  # the first attempt's sink ended ...
    assert buffer.take(0.01) == ([1, 2], False)
    assert buffer.take(0.01) == (None, False), "not over: the job may still restart the sink"
    buffer.put(CollectReset(1, 0))  # ... and a restarted attempt sends again
    buffer.put(CollectResults(1, 0, [1, 2, 3]))
    assert buffer.take(0.01) == ([1, 2, 3], False)
    buffer.end()
    buffer.close()  # the job is over
    assert buffer.take(0.01) == (None, True)


def test_a_job_over_without_the_sinks_end_is_not_an_end() -> None:
    buffer = CollectBuffer()
    buffer.close()
    assert buffer.take(0.01) == (None, False)  # the caller asks the job why (its failure)
    with pytest.raises(CancelTaskException):
        buffer.put(CollectResults(0, 0, [1]))


def test_closing_wakes_a_waiting_client() -> None:
    buffer = CollectBuffer()
    buffer.end()
    answers = []
    client = threading.Thread(target=lambda: answers.append(buffer.take(600.0)))
    client.start()
    buffer.close()
    client.join(10.0)  # far less than the take's own timeout: only the close can end it
    assert not client.is_alive() and answers == [(None, True)]


def _drain(buffer: CollectBuffer) -> list:
    out: list = []
    while True:
        batch, _ = buffer.take(0.0)
        if batch is None:
            return out
        out.extend(batch)


def test_with_checkpointing_the_client_sees_what_a_checkpoint_covers() -> None:
    buffer = CollectBuffer(checkpointed=True)
    buffer.put(CollectReset(0, 0))
    buffer.put(CollectResults(0, 0, [1, 2, 3]))
    buffer.put(CollectResults(0, 3, [4, 5]))
    assert _drain(buffer) == [], "no checkpoint covers them yet"
    buffer.put(CollectCommit(0, 4))
    assert _drain(buffer) == [1, 2, 3, 4]
    buffer.close(finished=True)  # the job FINISHED: the rest is the client's too
    assert _drain(buffer) == [5]


def test_a_restarted_sink_replaces_what_came_after_its_checkpoint() -> None:
    buffer = CollectBuffer(checkpointed=True)
    buffer.put(CollectReset(0, 0))
    buffer.put(CollectResults(0, 0, [1, 2, 3, 4, 5]))
    # the checkpoint at offset 2 completed, but its commit was lost with the attempt
    buffer.put(CollectReset(1, 2))
    buffer.put(CollectResults(0, 5, [6]))  # late, from the replaced attempt
    buffer.put(CollectCommit(0, 6))  # likewise
    buffer.put(CollectResults(1, 2, [3, 4]))
    buffer.put(CollectCommit(1, 4))
    buffer.close(finished=False)  # a failed job: what no checkpoint covers is dropped
    assert _drain(buffer) == [1, 2, 3, 4]


def test_without_checkpointing_results_are_the_clients_at_once() -> None:
    buffer = CollectBuffer(checkpointed=False)
    buffer.put(CollectReset(0, 0))
    buffer.put(CollectResults(0, 0, [1, 2]))
    assert _drain(buffer) == [1, 2]
