"""Issue 9's gRPC attacks replayed against real daemons (ProcessCluster): every method of
every gateway, enumerated from the generated protobuf descriptors, called by an outsider
with no secret and with a wrong one, with pickles that would create a marker file as every
bytes field. Each is refused (UNAUTHENTICATED) and logged once, nothing is unpickled, a forged
registration registers nothing, a forged disconnection fails no job, no job's code is handed
out, and the cluster still runs jobs. Also: a captured credential replayed and a stale one
refused; a second JobManager on a taken port and open addresses without authentication
refused at start with one line."""

from __future__ import annotations

import os
import pickle
import re
import socket
import subprocess
import sys
import textwrap
import time
from typing import Any, Dict, Iterator, List, Sequence, Tuple

import grpc
import pytest

from flink_py.rpc import cluster_pb2 as pb
from flink_py.rpc.gateways import RemoteResourceManagerGateway
from flink_py.security import context as security_context
from flink_py.security.cluster_secret import ClusterSecret
from flink_py.security.context import SecurityContext
from flink_py.security.rpc_auth import AUTH_METADATA_KEY, AuthClientInterceptor, RpcAuthenticator
from flink_py.testing.poll import wait_until
from flink_py.testing.process_cluster import REPO, ProcessCluster, free_port
from flink_py.testing.jobs import endless_program

DEADLINE_S = 10.0
JOB_ID = re.compile(r"Job has been submitted with JobID ([0-9a-f]{32})")
SLOT_WORKER = re.compile(r"Slot worker (\d+) started \(pid \d+, rpc port (\d+), data port \d+\)")
WRONG_SECRET = ClusterSecret(b"an outsider's guess at the secret 0123")
#: which daemon serves each gateway
SERVED_BY = {"ResourceManagerGateway": "jobmanager", "JobMasterGateway": "jobmanager",
             "TaskExecutorGateway": "slot worker"}

ENDLESS_JOB = endless_program()


