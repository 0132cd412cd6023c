"""Snapshots and restores of keyed state, timers and operator state, through the operator
test harnesses, on both state backends; restores at other parallelisms."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from flink_py.common.key_groups import KeyGroupRange
from flink_py.datastream.functions import (
    AggregateFunction, CheckpointedFunction, CheckpointListener, KeyedProcessFunction)
from flink_py.datastream.state import (
    AggregatingStateDescriptor, ListStateDescriptor, MapStateDescriptor,
    ReducingStateDescriptor, StateTtlConfig, ValueStateDescriptor)
from flink_py.common.time import Time
from flink_py.runtime.operators.keyed_process import KeyedProcessOperator
from flink_py.runtime.state.checkpoint_streams import MemoryCheckpointStreamFactory
from flink_py.runtime.state.state_backend import (
    EmbeddedRocksDBStateBackend, HashMapStateBackend, load_state_backend)
from flink_py.testing.harness import (
    KeyedOneInputStreamOperatorTestHarness, repartition_state)

BACKENDS = ["hashmap", "rocksdb"]


def _backend(name: str, tmp_path: Any) -> Any:
    if name == "hashmap":
        return HashMapStateBackend()
    pytest.importorskip("rocksdict")
    return EmbeddedRocksDBStateBackend(local_dir=str(tmp_path))


class _Average(AggregateFunction):
    def create_accumulator(self) -> List[int]:
        return [0, 0]

    def add(self, value: int, accumulator: List[int]) -> List[int]:
        return [accumulator[0] + value, accumulator[1] + 1]

    def get_result(self, accumulator: List[int]) -> float:
        return accumulator[0] / accumulator[1]

    def merge(self, a: List[int], b: List[int]) -> List[int]:
        return [a[0] + b[0], a[1] + b[1]]


def _ttl() -> StateTtlConfig:
    return StateTtlConfig.new_builder(Time.hours(1)).build()


def _descriptors(ttl: bool) -> Dict[str, Any]:
    descriptors = {
        "value": ValueStateDescriptor("count"),
        "list": ListStateDescriptor("seen"),
        "map": MapStateDescriptor("by-parity"),
        "reducing": ReducingStateDescriptor("sum", lambda a, b: a + b),
        "aggregating": AggregatingStateDescriptor("avg", _Average()),
    }
    if ttl:
        for descriptor in descriptors.values():
            descriptor.enable_time_to_live(_ttl())
    return descriptors


def _fill(backend: Any, states: Dict[str, Any], keys: range, namespace: Any) -> None:
    for key in keys:
        backend.set_current_key(key)
        for state in states.values():
            state.set_current_namespace(namespace)
        for n in (1, 2, 3):
            value = key * 10 + n
            states["value"].update(value)
            states["list"].add(value)
            states["map"].put(value % 2, value)
            states["reducing"].add(value)
            states["aggregating"].add(value)


def _read(backend: Any, states: Dict[str, Any], key: int, namespace: Any) -> tuple:
    backend.set_current_key(key)
    for state in states.values():
        state.set_current_namespace(namespace)
    return (states["value"].value(), list(states["list"].get()),
            sorted(states["map"].items()), states["reducing"].get(),
            states["aggregating"].get())


def _expected(key: int) -> tuple:
    values = [key * 10 + n for n in (1, 2, 3)]
    return (values[-1], values, sorted({v % 2: v for v in values}.items()), sum(values),
            sum(values) / 3)


def _new_backend(kind: str, tmp_path: Any, key_group_range: KeyGroupRange = KeyGroupRange(0, 127)
                 ) -> Any:
    return _backend(kind, tmp_path).create_keyed_state_backend(128, key_group_range, "test")


@pytest.mark.parametrize("backend_kind", BACKENDS)
@pytest.mark.parametrize("ttl", [False, True], ids=["no-ttl", "ttl"])
@pytest.mark.parametrize("namespace", [None, ("window", 0, 10)], ids=["plain", "namespaced"])
def test_every_state_kind_survives_snapshot_and_restore(backend_kind: str, ttl: bool,
                                                        namespace: Any, tmp_path: Any) -> None:
    original = _new_backend(backend_kind, tmp_path)
    states = {k: original.get_partitioned_state(d) for k, d in _descriptors(ttl).items()}
    _fill(original, states, range(50), namespace)
    handles = original.snapshot(1, 0, MemoryCheckpointStreamFactory(), None)()
    # changes after the synchronous part are not in the snapshot
    _fill(original, states, range(50), namespace)
    original.dispose()

    restored = _new_backend(backend_kind, tmp_path)
    restored.restore(handles)
    states = {k: restored.get_partitioned_state(d) for k, d in _descriptors(ttl).items()}
    for key in range(50):
        assert _read(restored, states, key, namespace) == _expected(key)
    assert _read(restored, states, 999, namespace)[0] is None
    restored.dispose()


@pytest.mark.parametrize("source_kind,target_kind",
                         [("hashmap", "rocksdb"), ("rocksdb", "hashmap")])
def test_a_savepoint_restores_into_the_other_backend(source_kind: str, target_kind: str,
                                                     tmp_path: Any) -> None:
    source = _new_backend(source_kind, tmp_path)
    states = {k: source.get_partitioned_state(d) for k, d in _descriptors(True).items()}
    _fill(source, states, range(30), None)
    _fill(source, states, range(30), "ns")
    source.create_timer_queue("user-timers/event").add(42, 7, "ns")
    handles = source.snapshot(1, 0, MemoryCheckpointStreamFactory(), None)()
    source.dispose()

    target = _new_backend(target_kind, tmp_path)
    target.restore(handles)
    states = {k: target.get_partitioned_state(d) for k, d in _descriptors(True).items()}
    for key in range(30):
        assert _read(target, states, key, None) == _expected(key)
        assert _read(target, states, key, "ns") == _expected(key)
    assert list(target.create_timer_queue("user-timers/event")) == [(42, 7, "ns")]
    target.dispose()


class _CountWithTimers(KeyedProcessFunction):
    """Counts per key; each element sets an event-time timer at its timestamp + 100 that
    emits (key, count)."""

    def open(self, runtime_context: Any) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count"))

    def process_element(self, value: Any, ctx: Any) -> Any:
        self.count.update((self.count.value() or 0) + 1)
        ctx.timer_service().register_event_time_timer(ctx.timestamp() + 100)
        return ()

    def on_timer(self, timestamp: int, ctx: Any) -> Any:
        yield ctx.get_current_key(), self.count.value(), timestamp


def _count_operator() -> KeyedProcessOperator:
    return KeyedProcessOperator("count", _CountWithTimers(), lambda v: v[0])


def _harness(backend_kind: str, tmp_path: Any, parallelism: int = 1, subtask: int = 0
             ) -> KeyedOneInputStreamOperatorTestHarness:
    return KeyedOneInputStreamOperatorTestHarness(
        _count_operator(), parallelism=parallelism, subtask_index=subtask,
        state_backend=_backend(backend_kind, tmp_path))


@pytest.mark.parametrize("backend_kind", BACKENDS)
def test_timers_and_their_state_fire_after_a_restore(backend_kind: str, tmp_path: Any) -> None:
    harness = _harness(backend_kind, tmp_path)
    harness.open()
    harness.process_element(("a", 1), timestamp=10)
    harness.process_element(("a", 2), timestamp=20)
    harness.process_element(("b", 3), timestamp=30)
    snapshot = harness.snapshot(1, 1000)
    harness.process_watermark(10_000)  # the original fires; the restored copy must too
    assert sorted(harness.get_output()) == [("a", 2, 110), ("a", 2, 120), ("b", 1, 130)]
    harness.close()

    restored = _harness(backend_kind, tmp_path)
    restored.initialize_state(snapshot)
    restored.open()
    restored.process_watermark(115)
    assert restored.get_output() == [("a", 2, 110)]
    restored.process_watermark(10_000)
    assert restored.get_output() == [("a", 2, 110), ("a", 2, 120), ("b", 1, 130)]
    restored.close()


def _counts_of(harnesses: List[KeyedOneInputStreamOperatorTestHarness]) -> Dict[Any, int]:
    """Every key's count over all subtasks, failing if a key is in two of them."""
    counts: Dict[Any, int] = {}
    for harness in harnesses:
        harness.process_watermark(10 ** 9)
        for key, count, _ in harness.get_output():
            assert counts.get(key, count) == count
            counts[key] = count
        harness.clear_output()
    return counts


