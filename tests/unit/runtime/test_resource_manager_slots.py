"""The ResourceManager's asynchronous slot requests and its unreachable TaskManagers."""

from __future__ import annotations

from typing import Any, List, Optional

from flink_py.graph.ids import ResourceID
from flink_py.runtime.resourcemanager.resource_manager import ResourceManager


class Answers:
    def __init__(self) -> None:
        self.calls: List[Any] = []

    def __call__(self, allocations: Optional[list], error: Optional[Exception]) -> None:
        self.calls.append((allocations, error))


def test_a_request_waits_for_slots_and_is_answered_when_a_task_manager_registers() -> None:
    rm = ResourceManager()
    answers = Answers()
    rm.request_slots_async("job", 2, answers)
    assert answers.calls == []
    rid = ResourceID("tm-1")
    rm.register_task_executor(rid, object(), 2)
    [(allocations, error)] = answers.calls
    assert error is None and {a.slot_index for a in allocations} == {0, 1}
    assert rm.free_slots == 0


def test_a_cancelled_request_is_never_answered_and_takes_no_slots() -> None:
    rm = ResourceManager()
    answers = Answers()
    request = rm.request_slots_async("job", 1, answers)
    assert request.cancel()
    rm.register_task_executor(ResourceID("tm-1"), object(), 1)
    assert answers.calls == [] and rm.free_slots == 1
    assert not request.cancel()  # once only


def test_released_slots_serve_the_next_waiting_request() -> None:
    rm = ResourceManager()
    rm.register_task_executor(ResourceID("tm-1"), object(), 1)
    first, second = Answers(), Answers()
    rm.request_slots_async("job-a", 1, first)
    rm.request_slots_async("job-b", 1, second)
    assert len(first.calls) == 1 and second.calls == []
    rm.release_allocations(first.calls[0][0])
    [(allocations, _)] = second.calls
    assert allocations[0].job_id == "job-b"


def test_an_unreachable_task_manager_offers_no_slots_until_it_registers_again() -> None:
    rm = ResourceManager()
    dead, alive = ResourceID("tm-dead"), ResourceID("tm-alive")
    rm.register_task_executor(dead, object(), 1)
    answers = Answers()
    rm.request_slots_async("job", 1, answers)
    [(held, _)] = answers.calls
    rm.register_task_executor(alive, object(), 1)
    rm.report_unreachable(dead, "connection refused")
    assert not rm.is_allocation_alive(held[0])
    assert rm.free_slots == 1
    assert rm.heartbeat(dead) is False  # asked to register again
    later = Answers()
    rm.request_slots_async("job", 1, later)
    assert later.calls[0][0][0].resource_id == alive
    assert rm.register_task_executor(dead, object(), 1) is True  # it was known
    assert rm.heartbeat(dead) is True


def test_registration_tells_whether_the_task_manager_was_known() -> None:
    rm = ResourceManager()
    rid = ResourceID("tm-1")
    assert rm.register_task_executor(rid, object(), 1) is False
    assert rm.register_task_executor(rid, object(), 1) is True
    rm.unregister_task_executor(rid, "gone")
    assert rm.register_task_executor(rid, object(), 1) is False
