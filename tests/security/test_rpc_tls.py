"""Internal mutual TLS (``security.ssl.internal.*``) with certificates this test makes (a
cluster CA, and a certificate with subjectAltName localhost / 127.0.0.1 it signed): a
cluster of real daemons runs a job to FINISHED over it; a client without a certificate, or
with one another CA signed, is refused at the handshake; one with the cluster's certificate
but not the secret is refused by the secret check on top of TLS."""

from __future__ import annotations

import datetime
import ipaddress
import os
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
from flink_py.testing.process_cluster import REPO, ProcessCluster

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: E402

DEADLINE_S = 10.0
JOB_ID = re.compile(r"Job has been submitted with JobID ([0-9a-f]{32})")


def _write(path: str, data: bytes) -> str:
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)
    return path


def _key_pem(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_ca(directory: str, name: str) -> Tuple[Any, Any, str]:
    """A self-signed CA; returns its key, certificate and PEM path."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    path = _write(os.path.join(directory, f"{name}.pem"),
                  cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, path


def make_member(directory: str, name: str, ca_key: Any, ca_cert: Any) -> Tuple[str, str]:
    """A certificate for localhost / 127.0.0.1, for servers and clients, signed by the CA;
    returns the cert and key PEM paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return (_write(os.path.join(directory, f"{name}.crt"),
                   cert.public_bytes(serialization.Encoding.PEM)),
            _write(os.path.join(directory, f"{name}.key"), _key_pem(key)))


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[Tuple[ProcessCluster, Dict[str, str]]]:
    certs = str(tmp_path_factory.mktemp("certs"))
    ca_key, ca_cert, ca = make_ca(certs, "cluster-ca")
    cert, key = make_member(certs, "member", ca_key, ca_cert)
    stranger_key, stranger_ca_cert, _ = make_ca(certs, "other-ca")
    stranger_cert, stranger_key_path = make_member(certs, "stranger", stranger_key,
                                                   stranger_ca_cert)
    files = {"ca": ca, "cert": cert, "key": key, "stranger_cert": stranger_cert,
             "stranger_key": stranger_key_path}
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
