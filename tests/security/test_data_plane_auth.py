"""Issue 9, data plane: a DataServer and its consumers authenticate each other before a frame
is read or anything is unpickled, and made-up subpartition keys create no state.

Real DataServers and RemoteInputChannels on loopback, fake peers on raw sockets, and one
ProcessCluster job. An attacker's payload is a pickle whose ``__reduce__`` would create a
marker file: the file must never appear.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import re
import socket
import ssl
import struct
import sys
import threading
import time
from typing import Any, Callable, Iterator, List, Tuple

import cloudpickle
import pytest

from flink_py.common.job_status import JobStatus
from flink_py.datastream import SinkFunction, StreamExecutionEnvironment
from flink_py.runtime.network import remote
from flink_py.runtime.network.events import END_OF_PARTITION, EndOfPartition
from flink_py.runtime.network.local import InputInbox, ResultPartitionManager
from flink_py.runtime.network.remote import (
    CHALLENGE_BYTES, MAC_BYTES, PROTOCOL_VERSION, DataServer, HandshakeError,
    RemoteChannelError, RemoteInputChannel, secure_client_socket)
from flink_py.security import context as security_context
from flink_py.security.cluster_secret import ClusterSecret
from flink_py.security.context import SecurityContext, SecurityNotConfiguredError
from flink_py.security.tls import TlsFiles
from flink_py.testing.openssl_certs import Certificates, make_certificates
from flink_py.testing.poll import wait_until
from flink_py.testing.process_cluster import ProcessCluster

DEADLINE_S = 10.0
JOB = "9a1e6b0c9d8a4e7f8c6b5a4d3e2f1a0b"
ITEM = 3
REQUEST = 1
ERROR = 5
WRONG_SECRET = ClusterSecret(b"not the cluster secret, but long enough")
_LOGGER = "flink_py.runtime.network.remote"


class _Marker:
    """Unpickling this creates ``path``: proof that someone unpickled attacker bytes."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> Tuple[Callable[..., Any], Tuple[Any, ...]]:
        return (open, (self.path, "w"))


def _item_frame(marker: str) -> bytes:
    payload = pickle.dumps(_Marker(marker), 5)
    return struct.pack("!IB", len(payload), ITEM) + payload


def _request_frame(result: str, producer: int = 0, consumer: int = 0,
                   credits: int = 2) -> bytes:
    body = json.dumps({"protocol": PROTOCOL_VERSION, "job_id": JOB, "result_id": result,
                       "producer_subtask": producer, "consumer_subtask": consumer,
                       "credits": credits}).encode()
    return struct.pack("!IB", len(body), REQUEST) + body


def _receive_all(sock: socket.socket) -> bytes:
    """Everything the peer sends until it closes (or the deadline)."""
    sock.settimeout(DEADLINE_S)
    data = b""
    while True:
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.fixture
def marker(tmp_path: Any) -> Iterator[str]:
    path = str(tmp_path / "unpickled-attacker-bytes")
    yield path
    assert not os.path.exists(path), "attacker bytes were unpickled"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(str(tmp_path_factory.mktemp("certs")))


@pytest.fixture(scope="module")
def other_certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """Of another CA: a stranger's valid-looking certificate."""
    return make_certificates(str(tmp_path_factory.mktemp("other-certs")), "stranger")


class _Servers:
    """DataServers a test started, over their own partitions, stopped afterwards."""

    def __init__(self) -> None:
        self.servers: List[DataServer] = []
        self.channels: List[RemoteInputChannel] = []

    def start(self, context: SecurityContext, **kwargs: Any) -> DataServer:
        security_context.install(context)
        server = DataServer(ResultPartitionManager(4), "127.0.0.1", **kwargs)
        server.start()
        self.servers.append(server)
        return server

    def channel(self, server: DataServer, result: str, producer: int = 0,
                credits: int = 4) -> Tuple[RemoteInputChannel, InputInbox]:
        channel = RemoteInputChannel(f"127.0.0.1:{server.address[1]}", JOB, result, producer,
                                     0, credits, connect_timeout_s=DEADLINE_S)
        self.channels.append(channel)
        inbox = InputInbox()
        channel.connect(inbox, 0)
        return channel, inbox

    def close(self) -> None:
        for channel in self.channels:
            channel.release()
        for server in self.servers:
            server.stop()


