"""The REST API (Flink's v1 paths and JSON shapes) on an in-process MiniCluster, and the
RestClusterClient and RemoteExecutor that use it.

Jobs are built with the DataStream API and submitted through ``POST /jobs``; their user
functions are module-level (pickled by reference), since the MiniCluster runs them in this
process.
"""

from __future__ import annotations

import base64
import json
import pickle
import threading
import urllib.error
import urllib.request
from typing import Any, Dict, Iterator, Optional, Tuple

import cloudpickle
import pytest

from flink_py.client.remote_executor import DetachedJobExecutionResult, RemoteExecutor
from flink_py.client.rest_cluster_client import (
    ClusterUnreachableError, JobNotFoundError, RestClientError, RestClusterClient)
from flink_py.common.configuration import Configuration
from flink_py.common.job_status import JobStatus
from flink_py.datastream import SinkFunction, SourceFunction, StreamExecutionEnvironment
from flink_py.errors import FlinkPyError, InvalidProgramError, JobCancellationError, \
    JobExecutionError
from flink_py.graph.job_graph import JobGraph
from flink_py.runtime.minicluster import MiniCluster
from flink_py.runtime.rest import RestServer
from flink_py.runtime.rest.handlers import FLINK_VERSION
from flink_py.runtime.execution.errors import SerializedError
from flink_py.testing.poll import wait_until
from flink_py.testing.process_cluster import free_port

DEADLINE_S = 10.0
SLOTS = 8
#: the REST token of these tests' servers (rest.authentication.token)
TOKEN = "test-rest-token-0123456789"
EXECUTION_STATES = ["CREATED", "SCHEDULED", "DEPLOYING", "RUNNING", "FINISHED", "CANCELING",
                    "CANCELED", "FAILED", "RECONCILING", "INITIALIZING"]


# -- user functions ----------------------------------------------------------------------------


class UserBoom(Exception):
    """The user's own exception type."""


def fail_on_three(value: int) -> int:
    if value == 3:
        raise UserBoom(f"cannot handle record {value}")
    return value


def plus_one(value: int) -> int:
    return value + 1


def key_of(value: int) -> int:
    return value % 2


class DiscardingSink(SinkFunction):
    def invoke(self, value: Any, context: Any) -> None:
        pass


class UntilCancelledSource(SourceFunction):
    """Emits 0, 1, 2, ... every few ms until cancelled."""

    def open(self, runtime_context: Any) -> None:
        self._stop = threading.Event()

    def run(self, ctx: Any) -> None:
        i = 0
        while not self._stop.is_set():
            ctx.collect(i)
            i += 1
            self._stop.wait(0.005)

    def cancel(self) -> None:
        self._stop.set()


def bounded_job(name: str = "bounded job") -> JobGraph:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.from_collection(list(range(20))).map(plus_one).key_by(key_of).map(plus_one) \
        .add_sink(DiscardingSink())
    return env.get_job_graph(name)


def failing_job(name: str = "failing job") -> JobGraph:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)  # local environments default to the cores
    env.from_collection([1, 2, 3, 4]).map(fail_on_three).add_sink(DiscardingSink())
    return env.get_job_graph(name)


def unbounded_job(name: str = "unbounded job") -> JobGraph:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)  # local environments default to the cores
    env.add_source(UntilCancelledSource()).map(plus_one).add_sink(DiscardingSink())
    return env.get_job_graph(name)


# -- the cluster and HTTP ------------------------------------------------------------------------


