"""The writer of a row-format ``FileSink``: part files in buckets, rolled and committed.

As Flink's ``FileWriter`` / ``FileWriterBucket`` / ``FileCommitter``: each subtask keeps one
:class:`FileWriterBucket` per bucket id it has seen. A bucket writes to at most one
*in-progress* part file at a time, hidden as ``.<name>.inprogress.<uuid>`` in the bucket's
directory; the rolling policy closes it (on size when a record arrives, on age or inactivity
when the bucket check timer fires), which makes it *pending*; committing renames a pending
file to its final name ``<prefix>-<bucket uuid>-<part counter><suffix>``, the uuid being
drawn per bucket and subtask.

Pending files are committed when the input ends (as Flink does since 1.15 at the end of a
bounded input, in BATCH and in STREAMING) and, with checkpointing on, when a checkpoint
completes (exactly-once files, Flink's two-phase commit): a checkpoint's snapshot closes the
in-progress part files (they roll on checkpoint) and keeps the pending files as that
checkpoint's committables, in operator state; ``notify_checkpoint_complete(n)`` renames
the committables of checkpoints up to ``n``. A job restored from a checkpoint commits the
committables it restores (that checkpoint completed); what was written after it stays
hidden, and the replayed records are written again. Without checkpoints an unbounded job
keeps its rolled files pending (as Flink). A job that fails or is cancelled leaves its
in-progress and pending files hidden and unfinished, never half-visible: the data written so
far is flushed to them on close.
"""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple

from flink_py.errors import FlinkPyError
from flink_py.runtime.operators.base import StreamOperator

#: the operator list state holding the pending files of checkpoints not yet committed
PENDING_COMMITTABLES_STATE = "file-sink-pending-committables"
from flink_py.runtime.tasks.processing_time import current_processing_time

log = logging.getLogger(__name__)

#: write buffer of a part file: large enough that a buffer of records is one system call
PART_FILE_BUFFER_BYTES = 1 << 16


class InProgressPartFile:
    """An open part file (Flink's ``InProgressFileWriter``, also its ``PartFileInfo``)."""

    __slots__ = ("bucket_id", "path", "in_progress_path", "stream", "size", "creation_time",
                 "last_update_time")

    def __init__(self, bucket_id: str, path: str, creation_time: int) -> None:
        self.bucket_id = bucket_id
        #: the name the file gets when committed
        self.path = path
        directory, name = os.path.split(path)
        self.in_progress_path = os.path.join(directory, f".{name}.inprogress.{uuid.uuid4()}")
        self.stream = open(self.in_progress_path, "xb", buffering=PART_FILE_BUFFER_BYTES)
        self.size = 0
        self.creation_time = creation_time
        self.last_update_time = creation_time

    def write(self, data: bytes, current_time: int) -> None:
        self.stream.write(data)
        self.size += len(data)
        self.last_update_time = current_time

    def close_for_commit(self) -> Tuple[str, str]:
        """Closes the file; returns the pending file (in-progress path, final path)."""
        self.stream.close()
        return self.in_progress_path, self.path

    # PartFileInfo, as rolling policies see it
    def get_bucket_id(self) -> str:
        return self.bucket_id

    def get_creation_time(self) -> int:
        return self.creation_time

    def get_size(self) -> int:
        return self.size

    def get_last_update_time(self) -> int:
        return self.last_update_time


class FileWriterBucket:
    """The part files of one bucket written by one subtask."""

    __slots__ = ("bucket_id", "bucket_path", "unique_id", "part_counter", "in_progress_part",
                 "pending_files", "_prefix", "_suffix")

    def __init__(self, bucket_id: str, bucket_path: str, part_prefix: str,
                 part_suffix: str) -> None:
        self.bucket_id = bucket_id
        self.bucket_path = bucket_path
        self.unique_id = str(uuid.uuid4())
        self.part_counter = 0
        self.in_progress_part: Optional[InProgressPartFile] = None
        #: closed part files awaiting their commit: (in-progress path, final path)
        self.pending_files: List[Tuple[str, str]] = []
        self._prefix = part_prefix
        self._suffix = part_suffix

    def roll_part_file(self, current_time: int) -> InProgressPartFile:
        """Closes the current part file (if any) and opens the next one."""
        self.close_part_file()
        name = f"{self._prefix}-{self.unique_id}-{self.part_counter}{self._suffix}"
        self.part_counter += 1
        part = InProgressPartFile(self.bucket_id, os.path.join(self.bucket_path, name),
                                  current_time)
        self.in_progress_part = part
        return part

    def close_part_file(self) -> None:
        part = self.in_progress_part
        if part is not None:
            self.in_progress_part = None
            self.pending_files.append(part.close_for_commit())

    def dispose(self) -> List[str]:
        """Closes the open part file without committing it; returns the unfinished files."""
        left = [in_progress for in_progress, _ in self.pending_files]
        part = self.in_progress_part
        if part is not None:
            self.in_progress_part = None
            part.stream.close()
            left.append(part.in_progress_path)
        return left


