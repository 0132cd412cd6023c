"""The ``hashmap`` keyed state backend: Python objects in memory, one table per state name.

Tables map key -> value for the keys of this subtask's key-group range. A key's key group is
a pure function of the key, so tables are flat dicts on the hot path and are split by key
group only when a snapshot is taken: snapshots are per key group, which is what lets a
restored job change its parallelism.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict, Tuple

from flink_py.common.key_groups import KeyGroupRange, murmur_hash, pyflink_key_by_hash_code
from flink_py.datastream.state import StateDescriptor
from flink_py.errors import InvalidProgramError
from flink_py.runtime.state.keyed_state import STATE_CLASSES

#: the table of a state with namespaces (window state) is named with this prefix
NAMESPACED_PREFIX = "\x00ns:"


class HeapKeyedStateBackend:
    """Keyed state of one operator instance, held in dicts."""

    def __init__(self, max_parallelism: int, key_group_range: KeyGroupRange,
                 hash_function: Callable[[Any], int] = functools.partial(
                     pyflink_key_by_hash_code, pickled=True)) -> None:
        self.max_parallelism = max_parallelism
        self.key_group_range = key_group_range
        #: must be the hash the key_by partitioner routed with (pickled keys by default)
        self.hash_function = hash_function
        self._tables: Dict[str, Dict[Any, Any]] = {}
        #: the key of the record (or timer) being processed: keyed state reads and writes it
        self.current_key: Any = None
        self._states: Dict[str, Any] = {}
        self._signatures: Dict[str, Tuple[str, str]] = {}

    def set_current_key(self, key: Any) -> None:
        self.current_key = key

    def get_partitioned_state(self, descriptor: StateDescriptor) -> Any:
        """The state object for ``descriptor`` (one per name; scoped to the current key).

        :raises InvalidProgramError: if the name was registered with another kind or type.
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
        factory = STATE_CLASSES[descriptor.kind]
        state = factory(self, descriptor, self.state_table(name),
                        self.state_table(NAMESPACED_PREFIX + name))
        self._states[name] = state
        self._signatures[name] = descriptor.signature()
        return state

    def state_table(self, name: str) -> Dict[Any, Any]:
        """The key -> value table of state ``name`` (created empty on first use)."""
        table = self._tables.get(name)
        if table is None:
            table = self._tables[name] = {}
        return table

    def snapshot(self) -> Dict[int, Dict[str, Dict[Any, Any]]]:
        """A copy of all state, grouped by key group: ``{key_group: {state: {key: value}}}``."""
        result: Dict[int, Dict[str, Dict[Any, Any]]] = {}
        for name, table in self._tables.items():
            for key, value in table.items():
                group = murmur_hash(self.hash_function(key)) % self.max_parallelism
                result.setdefault(group, {}).setdefault(name, {})[key] = value
        return result

    def restore(self, key_groups: Dict[int, Dict[str, Dict[Any, Any]]]) -> None:
        """Loads the key groups of a snapshot that fall into this backend's range."""
        for group, states in key_groups.items():
            if group in self.key_group_range:
                for name, entries in states.items():
                    self.state_table(name).update(entries)
