"""Restarts that must not hang: the JobMaster driven through in-process TaskExecutor gateways
whose calls the test holds and fails in a chosen order (a slot worker killed while a
deployment into it is in flight, with the restart already cancelling everything).

The gateways are in-process fakes of the TaskExecutorGateway protocol: they record the calls
and report task states back to the real JobMaster as a TaskExecutor would.
"""

from __future__ import annotations

import threading
from typing import Callable, Dict, List, Optional, Tuple

import pytest

from flink_py.common.configuration import Configuration
from flink_py.common.job_status import JobStatus
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.graph.ids import ExecutionAttemptID, ResourceID
from flink_py.rpc.gateways import RpcError
from flink_py.runtime.execution.errors import PartnerLostException, SerializedError
from flink_py.runtime.execution.execution_state import ExecutionState
from flink_py.runtime.jobmaster.job_master import JobMaster
from flink_py.runtime.resourcemanager.resource_manager import ResourceManager, SlotDescription
from flink_py.testing.poll import wait_until

S = ExecutionState
DEADLINE_S = 10.0


def _sink(value, context=None) -> None:
    pass


class HeldCall:
    """A call the test holds until it ``succeed()``s it or ``fail()``s it with an RpcError
    (a lost peer)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self._released = threading.Event()
        self._failed = False

    def fail(self) -> None:
        self._failed = True
        self._released.set()

    def succeed(self) -> None:
        self._released.set()

    def run(self, call: str, address: str) -> None:
        self.entered.set()
        if not self._released.wait(DEADLINE_S):
            raise AssertionError(f"the test never released {call}")
        if self._failed:
            raise RpcError(f"{call} to {address} failed (UNAVAILABLE): Connection refused")


class ScriptedTaskExecutor:
    """A TaskExecutorGateway of one slot: tasks start RUNNING and cancel at once, except the
    attempts ``hold_submit`` picks, whose submit and cancel calls block until failed."""

    def __init__(self, address: str,
                 hold_submit: Callable[[object], bool] = lambda tdd: False) -> None:
        self.address = address
        self.hold_submit = hold_submit
        self.job_master: Optional[JobMaster] = None
        self.held_submits: Dict[ExecutionAttemptID, HeldCall] = {}
        self.held_cancels: Dict[ExecutionAttemptID, HeldCall] = {}
        self.submitted: List[Tuple[str, int, int]] = []
        #: ("submit" | "cancel", attempt id), in the order the calls arrived
        self.calls: List[Tuple[str, ExecutionAttemptID]] = []
        self._lock = threading.Lock()

    def submit_task(self, tdd, job_master) -> None:
        self.job_master = job_master
        with self._lock:
            self.submitted.append((tdd.task_name, tdd.subtask_index, tdd.attempt_number))
            self.calls.append(("submit", tdd.attempt_id))
            held = None
            if self.hold_submit(tdd):
                held = self.held_submits[tdd.attempt_id] = HeldCall()
                self.held_cancels[tdd.attempt_id] = HeldCall()
        if held is not None:
            held.run("SubmitTask", self.address)
        job_master.update_task_execution_state(tdd.attempt_id, S.RUNNING)

    def cancel_task(self, attempt_id: ExecutionAttemptID) -> None:
        with self._lock:
            self.calls.append(("cancel", attempt_id))
            held = self.held_cancels.get(attempt_id)
        if held is not None:
            held.run("CancelTask", self.address)
        self.job_master.update_task_execution_state(attempt_id, S.CANCELED)

    def release_partitions(self, job_id: str, partitions) -> None:
        pass

    def release_job_partitions(self, job_id: str) -> None:
        pass


def _register(rm: ResourceManager, gateway: ScriptedTaskExecutor,
              slots: int = 1) -> ResourceID:
    resource_id = ResourceID()
    rm.register_task_executor(resource_id, gateway, slots, [
        SlotDescription(i, gateway, process_id=f"{gateway.address}/{i}") for i in range(slots)])
    return resource_id


def _job_graph():
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.from_sequence(1, 100).key_by(lambda x: x % 4).map(lambda x: x).add_sink(_sink)
    return env.get_job_graph("restart races")


def _states(master: JobMaster) -> Dict[Tuple[str, int], Tuple[int, S]]:
    return {(v.job_vertex.name, s.subtask_index): (s.attempt_number, s.state)
            for v in master.view().vertices for s in v.subtasks}


@pytest.fixture
def master_factory():
    masters: List[JobMaster] = []

    def make(rm: ResourceManager) -> JobMaster:
        master = JobMaster(_job_graph(), rm, slot_request_timeout_s=60.0, configuration=(
            Configuration({"restart-strategy.type": "fixed-delay",
                           "restart-strategy.fixed-delay.attempts": 10,
                           "restart-strategy.fixed-delay.delay": "0 ms"})))
        masters.append(master)
        master.start()
        return master

    yield make
    for master in masters:
        master.cancel()
        assert master.wait_for_termination(DEADLINE_S)


def _deploy_with_a_held_submit(master_factory):
    """Two one-slot TaskExecutors "a" and "b"; the map's submit into "a" is held. A task on
    "b" then fails (as if its input from "a" broke): the restart cancels everything."""
    rm = ResourceManager()
    a = ScriptedTaskExecutor("a", hold_submit=lambda tdd: not tdd.is_source
                             and tdd.attempt_number == 0)
    b = ScriptedTaskExecutor("b")
    _register(rm, a)
    _register(rm, b)
    master = master_factory(rm)
    wait_until(lambda: len(a.held_submits) == 1, timeout_s=DEADLINE_S,
               what="the map's submit into a")
    [attempt] = a.held_submits
    wait_until(lambda: sum(state is S.RUNNING for _, state in _states(master).values()) == 3,
               timeout_s=DEADLINE_S, what="the other three subtasks running")
    failed_on_b = next(s.attempt_id for v in master.view().vertices for s in v.subtasks
                       if s.state is S.RUNNING and s.location.task_executor is b)
    master.update_task_execution_state(
        failed_on_b, S.FAILED, SerializedError("connection to a lost", "ConnectionError"))
    wait_until(lambda: sorted(state.name for _, state in _states(master).values()) ==
               ["CANCELED", "CANCELED", "CANCELING", "FAILED"], timeout_s=DEADLINE_S,
               what="all but the held attempt terminal")
    assert master.status is JobStatus.RESTARTING
    return rm, a, master, attempt


def _all_redeployed(master: JobMaster) -> bool:
    return all(n == 1 and state is S.RUNNING for n, state in _states(master).values())


def test_a_submit_failing_after_its_restart_cancelled_it_does_not_stall_the_restart(
        master_factory) -> None:
    # Slot worker "a" dies while the map's deployment into it is in flight, and the held
    # submit fails after every other task of the restart is terminal (a cancel sent to "a"
    # meanwhile fails later still). Before the fix the failed submit marked the attempt
    # CANCELED without advancing the restart: the job stayed RESTARTING for ever with every
    # task terminal and no slot in use (one vertex FAILED:1, CANCELED:1, the other
    # CANCELED:2, as REST showed in the recovery benchmark).
    rm, a, master, attempt = _deploy_with_a_held_submit(master_factory)
    a.held_submits[attempt].fail()
    wait_until(lambda: all(state is not S.CANCELING for _, state in _states(master).values()),
               timeout_s=DEADLINE_S, what="the failed submit handled")
    a.held_cancels[attempt].fail()
    c = ScriptedTaskExecutor("c")  # a's slot is suspect now: the restart needs another one
    _register(rm, c)

    wait_until(lambda: _all_redeployed(master), timeout_s=DEADLINE_S,
               what="every subtask redeployed and running")
    assert master.status is JobStatus.RUNNING
    assert len(a.submitted) == 2, "nothing was deployed again into the lost worker"


def test_a_cancel_waits_for_the_submit_in_flight_so_that_it_cannot_overtake_it(
        master_factory) -> None:
    # A cancel that reached the worker before the submit would find no task there, and the
    # task would then run on unnoticed while the JobMaster waits for it to cancel (until
    # task.cancellation.timeout, 3 minutes by default).
    rm, a, master, attempt = _deploy_with_a_held_submit(master_factory)
    assert ("cancel", attempt) not in a.calls
    a.held_cancels.pop(attempt)  # once deployed, the task cancels like any other
    a.held_submits[attempt].succeed()
    wait_until(lambda: _all_redeployed(master), timeout_s=DEADLINE_S,
               what="every subtask redeployed and running")
    calls = [call for call, attempt_id in a.calls if attempt_id == attempt]
    assert calls == ["submit", "cancel"]


def test_a_held_slot_lost_while_the_restart_waits_for_another_is_asked_for_again(
        master_factory) -> None:
    # The restart keeps the slot of "b" and asks for one in place of the lost "a"; while it
    # waits, "b" is lost too. Before the fix the slot that came for "a" was deployed with
    # "b"'s gone: a KeyError in the JobMaster, which failed the job.
    rm = ResourceManager()
    a, b, c = ScriptedTaskExecutor("a"), ScriptedTaskExecutor("b"), ScriptedTaskExecutor("c")
    a_id, b_id = _register(rm, a), _register(rm, b)
    master = master_factory(rm)
    rm.add_lost_listener(  # what the Dispatcher does
        lambda resource_id, reason, lost: master.notify_allocations_lost(lost, reason))
    wait_until(lambda: all(state is S.RUNNING for _, state in _states(master).values()),
               timeout_s=DEADLINE_S, what="the job running")
    rm.unregister_task_executor(a_id, "a lost")
    wait_until(lambda: all(n == 1 and state is S.SCHEDULED
                           for n, state in _states(master).values()), timeout_s=DEADLINE_S,
               what="the new attempts waiting for a slot")
    rm.unregister_task_executor(b_id, "b lost")
    _register(rm, c, slots=2)

    wait_until(lambda: _all_redeployed(master), timeout_s=DEADLINE_S,
               what="every subtask redeployed and running")
    assert master.status is JobStatus.RUNNING
    assert len(c.submitted) == 4


def test_a_lost_worker_gives_back_only_its_own_slots(master_factory) -> None:
    # One TaskManager with two slot workers; a submit into one of them fails as a lost peer.
    # Only that worker's slot is given back: the other worker's slot stays with the job (its
    # attempt is still running until the restart cancels it), so the ResourceManager cannot
    # hand it to another job meanwhile.
    rm = ResourceManager()
    tm = ScriptedTaskExecutor("tm", hold_submit=lambda tdd: not tdd.is_source
                              and tdd.subtask_index == 0 and tdd.attempt_number == 0)
    resource_id = _register(rm, tm, slots=2)
    master = master_factory(rm)
    wait_until(lambda: len(tm.held_submits) == 1, timeout_s=DEADLINE_S,
               what="the map's submit held")
    [attempt] = tm.held_submits
    [vertex] = [ev for ev in master.execution_graph.all_execution_vertices
                if ev.current_execution.attempt_id == attempt]
    lost_slot = vertex.current_execution.assigned_slot.slot_index
    others = [ev.current_execution for ev in master.execution_graph.all_execution_vertices
              if ev.current_execution.attempt_id != attempt]
    running_on = {e.attempt_id for e in others if e.assigned_slot.slot_index != lost_slot}
    assert running_on, "the other worker runs some of the job's attempts"
    with tm._lock:  # their cancels are held: those attempts stay CANCELING
        for attempt_id in running_on:
            tm.held_cancels[attempt_id] = HeldCall()
    tm.held_submits[attempt].fail()
    wait_until(lambda: all(tm.held_cancels[a].entered.is_set() for a in running_on),
               timeout_s=DEADLINE_S, what="the restart cancelling the other worker's attempts")
    assert [a.slot_index for a in rm.allocations_of(resource_id)] == [1 - lost_slot]
    for attempt_id in running_on:
        tm.held_cancels[attempt_id].succeed()


@pytest.mark.parametrize("lost", ["consumer", "producer"])
def test_a_task_that_stops_because_its_partner_went_away_names_where_the_partner_ran(
        master_factory, lost: str) -> None:
    # A killed TaskManager's tasks vanish; a task on a surviving TaskManager may notice first
    # (its remote consumer disconnected, or its remote producer was released) and report
    # CANCELED without being asked. The job's failure must name the lost TaskManager, where
    # the partner ran, and not only the reporter's, which is alive.
    rm = ResourceManager()
    a, b = ScriptedTaskExecutor("a"), ScriptedTaskExecutor("b")
    ids = {a: _register(rm, a), b: _register(rm, b)}
    master = master_factory(rm)
    wait_until(lambda: all(state is S.RUNNING for _, state in _states(master).values()),
               timeout_s=DEADLINE_S, what="the job running")
    graph = master.execution_graph
    source = next(ev for ev in graph.all_execution_vertices if not ev.consumed)
    produced = source.produced[0]
    consumers = graph.job_vertices[graph.consumer_vertex_of(produced.result_id)].task_vertices
    # a source and a consumer in different TaskManagers
    consumer = next(c for c in consumers if c.current_execution.assigned_slot.task_executor
                    is not source.current_execution.assigned_slot.task_executor)
    reporter, partner = (source, consumer) if lost == "consumer" else (consumer, source)
    error = PartnerLostException(f"the {lost} went away", str(produced.result_id),
                                 source.subtask_index, consumer.subtask_index, lost)
    master.update_task_execution_state(reporter.attempt_id, S.CANCELED,
                                       SerializedError.of(error))
    wait_until(lambda: master.view().exception_history, timeout_s=DEADLINE_S,
               what="the failure recorded")
    root = master.view().exception_history[0]
    partner_tm = ids[partner.current_execution.assigned_slot.task_executor]
    reporter_tm = ids[reporter.current_execution.assigned_slot.task_executor]
    assert root.location == str(reporter_tm)
    assert root.error.message == (
        f"{reporter.task_name_with_subtask} was cancelled by its TaskManager ({reporter_tm}) "
        f"while RUNNING, without the JobMaster asking: PartnerLostException: the {lost} went "
        f"away: its {lost} {partner.task_name_with_subtask} ran on TaskManager ({partner_tm})")
    # and it leads what REST's root-exception shows, ahead of the reporter's own traceback
    assert root.error.traceback_text.startswith(root.error.message + "\nCaused by: ")
    assert "PartnerLostException" in root.error.traceback_text
