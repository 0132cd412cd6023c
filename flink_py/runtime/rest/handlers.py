"""The REST API's handlers: Flink's REST API v1 JSON views of the Dispatcher, its JobMasters
and the ResourceManager, plus job submission and cancellation.

Field names and shapes are Flink's (``rest_v1_dispatcher.yml``); values we do not measure
(byte and record metrics, JVM memory) are 0. Each handler takes the path parameters, the
query parameters and the request body and returns ``(HTTP status, JSON value)``; errors are
:class:`RestHandlerError` with Flink's status codes and messages.

Job state is read from other threads than the JobMaster's: the JobMaster replaces the
values of its views (``task_states``, ``task_state_timestamps``, ...) instead of mutating
them, and every view here copies a dict before iterating it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import logging
import os
import pickle
import re
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import cloudpickle

import flink_py
from flink_py.common.configuration import Configuration, _is_sensitive
from flink_py.common.job_status import JobStatus
from flink_py.errors import FlinkPyError, UserFunctionError
from flink_py.graph.job_graph import JobGraph
from flink_py.runtime.dispatcher.dispatcher import (
    Dispatcher, DuplicateJobSubmissionError, UnknownJobError)
from flink_py.runtime.jobmaster.job_master import JobFailure, JobMaster
from flink_py.runtime.jobmaster.job_view import JobView, VertexView
from flink_py.runtime.resourcemanager.resource_manager import ResourceManager, TaskManagerInfo
from flink_py.runtime.execution.errors import SerializedError
from flink_py.runtime.execution.execution_state import ExecutionState

log = logging.getLogger(__name__)

#: What ``flink-version`` reports: the Flink version whose interfaces we mirror, tagged with
#: ours (tools that compare versions see a 2.0.0 pre-release).
FLINK_VERSION = f"2.0.0-flink_py-{flink_py.__version__}"
#: Flink's EnvironmentInformation.UNKNOWN_COMMIT_ID, when the commit cannot be found.
UNKNOWN_COMMIT_ID = "DecafC0ffeeD0d0F00d"
#: rest.server.max-content-length's default: the largest request body accepted (100 MiB).
MAX_CONTENT_LENGTH = 104_857_600

_JOB_ID = re.compile(r"^[0-9a-fA-F]{32}$")
_APPLICATION_STATUS = {JobStatus.FINISHED: "SUCCEEDED", JobStatus.FAILED: "FAILED",
                       JobStatus.CANCELED: "CANCELED"}
#: the ExecutionStates whose time a subtask's ``status-duration`` reports (Flink's)
_STATUS_DURATION_STATES = ("CREATED", "SCHEDULED", "DEPLOYING", "INITIALIZING", "RUNNING")

Handler = Callable[[Dict[str, str], Dict[str, List[str]], bytes], Tuple[int, Any]]


class RestHandlerError(FlinkPyError):
    """A request that ends in an error response: ``{"errors": [messages]}`` with ``status``."""

    def __init__(self, status: int, *messages: str) -> None:
        super().__init__(messages[0] if messages else str(status))
        self.status = status
        self.messages = list(messages)


@functools.lru_cache(maxsize=1)
def flink_commit() -> str:
    """The abbreviated git commit of this flink_py checkout, or Flink's unknown id."""
    git = Path(flink_py.__file__).resolve().parent.parent / ".git"
    try:
        if git.is_file():  # a worktree: "gitdir: <path>"
            git = Path(git.read_text().split(":", 1)[1].strip())
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head[:7]
        ref = head.split(":", 1)[1].strip()
        common = git / "commondir"
        base = (git / common.read_text().strip()).resolve() if common.is_file() else git
        for root in (git, base):
            if (root / ref).is_file():
                return (root / ref).read_text().strip()[:7]
            packed = root / "packed-refs"
            if packed.is_file():
                for line in packed.read_text().splitlines():
                    if line.endswith(" " + ref):
                        return line[:7]
    except (OSError, IndexError):
        pass
    return UNKNOWN_COMMIT_ID


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _qualified_name(cls: type) -> str:
    module = cls.__module__
    if module in ("builtins", "__main__"):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


