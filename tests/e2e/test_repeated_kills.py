"""Repeated SIGKILLs at chosen moments of a failover never leave a job hanging in RESTARTING.

The recovery benchmark once saw a job stay RESTARTING for ever after the 4th kill of a
TaskManager: every task terminal, nothing redeployed, every slot free (a submit into the
killed worker failed after its restart had cancelled it; see
tests/unit/runtime/jobmaster/test_restart_races.py). Here slot workers and TaskManagers are
killed one after the other while the job runs, restarts, deploys and cancels, and after the
last kill every task must run again.
"""

from __future__ import annotations

import os
import random
import signal
from typing import Any, Callable, Dict, List

from flink_py.testing.jobs import endless_keyed_job
from flink_py.testing.poll import wait_until
from flink_py.testing.process_cluster import ProcessCluster, child_processes


#: how long to look for a moment before killing anyway (a fast failover can pass it unseen)
MOMENT_S = 4.0
#: how long the job may take to run again after the last kill
RECOVERY_S = 60.0


def _counts(details: Dict[str, Any]) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for vertex in details["vertices"]:
        for state, n in vertex["tasks"].items():
            counts[state] = counts.get(state, 0) + n
    return counts


def _all_running(details: Dict[str, Any]) -> bool:
    return details["state"] == "RUNNING" and all(
        v["tasks"].get("RUNNING", 0) == v["parallelism"] for v in details["vertices"])


#: the moments to kill at, as predicates over REST's job details
MOMENTS: Dict[str, Callable[[Dict[str, Any]], bool]] = {
    "running": _all_running,
    "restarting": lambda d: d["state"] == "RESTARTING",
    "deploying": lambda d: any(_counts(d).get(s, 0) for s in ("SCHEDULED", "DEPLOYING",
                                                                "INITIALIZING")),
    "canceling": lambda d: _counts(d).get("CANCELING", 0) > 0,
}


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_kills_at_any_moment_of_a_failover_never_leave_the_job_restarting(
        tmp_path: Any) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    markers = str(tmp_path / "markers")
    os.makedirs(markers)
    program = str(tmp_path / "job.py")
    with open(program, "w") as f:
        f.write(endless_keyed_job(markers, 300, 8, "repeated kills"))
    conf = {"restart-strategy.type": "fixed-delay",
            "restart-strategy.fixed-delay.attempts": 1000,
            "restart-strategy.fixed-delay.delay": "100 ms"}
    with ProcessCluster(str(tmp_path / "cluster"), task_managers=2, slots=2,
                        conf=conf) as cluster:
        done = cluster.flink("run", "-d", program)
        assert done.returncode == 0, done.stdout + done.stderr
        job_id = cluster.rest("/jobs/overview")["jobs"][0]["jid"]

        def details() -> Dict[str, Any]:
            return cluster.rest(f"/jobs/{job_id}")

        wait_until(lambda: _all_running(details()), timeout_s=RECOVERY_S, what="the job running")
        moments = ["running", "deploying", "restarting", "canceling", "deploying", "running"]
        rng.shuffle(moments)
        history: List[str] = []
        for moment in moments:
            try:
                wait_until(lambda: MOMENTS[moment](details()), timeout_s=MOMENT_S, interval_s=0.01,
                           what=moment)
                seen = moment
            except AssertionError:
                seen = f"{moment} (not seen)"

            def victims() -> List[int]:
                # the job's workers, else any (restarted TaskManagers may still start theirs)
                return [int(name[4:]) for name in os.listdir(markers)
                        if name.startswith("pid-") and _alive(int(name[4:]))] or \
                    [pid for tm in cluster.task_managers if tm.poll() is None
                     for pid in child_processes(tm.pid)]
            try:
                victim = rng.choice(wait_until(victims, timeout_s=RECOVERY_S,
                                               what="a slot worker"))
            except AssertionError as exc:
                raise AssertionError(
                    f"{exc} (seed {seed}; kills: {history}; TaskManagers (pid, exit code): "
                    f"{[(tm.pid, tm.poll()) for tm in cluster.task_managers]})") from exc
            task_managers = [tm for tm in cluster.task_managers if tm.poll() is None]
            if rng.random() < 0.3:
                [tm] = [tm for tm in task_managers if victim in child_processes(tm.pid)] or \
                    [rng.choice(task_managers)]
                tm.send_signal(signal.SIGKILL)
                tm.wait(10)
                cluster.start_task_manager()  # the cluster keeps its slots
                history.append(f"TaskManager {tm.pid} at {seen}")
            else:
                try:
                    os.kill(victim, signal.SIGKILL)
                    history.append(f"slot worker {victim} at {seen}")
                except ProcessLookupError:  # it ended meanwhile (its TaskManager was killed)
                    history.append(f"slot worker {victim} at {seen}, already gone")

        try:
            wait_until(lambda: _all_running(details()), timeout_s=RECOVERY_S, interval_s=0.1,
                       what="every task running again after the last kill")
        except AssertionError as exc:
            last = details()
            waits = [line for line in cluster.log("jobmanager").splitlines()
                     if "restart" in line][-10:]
            raise AssertionError(
                f"{exc} (seed {seed}; kills: {history}): job {last['state']}, tasks "
                f"{[v['tasks'] for v in last['vertices']]}, overview {cluster.rest('/overview')}"
                f"; the JobManager's last restart lines:\n" + "\n".join(waits)) from exc
        cluster.rest(f"/jobs/{job_id}?mode=cancel", method="PATCH")
        wait_until(lambda: details()["state"] == "CANCELED", timeout_s=RECOVERY_S,
                   what="cancelled")
