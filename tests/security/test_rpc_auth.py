"""The RPC credential check without daemons: the authenticator's rules (valid, wrong MAC,
clock skew, replay, malformed), the bounded nonce cache, the rate-limited refusal log, the
interceptors over real in-process gRPC (a refused call never reaches its servicer; a server
without the secret cannot answer a client that has it), and binding (a taken port on any
resolved address fails with one message naming it)."""

from __future__ import annotations

import logging
import os
import pickle
import socket
from concurrent import futures
from typing import Any, Iterator, List, Tuple

import grpc
import pytest

from flink_py.errors import ConfigurationError, FlinkPyError
from flink_py.graph.ids import ExecutionAttemptID
from flink_py.rpc import cluster_pb2 as pb
from flink_py.rpc import cluster_pb2_grpc as pb_grpc
from flink_py.rpc.gateways import (
    RemoteJobMasterGateway, RemoteResourceManagerGateway, RemoteTaskExecutorGateway, RpcError,
    TaskExecutorServicer, bind_addresses, start_server)
from flink_py.security import context as security_context
from flink_py.security.cluster_secret import ClusterSecret
from flink_py.security.context import SecurityContext
from flink_py.security.rpc_auth import (
    AUTH_METADATA_KEY, AuthClientInterceptor, NonceCache, RefusalLog, RpcAuthenticator)
from flink_py.security.tls import TlsFiles

METHOD = "/flink_py.rpc.ResourceManagerGateway/Heartbeat"
NOW_MS = 1_800_000_000_000
SECRET = ClusterSecret(b"the right secret, 32 bytes long!")
OTHER = ClusterSecret(b"another cluster's secret 0123456")
DEADLINE_S = 10.0


# -- the authenticator -----------------------------------------------------------------------

def test_a_valid_credential_is_accepted_once() -> None:
    authenticator = RpcAuthenticator(SECRET)
    header = RpcAuthenticator(SECRET).credential(METHOD, now_ms=NOW_MS)
    assert authenticator.check(METHOD, header, now_ms=NOW_MS + 10).reason is None
    replay = authenticator.check(METHOD, header, now_ms=NOW_MS + 20)
    assert replay.reason == "replayed credential (its nonce was used before)"


def test_a_credential_of_another_secret_or_method_is_refused() -> None:
    authenticator = RpcAuthenticator(SECRET)
    wrong = RpcAuthenticator(OTHER).credential(METHOD, now_ms=NOW_MS)
    assert authenticator.check(METHOD, wrong, now_ms=NOW_MS).reason.startswith(
        "wrong credential")
    # a valid credential for one method does not open another
    other_method = RpcAuthenticator(SECRET).credential(
        "/flink_py.rpc.ResourceManagerGateway/DisconnectTaskExecutor", now_ms=NOW_MS)
    assert authenticator.check(METHOD, other_method, now_ms=NOW_MS).reason.startswith(
        "wrong credential")
    # nor does changing its timestamp (the MAC covers it)
    version, ts, nonce, mac = RpcAuthenticator(SECRET).credential(METHOD, now_ms=NOW_MS).split(":")
    moved = ":".join([version, str(int(ts) + 1), nonce, mac])
    assert authenticator.check(METHOD, moved, now_ms=NOW_MS).reason.startswith(
        "wrong credential")
    # wrong credentials are not remembered: the cache holds only verified nonces
    assert len(authenticator.nonces) == 0


@pytest.mark.parametrize("offset_s", [-301, 301])
def test_a_credential_outside_the_clock_skew_window_is_refused(offset_s: int) -> None:
    authenticator = RpcAuthenticator(SECRET)
    header = RpcAuthenticator(SECRET).credential(METHOD, now_ms=NOW_MS + offset_s * 1000)
    reason = authenticator.check(METHOD, header, now_ms=NOW_MS).reason
    assert reason == (f"credential timestamp {offset_s:+d} s from this clock, beyond the "
                      f"allowed 300 s")
    within = RpcAuthenticator(SECRET).credential(METHOD, now_ms=NOW_MS + offset_s * 990)
    assert authenticator.check(METHOD, within, now_ms=NOW_MS).reason is None