@functools.lru_cache(maxsize=64)
def _exception_name(message: str, exception_bytes: Optional[bytes]) -> str:
    """The class of the user's exception (the one a UserFunctionError wraps) where known."""
    exc = SerializedError(message, "", exception_bytes).to_exception()
    if exc is not None:
        if isinstance(exc, UserFunctionError) and exc.__cause__ is not None:
            exc = exc.__cause__
        return _qualified_name(type(exc))
    # Its class does not load here (the user's code is not on this JobManager's path):
    # the message says "<Class>: ..." and a wrapper's says "... raised <Class>: ...".
    wrapped = re.search(r" raised ([\w.]+): ", message)
    if message.startswith("UserFunctionError:") and wrapped:
        return wrapped.group(1)
    prefix = message.split(":", 1)[0].strip()
    if re.fullmatch(r"[A-Za-z_][\w.]*", prefix):
        return prefix
    # a failure of the runtime itself (e.g. a lost TaskManager), described by a message only
    return _qualified_name(FlinkPyError)


def exception_name(error: SerializedError) -> str:
    return _exception_name(error.message, error.exception_bytes)


def aggregate_vertex_state(counts: Dict[str, int], parallelism: int) -> str:
    """Flink's ExecutionJobVertex.getAggregateJobVertexState."""
    if counts.get("FAILED"):
        return "FAILED"
    if counts.get("CANCELING"):
        return "CANCELING"
    if counts.get("CANCELED"):
        return "CANCELED"
    if counts.get("INITIALIZING"):
        return "INITIALIZING"
    if counts.get("RUNNING"):
        return "RUNNING"
    if counts.get("FINISHED"):
        return "FINISHED" if counts["FINISHED"] == parallelism else "RUNNING"
    return "CREATED"


def job_plan(job_graph: JobGraph) -> Dict[str, Any]:
    """The JobGraph's plan, as Flink's JsonPlanGenerator writes it (node ids are vertex ids)."""
    exchange = "blocking" if job_graph.runtime_mode == "BATCH" else "pipelined_bounded"
    nodes = []
    for vertex in job_graph.topological_vertices():
        node: Dict[str, Any] = {
            "id": str(vertex.id), "parallelism": vertex.parallelism, "operator": "",
            "operator_strategy": "", "description": vertex.name}
        if vertex.inputs:
            node["inputs"] = [{"num": i, "id": str(edge.source),
                               "ship_strategy": edge.ship_strategy, "exchange": exchange}
                              for i, edge in enumerate(vertex.inputs)]
        node["optimizer_properties"] = {}
        nodes.append(node)
    return {"jid": str(job_graph.job_id), "name": job_graph.job_name,
            "type": job_graph.runtime_mode, "nodes": nodes}


def _zero_metrics(complete: bool) -> Dict[str, Any]:
    return {"read-bytes": 0, "read-bytes-complete": complete,
            "write-bytes": 0, "write-bytes-complete": complete,
            "read-records": 0, "read-records-complete": complete,
            "write-records": 0, "write-records-complete": complete,
            "accumulated-backpressured-time": 0, "accumulated-idle-time": 0,
            "accumulated-busy-time": 0}


