"""The ``rocksdb`` keyed state backend: serialized state in an embedded RocksDB (rocksdict).

Layout. One column family per state name (``s:<name>``); a row's key is
``key group (2 bytes, big-endian) | len(key) (4 bytes) | key | len(namespace) (4 bytes) |
namespace``, key and namespace pickled, so all rows of a key group are one key range (a
restore clips a range with ``delete_range``, a snapshot reads key groups in order). A row's
value is the pickled value in the heap backend's stored form (with TTL: the value with its
last-write stamp), so both backends share their state logic (keyed_state.py): a state object
loads the row of the current key and namespace into a one-row scratch table, runs the heap
code on it and writes the row back. Map state is one row per key and namespace. Timers stay
on the heap (Flink's ``timer-service.factory: HEAP``) and are written to the ``_timers``
column family for an incremental checkpoint.

Memory. The block cache, the write buffers and the open files are small and bounded (see
``_options``): state is on disk, so it may be larger than memory.

Snapshots. Savepoints and full checkpoints are canonical (key_group_format.py): the
synchronous part takes a RocksDB checkpoint (hard links, cheap) and copies the timers; the
asynchronous part reads it key group by key group. Incremental checkpoints
(``execution.checkpointing.incremental``) upload, through the factory's SHARED scope, only
the SST files no earlier checkpoint of this backend uploaded, plus the small private files
(MANIFEST, CURRENT, OPTIONS, WAL) and a metadata stream; a restore downloads them into a
fresh instance and clips it to the backend's key-group range.
"""

from __future__ import annotations

import os
import pickle
import shutil
import struct
import threading
from typing import Any, Callable, Dict, Iterator, List, MutableMapping, Optional, Tuple

from flink_py.common.key_groups import KeyGroupRange
from flink_py.common.serializer import (
    ListSerializer, MapSerializer, TypeSerializer, serializer_for)
from flink_py.api.state import StateDescriptor
from flink_py.runtime.state.checkpoint_streams import CheckpointedStateScope
from flink_py.runtime.state.handles import (
    IncrementalKeyedStateHandle, KeyedStateHandle, KeyGroupsStateHandle, StateRestoreError,
    StreamStateHandle)
from flink_py.runtime.state.heap_keyed_state_backend import _from_canonical, _to_canonical
from flink_py.runtime.state.key_group_format import (
    KeyGroupContents, read_key_groups, write_key_groups)
from flink_py.runtime.state.keyed_state import STATE_CLASSES
from flink_py.runtime.state.keyed_state_backend import (
    DEFAULT_KEY_HASH, AbstractKeyedStateBackend, SnapshotResult)

import rocksdict

_PICKLE = 5
_STATE_CF_PREFIX = "s:"
_TIMERS_CF = "_timers"
_META_KIND_PREFIX = b"kind:"
_META_CODEC_PREFIX = b"codec:"
_LEN = struct.Struct(">I")
_GROUP = struct.Struct(">H")
_NONE_BYTES = pickle.dumps(None, protocol=_PICKLE)
#: the row-key suffix of state without namespace
_NONE_SUFFIX = _LEN.pack(len(_NONE_BYTES)) + _NONE_BYTES

#: memory bounds of one instance (small: a slot may run several stateful operators)
BLOCK_CACHE_BYTES = 8 * 1024 * 1024
WRITE_BUFFER_BYTES = 4 * 1024 * 1024
MAX_WRITE_BUFFERS = 2
MAX_OPEN_FILES = 64

_cache_lock = threading.Lock()
_shared_cache: List[Any] = []


def _block_cache() -> Any:
    """One block cache for every instance of the process (Flink shares managed memory)."""
    with _cache_lock:
        if not _shared_cache:
            _shared_cache.append(rocksdict.Cache(BLOCK_CACHE_BYTES))
        return _shared_cache[0]


