"""Scaling on one host: N TaskManagers x S slots of (nearly) idle slot workers.

    PYTHONPATH=. python3 benchmarks/scaling.py [--task-managers 8,16,32] [--slots 4] ...

A benchmark, not a test: it prints a table (and, with ``--json``, writes the raw figures).
For each N it starts a JobManager and N TaskManagers with ``ProcessCluster`` and measures

* registration: from starting the N TaskManager processes to ``/overview`` showing all
  N x S slots (every slot worker started, every TaskManager registered);
* the JobManager's CPU per heartbeat round: utime+stime of the JobManager process
  (``/proc/<pid>/stat``) over a quiet window with every TaskManager registered and no job,
  minus the JobManager's own idle rate measured before any TaskManager started, divided by
  the rounds in the window (window / ``heartbeat.interval``). A round is N heartbeats
  pushed by the TaskManagers plus N heartbeat requests the ResourceManager sends;
* submit-to-RUNNING of a job with parallelism N x S: ``source -> key_by -> map -> sink``
  whose sources emit one record per ``--record-period-s`` each (the workers stay nearly
  idle but records cross the exchange; a checkpoint trigger waits up to one period), from ``submit_job`` to the job RUNNING (slots held) and to
  every subtask RUNNING (``/jobs/overview``), with the JobManager's CPU over that time;
* data-plane TCP connections once the job runs: ESTABLISHED sockets in ``/proc/net/tcp``
  and ``tcp6`` whose local port is a slot worker's data port (its ``DataServer``), with the
  gRPC connections beside them, and the threads, RSS and descriptors of the processes;
* checkpoint round trip: ``end_to_end_duration`` (trigger to completed) of the completed
  checkpoints in ``/jobs/<id>/checkpoints``, and the JobManager's CPU per checkpoint (its CPU
  over the checkpointing window minus the quiet rate, divided by the checkpoints completed),
  with the CPU of all the cluster's processes over that window (how loaded the host was).

The key_by job opens one TCP connection and two threads per pair of slots (see
docs/scaling.md), so it is run only where those threads fit the host's pid space with room
to spare (``--max-thread-share``); past that the job is the same without the key_by (a
forward edge, both vertices in each slot's process: no data connections), so that the
checkpoint round trip with all subtasks is still measured.

Every process started is stopped in ``finally``; the script checks afterwards that none of
the cluster's processes is left. Everything shares the host's cores (2 on the machine this
was written on): absolute times include the host's contention, the JobManager's CPU figures
are the ones that carry over.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flink_py.api.functions import SinkFunction  # noqa: E402
from flink_py.datastream import StreamExecutionEnvironment  # noqa: E402
from flink_py.testing.poll import wait_until  # noqa: E402
from flink_py.testing.process_cluster import ProcessCluster, processes_with_argument  # noqa: E402

if __name__ != "__main__":  # imported: the job's functions must still travel by value
    import cloudpickle
    cloudpickle.register_pickle_by_value(sys.modules[__name__])

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: how long the cluster's start, the job's deployment and its cancellation may take at most
#: (a deadline, not an expected time: 128 Python processes start on 2 cores)
START_TIMEOUT_S = 900.0
DEPLOY_TIMEOUT_S = 600.0
CANCEL_TIMEOUT_S = 300.0
#: what the TaskManager logs for each slot worker it started
_WORKER_LINE = re.compile(r"Slot worker (\d+) started \(pid (\d+), rpc port (\d+), "
                          r"data port (\d+)\)")
_ESTABLISHED = "01"
#: the sequence the sources emit: more than any run reaches (the job runs until cancelled)
SEQUENCE_END = 10 ** 15


# -- the job ------------------------------------------------------------------------------------


def pacer(period_s: float) -> Callable[[int], int]:
    """A map that holds each record for ``period_s``: chained to the sequence source, it
    makes each source subtask emit one record per period. The source's adaptive batch
    shrinks to one record per step (a step this slow halves it), so a checkpoint trigger,
    a mail, waits at most one period."""
    def pace(value: int) -> int:
        time.sleep(period_s)
        return value
    return pace


class DiscardingSink(SinkFunction):
    """Drops every record."""

    def invoke(self, value: Any, context: Any) -> None:
        pass


def _key(value: int) -> int:
    return value % 1009


def _identity(value: int) -> int:
    return value


def build_job(parallelism: int, keyed: bool, record_period_s: float,
              checkpoint_interval_ms: int) -> Any:
    """The JobGraph: a paced parallel source -> key_by -> map -> sink (``keyed``), or
    source -> map -> sink with the map starting a new chain (a forward edge inside each
    slot's process). Two vertices of ``parallelism`` subtasks either way."""
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    env.enable_checkpointing(checkpoint_interval_ms)
    stream = env.from_sequence(0, SEQUENCE_END).map(pacer(record_period_s))
    if keyed:
        mapped = stream.key_by(_key).map(_identity)
    else:
        mapped = stream.map(_identity).start_new_chain()
    mapped.add_sink(DiscardingSink())
    return env.get_job_graph(f"scaling p={parallelism} {'keyed' if keyed else 'forward'}")


# -- /proc ------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def total_cpu_seconds(pids: Sequence[int]) -> float:
    """The sum of ``cpu_seconds`` over the processes still alive."""
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            pass  # ended meanwhile
    return total


def status_fields(pid: int) -> Dict[str, int]:
    """Threads and VmRSS (KiB) of ``pid`` from /proc/<pid>/status, and its open fds."""
    found = {"threads": 0, "rss_kib": 0, "fds": 0}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    found["threads"] = int(line.split()[1])
                elif line.startswith("VmRSS:"):
                    found["rss_kib"] = int(line.split()[1])
        found["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        pass  # ended meanwhile
    return found


def tcp_sockets() -> List[Tuple[int, int, str]]:
    """(local port, remote port, state) of every TCP socket of this network namespace."""
    sockets = []
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)  # the header
                for line in f:
                    parts = line.split()
                    local, remote, state = parts[1], parts[2], parts[3]
                    sockets.append((int(local.rsplit(":", 1)[1], 16),
                                    int(remote.rsplit(":", 1)[1], 16), state))
        except OSError:
            pass  # no IPv6
    return sockets


def host_threads() -> Tuple[int, int]:
    """(threads on the host now, pid_max): every thread takes a pid."""
    with open("/proc/loadavg") as f:
        total = int(f.read().split()[3].split("/")[1])
    with open("/proc/sys/kernel/pid_max") as f:
        return total, int(f.read())


def available_memory_kib() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    raise LookupError("no MemAvailable in /proc/meminfo")


# -- the cluster ----------------------------------------------------------------------------


def rest_or_none(cluster: ProcessCluster, path: str) -> Any:
    """A REST GET, or None when it fails (a JobManager starved by a saturated host answers
    late): a poll then counts it as "not yet"."""
    try:
        return cluster.rest(path)
    except OSError:  # timeouts and refused connections (URLError is an OSError)
        return None


@dataclass
class Worker:
    pid: int
    rpc_port: int
    data_port: int


def slot_workers(cluster: ProcessCluster, count: int) -> List[Worker]:
    """The slot workers, from what each TaskManager logs for the ones it started."""
    workers = []
    for index in range(len(cluster.task_managers)):
        for match in _WORKER_LINE.finditer(cluster.log(f"taskmanager-{index}")):
            workers.append(Worker(int(match.group(2)), int(match.group(3)),
                                  int(match.group(4))))
    if len(workers) != count:
        raise AssertionError(f"found {len(workers)} slot workers in the logs, expected {count}")
    return workers


@dataclass
class Connections:
    data: int
    grpc_to_workers: int
    grpc_to_jobmanager: int


def count_connections(workers: Sequence[Worker], jobmanager_rpc_port: int) -> Connections:
    """ESTABLISHED connections, each counted once at its server's end (local port)."""
    data_ports: Set[int] = {w.data_port for w in workers}
    rpc_ports: Set[int] = {w.rpc_port for w in workers}
    data = grpc_workers = grpc_jm = 0
    for local, _, state in tcp_sockets():
        if state != _ESTABLISHED:
            continue
        if local in data_ports:
            data += 1
        elif local in rpc_ports:
            grpc_workers += 1
        elif local == jobmanager_rpc_port:
            grpc_jm += 1
    return Connections(data, grpc_workers, grpc_jm)


@dataclass
class Figures:
    task_managers: int
    slots: int
    job: str = "-"
    register_s: float = 0.0
    jm_idle_cpu_per_s: float = 0.0
    jm_quiet_cpu_per_s: float = 0.0
    jm_cpu_per_round_ms: float = 0.0
    cluster_quiet_cpu_per_s: float = 0.0
    submit_to_job_running_s: float = 0.0
    submit_to_all_running_s: float = 0.0
    jm_cpu_deploy_s: float = 0.0
    subtasks: int = 0
    data_connections: int = 0
    grpc_to_workers: int = 0
    grpc_to_jobmanager: int = 0
    worker_threads_mean: float = 0.0
    worker_rss_mib_mean: float = 0.0
    worker_fds_mean: float = 0.0
    worker_threads_idle_mean: float = 0.0
    worker_rss_mib_idle_mean: float = 0.0
    jm_threads: int = 0
    checkpoints_completed: int = 0
    checkpoints_failed: int = 0
    checkpoint_rtt_ms: List[int] = field(default_factory=list)
    jm_cpu_per_checkpoint_ms: float = 0.0
    cluster_running_cpu_per_s: float = 0.0
    cancel_s: float = 0.0
    skipped: str = ""


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _worker_stats(workers: Sequence[Worker]) -> Dict[str, float]:
    stats = [status_fields(w.pid) for w in workers]
    return {"threads": _mean([s["threads"] for s in stats]),
            "rss_mib": _mean([s["rss_kib"] / 1024 for s in stats]),
            "fds": _mean([s["fds"] for s in stats])}


def _cpu_window(pid: int, seconds: float) -> float:
    """CPU seconds per second of ``pid`` over the next ``seconds`` (the benchmark paces
    itself here: the window is the measurement)."""
    before, start = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.monotonic() - start)


