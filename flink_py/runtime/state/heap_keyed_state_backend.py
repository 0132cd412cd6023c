"""The ``hashmap`` keyed state backend: Python objects in memory, one table per state name.

Tables map key -> value for the keys of this subtask's key-group range. A key's key group is
a pure function of the key, so tables are flat dicts on the hot path and are split by key
group only when a snapshot is taken: snapshots are per key group, which is what lets a
restored job change its parallelism.

Snapshots: the synchronous part walks the tables and copies every entry into its canonical
form (key_group_format.py), copying the containers a later record could change in place
(list state lists, map state dicts, namespace dicts, TTL stamps); about 0.2 µs an entry.
User objects inside are not copied: as with Flink's heap backend without copy-on-write
serializers, a value must not be changed in place after it was handed to the state (call
``update`` with a new object; an AggregateFunction's ``add`` should return a new
accumulator). The asynchronous part hashes the keys into key groups, pickles every key group
into one stream and returns a ``KeyGroupsStateHandle``. A full copy per checkpoint costs time proportional to the state;
it is the simple, obviously correct choice for state that fits in memory (large state is
RocksDB's case, which snapshots incrementally).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from flink_py.common.key_groups import KeyGroupRange
from flink_py.api.state import StateDescriptor
from flink_py.runtime.state.handles import (
    IncrementalKeyedStateHandle, KeyedStateHandle, KeyGroupsStateHandle, StateRestoreError)
from flink_py.runtime.state.key_group_format import (
    KeyGroupContents, read_key_groups, write_key_groups)
from flink_py.runtime.state.keyed_state import STATE_CLASSES, _Stamped
from flink_py.runtime.state.keyed_state_backend import (
    DEFAULT_KEY_HASH, AbstractKeyedStateBackend, SnapshotResult)

#: the table of a state with namespaces (window state) is named with this prefix
NAMESPACED_PREFIX = "\x00ns:"


def _to_canonical(kind: str, stored: Any) -> Tuple[Any, Any]:
    """``(value, ttl_stamps)`` of a stored heap value, containers copied."""
    if kind == "list":
        if stored and type(stored[0]) is _Stamped:
            return [e.value for e in stored], [e.stamp for e in stored]
        return list(stored), None
    if kind == "map":
        if stored and type(next(iter(stored.values()))) is _Stamped:
            return ({k: e.value for k, e in stored.items()},
                    {k: e.stamp for k, e in stored.items()})
        return dict(stored), None
    if type(stored) is _Stamped:
        return stored.value, stored.stamp
    return stored, None


def _from_canonical(kind: str, value: Any, stamps: Any) -> Any:
    """The heap's stored form of a canonical ``(value, ttl_stamps)``."""
    if stamps is None:
        if kind == "list":
            return list(value)
        if kind == "map":
            return dict(value)
        return value
    if kind == "list":
        return [_Stamped(v, s) for v, s in zip(value, stamps)]
    if kind == "map":
        return {k: _Stamped(v, stamps[k]) for k, v in value.items()}
    return _Stamped(value, stamps)