def _run_at(snapshots: List[Any], parallelism: int, backend_kind: str, tmp_path: Any,
            elements: List[tuple]) -> List[Any]:
    shares = repartition_state(snapshots, parallelism) if snapshots else [None] * parallelism
    harnesses = [_harness(backend_kind, tmp_path, parallelism, i) for i in range(parallelism)]
    for harness, share in zip(harnesses, shares):
        harness.initialize_state(share)
        harness.open()
    for key, timestamp in elements:  # each element to the subtask owning its key group
        for harness in harnesses:
            backend = harness.keyed_state_backend
            if backend.key_group_of(key) in harness.key_group_range:
                harness.process_element((key, 0), timestamp)
    return harnesses


@pytest.mark.parametrize("backend_kind", BACKENDS)
def test_rescaling_1_to_2_to_3_to_1_keeps_every_key_state_exactly_once(
        backend_kind: str, tmp_path: Any) -> None:
    keys = [f"key-{i}" for i in range(200)]
    harnesses = _run_at([], 1, backend_kind, tmp_path, [(k, 1) for k in keys])
    snapshots = [h.snapshot(1, 0) for h in harnesses]
    for parallelism in (2, 3, 1):
        for harness in harnesses:
            harness.close()
        harnesses = _run_at(snapshots, parallelism, backend_kind, tmp_path,
                            [(k, 1) for k in keys])
        snapshots = [h.snapshot(2, 0) for h in harnesses]
        expected = {k: 1 + [2, 3, 1].index(parallelism) + 1 for k in keys}
        restored_copies = [_harness(backend_kind, tmp_path, parallelism, i)
                           for i in range(parallelism)]
        for copy, snapshot in zip(restored_copies, snapshots):
            copy.initialize_state(snapshot)
            copy.open()
        assert _counts_of(restored_copies) == expected
        for copy in restored_copies:
            copy.close()
    for harness in harnesses:
        harness.close()


