"""MailboxProcessor: the one owner of a task's operators (Flink's mailbox model).

A StreamTask runs its operators from exactly one *mailbox step* at a time. A step is either
the task's **default action** (one input item of the input processor, or one batch of a
source reader) or a **mail**: a processing-time timer, a checkpoint trigger, a checkpoint
notification, a buffer-timeout flush, a control message. Mails are taken between default-action
steps, never inside one, so operator code needs no locks and a timer never runs in the middle
of a buffer.

Who runs a step is whoever holds the mailbox's *ownership* (a lock): the task's own thread,
which holds it for each step and releases it while it waits for input; or, for the in-process
hand-off, a producer's thread that finds the consumer idle (a non-blocking try-lock succeeds)
and runs the consumer's default action for the buffer it brings, by the very code path the
consumer's thread would run ("the producer runs one mailbox step of the idle consumer": see
``try_run_step_as_producer``). Having run one, the producer's thread leases the consumer's
inbox and runs the consumer's further queued steps itself between its own
(``help_as_producer``; the lease is described in runtime/network/local.py).
``assert_mailbox_thread`` (Flink's ``isMailboxThread()`` check)
asserts that the calling thread holds the ownership; entry points that are not per record
(mails, checkpoints, timers, chain open/close) call it.

The mailbox also owns the buffer-timeout flush deadline: after every step, if a RecordWriter
holds a partly filled buffer, a flush is due ``execution.buffer-timeout`` ms later (0: after
every step; -1: never, only when full or at an event).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, List, Optional, Protocol, Set

from flink_py.errors import FlinkPyError
from flink_py.runtime.execution.errors import CancelTaskException
from flink_py.runtime.network.local import LEASES, InputInbox, drop_thread_leases

__all__ = ["MailboxDefaultAction", "MailboxOwnershipError", "MailboxProcessor"]


class MailboxOwnershipError(FlinkPyError):
    """Operator code was entered from a thread that does not own the task's mailbox."""


class MailboxDefaultAction(Protocol):
    """What the mailbox runs when no mail is waiting (the input processor or a source)."""

    #: True for a source reader, which has work whenever it is not suspended (the mailbox
    #: polls it); False for inputs that run when the inbox reports a channel available
    polled: bool
    #: set once the input has ended: the loop returns
    finished: bool

    def run_default_action(self, channel: int) -> None:
        """One step: the next item of ``channel`` (or, when polled, -1: one batch)."""

    def try_process_directly(self, channel: int, buffer: Any) -> bool:
        """On a producer's thread that owns the mailbox: process the queued items of
        ``channel`` and then ``buffer``; False if ``buffer`` must be queued instead."""

    def flush_partial(self) -> None:
        """The buffer timeout passed: hand over whatever the input holds back (legacy
        sources batch their records)."""


