"""The security core: where the cluster secret comes from, how it is kept, what a daemon's
SecurityContext requires, and the TLS files' checks."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from flink_py.common.configuration import Configuration
from flink_py.errors import ConfigurationError
from flink_py.security.cluster_secret import (
    SECRET_ENV_VAR, SECRET_FILE_NAME, ClusterSecret, create_secret_file, find_cluster_secret)
from flink_py.security.context import (
    SecurityContext, SecurityNotConfiguredError, current, install, is_loopback, uninstall)
from flink_py.security.tls import TlsFiles

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def test_signatures_bind_every_part_and_their_boundaries():
    secret = ClusterSecret(b"k" * 32)
    signature = secret.sign(b"ab", b"c")
    assert secret.verify(signature, b"ab", b"c")
    assert not secret.verify(signature, b"a", b"bc")  # length-prefixed: no ambiguity
    assert not ClusterSecret(b"x" * 32).verify(signature, b"ab", b"c")
    assert secret.rest_token() != secret.sign(b"").hex()
    assert len(secret.rest_token()) == 64


def test_a_short_secret_is_refused():
    with pytest.raises(ConfigurationError, match="at least 16"):
        ClusterSecret(b"short", "test")


def test_repr_never_shows_the_value():
    assert "0123456789abcdef" not in repr(ClusterSecret(b"0123456789abcdef", "here"))


def test_created_file_is_private_and_stable(tmp_path):
    path = str(tmp_path / SECRET_FILE_NAME)
    first = create_secret_file(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = create_secret_file(path)  # exists: read, not replaced
    assert first.rest_token() == again.rest_token()


def test_a_file_others_can_read_is_refused(tmp_path):
    path = tmp_path / "secret"
    path.write_text("0123456789abcdef0123")
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        find_cluster_secret(Configuration({"security.cluster-secret.file": str(path)}),
                            environ={})


def test_lookup_order_value_file_environment_conf_dir(tmp_path):
    conf_dir = str(tmp_path)
    in_dir = create_secret_file(os.path.join(conf_dir, SECRET_FILE_NAME))
    file_path = str(tmp_path / "other")
    in_file = create_secret_file(file_path)
    env = {SECRET_ENV_VAR: "e" * 20}
    value = Configuration({"security.cluster-secret": "v" * 20})
    assert find_cluster_secret(value, conf_dir, env).source == "security.cluster-secret"
    by_file = Configuration({"security.cluster-secret.file": file_path})
    assert find_cluster_secret(by_file, conf_dir, env).rest_token() == in_file.rest_token()
    assert find_cluster_secret(Configuration(), conf_dir, env).source == f"${SECRET_ENV_VAR}"
    assert find_cluster_secret(Configuration(), conf_dir, {}).rest_token() == in_dir.rest_token()
    assert find_cluster_secret(Configuration(), str(tmp_path / "none"), {}) is None


def test_context_without_secret_names_what_to_set(tmp_path, monkeypatch):
    monkeypatch.delenv(SECRET_ENV_VAR, raising=False)
    with pytest.raises(ConfigurationError, match="security.cluster-secret.file"):
        SecurityContext.from_configuration(Configuration(), str(tmp_path))
    created = SecurityContext.from_configuration(Configuration(), str(tmp_path),
                                                 create_secret=True)
    assert os.path.exists(tmp_path / SECRET_FILE_NAME)
    assert SecurityContext.from_configuration(Configuration(), str(tmp_path)).secret \
        .rest_token() == created.secret.rest_token()


def test_disabled_authentication_is_refused_off_loopback():
    context = SecurityContext.from_configuration(
        Configuration({"security.internal.authentication.enabled": "false"}))
    assert not context.authenticated
    context.check_bind_address("jobmanager.bind-host", "localhost")
    context.check_bind_address("jobmanager.bind-host", "127.0.0.1")
    with pytest.raises(ConfigurationError, match="jobmanager.bind-host is '0.0.0.0'"):
        context.check_bind_address("jobmanager.bind-host", "0.0.0.0")
    SecurityContext.for_tests().check_bind_address("jobmanager.bind-host", "0.0.0.0")


@pytest.mark.parametrize("host, loopback", [
    ("localhost", True), ("127.0.0.1", True), ("127.5.0.1", True), ("::1", True),
    ("[::1]", True), ("0.0.0.0", False), ("::", False), ("192.0.2.1", False),
    ("no-such-host.invalid", False)])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_current_without_install_raises():
    uninstall()
    with pytest.raises(SecurityNotConfiguredError, match="install"):
        current()
    context = SecurityContext.for_tests()
    install(context)
    try:
        assert current() is context
    finally:
        uninstall()


def test_tls_needs_its_files(tmp_path):
    with pytest.raises(ConfigurationError, match="security.ssl.internal.cert is not set"):
        TlsFiles.internal(Configuration({"security.ssl.internal.enabled": "true"}))
    with pytest.raises(ConfigurationError, match="not a file"):
        TlsFiles.internal(Configuration({
            "security.ssl.internal.enabled": "true",
            "security.ssl.internal.cert": str(tmp_path / "missing.pem")}))
    assert TlsFiles.internal(Configuration()) is None
    assert TlsFiles.rest(Configuration()) is None


def test_ensure_command_creates_once(tmp_path):
    (tmp_path / "flink-conf.yaml").write_text("rest.port: 8081\n")
    env = dict(os.environ, PYTHONPATH=_REPO)
    env.pop(SECRET_ENV_VAR, None)
    command = [sys.executable, "-m", "flink_py.security.cluster_secret", "ensure",
               str(tmp_path)]
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == str(tmp_path / SECRET_FILE_NAME)
    content = (tmp_path / SECRET_FILE_NAME).read_text()
    second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert second.returncode == 0 and (tmp_path / SECRET_FILE_NAME).read_text() == content
    (tmp_path / SECRET_FILE_NAME).chmod(0o640)
    refused = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert refused.returncode == 1 and "chmod 600" in refused.stderr
