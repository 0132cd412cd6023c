"""Checkpoint storage: Flink's layout on disk, the inline threshold, the task side rebuilt
from the job configuration, and the ``_metadata`` format (versioned, atomic, clear errors)."""

from __future__ import annotations

import os
import pickle
from typing import Any

import pytest

from flink_py.common.configuration import Configuration
from flink_py.graph.ids import OperatorID
from flink_py.runtime.checkpoint.metadata import CheckpointMetadata, OperatorState
from flink_py.runtime.checkpoint.metadata_serializer import (
    FLINK_MAGIC, METADATA_VERSION, CheckpointMetadataError, deserialize_metadata,
    read_metadata_file, serialize_metadata, write_metadata_file)
from flink_py.runtime.checkpoint.options import CheckpointOptions
from flink_py.runtime.checkpoint.storage import (
    CheckpointStorageError, FsCheckpointStorageAccess, FsCheckpointStreamFactory,
    JobManagerCheckpointStorageAccess, MemoryLimitedCheckpointStreamFactory,
    create_checkpoint_storage, create_checkpoint_storage_worker, resolve_storage_name)
from flink_py.runtime.state.checkpoint_streams import CheckpointedStateScope
from flink_py.runtime.state.handles import ByteStreamStateHandle, FileStateHandle

JOB_ID = "0123456789abcdef0123456789abcdef"


def _metadata(checkpoint_id: int = 7) -> CheckpointMetadata:
    return CheckpointMetadata(checkpoint_id, [OperatorState(OperatorID(), 2, 128)])


def test_filesystem_storage_uses_flinks_layout(tmp_path: Any) -> None:
    storage = FsCheckpointStorageAccess(JOB_ID, str(tmp_path))
    job_dir = tmp_path / JOB_ID
    assert sorted(os.listdir(job_dir)) == ["shared", "taskowned"]
    location = storage.initialize_location_for_checkpoint(3)
    assert location.directory == str(job_dir / "chk-3")
    assert location.write_metadata(_metadata(3)) == str(job_dir / "chk-3")
    assert os.listdir(job_dir / "chk-3") == ["_metadata"]
    assert read_metadata_file(str(job_dir / "chk-3" / "_metadata")).checkpoint_id == 3


def test_task_side_writes_exclusive_state_into_the_checkpoint_and_shared_into_shared(
        tmp_path: Any) -> None:
    worker = create_checkpoint_storage_worker(JOB_ID, {
        "execution.checkpointing.dir": str(tmp_path),
        "execution.checkpointing.data-inline-threshold": "10 b"})
    factory = worker.resolve_checkpoint_storage_location(5, CheckpointOptions.for_checkpoint())
    factory = pickle.loads(pickle.dumps(factory))  # travels to wherever the task runs
    exclusive = factory.create_checkpoint_state_output_stream(CheckpointedStateScope.EXCLUSIVE)
    exclusive.write(b"0123456789abc")
    handle = exclusive.close_and_get_handle()
    assert isinstance(handle, FileStateHandle)
    assert os.path.dirname(handle.path) == str(tmp_path / JOB_ID / "chk-5")
    assert handle.read_bytes() == b"0123456789abc" and handle.state_size == 13
    shared = factory.create_checkpoint_state_output_stream(CheckpointedStateScope.SHARED)
    shared.write(b"x" * 11)
    assert os.path.dirname(shared.close_and_get_handle().path) == str(tmp_path / JOB_ID /
                                                                       "shared")


def test_state_below_the_inline_threshold_stays_inline(tmp_path: Any) -> None:
    factory = FsCheckpointStreamFactory(str(tmp_path / "chk-1"), str(tmp_path / "shared"), 10)
    stream = factory.create_checkpoint_state_output_stream(CheckpointedStateScope.EXCLUSIVE)
    stream.write(b"01234")
    stream.write(b"56789")
    handle = stream.close_and_get_handle()
    assert isinstance(handle, ByteStreamStateHandle) and handle.read_bytes() == b"0123456789"
    assert not os.path.exists(tmp_path / "chk-1")


def test_jobmanager_storage_keeps_checkpoints_in_memory_with_a_maximum_size(
        tmp_path: Any) -> None:
    storage = JobManagerCheckpointStorageAccess(JOB_ID, str(tmp_path / "sp"))
    location = storage.initialize_location_for_checkpoint(1)
    assert location.directory is None and location.write_metadata(_metadata(1)) is None
    factory = storage.create_worker_view().resolve_checkpoint_storage_location(
        1, CheckpointOptions.for_checkpoint())
    assert isinstance(factory, MemoryLimitedCheckpointStreamFactory)
    small = MemoryLimitedCheckpointStreamFactory(100).create_checkpoint_state_output_stream(
        CheckpointedStateScope.EXCLUSIVE)
    with pytest.raises(CheckpointStorageError, match="maximum permitted memory-backed state"):
        small.write(b"x" * 101)
    assert os.listdir(tmp_path) == []