class Rest:
    """A MiniCluster with a RestServer, and plain HTTP requests to it."""

    def __init__(self, cluster: MiniCluster, server: RestServer) -> None:
        self.cluster = cluster
        self.server = server
        self.address = f"127.0.0.1:{server.port}"
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def request(self, method: str, path: str, body: Optional[bytes] = None) -> Tuple[int, Any]:
        """A request as the flink client sends it: with the token, and JSON bodies typed."""
        headers = {"Authorization": f"Bearer {TOKEN}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(f"http://{self.address}{path}", data=body,
                                         method=method, headers=headers)
        try:
            with self._opener.open(request, timeout=DEADLINE_S) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, json.loads(exc.read())

    def get(self, path: str) -> Any:
        status, answer = self.request("GET", path)
        assert status == 200, (path, status, answer)
        return answer

    def submit(self, job_graph: JobGraph) -> str:
        body = json.dumps({"jobGraph": base64.b64encode(
            cloudpickle.dumps(job_graph)).decode("ascii")}).encode()
        status, answer = self.request("POST", "/jobs", body)
        assert status == 202, answer
        assert answer == {"jobUrl": f"/jobs/{job_graph.job_id}"}
        return str(job_graph.job_id)

    def wait_result(self, job_id: str) -> Dict[str, Any]:
        answer = wait_until(lambda: self._completed(job_id), f"the end of job {job_id}")
        return answer

    def _completed(self, job_id: str) -> Optional[Dict[str, Any]]:
        answer = self.get(f"/jobs/{job_id}/execution-result")
        if answer["status"]["id"] == "IN_PROGRESS":
            assert answer == {"status": {"id": "IN_PROGRESS"}}
            return None
        assert answer["status"] == {"id": "COMPLETED"}
        return answer["job-execution-result"]


@pytest.fixture
def rest(no_leaked_threads: None) -> Iterator[Rest]:
    cluster = MiniCluster(1, SLOTS)
    configuration = Configuration({"rest.port": "0", "s3.secret-key": "hush",
                                   "rest.authentication.token": TOKEN,
                                   "parallelism.default": "1"})
    server = RestServer(cluster.dispatcher, cluster.resource_manager, configuration,
                        "127.0.0.1", 0)
    server.start()
    try:
        yield Rest(cluster, server)
    finally:
        server.stop()
        cluster.close()


def task_manager_id(rest: Rest) -> str:
    return str(rest.cluster.task_executors[0].resource_id)


# -- cluster views -------------------------------------------------------------------------------


def test_config_and_overview(rest: Rest) -> None:
    config = rest.get("/config")
    assert set(config) == {"refresh-interval", "timezone-name", "timezone-offset",
                           "flink-version", "flink-revision", "features"}
    assert config["flink-version"] == FLINK_VERSION
    assert FLINK_VERSION.startswith("2.0.0-flink_py-")
    assert set(config["features"]) == {"web-submit", "web-cancel", "web-rescale",
                                       "web-history"}
    overview = rest.get("/overview")
    assert overview == {
        "taskmanagers": 1, "taskmanagers-blocked": 0, "slots-total": SLOTS,
        "slots-available": SLOTS, "slots-free-and-blocked": 0, "jobs-running": 0,
        "jobs-finished": 0, "jobs-cancelled": 0, "jobs-failed": 0,
        "flink-version": FLINK_VERSION, "flink-commit": overview["flink-commit"]}
    assert rest.get("/v1/overview") == rest.get("/overview")


def test_taskmanagers_and_jobmanager_config(rest: Rest) -> None:
    [tm] = rest.get("/taskmanagers")["taskmanagers"]
    assert tm["id"] == task_manager_id(rest)
    assert tm["slotsNumber"] == SLOTS and tm["freeSlots"] == SLOTS
    assert isinstance(tm["path"], str) and isinstance(tm["dataPort"], int)
    assert tm["timeSinceLastHeartbeat"] > 0
    assert set(tm["hardware"]) == {"cpuCores", "physicalMemory", "freeMemory",
                                   "managedMemory"}
    assert tm["hardware"]["cpuCores"] >= 1
    for key in ("totalResource", "freeResource", "memoryConfiguration", "blocked", "jmxPort"):
        assert key in tm
    details = rest.get(f"/taskmanagers/{tm['id']}")
    assert details["id"] == tm["id"] and details["allocatedSlots"] == []
    config = rest.get("/jobmanager/config")
    assert {"key": "parallelism.default", "value": "1"} in config
    assert {"key": "s3.secret-key", "value": "******"} in config
    assert all(set(entry) == {"key", "value"} for entry in config)