def _options() -> Any:
    options = rocksdict.Options(raw_mode=True)
    options.create_if_missing(True)
    options.create_missing_column_families(True)
    options.set_write_buffer_size(WRITE_BUFFER_BYTES)
    options.set_max_write_buffer_number(MAX_WRITE_BUFFERS)
    options.set_max_open_files(MAX_OPEN_FILES)
    options.set_keep_log_file_num(2)
    table = rocksdict.BlockBasedOptions()
    table.set_block_cache(_block_cache())
    table.set_cache_index_and_filter_blocks(True)
    options.set_block_based_table_factory(table)
    return options


def _open(path: str) -> Any:
    names = rocksdict.Rdict.list_cf(path) if os.path.exists(os.path.join(path, "CURRENT")) \
        else ["default"]
    families = {name: _options() for name in names if name != "default"}
    return rocksdict.Rdict(path, _options(), column_families=families)


def _group_prefix(group: int) -> bytes:
    return _GROUP.pack(group)


def _split_row_key(row: bytes) -> Tuple[int, Any, Any]:
    """``(key group, key, namespace)`` of a row key."""
    group = _GROUP.unpack_from(row, 0)[0]
    key_length = _LEN.unpack_from(row, 2)[0]
    key = pickle.loads(row[6:6 + key_length])
    namespace = pickle.loads(row[10 + key_length:])
    return group, key, namespace


class _RocksStateMixin:
    """Runs a heap state class over one RocksDB row (see the module docstring)."""

    _backend: "RocksDBKeyedStateBackend"
    _namespace: Any
    _table: Dict[Any, Any]
    _ns_table: Dict[Any, Dict[Any, Any]]
    _ttl_ms: int

    def _bind(self, column_family: Any, codec: Optional[TypeSerializer]) -> None:
        self._cf = column_family
        self._depth = 0
        self._dumps, self._loads = _codec_functions(codec)
        #: list and map state: an empty container is no row
        self._container = self._descriptor.kind in ("list", "map")  # type: ignore[attr-defined]

    def _row(self, namespace: Any) -> bytes:
        if namespace is None:
            return self._backend.key_prefix + _NONE_SUFFIX
        namespace_bytes = pickle.dumps(namespace, protocol=_PICKLE)
        return self._backend.key_prefix + _LEN.pack(len(namespace_bytes)) + namespace_bytes

    def _fetch(self, namespaces: Tuple[Any, ...]) -> None:
        table, ns_table = self._table, self._ns_table
        table.clear()
        ns_table.clear()
        key = self._backend.current_key
        get = self._cf.get
        for namespace in namespaces:
            raw = get(self._row(namespace))
            if raw is None:
                continue
            if namespace is None:
                table[key] = self._loads(raw)
            else:
                ns_table.setdefault(key, {})[namespace] = self._loads(raw)

    def _persist(self, namespaces: Tuple[Any, ...]) -> None:
        key = self._backend.current_key
        for namespace in namespaces:
            if namespace is None:
                stored = self._table.get(key)
            else:
                stored = self._ns_table.get(key, {}).get(namespace)
            row = self._row(namespace)
            if stored is None or (self._container and not stored):
                self._cf.delete(row)
            else:
                self._cf[row] = self._dumps(stored)


def _pickle_dumps(value: Any) -> bytes:
    return pickle.dumps(value, protocol=_PICKLE)


def _codec_functions(codec: Optional[TypeSerializer]
                     ) -> Tuple[Callable[[Any], bytes], Callable[[bytes], Any]]:
    """``(dumps, loads)`` of a state's rows: its typed serializer, or pickle (None)."""
    if codec is None:
        return _pickle_dumps, pickle.loads
    return codec.to_bytes, codec.from_bytes


def _typed_codec(descriptor: StateDescriptor) -> Optional[TypeSerializer]:
    """The serializer of a state's rows when its type is declared (and it has no TTL, whose
    stamps are pickled with the value); None for pickle."""
    ttl = descriptor.ttl_config
    if ttl is not None and ttl.is_enabled():
        return None
    kind = descriptor.kind
    if kind == "map":
        key_type = descriptor.key_type_info  # type: ignore[attr-defined]
        value_type = descriptor.value_type_info  # type: ignore[attr-defined]
        if key_type is None and value_type is None:
            return None
        return MapSerializer(serializer_for(key_type), serializer_for(value_type))
    if descriptor.type_info is None:
        return None
    if kind == "list":
        return ListSerializer(serializer_for(descriptor.type_info))
    return serializer_for(descriptor.type_info)