def test_savepoints_are_self_contained_directories_with_either_storage(tmp_path: Any) -> None:
    for storage in (JobManagerCheckpointStorageAccess(JOB_ID, str(tmp_path / "default")),
                    FsCheckpointStorageAccess(JOB_ID, str(tmp_path / "chk"),
                                              str(tmp_path / "default"), 4)):
        location = storage.initialize_location_for_savepoint(9, str(tmp_path / "target"))
        assert os.path.dirname(location.directory) == str(tmp_path / "target")
        assert os.path.basename(location.directory).startswith(f"savepoint-{JOB_ID[:6]}-")
        options = CheckpointOptions.for_savepoint(location.directory)
        factory = storage.create_worker_view().resolve_checkpoint_storage_location(9, options)
        for scope in CheckpointedStateScope:
            stream = factory.create_checkpoint_state_output_stream(scope)
            stream.write(b"y" * 30_000)
            assert os.path.dirname(stream.close_and_get_handle().path) == location.directory
        default = storage.initialize_location_for_savepoint(10, None)
        assert os.path.dirname(default.directory) == str(tmp_path / "default")


def test_metadata_files_are_versioned_and_written_atomically(tmp_path: Any) -> None:
    data = serialize_metadata(_metadata())
    assert data.startswith(b"FLPYMETA") and data[8:12] == METADATA_VERSION.to_bytes(4, "big")
    path = write_metadata_file(str(tmp_path), _metadata(1))
    write_metadata_file(str(tmp_path), _metadata(2))  # replaces, leaves no temporary file
    assert os.listdir(tmp_path) == ["_metadata"]
    assert read_metadata_file(path).checkpoint_id == 2


def test_a_missing_metadata_file_names_the_directory(tmp_path: Any) -> None:
    storage = JobManagerCheckpointStorageAccess(JOB_ID)
    with pytest.raises(CheckpointMetadataError,
                       match=f"Cannot find meta data file '_metadata' in directory "
                             f"'{tmp_path}'"):
        storage.resolve_checkpoint(str(tmp_path))
    with pytest.raises(CheckpointMetadataError, match="Cannot find checkpoint or savepoint"):
        storage.resolve_checkpoint(str(tmp_path / "nowhere"))


@pytest.mark.parametrize("content, expected", [
    (b"", "shorter than its 12-byte header"),
    (b"GARBAGE-and-more-bytes", "it starts with b'GARBAGE-'"),
    (b"FLPYMETA\x00\x00\x00\x63rest", "format version 99"),
    (b"FLPYMETA\x00\x00\x00\x01not a pickle", "is corrupt"),
    (FLINK_MAGIC + b"\x00\x00\x00\x03", "written by Apache Flink"),
])
def test_a_corrupt_metadata_file_names_the_path(tmp_path: Any, content: bytes,
                                                expected: str) -> None:
    path = tmp_path / "_metadata"
    path.write_bytes(content)
    storage = JobManagerCheckpointStorageAccess(JOB_ID)
    with pytest.raises(CheckpointMetadataError) as error:
        storage.resolve_checkpoint("file://" + str(path))
    assert str(path) in str(error.value) and expected in str(error.value)


def test_a_pickle_of_something_else_is_not_metadata() -> None:
    data = b"FLPYMETA\x00\x00\x00\x01" + pickle.dumps({"not": "metadata"})
    with pytest.raises(CheckpointMetadataError, match="holds a dict"):
        deserialize_metadata(data, "/x/_metadata")


def test_the_storage_is_chosen_by_the_configuration(tmp_path: Any) -> None:
    assert resolve_storage_name({}) == "jobmanager"
    assert resolve_storage_name({"state.checkpoints.dir": str(tmp_path)}) == "filesystem"
    assert resolve_storage_name({"execution.checkpointing.storage": "jobmanager",
                                 "execution.checkpointing.dir": str(tmp_path)}) == "jobmanager"
    with pytest.raises(CheckpointStorageError, match="'hdfs-ish'.*expected jobmanager"):
        resolve_storage_name({"execution.checkpointing.storage": "hdfs-ish"})
    with pytest.raises(CheckpointStorageError, match="needs a directory"):
        create_checkpoint_storage(JOB_ID, Configuration(
            {"execution.checkpointing.storage": "filesystem"}))
    with pytest.raises(CheckpointStorageError, match="s3://bucket"):
        create_checkpoint_storage(JOB_ID, {"execution.checkpointing.dir": "s3://bucket/x"})


def test_a_savepoint_without_any_directory_is_refused(tmp_path: Any) -> None:
    with pytest.raises(CheckpointStorageError, match="No savepoint directory configured"):
        JobManagerCheckpointStorageAccess(JOB_ID).initialize_location_for_savepoint(1, None)
