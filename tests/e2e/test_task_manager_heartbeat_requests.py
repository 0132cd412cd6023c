"""heartbeat.rpc-failure-threshold on real daemons: a SIGKILLed TaskManager (its slot workers
end with it) is removed after a few refused heartbeat requests, long before heartbeat.timeout.
"""

from __future__ import annotations

import signal
import time
from typing import Any

from flink_py.testing.poll import wait_until
from flink_py.testing.process_cluster import ProcessCluster

HEARTBEAT_TIMEOUT_S = 60.0


def test_a_killed_task_manager_is_removed_after_failed_heartbeat_requests(
        tmp_path: Any) -> None:
    conf = {"heartbeat.interval": 300, "heartbeat.timeout": int(HEARTBEAT_TIMEOUT_S * 1000),
            "heartbeat.rpc-failure-threshold": 2}
    with ProcessCluster(str(tmp_path), task_managers=2, slots=1, conf=conf) as cluster:
        victim = cluster.task_managers[0]
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        killed = time.monotonic()
        wait_until(lambda: len(cluster.rest("/taskmanagers")["taskmanagers"]) == 1,
                   timeout_s=HEARTBEAT_TIMEOUT_S / 4, interval_s=0.05,
                   what="the killed TaskManager gone")
        assert time.monotonic() - killed < HEARTBEAT_TIMEOUT_S / 4
        assert "2 consecutive heartbeat requests could not reach it" in \
            cluster.log("jobmanager")