@pytest.mark.parametrize("header", [None, "", "v1", "v2:1:00:00", "v1:x:00:00",
                                    "v1:1:zz:00", "v1:1:0011:00", "v1:1:" + "00" * 16 + ":zz"])
def test_missing_or_malformed_credentials_are_refused(header: Any) -> None:
    reason = RpcAuthenticator(SECRET).check(METHOD, header, now_ms=NOW_MS).reason
    assert reason in ("malformed credential",
                      "no credential (the caller does not use the cluster secret)"), reason


def test_the_reply_proof_binds_method_and_nonce() -> None:
    authenticator = RpcAuthenticator(SECRET)
    nonce = os.urandom(16)
    proof = authenticator.reply(METHOD, nonce)
    assert authenticator.check_reply(METHOD, nonce, proof)
    assert not authenticator.check_reply(METHOD, os.urandom(16), proof)
    assert not authenticator.check_reply("/other", nonce, proof)
    assert not authenticator.check_reply(METHOD, nonce, RpcAuthenticator(OTHER).reply(
        METHOD, nonce))
    assert not authenticator.check_reply(METHOD, nonce, None)
    assert not authenticator.check_reply(METHOD, nonce, "not hex")


def test_the_nonce_cache_is_bounded_and_refuses_what_it_cannot_tell_from_a_replay() -> None:
    cache = NonceCache(max_entries=3, window_ms=1000)
    for i in range(3):
        assert cache.add(bytes([i]) * 16, NOW_MS + i, NOW_MS) is None
    # full: the oldest goes, and its timestamp becomes the floor
    assert cache.add(b"\x09" * 16, NOW_MS + 5, NOW_MS) is None
    assert len(cache) == 3
    assert cache.add(b"\x00" * 16, NOW_MS, NOW_MS).startswith("credential too old")
    # entries expire with the window
    assert cache.add(b"\x0a" * 16, NOW_MS + 2000, NOW_MS + 2000) is None
    assert len(cache) == 1


def test_refusals_are_logged_once_per_peer_host_and_reason_per_period(
        caplog: pytest.LogCaptureFixture) -> None:
    clock = [100.0]
    refusals = RefusalLog(period_s=10.0, clock=lambda: clock[0])
    with caplog.at_level(logging.WARNING, logger="flink_py.security.rpc_auth"):
        for port in range(5):  # a new connection (port) per call is the same peer
            refusals.refused(f"ipv4:10.0.0.7:{4000 + port}", METHOD, "wrong credential")
        refusals.refused("ipv4:10.0.0.7:4000", METHOD, "no credential")
        refusals.refused("ipv4:10.0.0.8:4000", METHOD, "wrong credential")
        clock[0] += 10.5
        refusals.refused("ipv4:10.0.0.7:4999", METHOD, "wrong credential")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        f"Refused the RPC {METHOD} from ipv4:10.0.0.7:4000: wrong credential",
        f"Refused the RPC {METHOD} from ipv4:10.0.0.7:4000: no credential",
        f"Refused the RPC {METHOD} from ipv4:10.0.0.8:4000: wrong credential",
        f"Refused the RPC {METHOD} from ipv4:10.0.0.7:4999: wrong credential (4 more refused "
        f"calls from this peer for this reason in the last period)",
    ]
    assert all(r.levelno == logging.WARNING for r in caplog.records)


# -- the interceptors over gRPC ------------------------------------------------------------------

