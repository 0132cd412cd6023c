"""ExecutionGraph: one ExecutionVertex per subtask, and how subtasks of a JobEdge connect.

Pointwise expectations follow Flink's ``EdgeManagerBuildUtil.connectPointwise``:

* ``producers == consumers``: producer ``i`` feeds consumer ``i``;
* ``producers > consumers``: consumer ``c`` reads producers
  ``[c * P // C, (c + 1) * P // C)``;
* ``producers < consumers``: producer ``p`` feeds consumers
  ``[(p * C + P - 1) // P, ((p + 1) * C + P - 1) // P)``.

The literal lists below were worked out by hand from those formulas.
"""

from __future__ import annotations

from typing import Callable, Dict, List

import pytest

from flink_py.datastream import StreamExecutionEnvironment
from flink_py.graph.execution_graph import (
    ExecutionGraph, ExecutionJobVertex, pointwise_connections)

# producers -> for each producer subtask, the consumer subtasks it sends to
POINTWISE_CASES = {
    (2, 4): [[0, 1], [2, 3]],
    (4, 2): [[0], [0], [1], [1]],
    (3, 3): [[0], [1], [2]],
    (1, 3): [[0, 1, 2]],
    (3, 1): [[0], [0], [0]],
    (2, 3): [[0, 1], [2]],
    (3, 2): [[0], [1], [1]],
    (3, 5): [[0, 1], [2, 3], [4]],
    (5, 3): [[0], [1], [1], [2], [2]],
    (1, 1): [[0]],
}


def _identity(value):
    return value


@pytest.mark.parametrize("producers, consumers", sorted(POINTWISE_CASES))
def test_pointwise_connections_follow_flinks_arithmetic(producers: int, consumers: int) -> None:
    assert pointwise_connections(producers, consumers) == POINTWISE_CASES[(producers, consumers)]


@pytest.mark.parametrize("producers", range(1, 9))
@pytest.mark.parametrize("consumers", range(1, 9))
def test_pointwise_connections_cover_every_consumer_exactly_as_needed(
        producers: int, consumers: int) -> None:
    targets = pointwise_connections(producers, consumers)

    assert len(targets) == producers
    fed = [c for t in targets for c in t]
    # Every consumer is fed; with fewer producers each consumer has exactly one producer.
    assert set(fed) == set(range(consumers))
    if producers <= consumers:
        assert sorted(fed) == list(range(consumers))
    else:
        assert all(len(t) == 1 for t in targets)
    # Each producer feeds a contiguous, ascending run; runs do not go backwards.
    for t in targets:
        assert t == list(range(t[0], t[-1] + 1))
    assert [t[0] for t in targets] == sorted(t[0] for t in targets)


def _graph(build: Callable[[StreamExecutionEnvironment], None]) -> ExecutionGraph:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    build(env)
    return ExecutionGraph(env.get_job_graph())


def _vertex(graph: ExecutionGraph, name: str) -> ExecutionJobVertex:
    matches = [ejv for ejv in graph.job_vertices.values() if ejv.job_vertex.name == name]
    assert len(matches) == 1, [ejv.job_vertex.name for ejv in graph.job_vertices.values()]
    return matches[0]


def _rescaled(producers: int, consumers: int) -> Callable[[StreamExecutionEnvironment], None]:
    def build(env: StreamExecutionEnvironment) -> None:
        env.from_collection([1]).map(_identity).name("Up").set_parallelism(producers) \
            .disable_chaining().rescale().map(_identity).name("Down").set_parallelism(consumers) \
            .print().name("Sink").set_parallelism(consumers)
    return build


def test_one_execution_vertex_per_subtask() -> None:
    graph = _graph(lambda env: env.from_collection([1]).map(_identity).set_parallelism(3)
                   .key_by(_identity).map(_identity).name("Keyed").set_parallelism(4)
                   .print().set_parallelism(4))

    source = _vertex(graph, "Source: Collection Source")
    mapped = _vertex(graph, "Map")
    keyed = _vertex(graph, "Keyed -> Sink: Print to Std. Out")
    for ejv, parallelism in ((source, 1), (mapped, 3), (keyed, 4)):
        assert [ev.subtask_index for ev in ejv.task_vertices] == list(range(parallelism))
        assert all(ev.parallelism == parallelism for ev in ejv.task_vertices)
        assert all(ev.job_vertex_id == ejv.job_vertex.id for ev in ejv.task_vertices)
    assert [ev.task_name_with_subtask for ev in keyed.task_vertices] == [
        f"Keyed -> Sink: Print to Std. Out ({i}/4)" for i in range(1, 5)]
    all_vertices = graph.all_execution_vertices
    assert len(all_vertices) == 1 + 3 + 4
    attempt_ids = [ev.attempt_id for ev in all_vertices]
    assert len(set(attempt_ids)) == len(attempt_ids)
    for ev in all_vertices:
        assert graph.find(ev.attempt_id) is ev


def test_find_unknown_attempt_raises_key_error() -> None:
    from flink_py.graph.ids import ExecutionAttemptID
    graph = _graph(lambda env: env.from_collection([1]).print())
    with pytest.raises(KeyError):
        graph.find(ExecutionAttemptID())