# -- a finished job ------------------------------------------------------------------------------


def test_a_finished_job_in_every_view(rest: Rest) -> None:
    job_graph = bounded_job("views")
    job_id = rest.submit(job_graph)
    result = rest.wait_result(job_id)
    assert result["id"] == job_id
    assert result["application-status"] == "SUCCEEDED"
    assert result["accumulator-results"] == {}
    assert isinstance(result["net-runtime"], int) and result["net-runtime"] >= 0
    assert "failure-cause" not in result

    assert rest.get("/jobs") == {"jobs": [{"id": job_id, "status": "FINISHED"}]}
    [overview] = rest.get("/jobs/overview")["jobs"]
    assert set(overview) == {"jid", "name", "start-time", "end-time", "duration", "state",
                             "last-modification", "tasks"}
    assert (overview["jid"], overview["name"], overview["state"]) == (job_id, "views",
                                                                      "FINISHED")
    assert overview["duration"] == overview["end-time"] - overview["start-time"]
    assert set(overview["tasks"]) == {s.lower() for s in EXECUTION_STATES} | {"total"}
    assert overview["tasks"]["total"] == overview["tasks"]["finished"] == 5  # 1 + 2 + 2

    details = rest.get(f"/jobs/{job_id}")
    assert details["jid"] == job_id and details["name"] == "views"
    assert details["state"] == "FINISHED" and details["isStoppable"] is False
    assert details["end-time"] >= details["start-time"] > 0
    assert set(details["timestamps"]) == {s.name for s in JobStatus}
    assert details["timestamps"]["FINISHED"] >= details["timestamps"]["RUNNING"] > 0
    assert details["timestamps"]["FAILED"] == 0
    vertex_ids = [str(v.id) for v in job_graph.topological_vertices()]
    assert [v["id"] for v in details["vertices"]] == vertex_ids
    for vertex, job_vertex in zip(details["vertices"], job_graph.topological_vertices()):
        assert vertex["name"] == job_vertex.name
        assert vertex["parallelism"] == job_vertex.parallelism
        assert vertex["maxParallelism"] == job_vertex.max_parallelism
        assert vertex["status"] == "FINISHED"
        assert set(vertex["tasks"]) == set(EXECUTION_STATES)
        assert vertex["tasks"]["FINISHED"] == job_vertex.parallelism
        assert vertex["end-time"] >= vertex["start-time"] > 0
        assert vertex["duration"] == vertex["end-time"] - vertex["start-time"]
        assert vertex["metrics"]["read-records-complete"] is True
    assert details["status-counts"]["FINISHED"] == len(vertex_ids)
    plan = details["plan"]
    assert (plan["jid"], plan["name"], plan["type"]) == (job_id, "views", "STREAMING")
    assert [n["id"] for n in plan["nodes"]] == vertex_ids
    assert plan["nodes"][1]["inputs"] == [{"num": 0, "id": vertex_ids[0],
                                          "ship_strategy": "REBALANCE",
                                          "exchange": "pipelined_bounded"}]
    assert rest.get(f"/jobs/{job_id}/plan") == {"plan": plan}
    assert rest.get(f"/jobs/{job_id}/status") == {"status": "FINISHED"}
    assert rest.get(f"/v1/jobs/{job_id}/status") == {"status": "FINISHED"}
    config = rest.get(f"/jobs/{job_id}/config")
    assert config["jid"] == job_id and config["name"] == "views"
    assert config["execution-config"]["job-parallelism"] == 2
    assert config["execution-config"]["user-config"] == {}
    assert rest.get(f"/jobs/{job_id}/exceptions") == {
        "root-exception": None, "timestamp": None, "all-exceptions": [], "truncated": False,
        "exceptionHistory": {"entries": [], "truncated": False}}

    subtasks = rest.get(f"/jobs/{job_id}/vertices/{vertex_ids[1]}")
    assert subtasks["id"] == vertex_ids[1] and subtasks["parallelism"] == 2
    assert [s["subtask"] for s in subtasks["subtasks"]] == [0, 1]
    for subtask in subtasks["subtasks"]:
        assert subtask["status"] == "FINISHED" and subtask["attempt"] == 0
        assert subtask["taskmanager-id"] == task_manager_id(rest)
        assert subtask["host"] == "localhost"
        assert subtask["end-time"] >= subtask["start-time"] > 0
        assert set(subtask["status-duration"]) == {"CREATED", "SCHEDULED", "DEPLOYING",
                                                   "INITIALIZING", "RUNNING"}

    overview = rest.get("/overview")
    assert (overview["jobs-finished"], overview["jobs-running"]) == (1, 0)
    assert overview["slots-available"] == SLOTS


