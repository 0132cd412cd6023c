"""A secured cluster as a user runs it (issue 9): ``bin/start-cluster.sh``, ``flink run``,
``flink list``, ``flink cancel``, ``bin/stop-cluster.sh``, with the cluster secret the script
generates and nothing else configured, and with mutual TLS inside and HTTPS outside on top.
A ``flink`` command whose configuration directory lacks the secret is refused in one line.
"""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
from pathlib import Path

from flink_py.testing.openssl_certs import make_certificates
from flink_py.testing.poll import wait_until
from tests.e2e.test_startup_errors import (
    BIN_DIR, SCRIPT_TIMEOUT_S, ScriptCluster, _submit, _ticks_job)
from tests.e2e.test_startup_errors import make_cluster  # noqa: F401,F811 (a fixture)

LISTED = re.compile(r"^[\d.]+ [\d:]+ : ([0-9a-f]{32}) : ticks \((\w+)\)$", re.M)


def _listed(cluster: ScriptCluster, *args: str) -> dict:
    done = cluster.flink("list", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return {job_id: state for job_id, state in LISTED.findall(done.stdout)}


def _round_trip(cluster: ScriptCluster) -> None:
    started = cluster.run("start-cluster.sh")
    assert started.returncode == 0, started.stdout
    secret_file = cluster.conf_dir / ".cluster-secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600

    job_id = _submit(cluster, _ticks_job(2))
    wait_until(lambda: _listed(cluster).get(job_id) == "RUNNING", "the job to be RUNNING",
               timeout_s=60)
    cancelled = cluster.flink("cancel", job_id)
    assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
    assert f"Cancelled job {job_id}." in cancelled.stdout
    wait_until(lambda: _listed(cluster, "-a").get(job_id) == "CANCELED",
               "the job to be CANCELED", timeout_s=60)

    # the same installation without the secret file: refused, in one line, nothing runs
    stranger_conf = cluster.root / "stranger-conf"
    shutil.copytree(cluster.conf_dir, stranger_conf)
    (stranger_conf / ".cluster-secret").unlink()
    env = dict(cluster.env, FLINK_CONF_DIR=str(stranger_conf))
    refused = subprocess.run([str(BIN_DIR / "flink"), "cancel", job_id], env=env,
                             cwd=cluster.root, capture_output=True, text=True,
                             timeout=SCRIPT_TIMEOUT_S)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    message = [line for line in (refused.stdout + refused.stderr).splitlines()
               if "HTTP 401" in line]
    assert len(message) == 1, refused.stdout + refused.stderr
    assert ".cluster-secret" in message[0] or "rest.authentication.token" in message[0]

    stopped = cluster.run("stop-cluster.sh")
    assert stopped.returncode == 0, stopped.stdout
    wait_until(lambda: not cluster.own_processes(), "the daemons to stop", timeout_s=60)


def test_the_generated_secret_is_all_a_user_needs(make_cluster) -> None:
    cluster = make_cluster()
    assert not (cluster.conf_dir / ".cluster-secret").exists()
    _round_trip(cluster)


def test_mutual_tls_inside_and_https_outside(make_cluster, tmp_path: Path) -> None:
    certs = make_certificates(str(tmp_path / "certs"), "cluster")
    cluster = make_cluster(extra_conf="".join(f"{key}: {value}\n" for key, value in {
        "security.ssl.internal.enabled": "true",
        "security.ssl.internal.cert": certs.cert,
        "security.ssl.internal.key": certs.key,
        "security.ssl.internal.ca": certs.ca,
        "security.ssl.rest.enabled": "true",
        "security.ssl.rest.cert": certs.cert,
        "security.ssl.rest.key": certs.key,
        "security.ssl.rest.ca": certs.ca,
    }.items()))
    _round_trip(cluster)
    log = cluster.file("jobmanager", 0, "log").read_text()
    assert "REST endpoint listening at https://" in log, log[-2000:]
