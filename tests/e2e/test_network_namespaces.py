"""The cluster across Linux network namespaces: JobManager and TaskManagers each in their own
namespace, joined by veth pairs on a bridge, reaching each other only over their configured
addresses (no shared loopback). Needs root (CAP_NET_ADMIN); skipped with the reason if the
machine does not allow namespaces."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from typing import Any, Iterator, List

import pytest

from flink_py.testing.poll import wait_until
from flink_py.testing.process_cluster import REPO, ProcessCluster

SUBNET = "10.231.{}.{}"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


class _Namespaces:
    """A bridge in the root namespace and one namespace per daemon, each with a veth on it."""

    def __init__(self, names: List[str]) -> None:
        tag = secrets.token_hex(2)
        self.bridge = f"fpbr{tag}"
        self.net = int(tag, 16) % 200 + 20
        self.namespaces: List[str] = []
        self.links: List[str] = []
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{SUBNET.format(self.net, 254)}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        self.addresses = {}
        for i, name in enumerate(names, start=1):
            ns, host_end, ns_end = f"fp{tag}{name}", f"fpv{tag}{i}", f"fpn{tag}{i}"
            _ip("netns", "add", ns)
            self.namespaces.append(ns)
            _ip("link", "add", host_end, "type", "veth", "peer", "name", ns_end)
            self.links.append(host_end)
            _ip("link", "set", ns_end, "netns", ns)
            _ip("link", "set", host_end, "master", self.bridge)
            _ip("link", "set", host_end, "up")
            address = SUBNET.format(self.net, i)
            _ip("-n", ns, "addr", "add", f"{address}/24", "dev", ns_end)
            _ip("-n", ns, "link", "set", ns_end, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            self.addresses[name] = (ns, address)

    def prefix(self, name: str) -> List[str]:
        return ["ip", "netns", "exec", self.addresses[name][0]]

    def delete(self) -> None:
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
        for link in self.links:
            subprocess.run(["ip", "link", "del", link], capture_output=True, timeout=10)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, timeout=10)


def _namespaces_allowed() -> str:
    if os.geteuid() != 0:
        return "network namespaces need root"
    probe = f"fpprobe{secrets.token_hex(2)}"
    try:
        subprocess.run(["ip", "netns", "add", probe], check=True, capture_output=True,
                       timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"this machine does not allow network namespaces: {exc}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=10)
    return ""


@pytest.fixture
def namespaces() -> Iterator[_Namespaces]:
    reason = _namespaces_allowed()
    if reason:
        pytest.skip(reason)
    try:
        ns = _Namespaces(["jm", "tm1", "tm2"])
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"cannot set up veth/bridge networking: {exc.stderr!r}")
    try:
        yield ns
    finally:
        ns.delete()


def test_a_job_across_three_network_namespaces(namespaces: _Namespaces, tmp_path: Any) -> None:
    _, jm_address = namespaces.addresses["jm"]
    # Reached over the namespaces' addresses: the JobManager's and TaskManagers' endpoints bind
    # all interfaces (allowed: the cluster secret authenticates every peer), REST the
    # JobManager's address (it binds to localhost unless told otherwise).
    cluster = ProcessCluster(str(tmp_path), jobmanager_host=jm_address, slots=1, start=False,
                             conf={"jobmanager.bind-host": "0.0.0.0",
                                   "taskmanager.bind-host": "0.0.0.0",
                                   "rest.bind-address": jm_address})
    try:
        cluster.start_jobmanager(prefix=namespaces.prefix("jm"))
        cluster.start_task_manager(prefix=namespaces.prefix("tm1"))
        cluster.start_task_manager(prefix=namespaces.prefix("tm2"))
        overview = cluster.wait_for_slots(2)
        assert overview["taskmanagers"] == 2
        hosts = sorted(tm["id"].split(":")[0]
                       for tm in cluster.rest("/taskmanagers")["taskmanagers"])
        assert hosts == sorted([namespaces.addresses["tm1"][1],
                                namespaces.addresses["tm2"][1]]), hosts

        # A keyed exchange between the two TaskManagers' namespaces.
        done = cluster.flink("run", "-p", "2", "-c", "examples.word_count", cwd=REPO)
        assert done.returncode == 0, done.stdout + done.stderr
        job_id = re.search(r"JobID ([0-9a-f]{32})", done.stdout).group(1)
        assert cluster.rest(f"/jobs/{job_id}")["state"] == "FINISHED"
        wait_until(lambda: re.search(r"^\d> \(['\"]?to['\"]?, ?\d+\)$",
                                     cluster.log("taskmanager-0") + cluster.log("taskmanager-1"),
                                     re.M), what="word counts printed", timeout_s=10)
    finally:
        cluster.stop()