# -- cancellation --------------------------------------------------------------------------------


def test_cancel_an_unbounded_job_with_patch(rest: Rest) -> None:
    job_id = rest.submit(unbounded_job())
    wait_until(lambda: rest.get(f"/jobs/{job_id}")["vertices"][0]["status"] == "RUNNING",
               "a running source")
    assert rest.get(f"/jobs/{job_id}/status") == {"status": "RUNNING"}
    assert rest.get(f"/jobs/{job_id}/execution-result") == {"status": {"id": "IN_PROGRESS"}}
    details = rest.get(f"/jobs/{job_id}")
    assert details["end-time"] == -1 and details["duration"] >= 0
    assert rest.get("/overview")["jobs-running"] == 1
    assert rest.get("/overview")["slots-available"] == SLOTS - 1

    assert rest.request("PATCH", f"/jobs/{job_id}?mode=cancel") == (202, {})
    result = rest.wait_result(job_id)
    assert result["application-status"] == "CANCELED"
    assert rest.get(f"/jobs/{job_id}/status") == {"status": "CANCELED"}
    assert rest.get("/overview")["jobs-cancelled"] == 1
    # cancelling a cancelled job again is fine; a finished one is a conflict
    assert rest.request("PATCH", f"/jobs/{job_id}?mode=cancel") == (202, {})
    finished = rest.submit(bounded_job())
    rest.wait_result(finished)
    status, answer = rest.request("PATCH", f"/jobs/{finished}?mode=cancel")
    assert status == 409
    assert answer == {"errors": ["Job cancellation failed because the job has already reached "
                                 "another terminal state (FINISHED)."]}


# -- a failed job --------------------------------------------------------------------------------


def test_a_failed_job_shows_the_users_traceback(rest: Rest) -> None:
    job_id = rest.submit(failing_job())
    result = rest.wait_result(job_id)
    assert result["application-status"] == "FAILED"
    cause = result["failure-cause"]
    assert cause["class"] == f"{__name__}.UserBoom"
    assert "UserBoom: cannot handle record 3" in cause["stack-trace"]
    assert "in fail_on_three" in cause["stack-trace"]
    error = pickle.loads(base64.b64decode(cause["serialized-throwable"]))
    assert isinstance(error, SerializedError)
    exception = error.to_exception()
    assert isinstance(exception.__cause__, UserBoom)

    exceptions = rest.get(f"/jobs/{job_id}/exceptions")
    [entry] = exceptions["exceptionHistory"]["entries"]
    assert exceptions["exceptionHistory"]["truncated"] is False
    assert entry["exceptionName"] == f"{__name__}.UserBoom"
    assert entry["stacktrace"] == cause["stack-trace"]
    assert entry["taskName"].startswith("Source: Collection Source -> Map")
    assert entry["taskName"].endswith("(1/1)")
    assert entry["taskManagerId"] == task_manager_id(rest)
    assert entry["location"] and entry["timestamp"] > 0
    assert entry["failureLabels"] == {} and entry["concurrentExceptions"] == []
    assert exceptions["root-exception"] == entry["stacktrace"]
    assert exceptions["timestamp"] == entry["timestamp"]
    assert exceptions["all-exceptions"][0]["task"] == entry["taskName"]
    assert exceptions["truncated"] is False
    assert rest.get("/overview")["jobs-failed"] == 1


