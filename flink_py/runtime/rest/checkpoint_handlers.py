"""The REST API's checkpoint and savepoint endpoints, with Flink's paths and JSON shapes.

    GET  /jobs/<id>/checkpoints                          CheckpointingStatistics
    GET  /jobs/<id>/checkpoints/config                   CheckpointConfigInfo
    GET  /jobs/<id>/checkpoints/details/<cid>            CheckpointStatistics
    GET  /jobs/<id>/checkpoints/details/<cid>/subtasks/<vid>
                                                         TaskCheckpointStatisticsWithSubtaskDetails
    POST /jobs/<id>/savepoints  {target-directory, cancel-job}     -> 202 {request-id}
    POST /jobs/<id>/stop        {targetDirectory, drain}           -> 202 {request-id}
    GET  /jobs/<id>/savepoints/<trigger-id>   {status{id}, operation{location|failure-cause}}
    POST /savepoint-disposal    {savepoint-path}                   -> 200 {request-id}
    GET  /savepoint-disposal/<trigger-id>     {status{id}, operation{} | {failure-cause}}

The JSON is made by pure functions of the statistics snapshot and the checkpoint settings
(``*_json``), unit-tested on their own; the handlers only find the job's coordinator, read
the snapshot it publishes (any thread may) and ask the JobMaster for savepoints through
``JobMaster.trigger_savepoint(target_directory, on_done)`` and for a stop through
``JobMaster.stop_with_savepoint(target_directory, drain, on_done)``, which run on its main
thread (a stop's operation completes once the job ended).
Savepoint operations are remembered per trigger id in a :class:`SavepointOperations`.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration
from flink_py.runtime.checkpoint.coordinator import CheckpointCoordinatorConfiguration
from flink_py.runtime.checkpoint.coordinator_protocol import SavepointCallback
from flink_py.runtime.checkpoint.statistics import (
    CheckpointStats, CheckpointStatsSnapshot, CheckpointStatsStatus, RestoredCheckpointStats,
    StatsSummary, TaskStateStats)
from flink_py.runtime.checkpoint.completed_checkpoint_store import shared_handles
from flink_py.runtime.checkpoint.metadata_serializer import CheckpointMetadataError
from flink_py.runtime.checkpoint.storage import (
    FILESYSTEM_STORAGE, CheckpointStorageError, JobManagerCheckpointStorageAccess,
    remove_directory, resolve_storage_name)
from flink_py.runtime.execution.errors import SerializedError
from flink_py.runtime.rest.handlers import Handler, RestHandlerError

log = logging.getLogger(__name__)

MasterLookup = Callable[[Dict[str, str]], Any]

_CLASS_NAMES = {CheckpointStatsStatus.COMPLETED: "completed",
                CheckpointStatsStatus.FAILED: "failed",
                CheckpointStatsStatus.IN_PROGRESS: "in_progress"}
_STATE_BACKEND_NAMES = {"hashmap": "HashMapStateBackend",
                        "rocksdb": "EmbeddedRocksDBStateBackend"}
_STORAGE_NAMES = {FILESYSTEM_STORAGE: "FileSystemCheckpointStorage",
                  "jobmanager": "JobManagerCheckpointStorage"}


# -- JSON shapes (pure) -----------------------------------------------------------------------


def stats_summary_json(summary: StatsSummary) -> Dict[str, Any]:
    """Flink's StatsSummaryDto."""
    return {"min": summary.min, "max": summary.max, "avg": summary.avg,
            "p50": summary.quantile(0.5), "p90": summary.quantile(0.9),
            "p95": summary.quantile(0.95), "p99": summary.quantile(0.99),
            "p999": summary.quantile(0.999)}