def measure(base: str, args: argparse.Namespace, task_managers: int) -> Figures:
    """Every figure for one cluster size (starts and stops its cluster)."""
    slots = args.slots
    parallelism = task_managers * slots
    figures = Figures(task_managers, slots)
    # a slot worker is a ~45 MB Python process; a TaskManager ~40 MB; plus the data plane's
    # buffers (512 KiB per connection, see docs/scaling.md) when the job is keyed
    needed_kib = (parallelism * 50 + task_managers * 45 + 300) * 1024
    if available_memory_kib() < needed_kib * 1.5:
        figures.skipped = (f"needs ~{needed_kib // 1024} MiB, "
                           f"{available_memory_kib() // 1024} MiB available")
        return figures
    interval_ms = args.heartbeat_interval_ms
    cluster = ProcessCluster(
        os.path.join(base, f"tm{task_managers}"), task_managers=0, slots=slots, start=False,
        conf={"heartbeat.interval": interval_ms,
              # generous: 2 cores starting 100+ processes must not make a TaskManager "lost"
              "heartbeat.timeout": args.heartbeat_timeout_ms,
              "slot.request.timeout": int(DEPLOY_TIMEOUT_S * 1000),
              "parallelism.default": 1})
    try:
        cluster.start_jobmanager()
        assert cluster.jobmanager is not None
        jm = cluster.jobmanager.pid
        time.sleep(args.settle_s)
        figures.jm_idle_cpu_per_s = _cpu_window(jm, args.baseline_s)

        started = time.monotonic()
        for _ in range(task_managers):
            cluster.start_task_manager()

        def registered() -> bool:
            overview = rest_or_none(cluster, "/overview")
            return overview is not None and overview["slots-total"] == parallelism and \
                overview["taskmanagers"] == task_managers
        wait_until(registered, f"{task_managers} TaskManagers with {parallelism} slots",
                   timeout_s=START_TIMEOUT_S, interval_s=0.2)
        figures.register_s = time.monotonic() - started
        workers = slot_workers(cluster, parallelism)
        pids = [jm] + [p.pid for p in cluster.task_managers] + [w.pid for w in workers]

        time.sleep(args.settle_s)  # the last workers' start-up work ends
        cluster_before = total_cpu_seconds(pids)
        quiet_start = time.monotonic()
        figures.jm_quiet_cpu_per_s = _cpu_window(jm, args.quiet_s)
        figures.cluster_quiet_cpu_per_s = (total_cpu_seconds(pids) - cluster_before) / (
            time.monotonic() - quiet_start)
        rounds_per_s = 1000.0 / interval_ms
        figures.jm_cpu_per_round_ms = 1000.0 * max(
            0.0, figures.jm_quiet_cpu_per_s - figures.jm_idle_cpu_per_s) / rounds_per_s
        idle = _worker_stats(workers)
        figures.worker_threads_idle_mean = idle["threads"]
        figures.worker_rss_mib_idle_mean = idle["rss_mib"]

        threads_now, pid_max = host_threads()
        data_plane_threads = 2 * parallelism * (parallelism - 1)
        keyed = data_plane_threads <= args.max_thread_share * (pid_max - threads_now)
        figures.job = "keyed" if keyed else "forward"
        if not keyed:
            print(f"[tm={task_managers}] key_by at p={parallelism} would start "
                  f"~{data_plane_threads} data-plane threads; {pid_max - threads_now} pids "
                  f"are free (pid_max {pid_max}): running the forward job instead",
                  file=sys.stderr)
        run_job(cluster, jm, workers, pids, figures, args, parallelism, keyed)
        return figures
    finally:
        cluster.stop()
        _check_stopped(cluster)