@pytest.fixture
def servers() -> Iterator[_Servers]:
    made = _Servers()
    yield made
    made.close()
    security_context.uninstall()


def _drain(channel: RemoteInputChannel, inbox: InputInbox) -> List[Any]:
    items: List[Any] = []
    while True:  # the deadline is per item: a long stream on a loaded machine is not stuck
        index, _ = inbox.take(time.monotonic() + DEADLINE_S)
        assert index >= 0, "no item within the deadline"
        item, more = channel.poll()
        if more:
            inbox.channel_available(index)
        if type(item) is EndOfPartition:
            return items
        if item is not None:
            items.append(item)


def _round_trip(servers: _Servers, server: DataServer, result: str) -> None:
    """A real producer and consumer still exchange records through ``server``."""
    sub = server.partitions.subpartition(JOB, result, 0, 0)
    expected = [([result, i], None) for i in range(20)]
    channel, inbox = servers.channel(server, result)
    producer = threading.Thread(target=lambda: [sub.add(x) for x in [*expected,
                                                                       END_OF_PARTITION]])
    producer.start()
    assert _drain(channel, inbox) == expected
    producer.join(DEADLINE_S)


def _refusals(caplog: Any) -> List[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == _LOGGER and r.levelno == logging.WARNING and "refused" in r.getMessage()]


# -- no context -----------------------------------------------------------------------------

def test_a_server_or_channel_without_a_security_context_refuses_to_open() -> None:
    security_context.uninstall()
    server = DataServer(ResultPartitionManager(1), "127.0.0.1")
    with pytest.raises(SecurityNotConfiguredError):
        server.start()
    channel = RemoteInputChannel("127.0.0.1:1", JOB, "r", 0, 0, 1, connect_timeout_s=1)
    with pytest.raises(SecurityNotConfiguredError):
        channel.connect(InputInbox(), 0)


# -- the cluster secret: clients ------------------------------------------------------------

def test_a_client_without_the_secret_is_dropped_before_its_frames_are_read(
        servers: _Servers, marker: str, caplog: Any) -> None:
    caplog.set_level(logging.WARNING, _LOGGER)
    server = servers.start(SecurityContext.for_tests())
    with socket.create_connection(server.address, timeout=DEADLINE_S) as raw:
        local = raw.getsockname()
        # an attacker who knows the protocol but not the secret: a request, then a pickle
        raw.sendall(_request_frame("result") + _item_frame(marker) * 3)
        received = _receive_all(raw)
    assert len(received) == CHALLENGE_BYTES  # the challenge, then the server hung up
    wait_until(lambda: _refusals(caplog), "the refusal logged")
    message = _refusals(caplog)[0]
    assert f"127.0.0.1:{local[1]}" in message and "without the cluster secret" in message
    assert len(server.partitions) == 0 and server.partitions.waiting == 0
    _round_trip(servers, server, "after-the-attack")


def test_a_client_with_a_wrong_secret_is_refused_and_learns_it(
        servers: _Servers, marker: str, caplog: Any) -> None:
    caplog.set_level(logging.WARNING, _LOGGER)
    server = servers.start(SecurityContext.for_tests())
    server.partitions.subpartition(JOB, "result", 0, 0).add(([_Marker(marker)], None))
    raw = socket.create_connection(server.address, timeout=DEADLINE_S)
    with pytest.raises(HandshakeError, match="closed the connection after 0 of 32"):
        secure_client_socket(raw, SecurityContext(WRONG_SECRET, None), "127.0.0.1")
    wait_until(lambda: _refusals(caplog), "the refusal logged")
    assert "authentication failed" in _refusals(caplog)[0]
    _round_trip(servers, server, "after-the-attack")