class FileWriter(StreamOperator):
    """Writes each buffer of records to the part files of their buckets (see module).

    :param base_path: the absolute directory holding the bucket directories.
    :param formatter: a record's text (its type's Java ``toString()``).
    :param encoding: the Python codec of the encoder's charset.
    :param bucket_assigner: a ``BucketAssigner``; one whose ``element_independent`` is True
        is asked once per buffer (its bucket depends only on the processing time).
    :param rolling_policy: a ``RollingPolicy``.
    """

    def __init__(self, name: str, base_path: str, formatter: Callable[[Any], str],
                 encoding: str, bucket_assigner: Any, rolling_policy: Any, part_prefix: str,
                 part_suffix: str, bucket_check_interval: int) -> None:
        super().__init__(name)
        self.base_path = base_path
        self.formatter = formatter
        self.encoding = encoding
        self.bucket_assigner = bucket_assigner
        self.rolling_policy = rolling_policy
        self.part_prefix = part_prefix
        self.part_suffix = part_suffix
        self.bucket_check_interval = bucket_check_interval
        self.buckets: Dict[str, FileWriterBucket] = {}
        self._timer: Any = None
        self._ended = False
        #: checkpoint id -> its committables (in-progress path, final path)
        self._committables: Dict[int, List[Tuple[str, str]]] = {}

    def open(self) -> None:
        from flink_py.api.bucketing import BucketAssigner, RollingPolicy
        policy = self.rolling_policy
        # Rolling on size is decided by comparing sizes, unless a policy of the user's own
        # overrides should_roll_on_event: then it is asked before every record.
        self._event_policy: Optional[Callable[[Any, Any], bool]] = None
        self._max_part_size: Optional[int] = policy._max_part_size
        if type(policy).should_roll_on_event is not RollingPolicy.should_roll_on_event:
            self._event_policy = policy.should_roll_on_event
            self._max_part_size = None
        assigner = self.bucket_assigner
        self._bucket_per_buffer = getattr(assigner, "element_independent", False)
        self._bucketer_context = BucketAssigner.Context(self)
        self._clock = (self.processing_time_service.get_current_processing_time
                       if self.processing_time_service is not None else current_processing_time)
        if not os.path.isdir(self.base_path):
            try:
                os.makedirs(self.base_path, exist_ok=True)
            except OSError as exc:
                raise self._io_error(exc, f"creating the base path {self.base_path!r}")
        if self.processing_time_service is not None:
            self._timer = self.processing_time_service.register_timer(
                self._clock() + self.bucket_check_interval, self._on_processing_time)

    # -- writing --------------------------------------------------------------------------

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        if not values:
            return
        fmt = self.formatter
        try:
            lines = [fmt(v) for v in values]
        except Exception as exc:
            raise self.user_error(exc, "formatting a record for the FileSink")
        now = self._clock()
        context = self._bucketer_context
        context._processing_time = now
        get_bucket_id = self.bucket_assigner.get_bucket_id
        if self._bucket_per_buffer:
            context._timestamp = None if timestamps is None else timestamps[0]
            try:
                bucket_id = get_bucket_id(values[0], context)
            except Exception as exc:
                raise self.user_error(exc, "the bucket assigner")
            self._write(self._bucket(bucket_id), values, lines, now)
            return
        groups: Dict[str, Tuple[list, list]] = {}
        try:
            for i, value in enumerate(values):
                context._timestamp = None if timestamps is None else timestamps[i]
                bucket_id = get_bucket_id(value, context)
                group = groups.get(bucket_id)
                if group is None:
                    group = groups[bucket_id] = ([], [])
                group[0].append(value)
                group[1].append(lines[i])
        except Exception as exc:
            raise self.user_error(exc, "the bucket assigner")
        for bucket_id, (group_values, group_lines) in groups.items():
            self._write(self._bucket(bucket_id), group_values, group_lines, now)

    def _bucket(self, bucket_id: Any) -> FileWriterBucket:
        bucket = self.buckets.get(bucket_id)
        if bucket is None:
            if not isinstance(bucket_id, str):
                raise FlinkPyError(
                    f"the bucket assigner of {self.describe()} returned {bucket_id!r}; a "
                    f"bucket id must be a str")
            path = os.path.join(self.base_path, bucket_id) if bucket_id else self.base_path
            try:
                os.makedirs(path, exist_ok=True)
            except OSError as exc:
                raise self._io_error(exc, f"creating the bucket directory {path!r}")
            bucket = self.buckets[bucket_id] = FileWriterBucket(
                bucket_id, path, self.part_prefix, self.part_suffix)
        return bucket

    def _write(self, bucket: FileWriterBucket, values: list, lines: List[str],
               now: int) -> None:
        encoding = self.encoding
        try:
            data = ("\n".join(lines) + "\n").encode(encoding)
        except UnicodeEncodeError as exc:
            raise self.user_error(exc, f"encoding a record in {encoding}")
        try:
            part = bucket.in_progress_part
            limit = self._max_part_size
            if self._event_policy is None:
                if part is None:
                    part = bucket.roll_part_file(now)
                if limit is None or part.size + len(data) <= limit:
                    part.write(data, now)  # no record of the buffer can make the file roll
                    return
            # Exactly as Flink: before each record, roll if the policy says so.
            should_roll = self._event_policy
            for value, line in zip(values, lines):
                if part is None or (part.size > limit if should_roll is None
                                    else should_roll(part, value)):
                    part = bucket.roll_part_file(now)
                part.write((line + "\n").encode(encoding), now)
        except OSError as exc:
            raise self._io_error(exc, f"writing to bucket {bucket.bucket_path!r}")

    # -- time-based rolling ---------------------------------------------------------------

    def _on_processing_time(self, timestamp: int) -> None:
        if self._ended:
            return
        should_roll = self.rolling_policy.should_roll_on_processing_time
        try:
            for bucket in self.buckets.values():
                part = bucket.in_progress_part
                if part is not None and should_roll(part, timestamp):
                    bucket.close_part_file()
        except OSError as exc:
            raise self._io_error(exc, "closing a part file")
        self._timer = self.processing_time_service.register_timer(
            timestamp + self.bucket_check_interval, self._on_processing_time)

    # -- checkpoints (two-phase commit) ---------------------------------------------------

    def _committables_state(self) -> Any:
        from flink_py.api.state import ListStateDescriptor
        return self.get_operator_state_store().get_list_state(
            ListStateDescriptor(PENDING_COMMITTABLES_STATE))

    def initialize_state(self, subtask_state: Any = None,
                         keyed_state_backend: Any = None) -> None:
        super().initialize_state(subtask_state, keyed_state_backend)
        if subtask_state is None:
            return
        state = self._committables_state()
        restored = list(state.get())
        state.clear()
        # the restored checkpoint completed: its committables are committed now
        self._commit(restored, "committing restored part files")

    def snapshot_state(self, checkpoint_id: int, timestamp: int, options: Any,
                       factory: Any) -> Callable[[], Any]:
        """Pre-commit: the part files roll; the pending ones become this checkpoint's."""
        pending: List[Tuple[str, str]] = []
        try:
            for bucket in self.buckets.values():
                bucket.close_part_file()
                pending.extend(bucket.pending_files)
                bucket.pending_files.clear()
        except OSError as exc:
            raise self._io_error(exc, "closing part files for a checkpoint")
        if pending:
            self._committables[checkpoint_id] = pending
        self._committables_state().update(
            [c for cid in sorted(self._committables) for c in self._committables[cid]])
        return super().snapshot_state(checkpoint_id, timestamp, options, factory)

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        """Commit: renames the committables of every checkpoint up to ``checkpoint_id``."""
        done = [cid for cid in self._committables if cid <= checkpoint_id]
        for cid in sorted(done):
            self._commit(self._committables.pop(cid), f"committing checkpoint {cid}")
        super().notify_checkpoint_complete(checkpoint_id)

    def _commit(self, committables: List[Tuple[str, str]], what: str) -> None:
        try:
            for in_progress_path, final_path in committables:
                if os.path.exists(in_progress_path):
                    os.replace(in_progress_path, final_path)
                elif not os.path.exists(final_path):
                    raise FileNotFoundError(
                        f"pending part file {in_progress_path!r} is gone and "
                        f"{final_path!r} was never committed")
        except OSError as exc:
            raise self._io_error(exc, what)

    # -- commit ---------------------------------------------------------------------------

    def end_input(self, input_index: int = 0) -> None:
        self._commit_all()

    def finish(self) -> None:
        self._commit_all()

    def _commit_all(self) -> None:
        """End of input: closes every part file and renames every pending file to its name."""
        self._ended = True
        self._cancel_timer()
        committed = 0
        for cid in sorted(self._committables):
            committed += len(self._committables[cid])
            self._commit(self._committables.pop(cid), "committing part files")
        for bucket in self.buckets.values():
            try:
                bucket.close_part_file()
                for in_progress_path, final_path in bucket.pending_files:
                    os.replace(in_progress_path, final_path)
                    committed += 1
                bucket.pending_files.clear()
            except OSError as exc:
                raise self._io_error(exc, f"committing part files in {bucket.bucket_path!r}")
        if committed:
            log.debug("%s committed %d part files under %s", self.describe(), committed,
                      self.base_path)

    def close(self) -> None:
        self._cancel_timer()
        unfinished: List[str] = []
        errors: List[OSError] = []
        for bucket in self.buckets.values():
            try:
                unfinished.extend(bucket.dispose())
            except OSError as exc:  # the other buckets' files must be closed too
                errors.append(exc)
        self.buckets.clear()
        unfinished.extend(in_progress for committables in self._committables.values()
                          for in_progress, _ in committables)
        self._committables.clear()
        if unfinished:
            log.info("%s closed before its input ended: %d part files stay unfinished "
                     "(in-progress or pending) under %s", self.describe(), len(unfinished),
                     self.base_path)
        if errors:
            raise self._io_error(errors[0], "closing part files")

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _io_error(self, exc: OSError, what: str) -> FlinkPyError:
        error = FlinkPyError(f"FileSink {self.describe()} failed {what}: "
                             f"{type(exc).__name__}: {exc}")
        error.__cause__ = exc
        return error