def run_job(cluster: ProcessCluster, jm: int, workers: Sequence[Worker], pids: Sequence[int],
            figures: Figures, args: argparse.Namespace, parallelism: int,
            keyed: bool) -> None:
    """Submits the job, measures its deployment, connections and checkpoints, cancels it."""
    client = cluster.client(timeout_s=120.0)
    job_graph = build_job(parallelism, keyed, args.record_period_s,
                          args.checkpoint_interval_ms)
    jm_before = cpu_seconds(jm)
    submitted = time.monotonic()
    job_id = client.submit_job(job_graph)
    seen: Dict[str, float] = {}

    def all_running() -> bool:
        overview = rest_or_none(cluster, "/jobs/overview")
        if overview is None:
            return False
        job = next(j for j in overview["jobs"] if j["jid"] == job_id)
        if job["state"] in ("FAILED", "CANCELED", "FINISHED"):
            raise AssertionError(f"the job ended {job['state']}: "
                                 f"{cluster.rest(f'/jobs/{job_id}/exceptions')}")
        if job["state"] == "RUNNING":
            seen.setdefault("job", time.monotonic())
        figures.subtasks = job["tasks"]["total"]
        return job["tasks"].get("running", 0) == job["tasks"]["total"]
    try:
        wait_until(all_running, f"every subtask of job {job_id} RUNNING",
                   timeout_s=DEPLOY_TIMEOUT_S, interval_s=0.05)
        running = time.monotonic()
        figures.jm_cpu_deploy_s = cpu_seconds(jm) - jm_before
        figures.submit_to_all_running_s = running - submitted
        figures.submit_to_job_running_s = seen.get("job", running) - submitted

        time.sleep(args.settle_s)  # the channels' connects and first records are done
        connections = count_connections(workers, cluster.rpc_port)
        figures.data_connections = connections.data
        figures.grpc_to_workers = connections.grpc_to_workers
        figures.grpc_to_jobmanager = connections.grpc_to_jobmanager
        busy = _worker_stats(workers)
        figures.worker_threads_mean = busy["threads"]
        figures.worker_rss_mib_mean = busy["rss_mib"]
        figures.worker_fds_mean = busy["fds"]
        figures.jm_threads = status_fields(jm)["threads"]

        def statistics_now() -> Dict[str, Any]:
            return wait_until(lambda: rest_or_none(cluster, f"/jobs/{job_id}/checkpoints"),
                              "the checkpoint statistics", timeout_s=120.0, interval_s=1.0)

        def counts() -> Dict[str, Any]:
            return statistics_now()["counts"]
        first = counts()
        cluster_start = total_cpu_seconds(pids)
        cpu_start, window_start = cpu_seconds(jm), time.monotonic()
        target = first["completed"] + args.checkpoints
        try:
            wait_until(lambda: counts()["completed"] >= target,
                       f"{args.checkpoints} more completed checkpoints of job {job_id}",
                       timeout_s=args.checkpoints * (args.checkpoint_interval_ms / 1000.0
                                                     + args.checkpoint_wait_s),
                       interval_s=1.0)
        except AssertionError as exc:  # a saturated host: report what did complete
            figures.skipped = str(exc)
        window = time.monotonic() - window_start
        cpu = cpu_seconds(jm) - cpu_start
        figures.cluster_running_cpu_per_s = (total_cpu_seconds(pids) - cluster_start) / window
        stats = statistics_now()
        done = stats["counts"]["completed"] - first["completed"]
        figures.checkpoints_completed = stats["counts"]["completed"]
        figures.checkpoints_failed = stats["counts"]["failed"]
        figures.checkpoint_rtt_ms = sorted(
            h["end_to_end_duration"] for h in stats["history"] if h["status"] == "COMPLETED")
        figures.jm_cpu_per_checkpoint_ms = 1000.0 * max(
            0.0, cpu - figures.jm_quiet_cpu_per_s * window) / max(done, 1)
    finally:
        cancelled = time.monotonic()
        client.cancel_job(job_id)
        wait_until(lambda: (rest_or_none(cluster, f"/jobs/{job_id}/status") or {}).get(
                       "status") == "CANCELED",
                   f"job {job_id} CANCELED", timeout_s=CANCEL_TIMEOUT_S, interval_s=0.1)
        figures.cancel_s = time.monotonic() - cancelled