def test_a_client_that_sends_nothing_is_dropped_at_the_handshake_deadline(
        servers: _Servers, caplog: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(remote, "HANDSHAKE_TIMEOUT_S", 0.3)
    caplog.set_level(logging.WARNING, _LOGGER)
    server = servers.start(SecurityContext.for_tests())
    with socket.create_connection(server.address, timeout=DEADLINE_S) as raw:
        raw.sendall(b"\x00" * 7)  # a few bytes of junk, then silence
        start = time.monotonic()
        assert len(_receive_all(raw)) == CHALLENGE_BYTES
        assert time.monotonic() - start < 3.0
    wait_until(lambda: _refusals(caplog), "the refusal logged")
    assert "sent 7 of 48 handshake bytes" in _refusals(caplog)[0]
    wait_until(lambda: len(server) == 0, "the connection closed")


def test_refusals_are_logged_at_a_bounded_rate(servers: _Servers, caplog: Any) -> None:
    caplog.set_level(logging.WARNING, _LOGGER)
    server = servers.start(SecurityContext.for_tests())
    attempts = 3 * remote.REFUSAL_LOG_BURST
    for _ in range(attempts):
        with socket.create_connection(server.address, timeout=DEADLINE_S) as raw:
            raw.sendall(b"x" * (CHALLENGE_BYTES + MAC_BYTES))
            _receive_all(raw)
    wait_until(lambda: len(server) == 0, "every refused connection closed")
    assert len(_refusals(caplog)) == remote.REFUSAL_LOG_BURST


# -- the cluster secret: servers ------------------------------------------------------------

class _FakeServer:
    """A data server that does not know the secret: ``script(sock)`` talks to each consumer."""

    def __init__(self, script: Callable[[socket.socket], None]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.script = script
        self.thread = threading.Thread(target=self._serve, daemon=True, name="fake-server")
        self.thread.start()

    def _serve(self) -> None:
        try:
            sock, _ = self.listener.accept()
        except OSError:  # closed before anyone connected
            return
        with sock:
            sock.settimeout(DEADLINE_S)
            try:
                self.script(sock)
                _receive_all(sock)  # until the consumer hangs up
            except OSError:
                pass  # the consumer hung up first

    def close(self) -> None:
        self.listener.close()
        self.thread.join(DEADLINE_S)


def _fake_proof(marker: str) -> Callable[[socket.socket], None]:
    def script(sock: socket.socket) -> None:
        sock.sendall(os.urandom(CHALLENGE_BYTES))
        sock.recv(CHALLENGE_BYTES + MAC_BYTES, socket.MSG_WAITALL)
        sock.sendall(os.urandom(MAC_BYTES) + _item_frame(marker) * 4)
    return script


def _no_handshake(marker: str) -> Callable[[socket.socket], None]:
    def script(sock: socket.socket) -> None:  # an old or foreign server: frames at once
        sock.sendall(_item_frame(marker) * 4)
    return script


@pytest.mark.parametrize("script", [_fake_proof, _no_handshake])
def test_a_fake_server_is_refused_by_the_channel_before_it_reads_a_frame(
        script: Callable[[str], Callable[[socket.socket], None]], marker: str) -> None:
    security_context.install(SecurityContext.for_tests())
    fake = _FakeServer(script(marker))
    channel = RemoteInputChannel(f"127.0.0.1:{fake.port}", JOB, "result", 0, 0, 4,
                                 connect_timeout_s=DEADLINE_S)
    try:
        with pytest.raises(RemoteChannelError,
                           match=rf"authentication with the data server at 127.0.0.1:{fake.port}"
                                 rf" failed .*answered without the cluster secret.*"
                                 rf"Nothing it sent was read"):
            channel.connect(InputInbox(), 0)
        assert channel.poll() == (None, False)
    finally:
        channel.release()
        fake.close()
        security_context.uninstall()


def test_a_consumer_with_a_wrong_secret_fails_clearly(servers: _Servers) -> None:
    server = servers.start(SecurityContext.for_tests())
    security_context.install(SecurityContext(WRONG_SECRET, None))
    with pytest.raises(RemoteChannelError, match="closed the connection after 0 of 32 handshake"):
        servers.channel(server, "result")


def test_without_authentication_there_is_no_handshake_but_the_version_is_checked(
        servers: _Servers) -> None:
    server = servers.start(SecurityContext(None, None))
    _round_trip(servers, server, "open")
    with socket.create_connection(server.address, timeout=DEADLINE_S) as raw:
        body = json.dumps({"protocol": 2, "job_id": JOB, "result_id": "r",
                           "producer_subtask": 0, "consumer_subtask": 0, "credits": 1}).encode()
        raw.sendall(struct.pack("!IB", len(body), REQUEST) + body)
        answer = _receive_all(raw)
    assert answer[4] == ERROR and b"protocol 2, this server speaks 3" in answer


# -- TLS ------------------------------------------------------------------------------------

def _tls(certs: Certificates) -> TlsFiles:
    return TlsFiles(certs.cert, certs.key, certs.ca, mutual=True)


@pytest.mark.parametrize("with_secret", [False, True], ids=["tls", "tls+secret"])
def test_records_cross_over_mutual_tls(servers: _Servers, certificates: Certificates,
                                       with_secret: bool) -> None:
    secret = SecurityContext.for_tests().secret if with_secret else None
    server = servers.start(SecurityContext(secret, _tls(certificates)))
    sub = server.partitions.subpartition(JOB, "tls", 0, 0)
    expected = [([bytes([i % 256]) * (i * 997 % 70_000), i], [i]) for i in range(60)]
    channel, inbox = servers.channel(server, "tls", credits=8)
    producer = threading.Thread(target=lambda: [sub.add(x) for x in [*expected,
                                                                       END_OF_PARTITION]])
    producer.start()
    assert _drain(channel, inbox) == expected
    producer.join(DEADLINE_S)


def test_credits_written_while_the_receiver_reads_keep_a_tls_stream_intact(
        servers: _Servers, certificates: Certificates) -> None:
    """The task thread returns credits while the receiver thread reads the same SSL
    connection: thousands of both at once, and not one record lost or corrupted."""
    server = servers.start(SecurityContext(SecurityContext.for_tests().secret,
                                           _tls(certificates)))
    sub = server.partitions.subpartition(JOB, "busy", 0, 0)
    expected = [([i, "x" * (i % 50)], None) for i in range(20_000)]
    channel, inbox = servers.channel(server, "busy", credits=4)  # a credit every poll
    producer = threading.Thread(target=lambda: [sub.add(x) for x in [*expected,
                                                                       END_OF_PARTITION]])
    producer.start()
    assert _drain(channel, inbox) == expected
    producer.join(DEADLINE_S)


def test_a_tls_client_without_a_certificate_is_refused(
        servers: _Servers, certificates: Certificates, marker: str, caplog: Any) -> None:
    caplog.set_level(logging.WARNING, _LOGGER)
    server = servers.start(SecurityContext(None, _tls(certificates)))
    context = ssl.create_default_context(cafile=certificates.ca)  # verifies the server only
    with socket.create_connection(server.address, timeout=DEADLINE_S) as raw:
        with pytest.raises((ssl.SSLError, ConnectionError)):
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(_request_frame("result") + _item_frame(marker))
                assert _receive_all(tls) == b""
                raise ConnectionError("the server closed the connection")
    wait_until(lambda: _refusals(caplog), "the refusal logged")
    assert "TLS failed" in _refusals(caplog)[0]


def test_a_plain_client_and_a_stranger_certificate_are_refused_by_a_tls_server(
        servers: _Servers, certificates: Certificates, other_certificates: Certificates,
        marker: str) -> None:
    server = servers.start(SecurityContext(None, _tls(certificates)))
    with socket.create_connection(server.address, timeout=DEADLINE_S) as raw:
        raw.sendall(_request_frame("result") + _item_frame(marker))
        assert ITEM not in _receive_all(raw)[:5]  # a TLS alert at most, never a frame
    security_context.install(SecurityContext(None, _tls(other_certificates)))
    with pytest.raises(RemoteChannelError, match="TLS with the data server"):
        servers.channel(server, "result")
    security_context.install(SecurityContext(None, _tls(certificates)))
    _round_trip(servers, server, "after-the-attack")


# -- state for made-up keys -----------------------------------------------------------------

def test_a_consumer_that_connects_first_waits_for_its_producer(servers: _Servers) -> None:
    server = servers.start(SecurityContext.for_tests())
    channel, inbox = servers.channel(server, "later")
    wait_until(lambda: server.partitions.waiting == 1, "the request waiting")
    assert len(server.partitions) == 0  # waiting costs no subpartition
    sub = server.partitions.subpartition(JOB, "later", 0, 0)  # the producer is deployed
    sub.add((["late"], None))
    sub.add(END_OF_PARTITION)
    assert _drain(channel, inbox) == [(["late"], None)]
    assert server.partitions.waiting == 0
    server.partitions.release_job(JOB)
    assert len(server.partitions) == 0  # released partitions are freed


def test_a_request_whose_producer_never_comes_is_answered_with_an_error(
        servers: _Servers) -> None:
    server = servers.start(SecurityContext.for_tests(), partition_request_timeout_s=0.3)
    channel, inbox = servers.channel(server, "never")
    with pytest.raises(RemoteChannelError, match="not available: no task deployed here "
                                                 "registered it within 0.3 s"):
        _drain(channel, inbox)
    wait_until(lambda: server.partitions.waiting == 0, "the wait ended")
    assert len(server.partitions) == 0


def test_waiting_requests_are_capped(servers: _Servers) -> None:
    server = servers.start(SecurityContext.for_tests(), max_waiting_requests=3)
    waiting = [servers.channel(server, "made-up", producer=p) for p in range(3)]
    wait_until(lambda: server.partitions.waiting == 3, "three requests waiting")
    channel, inbox = servers.channel(server, "made-up", producer=3)
    with pytest.raises(RemoteChannelError, match="3 requests already wait"):
        _drain(channel, inbox)
    for other, _ in waiting:
        other.release()  # consumers that go away free their places at once
    wait_until(lambda: server.partitions.waiting == 0, "the waits ended")
    _round_trip(servers, server, "served")


def test_ten_thousand_made_up_keys_leave_state_and_memory_bounded(servers: _Servers) -> None:
    server = servers.start(SecurityContext.for_tests())
    context = security_context.current()
    real = server.partitions.subpartition(JOB, "real", 0, 0)

    def flood(start: int, count: int) -> None:
        for i in range(start, start + count):
            sock = socket.create_connection(server.address, timeout=DEADLINE_S)
            with secure_client_socket(sock, context, "127.0.0.1") as authenticated:
                authenticated.sendall(_request_frame(f"made-up-{i}", producer=i, consumer=i))

    def flood_in_parallel(total: int, threads: int = 4) -> None:
        per = total // threads
        workers = [threading.Thread(target=flood, args=(t * per, per)) for t in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(300)
        wait_until(lambda: len(server) == 0, "every made-up request's connection closed",
                   timeout_s=30)

    flood_in_parallel(400)  # warm up the allocator and the thread machinery
    rss_before = _rss_kb()
    flood_in_parallel(10_000)
    growth_kb = _rss_kb() - rss_before
    assert len(server.partitions) == 1 and server.partitions.waiting == 0
    # ~6 KB a key before the fix: 60 MB; allocator noise is a few MB
    assert growth_kb < 8 * 1024, f"RSS grew by {growth_kb} KB"
    channel, inbox = servers.channel(server, "real")
    real.add((["still served"], None))
    real.add(END_OF_PARTITION)
    assert _drain(channel, inbox) == [(["still served"], None)]


# -- a real cluster -------------------------------------------------------------------------

_DATA_PORT = re.compile(r"DataServer listening on [^:\s]+:(\d+)")


def test_a_cluster_refuses_an_unauthenticated_data_connection_and_still_runs_jobs(
        tmp_path: Any, marker: str) -> None:
    with ProcessCluster(str(tmp_path / "cluster"), task_managers=2, slots=1) as cluster:
        ports = [int(p) for i in range(2)
                 for p in _DATA_PORT.findall(cluster.log(f"taskmanager-{i}"))]
        assert len(ports) == 2, ports
        for port in ports:  # an outsider on the same machine
            with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S) as raw:
                raw.sendall(_request_frame("result") + _item_frame(marker) * 2)
                assert len(_receive_all(raw)) == CHALLENGE_BYTES
        wait_until(lambda: all("refused the connection from 127.0.0.1:" in
                               cluster.log(f"taskmanager-{i}") for i in range(2)),
                   "both slot workers logging the refusal")
        _run_keyed_sums(cluster, str(tmp_path / "sums"))


def _run_keyed_sums(cluster: ProcessCluster, output: str) -> None:
    """Runs key_by -> reduce at p=2 on ``cluster`` (records cross between the slot workers)
    and checks its sums."""
    # this module is not importable on the TaskManagers: its functions travel by value
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    (env.from_sequence(0, 9_999).map(lambda i: (i % 10, i)).key_by(lambda t: t[0])
        .reduce(lambda a, b: (a[0], a[1] + b[1]))
        .add_sink(_LastPerKeyFile(output)))
    client = cluster.client(30.0)
    try:
        job_id = client.submit_job(env.get_job_graph("data plane auth"))
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    result = client.request_job_result(job_id, timeout_s=120.0)
    assert result.status is JobStatus.FINISHED, result.failure
    sums = {}
    for name in os.listdir(output):
        with open(os.path.join(output, name)) as f:
            sums.update(json.load(f))
    assert sums == {str(k): sum(range(k, 10_000, 10)) for k in range(10)}


def test_a_cluster_with_internal_tls_runs_jobs_and_refuses_plain_connections(
        tmp_path: Any, certificates: Certificates, marker: str) -> None:
    conf = {"security.ssl.internal.enabled": "true",
            "security.ssl.internal.cert": certificates.cert,
            "security.ssl.internal.key": certificates.key,
            "security.ssl.internal.ca": certificates.ca}
    with ProcessCluster(str(tmp_path / "cluster"), task_managers=2, slots=1,
                        conf=conf) as cluster:
        port = int(_DATA_PORT.findall(cluster.log("taskmanager-0"))[0])
        with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S) as raw:
            raw.sendall(_request_frame("result") + _item_frame(marker))
            try:
                assert ITEM not in _receive_all(raw)[:5]  # a TLS alert at most
            except ConnectionResetError:
                pass  # or a reset
        wait_until(lambda: "TLS failed" in cluster.log("taskmanager-0"),
                   "the slot worker logging the refusal")
        _run_keyed_sums(cluster, str(tmp_path / "sums"))


class _LastPerKeyFile(SinkFunction):
    """Writes its subtask's last value per key to ``<directory>/<subtask>.json`` at close."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.last: dict = {}

    def invoke(self, value: Any, context: Any) -> None:
        self.last[value[0]] = value[1]

    def close(self) -> None:
        os.makedirs(self.directory, exist_ok=True)
        with open(os.path.join(self.directory, f"{os.getpid()}-{id(self)}.json"), "w") as f:
            json.dump(self.last, f)