class _Evil:
    """Unpickling this creates the marker file: proof that a body was deserialized."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> Any:
        return (open, (self.path, "w"))


class _RecordingTaskExecutor:
    """The TaskExecutor behind a real servicer; records what reached it."""

    def __init__(self) -> None:
        self.calls: List[str] = []

    def submit_task(self, tdd: Any, job_master: Any) -> None:
        self.calls.append("submit_task")

    def cancel_task(self, attempt_id: ExecutionAttemptID) -> None:
        self.calls.append("cancel_task")


@pytest.fixture
def installed() -> Iterator[SecurityContext]:
    context = SecurityContext(SECRET, None)
    security_context.install(context)
    try:
        yield context
    finally:
        security_context.uninstall()


@pytest.fixture
def task_executor_server(installed: SecurityContext) -> Iterator[Tuple[str, _RecordingTaskExecutor]]:
    executor = _RecordingTaskExecutor()
    server, port = start_server(lambda s: pb_grpc.add_TaskExecutorGatewayServicer_to_server(
        TaskExecutorServicer(executor, lambda address, job_id: None), s), "127.0.0.1", 0)
    try:
        yield f"127.0.0.1:{port}", executor
    finally:
        server.stop(grace=None).wait(DEADLINE_S)


def test_a_call_without_the_secret_never_reaches_the_servicer(
        task_executor_server: Tuple[str, _RecordingTaskExecutor], tmp_path: Any) -> None:
    address, executor = task_executor_server
    marker = str(tmp_path / "unpickled")
    request = pb.SubmitTaskRequest(deployment=pickle.dumps(_Evil(marker)),
                                   job_master_address="127.0.0.1:1")
    with grpc.insecure_channel(address) as plain:
        with pytest.raises(grpc.RpcError) as refused:
            pb_grpc.TaskExecutorGatewayStub(plain).SubmitTask(request, timeout=DEADLINE_S)
        assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
        wrong = grpc.intercept_channel(plain, AuthClientInterceptor(RpcAuthenticator(OTHER)))
        with pytest.raises(grpc.RpcError) as refused:
            pb_grpc.TaskExecutorGatewayStub(wrong).SubmitTask(request, timeout=DEADLINE_S)
        assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert not os.path.exists(marker)
    assert executor.calls == []
    # with the secret, through the gateway as the JobMaster calls it: it arrives
    RemoteTaskExecutorGateway(address, "").cancel_task(ExecutionAttemptID("a" * 32))
    assert executor.calls == ["cancel_task"]


def test_a_captured_credential_cannot_be_replayed(
        task_executor_server: Tuple[str, _RecordingTaskExecutor]) -> None:
    address, executor = task_executor_server
    method = "/flink_py.rpc.TaskExecutorGateway/CancelTask"
    header = RpcAuthenticator(SECRET).credential(method)
    request = pb.CancelTaskRequest(attempt_id="a" * 32)
    with grpc.insecure_channel(address) as plain:
        stub = pb_grpc.TaskExecutorGatewayStub(plain)
        stub.CancelTask(request, timeout=DEADLINE_S, metadata=[(AUTH_METADATA_KEY, header)])
        with pytest.raises(grpc.RpcError) as refused:
            stub.CancelTask(request, timeout=DEADLINE_S, metadata=[(AUTH_METADATA_KEY, header)])
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert "replayed credential" in refused.value.details()
    assert executor.calls == ["cancel_task"]


def test_a_server_without_the_secret_cannot_answer(installed: SecurityContext,
                                                   tmp_path: Any) -> None:
    """Mutual: a fake JobManager that does not know the secret answers with code for the
    caller to unpickle; the caller refuses the answer before anything reads it."""
    marker = str(tmp_path / "unpickled")
    evil = pickle.dumps(_Evil(marker))

    def artifacts(request: bytes, context: Any) -> bytes:
        return pb.UserArtifacts(artifacts={"job.py": evil}).SerializeToString()

    def heartbeat(request: bytes, context: Any) -> bytes:
        return pb.HeartbeatResponse(known=True).SerializeToString()

    fake = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    fake.add_generic_rpc_handlers([
        grpc.method_handlers_generic_handler("flink_py.rpc.JobMasterGateway", {
            "RequestUserArtifacts": grpc.unary_unary_rpc_method_handler(artifacts)}),
        grpc.method_handlers_generic_handler("flink_py.rpc.ResourceManagerGateway", {
            "Heartbeat": grpc.unary_unary_rpc_method_handler(heartbeat)})])
    port = fake.add_insecure_port("127.0.0.1:0")
    fake.start()
    try:
        with pytest.raises(RpcError, match="RequestUserArtifacts to .* failed "
                                           r"\(UNAUTHENTICATED\): the answer to .* carries no "
                                           "proof of the cluster secret"):
            RemoteJobMasterGateway(f"127.0.0.1:{port}", "0" * 32).request_user_artifacts()
        with pytest.raises(RpcError, match="UNAUTHENTICATED"):
            RemoteResourceManagerGateway(f"127.0.0.1:{port}").heartbeat("tm")
    finally:
        fake.stop(grace=None).wait(DEADLINE_S)
    assert not os.path.exists(marker)


def test_a_server_with_another_secret_refuses_the_call(installed: SecurityContext) -> None:
    security_context.install(SecurityContext(OTHER, None))
    server, port = start_server(lambda s: pb_grpc.add_TaskExecutorGatewayServicer_to_server(
        TaskExecutorServicer(_RecordingTaskExecutor(), lambda a, j: None), s), "127.0.0.1", 0)
    security_context.install(installed)
    try:
        with pytest.raises(RpcError, match=r"CancelTask to .* failed \(UNAUTHENTICATED\): "
                                           r".*CancelTask refused: wrong credential"):
            RemoteTaskExecutorGateway(f"127.0.0.1:{port}", "").cancel_task(
                ExecutionAttemptID("a" * 32))
    finally:
        server.stop(grace=None).wait(DEADLINE_S)


def test_servers_and_channels_need_an_installed_context() -> None:
    security_context.uninstall()
    with pytest.raises(security_context.SecurityNotConfiguredError):
        start_server(lambda s: None, "127.0.0.1", 0)
    with pytest.raises(security_context.SecurityNotConfiguredError):
        RemoteResourceManagerGateway("127.0.0.1:1")


# -- binding ---------------------------------------------------------------------------------

@pytest.fixture
def listening() -> Iterator[Any]:
    """Opens listening sockets on given addresses (closed after the test)."""
    sockets: List[socket.socket] = []

    def listen(family: int, address: str, port: int = 0) -> int:
        s = socket.socket(family, socket.SOCK_STREAM)
        sockets.append(s)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((address, port))
        s.listen()
        return s.getsockname()[1]

    yield listen
    for s in sockets:
        s.close()


def _add_port_of(server: grpc.Server) -> Any:
    return server.add_insecure_port


BOTH = [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")]


def test_a_second_server_on_a_taken_port_fails(installed: SecurityContext) -> None:
    server, port = start_server(lambda s: None, "localhost", 0)
    try:
        with pytest.raises(FlinkPyError) as failed:
            start_server(lambda s: None, "localhost", port)
        assert str(failed.value) == (f"Could not bind the RPC endpoint to 127.0.0.1:{port}: "
                                     f"address in use")
    finally:
        server.stop(grace=None).wait(DEADLINE_S)


@pytest.mark.parametrize("taken, named", [(0, "127.0.0.1:{}"), (1, "[::1]:{}")])
def test_a_port_taken_on_one_of_the_hosts_addresses_fails(
        listening: Any, taken: int, named: str) -> None:
    family, address = BOTH[taken]
    port = listening(family, address)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1),
                         options=[("grpc.so_reuseport", 0)])
    try:
        with pytest.raises(FlinkPyError) as failed:
            bind_addresses(_add_port_of(server), BOTH, port)
        assert str(failed.value) == (f"Could not bind the RPC endpoint to "
                                     f"{named.format(port)}: address in use")
    finally:
        server.stop(None)


def test_every_address_of_the_host_is_bound_on_one_port() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1),
                         options=[("grpc.so_reuseport", 0)])
    try:
        port = bind_addresses(_add_port_of(server), BOTH, 0)
        server.start()
        for family, address in BOTH:
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.settimeout(DEADLINE_S)
                probe.connect((address, port))  # refused if that address was not bound
    finally:
        server.stop(None)


def test_unusable_tls_files_fail_with_their_names(tmp_path: Any) -> None:
    junk = tmp_path / "member.crt"
    junk.write_text("not a certificate\n")
    security_context.install(SecurityContext(SECRET, TlsFiles(str(junk), str(junk), str(junk),
                                                              mutual=True)))
    try:
        with pytest.raises(ConfigurationError, match=f"Cannot use the TLS files {junk}"):
            start_server(lambda s: None, "127.0.0.1", 0)
    finally:
        security_context.uninstall()
