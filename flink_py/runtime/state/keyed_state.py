"""The state objects of the ``hashmap`` backend: one per (operator, state name).

Each reads and writes its backend's tables for the backend's *current key* (set by the
operator before it calls user code) and the state's current namespace (``None``, or a window
for window state). Values live in two kinds of tables, both keyed by the user's key so that
snapshots can split them by key group: ``key -> value`` without a namespace and
``key -> {namespace: value}`` with one. With a TTL, each stored value is a ``_Stamped``
holding the processing time of its last write (or read, with ``OnReadAndWrite``).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from flink_py.api.state import (
    AggregatingState, ListState, MapState, ReducingState, StateDescriptor, StateTtlConfig,
    ValueState)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class _Stamped:
    """A value with the time it was last written (TTL)."""

    __slots__ = ("value", "stamp")

    def __init__(self, value: Any, stamp: int) -> None:
        self.value = value
        self.stamp = stamp

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Stamped) and (other.value, other.stamp) == (
            self.value, self.stamp)

    def __repr__(self) -> str:
        return f"_Stamped({self.value!r}, {self.stamp})"


class _StateBase:
    """Key/namespace scoping and TTL shared by every state kind."""

    def __init__(self, backend: Any, descriptor: StateDescriptor, table: Dict[Any, Any],
                 ns_table: Dict[Any, Dict[Any, Any]]) -> None:
        self._backend = backend
        self._descriptor = descriptor
        self._table = table
        self._ns_table = ns_table
        self._namespace: Any = None
        ttl = descriptor.ttl_config
        self._ttl_ms = ttl.ttl_ms if ttl is not None and ttl.is_enabled() else 0
        self._touch_on_read = bool(self._ttl_ms) and (
            ttl.update_type is StateTtlConfig.UpdateType.OnReadAndWrite)  # type: ignore
        self._return_expired = bool(self._ttl_ms) and (
            ttl.state_visibility  # type: ignore[union-attr]
            is StateTtlConfig.StateVisibility.ReturnExpiredIfNotCleanedUp)
        # A typed value is kept as the object written, also a FLOAT, as PyFlink's Python
        # state hands it back from its cache (what PyFlink's own event_time_timer and
        # state_access examples print); it is narrowed only where it is serialized: in
        # snapshots and restores, and in the rocksdb backend.
        #: no namespace, no TTL: reads and writes go straight to the table
        self._direct = not self._ttl_ms

    def set_current_namespace(self, namespace: Any) -> None:
        self._namespace = namespace
        self._direct = namespace is None and not self._ttl_ms

    # raw access to the stored value of the current key and namespace ------------------------

    def _raw_get(self) -> Any:
        key = self._backend.current_key
        if self._namespace is None:
            return self._table.get(key)
        inner = self._ns_table.get(key)
        return None if inner is None else inner.get(self._namespace)

    def _raw_set(self, stored: Any) -> None:
        key = self._backend.current_key
        if self._namespace is None:
            self._table[key] = stored
        else:
            inner = self._ns_table.get(key)
            if inner is None:
                inner = self._ns_table[key] = {}
            inner[self._namespace] = stored

    def clear(self) -> None:
        key = self._backend.current_key
        if self._namespace is None:
            self._table.pop(key, None)
        else:
            inner = self._ns_table.get(key)
            if inner is not None:
                inner.pop(self._namespace, None)
                if not inner:
                    del self._ns_table[key]

    # TTL ----------------------------------------------------------------------------------

    def _load(self) -> Any:
        """The current value (None if absent or expired), TTL applied."""
        stored = self._raw_get()
        if not self._ttl_ms or stored is None:
            return stored
        now = _now_ms()
        if now - stored.stamp >= self._ttl_ms:  # expired (Flink: expired at stamp + ttl)
            # The read is the cleanup: ReturnExpiredIfNotCleanedUp hands the expired value
            # out this once, as Flink's AbstractTtlDecorator does.
            self.clear()
            return stored.value if self._return_expired else None
        if self._touch_on_read:
            stored.stamp = now
        return stored.value

    def _store(self, value: Any) -> None:
        self._raw_set(_Stamped(value, _now_ms()) if self._ttl_ms else value)

    # namespaces merge (session windows) ------------------------------------------------------

    def merge_namespaces(self, target: Any, sources: Iterable[Any]) -> None:
        """Merges the values of ``sources`` into ``target`` (for the current key)."""
        merged: Any = None
        have = False
        for source in sources:
            self.set_current_namespace(source)
            value = self._load()
            self.clear()
            if value is None:
                continue
            merged = value if not have else self._merge(merged, value)
            have = True
        self.set_current_namespace(target)
        if have:
            current = self._load()
            self._store(merged if current is None else self._merge(current, merged))

    def _merge(self, a: Any, b: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} cannot be merged")


class HeapValueState(_StateBase, ValueState):
    # The common case (no TTL, no namespace) reads and writes the table directly: value state
    # is touched for nearly every record of a stateful function.

    def value(self) -> Any:
        if self._direct:
            return self._table.get(self._backend.current_key)
        return self._load()

    def update(self, value: Any) -> None:
        if self._direct and value is not None:
            self._table[self._backend.current_key] = value
        elif value is None:
            self.clear()
        else:
            self._store(value)


class HeapListState(_StateBase, ListState):
    """With a TTL each element carries its own stamp (Flink's TtlListState)."""

    def _load(self) -> Any:
        stored = self._raw_get()
        if not self._ttl_ms or stored is None:
            return stored
        now = _now_ms()
        live = [e for e in stored if now - e.stamp < self._ttl_ms]
        if self._return_expired:
            visible = stored
        else:
            visible = live
            if len(live) != len(stored):
                if live:
                    self._raw_set(live)
                else:
                    self.clear()
        if self._touch_on_read:
            for element in visible:
                element.stamp = now
        return [e.value for e in visible] if visible else None

    def _store(self, value: Any) -> None:
        if not self._ttl_ms:
            self._raw_set(value)
            return
        now = _now_ms()
        self._raw_set([_Stamped(v, now) for v in value])

    def get(self) -> List[Any]:
        value = self._load()
        return [] if value is None else value

    def add(self, value: Any) -> None:
        if value is None:
            raise ValueError("ListState.add(None): null values are not allowed")
        if self._ttl_ms:  # a new stamp for the new element only
            self._load()  # drops expired elements
            stored = self._raw_get()
            element = _Stamped(value, _now_ms())
            if stored is None:
                self._raw_set([element])
            else:
                stored.append(element)
            return
        current = self._load()
        if current is None:
            self._store([value])
        else:
            current.append(value)

    def add_all(self, values: List[Any]) -> None:
        values = list(values)
        if any(v is None for v in values):
            raise ValueError("ListState.add_all: null values are not allowed")
        for value in values:
            self.add(value)

    def update(self, values: List[Any]) -> None:
        values = list(values or [])
        if any(v is None for v in values):
            raise ValueError("ListState.update: null values are not allowed")
        if values:
            self._store(values)
        else:
            self.clear()

    def _merge(self, a: Any, b: Any) -> Any:
        return a + b


class HeapReducingState(_StateBase, ReducingState):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._reduce = self._descriptor.reduce_function  # type: ignore[attr-defined]

    def get(self) -> Any:
        return self._load()

    def add(self, value: Any) -> None:
        current = self._load()
        reduced = value if current is None else self._reduce(current, value)
        self._store(reduced)

    def _merge(self, a: Any, b: Any) -> Any:
        return self._reduce(a, b)


class HeapAggregatingState(_StateBase, AggregatingState):
    """Stores the accumulator; ``get()`` is the aggregate function's result."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._function = self._descriptor.agg_function  # type: ignore[attr-defined]

    def get(self) -> Any:
        accumulator = self._load()
        return None if accumulator is None else self._function.get_result(accumulator)

    def add(self, value: Any) -> None:
        accumulator = self._load()
        if accumulator is None:
            accumulator = self._function.create_accumulator()
        self._store(self._function.add(value, accumulator))

    def _merge(self, a: Any, b: Any) -> Any:
        return self._function.merge(a, b)


class HeapMapState(_StateBase, MapState):
    """A dict per key (and namespace); with a TTL, each entry carries its own stamp."""

    def _map(self, create: bool) -> Optional[Dict[Any, Any]]:
        current = self._raw_get()
        if current is None and create:
            current = {}
            self._raw_set(current)
        return current

    def _entry(self, mapping: Dict[Any, Any], key: Any) -> Tuple[bool, Any]:
        if key not in mapping:
            return False, None
        stored = mapping[key]
        if not self._ttl_ms:
            return True, stored
        now = _now_ms()
        if now - stored.stamp >= self._ttl_ms:
            del mapping[key]  # cleaned up by this read (returned once if so configured)
            return (True, stored.value) if self._return_expired else (False, None)
        if self._touch_on_read:
            stored.stamp = now
        return True, stored.value

    def get(self, key: Any) -> Any:
        mapping = self._map(False)
        return None if mapping is None else self._entry(mapping, key)[1]

    def put(self, key: Any, value: Any) -> None:
        self._map(True)[key] = _Stamped(value, _now_ms()) if self._ttl_ms else value  # type: ignore[index]

    def put_all(self, dict_value: Dict[Any, Any]) -> None:
        for key, value in dict_value.items():
            self.put(key, value)

    def remove(self, key: Any) -> None:
        mapping = self._map(False)
        if mapping is not None:
            mapping.pop(key, None)
            if not mapping:
                self.clear()

    def contains(self, key: Any) -> bool:
        mapping = self._map(False)
        return mapping is not None and self._entry(mapping, key)[0]

    def _live(self) -> List[Tuple[Any, Any]]:
        mapping = self._map(False)
        if mapping is None:
            return []
        result = []
        for key in list(mapping):
            present, value = self._entry(mapping, key)
            if present:
                result.append((key, value))
        return result

    def items(self) -> List[Tuple[Any, Any]]:
        return self._live()

    def keys(self) -> List[Any]:
        return [k for k, _ in self._live()]

    def values(self) -> List[Any]:
        return [v for _, v in self._live()]

    def is_empty(self) -> bool:
        return not self._live()

    def _load(self) -> Any:  # the dict itself carries no stamp: its entries do
        return self._raw_get()

    def _store(self, value: Any) -> None:
        self._raw_set(value)

    def _merge(self, a: Any, b: Any) -> Any:
        merged = dict(a)
        merged.update(b)
        return merged


STATE_CLASSES: Dict[str, Callable[..., _StateBase]] = {
    "value": HeapValueState,
    "list": HeapListState,
    "map": HeapMapState,
    "reducing": HeapReducingState,
    "aggregating": HeapAggregatingState,
}