def _task_json(stats: CheckpointStats, task: TaskStateStats) -> Dict[str, Any]:
    latest_ack = task.latest_ack_timestamp
    return {
        "id": stats.checkpoint_id, "status": stats.status.name,
        "latest_ack_timestamp": latest_ack,
        "checkpointed_size": task.state_size, "state_size": task.state_size,
        "end_to_end_duration": max(0, latest_ack - stats.trigger_timestamp)
        if latest_ack >= 0 else 0,
        "alignment_buffered": 0, "processed_data": 0, "persisted_data": task.persisted_data,
        "num_subtasks": task.num_subtasks,
        "num_acknowledged_subtasks": task.num_acknowledged_subtasks}


def checkpoint_statistics_json(stats: CheckpointStats) -> Dict[str, Any]:
    """Flink's CheckpointStatistics (completed, failed or in progress) with its tasks."""
    body: Dict[str, Any] = {
        "className": _CLASS_NAMES[stats.status], "id": stats.checkpoint_id,
        "status": stats.status.name, "is_savepoint": stats.is_savepoint,
        "savepointFormat": "CANONICAL" if stats.is_savepoint else None,
        "trigger_timestamp": stats.trigger_timestamp,
        "latest_ack_timestamp": stats.latest_ack_timestamp,
        "checkpointed_size": stats.state_size, "state_size": stats.state_size,
        "end_to_end_duration": stats.end_to_end_duration, "alignment_buffered": 0,
        "processed_data": 0, "persisted_data": stats.persisted_data,
        "num_subtasks": stats.num_subtasks,
        "num_acknowledged_subtasks": stats.num_acknowledged_subtasks,
        "checkpoint_type": stats.checkpoint_type,
        "tasks": {vertex: _task_json(stats, task) for vertex, task in stats.tasks.items()},
    }
    if stats.status is CheckpointStatsStatus.COMPLETED:
        body["external_path"] = stats.external_path
        body["discarded"] = stats.discarded
    elif stats.status is CheckpointStatsStatus.FAILED:
        body["failure_timestamp"] = stats.failure_timestamp
        body["failure_message"] = stats.failure_message
    return body


def _restored_json(restored: Optional[RestoredCheckpointStats]) -> Optional[Dict[str, Any]]:
    if restored is None:
        return None
    return {"id": restored.checkpoint_id, "restore_timestamp": restored.restore_timestamp,
            "is_savepoint": restored.is_savepoint, "external_path": restored.external_path}


def checkpointing_statistics_json(snapshot: CheckpointStatsSnapshot) -> Dict[str, Any]:
    """Flink's CheckpointingStatistics: counts, summary, latest, history (newest first)."""
    counts = snapshot.counts
    state_size = stats_summary_json(snapshot.state_size_summary)
    zero = stats_summary_json(StatsSummary())
    return {
        "counts": {"restored": counts.restored, "total": counts.total,
                   "in_progress": counts.in_progress, "completed": counts.completed,
                   "failed": counts.failed},
        "summary": {"checkpointed_size": state_size, "state_size": state_size,
                    "end_to_end_duration": stats_summary_json(snapshot.duration_summary),
                    "alignment_buffered": zero, "processed_data": zero,
                    "persisted_data": stats_summary_json(snapshot.persisted_data_summary)},
        "latest": {
            "completed": None if snapshot.latest_completed is None
            else checkpoint_statistics_json(snapshot.latest_completed),
            "savepoint": None if snapshot.latest_savepoint is None
            else checkpoint_statistics_json(snapshot.latest_savepoint),
            "failed": None if snapshot.latest_failed is None
            else checkpoint_statistics_json(snapshot.latest_failed),
            "restored": _restored_json(snapshot.latest_restored)},
        "history": [checkpoint_statistics_json(stats) for stats in snapshot.history],
    }


