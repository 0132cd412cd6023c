"""In-process data exchange: bounded subpartitions and the consumer task's input inbox.

A producer subtask writes buffers (``(values, timestamps)`` tuples) and events into one
``Subpartition`` per connected consumer. A subpartition holds at most ``capacity`` items: a
producer that finds it full blocks until the consumer takes one (credit-based flow control in
its in-process form), so a slow consumer slows its producers and memory stays bounded. The
consumer learns that a channel has data through its ``InputInbox``, which is also the task's
mailbox: it wakes for data, for mails and for deadlines.

Threads of one process share the GIL, so two tasks on two threads never run at once; handing
buffers between them only adds thread switches and cache misses (a word count runs at half
speed: a buffer processed later, on another thread, has left the CPU's caches). So a
consumer in the same process may accept a data buffer *directly*: when the consumer task's
mailbox is idle, the producer's thread takes its ownership and runs one mailbox step of the
consumer ("the producer runs one mailbox step of the idle consumer", see
runtime/tasks/mailbox.py): the consumer's input processor handles the items still queued in
the subpartition (events included, by the same code the consumer's own thread runs) and then
the new buffer. Events are always queued; a buffer for a channel blocked by barrier alignment,
or for a busy or suspended consumer, is queued too, so each channel stays FIFO.

A source's thread that ran a step of a consumer holds a *lease* on that consumer's inbox
(Flink has no counterpart: its task threads do not share a GIL). While the lease is younger
than ``LEASE_AGE_LIMIT_S``, a channel that becomes available (a buffer from another process,
say) does not wake the consumer's thread: the producer runs the consumer's queued steps after
each of its own steps (``MailboxProcessor.help_as_producer``), and while it waits for room in
a full subpartition it wakes for them too. So one thread runs a slot's Python instead of two
taking turns with the GIL. The lease only ever delays a wake-up: a consumer with a leased
inbox never sleeps longer than the age limit, and a source drops its leases when it is
suspended.

The one exception to FIFO is a priority event (the barrier of an unaligned checkpoint): it goes
to the head of the queue, overtaking the buffers still waiting there, which the producer
persists as its result-subpartition state (they are still delivered, after the barrier).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, Iterable, List, Optional, Tuple

from flink_py.runtime.execution.errors import CancelTaskException

#: what a data buffer is in a queue: ``(values, timestamps)``, or its bytes for a remote reader
_DATA_TYPES = (tuple, bytes)

#: how long a producer's lease on a consumer's inbox may hold back the consumer's wake-ups
#: (see the module docstring): the most a consumer waits for a busy or blocked producer
LEASE_AGE_LIMIT_S = 0.02

#: ``held``: the consumers' mailboxes whose inboxes this thread leases (a set, set up by the
#: thread's mailbox loop; absent on threads that run none)
LEASES = threading.local()


def drop_thread_leases() -> None:
    """Before this thread waits for its own input: the consumers it leases wake for
    themselves again."""
    leases = getattr(LEASES, "held", None)
    if leases:
        for mailbox in leases:
            mailbox.inbox.drop_lease()
        leases.clear()


class Subpartition:
    """A bounded FIFO of buffers and events from one producer to one consumer channel."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: Deque[Any] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._listener: Optional[Tuple["InputInbox", int]] = None
        #: the consumer's ``accept_directly(channel, buffer) -> bool``, if it takes handoffs
        self._direct: Optional[Callable[[int, Any], bool]] = None
        #: set when the consumer is in another process: data buffers are serialized by the
        #: producer as they are added, while their records are still in the CPU's caches,
        #: and the sending thread only ships bytes (as Flink's RecordWriter serializes)
        self._serializer: Optional[Callable[[Any], bytes]] = None
        self._released = False
        #: what a producer adding to the released subpartition raises, if more is known than
        #: "the consumer is gone" (see ``release``)
        self._release_cause: Optional[CancelTaskException] = None
        #: how many priority events are at the head of the queue, not yet taken
        self.priority_pending = 0

    def add(self, item: Any) -> None:
        """Appends ``item``, waiting while the subpartition is full (backpressure)."""
        if type(item) is tuple:
            direct = self._direct
            if direct is not None and not self._released:
                if direct(self._listener[1], item):  # type: ignore[index]
                    return
            serializer = self._serializer
            if serializer is not None:
                item = serializer(item)
        if len(self._items) >= self.capacity:
            leases = getattr(LEASES, "held", None)
            if leases:
                self._wait_for_room_helping(list(leases))
        with self._cond:
            while len(self._items) >= self.capacity and not self._released:
                self._cond.wait()
            if self._released:
                raise self._stopped_producer()
            self._items.append(item)
            notify = self._listener if len(self._items) == 1 else None
        if notify is not None:
            notify[0].channel_available(notify[1])

    def _wait_for_room_helping(self, leased: List[Any]) -> None:
        """Waits for room, running the queued steps of the consumers this thread leases
        meanwhile: their inboxes wake this wait instead of their own threads."""
        for mailbox in leased:
            mailbox.inbox.redirect_wake_ups(self._cond)
        try:
            while True:
                helped = [mailbox.help_as_producer() for mailbox in leased]
                with self._cond:
                    if len(self._items) < self.capacity or self._released:
                        return
                    # checked under our lock: a wake-up redirected to us after it is not lost
                    if any(helped) or any(m.can_be_helped() for m in leased):
                        continue
                    self._cond.wait()
        finally:
            for mailbox in leased:
                mailbox.inbox.redirect_wake_ups(None)

    def add_priority_event(self, event: Any) -> List[Any]:
        """Puts ``event`` at the head of the queue, ahead of the buffers still waiting (Flink's
        ``PipelinedSubpartition#addPriorityEvent``, for an unaligned checkpoint's barrier);
        returns those overtaken data buffers (tuples, or bytes when serialized for another
        process), which stay queued behind it. Never waits: a priority event may exceed the
        capacity by one, so a backpressured producer still sends its barrier at once."""
        with self._cond:
            if self._released:
                raise self._stopped_producer()
            overtaken = [item for item in self._items if type(item) in _DATA_TYPES]
            # behind the priority events not taken yet, so that those keep their order
            self._items.insert(self.priority_pending, event)
            self.priority_pending += 1
            listener = self._listener
        if listener is not None:
            # even if data was waiting: a data server out of credits must send it now
            listener[0].channel_available(listener[1])
        return overtaken

    def peek(self) -> Any:
        """The oldest item without taking it (None if empty)."""
        with self._cond:
            return self._items[0] if self._items else None

    def set_serializer(self, serializer: Optional[Callable[[Any], bytes]]) -> None:
        """Makes ``add`` store data buffers as ``serializer(buffer)`` bytes from now on."""
        self._serializer = serializer

    def poll(self) -> Tuple[Any, bool]:
        """Takes the oldest item; also says whether more are queued."""
        with self._cond:
            if not self._items:  # released while the consumer was being told of data
                return None, False
            if self.priority_pending:
                self.priority_pending -= 1
            item = self._items.popleft()
            self._cond.notify()
            return item, bool(self._items)

    def connect(self, inbox: "InputInbox", channel: int,
                direct: Optional[Callable[[int, Any], bool]] = None) -> None:
        """Registers the consumer; it is told at once if data is already waiting.

        ``direct(channel, buffer)``, if given, may process a data buffer on the producer's
        thread and return True, or return False to have it queued.
        """
        with self._cond:
            self._listener = (inbox, channel)
            self._direct = direct
            pending = bool(self._items)
        if pending:
            inbox.channel_available(channel)

    def _stopped_producer(self) -> CancelTaskException:
        cause = self._release_cause
        if cause is not None:
            return type(cause)(*cause.__reduce__()[1])  # a fresh one: no traceback piles up
        return CancelTaskException("the consumer of this partition is gone")

    def release(self, cause: Optional[CancelTaskException] = None) -> None:
        """Drops the contents and wakes a blocked producer, which then stops (raising
        ``cause`` if given)."""
        with self._cond:
            if self._released:
                return
            self._released = True
            self._release_cause = cause
            self._direct = None
            self._items.clear()
            self._cond.notify_all()
            listener = self._listener
        if listener is not None:  # e.g. a data server streaming us: it ends the stream
            listener[0].channel_available(listener[1])

    @property
    def released(self) -> bool:
        return self._released

    def __len__(self) -> int:
        return len(self._items)