def _wrapped(method: Callable[..., Any], read_only: bool, merging: bool = False
             ) -> Callable[..., Any]:
    def run(self: Any, *args: Any) -> Any:
        if self._depth:  # a nested call works on the rows the outer call fetched
            return method(self, *args)
        namespaces = ((args[0], *args[1]) if merging else (self._namespace,))
        self._fetch(namespaces)
        self._depth += 1
        try:
            result = method(self, *args)
        finally:
            self._depth -= 1
        if not read_only or self._ttl_ms:  # a TTL read may expire or touch the value
            self._persist(namespaces)
        return result
    run.__name__ = method.__name__
    run.__doc__ = method.__doc__
    return run


_READS = {"value", "get", "contains", "items", "keys", "values", "is_empty"}
_WRITES = {"update", "clear", "add", "add_all", "put", "put_all", "remove"}


def _value_update(self: Any, value: Any) -> None:
    """ValueState.update without TTL needs no read first: one put (or delete)."""
    if self._ttl_ms or self._depth:
        self._update_with_fetch(value)
    elif value is None:
        self._cf.delete(self._row(self._namespace))
    else:
        self._cf[self._row(self._namespace)] = self._dumps(value)


def _value_read(self: Any) -> Any:
    """ValueState.value without TTL: one get."""
    if self._ttl_ms or self._depth:
        return self._value_with_fetch()
    raw = self._cf.get(self._row(self._namespace))
    return None if raw is None else self._loads(raw)


def _rocks_class(heap_class: type) -> type:
    methods: Dict[str, Any] = {}
    for name in _READS | _WRITES:
        method = getattr(heap_class, name, None)
        if method is not None:
            methods[name] = _wrapped(method, name in _READS)
    methods["merge_namespaces"] = _wrapped(heap_class.merge_namespaces, False, merging=True)
    if heap_class is STATE_CLASSES["value"]:
        methods["_update_with_fetch"] = methods["update"]
        methods["_value_with_fetch"] = methods["value"]
        methods["update"] = _value_update
        methods["value"] = _value_read
    return type(f"RocksDB{heap_class.__name__[4:]}", (_RocksStateMixin, heap_class), methods)


ROCKSDB_STATE_CLASSES = {kind: _rocks_class(cls) for kind, cls in STATE_CLASSES.items()}


class _RocksTable(MutableMapping):
    """``state_table(name)``: key -> value rows without namespace or TTL (hot paths)."""

    def __init__(self, backend: "RocksDBKeyedStateBackend", column_family: Any) -> None:
        self._backend = backend
        self._cf = column_family
        self._suffix = _NONE_SUFFIX
        self._last_key: Any = object()
        self._last_row = b""

    def _row(self, key: Any) -> bytes:
        # a hot path reads a key's value, then writes it: serialize (and hash) it once
        if key is not self._last_key:
            self._last_key = key
            self._last_row = self._backend.serialize_key(key) + self._suffix
        return self._last_row

    def get(self, key: Any, default: Any = None) -> Any:
        raw = self._cf.get(self._row(key))
        return default if raw is None else pickle.loads(raw)

    def __getitem__(self, key: Any) -> Any:
        raw = self._cf.get(self._row(key))
        if raw is None:
            raise KeyError(key)
        return pickle.loads(raw)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._cf[self._row(key)] = pickle.dumps(value, protocol=_PICKLE)

    def __delitem__(self, key: Any) -> None:
        self._cf.delete(self._row(key))

    def __iter__(self) -> Iterator[Any]:
        for row in self._cf.keys():
            yield _split_row_key(row)[1]

    def __len__(self) -> int:
        return sum(1 for _ in self._cf.keys())


