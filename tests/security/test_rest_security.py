"""The REST API's attacks of issue 9, replayed against a real JobManager (and in-process for
the header rules): a pickle posted without a credential, the browser-style cross-site request,
DNS rebinding, oversized and concurrent bodies, idle connections; and the round trips of the
CLI with the cluster secret, with rest.authentication.token, and over TLS.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import pickle
import re
import select
import socket
import ssl
import textwrap
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from flink_py.common.configuration import Configuration
from flink_py.errors import ConfigurationError, FlinkPyError
from flink_py.runtime.minicluster import MiniCluster
from flink_py.runtime.rest import RestServer
from flink_py.runtime.rest.request_policy import (
    RefusalLog, RequestPolicy, allowed_origins, host_name, is_loopback_name, origins_of)
from flink_py.security.cluster_secret import ClusterSecret
from flink_py.security.rest_auth import bearer_token_matches, rest_token
from flink_py.testing.poll import wait_until
from flink_py.testing.openssl_certs import make_certificates
from flink_py.testing.process_cluster import ProcessCluster

JOB_ID = re.compile(r"Job has been submitted with JobID ([0-9a-f]{32})")
#: the in-flight cap of the attacked cluster: one ~95 MB body fits, a second does not
IN_FLIGHT_CAP = 120 * 1024 * 1024
BODY_BYTES = 95 * 1024 * 1024

ENDLESS_PROGRAM = """
    import time
    from flink_py.datastream import SourceFunction, StreamExecutionEnvironment

    class Endless(SourceFunction):
        def run(self, ctx):
            self.running = True
            while self.running:
                ctx.collect(1)
                time.sleep(0.01)

        def cancel(self):
            self.running = False

    env = StreamExecutionEnvironment.get_execution_environment()
    env.add_source(Endless()).add_sink(lambda value, context=None: None)
    env.execute("endless secured job")
"""


class MarkerPayload:
    """Unpickling this creates the marker file: proof that a body was deserialized."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> Any:
        return (open, (self.path, "w"))


Answer = Tuple[int, Dict[str, str], bytes]


def request(port: int, method: str, path: str, headers: Optional[Dict[str, str]] = None,
            body: Optional[bytes] = None, tls: Optional[ssl.SSLContext] = None) -> Answer:
    """One request with exactly these headers (http.client adds Host only if absent)."""
    if tls is not None:
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            "localhost", port, timeout=10, context=tls)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, \
            response.read()
    finally:
        conn.close()


def pickle_body(marker: str) -> bytes:
    encoded = base64.b64encode(pickle.dumps(MarkerPayload(marker))).decode("ascii")
    return json.dumps({"jobGraph": encoded}).encode()


def refusals(cluster: ProcessCluster) -> List[str]:
    return [line for line in cluster.log("jobmanager").splitlines()
            if "Refused REST request from 127.0.0.1:" in line]


def vm_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def write_program(path: Path) -> str:
    path.write_text(textwrap.dedent(ENDLESS_PROGRAM))
    return str(path)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessCluster]:
    """A JobManager alone (no TaskManagers: the attacks are on its REST endpoint)."""
    with ProcessCluster(str(tmp_path_factory.mktemp("attacked")), task_managers=0,
                        conf={"rest.server.max-upload-bytes-in-flight": IN_FLIGHT_CAP}) as c:
        yield c


# -- the attacks on a real JobManager -------------------------------------------------------------


