"""Certificates for TLS tests and benchmarks, made with the ``openssl`` command.

``make_certificates(directory)`` writes a CA and, signed by it, a certificate for
``localhost`` / ``127.0.0.1`` usable by servers and clients (mutual TLS), as PEM files.

Example::

    certs = make_certificates(str(tmp_path))
    tls = TlsFiles(certs.cert, certs.key, certs.ca, mutual=True)
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

_OPENSSL_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Certificates:
    """Paths of the PEM files :func:`make_certificates` wrote."""

    ca: str
    cert: str
    key: str


def _openssl(*args: str, cwd: str) -> None:
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=_OPENSSL_TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed ({done.returncode}): "
                           f"{done.stderr.strip()}")


def make_certificates(directory: str, name: str = "node") -> Certificates:
    """A CA (``<name>-ca.pem``) and a certificate signed by it (``<name>.pem``, key
    ``<name>.key``) for localhost and 127.0.0.1, valid for two days, EC P-256 keys."""
    os.makedirs(directory, exist_ok=True)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", f"{name}-ca.key", "-out", f"{name}-ca.pem",
             "-days", "2", "-subj", f"/CN={name} test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
    _openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
             "-subj", "/CN=localhost", cwd=directory)
    extensions = os.path.join(directory, f"{name}.ext")
    with open(extensions, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                "extendedKeyUsage=serverAuth,clientAuth\n"
                "basicConstraints=CA:FALSE\n")
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{name}-ca.pem",
             "-CAkey", f"{name}-ca.key", "-CAcreateserial", "-out", f"{name}.pem",
             "-days", "2", "-extfile", extensions, cwd=directory)
    for private in (f"{name}.key", f"{name}-ca.key"):
        os.chmod(os.path.join(directory, private), 0o600)
    return Certificates(os.path.join(directory, f"{name}-ca.pem"),
                        os.path.join(directory, f"{name}.pem"),
                        os.path.join(directory, f"{name}.key"))
