"""The MailboxProcessor: mails between default-action steps, ownership, producer-run steps."""

from __future__ import annotations

import threading
from typing import Any, Callable, List

import pytest

from flink_py.runtime.execution.errors import CancelTaskException
from flink_py.runtime.network.local import InputInbox
from flink_py.runtime.tasks.mailbox import MailboxOwnershipError, MailboxProcessor
from flink_py.testing.poll import wait_until

DEADLINE_S = 5.0


class PolledAction:
    """A source-like default action: ``steps`` steps, each logging itself."""

    polled = True

    def __init__(self, mailbox: MailboxProcessor, steps: int,
                 on_step: Callable[[int], None] = lambda step: None) -> None:
        self.mailbox = mailbox
        self.steps = steps
        self.done = 0
        self.finished = False
        self.log: List[Any] = []
        self.on_step = on_step

    def run_default_action(self, channel: int) -> None:
        self.mailbox.assert_mailbox_thread("the default action")
        self.log.append(("step", self.done))
        self.on_step(self.done)
        self.done += 1
        self.finished = self.done == self.steps

    def try_process_directly(self, channel: int, buffer: Any) -> bool:
        return False

    def flush_partial(self) -> None:
        pass


class ChannelAction:
    """An input-like default action: runs for channel notifications or a producer's step."""

    polled = False

    def __init__(self, mailbox: MailboxProcessor, expected: int) -> None:
        self.mailbox = mailbox
        self.expected = expected
        self.seen: List[Any] = []
        self.threads: List[str] = []
        self.finished = False
        self.release = threading.Event()
        self.release.set()

    def _take(self, item: Any) -> None:
        self.mailbox.assert_mailbox_thread("processing input")
        self.release.wait(DEADLINE_S)
        self.seen.append(item)
        self.threads.append(threading.current_thread().name)
        self.finished = len(self.seen) == self.expected

    def run_default_action(self, channel: int) -> None:
        self._take(("queued", channel))

    def try_process_directly(self, channel: int, buffer: Any) -> bool:
        self._take(buffer)
        return True

    def flush_partial(self) -> None:
        pass


def test_mails_run_between_default_action_steps() -> None:
    inbox = InputInbox()
    mailbox = MailboxProcessor(inbox, [], 100, "test task")

    def on_step(step: int) -> None:
        if step == 1:
            mailbox.put_mail(lambda: action.log.append("mail"))
    action = PolledAction(mailbox, 4, on_step)
    mailbox.run_mailbox_loop(action)
    assert action.log == [("step", 0), ("step", 1), "mail", ("step", 2), ("step", 3)]


def test_the_ownership_assertion_fires_outside_a_mailbox_step() -> None:
    mailbox = MailboxProcessor(InputInbox(), [], 100, "test task")
    with pytest.raises(MailboxOwnershipError, match="test task.*does not own"):
        mailbox.assert_mailbox_thread("a checkpoint")
    errors: List[BaseException] = []

    def from_another_thread() -> None:
        try:
            mailbox.assert_mailbox_thread("a timer")
        except MailboxOwnershipError as exc:
            errors.append(exc)

    def mail() -> None:
        mailbox.assert_mailbox_thread("a mail")  # the loop's thread owns it: passes
        intruder = threading.Thread(target=from_another_thread, name="intruder")
        intruder.start()
        intruder.join(DEADLINE_S)

    mailbox.put_mail(mail)
    mailbox.run_mailbox_loop(PolledAction(mailbox, 1))
    assert len(errors) == 1 and "'intruder'" in str(errors[0])
    assert mailbox.run_as_owner(lambda: mailbox.is_mailbox_thread())


def test_a_producer_runs_one_step_of_the_idle_consumer_as_its_owner() -> None:
    inbox = InputInbox()
    mailbox = MailboxProcessor(inbox, [], 100, "consumer")
    action = ChannelAction(mailbox, 2)
    loop = threading.Thread(target=mailbox.run_mailbox_loop, args=(action,),
                            name="consumer thread")
    loop.start()
    wait_until(lambda: mailbox._accepting_direct, "the consumer waiting for input")
    results: List[bool] = []
    producer = threading.Thread(
        target=lambda: results.append(mailbox.try_run_step_as_producer(0, "direct")),
        name="producer thread")
    producer.start()
    producer.join(DEADLINE_S)
    assert results == [True]
    assert action.threads == ["producer thread"]
    inbox.channel_available(0)  # the consumer's own thread runs the next step
    loop.join(DEADLINE_S)
    assert not loop.is_alive()
    assert action.seen == ["direct", ("queued", 0)]
    assert action.threads == ["producer thread", "consumer thread"]


def test_a_busy_consumer_makes_the_producer_queue_its_buffer() -> None:
    inbox = InputInbox()
    mailbox = MailboxProcessor(inbox, [], 100, "consumer")
    action = ChannelAction(mailbox, 2)
    action.release.clear()  # the consumer's step blocks: it holds the mailbox
    loop = threading.Thread(target=mailbox.run_mailbox_loop, args=(action,),
                            name="consumer thread")
    loop.start()
    inbox.channel_available(0)
    wait_until(lambda: mailbox._owner is not None, "the consumer running a step")
    assert mailbox.try_run_step_as_producer(0, "direct") is False
    action.release.set()
    inbox.channel_available(0)
    loop.join(DEADLINE_S)
    assert action.seen == [("queued", 0), ("queued", 0)]