# -- errors --------------------------------------------------------------------------------------


def test_errors_have_flinks_status_codes_and_body(rest: Rest) -> None:
    unknown = "0123456789abcdef0123456789abcdef"
    assert rest.request("GET", "/nope") == (404, {"errors": ["Not found: /nope"]})
    assert rest.request("GET", "/v1/nope") == (404, {"errors": ["Not found: /v1/nope"]})
    for method, path in [("GET", f"/jobs/{unknown}"), ("GET", f"/jobs/{unknown}/status"),
                         ("GET", f"/jobs/{unknown}/exceptions"),
                         ("GET", f"/jobs/{unknown}/execution-result"),
                         ("PATCH", f"/jobs/{unknown}?mode=cancel")]:
        assert rest.request(method, path) == (404, {"errors": [f"Job {unknown} not found"]})
    status, answer = rest.request("GET", "/jobs/not-an-id")
    assert status == 400 and "not-an-id" in answer["errors"][0]
    status, answer = rest.request("DELETE", "/overview")
    assert status == 405 and answer["errors"]
    status, answer = rest.request("POST", "/jobs", b"{not json")
    assert status == 400
    assert answer["errors"][0] == "Request did not match expected format JobSubmitRequestBody."
    status, answer = rest.request("POST", "/jobs", json.dumps({"jobGraph": base64.b64encode(
        cloudpickle.dumps({"not": "a job graph"})).decode()}).encode())
    assert status == 400 and "expected a JobGraph" in answer["errors"][0]
    job_graph = bounded_job()
    job_id = rest.submit(job_graph)
    # the same submission again (a client's retry) is answered as the first; another
    # JobGraph under a known job id is a conflict
    assert rest.submit(job_graph) == job_id
    other = bounded_job()
    other.job_id = job_graph.job_id
    status, answer = rest.request("POST", "/jobs", json.dumps({"jobGraph": base64.b64encode(
        cloudpickle.dumps(other)).decode()}).encode())
    assert status == 409 and answer["errors"][0] == "Job has already been submitted."
    assert job_id in answer["errors"][1]
    status, answer = rest.request("GET", f"/jobs/{job_id}/vertices/{'f' * 32}")
    assert status == 404 and answer["errors"][0].startswith("Vertex ")
    status, answer = rest.request("PATCH", f"/jobs/{job_id}?mode=stop")
    assert status == 400 and "stop" in answer["errors"][0]
    rest.wait_result(job_id)


def test_a_failing_handler_answers_500_and_the_server_keeps_serving(
        rest: Rest, monkeypatch: pytest.MonkeyPatch) -> None:
    server = RestServer(rest.cluster.dispatcher, rest.cluster.resource_manager,
                        Configuration(), "127.0.0.1", 0, token=TOKEN)

    def broken(*args: Any) -> Any:
        raise RuntimeError("a bug in a handler")

    monkeypatch.setattr(server.handlers, "cluster_overview", broken)
    server.start()
    try:
        other = Rest(rest.cluster, server)
        status, answer = other.request("GET", "/overview")
        assert status == 500
        assert answer == {"errors": ["Internal server error.",
                                     "RuntimeError: a bug in a handler"]}
        assert other.get("/jobs") == {"jobs": []}
    finally:
        server.stop()


# -- RestClusterClient and RemoteExecutor --------------------------------------------------------