class _Buffering(CheckpointedFunction, CheckpointListener):
    """Keeps every element in operator list state and union list state; remembers which
    checkpoints completed."""

    def __init__(self) -> None:
        self.buffer: List[Any] = []
        self.completed: List[int] = []

    def initialize_state(self, context: Any) -> None:
        store = context.get_operator_state_store()
        self.listed = store.get_list_state(ListStateDescriptor("buffer"))
        self.union = store.get_union_list_state(ListStateDescriptor("everything"))
        self.buffer = list(self.listed.get())
        self.restored_union = list(self.union.get())

    def snapshot_state(self, context: Any) -> None:
        self.listed.update(self.buffer)
        self.union.update(self.buffer)

    def process_element(self, value: Any, ctx: Any) -> Any:
        self.buffer.append(value)
        return ()

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        self.completed.append(checkpoint_id)


def test_list_state_is_dealt_out_and_union_state_goes_to_all_on_rescale(tmp_path: Any) -> None:
    from flink_py.runtime.operators.simple import ProcessOperator
    functions = [_Buffering() for _ in range(3)]
    harnesses = [KeyedOneInputStreamOperatorTestHarness(
        ProcessOperator("buffer", f), parallelism=3, subtask_index=i)
        for i, f in enumerate(functions)]
    for i, harness in enumerate(harnesses):
        harness.open()
        harness.process_elements([i * 10 + n for n in range(4)])
    snapshots = [h.snapshot(5, 0) for h in harnesses]
    for harness in harnesses:
        harness.notify_checkpoint_complete(5)
        harness.close()
    assert [f.completed for f in functions] == [[5], [5], [5]]

    everything = sorted(i * 10 + n for i in range(3) for n in range(4))
    for parallelism in (2, 1, 4):
        shares = repartition_state(snapshots, parallelism)
        restored = [_Buffering() for _ in range(parallelism)]
        for i, (function, share) in enumerate(zip(restored, shares)):
            harness = KeyedOneInputStreamOperatorTestHarness(
                ProcessOperator("buffer", function), parallelism=parallelism, subtask_index=i)
            harness.initialize_state(share)
            harness.open()
            harness.close()
        assert sorted(e for f in restored for e in f.buffer) == everything
        assert max(len(f.buffer) for f in restored) - min(len(f.buffer) for f in restored) <= 1
        assert all(sorted(f.restored_union) == everything for f in restored)


def test_the_state_backend_is_chosen_by_the_job_configuration(tmp_path: Any) -> None:
    assert isinstance(load_state_backend({}), HashMapStateBackend)
    assert isinstance(load_state_backend({"state.backend": "filesystem"}), HashMapStateBackend)
    rocksdb = load_state_backend({"state.backend.type": "rocksdb",
                                  "execution.checkpointing.incremental": "true",
                                  "state.backend.rocksdb.localdir": str(tmp_path)})
    assert isinstance(rocksdb, EmbeddedRocksDBStateBackend)
    assert rocksdb.incremental and rocksdb.local_dir == str(tmp_path)
    with pytest.raises(Exception, match="unknown state backend 'leveldb'"):
        load_state_backend({"state.backend.type": "leveldb"})