def test_a_pickle_posted_without_a_valid_credential_is_refused_logged_and_never_unpickled(
        cluster: ProcessCluster, tmp_path: Path) -> None:
    marker = str(tmp_path / "unpickled")
    body = pickle_body(marker)
    token = cluster.secret.rest_token()
    json_type = {"Content-Type": "application/json"}
    attacks = [
        ("no token", 401, {**json_type}, body),
        ("wrong token", 401, {**json_type, "Authorization": "Bearer " + "0" * 64}, body),
        ("the raw pickle", 401, {"Content-Type": "application/octet-stream"},
         pickle.dumps(MarkerPayload(marker))),
        # a web page's "simple" request: text/plain needs no preflight
        ("text/plain", 415, {"Content-Type": "text/plain",
                             "Authorization": f"Bearer {token}"}, body),
        ("foreign Origin", 403, {**json_type, "Origin": "http://evil.example",
                                 "Authorization": f"Bearer {token}"}, body),
    ]
    before = len(refusals(cluster))
    for name, expected, headers, data in attacks:
        status, answer_headers, answer = request(cluster.rest_port, "POST", "/jobs", headers,
                                                 data)
        assert status == expected, (name, status, answer)
        assert json.loads(answer)["errors"], name  # Flink's error body
        assert "access-control-allow-origin" not in answer_headers, name
        if expected == 401:
            assert answer_headers["www-authenticate"].startswith("Bearer"), name
    lines = wait_until(lambda: refusals(cluster)[before:] if len(
        refusals(cluster)) - before >= len(attacks) else None, "a log line per refusal")
    assert [re.search(r"POST /jobs -> (\d+)", line).group(1) for line in lines] == [
        str(expected) for _, expected, _, _ in attacks]
    assert not os.path.exists(marker)
    # nor do the other writes go through without the token
    for method, path in (("PATCH", f"/jobs/{'a' * 32}?mode=cancel"),
                         ("POST", f"/jobs/{'a' * 32}/savepoints"),
                         ("POST", f"/jobs/{'a' * 32}/stop"), ("POST", "/savepoint-disposal"),
                         ("GET", f"/jobs/{'a' * 32}/collect/some-sink")):
        status, _, _ = request(cluster.rest_port, method, path, json_type, b"{}"
                               if method == "POST" else None)
        assert status == 401, (method, path, status)
    # reads stay open, and the token opens the writes (the job id is unknown: 404)
    assert request(cluster.rest_port, "GET", "/overview")[0] == 200
    assert request(cluster.rest_port, "PATCH", f"/jobs/{'a' * 32}?mode=cancel",
                   {"Authorization": f"Bearer {token}"})[0] == 404


def test_no_wildcard_cors_and_dns_rebinding_is_refused(cluster: ProcessCluster) -> None:
    port = cluster.rest_port
    for headers in ({}, {"Origin": f"http://localhost:{port}", "Host": f"localhost:{port}"}):
        status, answer_headers, _ = request(port, "GET", "/overview", headers)
        assert status == 200
        assert "access-control-allow-origin" not in answer_headers
    status, answer_headers, _ = request(port, "OPTIONS", "/jobs",
                                        {"Origin": "http://evil.example",
                                         "Access-Control-Request-Method": "POST"})
    assert status == 403 and "access-control-allow-origin" not in answer_headers
    for host in ("evil.example", f"evil.example:{port}", "10.1.2.3"):
        status, _, answer = request(port, "GET", "/overview", {"Host": host})
        assert status == 403, host
        assert "not a name of this server" in json.loads(answer)["errors"][0]
    for host in (f"127.0.0.1:{port}", f"[::1]:{port}", "localhost", "app.localhost:1"):
        assert request(port, "GET", "/overview", {"Host": host})[0] == 200, host


def test_an_oversized_body_is_refused_before_it_is_read(cluster: ProcessCluster) -> None:
    token = cluster.secret.rest_token()
    with socket.create_connection(("127.0.0.1", cluster.rest_port), timeout=10) as sock:
        # announces 1 GB and sends none of it: the answer cannot wait for the body
        sock.sendall(f"POST /jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                     f"application/json\r\nAuthorization: Bearer {token}\r\n"
                     f"Content-Length: {10 ** 9}\r\n\r\n".encode())
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 413 "), answer
        assert b"rest.server.max-content-length" in answer
        assert sock.recv(65536) == b""  # and it closed the connection: nothing more is read