def test_the_rest_cluster_client(rest: Rest) -> None:
    client = RestClusterClient(rest.address, timeout_s=DEADLINE_S, token=TOKEN)
    assert client.overview()["slots-total"] == SLOTS
    job_id = client.submit_job(bounded_job("through the client"))
    result = client.request_job_result(job_id, timeout_s=DEADLINE_S)
    assert (result.job_id, result.job_name, result.status) == (
        job_id, "through the client", JobStatus.FINISHED)
    assert result.failure is None and result.net_runtime_ms >= 0
    assert client.job_status(job_id) is JobStatus.FINISHED
    assert client.job_details(job_id)["name"] == "through the client"
    [listed] = client.list_jobs()
    assert (listed.job_id, listed.job_name, listed.job_state) == (
        job_id, "through the client", JobStatus.FINISHED)
    assert listed.start_time_ms > 0

    failed = client.submit_job(failing_job())
    result = client.request_job_result(failed, timeout_s=DEADLINE_S)
    assert result.status is JobStatus.FAILED
    assert result.failure.task_name.startswith("Source: Collection Source -> Map")
    assert result.failure.location == task_manager_id(rest)
    assert "UserBoom: cannot handle record 3" in result.failure.error.traceback_text
    assert client.job_exceptions(failed)["exceptionHistory"]["entries"]

    running = client.submit_job(unbounded_job())
    with pytest.raises(TimeoutError):
        client.request_job_result(running, timeout_s=0.05)
    client.cancel_job(running)
    assert client.request_job_result(running, DEADLINE_S).status is JobStatus.CANCELED

    unknown = "0123456789abcdef0123456789abcdef"
    with pytest.raises(JobNotFoundError, match=f"Job {unknown} not found"):
        client.job_status(unknown)
    with pytest.raises(JobNotFoundError):
        client.cancel_job(unknown)
    with pytest.raises(RestClientError) as caught:
        client._request("GET", "/nope")
    assert caught.value.status == 404


def test_an_unreachable_jobmanager_is_one_clear_error() -> None:
    port = free_port()
    client = RestClusterClient(f"127.0.0.1:{port}", timeout_s=2.0)
    for call in (client.overview, client.list_jobs, lambda: client.submit_job(bounded_job())):
        with pytest.raises(ClusterUnreachableError) as caught:
            call()
        assert str(caught.value) == (
            f"Could not connect to the JobManager at 127.0.0.1:{port} (connection refused). "
            f"Is the cluster running? Start it with bin/start-cluster.sh.")
    with pytest.raises(FlinkPyError, match="expected host:port"):
        RestClusterClient("no-port-here")


def test_the_remote_executor(rest: Rest) -> None:
    client = RestClusterClient(rest.address, timeout_s=DEADLINE_S, token=TOKEN)
    executor = RemoteExecutor(client, artifacts={"user-code.zip": b"PK-not-really"})
    job_graph = bounded_job("remote")
    job_id = executor.submit(job_graph)
    assert rest.cluster.dispatcher.job_master(job_id).job_graph.user_artifacts == {
        "user-code.zip": b"PK-not-really"}
    result = executor.job_result(job_id)
    assert str(result.get_job_id()) == job_id and result.get_net_runtime() >= 0
    assert executor.job_status(job_id) is JobStatus.FINISHED

    failed = executor.submit(failing_job("remote failure"))
    with pytest.raises(JobExecutionError) as caught:
        executor.job_result(failed)
    assert isinstance(caught.value.__cause__, UserBoom)
    assert str(caught.value.__cause__) == "cannot handle record 3"
    assert "'remote failure'" in str(caught.value)
    assert "UserBoom: cannot handle record 3" in str(caught.value)

    running = executor.submit(unbounded_job())
    executor.cancel(running)
    with pytest.raises(JobCancellationError):
        executor.job_result(running)

    collected = executor.submit(unbounded_job("collected"))
    iterator = executor.collect(collected, "collect-id")  # nothing is collected under that id
    iterator.close()  # closing the iterator early cancels the job, as locally
    assert client.request_job_result(collected, DEADLINE_S).status is JobStatus.CANCELED

    detached = RemoteExecutor(client, detached=True)
    detached_id = detached.submit(bounded_job("detached"))
    detached_result = detached.job_result(detached_id)
    assert isinstance(detached_result, DetachedJobExecutionResult)
    assert str(detached_result.get_job_id()) == detached_id
    with pytest.raises(InvalidProgramError, match="detached mode"):
        detached_result.get_net_runtime()
    client.request_job_result(detached_id, DEADLINE_S)