def _window_operator(assigner: Any, kind: str = "reduce") -> Any:
    from flink_py.runtime.operators.window import InternalWindowFunction, WindowOperator
    contents = (lambda a, b: (a[0], a[1] + b[1])) if kind == "reduce" else None
    return WindowOperator("window", assigner, assigner.get_default_trigger(None), 0, None,
                          kind, contents,
                          InternalWindowFunction(None, InternalWindowFunction.PASS_THROUGH)
                          if kind == "reduce" else InternalWindowFunction(
                              lambda key, window, inputs: [(key, sorted(v for _, v in inputs),
                                                            window.start, window.end)],
                              InternalWindowFunction.APPLY),
                          lambda v: v[0])


@pytest.mark.parametrize("backend_kind", BACKENDS)
def test_an_open_tumbling_window_fires_with_its_contents_after_a_restore(
        backend_kind: str, tmp_path: Any) -> None:
    from flink_py.datastream.windowing.assigners import TumblingEventTimeWindows
    from flink_py.common.time import Time
    make = lambda: _window_operator(TumblingEventTimeWindows.of(Time.milliseconds(10)))  # noqa: E731
    harness = KeyedOneInputStreamOperatorTestHarness(make(),
                                                     state_backend=_backend(backend_kind, tmp_path))
    harness.open()
    harness.process_elements([("a", 1), ("b", 2), ("a", 3), ("a", 4)], [1, 2, 3, 12])
    snapshot = harness.snapshot(1, 0)
    harness.close()

    restored = KeyedOneInputStreamOperatorTestHarness(
        make(), state_backend=_backend(backend_kind, tmp_path))
    restored.initialize_state(snapshot)
    restored.open()
    restored.process_elements([("b", 5)], [6])
    restored.process_watermark(9)
    assert sorted(restored.get_output()) == [("a", 4), ("b", 7)]
    restored.process_watermark(100)
    assert sorted(restored.get_output()) == [("a", 4), ("a", 4), ("b", 7)]
    restored.close()


@pytest.mark.parametrize("backend_kind", BACKENDS)
def test_session_windows_merge_across_a_restore(backend_kind: str, tmp_path: Any) -> None:
    from flink_py.datastream.windowing.assigners import EventTimeSessionWindows
    from flink_py.common.time import Time
    make = lambda: _window_operator(  # noqa: E731
        EventTimeSessionWindows.with_gap(Time.milliseconds(10)), "list")
    harness = KeyedOneInputStreamOperatorTestHarness(make(),
                                                     state_backend=_backend(backend_kind, tmp_path))
    harness.open()
    harness.process_elements([("a", 1), ("a", 2), ("a", 30)], [0, 5, 20])
    snapshot = harness.snapshot(1, 0)
    harness.close()

    restored = KeyedOneInputStreamOperatorTestHarness(
        make(), state_backend=_backend(backend_kind, tmp_path))
    restored.initialize_state(snapshot)
    restored.open()
    restored.process_elements([("a", 3)], [12])  # [12, 22) bridges [0, 15) and [20, 30)
    restored.process_watermark(1000)
    assert restored.get_output() == [("a", [1, 2, 3, 30], 0, 30)]
    restored.close()


def test_broadcast_state_goes_to_every_subtask_of_a_rescaled_restore() -> None:
    from flink_py.datastream.functions import BroadcastProcessFunction
    from flink_py.runtime.operators.co_process import TwoInputProcessOperator
    from flink_py.testing.harness import TwoInputStreamOperatorTestHarness
    rules = MapStateDescriptor("rules")

    class Apply(BroadcastProcessFunction):
        def process_element(self, value: Any, ctx: Any) -> Any:
            yield value, ctx.get_broadcast_state(rules).get(value)

        def process_broadcast_element(self, value: Any, ctx: Any) -> Any:
            ctx.get_broadcast_state(rules).put(value[0], value[1])
            return ()

    def make() -> TwoInputProcessOperator:
        return TwoInputProcessOperator("apply", Apply(), (
            "process_element", "process_broadcast_element"), (None, None), True, [rules])

    harness = TwoInputStreamOperatorTestHarness(make())
    harness.open()
    harness.process_element2(("x", "rule-x"))
    snapshots = [harness.snapshot(1, 0)]
    harness.close()
    for index, share in enumerate(repartition_state(snapshots, 2)):
        restored = TwoInputStreamOperatorTestHarness(make(), parallelism=2, subtask_index=index)
        restored.initialize_state(share)
        restored.open()
        restored.process_element1("x")
        assert restored.get_output() == [("x", "rule-x")]
        restored.close()
