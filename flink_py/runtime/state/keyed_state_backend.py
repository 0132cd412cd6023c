"""The keyed state backend protocol: how operators reach keyed state and timers.

Every stateful operator goes through one ``KeyedStateBackend``: it makes a key current with
``set_current_key`` (before user code, a state access or a timer callback), gets state
objects with ``get_partitioned_state(descriptor)`` (scoped to the current key and to the
state's current namespace), creates its timer queues with ``create_timer_queue(name)`` and
uses ``state_table(name)`` for the few hot paths that keep one value per key (rolling
reduce, fusion). A snapshot is per key group, and a restore takes handles of any key-group
ranges and keeps what falls into the backend's own range, which is what rescaling needs.

Two implementations: ``hashmap`` (heap_keyed_state_backend.py) and ``rocksdb``
(rocksdb_keyed_state_backend.py). Both write savepoints in the canonical key-group format
(key_group_format.py) and read it, so a savepoint restores into either.
"""

from __future__ import annotations

from typing import (
    Any, Callable, Dict, List, MutableMapping, Protocol, Tuple, runtime_checkable)

from flink_py.common.key_groups import KeyGroupRange, murmur_hash
from flink_py.common.key_hash import KeyByKeyHash
from flink_py.errors import InvalidProgramError
from flink_py.runtime.state.handles import KeyedStateHandle
from flink_py.runtime.state.timer_queue import KeyGroupedTimerQueue

#: the async part of a snapshot: run off the task thread, returns the keyed handles
SnapshotResult = Callable[[], List[KeyedStateHandle]]

#: the key hash the ``key_by`` partitioner routes with (keys pickled unless typed): state
#: must be placed by the same hash or a rescaled job would look for keys in the wrong group
DEFAULT_KEY_HASH: Callable[[Any], int] = KeyByKeyHash(None)


@runtime_checkable
class KeyedStateBackend(Protocol):
    """Keyed state and timers of one operator instance (Flink's KeyedStateBackend)."""

    max_parallelism: int
    key_group_range: KeyGroupRange

    def set_current_key(self, key: Any) -> None:
        """Makes ``key`` current: state reads and writes and timer registrations use it."""
        ...

    def get_current_key(self) -> Any:
        ...

    def get_partitioned_state(self, descriptor: Any) -> Any:
        """The state object of ``descriptor`` (one per name), for the current key."""
        ...

    def create_internal_state(self, descriptor: Any) -> Any:
        """A further state object for ``descriptor`` over the same state, with a namespace
        of its own (an operator's window state beside the user's handle)."""
        ...

    def key_group_of(self, key: Any) -> int:
        """The key group of ``key`` (by the hash the key_by partitioner routes with)."""
        ...

    def state_table(self, name: str) -> MutableMapping[Any, Any]:
        """A key -> value table (no namespace, no TTL) for one-value-per-key hot paths:
        ``get(key, default)``, ``[key] = value``, iteration over the keys."""
        ...

    def create_timer_queue(self, name: str) -> KeyGroupedTimerQueue:
        """The timer queue ``name`` (created once, then the same object; restored timers
        are in it)."""
        ...

    def snapshot(self, checkpoint_id: int, timestamp: int, factory: Any,
                 options: Any) -> SnapshotResult:
        """Takes the synchronous part of a snapshot; returns the asynchronous part."""
        ...

    def restore(self, handles: List[KeyedStateHandle]) -> None:
        """Loads the key groups of ``handles`` that are in this backend's range."""
        ...

    def dispose(self) -> None:
        """Frees what the backend holds (memory, local files)."""
        ...


