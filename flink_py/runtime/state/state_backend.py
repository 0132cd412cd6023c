"""State backends: what creates an operator's keyed state backend (Flink's StateBackend).

``load_state_backend(job_configuration)`` reads ``state.backend.type`` (``hashmap`` |
``rocksdb``; the seed names ``jobmanager``/``memory``/``filesystem``/``MemoryStateBackend``/
``FsStateBackend`` are ``hashmap``, ``RocksDBStateBackend`` is ``rocksdb``),
``execution.checkpointing.incremental`` and ``state.backend.rocksdb.localdir``. A process
builds one per job and hands it to every OperatorChain it runs.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Callable, Dict, Optional, Protocol

from flink_py.common.config_options import (
    INCREMENTAL_CHECKPOINTS, ROCKSDB_LOCAL_DIRECTORIES, STATE_BACKEND)
from flink_py.common.configuration import Configuration
from flink_py.common.key_groups import KeyGroupRange
from flink_py.errors import InvalidProgramError
from flink_py.runtime.state.heap_keyed_state_backend import HeapKeyedStateBackend
from flink_py.runtime.state.keyed_state_backend import DEFAULT_KEY_HASH, KeyedStateBackend

_ALIASES = {
    "hashmap": "hashmap", "jobmanager": "hashmap", "memory": "hashmap",
    "filesystem": "hashmap", "memorystatebackend": "hashmap", "fsstatebackend": "hashmap",
    "hashmapstatebackend": "hashmap",
    "rocksdb": "rocksdb", "rocksdbstatebackend": "rocksdb",
    "embeddedrocksdbstatebackend": "rocksdb",
}


class StateBackend(Protocol):
    """Creates the keyed state backend of one operator instance."""

    name: str

    def create_keyed_state_backend(self, max_parallelism: int,
                                   key_group_range: KeyGroupRange,
                                   operator_identifier: str,
                                   hash_function: Callable[[Any], int] = DEFAULT_KEY_HASH
                                   ) -> KeyedStateBackend:
        """``hash_function``: the hash the operator's key_by routed with."""
        ...


class HashMapStateBackend:
    """``hashmap``: state as Python objects in memory."""

    name = "hashmap"

    def create_keyed_state_backend(self, max_parallelism: int,
                                   key_group_range: KeyGroupRange,
                                   operator_identifier: str = "",
                                   hash_function: Callable[[Any], int] = DEFAULT_KEY_HASH
                                   ) -> HeapKeyedStateBackend:
        return HeapKeyedStateBackend(max_parallelism, key_group_range, hash_function)

    def __repr__(self) -> str:
        return "HashMapStateBackend()"


class EmbeddedRocksDBStateBackend:
    """``rocksdb``: state serialized in a RocksDB instance per operator instance, under
    ``local_dir`` (a fresh temporary directory per instance, removed on dispose)."""

    name = "rocksdb"

    def __init__(self, incremental: bool = False, local_dir: Optional[str] = None) -> None:
        self.incremental = incremental
        self.local_dir = local_dir

    def create_keyed_state_backend(self, max_parallelism: int,
                                   key_group_range: KeyGroupRange,
                                   operator_identifier: str = "",
                                   hash_function: Callable[[Any], int] = DEFAULT_KEY_HASH
                                   ) -> KeyedStateBackend:
        from flink_py.runtime.state.rocksdb_keyed_state_backend import (
            RocksDBKeyedStateBackend)
        base = self.local_dir or tempfile.gettempdir()
        os.makedirs(base, exist_ok=True)
        safe = "".join(c if c.isalnum() else "_" for c in operator_identifier)[:40]
        instance_dir = tempfile.mkdtemp(prefix=f"rocksdb-{safe}-", dir=base)
        return RocksDBKeyedStateBackend(max_parallelism, key_group_range, instance_dir,
                                        incremental=self.incremental,
                                        hash_function=hash_function)

    def __repr__(self) -> str:
        return (f"EmbeddedRocksDBStateBackend(incremental={self.incremental}, "
                f"local_dir={self.local_dir!r})")


def load_state_backend(job_configuration: Optional[Dict[str, str]] = None,
                       working_dir: Optional[str] = None) -> Any:
    """The state backend the job's configuration names.

    :param working_dir: where RocksDB's files go when ``state.backend.rocksdb.localdir`` is
        not set (the slot's working directory; else the system's temporary directory).
    :raises InvalidProgramError: for an unknown backend name.
    """
    config = Configuration(dict(job_configuration or {}))
    raw = str(config.get(STATE_BACKEND) or "hashmap")
    name = _ALIASES.get(raw.strip().lower().rsplit(".", 1)[-1])
    if name is None:
        raise InvalidProgramError(
            f"unknown state backend {raw!r} in {STATE_BACKEND.key}; expected 'hashmap' or "
            f"'rocksdb'")
    if name == "hashmap":
        return HashMapStateBackend()
    return EmbeddedRocksDBStateBackend(
        incremental=bool(config.get(INCREMENTAL_CHECKPOINTS)),
        local_dir=config.get(ROCKSDB_LOCAL_DIRECTORIES) or working_dir)