class MailboxProcessor:
    """Runs a task's mailbox loop and guards its ownership (see the module docstring)."""

    def __init__(self, inbox: InputInbox, writers: List[Any], buffer_timeout_ms: int,
                 name: str = "task") -> None:
        self.inbox = inbox
        self.name = name
        self._writers = writers
        self._ownership = threading.Lock()
        #: the ident of the thread that runs the current step, None between steps
        self._owner: Optional[int] = None
        self._flush_every_step = buffer_timeout_ms == 0
        self._timeout_s: Optional[float] = (
            buffer_timeout_ms / 1000.0 if buffer_timeout_ms > 0 else None)
        #: when the pending partial buffers must be flushed (``time.monotonic``), or None
        self.next_flush: Optional[float] = None
        self._suspended = False
        self._action: Optional[MailboxDefaultAction] = None
        #: an error a producer's thread hit in our operators: raised on our own thread
        self._direct_error: Optional[BaseException] = None
        self._accepting_direct = False
        #: the ident of the thread running ``run_mailbox_loop``
        self._loop_thread: Optional[int] = None
        #: operators that hold the input back (``hold_input``), besides a suspension
        self._input_holds: Set[Any] = set()
        #: False once an operator needs all steps on the task's own thread
        self._producer_steps_allowed = True

    def set_writers(self, writers: List[Any]) -> None:
        """The chain's RecordWriters, whose partial buffers the flush deadline is about."""
        self._writers = writers

    # -- ownership ----------------------------------------------------------------------------

    def is_mailbox_thread(self) -> bool:
        """Whether the calling thread runs the current mailbox step."""
        return self._owner == threading.get_ident()

    def assert_mailbox_thread(self, what: str) -> None:
        """Raises MailboxOwnershipError unless the calling thread owns the mailbox."""
        if self._owner != threading.get_ident():
            raise MailboxOwnershipError(
                f"{what} of task {self.name} called from thread "
                f"{threading.current_thread().name!r}, which does not own the task's mailbox "
                f"(owner: {self._owner_name()}); operator code runs only in mailbox steps")

    def _owner_name(self) -> str:
        owner = self._owner
        if owner is None:
            return "none"
        for thread in threading.enumerate():
            if thread.ident == owner:
                return repr(thread.name)
        return str(owner)

    def run_as_owner(self, fn: Callable[[], Any]) -> Any:
        """Runs ``fn`` as a mailbox step outside the loop (chain open, finish, close).

        Blocks while a producer's thread runs a step of ours.
        """
        self._ownership.acquire()
        self._owner = threading.get_ident()
        try:
            return fn()
        finally:
            self._owner = None
            self._ownership.release()

    # -- mails and suspension -----------------------------------------------------------------

    def put_mail(self, mail: Callable[[], None]) -> None:
        """Queues ``mail`` to run as a step of this task (from any thread)."""
        self.inbox.put_mail(mail)

    def suspend_default_action(self) -> None:
        """From a step: stop taking input (mails still run) until resumed."""
        self._suspended = True

    def resume_default_action(self) -> None:
        """From any thread: take input again (a mail, so that it wakes the loop)."""
        self.inbox.put_mail(self._resume)

    def _resume(self) -> None:
        self._suspended = False

    @property
    def suspended(self) -> bool:
        return self._suspended

    def hold_input(self, holder: Any) -> None:
        """From a step: ``holder`` (an operator) takes no more input until it releases it;
        mails still run. Independent of ``suspend_default_action`` (a stop-with-savepoint's
        suspension is not lifted by an operator's release, nor the other way round)."""
        self._input_holds.add(holder)

    def release_input(self, holder: Any) -> None:
        """From a step: ``holder`` takes input again (the loop sees it after this step)."""
        self._input_holds.discard(holder)

    def _input_blocked(self) -> bool:
        return self._suspended or bool(self._input_holds)

    def disallow_producer_steps(self) -> None:
        """Before the loop starts: every step runs on the task's own thread (no in-process
        hand-off), for an operator that waits for mails inside a step (``yield_until``):
        on a producer's thread it could wait for a mail the task's thread already took."""
        self._producer_steps_allowed = False

    def yield_until(self, done: Callable[[], bool], what: str) -> None:
        """From a step: runs mails, never input, until ``done()`` (Flink's
        ``MailboxExecutor.yield`` loop); blocks while no mail comes, no busy wait.

        :raises CancelTaskException: when the task was cancelled meanwhile.
        """
        self.assert_mailbox_thread(what)
        inbox = self.inbox
        while not done():
            channel, mail = inbox.take(self.next_flush, False)
            if channel == -1:
                mail()
            elif channel == -2:
                self._flush()
            elif channel == -3:
                raise CancelTaskException("cancelled")
            self.after_step()

    # -- the flush deadline -------------------------------------------------------------------

    def after_step(self) -> None:
        """After a step that may have emitted: flush now, or arm the buffer-timeout deadline."""
        if self._flush_every_step:
            for writer in self._writers:
                writer.flush()
        elif self._timeout_s is not None and self.next_flush is None:
            for writer in self._writers:
                if writer.has_pending:
                    self.next_flush = time.monotonic() + self._timeout_s
                    if self._owner != self._loop_thread:
                        self.inbox.request_flush_deadline()  # wake the loop to wait for it
                    return

    def arm_flush_deadline(self) -> None:
        """Something outside the writers holds records back (a legacy source's batch)."""
        if self._timeout_s is not None and self.next_flush is None:
            self.next_flush = time.monotonic() + self._timeout_s

    def _flush(self) -> None:
        self.next_flush = None
        action = self._action
        if action is not None:
            action.flush_partial()
        for writer in self._writers:
            writer.flush()

    # -- the loop -----------------------------------------------------------------------------

    def run_mailbox_loop(self, action: MailboxDefaultAction) -> None:
        """Runs mails and default-action steps until ``action.finished`` (or cancellation).

        :raises CancelTaskException: when the inbox was closed (the task was cancelled).
        """
        self._action = action
        self._loop_thread = threading.get_ident()
        inbox = self.inbox
        ownership = self._ownership
        polled = action.polled
        self._accepting_direct = not polled and self._producer_steps_allowed
        # Only a source's thread leases: it runs without waiting for input, so the leased
        # consumers' steps get done between its own. (Any other task would drop its leases
        # before every wait for input, and re-taking one wakes the consumer's thread.)
        leases: Set[MailboxProcessor] = set()
        LEASES.held = leases if polled else None
        try:
            while not action.finished:
                blocked = self._input_blocked()
                poll = polled and not blocked
                if leases:
                    for consumer in list(leases):
                        consumer.help_as_producer()
                    if not poll:  # suspended: we may wait, so they must not wait for us
                        drop_thread_leases()
                channel, mail = inbox.take(0.0 if poll else self.next_flush, not blocked)
                ownership.acquire()
                self._owner = self._loop_thread
                try:
                    if channel >= 0:
                        action.run_default_action(channel)
                    elif channel == -1:
                        mail()
                    elif channel == -2:
                        if poll:
                            action.run_default_action(-1)
                        next_flush = self.next_flush
                        if next_flush is not None and time.monotonic() >= next_flush:
                            self._flush()
                    elif channel == -3:
                        raise CancelTaskException("cancelled")
                    # -4: a producer's step armed the flush deadline: wait for it next
                    self.after_step()
                finally:
                    self._owner = None
                    ownership.release()
        finally:
            drop_thread_leases()
            LEASES.held = None
            with ownership:
                self._accepting_direct = False
        if self._direct_error is not None:
            raise self._direct_error

    def try_run_step_as_producer(self, channel: int, buffer: Any) -> bool:
        """The in-process hand-off, on a producer's thread (see the module docstring).

        Returns False (the producer queues the buffer) when the task is busy, not in its
        loop, suspended or failed. An error in our operators is this task's error: it is
        raised on our own thread, never into the producer.
        """
        ownership = self._ownership
        if not ownership.acquire(blocking=False):
            return False
        try:
            if not self._accepting_direct or self._input_blocked():
                return False
            action = self._action
            assert action is not None
            self._owner = threading.get_ident()
            try:
                if not action.try_process_directly(channel, buffer):
                    return False
                self.after_step()
                leases = getattr(LEASES, "held", None)
                if leases is not None and self not in leases:
                    self.inbox.take_lease()
                    leases.add(self)
                if action.finished:
                    self.inbox.request_flush_deadline()  # wakes the loop, which returns
            except BaseException as exc:  # ours, not the producer's: fail on our thread
                self._direct_error = exc
                self._accepting_direct = False
                self.inbox.put_mail(self._raise_direct_error)
            return True
        finally:
            self._owner = None
            ownership.release()

    def can_be_helped(self) -> bool:
        """``help_as_producer`` would run a step now: we are idle, accept producers' steps,
        and have a queued channel and no mail."""
        return (self._accepting_direct and not self._ownership.locked()
                and not self._input_blocked() and self.inbox.has_data_for_producer())

    def help_as_producer(self, limit: int = 64) -> bool:
        """On the thread of a producer that leases our inbox: runs up to ``limit`` of our
        queued default-action steps (never mails: those stay our own thread's) if we are
        idle; renews the lease. Returns whether it ran any."""
        inbox = self.inbox
        inbox.renew_lease()
        ownership = self._ownership
        if not ownership.acquire(blocking=False):
            return False
        ran = 0
        try:
            if not self._accepting_direct:
                return False
            action = self._action
            assert action is not None
            self._owner = threading.get_ident()
            try:
                while ran < limit and not self._input_blocked():
                    channel = inbox.poll_available()
                    if channel < 0:
                        break
                    action.run_default_action(channel)
                    ran += 1
                    self.after_step()
                    if action.finished:
                        inbox.request_flush_deadline()  # wakes the loop, which returns
                        break
            except BaseException as exc:  # ours, not the producer's: fail on our thread
                self._direct_error = exc
                self._accepting_direct = False
                inbox.put_mail(self._raise_direct_error)
        finally:
            self._owner = None
            ownership.release()
        return ran > 0

    def _raise_direct_error(self) -> None:
        error = self._direct_error
        assert error is not None
        self._direct_error = None
        raise error