class AbstractKeyedStateBackend:
    """What both backends share: the key group of a key, timer queues, restore of timers."""

    #: True for backends whose tables are Python dicts (window fast paths use them directly)
    heap_tables = False
    #: whether the files of a restored incremental checkpoint may be referenced by later
    #: checkpoints (the job's own checkpoint); False for the checkpoint a job was started
    #: from (Flink's NO_CLAIM: the first checkpoint after it uploads every file anew, so
    #: the new job never depends on files its user may delete)
    claim_restored_files = True

    def __init__(self, max_parallelism: int, key_group_range: KeyGroupRange,
                 hash_function: Callable[[Any], int] = DEFAULT_KEY_HASH) -> None:
        self.max_parallelism = max_parallelism
        self.key_group_range = key_group_range
        #: must be the hash the key_by partitioner routed with (pickled keys by default)
        self.hash_function = hash_function
        #: the key of the record (or timer) being processed; read it, set it with
        #: set_current_key
        self.current_key: Any = None
        self._timer_queues: Dict[str, KeyGroupedTimerQueue] = {}
        #: state name -> its state object, the signature it was registered with, its kind
        #: (also for states that were restored but not yet registered)
        self._states: Dict[str, Any] = {}
        self._signatures: Dict[str, Tuple[str, str]] = {}
        self._kinds: Dict[str, str] = {}

    def key_group_of(self, key: Any) -> int:
        """Flink's ``KeyGroupRangeAssignment.assignToKeyGroup`` with the partitioner's hash."""
        return murmur_hash(self.hash_function(key)) % self.max_parallelism

    def set_current_key(self, key: Any) -> None:
        self.current_key = key

    def get_current_key(self) -> Any:
        return self.current_key

    def get_partitioned_state(self, descriptor: Any) -> Any:
        """The state object for ``descriptor`` (one per name; scoped to the current key).

        :raises InvalidProgramError: if the name was registered (or restored) with another
            kind or type.
        """
        name = descriptor.name
        state = self._states.get(name)
        if state is not None:
            if self._signatures[name] != descriptor.signature():
                kind, type_repr = self._signatures[name]
                raise InvalidProgramError(
                    f"state {name!r} was registered as {kind} state of type {type_repr}; it "
                    f"cannot be used as {descriptor.kind} state of type "
                    f"{descriptor.signature()[1]} ({descriptor!r})")
            return state
        known = self._kinds.get(name)
        if known is not None and known != descriptor.kind:
            raise InvalidProgramError(
                f"state {name!r} was restored as {known} state; it cannot be used as "
                f"{descriptor.kind} state ({descriptor!r})")
        state = self._states[name] = self._create_registered_state(descriptor)
        self._signatures[name] = descriptor.signature()
        self._kinds[name] = descriptor.kind
        return state

    def _create_registered_state(self, descriptor: Any) -> Any:
        """The backend's state object for a newly registered ``descriptor``."""
        raise NotImplementedError

    # -- timers ---------------------------------------------------------------------------

    def create_timer_queue(self, name: str) -> KeyGroupedTimerQueue:
        queue = self._timer_queues.get(name)
        if queue is None:
            queue = self._timer_queues[name] = KeyGroupedTimerQueue(name)
        return queue

    def _timer_entries(self) -> List[Tuple[str, int, Any, Any]]:
        """Every timer as a canonical timer entry (a copy: the synchronous part)."""
        return [(name, timestamp, key, namespace)
                for name, queue in self._timer_queues.items()
                for timestamp, key, namespace in queue]

    def _restore_timer(self, name: str, timestamp: int, key: Any, namespace: Any) -> None:
        self.create_timer_queue(name).add(timestamp, key, namespace)

    def _memo_group_of(self) -> Callable[[Any], int]:
        """``key_group_of`` with a memo for one snapshot (a key has many entries)."""
        memo: Dict[Any, int] = {}
        key_group_of = self.key_group_of

        def group_of(key: Any) -> int:
            try:
                return memo[key]
            except KeyError:
                group = memo[key] = key_group_of(key)
                return group
            except TypeError:  # an unhashable key cannot be memoized
                return key_group_of(key)
        return group_of

    def dispose(self) -> None:
        self._timer_queues.clear()