def subtask_details_json(stats: CheckpointStats, vertex_id: str) -> Dict[str, Any]:
    """Flink's TaskCheckpointStatisticsWithSubtaskDetails: one vertex's subtasks."""
    task = stats.tasks.get(vertex_id)
    if task is None:
        raise RestHandlerError(404, f"There is no checkpoint statistics for task "
                                       f"{vertex_id}.")
    subtasks = []
    for index in range(task.num_subtasks):
        subtask = task.subtasks.get(index)
        if subtask is None:
            subtasks.append({"index": index, "status": "pending_or_failed"})
            continue
        subtasks.append({
            "index": index, "status": "completed", "ack_timestamp": subtask.ack_timestamp,
            "end_to_end_duration": max(0, subtask.ack_timestamp - stats.trigger_timestamp),
            "state_size": subtask.state_size, "checkpointed_size": subtask.state_size,
            "checkpoint": {"sync": subtask.sync_duration_ms, "async": subtask.async_duration_ms},
            "alignment": {"buffered": 0, "processed": 0, "persisted": subtask.persisted_data,
                          "duration": subtask.alignment_duration_ms},
            "start_delay": 0, "unaligned_checkpoint": subtask.unaligned, "aborted": False})
    sizes = StatsSummary(tuple(s.state_size for s in task.subtasks.values()))
    durations = StatsSummary(tuple(max(0, s.ack_timestamp - stats.trigger_timestamp)
                                   for s in task.subtasks.values()))
    body = _task_json(stats, task)
    body["summary"] = {"checkpointed_size": stats_summary_json(sizes),
                       "state_size": stats_summary_json(sizes),
                       "end_to_end_duration": stats_summary_json(durations)}
    body["subtasks"] = subtasks
    return body


def checkpoint_config_json(config: CheckpointCoordinatorConfiguration,
                           job_configuration: Configuration) -> Dict[str, Any]:
    """Flink's CheckpointConfigInfo of a job with periodic checkpoints."""
    retention = config.externalized_retention
    backend = (job_configuration.get(options.STATE_BACKEND) or "hashmap").lower()
    return {
        "mode": config.mode.name.lower(), "interval": config.interval_ms,
        "timeout": config.timeout_ms, "min_pause": config.min_pause_ms,
        "max_concurrent": config.max_concurrent,
        "externalization": {"enabled": retention != "NO_EXTERNALIZED_CHECKPOINTS",
                            "delete_on_cancellation": retention != "RETAIN_ON_CANCELLATION"},
        "state_backend": _STATE_BACKEND_NAMES.get(backend, backend),
        "checkpoint_storage": _STORAGE_NAMES[resolve_storage_name(job_configuration)],
        "unaligned_checkpoints": config.unaligned,
        "tolerable_failed_checkpoints": config.tolerable_failures,
        "aligned_checkpoint_timeout": 0, "checkpoints_after_tasks_finish": False,
        "state_changelog_enabled": False,
        "changelog_periodic_materialization_interval": 0, "changelog_storage": "memory",
    }


@dataclass
class SavepointOperation:
    """One savepoint request: in progress, or completed with a location or a failure."""

    job_id: str
    trigger_id: str
    location: Optional[str] = None
    failure: Optional[SerializedError] = None
    done: bool = False


def savepoint_status_json(operation: SavepointOperation) -> Dict[str, Any]:
    """Flink's AsynchronousOperationResult of a savepoint."""
    if not operation.done:
        return {"status": {"id": "IN_PROGRESS"}, "operation": None}
    if operation.failure is not None:
        failure = operation.failure
        exception_class = failure.message.split(":", 1)[0]
        return {"status": {"id": "COMPLETED"}, "operation": {"failure-cause": {
            "class": exception_class, "stack-trace": failure.traceback_text or failure.message,
            "message": failure.message}}}
    return {"status": {"id": "COMPLETED"}, "operation": {"location": operation.location}}


def _json_body(body: bytes) -> Dict[str, Any]:
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RestHandlerError(400, f"Request did not match expected format: the body is "
                                       f"not JSON ({exc}).") from None
    if not isinstance(parsed, dict):
        raise RestHandlerError(400, "Request did not match expected format: expected a "
                                       "JSON object.")
    return parsed