class RocksDBKeyedStateBackend(AbstractKeyedStateBackend):
    """Keyed state of one operator instance in a RocksDB instance under ``instance_dir``
    (which the backend owns: ``dispose`` removes it)."""

    def __init__(self, max_parallelism: int, key_group_range: KeyGroupRange,
                 instance_dir: str, incremental: bool = False,
                 hash_function: Callable[[Any], int] = DEFAULT_KEY_HASH) -> None:
        super().__init__(max_parallelism, key_group_range, hash_function)
        self.instance_dir = instance_dir
        self.incremental = incremental
        self._db_path = os.path.join(instance_dir, "db")
        self._db = _open(self._db_path)
        self._families: Dict[str, Any] = {}
        #: state name -> the serializer of its rows (None: pickle), fixed when first created
        self._codecs: Dict[str, Optional[TypeSerializer]] = {}
        self._load_kinds()
        #: the serialized current key with its key-group prefix (set_current_key)
        self.key_prefix = b""
        self._last_key: Any = object()
        #: SST file name -> its uploaded handle (incremental checkpoints)
        self._uploaded: Dict[str, StreamStateHandle] = {}
        self._snapshot_counter = 0

    # -- keys -----------------------------------------------------------------------------

    def serialize_key(self, key: Any) -> bytes:
        """``key group | len | pickled key`` of ``key``."""
        key_bytes = pickle.dumps(key, protocol=_PICKLE)
        return _GROUP.pack(self.key_group_of(key)) + _LEN.pack(len(key_bytes)) + key_bytes

    def set_current_key(self, key: Any) -> None:
        self.current_key = key
        # keys repeat in runs (a key's records, a key's timers): skip the hash and pickle
        if key is not self._last_key:
            self._last_key = key
            self.key_prefix = self.serialize_key(key)

    # -- state ----------------------------------------------------------------------------

    def _column_family(self, name: str) -> Any:
        family = self._families.get(name)
        if family is None:
            cf_name = _STATE_CF_PREFIX + name
            try:
                family = self._db.get_column_family(cf_name)
            except Exception:  # rocksdict raises for a family that does not exist yet
                family = self._db.create_column_family(cf_name, _options())
            self._families[name] = family
        return family

    def _load_kinds(self) -> None:
        for key, value in self._db.items(from_key=_META_CODEC_PREFIX):
            if key.startswith(_META_CODEC_PREFIX):
                self._codecs[key[len(_META_CODEC_PREFIX):].decode()] = pickle.loads(value)
            elif key.startswith(_META_KIND_PREFIX):
                self._kinds[key[len(_META_KIND_PREFIX):].decode()] = value.decode()

    def _register_kind(self, name: str, kind: str,
                       codec: Optional[TypeSerializer] = None) -> None:
        """Records a state's kind and row serializer the first time the state appears (in
        the DB too, so that a restored instance reads its rows the same way)."""
        if name not in self._kinds:
            self._kinds[name] = kind
            self._codecs[name] = codec
            self._db[_META_KIND_PREFIX + name.encode()] = kind.encode()
            self._db[_META_CODEC_PREFIX + name.encode()] = pickle.dumps(codec, protocol=_PICKLE)

    def create_internal_state(self, descriptor: StateDescriptor) -> Any:
        """A new state object for ``descriptor`` with a namespace of its own."""
        self._register_kind(descriptor.name, descriptor.kind, _typed_codec(descriptor))
        state = ROCKSDB_STATE_CLASSES[descriptor.kind](self, descriptor, {}, {})
        state._bind(self._column_family(descriptor.name), self._codecs.get(descriptor.name))
        return state

    def _create_registered_state(self, descriptor: StateDescriptor) -> Any:
        return self.create_internal_state(descriptor)

    def state_table(self, name: str) -> MutableMapping[Any, Any]:
        self._register_kind(name, "value")
        return _RocksTable(self, self._column_family(name))

    # -- snapshots ------------------------------------------------------------------------

    def _checkpoint_dir(self) -> str:
        self._snapshot_counter += 1
        path = os.path.join(self.instance_dir, f"chk-{self._snapshot_counter}")
        self._db.flush()
        for family in [*self._families.values(), self._timers_family()]:
            family.flush()
        rocksdict.Checkpoint(self._db).create_checkpoint(path)
        return path

    def snapshot(self, checkpoint_id: int, timestamp: int, factory: Any,
                 options: Any = None) -> SnapshotResult:
        savepoint = options is not None and options.checkpoint_type.is_savepoint
        if self.incremental and not savepoint:
            return self._snapshot_incremental(checkpoint_id, factory)
        timers = self._timer_entries()
        kinds = dict(self._kinds)
        codecs = {name: _codec_functions(codec)[1] for name, codec in self._codecs.items()}
        path = self._checkpoint_dir()
        key_group_range = self.key_group_range
        group_of = self._memo_group_of()

        def write() -> List[KeyedStateHandle]:
            groups: Dict[int, KeyGroupContents] = {}
            try:
                db = _open(path)
                try:
                    for name in rocksdict.Rdict.list_cf(path):
                        if not name.startswith(_STATE_CF_PREFIX):
                            continue
                        state_name = name[len(_STATE_CF_PREFIX):]
                        kind = kinds.get(state_name, "value")
                        loads = codecs.get(state_name, pickle.loads)
                        for row, raw in db.get_column_family(name).items():
                            group, key, namespace = _split_row_key(row)
                            value, stamps = _to_canonical(kind, loads(raw))
                            contents = groups.get(group)
                            if contents is None:
                                contents = groups[group] = KeyGroupContents()
                            contents.states.append(
                                (state_name, kind, key, namespace, value, stamps))
                finally:
                    db.close()
            finally:
                shutil.rmtree(path, ignore_errors=True)
            for timer in timers:
                group = group_of(timer[2])
                contents = groups.get(group)
                if contents is None:
                    contents = groups[group] = KeyGroupContents()
                contents.timers.append(timer)
            handle = write_key_groups(groups, key_group_range, factory)
            return [] if handle is None else [handle]
        return write

    def _snapshot_incremental(self, checkpoint_id: int, factory: Any) -> SnapshotResult:
        timers_cf = self._timers_family()
        for row in list(timers_cf.keys()):
            timers_cf.delete(row)
        for entry in self._timer_entries():
            timers_cf[pickle.dumps(entry, protocol=_PICKLE)] = b""
        path = self._checkpoint_dir()
        key_group_range = self.key_group_range
        metadata = pickle.dumps({"kinds": dict(self._kinds), "codecs": dict(self._codecs),
                                 "key_group_range": key_group_range}, protocol=_PICKLE)
        uploaded = self._uploaded
        identifier = os.path.basename(self.instance_dir)

        def upload(file_path: str, scope: CheckpointedStateScope) -> StreamStateHandle:
            stream = factory.create_checkpoint_state_output_stream(scope)
            with open(file_path, "rb") as f:
                while True:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        break
                    stream.write(chunk)
            return stream.close_and_get_handle()

        def write() -> List[KeyedStateHandle]:
            shared: Dict[str, StreamStateHandle] = {}
            private: Dict[str, StreamStateHandle] = {}
            try:
                for name in sorted(os.listdir(path)):
                    file_path = os.path.join(path, name)
                    if name.endswith(".sst"):
                        handle = uploaded.get(name)
                        if handle is None:
                            handle = uploaded[name] = upload(
                                file_path, CheckpointedStateScope.SHARED)
                        shared[name] = handle
                    else:
                        private[name] = upload(file_path, CheckpointedStateScope.EXCLUSIVE)
            finally:
                shutil.rmtree(path, ignore_errors=True)
            stream = factory.create_checkpoint_state_output_stream(
                CheckpointedStateScope.EXCLUSIVE)
            stream.write(metadata)
            return [IncrementalKeyedStateHandle(key_group_range, checkpoint_id, identifier,
                                                shared, private,
                                                stream.close_and_get_handle())]
        return write

    def _timers_family(self) -> Any:
        try:
            return self._db.get_column_family(_TIMERS_CF)
        except Exception:  # rocksdict raises for a family that does not exist yet
            return self._db.create_column_family(_TIMERS_CF, _options())

    # -- restore --------------------------------------------------------------------------

    def restore(self, handles: List[KeyedStateHandle]) -> None:
        """Loads the key groups of ``handles`` that are in this backend's range: canonical
        handles row by row, incremental ones by downloading their files into a fresh
        instance (adopted when it is the only one, copied otherwise) and clipping."""
        incremental = [h for h in handles if isinstance(h, IncrementalKeyedStateHandle)]
        for handle in handles:
            if isinstance(handle, KeyGroupsStateHandle):
                self._restore_canonical(handle)
            elif not isinstance(handle, IncrementalKeyedStateHandle):
                raise StateRestoreError(
                    f"unexpected keyed state handle {type(handle).__name__}; expected a "
                    f"KeyGroupsStateHandle or an IncrementalKeyedStateHandle")
        for index, handle in enumerate(incremental):
            self._restore_incremental(handle, index, adopt=len(incremental) == 1
                                      and len(handles) == 1)

    def _restore_canonical(self, handle: KeyGroupsStateHandle) -> None:
        for _, states, timers in read_key_groups(handle, self.key_group_range):
            for name, kind, key, namespace, value, stamps in states:
                self._register_kind(name, kind)  # pickled rows, unless already typed
                dumps = _codec_functions(self._codecs.get(name))[0]
                self.set_current_key(key)
                namespace_bytes = pickle.dumps(namespace, protocol=_PICKLE)
                row = self.key_prefix + _LEN.pack(len(namespace_bytes)) + namespace_bytes
                self._column_family(name)[row] = dumps(_from_canonical(kind, value, stamps))
            for timer in timers:
                self._restore_timer(*timer)
        self.current_key = None
        self._last_key = object()

    def _download(self, handle: IncrementalKeyedStateHandle, target: str) -> None:
        os.makedirs(target)
        for name, file_handle in [*handle.shared_files.items(), *handle.private_files.items()]:
            with open(os.path.join(target, name), "wb") as f:
                f.write(file_handle.read_bytes())

    def _restore_incremental(self, handle: IncrementalKeyedStateHandle, index: int,
                             adopt: bool) -> None:
        metadata = pickle.loads(handle.metadata.read_bytes())
        target = os.path.join(self.instance_dir, f"restore-{index}")
        self._download(handle, target)
        start = _group_prefix(self.key_group_range.get_start_key_group())
        end = _group_prefix(self.key_group_range.get_end_key_group() + 1)
        if adopt:
            self._db.close()
            shutil.rmtree(self._db_path, ignore_errors=True)
            os.rename(target, self._db_path)
            self._db = _open(self._db_path)
            self._families.clear()
            self._kinds.clear()
            self._codecs.clear()
            self._load_kinds()
            for name in rocksdict.Rdict.list_cf(self._db_path):
                if name.startswith(_STATE_CF_PREFIX):
                    family = self._column_family(name[len(_STATE_CF_PREFIX):])
                    family.delete_range(b"", start)
                    family.delete_range(end, b"\xff" * 8)
            if self.claim_restored_files:
                # the files are uploaded already: later incremental checkpoints reuse them
                self._uploaded.update(handle.shared_files)
            source = self._db
        else:
            source = _open(target)
            for name in rocksdict.Rdict.list_cf(target):
                if not name.startswith(_STATE_CF_PREFIX):
                    continue
                family = self._column_family(name[len(_STATE_CF_PREFIX):])
                for row, raw in source.get_column_family(name).items(from_key=start):
                    if row >= end:
                        break
                    family[row] = raw
        for name, kind in metadata["kinds"].items():
            self._register_kind(name, kind, metadata["codecs"].get(name))
        try:
            timers = source.get_column_family(_TIMERS_CF)
        except Exception:  # a checkpoint without timers has no timer column family
            timers = None
        if timers is not None:
            for row in list(timers.keys()):
                name, timestamp, key, namespace = pickle.loads(row)
                if self.key_group_of(key) in self.key_group_range:
                    self._restore_timer(name, timestamp, key, namespace)
        if not adopt:
            source.close()
            shutil.rmtree(target, ignore_errors=True)

    def dispose(self) -> None:
        super().dispose()
        self._states.clear()
        self._families.clear()
        db, self._db = self._db, None
        if db is not None:
            db.close()
        shutil.rmtree(self.instance_dir, ignore_errors=True)
