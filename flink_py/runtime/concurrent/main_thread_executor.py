"""MainThreadExecutor: one thread that runs an endpoint's mails, now or after a delay.

Flink's endpoints (JobMaster, ResourceManager, the CheckpointCoordinator inside the JobMaster)
keep all their mutable state on one main thread: other threads only ``execute`` mails, and
timed work is ``schedule``d onto the same thread. Nothing blocks on it: an outbound call runs
elsewhere and its completion comes back as a mail. A mail that raises is handed to
``on_error`` (the JobMaster fails the job with it) and the loop goes on.

>>> import threading
>>> done = threading.Event()
>>> executor = MainThreadExecutor("doc")
>>> executor.start()
>>> seen = []
>>> _ = executor.schedule(0.01, lambda: (seen.append("later"), done.set()))
>>> executor.execute(lambda: seen.append("now"))
>>> done.wait(5)
True
>>> executor.shutdown()
>>> seen
['now', 'later']
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import deque
from typing import Callable, Deque, List, Optional, Tuple

log = logging.getLogger(__name__)

Mail = Callable[[], None]


class ScheduledMail:
    """A mail due at a time; ``cancel()`` keeps it from running if it has not yet."""

    __slots__ = ("due", "mail", "cancelled")

    def __init__(self, due: float, mail: Mail) -> None:
        self.due = due
        self.mail = mail
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class MainThreadExecutor:
    """Runs mails in order on its own thread; timed mails when due (``time.monotonic``)."""

    def __init__(self, name: str,
                 on_error: Optional[Callable[[BaseException], None]] = None) -> None:
        self._name = name
        self._on_error = on_error
        self._cond = threading.Condition(threading.Lock())
        self._ready: Deque[Mail] = deque()
        self._timed: List[Tuple[float, int, ScheduledMail]] = []
        self._sequence = itertools.count()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, daemon=True, name=name)

    def start(self) -> None:
        self._thread.start()

    def execute(self, mail: Mail) -> None:
        """Runs ``mail`` on the main thread after the mails already queued."""
        with self._cond:
            if self._stopped:
                log.debug("%s is shut down: mail dropped", self._name)
                return
            self._ready.append(mail)
            self._cond.notify()

    def schedule(self, delay_s: float, mail: Mail) -> ScheduledMail:
        """Runs ``mail`` on the main thread once ``delay_s`` seconds have passed."""
        scheduled = ScheduledMail(time.monotonic() + max(delay_s, 0.0), mail)
        with self._cond:
            if self._stopped:
                scheduled.cancelled = True
                return scheduled
            heapq.heappush(self._timed, (scheduled.due, next(self._sequence), scheduled))
            self._cond.notify()
        return scheduled

    def is_main_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def assert_running_in_main_thread(self) -> None:
        if not self.is_main_thread():
            raise AssertionError(
                f"must run in the main thread of {self._name}, runs in "
                f"{threading.current_thread().name}")

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Stops after the mail that runs now; queued and timed mails are dropped."""
        with self._cond:
            self._stopped = True
            self._ready.clear()
            self._timed.clear()
            self._cond.notify()
        if self._thread.is_alive() and not self.is_main_thread():
            self._thread.join(timeout_s)

    def _next_mail(self) -> Optional[Mail]:
        with self._cond:
            while True:
                if self._stopped:
                    return None
                now = time.monotonic()
                while self._timed and (self._timed[0][2].cancelled
                                       or self._timed[0][0] <= now):
                    scheduled = heapq.heappop(self._timed)[2]
                    if not scheduled.cancelled:
                        self._ready.append(scheduled.mail)
                if self._ready:
                    return self._ready.popleft()
                timeout = self._timed[0][0] - now if self._timed else None
                self._cond.wait(timeout)

    def _run(self) -> None:
        while True:
            mail = self._next_mail()
            if mail is None:
                return
            try:
                mail()
            except Exception as exc:  # handed on: a failing mail must not end the loop
                if self._on_error is None:
                    log.exception("a mail of %s failed", self._name)
                else:
                    self._on_error(exc)