#: the savepoint formats flink_py writes (Flink's SavepointFormatType; NATIVE is not written)
SUPPORTED_FORMAT_TYPES = ("CANONICAL",)


def _check_format_type(request: Dict[str, Any]) -> None:
    """Flink's ``formatType``: only CANONICAL savepoints are written here; asking for NATIVE
    is an error rather than a savepoint of another format than asked for."""
    format_type = request.get("formatType")
    if format_type is None or str(format_type).upper() in SUPPORTED_FORMAT_TYPES:
        return
    raise RestHandlerError(400, f"Request did not match expected format: formatType "
                                f"{format_type!r} is not supported; flink_py writes "
                                f"savepoints in the CANONICAL format (restorable into either "
                                f"state backend, at any parallelism).")


def parse_savepoint_request(body: bytes) -> Tuple[Optional[str], bool, Optional[str]]:
    """``POST /savepoints``' body: (target-directory, cancel-job, triggerId)."""
    request = _json_body(body)
    _check_format_type(request)
    return (request.get("target-directory"), bool(request.get("cancel-job", False)),
            request.get("triggerId"))


def parse_stop_request(body: bytes) -> Tuple[Optional[str], bool, Optional[str]]:
    """``POST /stop``'s body (camelCase, as Flink's): (targetDirectory, drain, triggerId)."""
    request = _json_body(body)
    _check_format_type(request)
    return (request.get("targetDirectory"), bool(request.get("drain", False)),
            request.get("triggerId"))


# -- operations and handlers ------------------------------------------------------------------

#: the key of disposal operations in SavepointOperations (they belong to no job)
DISPOSAL_JOB = "savepoint-disposal"


def dispose_savepoint(pointer: str) -> str:
    """Deletes the savepoint or retained checkpoint at ``pointer`` (its directory or
    ``_metadata``): every state file its metadata names, then its directory.

    :raises CheckpointMetadataError: naming the path if it holds no readable ``_metadata``
        (nothing is deleted then).
    """
    resolved = JobManagerCheckpointStorageAccess("").resolve_checkpoint(pointer)
    for operator_state in resolved.metadata.operator_states:
        for subtask_state in operator_state.subtask_states.values():
            for handle in shared_handles(subtask_state):
                handle.discard_state()
            subtask_state.discard_state()
    remove_directory(resolved.external_pointer)
    log.info("Disposed savepoint %s", resolved.external_pointer)
    return resolved.external_pointer