class _Evil:
    """Unpickling this creates the marker file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> Any:
        return (open, (self.path, "w"))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessCluster]:
    with ProcessCluster(str(tmp_path_factory.mktemp("attacked")), task_managers=1,
                        slots=2) as c:
        yield c


def _slot_worker_addresses(cluster: ProcessCluster) -> List[str]:
    ports = dict(SLOT_WORKER.findall(cluster.log("taskmanager-0")))
    assert len(ports) == cluster.slots, cluster.log("taskmanager-0")
    return [f"127.0.0.1:{port}" for port in ports.values()]


def _is_repeated(field: Any) -> bool:
    return bool(field.is_repeated)


def _forged(message: Any, strings: Dict[str, str], payload: bytes) -> Any:
    """Fills every field of ``message``: bytes with ``payload``, strings from ``strings``
    (by field name) or a made-up value, nested messages recursively (maps stay empty)."""
    for field in message.DESCRIPTOR.fields:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            continue
        if field.type == field.TYPE_MESSAGE:
            target = getattr(message, field.name)
            _forged(target.add() if _is_repeated(field) else target, strings, payload)
            continue
        if field.type == field.TYPE_BYTES:
            value: Any = payload
        elif field.type == field.TYPE_STRING:
            value = strings.get(field.name, "forged")
        elif field.type == field.TYPE_BOOL:
            value = False
        else:
            value = 1
        if _is_repeated(field):
            getattr(message, field.name).append(value)
        else:
            setattr(message, field.name, value)
    return message


def _methods() -> List[Tuple[str, Any]]:
    """(service name, method descriptor) of every RPC the generated code defines."""
    return [(service.name, method) for service in pb.DESCRIPTOR.services_by_name.values()
            for method in service.methods]


def _call(channel: grpc.Channel, method: Any, request: Any,
          metadata: Sequence[Tuple[str, str]] = ()) -> Any:
    response_class = getattr(pb, method.output_type.name)
    rpc = channel.unary_unary(f"/{method.containing_service.full_name}/{method.name}",
                              request_serializer=type(request).SerializeToString,
                              response_deserializer=response_class.FromString)
    return rpc(request, timeout=DEADLINE_S, metadata=list(metadata) or None)


def _running_endless_job(cluster: ProcessCluster, tmp_path: Any) -> str:
    program = tmp_path / "endless.py"
    program.write_text(textwrap.dedent(ENDLESS_JOB))
    done = cluster.flink("run", "-d", "-p", "1", str(program))
    assert done.returncode == 0, done.stdout + done.stderr
    job_id = JOB_ID.search(done.stdout).group(1)
    wait_until(lambda: cluster.rest(f"/jobs/{job_id}")["state"] == "RUNNING",
               what="the endless job running")
    return job_id


def _refusals(log: str, reason: str) -> List[str]:
    return [line for line in log.splitlines() if "Refused the RPC" in line and reason in line]


def test_every_rpc_without_the_secret_is_refused_before_anything_is_unpickled(
        cluster: ProcessCluster, tmp_path: Any) -> None:
    job_id = _running_endless_job(cluster, tmp_path)
    task_managers = cluster.rest("/taskmanagers")["taskmanagers"]
    (real_tm,) = [tm["id"] for tm in task_managers]
    marker = str(tmp_path / "code-ran")
    payload = pickle.dumps(_Evil(marker))
    targets = {"jobmanager": [f"localhost:{cluster.rpc_port}"],
               "slot worker": _slot_worker_addresses(cluster)}
    methods = _methods()
    assert {service for service, _ in methods} == set(SERVED_BY)
    assert len(methods) == 20  # a new RPC is covered here without editing this test

    outcomes: Dict[str, str] = {}
    for service, method in methods:
        # a forged registration names a new TaskManager; every other call the real one
        resource_id = ("127.0.0.1:1-forged" if method.name == "RegisterTaskExecutor"
                       else real_tm)
        request = _forged(getattr(pb, method.input_type.name)(),
                          {"job_id": job_id, "resource_id": resource_id,
                           "rpc_address": "127.0.0.1:1", "data_address": "127.0.0.1:1",
                           "host": "127.0.0.1", "state": "FAILED"}, payload)
        for address in targets[SERVED_BY[service]]:
            with grpc.insecure_channel(address) as plain:
                wrong = grpc.intercept_channel(
                    plain, AuthClientInterceptor(RpcAuthenticator(WRONG_SECRET)))
                for how, channel in (("no secret", plain), ("wrong secret", wrong)):
                    try:
                        answer = _call(channel, method, request)
                    except grpc.RpcError as exc:
                        outcomes[f"{method.name} {how} {address}"] = exc.code().name
                    else:  # e.g. RequestUserArtifacts handing out the job's code
                        outcomes[f"{method.name} {how} {address}"] = f"ANSWERED {answer!r:.80}"
    assert len(outcomes) == 2 * (10 + 10 * cluster.slots)
    assert set(outcomes.values()) == {"UNAUTHENTICATED"}, outcomes

    assert not os.path.exists(marker)  # no payload was unpickled, in any daemon
    # the forged registration registered nothing; the forged disconnection and lost slot
    # failed nothing; the forged RestartWorker restarted no worker
    assert cluster.rest("/taskmanagers")["taskmanagers"][0]["id"] == real_tm
    assert cluster.rest("/overview")["taskmanagers"] == 1
    assert cluster.rest(f"/jobs/{job_id}")["state"] == "RUNNING"
    assert cluster.jobmanager.poll() is None and cluster.task_managers[0].poll() is None
    assert len(dict(SLOT_WORKER.findall(cluster.log("taskmanager-0")))) == cluster.slots
    assert "restart of this slot worker requested" not in cluster.log("taskmanager-0")

    # logged at WARNING, one line per peer and reason (the period has not passed)
    jm_log = cluster.log("jobmanager")
    for reason in ("no credential", "wrong credential"):
        lines = _refusals(jm_log, reason)
        assert len(lines) == 1, jm_log
        assert re.search(r" WARNING flink_py.security.rpc_auth \[\] - Refused the RPC "
                         r"/flink_py\.rpc\.\w+Gateway/\w+ from ipv[46]:.*:\d+: ", lines[0]), lines
        # one line per slot worker (each refuses for itself)
        assert len(_refusals(cluster.log("taskmanager-0"), reason)) == cluster.slots

    # the cluster still works: the job cancels, a new one runs to the end
    cancelled = cluster.flink("cancel", job_id)
    assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
    cluster.wait_for_slots(cluster.slots)
    done = cluster.flink("run", "-p", "2", "-c", "examples.word_count", cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert cluster.rest(f"/jobs/{JOB_ID.search(done.stdout).group(1)}")["state"] == "FINISHED"


def test_a_replayed_or_stale_credential_is_refused(cluster: ProcessCluster) -> None:
    (real_tm,) = [tm["id"] for tm in cluster.rest("/taskmanagers")["taskmanagers"]]
    method = pb.DESCRIPTOR.services_by_name["ResourceManagerGateway"].methods_by_name[
        "Heartbeat"]
    name = f"/{method.containing_service.full_name}/{method.name}"
    member = RpcAuthenticator(cluster.secret)
    request = pb.HeartbeatRequest(resource_id=real_tm)
    captured = member.credential(name)
    stale = member.credential(name, now_ms=int((time.time() - 600) * 1000))
    with grpc.insecure_channel(f"localhost:{cluster.rpc_port}") as plain:
        assert _call(plain, method, request, [(AUTH_METADATA_KEY, captured)]).known
        for header, reason in ((captured, "replayed credential"),
                               (stale, "credential timestamp -600 s from this clock")):
            with pytest.raises(grpc.RpcError) as refused:
                _call(plain, method, request, [(AUTH_METADATA_KEY, header)])
            assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
            assert reason in refused.value.details()
            assert len(_refusals(cluster.log("jobmanager"), reason)) == 1

    # a member with the secret is answered, and the daemon proves the secret back
    security_context.install(SecurityContext(cluster.secret, None))
    try:
        assert RemoteResourceManagerGateway(f"localhost:{cluster.rpc_port}").heartbeat(real_tm)
    finally:
        security_context.uninstall()


# -- refused starts --------------------------------------------------------------------------

def _daemon(cluster: ProcessCluster, module: str, *dynamic: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, FLINK_CONF_DIR=cluster.conf_dir,
               PYTHONPATH=os.pathsep.join([REPO, os.environ.get("PYTHONPATH", "")]))
    command = [sys.executable, "-m", module, "--configDir", cluster.conf_dir]
    for item in dynamic:
        command += ["-D", item]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env,
                          stdin=subprocess.DEVNULL)


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if " ERROR " in line or line.startswith("E")]
    assert len(errors) == 1, output
    return errors[0]


def test_a_second_jobmanager_on_the_taken_rpc_port_exits_1_with_one_line(
        cluster: ProcessCluster) -> None:
    result = _daemon(cluster, "flink_py.runtime.entrypoint.jobmanager",
                     f"rest.port={free_port()}")
    line = _one_error_line(result)
    assert line.endswith(f" - Could not start the JobManager: Could not bind the RPC endpoint to "
                         f"127.0.0.1:{cluster.rpc_port}: address in use"), line
    # the first JobManager keeps its TaskManager
    assert cluster.rest("/overview")["taskmanagers"] == 1


def test_an_rpc_port_taken_on_127_0_0_1_only_fails_the_start(cluster: ProcessCluster) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _daemon(cluster, "flink_py.runtime.entrypoint.jobmanager",
                         f"jobmanager.rpc.port={port}", f"rest.port={free_port()}")
    assert _one_error_line(result).endswith(
        f"Could not bind the RPC endpoint to 127.0.0.1:{port}: address in use")


@pytest.mark.parametrize("module, key", [
    ("flink_py.runtime.entrypoint.jobmanager", "jobmanager.bind-host"),
    ("flink_py.runtime.entrypoint.taskmanager", "taskmanager.bind-host")])
def test_an_open_address_without_authentication_refuses_to_start(
        cluster: ProcessCluster, module: str, key: str) -> None:
    # (REST has its own token here: without the secret it would need one first)
    result = _daemon(cluster, module, "security.internal.authentication.enabled=false",
                     f"{key}=0.0.0.0", f"jobmanager.rpc.port={free_port()}",
                     f"rest.port={free_port()}", "rest.authentication.token=" + "t" * 32)
    line = _one_error_line(result)
    assert (f"{key} is '0.0.0.0', which is reachable from other machines, and internal "
            f"traffic is not authenticated") in line, line
    assert "Bind to localhost, or set security.internal.authentication.enabled: true" in line