def _check_stopped(cluster: ProcessCluster) -> None:
    """Waits for every process of the cluster (found by its conf dir) to be gone."""
    def gone() -> bool:
        return not processes_with_argument(cluster.conf_dir)
    wait_until(gone, f"every process of {cluster.conf_dir} gone", timeout_s=60.0,
               interval_s=0.2)


# -- output --------------------------------------------------------------------------------


def print_table(results: Sequence[Figures], interval_ms: int) -> None:
    columns = [f"{r.task_managers}x{r.slots}" for r in results]
    rows: List[Tuple[str, List[str]]] = []

    def row(name: str, values: List[str]) -> None:
        rows.append((name, values))

    row("slots (= job parallelism)", [str(r.task_managers * r.slots) for r in results])
    row("job", [r.job for r in results])
    row("all TaskManagers registered (s)", [f"{r.register_s:.1f}" for r in results])
    row("JM idle CPU, no TaskManager (ms/s)", [f"{1000 * r.jm_idle_cpu_per_s:.1f}"
                                               for r in results])
    row("JM CPU, all registered, no job (ms/s)", [f"{1000 * r.jm_quiet_cpu_per_s:.1f}"
                                                  for r in results])
    row(f"JM CPU per heartbeat round (ms; {interval_ms} ms rounds)",
        [f"{r.jm_cpu_per_round_ms:.2f}" for r in results])
    row("  per TaskManager (ms)", [f"{r.jm_cpu_per_round_ms / r.task_managers:.3f}"
                                   for r in results])
    row("whole idle cluster CPU (cores)", [f"{r.cluster_quiet_cpu_per_s:.2f}" for r in results])
    row("idle slot worker: threads / RSS MiB", [
        f"{r.worker_threads_idle_mean:.0f} / {r.worker_rss_mib_idle_mean:.0f}" for r in results])
    row("subtasks", [str(r.subtasks) for r in results])
    row("submit -> job RUNNING (s)", [f"{r.submit_to_job_running_s:.2f}" for r in results])
    row("submit -> all subtasks RUNNING (s)", [f"{r.submit_to_all_running_s:.2f}"
                                              for r in results])
    row("JM CPU for the deployment (s)", [f"{r.jm_cpu_deploy_s:.2f}" for r in results])
    row("data-plane TCP connections", [str(r.data_connections) for r in results])
    row("gRPC connections to workers / to JM", [
        f"{r.grpc_to_workers} / {r.grpc_to_jobmanager}" for r in results])
    row("running worker: threads / RSS MiB / fds", [
        f"{r.worker_threads_mean:.0f} / {r.worker_rss_mib_mean:.0f} / {r.worker_fds_mean:.0f}"
        for r in results])
    row("JM threads (job running)", [str(r.jm_threads) for r in results])
    row("checkpoints completed / failed", [
        f"{r.checkpoints_completed} / {r.checkpoints_failed}" for r in results])
    row("checkpoint round trip, median (ms)", [
        f"{statistics.median(r.checkpoint_rtt_ms):.0f}" if r.checkpoint_rtt_ms else "-"
        for r in results])
    row("checkpoint round trip, min-max (ms)", [
        f"{r.checkpoint_rtt_ms[0]}-{r.checkpoint_rtt_ms[-1]}" if r.checkpoint_rtt_ms else "-"
        for r in results])
    row("JM CPU per checkpoint (ms)", [f"{r.jm_cpu_per_checkpoint_ms:.0f}" for r in results])
    row("whole cluster CPU, job running (cores)", [f"{r.cluster_running_cpu_per_s:.2f}"
                                                   for r in results])
    row("cancel -> CANCELED (s)", [f"{r.cancel_s:.2f}" for r in results])
    for r in results:
        if r.skipped:
            print(f"{r.task_managers}x{r.slots}: {r.skipped}")
    width = max(len(name) for name, _ in rows)
    col = max(10, *(len(v) for _, values in rows for v in values)) if rows else 10
    col = min(col, 24)
    print(f"{'TaskManagers x slots':{width}}  " + "  ".join(f"{c:>{col}}" for c in columns))
    print("-" * (width + (col + 2) * len(columns)))
    for name, values in rows:
        print(f"{name:{width}}  " + "  ".join(f"{v:>{col}}" for v in values))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task-managers", default="8,16,32",
                        help="comma-separated cluster sizes (default: 8,16,32)")
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--heartbeat-interval-ms", type=int, default=500)
    parser.add_argument("--heartbeat-timeout-ms", type=int, default=60000)
    parser.add_argument("--baseline-s", type=float, default=15.0,
                        help="window for the JobManager's idle CPU before TaskManagers start")
    parser.add_argument("--quiet-s", type=float, default=40.0,
                        help="window for the CPU of the registered, idle cluster")
    parser.add_argument("--settle-s", type=float, default=3.0)
    parser.add_argument("--checkpoints", type=int, default=5)
    parser.add_argument("--checkpoint-interval-ms", type=int, default=2000)
    parser.add_argument("--checkpoint-wait-s", type=float, default=40.0,
                        help="how long past its interval each checkpoint may take before "
                             "the run gives up waiting (and reports what completed)")
    parser.add_argument("--record-period-s", type=float, default=0.02,
                        help="each source subtask emits one record per this period")
    parser.add_argument("--max-thread-share", type=float, default=0.5,
                        help="the key_by job runs only if its data-plane threads "
                             "(2 per connection) take at most this share of the free pids")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.task_managers.split(",") if s.strip()]
    results = []
    with tempfile.TemporaryDirectory(prefix="flink_py-scaling-") as base:
        for size in sizes:
            print(f"[tm={size}] measuring {size} TaskManagers x {args.slots} slots ...",
                  file=sys.stderr, flush=True)
            started = time.monotonic()
            results.append(measure(base, args, size))
            print(f"[tm={size}] done in {time.monotonic() - started:.0f} s: "
                  f"{asdict(results[-1])}", file=sys.stderr, flush=True)
    print_table(results, args.heartbeat_interval_ms)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([asdict(r) for r in results], f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
