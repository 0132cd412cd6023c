"""The in-process exchange: bounded Subpartitions (backpressure) and the task's InputInbox."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, List, Optional

import pytest

from flink_py.runtime.execution.errors import CancelTaskException
from flink_py.runtime.network.local import InputInbox, ResultPartitionManager, Subpartition
from flink_py.testing.poll import wait_until

DEADLINE_S = 5.0
#: How long a thread that should stay blocked is watched before we call it blocked.
BLOCKED_FOR_S = 0.1


class _Worker:
    """Runs ``target`` on a thread and keeps its result or exception."""

    def __init__(self, target: Callable[[], Any], name: str) -> None:
        self.result: Any = None
        self.error: Optional[BaseException] = None
        self.started = threading.Event()

        def run() -> None:
            self.started.set()
            try:
                self.result = target()
            except BaseException as exc:  # inspected by the test
                self.error = exc

        self.thread = threading.Thread(target=run, name=name, daemon=True)
        self.thread.start()
        assert self.started.wait(DEADLINE_S)

    def is_blocked(self) -> bool:
        """Still running after being watched for BLOCKED_FOR_S."""
        self.thread.join(BLOCKED_FOR_S)
        return self.thread.is_alive()

    def finish(self) -> Any:
        self.thread.join(DEADLINE_S)
        assert not self.thread.is_alive(), f"{self.thread.name} did not end"
        return self.result


@pytest.fixture
def workers():
    started: List[_Worker] = []

    def start(target: Callable[[], Any], name: str = "exchange-test-worker") -> _Worker:
        worker = _Worker(target, name)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.thread.join(DEADLINE_S)
    assert not any(w.thread.is_alive() for w in started), "a test thread was left running"


# -- Subpartition ------------------------------------------------------------------------------


def test_subpartition_is_fifo() -> None:
    sub = Subpartition(capacity=4)
    for item in ("a", "b", "c"):
        sub.add(item)
    assert len(sub) == 3
    assert sub.poll() == ("a", True)
    assert sub.poll() == ("b", True)
    assert sub.poll() == ("c", False)
    assert len(sub) == 0


def test_poll_of_an_empty_subpartition_returns_nothing() -> None:
    assert Subpartition(capacity=1).poll() == (None, False)


def test_producer_blocks_when_full_and_resumes_when_the_consumer_polls(workers) -> None:
    sub = Subpartition(capacity=2)
    added: List[int] = []

    def produce() -> None:
        for i in range(5):
            sub.add(i)
            added.append(i)

    producer = workers(produce, "producer")
    wait_until(lambda: len(added) == 2, "two buffers added")
    assert producer.is_blocked()
    assert added == [0, 1] and len(sub) == 2  # never more than the capacity

    taken = []
    while len(taken) < 5:
        wait_until(lambda: len(sub) > 0, "a queued buffer")
        assert len(sub) <= 2
        item, _ = sub.poll()
        taken.append(item)
    producer.finish()
    assert producer.error is None
    assert taken == [0, 1, 2, 3, 4]
    assert added == [0, 1, 2, 3, 4]


def test_one_poll_lets_exactly_one_more_item_in(workers) -> None:
    sub = Subpartition(capacity=1)
    added: List[int] = []

    def produce() -> None:
        for i in range(3):
            sub.add(i)
            added.append(i)

    producer = workers(produce)
    wait_until(lambda: added == [0], "the first buffer added")
    assert producer.is_blocked()
    assert sub.poll() == (0, False)
    wait_until(lambda: added == [0, 1], "the second buffer added")
    assert producer.is_blocked()
    assert added == [0, 1]
    assert sub.poll() == (1, False)
    producer.finish()
    assert added == [0, 1, 2]
    assert sub.poll() == (2, False)


def test_release_wakes_a_blocked_producer_with_cancel_task_exception(workers) -> None:
    sub = Subpartition(capacity=1)
    sub.add("first")
    producer = workers(lambda: sub.add("second"))
    assert producer.is_blocked()

    sub.release()

    producer.finish()
    assert isinstance(producer.error, CancelTaskException)
    assert len(sub) == 0  # released contents are dropped
    assert sub.poll() == (None, False)


def test_add_after_release_raises_at_once() -> None:
    sub = Subpartition(capacity=5)
    sub.release()
    with pytest.raises(CancelTaskException):
        sub.add("late")


def test_release_wakes_several_blocked_producers(workers) -> None:
    sub = Subpartition(capacity=1)
    sub.add(0)
    producers = [workers(lambda i=i: sub.add(i), f"producer-{i}") for i in range(1, 4)]
    assert all(p.is_blocked() for p in producers)
    sub.release()
    for producer in producers:
        producer.finish()
        assert isinstance(producer.error, CancelTaskException)


def test_first_item_notifies_the_connected_inbox() -> None:
    sub = Subpartition(capacity=4)
    inbox = InputInbox()
    sub.connect(inbox, 7)
    assert not inbox.has_pending_data()

    sub.add("x")
    assert inbox.take(deadline=time.monotonic()) == (7, None)
    # Later items while data is queued do not notify again: the consumer re-announces the
    # channel itself when poll() says more is queued.
    sub.add("y")
    assert not inbox.has_pending_data()
    assert sub.poll() == ("x", True)


def test_connect_announces_data_that_arrived_before_the_consumer() -> None:
    sub = Subpartition(capacity=4)
    sub.add("early")
    inbox = InputInbox()
    sub.connect(inbox, 3)
    assert inbox.take(deadline=time.monotonic()) == (3, None)
    assert sub.poll() == ("early", False)


def test_consumer_loop_protocol_drains_every_item_in_order(workers) -> None:
    """The task's loop: take a channel, poll it, re-announce it when more is queued."""
    subs = [Subpartition(capacity=2) for _ in range(3)]
    inbox = InputInbox()
    for channel, sub in enumerate(subs):
        sub.connect(inbox, channel)

    def produce(channel: int) -> None:
        for i in range(50):
            subs[channel].add((channel, i))
        subs[channel].add("END")

    producers = [workers(lambda c=c: produce(c), f"producer-{c}") for c in range(3)]
    received: List[List[int]] = [[], [], []]
    ended = 0
    while ended < 3:
        channel, mail = inbox.take(deadline=time.monotonic() + DEADLINE_S)
        assert channel >= 0, "timed out waiting for data"
        item, more = subs[channel].poll()
        if more:
            inbox.channel_available(channel)
        if item == "END":
            ended += 1
        elif item is not None:
            received[channel].append(item[1])
    for producer in producers:
        producer.finish()
        assert producer.error is None
    assert received == [list(range(50))] * 3