def test_a_suspended_default_action_still_runs_mails() -> None:
    inbox = InputInbox()
    mailbox = MailboxProcessor(inbox, [], 100, "sink")
    action = ChannelAction(mailbox, 1)
    ran: List[str] = []
    mailbox.run_as_owner(mailbox.suspend_default_action)
    inbox.channel_available(0)
    inbox.put_mail(lambda: ran.append("checkpoint"))
    inbox.put_mail(lambda: ran.append("resume") or mailbox.resume_default_action())
    loop = threading.Thread(target=mailbox.run_mailbox_loop, args=(action,), name="sink")
    loop.start()
    loop.join(DEADLINE_S)
    assert ran == ["checkpoint", "resume"]
    assert action.seen == [("queued", 0)]


def test_closing_the_inbox_cancels_the_loop() -> None:
    inbox = InputInbox()
    mailbox = MailboxProcessor(inbox, [], 100, "task")
    inbox.close()
    with pytest.raises(CancelTaskException):
        mailbox.run_mailbox_loop(ChannelAction(mailbox, 1))


# -- a producer's lease on the consumer's inbox (runtime/network/local.py) --------------------

def _start(mailbox: MailboxProcessor, action: Any, name: str) -> threading.Thread:
    thread = threading.Thread(target=mailbox.run_mailbox_loop, args=(action,), name=name)
    thread.start()
    return thread


@pytest.fixture
def lease_age(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Sets the lease age limit: long where a test asserts which thread runs a step (so a
    descheduled thread cannot let the lease expire), short where it must expire."""
    from flink_py.runtime.network import local
    return lambda seconds: monkeypatch.setattr(local, "LEASE_AGE_LIMIT_S", seconds)


def test_a_producer_that_ran_a_consumer_step_runs_its_next_queued_steps_too(
        lease_age: Callable[[float], None]) -> None:
    lease_age(DEADLINE_S)
    consumer_inbox = InputInbox()
    consumer = MailboxProcessor(consumer_inbox, [], 100, "consumer")
    taken = ChannelAction(consumer, 2)
    consumer_loop = _start(consumer, taken, "consumer thread")
    wait_until(lambda: consumer._accepting_direct, "the consumer waiting for input")

    def on_step(step: int) -> None:
        if step == 0:
            assert consumer.try_run_step_as_producer(0, "direct")
        elif step == 1:  # a buffer arrives (from another process, say) under the lease
            consumer_inbox.channel_available(0)
    producer = MailboxProcessor(InputInbox(), [], 100, "producer")
    producer_loop = _start(producer, PolledAction(producer, 4, on_step), "producer thread")
    producer_loop.join(DEADLINE_S)
    consumer_loop.join(DEADLINE_S)
    assert not consumer_loop.is_alive()
    assert taken.seen == ["direct", ("queued", 0)]
    assert taken.threads == ["producer thread", "producer thread"]


def test_a_blocked_producer_holds_the_consumers_wake_up_back_only_briefly(
        lease_age: Callable[[float], None]) -> None:
    lease_age(0.05)
    consumer_inbox = InputInbox()
    consumer = MailboxProcessor(consumer_inbox, [], 100, "consumer")
    taken = ChannelAction(consumer, 2)
    consumer_loop = _start(consumer, taken, "consumer thread")
    wait_until(lambda: consumer._accepting_direct, "the consumer waiting for input")
    unblock = threading.Event()

    def on_step(step: int) -> None:
        if step == 0:
            assert consumer.try_run_step_as_producer(0, "direct")
        elif step == 1:
            unblock.wait(DEADLINE_S)  # a user function that blocks with the lease held
    producer = MailboxProcessor(InputInbox(), [], 100, "producer")
    producer_loop = _start(producer, PolledAction(producer, 3, on_step), "producer thread")
    try:
        wait_until(lambda: len(taken.seen) == 1, "the producer's direct step")
        consumer_inbox.channel_available(0)
        # the consumer's own thread takes it once the lease is too old, the producer still
        # blocked
        wait_until(lambda: len(taken.seen) == 2, "the consumer's own step", timeout_s=2.0)
        assert not unblock.is_set()
        assert taken.threads == ["producer thread", "consumer thread"]
    finally:
        unblock.set()
        producer_loop.join(DEADLINE_S)
        consumer_loop.join(DEADLINE_S)
    assert not consumer_loop.is_alive() and not producer_loop.is_alive()


def test_a_producer_waiting_for_room_runs_the_leased_consumers_steps(
        lease_age: Callable[[float], None]) -> None:
    lease_age(DEADLINE_S)
    from flink_py.runtime.network.local import Subpartition
    consumer_inbox = InputInbox()
    consumer = MailboxProcessor(consumer_inbox, [], 100, "consumer")
    taken = ChannelAction(consumer, 2)
    consumer_loop = _start(consumer, taken, "consumer thread")
    wait_until(lambda: consumer._accepting_direct, "the consumer waiting for input")
    full = Subpartition(1)
    full.add(("waiting", None))
    added = threading.Event()

    def on_step(step: int) -> None:
        if step == 0:
            assert consumer.try_run_step_as_producer(0, "direct")
        elif step == 1:
            full.add(("second", None))  # waits for room
            added.set()
    producer = MailboxProcessor(InputInbox(), [], 100, "producer")
    producer_loop = _start(producer, PolledAction(producer, 3, on_step), "producer thread")
    try:
        wait_until(lambda: len(taken.seen) == 1, "the producer's direct step")
        wait_until(lambda: consumer_inbox._redirect is not None,
                   "the producer waiting for room")
        consumer_inbox.channel_available(0)
        wait_until(lambda: len(taken.seen) == 2, "the consumer's queued step")
        assert taken.threads == ["producer thread", "producer thread"]
        assert not added.is_set()
        assert full.poll()[0] == ("waiting", None)
        wait_until(added.is_set, "room for the producer")
    finally:
        if not added.is_set():
            full.poll()
        producer_loop.join(DEADLINE_S)
        consumer_loop.join(DEADLINE_S)
    assert not consumer_loop.is_alive() and not producer_loop.is_alive()