class RestHandlers:
    """The REST API's endpoints over one Dispatcher and ResourceManager."""

    def __init__(self, dispatcher: Dispatcher, resource_manager: ResourceManager,
                 configuration: Configuration) -> None:
        self.dispatcher = dispatcher
        self.resource_manager = resource_manager
        self.configuration = configuration
        # imported here: the checkpoint endpoints' module builds on this one
        from flink_py.runtime.rest.checkpoint_handlers import CheckpointHandlers
        self.checkpoint_handlers = CheckpointHandlers(self._master, configuration)

    def routes(self) -> List[Tuple[str, str, Handler]]:
        """``(method, path pattern, handler)``; ``{name}`` is a path parameter."""
        return [
            ("GET", "/config", self.dashboard_config),
            ("GET", "/overview", self.cluster_overview),
            ("GET", "/jobs", self.jobs),
            ("POST", "/jobs", self.submit_job),
            ("GET", "/jobs/overview", self.jobs_overview),
            ("GET", "/jobs/{jobid}", self.job_details),
            ("PATCH", "/jobs/{jobid}", self.cancel_job),
            ("GET", "/jobs/{jobid}/status", self.job_status),
            ("GET", "/jobs/{jobid}/exceptions", self.job_exceptions),
            ("GET", "/jobs/{jobid}/execution-result", self.job_execution_result),
            ("GET", "/jobs/{jobid}/plan", self.job_plan),
            ("GET", "/jobs/{jobid}/config", self.job_config),
            ("GET", "/jobs/{jobid}/vertices/{vertexid}", self.job_vertex_details),
            ("GET", "/jobs/{jobid}/collect/{collectid}", self.job_collect),
            ("GET", "/taskmanagers", self.task_managers),
            ("GET", "/taskmanagers/{taskmanagerid}", self.task_manager_details),
            ("GET", "/jobmanager/config", self.jobmanager_config),
            *self.checkpoint_handlers.routes(),
        ]

    # -- lookups ----------------------------------------------------------------------------

    def _master(self, params: Dict[str, str]) -> JobMaster:
        job_id = params["jobid"]
        if not _JOB_ID.match(job_id):
            raise RestHandlerError(
                400, f'Bad request, could not parse parameters: Cannot resolve path parameter '
                     f'(jobid) from value "{job_id}".')
        try:
            return self.dispatcher.job_master(job_id.lower())
        except UnknownJobError:
            raise RestHandlerError(404, f"Job {job_id.lower()} not found") from None

    def _task_manager_infos(self) -> Dict[str, TaskManagerInfo]:
        return {str(info.resource_id): info
                for info in self.resource_manager.task_manager_infos()}

    # -- cluster ----------------------------------------------------------------------------

    def dashboard_config(self, params: Dict[str, str], query: Dict[str, List[str]],
                         body: bytes) -> Tuple[int, Any]:
        local = time.localtime()
        refresh = self.configuration.get_string("web.refresh-interval", "3000")
        return 200, {
            "refresh-interval": int(refresh) if str(refresh).isdigit() else 3000,
            "timezone-name": time.tzname[local.tm_isdst > 0],
            "timezone-offset": -time.timezone * 1000,
            "flink-version": FLINK_VERSION,
            "flink-revision": f"{flink_commit()} @ unknown",
            "features": {"web-submit": False, "web-cancel": True, "web-rescale": False,
                         "web-history": False}}

    def cluster_overview(self, params: Dict[str, str], query: Dict[str, List[str]],
                         body: bytes) -> Tuple[int, Any]:
        counts = {"running": 0, "finished": 0, "cancelled": 0, "failed": 0}
        for master in self.dispatcher.list_jobs():
            status = master.status
            if status is JobStatus.FINISHED:
                counts["finished"] += 1
            elif status is JobStatus.CANCELED:
                counts["cancelled"] += 1
            elif status is JobStatus.FAILED:
                counts["failed"] += 1
            else:
                counts["running"] += 1
        return 200, {
            "taskmanagers": len(self.resource_manager.task_manager_infos()),
            "taskmanagers-blocked": 0,
            "slots-total": self.resource_manager.total_slots,
            "slots-available": self.resource_manager.free_slots,
            "slots-free-and-blocked": 0,
            "jobs-running": counts["running"], "jobs-finished": counts["finished"],
            "jobs-cancelled": counts["cancelled"], "jobs-failed": counts["failed"],
            "flink-version": FLINK_VERSION, "flink-commit": flink_commit()}

    def jobmanager_config(self, params: Dict[str, str], query: Dict[str, List[str]],
                          body: bytes) -> Tuple[int, Any]:
        values = self.configuration.to_dict()
        return 200, [{"key": key, "value": "******" if _is_sensitive(key) else value}
                     for key, value in sorted(values.items())]

    def task_managers(self, params: Dict[str, str], query: Dict[str, List[str]],
                      body: bytes) -> Tuple[int, Any]:
        return 200, {"taskmanagers": [self._task_manager_view(info) for info in
                                      self.resource_manager.task_manager_infos()]}

    def task_manager_details(self, params: Dict[str, str], query: Dict[str, List[str]],
                             body: bytes) -> Tuple[int, Any]:
        tm_id = params["taskmanagerid"]
        info = self._task_manager_infos().get(tm_id)
        if info is None:
            raise RestHandlerError(404, f"Could not find TaskManager {tm_id}.")
        view = self._task_manager_view(info)
        view["allocatedSlots"] = [
            {"jobId": a.job_id, "resource": _resource_profile(1, 0)}
            for a in self.resource_manager.allocations_of(info.resource_id)]
        view["metrics"] = {}
        return 200, view

    def _task_manager_view(self, info: TaskManagerInfo) -> Dict[str, Any]:
        hardware = dict(info.hardware) or _this_host_hardware()
        return {
            "id": str(info.resource_id),
            "path": f"grpc://{info.address}" if info.address else f"local://{info.resource_id}",
            "dataPort": info.data_port,
            "jmxPort": -1,
            "timeSinceLastHeartbeat": info.last_heartbeat_ms,
            "slotsNumber": info.num_slots,
            "freeSlots": info.free_slots,
            "totalResource": _resource_profile(info.num_slots, hardware.get("managedMemory", 0)),
            "freeResource": _resource_profile(info.free_slots, 0),
            "hardware": {"cpuCores": hardware.get("cpuCores", 0),
                         "physicalMemory": hardware.get("physicalMemory", 0),
                         "freeMemory": hardware.get("freeMemory", 0),
                         "managedMemory": hardware.get("managedMemory", 0)},
            "memoryConfiguration": {
                key: 0 for key in ("frameworkHeap", "taskHeap", "frameworkOffHeap",
                                   "taskOffHeap", "networkMemory", "managedMemory",
                                   "jvmMetaspace", "jvmOverhead", "totalFlinkMemory",
                                   "totalProcessMemory")},
            "blocked": False,
        }

    # -- jobs -------------------------------------------------------------------------------

    def jobs(self, params: Dict[str, str], query: Dict[str, List[str]],
             body: bytes) -> Tuple[int, Any]:
        return 200, {"jobs": [{"id": m.job_id, "status": m.status.name}
                              for m in self.dispatcher.list_jobs()]}

    def jobs_overview(self, params: Dict[str, str], query: Dict[str, List[str]],
                      body: bytes) -> Tuple[int, Any]:
        now = _now_ms()
        return 200, {"jobs": [self._job_overview(m, now) for m in self.dispatcher.list_jobs()]}

    def _job_overview(self, master: JobMaster, now: int) -> Dict[str, Any]:
        view = master.view()
        counts = view.task_state_counts()
        tasks = {state.lower(): n for state, n in counts.items()}
        tasks["total"] = sum(counts.values())
        times = self._job_times(view, now)
        return {"jid": master.job_id, "name": master.job_name, "start-time": times["start-time"],
                "end-time": times["end-time"], "duration": times["duration"],
                "state": view.status.name,
                "last-modification": max(view.status_timestamps.values()),
                "tasks": tasks}

    @staticmethod
    def _job_times(view: JobView, now: int) -> Dict[str, int]:
        start, end = view.start_time_ms, view.end_time_ms
        return {"start-time": start, "end-time": end,
                "duration": (end if end >= 0 else now) - start}

    def job_details(self, params: Dict[str, str], query: Dict[str, List[str]],
                    body: bytes) -> Tuple[int, Any]:
        master = self._master(params)
        view = master.view()
        now = _now_ms()
        reached = view.status_timestamps
        vertices = [self._vertex_overview(vertex, now) for vertex in view.vertices]
        status_counts = {state.name: 0 for state in ExecutionState}
        for vertex in vertices:
            status_counts[vertex["status"]] += 1
        graph = master.job_graph
        waiting = self._waiting_for_resources(view)
        return 200, {
            **waiting,
            "jid": master.job_id, "name": master.job_name, "isStoppable": False,
            "state": view.status.name, "job-type": graph.runtime_mode,
            **self._job_times(view, now),
            "maxParallelism": max((v.max_parallelism for v in graph.vertices.values()),
                                  default=-1),
            "now": now,
            "timestamps": {status.name: reached.get(status.name, 0) for status in JobStatus},
            "vertices": vertices,
            "status-counts": status_counts,
            "plan": job_plan(graph)}

    def _waiting_for_resources(self, view: JobView) -> Dict[str, Any]:
        """flink_py's extra key of job details while a job that never ran waits for its
        slots (Flink shows only the CREATED state): how many, how many there are, until
        when; empty once the job has them."""
        waiting = view.waiting_for_slots
        if waiting is None:
            return {}
        available = self.resource_manager.free_slots
        total = self.resource_manager.total_slots
        return {"waiting-for-resources": {
            "required-slots": waiting.required_slots, "available-slots": available,
            "total-slots": total, "timeout-at": waiting.timeout_at_ms,
            "message": f"waiting for {waiting.required_slots} slots, {available} available "
                       f"(of {total}); the job fails if it has not got them by "
                       f"slot.request.timeout ({waiting.slot_request_timeout_ms} ms)"}}

    def _vertex_overview(self, vertex_view: VertexView, now: int) -> Dict[str, Any]:
        counts = {state.name: 0 for state in ExecutionState}
        start, end, all_terminal = None, -1, True
        for subtask in vertex_view.subtasks:
            state = subtask.state
            counts[state.name] += 1
            reached = subtask.state_timestamps
            deployed = reached.get("DEPLOYING", 0)
            if deployed > 0:
                start = deployed if start is None else min(start, deployed)
            all_terminal &= state.is_terminal
            end = max(end, reached.get(state.name, -1))
        start_ms = start if start is not None else -1
        if all_terminal:
            duration = end - start_ms if start_ms > 0 else -1
        else:
            end = -1
            duration = now - start_ms if start_ms > 0 else -1
        vertex = vertex_view.job_vertex
        status = aggregate_vertex_state(counts, vertex.parallelism)
        return {"id": str(vertex.id), "slotSharingGroupId": vertex.slot_sharing_group,
                "name": vertex.name, "maxParallelism": vertex.max_parallelism,
                "parallelism": vertex.parallelism, "status": status,
                "start-time": start_ms, "end-time": end, "duration": duration,
                "tasks": counts, "metrics": _zero_metrics(all_terminal)}

    def job_vertex_details(self, params: Dict[str, str], query: Dict[str, List[str]],
                           body: bytes) -> Tuple[int, Any]:
        master = self._master(params)
        vertex_view = next((v for v in master.view().vertices
                            if str(v.job_vertex.id) == params["vertexid"]), None)
        if vertex_view is None:
            raise RestHandlerError(
                404, f"Vertex {params['vertexid']} not found in job {master.job_id}")
        now = _now_ms()
        task_managers = self._task_manager_infos()
        subtasks = []
        for subtask in vertex_view.subtasks:
            state = subtask.state
            reached = dict(subtask.state_timestamps)
            start = reached.get("DEPLOYING", -1)
            end = reached.get(state.name, -1) if state.is_terminal else -1
            duration = ((end if end > 0 else now) - start) if start > 0 else -1
            allocation = subtask.location
            tm_id, host, endpoint = "(unassigned)", "(unassigned)", "(unassigned)"
            if allocation is not None:
                tm_id = str(allocation.resource_id)
                info = task_managers.get(tm_id)
                host = (info.host if info is not None else "") or "localhost"
                endpoint = allocation.data_address or (
                    f"{host}:{info.data_port}" if info is not None else host)
            subtasks.append({
                "subtask": subtask.subtask_index, "status": state.name,
                "attempt": subtask.attempt_number, "host": host, "endpoint": endpoint,
                "start-time": start, "end-time": end, "duration": duration,
                "metrics": _zero_metrics(state.is_terminal), "taskmanager-id": tm_id,
                "status-duration": _status_durations(reached, now)})
        vertex = vertex_view.job_vertex
        return 200, {"id": str(vertex.id), "name": vertex.name,
                     "parallelism": vertex.parallelism,
                     "maxParallelism": vertex.max_parallelism, "now": now,
                     "subtasks": subtasks}

    def job_collect(self, params: Dict[str, str], query: Dict[str, List[str]],
                    body: bytes) -> Tuple[int, Any]:
        """flink_py's endpoint behind ``execute_and_collect`` on a cluster: the next batch of a
        collect sink (waiting up to ``?timeout=`` seconds, at most 5), base64 of a pickled
        list, or ``null``; ``ended`` once the sink's input ended and nothing is left."""
        master = self._master(params)
        try:
            timeout = min(5.0, max(0.0, float(query.get("timeout", ["1"])[0])))
        except ValueError:
            return 400, {"errors": [f"timeout must be a number of seconds, got "
                                    f"{query.get('timeout')}"]}
        batch, ended = master.collect.buffer(params["collectid"]).take(timeout)
        return 200, {"batch": None if batch is None else base64.b64encode(
            pickle.dumps(batch, protocol=5)).decode("ascii"), "ended": ended}

    def job_status(self, params: Dict[str, str], query: Dict[str, List[str]],
                   body: bytes) -> Tuple[int, Any]:
        return 200, {"status": self._master(params).status.name}

    def job_plan(self, params: Dict[str, str], query: Dict[str, List[str]],
                 body: bytes) -> Tuple[int, Any]:
        return 200, {"plan": job_plan(self._master(params).job_graph)}

    def job_config(self, params: Dict[str, str], query: Dict[str, List[str]],
                   body: bytes) -> Tuple[int, Any]:
        master = self._master(params)
        graph = master.job_graph
        return 200, {
            "jid": master.job_id, "name": master.job_name,
            "execution-config": {
                "execution-mode": "PIPELINED",
                "restart-strategy": str(master.restart_strategy),
                # the JobGraph keeps per-vertex parallelism only: the largest is the job's
                "job-parallelism": max((v.parallelism for v in graph.vertices.values()),
                                       default=1),
                "object-reuse-mode": False,
                "user-config": dict(graph.job_parameters)}}

    def job_exceptions(self, params: Dict[str, str], query: Dict[str, List[str]],
                       body: bytes) -> Tuple[int, Any]:
        """Flink's exception history: every failure, newest first, kept across restarts;
        the root exception is the newest one."""
        view = self._master(params).view()
        history = list(view.exception_history)
        if view.failure is not None and view.failure not in history:
            history.append(view.failure)  # a job-level failure no task reported
        if not history:
            return 200, {"root-exception": None, "timestamp": None, "all-exceptions": [],
                         "truncated": False,
                         "exceptionHistory": {"entries": [], "truncated": False}}
        max_exceptions = _int_query(query, "maxExceptions", 20)
        newest_first = sorted(history, key=lambda f: f.timestamp_ms, reverse=True)
        entries, all_exceptions = [], []
        for failure in newest_first[:max(max_exceptions, 0)]:
            task_name = None if failure.task_name.startswith("(") else failure.task_name
            tm_id = failure.location or None
            location = self._failure_endpoint(failure)
            stacktrace = failure.error.traceback_text or failure.error.message
            entries.append({"exceptionName": exception_name(failure.error),
                            "stacktrace": stacktrace, "timestamp": failure.timestamp_ms,
                            "taskName": task_name, "location": location, "endpoint": location,
                            "taskManagerId": tm_id, "failureLabels": {},
                            "concurrentExceptions": []})
            if task_name:
                all_exceptions.append({"exception": stacktrace, "task": task_name,
                                       "location": location, "endpoint": location,
                                       "timestamp": failure.timestamp_ms,
                                       "taskManagerId": tm_id})
        root = newest_first[0]
        return 200, {"root-exception": root.error.traceback_text or root.error.message,
                     "timestamp": root.timestamp_ms,
                     "all-exceptions": all_exceptions,
                     "truncated": len(newest_first) > len(entries),
                     "exceptionHistory": {"entries": entries,
                                          "truncated": len(newest_first) > len(entries)}}

    def _failure_endpoint(self, failure: JobFailure) -> Optional[str]:
        """``host:dataPort`` of the TaskManager a failure happened on (its id if unknown)."""
        if not failure.location:
            return None
        info = self._task_manager_infos().get(failure.location)
        if info is None:
            return failure.location
        return f"{info.host or 'localhost'}:{info.data_port}"

    def job_execution_result(self, params: Dict[str, str], query: Dict[str, List[str]],
                             body: bytes) -> Tuple[int, Any]:
        master = self._master(params)
        if not master.is_terminal:
            return 200, {"status": {"id": "IN_PROGRESS"}}
        result: Dict[str, Any] = {
            "id": master.job_id,
            "application-status": _APPLICATION_STATUS.get(master.status, "UNKNOWN"),
            "accumulator-results": {},
            "net-runtime": master.end_time_ms - master.start_time_ms}
        failure = master.failure
        if failure is not None and master.status is not JobStatus.FINISHED:
            result["failure-cause"] = {
                "class": exception_name(failure.error),
                "stack-trace": failure.error.traceback_text or failure.error.message,
                # our pickled SerializedError: the client rebuilds the user's exception
                "serialized-throwable": base64.b64encode(
                    pickle.dumps(failure.error)).decode("ascii")}
        return 200, {"status": {"id": "COMPLETED"}, "job-execution-result": result}

    # -- job submission and cancellation ------------------------------------------------------

    def submit_job(self, params: Dict[str, str], query: Dict[str, List[str]],
                   body: bytes) -> Tuple[int, Any]:
        """``POST /jobs`` with ``{"jobGraph": "<base64 of the cloudpickled JobGraph>"}``.

        Flink's body is multipart (a serialized JobGraph file plus jars); ours is one JSON
        document, the user's code riding in ``JobGraph.user_artifacts``.
        """
        try:
            request = json.loads(body.decode("utf-8"))
            encoded = request["jobGraph"]
            job_graph = cloudpickle.loads(base64.b64decode(encoded, validate=True))
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise RestHandlerError(
                400, "Request did not match expected format JobSubmitRequestBody.",
                f'expected {{"jobGraph": "<base64 of a cloudpickled JobGraph>"}}: '
                f"{type(exc).__name__}: {exc}") from None
        except Exception as exc:  # unpickling runs arbitrary code: any error is the body's
            raise RestHandlerError(400, "Could not deserialize the JobGraph.",
                                   f"{type(exc).__name__}: {exc}") from None
        if not isinstance(job_graph, JobGraph):
            raise RestHandlerError(
                400, f"Could not deserialize the JobGraph: the request holds a "
                     f"{type(job_graph).__name__}, expected a JobGraph.")
        job_id = str(job_graph.job_id)
        # The client chose the job id and retries a submission it got no answer to: the
        # same bytes again are the same submission (answered as the first was), other bytes
        # under a known id a conflict.
        digest = hashlib.sha256(encoded.encode("ascii", "replace")).hexdigest()
        try:
            job_id = self.dispatcher.submit_job(job_graph, submission_digest=digest)
        except DuplicateJobSubmissionError as exc:
            log.warning("Refused the submission of job %s (%s): %s", job_id,
                        job_graph.job_name, exc)
            raise RestHandlerError(409, "Job has already been submitted.", str(exc)) from None
        except FlinkPyError as exc:
            log.warning("Submission of job %s failed: %s", job_id, exc)
            raise RestHandlerError(500, "Job submission failed.",
                                   f"{type(exc).__name__}: {exc}") from None
        log.info("Submitted job %s (%s) over REST", job_id, job_graph.job_name)
        return 202, {"jobUrl": f"/jobs/{job_id}"}

    def cancel_job(self, params: Dict[str, str], query: Dict[str, List[str]],
                   body: bytes) -> Tuple[int, Any]:
        master = self._master(params)
        mode = (query.get("mode") or ["cancel"])[-1].lower()
        if mode == "stop":
            raise RestHandlerError(
                400, 'The termination mode "stop" has been removed. For an ungraceful '
                     'shutdown, please use "cancel" instead. For a graceful shutdown, please '
                     'use "jobs/:jobId/stop" instead.')
        if mode != "cancel":
            raise RestHandlerError(
                400, f"Bad request, could not parse parameters: Cannot resolve query "
                     f"parameter (mode) from value \"{mode}\".")
        status = master.status
        if status.is_globally_terminal_state() and status is not JobStatus.CANCELED:
            raise RestHandlerError(
                409, f"Job cancellation failed because the job has already reached another "
                     f"terminal state ({status.name}).")
        master.cancel()
        return 202, {}


