"""Unaligned checkpoints on the MiniCluster under backpressure: the barrier overtakes the queued
buffers (output side), so a checkpoint does not wait for the queues to drain; the overtaken
and the in-flight buffers are channel state, restored exactly once, also at another
parallelism.

User functions are module-level (pickled by reference): the MiniCluster runs them here, and
they meet the test through ``_shared``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Dict, Optional

import pytest

from flink_py.common import Types
from flink_py.common.job_status import JobStatus
from flink_py.datastream import SinkFunction, StreamExecutionEnvironment
from flink_py.datastream.functions import CheckpointListener, MapFunction, RuntimeContext
from flink_py.datastream.state import ValueStateDescriptor
from flink_py.graph.job_graph import JobGraph
from flink_py.runtime.checkpoint.metadata import CheckpointMetadata
from flink_py.runtime.checkpoint.metadata_serializer import read_metadata_file
from flink_py.runtime.minicluster import MiniCluster
from flink_py.testing.poll import wait_until
from flink_py.testing.shared import shared

DEADLINE_S = 60.0
KEYS = 4


# -- user functions ----------------------------------------------------------------------------


class SlowCountPerKey(MapFunction, CheckpointListener):
    """Counts per key in keyed state, taking ``delay_s`` per record until the shared ``fast``
    event is set; can fail once (shared ``failed`` event) after a checkpoint completed."""

    def __init__(self, token: str, delay_s: float, fail_after: Optional[int] = None) -> None:
        self.token = token
        self.delay_s = delay_s
        self.fail_after = fail_after

    def open(self, runtime_context: RuntimeContext) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))
        self.fast = shared(self.token, "fast", threading.Event)
        self.failed = shared(self.token, "failed", threading.Event)
        self.seen = 0
        self.checkpointed = False

    def map(self, value: int) -> tuple:
        if not self.fast.is_set():
            time.sleep(self.delay_s)
        self.seen += 1
        if (self.fail_after is not None and self.checkpointed and self.seen >= self.fail_after
                and not self.failed.is_set()):
            self.failed.set()
            raise RuntimeError(f"injected failure at {value}")
        n = (self.count.value() or 0) + 1
        self.count.update(n)
        return value % KEYS, n

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        self.checkpointed = True


_COUNTS_LOCK = threading.Lock()


class LatestCounts(SinkFunction):
    """Keeps the highest count seen per key in the shared ``counts`` dict."""

    def __init__(self, token: str) -> None:
        self.token = token

    def invoke(self, value: tuple, context: Any = None) -> None:
        counts = shared(self.token, "counts", dict)
        key, n = value
        with _COUNTS_LOCK:
            counts[key] = max(counts.get(key, 0), n)


def _keyed_job(token: str, n: int, delay_s: float, settings: Dict[str, str],
               parallelism: int = 1, fail_after: Optional[int] = None) -> JobGraph:
    """numbers ``0 .. n-1`` (p=1) -> rebalance -> map (p) -> key_by -> slow count (p) -> sink.

    The source is ``from_sequence`` (polled by its task's mailbox), so that nothing but the
    backpressure decides how long a barrier takes to get out of it.
    """
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    env.enable_checkpointing(int(settings.pop("interval_ms", "100")))
    (env.from_sequence(0, n - 1).set_parallelism(1).uid("numbers")
     .rebalance().map(lambda x: x).uid("pass")
     .key_by(lambda x: x % KEYS)
     .map(SlowCountPerKey(token, delay_s, fail_after)).uid("count")
     .add_sink(LatestCounts(token)))
    graph = env.get_job_graph(f"unaligned {token}")
    graph.job_configuration.update(settings)
    return graph


def _settings(tmp_path: Path, unaligned: bool = True, **extra: str) -> Dict[str, str]:
    settings = {
        "execution.checkpointing.unaligned.enabled": "true" if unaligned else "false",
        "execution.checkpointing.dir": f"file://{tmp_path / 'checkpoints'}",
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "restart-strategy.type": "none",
    }
    settings.update(extra)
    return settings


def _checkpoint_dir(tmp_path: Path, job_id: Any, checkpoint_id: int) -> Path:
    return tmp_path / "checkpoints" / str(job_id) / f"chk-{checkpoint_id}"


def _in_flight(metadata: CheckpointMetadata) -> Dict[str, int]:
    """How many handles of each kind of channel state, with the ship strategies seen."""
    kinds: Dict[str, int] = {}
    for state in metadata.operator_states:
        for sub in state.subtask_states.values():
            for handle in sub.input_channel_state:
                key = f"input {handle.ship_strategy}"
                kinds[key] = kinds.get(key, 0) + 1
            for handle in sub.result_subpartition_state:
                key = f"output {handle.ship_strategy}"
                kinds[key] = kinds.get(key, 0) + 1
    return kinds


# -- the barrier does not wait behind a full queue -----------------------------------------------

RECORDS_PER_BUFFER = 20
BUFFERS_PER_CHANNEL = 20
RECORD_DELAY_S = 0.005


@pytest.mark.parametrize("unaligned", [True, False], ids=["unaligned", "aligned"])
def test_an_unaligned_checkpoint_of_a_backpressured_job_does_not_wait_for_the_queues_to_drain(
        tmp_path: Path, token: str, unaligned: bool) -> None:
    # The source fills the queue in front of the slow count at once; the first checkpoint
    # comes when it is full. Draining one full queue takes this long:
    drain_s = BUFFERS_PER_CHANNEL * RECORDS_PER_BUFFER * RECORD_DELAY_S
    graph = _keyed_job(token, 10 ** 9, RECORD_DELAY_S,
                       _settings(tmp_path, unaligned, interval_ms="1000"))
    with MiniCluster(1, 3, records_per_buffer=RECORDS_PER_BUFFER,
                     network_buffers_per_channel=BUFFERS_PER_CHANNEL,
                     local_handoff=False) as cluster:
        dispatcher = cluster.dispatcher
        job_id = dispatcher.submit_job(graph)
        master = dispatcher.job_master(job_id)

        def completed() -> Any:
            coordinator = master.checkpoint_coordinator
            return coordinator is not None and \
                coordinator.statistics_snapshot.latest_completed
        wait_until(completed, what="a completed checkpoint", timeout_s=DEADLINE_S)
        stats = completed()
        metadata = read_metadata_file(
            str(_checkpoint_dir(tmp_path, job_id, stats.checkpoint_id) / "_metadata"))
        dispatcher.cancel_job(job_id)
        assert dispatcher.request_job_result(job_id, DEADLINE_S).status is JobStatus.CANCELED
    duration_s = stats.end_to_end_duration / 1000
    in_flight = _in_flight(metadata)
    if unaligned:
        # the barriers overtook the queued buffers: about one buffer's processing per task
        assert duration_s < drain_s / 3, (duration_s, drain_s)
        assert in_flight.get("output HASH", 0) >= 1, in_flight
    else:  # the control: an aligned barrier waits behind the full queues
        assert duration_s > drain_s / 2, (duration_s, drain_s)
        assert not in_flight, in_flight


# -- exactly once across a failure -----------------------------------------------------------------


def test_a_backpressured_unaligned_job_restores_its_in_flight_data_exactly_once(
        tmp_path: Path, token: str) -> None:
    n = 1600
    graph = _keyed_job(token, n, 0.002, _settings(
        tmp_path, **{"restart-strategy.type": "fixed-delay",
                     "restart-strategy.fixed-delay.attempts": "2",
                     "restart-strategy.fixed-delay.delay": "50 ms",
                     # the restored checkpoint stays until the job ends, to be inspected
                     "execution.checkpointing.num-retained": "1000"}),
        parallelism=2, fail_after=150)
    with MiniCluster(1, 6, records_per_buffer=10, network_buffers_per_channel=10,
                     local_handoff=False) as cluster:
        dispatcher = cluster.dispatcher
        job_id = dispatcher.submit_job(graph)
        master = dispatcher.job_master(job_id)
        restored = wait_until(
            lambda: master.checkpoint_coordinator.statistics_snapshot.latest_restored,
            what="a restore from a checkpoint", timeout_s=DEADLINE_S)
        metadata = read_metadata_file(str(
            _checkpoint_dir(tmp_path, job_id, restored.checkpoint_id) / "_metadata"))
        result = dispatcher.request_job_result(job_id, DEADLINE_S)
    assert result.status is JobStatus.FINISHED, result.failure
    assert shared(token, "failed", threading.Event).is_set()
    kinds = _in_flight(metadata)
    assert kinds.get("output HASH") or kinds.get("input HASH"), kinds
    assert shared(token, "counts", dict) == {k: n // KEYS for k in range(KEYS)}


# -- restore at another parallelism ------------------------------------------------------------


@pytest.mark.parametrize("new_parallelism", [1, 3])
def test_a_retained_unaligned_checkpoint_with_in_flight_data_restores_rescaled(
        tmp_path: Path, token: str, new_parallelism: int) -> None:
    n = 4000
    with MiniCluster(1, 8, records_per_buffer=10, network_buffers_per_channel=10,
                     local_handoff=False) as cluster:
        dispatcher = cluster.dispatcher
        first = dispatcher.submit_job(_keyed_job(token, n, 0.005, _settings(tmp_path),
                                                 parallelism=2))
        master = dispatcher.job_master(first)

        def keyed_in_flight() -> Optional[int]:
            coordinator = master.checkpoint_coordinator
            stats = coordinator and coordinator.statistics_snapshot.latest_completed
            if not stats:
                return None
            path = _checkpoint_dir(tmp_path, first, stats.checkpoint_id) / "_metadata"
            if not path.exists():
                return None  # already replaced by a newer one
            kinds = _in_flight(read_metadata_file(str(path)))
            return stats.checkpoint_id if kinds.get("input HASH") and \
                kinds.get("output HASH") else None
        wait_until(keyed_in_flight, what="a checkpoint with keyed in-flight data",
                   timeout_s=DEADLINE_S)
        dispatcher.cancel_job(first)
        assert dispatcher.request_job_result(first, DEADLINE_S).status is JobStatus.CANCELED
        retained = sorted(p for p in (tmp_path / "checkpoints" / str(first)).iterdir()
                          if p.name.startswith("chk-"))
        assert len(retained) == 1, retained
        kinds = _in_flight(read_metadata_file(str(retained[0] / "_metadata")))
        # in flight into the keyed count and out of the rebalanced map, and the source's
        # rebalanced output or the map's input
        assert kinds.get("input HASH") and kinds.get("output HASH"), kinds
        assert kinds.get("output REBALANCE") or kinds.get("input REBALANCE"), kinds
        counted_before = dict(shared(token, "counts", dict))
        assert sum(counted_before.values()) < n, "the first run stopped half way"

        shared(token, "fast", threading.Event).set()
        shared(token, "counts", dict).clear()
        second = dispatcher.submit_job(_keyed_job(
            token, n, 0.005, _settings(tmp_path, **{
                "execution.savepoint.path": str(retained[0])}),
            parallelism=new_parallelism))
        result = dispatcher.request_job_result(second, DEADLINE_S)
    assert result.status is JobStatus.FINISHED, result.failure
    assert shared(token, "counts", dict) == {k: n // KEYS for k in range(KEYS)}