class HeapKeyedStateBackend(AbstractKeyedStateBackend):
    """Keyed state of one operator instance, held in dicts."""

    heap_tables = True

    def __init__(self, max_parallelism: int, key_group_range: KeyGroupRange,
                 hash_function: Callable[[Any], int] = DEFAULT_KEY_HASH) -> None:
        super().__init__(max_parallelism, key_group_range, hash_function)
        self._tables: Dict[str, Dict[Any, Any]] = {}

    def _create_registered_state(self, descriptor: StateDescriptor) -> Any:
        return self.create_internal_state(descriptor)

    def create_internal_state(self, descriptor: StateDescriptor) -> Any:
        """A new state object for ``descriptor`` with a namespace of its own, over the same
        tables as the one ``get_partitioned_state`` hands out (register that one first)."""
        return STATE_CLASSES[descriptor.kind](
            self, descriptor, self.state_table(descriptor.name),
            self.state_table(NAMESPACED_PREFIX + descriptor.name))

    def state_table(self, name: str) -> Dict[Any, Any]:
        """The key -> value table of state ``name`` (created empty on first use)."""
        table = self._tables.get(name)
        if table is None:
            table = self._tables[name] = {}
        return table

    # -- snapshots ------------------------------------------------------------------------

    def _copy_entries(self) -> List[Any]:
        """The synchronous part: every state entry in canonical form, containers copied."""
        entries: List[Any] = []
        append = entries.append
        for table_name, table in self._tables.items():
            namespaced = table_name.startswith(NAMESPACED_PREFIX)
            name = table_name[len(NAMESPACED_PREFIX):] if namespaced else table_name
            kind = self._kinds.get(name, "value")
            for key, stored in table.items():
                if namespaced:
                    for namespace, inner in stored.items():
                        value, stamps = _to_canonical(kind, inner)
                        append((name, kind, key, namespace, value, stamps))
                else:
                    value, stamps = _to_canonical(kind, stored)
                    append((name, kind, key, None, value, stamps))
        return entries

    def _group(self, entries: List[Any], timers: List[Any]) -> Dict[int, KeyGroupContents]:
        """The asynchronous part's first step: entries and timers by key group."""
        groups: Dict[int, KeyGroupContents] = {}
        group_of = self._memo_group_of()
        for entry in entries:
            group = group_of(entry[2])
            contents = groups.get(group)
            if contents is None:
                contents = groups[group] = KeyGroupContents()
            contents.states.append(entry)
        for timer in timers:
            group = group_of(timer[2])
            contents = groups.get(group)
            if contents is None:
                contents = groups[group] = KeyGroupContents()
            contents.timers.append(timer)
        return groups

    def snapshot_key_groups(self) -> Dict[int, KeyGroupContents]:
        """The canonical contents of every key group with state or timers (a copy)."""
        return self._group(self._copy_entries(), self._timer_entries())

    def snapshot(self, checkpoint_id: int, timestamp: int, factory: Any,
                 options: Any = None) -> SnapshotResult:
        # Only the copy is synchronous; hashing keys into key groups and pickling run in
        # the asynchronous part, off the task thread.
        entries = self._copy_entries()
        timers = self._timer_entries()
        key_group_range = self.key_group_range

        def write() -> List[KeyedStateHandle]:
            handle = write_key_groups(self._group(entries, timers), key_group_range, factory)
            return [] if handle is None else [handle]
        return write

    def restore(self, handles: List[KeyedStateHandle]) -> None:
        """Loads the key groups of ``handles`` that fall into this backend's range.

        :raises StateRestoreError: for an incremental RocksDB handle (restore a savepoint,
            which is canonical, to change the backend).
        """
        for handle in handles:
            if isinstance(handle, IncrementalKeyedStateHandle):
                raise StateRestoreError(
                    f"the hashmap state backend cannot restore an incremental RocksDB "
                    f"checkpoint ({handle.backend_identifier}, checkpoint "
                    f"{handle.checkpoint_id}); restore it with state.backend.type: rocksdb, "
                    f"or restore from a savepoint")
            if not isinstance(handle, KeyGroupsStateHandle):
                raise StateRestoreError(
                    f"unexpected keyed state handle {type(handle).__name__}; expected a "
                    f"KeyGroupsStateHandle")
            for _, states, timers in read_key_groups(handle, self.key_group_range):
                for name, kind, key, namespace, value, stamps in states:
                    self.restore_entry(name, kind, key, namespace, value, stamps)
                for timer in timers:
                    self._restore_timer(*timer)

    def restore_entry(self, name: str, kind: str, key: Any, namespace: Any, value: Any,
                      stamps: Any) -> None:
        """Puts one canonical state entry into the tables."""
        self._kinds.setdefault(name, kind)
        stored = _from_canonical(kind, value, stamps)
        if namespace is None:
            self.state_table(name)[key] = stored
        else:
            inner: Optional[Dict[Any, Any]] = self.state_table(NAMESPACED_PREFIX + name).get(key)
            if inner is None:
                inner = self.state_table(NAMESPACED_PREFIX + name)[key] = {}
            inner[namespace] = stored

    def dispose(self) -> None:
        super().dispose()
        self._tables.clear()
        self._states.clear()
