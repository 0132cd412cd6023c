"""BATCH execution: a keyed operator reads its input sorted by key, as Flink's does.

Flink's ``SortingDataInput`` holds back every record of a keyed input of a BATCH job until
the input ends, then hands them to the operator ordered by the key's serialized bytes and,
for equal keys, by timestamp (:mod:`flink_py.common.key_sort`). :class:`SortingInput` does
that for the one-input keyed head of a task: buffers are collected, and replayed sorted when
the head's input ends, before the watermarks that arrived meanwhile. Records of equal key
and timestamp keep their arrival order (Flink's in-memory sort gives no order to those).
After each key's records, that key's timers fire (Flink's BatchExecutionInternalTimeService
fires them when the current key changes), so a BATCH job's windows and timers come out key
by key.
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Tuple

from flink_py.common.key_sort import sort_key_function
from flink_py.errors import UserFunctionError

__all__ = ["SortingInput", "sorting_input_for"]

#: records handed to the head per call when the sorted input is replayed
REPLAY_BATCH = 1024
_NO_TIMESTAMP = -(1 << 63)  # a record without timestamp sorts as Long.MIN_VALUE


def sorting_input_for(head: Any) -> Optional["SortingInput"]:
    """A :class:`SortingInput` for ``head`` if it is a keyed one-input operator of a BATCH
    job (None otherwise: its input is processed as it arrives)."""
    context = getattr(head, "runtime_context", None)
    if getattr(context, "runtime_mode", None) != "BATCH":
        return None
    if not getattr(head, "computes_keys", False) or hasattr(head, "process_batch2"):
        return None
    selector = getattr(head, "key_selector", None)
    if selector is None:
        return None
    key_type = getattr(getattr(head, "key_hash_function", None), "key_type", None)
    return SortingInput(selector, key_type, getattr(head, "name", "keyed operator"))


class SortingInput:
    """Collects a keyed input and gives it back sorted as Flink's BATCH execution does.

    :param key_selector: The head's key selector.
    :param key_type: The ``key_type`` of the ``key_by`` (None: pickled keys).
    :param operator_name: Names the operator when the key selector fails.
    """

    def __init__(self, key_selector: Callable[[Any], Any], key_type: Any,
                 operator_name: str) -> None:
        self._key_selector = key_selector
        self._sort_key = sort_key_function(key_type)
        self._operator_name = operator_name
        self._records: List[Tuple[bytes, int, bool, Any]] = []

    def add(self, values: list, timestamps: Optional[list]) -> None:
        """Holds back one buffer of the input."""
        key_of, sort_key, append = self._key_selector, self._sort_key, self._records.append
        try:
            if timestamps is None:
                for v in values:
                    append((sort_key(key_of(v)), _NO_TIMESTAMP, False, v))
            else:
                for v, ts in zip(values, timestamps):
                    append((sort_key(key_of(v)), _NO_TIMESTAMP if ts is None else ts,
                            ts is not None, v))
        except Exception as exc:
            raise UserFunctionError(
                f"key selector of '{self._operator_name}' failed: {exc!r}") from exc

    def replay(self, process: Callable[[list, Optional[list]], None],
               key_done: Optional[Callable[[], None]] = None) -> None:
        """Hands every held record to ``process``, sorted by key bytes then timestamp, in
        buffers of up to :data:`REPLAY_BATCH` records of one key (with timestamps where they
        had one); ``key_done`` is called after the last record of each key (Flink's BATCH
        execution fires that key's timers then)."""
        records = self._records
        self._records = []
        records.sort(key=lambda r: (r[0], r[1]))  # stable: ties keep their arrival order
        start = 0
        while start < len(records):
            stamped, key = records[start][2], records[start][0]
            end = start + 1
            limit = min(start + REPLAY_BATCH, len(records))
            while end < limit and records[end][2] == stamped and records[end][0] == key:
                end += 1
            chunk = records[start:end]
            process([r[3] for r in chunk], [r[1] for r in chunk] if stamped else None)
            start = end
            if key_done is not None and (start == len(records) or records[start][0] != key):
                key_done()