def _int_query(query: Dict[str, List[str]], name: str, default: int) -> int:
    values = query.get(name)
    if not values:
        return default
    try:
        return int(values[-1])
    except ValueError:
        raise RestHandlerError(
            400, f"Bad request, could not parse parameters: Cannot resolve query parameter "
                 f"({name}) from value \"{values[-1]}\".") from None


def _status_durations(reached: Dict[str, int], now: int) -> Dict[str, int]:
    """How long a subtask spent in each early state (0 if it never was in it)."""
    order = sorted(reached.items(), key=lambda item: item[1])
    durations = {state: 0 for state in _STATUS_DURATION_STATES}
    for i, (state, since) in enumerate(order):
        if state in durations:
            until = order[i + 1][1] if i + 1 < len(order) else now
            durations[state] = max(0, until - since)
    return durations


def _resource_profile(cpu_cores: float, managed_memory: int) -> Dict[str, Any]:
    return {"cpuCores": cpu_cores, "taskHeapMemory": 0, "taskOffHeapMemory": 0,
            "managedMemory": managed_memory, "networkMemory": 0, "extendedResources": {}}


@functools.lru_cache(maxsize=1)
def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def _this_host_hardware() -> Dict[str, int]:
    """The hardware of an in-process TaskManager (it registered none): this host's."""
    try:
        free = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        free = 0
    return {"cpuCores": os.cpu_count() or 0, "physicalMemory": _physical_memory(),
            "freeMemory": free, "managedMemory": 0}