@pytest.mark.parametrize("producers, consumers", [(2, 4), (4, 2), (1, 3), (3, 1), (2, 3)])
def test_rescale_edges_connect_pointwise(producers: int, consumers: int) -> None:
    graph = _graph(_rescaled(producers, consumers))
    up = _vertex(graph, "Up")
    down = _vertex(graph, "Down -> Sink: Sink")
    (edge,) = down.job_vertex.inputs
    assert edge.ship_strategy == "RESCALE" and edge.is_pointwise

    expected = POINTWISE_CASES[(producers, consumers)]
    produced = []
    for ev in up.task_vertices:
        (partition,) = ev.produced
        assert partition.result_id == edge.result_id
        produced.append(partition.consumer_subtasks)
    assert produced == expected

    expected_sources: Dict[int, List[int]] = {c: [] for c in range(consumers)}
    for p, targets in enumerate(expected):
        for c in targets:
            expected_sources[c].append(p)
    for ev in down.task_vertices:
        (gate,) = ev.consumed
        assert gate.result_id == edge.result_id
        assert gate.input_index == 0
        assert gate.producer_subtasks == expected_sources[ev.subtask_index]


def test_forward_edge_at_equal_parallelism_connects_subtask_to_same_subtask() -> None:
    graph = _graph(lambda env: env.from_collection([1]).map(_identity).name("Up")
                   .set_parallelism(3).map(_identity).name("Down").set_parallelism(3)
                   .disable_chaining().print().name("Sink").set_parallelism(3))
    up = _vertex(graph, "Up")
    down = _vertex(graph, "Down")
    (edge,) = down.job_vertex.inputs
    assert edge.ship_strategy == "FORWARD" and edge.is_pointwise

    assert [ev.produced[0].consumer_subtasks for ev in up.task_vertices] == [[0], [1], [2]]
    assert [ev.consumed[0].producer_subtasks for ev in down.task_vertices] == [[0], [1], [2]]


def _all_to_all(partition: str) -> Callable[[StreamExecutionEnvironment], None]:
    def build(env: StreamExecutionEnvironment) -> None:
        up = env.from_collection([1]).map(_identity).name("Up").set_parallelism(3)
        if partition == "key_by":
            routed = up.key_by(_identity)
        elif partition == "custom":
            routed = up.partition_custom(lambda key, n: key % n, _identity)
        else:
            routed = getattr(up, partition)()
        routed.map(_identity).name("Down").set_parallelism(2).print().name("Sink") \
            .set_parallelism(2)
    return build


@pytest.mark.parametrize("partition, strategy", [
    ("key_by", "HASH"), ("rebalance", "REBALANCE"), ("broadcast", "BROADCAST"),
    ("shuffle", "SHUFFLE"), ("global_", "GLOBAL"), ("custom", "CUSTOM")])
def test_all_to_all_edges_connect_every_producer_to_every_consumer(
        partition: str, strategy: str) -> None:
    graph = _graph(_all_to_all(partition))
    up = _vertex(graph, "Up")
    down = _vertex(graph, "Down -> Sink: Sink")
    (edge,) = down.job_vertex.inputs
    assert edge.ship_strategy == strategy
    assert not edge.is_pointwise

    for ev in up.task_vertices:
        assert [(p.result_id, p.consumer_subtasks) for p in ev.produced] == [
            (edge.result_id, [0, 1])]
    for ev in down.task_vertices:
        assert [(g.result_id, g.producer_subtasks) for g in ev.consumed] == [
            (edge.result_id, [0, 1, 2])]


def test_two_input_vertex_gets_one_gate_per_input_with_its_index() -> None:
    from flink_py.datastream import CoMapFunction

    class CoIdentity(CoMapFunction):
        def map1(self, value):
            return value

        def map2(self, value):
            return value

    def build(env: StreamExecutionEnvironment) -> None:
        first = env.from_collection([1]).map(_identity).name("First").set_parallelism(2)
        second = env.from_collection([2]).map(_identity).name("Second").set_parallelism(3)
        first.connect(second.rebalance()).map(CoIdentity()).name("Co").set_parallelism(2) \
            .print().name("Sink").set_parallelism(2)

    graph = _graph(build)
    first = _vertex(graph, "First")
    second = _vertex(graph, "Second")
    co = _vertex(graph, "Co -> Sink: Sink")
    first_edge = next(e for e in co.job_vertex.inputs if e.source == first.job_vertex.id)
    second_edge = next(e for e in co.job_vertex.inputs if e.source == second.job_vertex.id)
    assert (first_edge.ship_strategy, first_edge.input_index) == ("FORWARD", 0)
    assert (second_edge.ship_strategy, second_edge.input_index) == ("REBALANCE", 1)

    for ev in co.task_vertices:
        gates = {g.result_id: g for g in ev.consumed}
        assert set(gates) == {first_edge.result_id, second_edge.result_id}
        assert gates[first_edge.result_id].input_index == 0
        assert gates[first_edge.result_id].producer_subtasks == [ev.subtask_index]
        assert gates[second_edge.result_id].input_index == 1
        assert gates[second_edge.result_id].producer_subtasks == [0, 1, 2]


def test_a_producer_with_two_consumers_gets_one_partition_per_edge() -> None:
    def build(env: StreamExecutionEnvironment) -> None:
        up = env.from_collection([1]).map(_identity).name("Up").set_parallelism(2)
        up.rebalance().print().name("A").set_parallelism(3)
        up.broadcast().print().name("B").set_parallelism(1)

    graph = _graph(build)
    up = _vertex(graph, "Up")
    edges = {graph.job_graph.vertices[e.target].name: e for e in up.job_vertex.outputs}
    assert set(edges) == {"Sink: A", "Sink: B"}
    for ev in up.task_vertices:
        partitions = {p.result_id: p.consumer_subtasks for p in ev.produced}
        assert partitions == {edges["Sink: A"].result_id: [0, 1, 2],
                              edges["Sink: B"].result_id: [0]}