# -- ResultPartitionManager ----------------------------------------------------------------------


def test_partition_manager_hands_both_sides_the_same_subpartition() -> None:
    manager = ResultPartitionManager(capacity=3)
    producer_side = manager.subpartition("job", "result", 0, 1)
    consumer_side = manager.subpartition("job", "result", 0, 1)
    assert producer_side is consumer_side
    assert producer_side.capacity == 3
    assert manager.subpartition("job", "result", 1, 1) is not producer_side
    assert len(manager) == 2


def test_release_job_releases_only_that_jobs_subpartitions(workers) -> None:
    manager = ResultPartitionManager(capacity=1)
    mine = manager.subpartition("job-a", "r", 0, 0)
    other = manager.subpartition("job-b", "r", 0, 0)
    mine.add(1)
    producer = workers(lambda: mine.add(2))
    assert producer.is_blocked()

    manager.release_job("job-a")

    producer.finish()
    assert isinstance(producer.error, CancelTaskException)
    assert len(manager) == 1
    other.add("still usable")
    assert other.poll() == ("still usable", False)


# -- InputInbox ----------------------------------------------------------------------------------


def test_mails_are_delivered_before_data() -> None:
    inbox = InputInbox()
    inbox.channel_available(0)
    inbox.channel_available(1)
    ran: List[str] = []
    inbox.put_mail(lambda: ran.append("m1"))
    inbox.put_mail(lambda: ran.append("m2"))

    events = [inbox.take(deadline=time.monotonic()) for _ in range(4)]

    assert [e[0] for e in events] == [-1, -1, 0, 1]
    for _, mail in events[:2]:
        mail()
    assert ran == ["m1", "m2"]
    assert inbox.take(deadline=time.monotonic()) == (-2, None)


def test_take_returns_when_the_deadline_passes() -> None:
    inbox = InputInbox()
    start = time.monotonic()
    assert inbox.take(deadline=start + 0.05) == (-2, None)
    assert time.monotonic() - start >= 0.05
    assert inbox.take(deadline=time.monotonic() - 1) == (-2, None)


def test_data_arriving_before_the_deadline_wakes_the_taker(workers) -> None:
    inbox = InputInbox()
    taker = workers(lambda: inbox.take(deadline=time.monotonic() + DEADLINE_S))
    assert taker.is_blocked()
    start = time.monotonic()
    inbox.channel_available(5)
    assert taker.finish() == (5, None)
    assert time.monotonic() - start < DEADLINE_S / 2


def test_a_mail_wakes_a_taker_without_deadline(workers) -> None:
    inbox = InputInbox()
    taker = workers(lambda: inbox.take(deadline=None))
    assert taker.is_blocked()
    mail = lambda: None  # noqa: E731
    inbox.put_mail(mail)
    assert taker.finish() == (-1, mail)


def test_close_wakes_a_blocked_taker(workers) -> None:
    inbox = InputInbox()
    taker = workers(lambda: inbox.take(deadline=None))
    assert taker.is_blocked()
    inbox.close()
    assert taker.finish() == (-3, None)


def test_closed_inbox_reports_closed_before_pending_mail_and_data() -> None:
    inbox = InputInbox()
    inbox.channel_available(0)
    inbox.put_mail(lambda: None)
    inbox.close()
    assert inbox.take(deadline=None) == (-3, None)
    assert inbox.take(deadline=time.monotonic() + 1) == (-3, None)


def test_has_pending_data() -> None:
    inbox = InputInbox()
    assert not inbox.has_pending_data()
    inbox.channel_available(2)
    assert inbox.has_pending_data()
    inbox.take(deadline=None)
    assert not inbox.has_pending_data()