class ResultPartitionManager:
    """Registry of a TaskExecutor's subpartitions, keyed by (job, result, producer, consumer).

    Only tasks deployed here create subpartitions (:meth:`subpartition`: the producer, or a
    consumer in the same process, whichever asks first, so that neither waits for the
    other). A consumer in another process asks through the ``DataServer``, which must not
    create state for whatever key a connection names: it looks the subpartition up with
    :meth:`await_registration`, which registers a callback for a producer not deployed yet
    instead. A released job's or region's subpartitions are dropped (:meth:`release_job`,
    :meth:`release_partitions`), so the registry holds only deployed tasks' partitions.
    """

    def __init__(self, capacity: int, local_handoff: bool = True) -> None:
        self.capacity = capacity
        #: whether consumers here accept buffers on their producer's thread
        self.local_handoff = local_handoff
        self._lock = threading.Lock()
        self._subpartitions: Dict[Tuple[str, str, int, int], Subpartition] = {}
        #: callbacks of remote requests waiting for a key's producer to be deployed
        self._waiters: Dict[Tuple[str, str, int, int], List[Callable[[], None]]] = {}

    def subpartition(self, job_id: str, result_id: str, producer: int,
                     consumer: int) -> Subpartition:
        """The subpartition of a task deployed here, created on first use (by the producer or
        by a consumer in this process); tells the remote requests waiting for it."""
        key = (job_id, result_id, producer, consumer)
        with self._lock:
            sub = self._subpartitions.get(key)
            if sub is not None:
                return sub
            sub = self._subpartitions[key] = Subpartition(self.capacity)
            waiters = self._waiters.pop(key, ())
        for notify in waiters:
            notify()
        return sub

    def await_registration(self, key: Tuple[str, str, int, int],
                           notify: Callable[[], None]) -> Optional[Subpartition]:
        """The registered subpartition of ``key``, or None after registering ``notify`` to be
        called (on the registering thread) once a deployed task creates it. Creates nothing
        but the callback entry; :meth:`cancel_registration_wait` removes it."""
        with self._lock:
            sub = self._subpartitions.get(key)
            if sub is None:
                self._waiters.setdefault(key, []).append(notify)
            return sub

    def registered(self, key: Tuple[str, str, int, int]) -> Optional[Subpartition]:
        """The subpartition of ``key`` if a deployed task created it, else None."""
        with self._lock:
            return self._subpartitions.get(key)

    def cancel_registration_wait(self, key: Tuple[str, str, int, int],
                                 notify: Callable[[], None]) -> None:
        """Forgets a callback of :meth:`await_registration` (no-op if it was called)."""
        with self._lock:
            waiters = self._waiters.get(key)
            if waiters is None:
                return
            try:
                waiters.remove(notify)
            except ValueError:  # already removed
                pass
            if not waiters:
                del self._waiters[key]

    @property
    def waiting(self) -> int:
        """How many remote requests wait for a producer to be deployed."""
        with self._lock:
            return sum(len(w) for w in self._waiters.values())

    def release_job(self, job_id: str) -> None:
        with self._lock:
            keys = [k for k in self._subpartitions if k[0] == job_id]
            subs = [self._subpartitions.pop(k) for k in keys]
        for sub in subs:
            sub.release()

    def release_partitions(self, job_id: str, partitions: Iterable[Tuple[str, int]]) -> None:
        """Releases the subpartitions of the given ``(result id, producer subtask)`` of a job
        (a restarted region's; the job's other partitions stay)."""
        wanted = set(partitions)
        with self._lock:
            keys = [k for k in self._subpartitions if k[0] == job_id and (k[1], k[2]) in wanted]
            subs = [self._subpartitions.pop(k) for k in keys]
        for sub in subs:
            sub.release()

    def __len__(self) -> int:
        return len(self._subpartitions)


