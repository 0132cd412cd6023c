"""Pipelined regions: connected components of the execution graph."""

from __future__ import annotations

from flink_py.common.configuration import Configuration
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.graph.execution_graph import ExecutionGraph
from flink_py.runtime.jobmaster.failover_strategy import (
    RestartAllFailoverStrategy, RestartPipelinedRegionFailoverStrategy, failover_strategy_from,
    pipelined_regions)


def _sink(value, context=None) -> None:
    pass


def _graph(build) -> ExecutionGraph:
    env = StreamExecutionEnvironment.get_execution_environment()
    build(env)
    return ExecutionGraph(env.get_job_graph("regions"))


def _names(graph: ExecutionGraph, region) -> set:
    return {graph.vertex(key).task_name_with_subtask for key in region}


def test_two_disconnected_pipelines_are_two_regions_and_only_the_failed_one_restarts() -> None:
    def build(env) -> None:
        env.set_parallelism(2)
        env.from_collection([1, 2]).name("A").rebalance().map(lambda x: x).name("A map") \
            .add_sink(_sink)
        env.from_collection([3, 4]).name("B").rebalance().map(lambda x: x).name("B map") \
            .add_sink(_sink)
    graph = _graph(build)
    regions = pipelined_regions(graph)
    assert len(regions) == 2
    strategy = RestartPipelinedRegionFailoverStrategy(graph)
    a_source = next(ev for ev in graph.all_execution_vertices if ev.task_name == "A")
    restarted = _names(graph, strategy.tasks_to_restart(a_source.key))
    assert restarted and all("A" in name and "B" not in name for name in restarted)
    assert len(restarted) == 3  # the source (parallelism 1) and the map's two subtasks


def test_an_all_to_all_exchange_makes_one_region() -> None:
    def build(env) -> None:
        env.set_parallelism(3)
        env.from_collection([1, 2, 3]).key_by(lambda x: x).map(lambda x: x).add_sink(_sink)
    graph = _graph(build)
    assert len(pipelined_regions(graph)) == 1


def test_a_forward_exchange_splits_the_job_per_subtask() -> None:
    def build(env) -> None:
        env.set_parallelism(2)
        env.from_sequence(1, 10).map(lambda x: x).disable_chaining().add_sink(_sink)
    graph = _graph(build)
    regions = pipelined_regions(graph)
    assert len(regions) == 2
    assert all(len({key[1] for key in region}) == 1 for region in regions)


def test_full_restarts_everything_and_region_is_the_default() -> None:
    def build(env) -> None:
        env.set_parallelism(2)
        env.from_collection([1]).add_sink(_sink)
        env.from_collection([2]).add_sink(_sink)
    graph = _graph(build)
    any_key = graph.all_execution_vertices[0].key
    full = failover_strategy_from(
        Configuration({"jobmanager.execution.failover-strategy": "full"}), graph)
    assert isinstance(full, RestartAllFailoverStrategy)
    assert len(full.tasks_to_restart(any_key)) == len(graph.all_execution_vertices)
    assert isinstance(failover_strategy_from(Configuration(), graph),
                      RestartPipelinedRegionFailoverStrategy)
