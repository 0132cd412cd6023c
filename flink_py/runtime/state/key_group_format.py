"""The canonical key-group format: how keyed state and timers of one key group are written
in savepoints and in the ``hashmap`` backend's checkpoints, readable by every backend.

One key group's bytes are one pickle (protocol 5) of the tuple
``(FORMAT_VERSION, state_entries, timer_entries)``:

- a state entry is ``(state_name, kind, key, namespace, value, ttl_stamps)``: ``kind`` is the
  descriptor kind (``value``, ``list``, ``map``, ``reducing``, ``aggregating``);
  ``namespace`` is None for state without namespace (a window otherwise); ``value`` is the
  user's value (a list for list state, a dict for map state, the accumulator for aggregating
  state); ``ttl_stamps`` is None without TTL, else the processing time of the last write in
  the shape of the value: an int, a list of ints (one per list element), or a dict (one per
  map entry).
- a timer entry is ``(queue_name, timestamp, key, namespace)``.

Keys, namespaces and values are pickled objects, not backend bytes: that is what makes the
format independent of the backend (RocksDB writes its own serialized keys; a savepoint
taken from it is still in this format).
"""

from __future__ import annotations

import pickle
from typing import Any, Dict, List, Optional, Tuple

from flink_py.runtime.state.checkpoint_streams import (
    CheckpointedStateScope, CheckpointStreamFactory)
from flink_py.runtime.state.handles import KeyGroupsStateHandle, StateRestoreError
from flink_py.common.key_groups import KeyGroupRange

FORMAT_VERSION = "flink_py-key-groups-v1"

#: ``(state_name, kind, key, namespace, value, ttl_stamps)``
StateEntry = Tuple[str, str, Any, Any, Any, Any]
#: ``(queue_name, timestamp, key, namespace)``
TimerEntry = Tuple[str, int, Any, Any]


class KeyGroupContents:
    """What one key group holds in a snapshot: its state entries and its timers."""

    __slots__ = ("states", "timers")

    def __init__(self) -> None:
        self.states: List[StateEntry] = []
        self.timers: List[TimerEntry] = []


def encode_key_group(contents: KeyGroupContents) -> bytes:
    """The canonical bytes of one key group."""
    return pickle.dumps((FORMAT_VERSION, contents.states, contents.timers), protocol=5)


def decode_key_group(data: bytes, where: str = "") -> Tuple[List[StateEntry], List[TimerEntry]]:
    """The state and timer entries of one key group's canonical bytes.

    :raises StateRestoreError: if the bytes are not in this format (naming ``where``).
    """
    try:
        version, states, timers = pickle.loads(data)
    except Exception as exc:  # any unpickling failure means the bytes are not ours
        raise StateRestoreError(
            f"key-group state {where} is not in the canonical key-group format: {exc!r}"
        ) from exc
    if version != FORMAT_VERSION:
        raise StateRestoreError(
            f"key-group state {where} has format {version!r}; expected {FORMAT_VERSION!r}")
    return states, timers


def write_key_groups(groups: Dict[int, KeyGroupContents], key_group_range: KeyGroupRange,
                     factory: CheckpointStreamFactory) -> Optional[KeyGroupsStateHandle]:
    """Writes ``groups`` (key group -> contents) into one exclusive stream, in key-group
    order; None when there is nothing to write."""
    if not groups:
        return None
    stream = factory.create_checkpoint_state_output_stream(CheckpointedStateScope.EXCLUSIVE)
    offsets: Dict[int, Tuple[int, int]] = {}
    for group in sorted(groups):
        data = encode_key_group(groups[group])
        offsets[group] = (stream.tell(), len(data))
        stream.write(data)
    return KeyGroupsStateHandle(key_group_range, offsets, stream.close_and_get_handle())


def read_key_groups(handle: KeyGroupsStateHandle, key_group_range: KeyGroupRange
                    ) -> List[Tuple[int, List[StateEntry], List[TimerEntry]]]:
    """The entries of every key group of ``handle`` that lies in ``key_group_range``."""
    result = []
    for group in sorted(handle.offsets):
        if group not in key_group_range:
            continue
        data = handle.key_group_bytes(group)
        if data is None:
            continue
        states, timers = decode_key_group(data, f"of key group {group}")
        result.append((group, states, timers))
    return result