def _upload(port: int, token: str, size: int, statuses: List[Any]) -> None:
    """Sends a ~size-byte submission; appends the status (or 'reset' if the server closed
    the connection before its answer could be read)."""
    filler = size - 20
    head = (f"POST /jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: {filler + 17}\r\n\r\n").encode()
    body = b'{"jobGraph": "' + b"A" * filler + b'"}' + b" "
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        sock.sendall(head)
        view = memoryview(body)
        sent = 0
        while sent < len(body):
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break  # answered early (refused): stop sending
            sent += sock.send(view[sent:sent + (1 << 20)])
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        statuses.append(int(answer.split()[1]) if answer else "reset")
    except (BrokenPipeError, ConnectionResetError):
        statuses.append("reset")
    finally:
        sock.close()


def test_concurrent_large_bodies_are_capped_and_memory_stays_bounded(
        cluster: ProcessCluster) -> None:
    pid = cluster.jobmanager.pid
    baseline_kb = vm_kb(pid, "VmRSS")
    statuses: List[Any] = []
    threads = [threading.Thread(target=_upload, args=(cluster.rest_port,
                                                     cluster.secret.rest_token(), BODY_BYTES,
                                                     statuses)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(statuses) == 4, statuses
    # the one admitted is read and refused by the handler (not a JobGraph); the others 503
    assert statuses.count(503) + statuses.count("reset") >= 3, statuses
    assert statuses.count(400) <= 1, statuses
    peak_mb = (vm_kb(pid, "VmHWM") - baseline_kb) / 1024
    print(f"JobManager peak growth {peak_mb:.0f} MB, statuses {statuses}")
    # one body in flight: the body, its copy as bytes, the JSON text and its base64 decoding
    # (~4.5 x 95 MB); four unbounded ones took the JobManager to 1 GB and more
    assert peak_mb < 600, f"the JobManager grew by {peak_mb:.0f} MB (statuses {statuses})"
    assert request(cluster.rest_port, "GET", "/overview")[0] == 200
    lines = refusals(cluster)
    assert any("-> 503" in line and "max-upload-bytes-in-flight" in line for line in lines)


def test_idle_connections_do_not_block_a_request(cluster: ProcessCluster) -> None:
    idle: List[socket.socket] = []
    try:
        for i in range(200):
            sock = socket.create_connection(("127.0.0.1", cluster.rest_port), timeout=10)
            if i % 2:
                sock.sendall(b"POST /jobs HTTP/1.1\r\nHost: localhost\r\n")  # never ends
            idle.append(sock)
        status, _, answer = request(cluster.rest_port, "GET", "/overview")
        assert status == 200 and json.loads(answer)["taskmanagers"] == 0
    finally:
        for sock in idle:
            sock.close()


# -- the CLI's round trips ---------------------------------------------------------------------


def _run_list_cancel(cluster: ProcessCluster, program: str, *flags: str) -> None:
    run = cluster.flink("run", "-d", *flags, program)
    assert run.returncode == 0, run.stdout + run.stderr
    job_id = JOB_ID.search(run.stdout).group(1)
    listing = cluster.flink("list", *flags)
    assert listing.returncode == 0 and job_id in listing.stdout, listing.stdout + \
        listing.stderr
    cancel = cluster.flink("cancel", *flags, job_id)
    assert cancel.returncode == 0, cancel.stdout + cancel.stderr
    assert f"Cancelled job {job_id}." in cancel.stdout
    wait_until(lambda: cluster.rest(f"/jobs/{job_id}")["state"] == "CANCELED", "CANCELED")


def test_the_cli_with_the_secret_file_only(tmp_path: Path) -> None:
    program = write_program(tmp_path / "endless.py")
    with ProcessCluster(str(tmp_path / "cluster"), task_managers=1, slots=1) as cluster:
        _run_list_cancel(cluster, program)
        # a wrong credential is one line that says where the credential comes from
        wrong = cluster.flink("cancel", "-D", "rest.authentication.token=wrong", "a" * 32)
        assert wrong.returncode == 1
        [line] = wrong.stderr.splitlines()
        assert "HTTP 401" in line and "rest.authentication.token" in line and \
            ".cluster-secret" in line, line


def test_the_cli_with_a_configured_token(tmp_path: Path) -> None:
    program = write_program(tmp_path / "endless.py")
    with ProcessCluster(str(tmp_path / "cluster"), task_managers=0,
                        conf={"rest.authentication.token": "configured-token-42"}) as cluster:
        _run_list_cancel(cluster, program)
        assert request(cluster.rest_port, "PATCH", f"/jobs/{'a' * 32}",
                       {"Authorization": "Bearer configured-token-42"})[0] == 404
        # the cluster secret's token is not the credential then
        assert request(cluster.rest_port, "PATCH", f"/jobs/{'a' * 32}", {
            "Authorization": f"Bearer {cluster.secret.rest_token()}"})[0] == 401


def test_the_cli_over_rest_tls(tmp_path: Path) -> None:
    made = make_certificates(str(tmp_path / "certs"), "rest")
    certs = {"ca.pem": made.ca, "rest.pem": made.cert, "rest.key": made.key}
    program = write_program(tmp_path / "endless.py")
    conf = {"security.ssl.rest.enabled": "true", "security.ssl.rest.cert": certs["rest.pem"],
            "security.ssl.rest.key": certs["rest.key"], "security.ssl.rest.ca": certs["ca.pem"]}
    with ProcessCluster(str(tmp_path / "cluster"), task_managers=0, conf=conf) as cluster:
        assert cluster.rest_scheme == "https"
        _run_list_cancel(cluster, program)
        verified = ssl.create_default_context(cafile=certs["ca.pem"])
        assert request(cluster.rest_port, "GET", "/overview", tls=verified)[0] == 200
        with pytest.raises((http.client.HTTPException, OSError)):
            request(cluster.rest_port, "GET", "/overview")  # plain HTTP gets no answer
        # a client that does not trust the CA is told so in one line
        untrusted = cluster.flink("list", "-D", "security.ssl.rest.ca=")
        assert untrusted.returncode == 1
        [line] = untrusted.stderr.splitlines()
        assert "TLS: CERTIFICATE_VERIFY_FAILED" in line and "security.ssl.rest.ca" in line, line


def test_anonymous_writes_on_a_non_loopback_address_refuse_to_start(tmp_path: Path) -> None:
    cluster = ProcessCluster(str(tmp_path / "cluster"), task_managers=0, start=False, conf={
        "rest.authentication.enabled": "false", "rest.bind-address": "0.0.0.0"})
    try:
        with pytest.raises(AssertionError, match="exited with 1"):
            cluster.start_jobmanager()
        log = cluster.log("jobmanager")
        assert "rest.authentication.enabled is false and rest.bind-address is '0.0.0.0'" in log
    finally:
        cluster.stop()


# -- the header rules, in-process ----------------------------------------------------------------


@pytest.fixture
def minicluster(no_leaked_threads: None) -> Iterator[MiniCluster]:
    cluster = MiniCluster(1, 1)
    try:
        yield cluster
    finally:
        cluster.close()


def _server(minicluster: MiniCluster, settings: Dict[str, str],
            token: Optional[str] = "t0ken") -> RestServer:
    server = RestServer(minicluster.dispatcher, minicluster.resource_manager,
                        Configuration(settings), "127.0.0.1", 0, token=token)
    server.start()
    return server


def test_listed_origins_get_cors_and_preflights(minicluster: MiniCluster) -> None:
    server = _server(minicluster, {"rest.cors.allowed-origins": "http://ui.example:3000"})
    try:
        status, headers, _ = request(server.port, "OPTIONS", "/jobs", {
            "Origin": "http://ui.example:3000", "Access-Control-Request-Method": "POST"})
        assert status == 204
        assert headers["access-control-allow-origin"] == "http://ui.example:3000"
        assert "Authorization" in headers["access-control-allow-headers"]
        assert "POST" in headers["access-control-allow-methods"]
        status, headers, _ = request(server.port, "GET", "/overview",
                                     {"Origin": "http://ui.example:3000"})
        assert status == 200
        assert headers["access-control-allow-origin"] == "http://ui.example:3000"
        assert request(server.port, "GET", "/overview",
                       {"Origin": "http://ui.example:3001"})[0] == 403
    finally:
        server.stop()
        server.stop()  # idempotent


def test_json_only_and_an_empty_cancel(minicluster: MiniCluster) -> None:
    server = _server(minicluster, {})
    auth = {"Authorization": "Bearer t0ken"}
    try:
        job = f"/v1/jobs/{'b' * 32}"
        assert request(server.port, "PATCH", job, auth)[0] == 404  # no body, no type: fine
        assert request(server.port, "PATCH", job, {**auth, "Content-Type": "text/plain"},
                       b"x")[0] == 415
        assert request(server.port, "POST", "/jobs", auth)[0] == 415  # a POST is always JSON
        status, _, answer = request(server.port, "POST", "/jobs",
                                    {**auth, "Content-Type": "application/json"}, b"[]")
        assert status == 400 and b"JobSubmitRequestBody" in answer
        status, _, answer = request(server.port, "DELETE", "/jobs", auth)
        assert status == 405 and json.loads(answer) == {
            "errors": ["Method DELETE is not allowed for /jobs"]}
        assert request(server.port, "GET", "/nope")[0] == 404
    finally:
        server.stop()


def test_authentication_can_be_turned_off_on_loopback_only(
        minicluster: MiniCluster, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "flink_py.runtime.rest.server"):
        server = _server(minicluster, {"rest.authentication.enabled": "false"}, token=None)
    try:
        assert any("rest.authentication.enabled is false" in r.getMessage()
                   for r in caplog.records)
        assert request(server.port, "PATCH", f"/jobs/{'c' * 32}")[0] == 404
    finally:
        server.stop()
    with pytest.raises(ConfigurationError, match="no REST token"):
        RestServer(minicluster.dispatcher, minicluster.resource_manager, Configuration(),
                   "127.0.0.1", 0).start()


def test_host_rules() -> None:
    loopback = RequestPolicy(True, frozenset())
    for host in ("localhost", "localhost:8081", "127.0.0.1:1", "127.1.2.3", "[::1]:8081",
                 "LOCALHOST", "ui.localhost:3000", None):
        assert loopback.host_allowed(host), host
    for host in ("evil.example", "evil.example:8081", "10.0.0.1", "localhost.evil.example",
                 "", "[::1"):
        assert not loopback.host_allowed(host), host
    remote = RequestPolicy(False, origins_of(["https://ui.example"]),
                           frozenset({"localhost", "jm.cluster", "ui.example"}))
    for host in ("10.0.0.1:8081", "[2001:db8::1]:8081", "jm.cluster:8081", "ui.example",
                 "localhost"):
        assert remote.host_allowed(host), host
    assert not remote.host_allowed("evil.example:8081")
    assert host_name("[::1]:8081") == "::1" and host_name("Example.COM.:80") == "example.com"
    assert is_loopback_name("a.localhost") and not is_loopback_name("localhost.a")


def test_origin_rules_and_the_deprecated_key(caplog: pytest.LogCaptureFixture) -> None:
    policy = RequestPolicy(True, origins_of(["http://ui.example:3000/"]))
    assert policy.origin_allowed(None, "localhost:8081")
    assert policy.origin_allowed("http://localhost:8081", "localhost:8081")  # its own
    assert policy.origin_allowed("HTTP://UI.example:3000", "localhost:8081")
    assert not policy.origin_allowed("https://localhost:8081", "localhost:8081")
    assert not policy.origin_allowed("null", "localhost:8081")
    assert policy.allow_origin_header("http://ui.example:3000") == "http://ui.example:3000"
    assert policy.allow_origin_header("http://localhost:8081") is None
    assert RequestPolicy(True, frozenset()).allow_origin_header("http://x") is None
    with pytest.raises(ConfigurationError, match="rest.cors.allowed-origins contains '\\*'"):
        allowed_origins(Configuration({"rest.cors.allowed-origins": "*"}))
    with caplog.at_level(logging.WARNING):
        origins = allowed_origins(Configuration({"web.access-control-allow-origin": "*"}))
    assert origins == ["*"] and "deprecated" in caplog.text
    assert RequestPolicy(True, frozenset(origins)).allow_origin_header("http://x") == "*"
    assert allowed_origins(Configuration()) == []


def test_refusals_are_logged_at_a_bounded_rate(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test_rest_security.refusals")
    refusal_log = RefusalLog(logger, per_second=5)
    with caplog.at_level(logging.WARNING, logger.name):
        for i in range(1000):
            refusal_log.refused("127.0.0.1:1", "POST", "/jobs", 401, f"flood {i}")
        refusal_log.flush()
    lines = [r.getMessage() for r in caplog.records]
    assert 5 <= len(lines) <= 8, lines
    logged = sum(1 for line in lines if "flood" in line)
    suppressed = sum(int(n) for n in re.findall(r"(\d+) more refused", " ".join(lines)))
    suppressed += sum(int(n) for n in re.findall(r"\((\d+) more refusals not logged",
                                                 " ".join(lines)))
    assert logged + suppressed == 1000


def test_the_token_and_its_check() -> None:
    secret = ClusterSecret(b"0123456789abcdef0123456789abcdef")
    assert rest_token(Configuration(), secret) == secret.rest_token()
    assert rest_token(Configuration({"rest.authentication.token": "mine"}), secret) == "mine"
    assert rest_token(Configuration(), None) is None
    assert bearer_token_matches("abc", "Bearer abc")
    assert bearer_token_matches("abc", "bearer  abc ")
    for header in (None, "", "abc", "Basic abc", "Bearer abd", "Bearer ab", "Bearer abcd"):
        assert not bearer_token_matches("abc", header), header


def test_a_flood_of_refusals_logs_a_few_lines_and_their_count(
        minicluster: MiniCluster, caplog: pytest.LogCaptureFixture) -> None:
    server = _server(minicluster, {})
    try:
        with caplog.at_level(logging.WARNING, "flink_py.runtime.rest.server"):
            for _ in range(100):
                assert request(server.port, "POST", "/jobs",
                               {"Content-Type": "application/json"}, b"{}")[0] == 401

            def counted() -> Optional[int]:
                text = " ".join(r.getMessage() for r in caplog.records)
                logged = text.count("Refused REST request")
                suppressed = sum(int(n) for n in re.findall(
                    r"(\d+) more refus(?:ed REST requests|als)", text))
                return logged if logged + suppressed == 100 else None
            logged = wait_until(counted, "the count of the refusals not logged")
        assert logged <= 20, logged
    finally:
        server.stop()


def test_a_taken_port_fails_the_start_naming_the_address(minicluster: MiniCluster) -> None:
    first = _server(minicluster, {})
    try:
        second = RestServer(minicluster.dispatcher, minicluster.resource_manager,
                            Configuration(), "localhost", first.port, token="t0ken")
        with pytest.raises(FlinkPyError, match=f"127.0.0.1:{first.port}"):
            second.start()
        second.stop()
        assert request(first.port, "GET", "/overview")[0] == 200
    finally:
        first.stop()