class InputInbox:
    """A task's mailbox: channels with data, control mails, and a deadline to wake at."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._available: Deque[int] = deque()
        self._mails: Deque[Callable[[], None]] = deque()
        self._closed = False
        self._flush_requested = False
        #: when a producer's thread last took or renewed its lease (0.0: no lease)
        self._leased_since = 0.0
        #: while the leasing producer waits for room: the condition to wake instead of ours
        self._redirect: Optional[threading.Condition] = None

    def channel_available(self, channel: int) -> None:
        with self._cond:
            self._available.append(channel)
            redirect = self._redirect
            if redirect is None and not self._lease_fresh():
                self._cond.notify()
        if redirect is not None:
            with redirect:
                redirect.notify_all()

    # -- a producer's lease (see the module docstring) ----------------------------------------

    def _lease_fresh(self) -> bool:
        since = self._leased_since
        return bool(since) and time.monotonic() - since < LEASE_AGE_LIMIT_S

    def take_lease(self) -> None:
        """A producer's thread will run our steps: from now on our thread sleeps at most
        ``LEASE_AGE_LIMIT_S`` at a time (woken here to start doing so)."""
        with self._cond:
            self._leased_since = time.monotonic()
            self._cond.notify()

    def renew_lease(self) -> None:
        """The leasing producer's thread is still running our steps."""
        self._leased_since = time.monotonic()

    def drop_lease(self) -> None:
        with self._cond:
            self._leased_since = 0.0
            if self._available or self._mails or self._flush_requested:
                self._cond.notify()

    def redirect_wake_ups(self, condition: Optional[threading.Condition]) -> None:
        with self._cond:
            self._redirect = condition
            if condition is None and self._available and not self._lease_fresh():
                self._cond.notify()

    def has_data_for_producer(self) -> bool:
        """What ``poll_available`` would hand out a channel for."""
        return bool(self._available) and not self._mails and not self._closed

    def poll_available(self) -> int:
        """A channel with data for the leasing producer to run, or -1 (none, or mails go
        first: those are the task's own thread's)."""
        with self._cond:
            if self._mails or self._closed or not self._available:
                return -1
            return self._available.popleft()

    def put_mail(self, mail: Callable[[], None]) -> None:
        """Queues a callable to run on the task thread, ahead of data."""
        with self._cond:
            self._mails.append(mail)
            self._cond.notify()

    def request_flush_deadline(self) -> None:
        """Wakes the task thread to re-read its flush deadline (a producer's thread ran a step
        of the task and armed it) or to notice that its input ended."""
        with self._cond:
            self._flush_requested = True
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def take(self, deadline: Optional[float], take_data: bool = True) -> Tuple[int, Any]:
        """The next event: ``(channel, None)`` for data, ``(-1, mail)``, ``(-2, None)`` when
        the deadline (a ``time.monotonic`` value) passed, ``(-3, None)`` when closed,
        ``(-4, None)`` when a flush deadline was requested. ``take_data=False`` leaves the
        channels with data queued (the task's default action is suspended)."""
        with self._cond:
            while True:
                if self._closed:
                    return -3, None
                if self._mails:
                    return -1, self._mails.popleft()
                if self._available and take_data:
                    if self._lease_fresh():
                        # the leasing producer runs it (it left us a step ago): wait for it,
                        # at most until the lease is too old
                        wait = self._leased_since + LEASE_AGE_LIMIT_S - time.monotonic()
                        if deadline is not None:
                            wait = min(wait, deadline - time.monotonic())
                        if wait > 0:
                            self._cond.wait(wait)
                            continue
                    return self._available.popleft(), None
                if self._flush_requested:
                    self._flush_requested = False
                    return -4, None
                if deadline is None:
                    # a wake-up the lease held back comes at most this much later
                    self._cond.wait(LEASE_AGE_LIMIT_S if self._leased_since else None)
                else:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return -2, None
                    self._cond.wait(remaining)

    def has_pending_data(self) -> bool:
        return bool(self._available)
