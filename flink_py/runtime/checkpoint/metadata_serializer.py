"""The ``_metadata`` file of a checkpoint or savepoint: our own versioned format.

Layout: the 8-byte magic ``b"FLPYMETA"``, a 4-byte big-endian format version, then the
pickled :class:`CheckpointMetadata` (pickle protocol 5; handles are small frozen dataclasses,
so the file stays small even for large state, whose bytes live in other files). Flink's file
starts with its own magic number (0x4960672d) and version; ours differs on purpose, as our
handles are Python objects, and a Flink ``_metadata`` is recognised and refused by name.

The file is written atomically: to a temporary file in the same directory, flushed and
fsynced, then renamed over ``_metadata``, so a crash never leaves a torn ``_metadata``
that a restore would trust.
"""

from __future__ import annotations

import os
import pickle
import struct
import tempfile

from flink_py.errors import FlinkPyError
from flink_py.runtime.checkpoint.metadata import CheckpointMetadata

#: the file name of a checkpoint's metadata inside its directory (Flink's)
METADATA_FILE_NAME = "_metadata"
MAGIC = b"FLPYMETA"
#: Flink's MetadataSerializers magic number: a ``_metadata`` written by Apache Flink itself
FLINK_MAGIC = struct.pack(">I", 0x4960672D)
#: the format version this code writes; versions it can read are in _READABLE_VERSIONS
METADATA_VERSION = 1
_READABLE_VERSIONS = (1,)
_HEADER = struct.Struct(">8sI")


class CheckpointMetadataError(FlinkPyError):
    """A ``_metadata`` file is missing, unreadable, corrupt or of an unknown version."""


def serialize_metadata(metadata: CheckpointMetadata) -> bytes:
    """The bytes of a ``_metadata`` file for ``metadata``."""
    return _HEADER.pack(MAGIC, METADATA_VERSION) + pickle.dumps(metadata, protocol=5)


def deserialize_metadata(data: bytes, path: str) -> CheckpointMetadata:
    """Reads the bytes of a ``_metadata`` file; ``path`` is named in every error.

    :raises CheckpointMetadataError: for a foreign, corrupt or too new file.
    """
    if data[:4] == FLINK_MAGIC:
        raise CheckpointMetadataError(
            f"{path} was written by Apache Flink: flink_py restores only its own "
            f"checkpoints and savepoints.")
    if len(data) < _HEADER.size:
        raise CheckpointMetadataError(
            f"{path} is not a checkpoint metadata file: {len(data)} bytes, shorter than "
            f"its {_HEADER.size}-byte header (is it truncated?).")
    magic, version = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise CheckpointMetadataError(
            f"{path} is not a checkpoint metadata file: it starts with {magic!r}, expected "
            f"{MAGIC!r}.")
    if version not in _READABLE_VERSIONS:
        raise CheckpointMetadataError(
            f"{path} has metadata format version {version}; this flink_py reads versions "
            f"{', '.join(map(str, _READABLE_VERSIONS))}.")
    try:
        metadata = pickle.loads(data[_HEADER.size:])
    except Exception as exc:  # pickle raises many types for corrupt input: all mean corrupt
        raise CheckpointMetadataError(
            f"{path} is corrupt: its metadata cannot be read "
            f"({type(exc).__name__}: {exc}).") from exc
    if not isinstance(metadata, CheckpointMetadata):
        raise CheckpointMetadataError(
            f"{path} is corrupt: it holds a {type(metadata).__name__}, expected "
            f"CheckpointMetadata.")
    return metadata


def write_metadata_file(directory: str, metadata: CheckpointMetadata) -> str:
    """Writes ``<directory>/_metadata`` atomically and returns its path."""
    target = os.path.join(directory, METADATA_FILE_NAME)
    data = serialize_metadata(metadata)
    fd, temp_path = tempfile.mkstemp(prefix="._metadata-", suffix=".inprogress",
                                     dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp_path, target)
    except BaseException:
        # the half-written temporary file must not stay behind; the error goes on
        try:
            os.remove(temp_path)
        except FileNotFoundError:
            pass
        raise
    return target


def read_metadata_file(path: str) -> CheckpointMetadata:
    """Reads a ``_metadata`` file.

    :raises CheckpointMetadataError: naming ``path`` if it is missing, unreadable or corrupt.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise CheckpointMetadataError(
            f"Cannot find meta data file '{METADATA_FILE_NAME}' in directory "
            f"'{os.path.dirname(path)}'. Please try to load the checkpoint/savepoint directly "
            f"from the metadata file instead of the directory.") from None
    except OSError as exc:
        raise CheckpointMetadataError(
            f"cannot read checkpoint metadata {path}: {exc.strerror or exc}") from exc
    return deserialize_metadata(data, path)
