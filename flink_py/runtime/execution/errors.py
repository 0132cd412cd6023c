"""Errors as tasks raise and report them: CancelTaskException and SerializedError."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Optional

import cloudpickle

from flink_py.common import pickling
from flink_py.errors import FlinkPyError, UserFunctionError
from flink_py.runtime.execution.user_traceback import user_frames


class CancelTaskException(FlinkPyError):
    """Raised inside a task whose exchange was released (cancellation or failover)."""


class PartnerLostException(CancelTaskException):
    """Raised inside a task that stops because the other end of one of its channels went
    away: the ``lost`` end (``"producer"`` or ``"consumer"``) of subpartition
    ``producer_subtask -> consumer_subtask`` of result ``result_id``. The JobMaster, which
    knows where that partner runs, names its TaskManager in the job's failure."""

    def __init__(self, message: str, result_id: str, producer_subtask: int,
                 consumer_subtask: int, lost: str) -> None:
        super().__init__(message)
        if lost not in ("producer", "consumer"):
            raise ValueError(f"lost must be 'producer' or 'consumer', got {lost!r}")
        self.result_id = result_id
        self.producer_subtask = producer_subtask
        self.consumer_subtask = consumer_subtask
        self.lost = lost

    def __reduce__(self):  # extra constructor arguments: pickle them all
        return (type(self), (str(self), self.result_id, self.producer_subtask,
                             self.consumer_subtask, self.lost))


@dataclass
class SerializedError:
    """A failure as it crosses processes: the text always, the exception when it pickles."""

    message: str
    traceback_text: str
    exception_bytes: Optional[bytes] = None

    @staticmethod
    def of(exc: BaseException) -> "SerializedError":
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        try:
            # Pickling drops __cause__: ship the chain of causes alongside.
            chain = []
            current: Optional[BaseException] = exc
            while current is not None and len(chain) < 8:
                if (isinstance(current, UserFunctionError) and current.__cause__ is not None
                        and not hasattr(current, "user_frames")):
                    # the user's frames travel with the wrapper (a traceback does not pickle)
                    current.user_frames = user_frames(current.__cause__)
                chain.append(current)
                current = current.__cause__
            data: Optional[bytes] = pickling.dumps(chain)
        except Exception:  # unpicklable exception: the text is what travels
            data = None
        return SerializedError(f"{type(exc).__name__}: {exc}", text, data)

    def to_exception(self) -> Optional[BaseException]:
        if self.exception_bytes is None:
            return None
        try:
            chain = cloudpickle.loads(self.exception_bytes)
        except Exception:  # its class may not exist on this side
            return None
        for outer, inner in zip(chain, chain[1:]):
            outer.__cause__ = inner
        return chain[0]
