"""Internal mutual TLS (``security.ssl.internal.*``) with certificates this test makes (a
cluster CA, and a certificate with subjectAltName localhost / 127.0.0.1 it signed): a
cluster of real daemons runs a job to FINISHED over it; a client without a certificate, or
with one another CA signed, is refused at the handshake; one with the cluster's certificate
but not the secret is refused by the secret check on top of TLS."""

from __future__ import annotations

import re
from typing import Any, Dict, Iterator, Optional, Tuple

import grpc
import pytest

from flink_py.rpc import cluster_pb2 as pb
from flink_py.rpc import cluster_pb2_grpc as pb_grpc
from flink_py.rpc.gateways import TLS_TARGET_NAME, RemoteResourceManagerGateway
from flink_py.security import context as security_context
from flink_py.security.context import SecurityContext
from flink_py.security.tls import TlsFiles
from flink_py.testing.openssl_certs import make_certificates
from flink_py.testing.process_cluster import REPO, ProcessCluster

DEADLINE_S = 10.0
JOB_ID = re.compile(r"Job has been submitted with JobID ([0-9a-f]{32})")


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[Tuple[ProcessCluster, Dict[str, str]]]:
    certs = str(tmp_path_factory.mktemp("certs"))
    member = make_certificates(certs, "member")
    stranger = make_certificates(certs, "stranger")  # signed by another CA
    files = {"ca": member.ca, "cert": member.cert, "key": member.key,
             "stranger_cert": stranger.cert, "stranger_key": stranger.key}
    cert, key, ca = member.cert, member.key, member.ca
    with ProcessCluster(str(tmp_path_factory.mktemp("tls")), task_managers=2, slots=1, conf={
            "security.ssl.internal.enabled": "true", "security.ssl.internal.cert": cert,
            "security.ssl.internal.key": key, "security.ssl.internal.ca": ca}) as cluster:
        yield cluster, files


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _heartbeat_over(cluster: ProcessCluster, credentials: Optional[grpc.ChannelCredentials]
                    ) -> Any:
    address = f"localhost:{cluster.rpc_port}"
    if credentials is None:
        channel = grpc.insecure_channel(address)
    else:
        channel = grpc.secure_channel(address, credentials, options=[
            ("grpc.ssl_target_name_override", TLS_TARGET_NAME)])
    with channel:
        return pb_grpc.ResourceManagerGatewayStub(channel).Heartbeat(
            pb.HeartbeatRequest(resource_id="x"), timeout=DEADLINE_S)


def test_a_job_runs_to_the_end_over_mutual_tls(
        tls_cluster: Tuple[ProcessCluster, Dict[str, str]]) -> None:
    cluster, _ = tls_cluster
    assert cluster.rest("/overview")["taskmanagers"] == 2  # both registered over TLS
    done = cluster.flink("run", "-p", "2", "-c", "examples.word_count", cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert cluster.rest(f"/jobs/{JOB_ID.search(done.stdout).group(1)}")["state"] == "FINISHED"


def test_a_client_without_the_clusters_certificate_is_refused(
        tls_cluster: Tuple[ProcessCluster, Dict[str, str]]) -> None:
    cluster, files = tls_cluster
    ca = _read(files["ca"])
    for credentials in (None,  # plain text to a TLS port
                        grpc.ssl_channel_credentials(ca),  # TLS, but no client certificate
                        grpc.ssl_channel_credentials(ca, _read(files["stranger_key"]),
                                                     _read(files["stranger_cert"]))):
        with pytest.raises(grpc.RpcError) as refused:
            _heartbeat_over(cluster, credentials)
        assert refused.value.code() is grpc.StatusCode.UNAVAILABLE, refused.value

    # the cluster's certificate without the secret: TLS passes, the secret check refuses
    with pytest.raises(grpc.RpcError) as refused:
        _heartbeat_over(cluster, grpc.ssl_channel_credentials(
            ca, _read(files["key"]), _read(files["cert"])))
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED

    # both: answered
    security_context.install(SecurityContext(cluster.secret, TlsFiles(
        files["cert"], files["key"], files["ca"], mutual=True)))
    try:
        assert not RemoteResourceManagerGateway(f"localhost:{cluster.rpc_port}").heartbeat("x")
    finally:
        security_context.uninstall()
