"""Idempotent submission (Dispatcher), the client's retry of an unanswered submission, a job
that waits for slots (CREATED, with what it waits for), and heartbeat deadlines that do not
count time the JobManager did not run."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Iterator, List

import pytest

from flink_py.client.rest_cluster_client import (
    ClusterUnreachableError, RestClusterClient, SubmissionOutcomeUnknownError)
from flink_py.common.job_status import JobStatus
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.graph.ids import ResourceID
from flink_py.runtime.dispatcher.dispatcher import Dispatcher, DuplicateJobSubmissionError
from flink_py.runtime.resourcemanager.resource_manager import ResourceManager
from flink_py.testing.poll import wait_until

DEADLINE_S = 10.0


def _graph(name: str) -> Any:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(3)
    env.from_collection([1, 2]).map(lambda x: x).add_sink(lambda value, context=None: None)
    return env.get_job_graph(name)


@pytest.fixture
def dispatcher() -> Iterator[Dispatcher]:
    # No TaskManagers: a submitted job waits for slots.
    the_dispatcher = Dispatcher(ResourceManager(), slot_request_timeout_s=60.0)
    yield the_dispatcher
    for master in the_dispatcher.list_jobs():
        master.cancel()
        assert master.wait_for_termination(DEADLINE_S)


def test_the_same_submission_twice_starts_the_job_once(dispatcher: Dispatcher) -> None:
    graph = _graph("once")
    assert dispatcher.submit_job(graph, submission_digest="d1") == str(graph.job_id)
    assert dispatcher.submit_job(graph, submission_digest="d1") == str(graph.job_id)
    assert len(dispatcher.list_jobs()) == 1


def test_another_graph_under_a_known_job_id_is_refused(dispatcher: Dispatcher) -> None:
    graph = _graph("first")
    dispatcher.submit_job(graph, submission_digest="d1")
    for digest in ("d2", None):
        with pytest.raises(DuplicateJobSubmissionError,
                           match=f"Job has already been submitted: job {graph.job_id}"):
            dispatcher.submit_job(graph, submission_digest=digest)
    assert len(dispatcher.list_jobs()) == 1


def test_a_job_waiting_for_slots_is_created_and_says_how_many(dispatcher: Dispatcher) -> None:
    job_id = dispatcher.submit_job(_graph("waits"))
    master = dispatcher.job_master(job_id)
    view = wait_until(lambda: master.view() if master.view().waiting_for_slots else None,
                      what="the job waiting for slots")
    assert view.status is JobStatus.CREATED
    assert view.waiting_for_slots.required_slots == 3
    assert view.waiting_for_slots.slot_request_timeout_ms == 60000
    assert {s.state.name for s in view.subtasks()} == {"SCHEDULED"}
    master.cancel()
    assert master.wait_for_termination(DEADLINE_S)
    assert master.status is JobStatus.CANCELED
    assert master.view().waiting_for_slots is None


def test_a_job_that_never_gets_its_slots_restarts_while_created_then_fails() -> None:
    from flink_py.common.configuration import Configuration
    configuration = Configuration()
    configuration.set_string("restart-strategy.type", "fixed-delay")
    configuration.set_string("restart-strategy.fixed-delay.attempts", "2")
    configuration.set_string("restart-strategy.fixed-delay.delay", "0 ms")
    the_dispatcher = Dispatcher(ResourceManager(), slot_request_timeout_s=0.2,
                                configuration=configuration)
    master = the_dispatcher.job_master(the_dispatcher.submit_job(_graph("never")))
    assert master.wait_for_termination(DEADLINE_S)
    assert master.status is JobStatus.FAILED
    assert "RUNNING" not in master.status_timestamps  # it never ran
    assert master.view().num_restarts == 2
    assert "Could not acquire the minimum required resources: 3 slot(s)" in \
        master.failure.error.message


# -- the client's retry ------------------------------------------------------------------------

class _SilentServer:
    """Accepts connections and reads what comes, never answering (a stopped JobManager's
    kernel does the same)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections: List[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed
            self.connections.append(conn)

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept (a close alone does not)
        self.sock.close()
        for conn in self.connections:
            conn.close()
        self.thread.join(DEADLINE_S)


def test_an_unanswered_submission_is_sent_again_then_reported_unknown() -> None:
    server = _SilentServer()
    try:
        client = RestClusterClient(f"127.0.0.1:{server.port}", timeout_s=0.9)
        graph = _graph("unanswered")
        started = time.monotonic()
        with pytest.raises(SubmissionOutcomeUnknownError) as raised:
            client.submit_job(graph)
        assert time.monotonic() - started < 0.9 + 0.5  # all attempts within client.timeout
        assert str(raised.value) == (
            f"The JobManager at 127.0.0.1:{server.port} did not answer within 0.9 s; job "
            f"{graph.job_id} may or may not have been submitted: check with 'flink list'.")
        assert len(server.connections) == 3
    finally:
        server.close()


def test_a_refused_submission_is_not_sent_again() -> None:
    free = socket.create_server(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()  # nothing listens there now
    client = RestClusterClient(f"127.0.0.1:{port}", timeout_s=5.0)
    with pytest.raises(ClusterUnreachableError, match="connection refused") as raised:
        client.submit_job(_graph("refused"))
    assert not isinstance(raised.value, SubmissionOutcomeUnknownError)


# -- heartbeat deadlines -----------------------------------------------------------------------

def test_time_the_jobmanager_did_not_run_does_not_count_against_heartbeats() -> None:
    rm = ResourceManager()
    quiet, heard = ResourceID("tm-quiet"), ResourceID("tm-heard")
    rm.register_task_executor(quiet, object(), 1)
    rm.register_task_executor(heard, object(), 1)
    # as after a 10 s pause: the last heartbeats are 10 s old
    for registration in rm._task_managers.values():
        registration.last_heartbeat -= 10.0
    rm.discount_unobserved_time(9.5)
    assert rm.check_heartbeats(3.0) == []
    # the deadline never moves past now: one timeout from now at most
    rm.heartbeat(heard)
    rm.discount_unobserved_time(100.0)
    assert rm._task_managers[heard].last_heartbeat <= time.monotonic()
    for registration in rm._task_managers.values():
        registration.last_heartbeat -= 3.5
    assert sorted(map(str, rm.check_heartbeats(3.0))) == ["tm-heard", "tm-quiet"]


# -- a TaskManager's view of its JobManager -------------------------------------------------

def test_the_job_manager_contact_examples_hold() -> None:
    import doctest

    import flink_py.runtime.entrypoint.taskmanager as module
    assert doctest.testmod(module).failed == 0


def test_a_paused_task_manager_does_not_count_its_own_pause() -> None:
    from flink_py.runtime.entrypoint.taskmanager import JobManagerContact
    contact = JobManagerContact(timeout_s=3.0)
    contact.answered()
    # last answer at 0; paused until 100; the first call after the pause is refused
    assert contact.unanswered(started=100.0, now=100.01, refused=True) is None
    assert contact.unanswered(started=101.0, now=102.0, refused=True) is None
    assert contact.unanswered(started=103.0, now=103.5, refused=True) == JobManagerContact.LOST
    assert contact.unanswered(started=104.0, now=104.5, refused=True) is None  # once


def test_a_job_manager_that_only_times_out_is_never_lost() -> None:
    from flink_py.runtime.entrypoint.taskmanager import JobManagerContact
    contact = JobManagerContact(timeout_s=3.0)
    verdicts = [contact.unanswered(started=t, now=t + 10.0, refused=False)
                for t in range(0, 120, 10)]
    assert verdicts == [JobManagerContact.UNRESPONSIVE] + [None] * 11