class SavepointOperations:
    """Savepoint requests by (job id, trigger id); written by REST threads and by the
    JobMaster's main thread (the completion), hence the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._operations: Dict[Tuple[str, str], SavepointOperation] = {}

    def start(self, job_id: str, trigger_id: Optional[str]) -> SavepointOperation:
        trigger_id = trigger_id or secrets.token_hex(16)
        with self._lock:
            if (job_id, trigger_id) in self._operations:
                raise RestHandlerError(
                    409, f"An operation with triggerId {trigger_id} is already known for job "
                         f"{job_id}.")
            operation = SavepointOperation(job_id, trigger_id)
            self._operations[(job_id, trigger_id)] = operation
        return operation

    def complete(self, operation: SavepointOperation, location: Optional[str],
                 failure: Optional[SerializedError]) -> None:
        with self._lock:
            operation.location = location
            operation.failure = failure
            operation.done = True

    def get(self, job_id: str, trigger_id: str) -> SavepointOperation:
        with self._lock:
            operation = self._operations.get((job_id, trigger_id))
            if operation is None:
                raise RestHandlerError(
                    404, f"There is no savepoint operation with triggerId={trigger_id} for "
                         f"job {job_id}.")
            return SavepointOperation(operation.job_id, operation.trigger_id,
                                      operation.location, operation.failure, operation.done)


class CheckpointHandlers:
    """The endpoints; ``master_of(params)`` finds the JobMaster of ``params["jobid"]`` (and
    raises the REST layer's 400/404 errors)."""

    def __init__(self, master_of: MasterLookup, cluster_configuration: Configuration) -> None:
        self._master_of = master_of
        self._cluster_configuration = cluster_configuration
        self.savepoints = SavepointOperations()

    def routes(self) -> List[Tuple[str, str, Handler]]:
        return [
            ("GET", "/jobs/{jobid}/checkpoints", self.checkpoints),
            ("GET", "/jobs/{jobid}/checkpoints/config", self.checkpoint_config),
            ("GET", "/jobs/{jobid}/checkpoints/details/{checkpointid}",
             self.checkpoint_details),
            ("GET", "/jobs/{jobid}/checkpoints/details/{checkpointid}/subtasks/{vertexid}",
             self.checkpoint_subtask_details),
            ("POST", "/jobs/{jobid}/savepoints", self.trigger_savepoint),
            ("GET", "/jobs/{jobid}/savepoints/{triggerid}", self.savepoint_status),
            ("POST", "/jobs/{jobid}/stop", self.stop_with_savepoint),
            ("POST", "/savepoint-disposal", self.dispose_savepoint),
            ("GET", "/savepoint-disposal/{triggerid}", self.savepoint_disposal_status),
        ]

    # -- lookups ----------------------------------------------------------------------------

    def _coordinator(self, master: Any) -> Any:
        coordinator = getattr(master, "checkpoint_coordinator", None)
        if coordinator is None:
            raise RestHandlerError(404, "Checkpointing has not been enabled.")
        return coordinator

    def _job_configuration(self, master: Any) -> Configuration:
        merged = Configuration(self._cluster_configuration)
        graph = getattr(master, "job_graph", None)
        merged.add_all(Configuration(dict(getattr(graph, "job_configuration", {}) or {})))
        return merged

    def _checkpoint_stats(self, params: Dict[str, str]) -> CheckpointStats:
        snapshot = self._coordinator(self._master_of(params)).statistics_snapshot
        raw = params["checkpointid"]
        try:
            checkpoint_id = int(raw)
        except ValueError:
            raise RestHandlerError(
                400, f'Bad request, could not parse parameters: Cannot resolve path parameter '
                     f'(checkpointid) from value "{raw}".') from None
        stats = snapshot.get_checkpoint(checkpoint_id)
        if stats is None:
            raise RestHandlerError(404, f"Could not find checkpointing statistics for "
                                           f"checkpoint {checkpoint_id}.")
        return stats

    # -- statistics -------------------------------------------------------------------------

    def checkpoints(self, params: Dict[str, str], query: Dict[str, List[str]],
                    body: bytes) -> Tuple[int, Any]:
        coordinator = self._coordinator(self._master_of(params))
        return 200, checkpointing_statistics_json(coordinator.statistics_snapshot)

    def checkpoint_config(self, params: Dict[str, str], query: Dict[str, List[str]],
                          body: bytes) -> Tuple[int, Any]:
        master = self._master_of(params)
        coordinator = getattr(master, "checkpoint_coordinator", None)
        if coordinator is None or not coordinator.configuration.is_periodic:
            raise RestHandlerError(
                404, f"Checkpointing is not enabled for this job ({params['jobid'].lower()}).")
        return 200, checkpoint_config_json(coordinator.configuration,
                                           self._job_configuration(master))

    def checkpoint_details(self, params: Dict[str, str], query: Dict[str, List[str]],
                           body: bytes) -> Tuple[int, Any]:
        return 200, checkpoint_statistics_json(self._checkpoint_stats(params))

    def checkpoint_subtask_details(self, params: Dict[str, str], query: Dict[str, List[str]],
                                   body: bytes) -> Tuple[int, Any]:
        return 200, subtask_details_json(self._checkpoint_stats(params),
                                         params["vertexid"].lower())

    # -- savepoints -------------------------------------------------------------------------

    def _start_savepoint(self, master: Any, target_directory: Optional[str],
                         trigger_id: Optional[str],
                         then: Optional[Callable[[], None]] = None,
                         trigger: Optional[Callable[[Optional[str], SavepointCallback], None]]
                         = None) -> SavepointOperation:
        trigger = trigger or getattr(master, "trigger_savepoint", None)
        if trigger is None or getattr(master, "checkpoint_coordinator", None) is None:
            raise RestHandlerError(
                409, f"Job {master.job_id} cannot take savepoints: it has no checkpoint "
                     f"coordinator.")
        status = master.status
        if status.is_globally_terminal_state():
            raise RestHandlerError(
                409, f"Job {master.job_id} is {status.name}: savepoints need a running job.")
        operation = self.savepoints.start(master.job_id, trigger_id)

        def on_done(location: Optional[str], failure: Optional[SerializedError]) -> None:
            uri = f"file:{location}" if location else None
            self.savepoints.complete(operation, uri, failure)
            if failure is None and then is not None:
                then()

        trigger(target_directory, on_done)
        return operation

    def trigger_savepoint(self, params: Dict[str, str], query: Dict[str, List[str]],
                          body: bytes) -> Tuple[int, Any]:
        master = self._master_of(params)
        target, cancel_job, trigger_id = parse_savepoint_request(body)
        operation = self._start_savepoint(master, target, trigger_id,
                                          master.cancel if cancel_job else None)
        return 202, {"request-id": operation.trigger_id}

    def stop_with_savepoint(self, params: Dict[str, str], query: Dict[str, List[str]],
                            body: bytes) -> Tuple[int, Any]:
        """Flink's stop-with-savepoint: a synchronous savepoint, then the job FINISHES; the
        operation completes (``/jobs/<id>/savepoints/<trigger id>``) when the job ended."""
        master = self._master_of(params)
        target, drain, trigger_id = parse_stop_request(body)
        stop = getattr(master, "stop_with_savepoint", None)
        if stop is None:
            raise RestHandlerError(409, f"Job {master.job_id} cannot be stopped with a "
                                        f"savepoint.")
        operation = self._start_savepoint(
            master, target, trigger_id,
            trigger=lambda directory, on_done: stop(directory, drain, on_done))
        return 202, {"request-id": operation.trigger_id}

    def dispose_savepoint(self, params: Dict[str, str], query: Dict[str, List[str]],
                          body: bytes) -> Tuple[int, Any]:
        """Deletes a savepoint (or retained checkpoint) and its files. Done before the answer
        (a local delete is quick); the trigger id is for Flink's clients, which poll."""
        path = _json_body(body).get("savepoint-path")
        if not path:
            raise RestHandlerError(400, "Request did not match expected format: "
                                        "savepoint-path is missing.")
        operation = self.savepoints.start(DISPOSAL_JOB, None)
        try:
            dispose_savepoint(str(path))
        except (CheckpointMetadataError, CheckpointStorageError, OSError) as exc:
            self.savepoints.complete(operation, None, SerializedError.of(exc))
        else:
            self.savepoints.complete(operation, None, None)
        return 200, {"request-id": operation.trigger_id}

    def savepoint_disposal_status(self, params: Dict[str, str], query: Dict[str, List[str]],
                                  body: bytes) -> Tuple[int, Any]:
        operation = self.savepoints.get(DISPOSAL_JOB, params["triggerid"])
        answer = savepoint_status_json(operation)
        if operation.done and operation.failure is None:
            answer["operation"] = {}
        return 200, answer

    def savepoint_status(self, params: Dict[str, str], query: Dict[str, List[str]],
                         body: bytes) -> Tuple[int, Any]:
        master = self._master_of(params)
        return 200, savepoint_status_json(self.savepoints.get(master.job_id,
                                                              params["triggerid"]))
