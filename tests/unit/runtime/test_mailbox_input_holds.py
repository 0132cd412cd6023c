"""The MailboxProcessor's input holds and yield loop (what the async wait operator uses)."""

from __future__ import annotations

import threading
from typing import List

import pytest

from flink_py.runtime.execution.errors import CancelTaskException
from flink_py.runtime.network.local import InputInbox
from flink_py.runtime.tasks.mailbox import MailboxOwnershipError, MailboxProcessor
from flink_py.testing.poll import wait_until

from tests.unit.runtime.test_mailbox import DEADLINE_S, ChannelAction


def test_a_held_input_is_not_taken_while_mails_run_until_its_holder_releases_it() -> None:
    inbox = InputInbox()
    mailbox = MailboxProcessor(inbox, [], 100, "async task")
    action = ChannelAction(mailbox, 1)
    ran: List[str] = []
    holder = object()
    mailbox.run_as_owner(lambda: mailbox.hold_input(holder))
    inbox.channel_available(0)
    inbox.put_mail(lambda: ran.append("a completion"))
    loop = threading.Thread(target=mailbox.run_mailbox_loop, args=(action,), name="task")
    loop.start()
    wait_until(lambda: ran and mailbox._owner is None, "the mail to run")

    def release() -> None:
        ran.append(f"release, input taken before: {bool(action.seen)}")
        mailbox.release_input(holder)
    inbox.put_mail(release)
    loop.join(DEADLINE_S)
    assert ran == ["a completion", "release, input taken before: False"]
    assert action.seen == [("queued", 0)]


def test_a_hold_and_a_suspension_are_lifted_independently() -> None:
    inbox = InputInbox()
    mailbox = MailboxProcessor(inbox, [], 100, "task")
    holder = object()

    def hold_and_suspend() -> None:
        mailbox.hold_input(holder)
        mailbox.suspend_default_action()
    mailbox.run_as_owner(hold_and_suspend)
    mailbox.run_as_owner(lambda: mailbox.release_input(holder))
    assert mailbox.run_as_owner(mailbox._input_blocked)  # still suspended
    mailbox.run_as_owner(mailbox._resume)
    mailbox.run_as_owner(lambda: mailbox.hold_input(holder))
    assert mailbox.run_as_owner(mailbox._input_blocked)  # still held
    mailbox.run_as_owner(lambda: mailbox.release_input(holder))
    assert not mailbox.run_as_owner(mailbox._input_blocked)


def test_yield_until_runs_mails_but_no_input_until_done() -> None:
    inbox = InputInbox()
    mailbox = MailboxProcessor(inbox, [], 100, "task")
    done: List[int] = []
    inbox.channel_available(0)  # never taken by the yield loop
    completer = threading.Thread(
        target=lambda: [inbox.put_mail(lambda i=i: done.append(i)) for i in range(3)],
        name="event loop")
    completer.start()
    mailbox.run_as_owner(lambda: mailbox.yield_until(lambda: len(done) == 3, "end of input"))
    completer.join(DEADLINE_S)
    assert done == [0, 1, 2]
    assert inbox.has_pending_data()


def test_yield_until_ends_with_the_cancellation_and_asserts_its_thread() -> None:
    inbox = InputInbox()
    mailbox = MailboxProcessor(inbox, [], 100, "task")
    with pytest.raises(MailboxOwnershipError):
        mailbox.yield_until(lambda: False, "end of input")
    inbox.close()
    with pytest.raises(CancelTaskException):
        mailbox.run_as_owner(lambda: mailbox.yield_until(lambda: False, "end of input"))


def test_without_producer_steps_every_step_runs_on_the_task_thread() -> None:
    inbox = InputInbox()
    mailbox = MailboxProcessor(inbox, [], 100, "consumer")
    mailbox.disallow_producer_steps()
    action = ChannelAction(mailbox, 1)
    loop = threading.Thread(target=mailbox.run_mailbox_loop, args=(action,),
                            name="consumer thread")
    loop.start()
    wait_until(lambda: mailbox._loop_thread is not None, "the consumer's loop")
    assert mailbox.try_run_step_as_producer(0, "direct") is False
    inbox.channel_available(0)
    loop.join(DEADLINE_S)
    assert action.threads == ["consumer thread"]
