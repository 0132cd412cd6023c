"""Operator chaining, slot sharing and the execution plan, from programs built with the API.

Flink's rule (``StreamingJobGraphGenerator.isChainable``): an edge is chained when the
downstream operator has exactly that one input, the partitioner is FORWARD, both sides have
the same parallelism and slot sharing group, the downstream operator's strategy is ALWAYS, the
upstream's is not NEVER, and chaining is enabled for the job.
"""

from __future__ import annotations

import json
from typing import Dict, List

import pytest

from flink_py.datastream import (
    CoMapFunction, OutputTag, ProcessFunction, StreamExecutionEnvironment)
from flink_py.errors import InvalidProgramError
from flink_py.graph.execution_graph import ExecutionGraph
from flink_py.graph.job_graph import JobGraph, JobVertex

SOURCE = "Source: Collection Source"
PRINT = "Sink: Print to Std. Out"


def _env(parallelism: int = 1) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    return env


def _identity(value):
    return value


def _truthy(value):
    return bool(value)


def _vertices(job_graph: JobGraph) -> List[JobVertex]:
    return job_graph.topological_vertices()


def _names(job_graph: JobGraph) -> List[str]:
    return [v.name for v in _vertices(job_graph)]


def _by_name(job_graph: JobGraph) -> Dict[str, JobVertex]:
    vertices = {v.name: v for v in job_graph.vertices.values()}
    assert len(vertices) == len(job_graph.vertices), "vertex names are not unique in this test"
    return vertices


def _input_strategies(vertex: JobVertex) -> List[str]:
    return [e.ship_strategy for e in vertex.inputs]


class _Yielder(ProcessFunction):
    def __init__(self, tag: OutputTag) -> None:
        self.tag = tag

    def process_element(self, value, ctx):
        yield value
        yield self.tag, value


class _CoIdentity(CoMapFunction):
    def map1(self, value):
        return value

    def map2(self, value):
        return value


# -- chains ------------------------------------------------------------------------------------


def test_same_parallelism_forward_pipeline_is_one_chain() -> None:
    env = _env(1)
    env.from_collection([1, 2, 3]).map(_identity).filter(_truthy).print()

    job_graph = env.get_job_graph()

    assert _names(job_graph) == [f"{SOURCE} -> Map -> Filter -> {PRINT}"]
    (vertex,) = _vertices(job_graph)
    assert vertex.is_source
    assert vertex.inputs == [] and vertex.outputs == []
    assert len(vertex.operator_node_ids) == 4
    # The chain's config holds the operators head first, each wired to its chained successor.
    operators = vertex.chain_config().operators
    assert [op.name for op in operators] == [SOURCE, "Map", "Filter", PRINT]
    for op, successor in zip(operators, operators[1:]):
        assert op.chained_outputs == [(successor.node_id, None)]
        assert op.network_outputs == []
    assert operators[-1].chained_outputs == []


def test_parallelism_change_breaks_the_chain_with_rebalance() -> None:
    env = _env(2)  # the collection source is non-parallel (1): 1 -> 2 needs a network edge
    env.from_collection([1, 2, 3]).map(_identity).filter(_truthy).print()

    job_graph = env.get_job_graph()

    assert _names(job_graph) == [SOURCE, f"Map -> Filter -> {PRINT}"]
    source, rest = _vertices(job_graph)
    assert (source.parallelism, rest.parallelism) == (1, 2)
    assert _input_strategies(rest) == ["REBALANCE"]
    (edge,) = rest.inputs
    assert not edge.is_pointwise
    assert source.outputs == [edge]
    assert edge.source == source.id and edge.target == rest.id


def test_explicit_operator_parallelism_breaks_the_chain() -> None:
    env = _env(1)
    env.from_collection([1, 2]).map(_identity).set_parallelism(3).filter(_truthy) \
        .set_parallelism(3).print().set_parallelism(1)

    job_graph = env.get_job_graph()

    assert _names(job_graph) == [SOURCE, "Map -> Filter", PRINT]
    by_name = _by_name(job_graph)
    assert by_name["Map -> Filter"].parallelism == 3
    assert _input_strategies(by_name["Map -> Filter"]) == ["REBALANCE"]
    assert _input_strategies(by_name[PRINT]) == ["REBALANCE"]


def test_key_by_breaks_the_chain_with_hash() -> None:
    env = _env(1)
    env.from_collection([(1, 1), (2, 2)]).map(_identity).key_by(lambda t: t[0]).sum(1).print()

    job_graph = env.get_job_graph()

    assert _names(job_graph) == [f"{SOURCE} -> Map", f"Keyed Aggregation -> {PRINT}"]
    keyed = _by_name(job_graph)[f"Keyed Aggregation -> {PRINT}"]
    assert _input_strategies(keyed) == ["HASH"]
    assert not keyed.inputs[0].is_pointwise


@pytest.mark.parametrize("partition, strategy, pointwise", [
    ("rebalance", "REBALANCE", False),
    ("rescale", "RESCALE", True),
    ("shuffle", "SHUFFLE", False),
    ("broadcast", "BROADCAST", False),
    ("global_", "GLOBAL", False),
])
def test_non_forward_partitioning_breaks_the_chain_at_equal_parallelism(
        partition: str, strategy: str, pointwise: bool) -> None:
    env = _env(1)
    stream = env.from_collection([1, 2]).map(_identity)
    getattr(stream, partition)().filter(_truthy).print()

    job_graph = env.get_job_graph()

    assert _names(job_graph) == [f"{SOURCE} -> Map", f"Filter -> {PRINT}"]
    downstream = _by_name(job_graph)[f"Filter -> {PRINT}"]
    assert _input_strategies(downstream) == [strategy]
    assert downstream.inputs[0].is_pointwise is pointwise


def test_explicit_forward_at_equal_parallelism_chains() -> None:
    env = _env(1)
    env.from_collection([1, 2]).forward().map(_identity).print()

    assert _names(env.get_job_graph()) == [f"{SOURCE} -> Map -> {PRINT}"]


def test_disable_chaining_isolates_the_operator() -> None:
    env = _env(1)
    env.from_collection([1, 2]).map(_identity).name("A").map(_identity).name("B") \
        .disable_chaining().map(_identity).name("C").print()

    job_graph = env.get_job_graph()

    assert _names(job_graph) == [f"{SOURCE} -> A", "B", f"C -> {PRINT}"]
    by_name = _by_name(job_graph)
    assert _input_strategies(by_name["B"]) == ["FORWARD"]
    assert by_name["B"].inputs[0].is_pointwise
    assert _input_strategies(by_name[f"C -> {PRINT}"]) == ["FORWARD"]


def test_disable_chaining_on_a_sink() -> None:
    env = _env(1)
    env.from_collection([1, 2]).map(_identity).print().disable_chaining()

    assert _names(env.get_job_graph()) == [f"{SOURCE} -> Map", PRINT]


def test_start_new_chain_starts_a_chain_that_successors_join() -> None:
    env = _env(1)
    env.from_collection([1, 2]).map(_identity).name("A").map(_identity).name("B") \
        .start_new_chain().map(_identity).name("C").print()

    job_graph = env.get_job_graph()

    assert _names(job_graph) == [f"{SOURCE} -> A", f"B -> C -> {PRINT}"]
    assert _input_strategies(_by_name(job_graph)[f"B -> C -> {PRINT}"]) == ["FORWARD"]


def test_env_disable_operator_chaining_puts_every_operator_in_its_own_task() -> None:
    env = _env(1)
    env.disable_operator_chaining()
    env.from_collection([1, 2]).map(_identity).filter(_truthy).print()

    job_graph = env.get_job_graph()

    assert not env.is_chaining_enabled()
    assert _names(job_graph) == [SOURCE, "Map", "Filter", PRINT]
    assert all(_input_strategies(v) == ["FORWARD"] for v in _vertices(job_graph)[1:])


def test_different_slot_sharing_groups_do_not_chain() -> None:
    env = _env(1)
    env.from_collection([1, 2]).map(_identity).name("A").map(_identity).name("B") \
        .slot_sharing_group("other").map(_identity).name("C").slot_sharing_group("default") \
        .print().slot_sharing_group("default")

    job_graph = env.get_job_graph()

    assert _names(job_graph) == [f"{SOURCE} -> A", "B", f"C -> {PRINT}"]
    by_name = _by_name(job_graph)
    assert by_name["B"].slot_sharing_group == "other"
    assert by_name[f"{SOURCE} -> A"].slot_sharing_group == "default"
    assert by_name[f"C -> {PRINT}"].slot_sharing_group == "default"


def test_slot_sharing_group_is_inherited_from_the_inputs() -> None:
    env = _env(1)
    env.from_collection([1, 2]).map(_identity).name("A").map(_identity).name("B") \
        .slot_sharing_group("other").map(_identity).name("C").print()

    job_graph = env.get_job_graph()

    # C and the sink inherit "other" from B, so they chain to it.
    assert _names(job_graph) == [f"{SOURCE} -> A", f"B -> C -> {PRINT}"]
    assert _by_name(job_graph)[f"B -> C -> {PRINT}"].slot_sharing_group == "other"


def test_an_operator_whose_inputs_are_in_different_groups_goes_to_default() -> None:
    env = _env(1)
    first = env.from_collection([1]).map(_identity).name("A").slot_sharing_group("g1")
    second = env.from_collection([2]).map(_identity).name("B").slot_sharing_group("g2")
    first.union(second).map(_identity).name("U").print()

    groups = {v.name: v.slot_sharing_group for v in _vertices(env.get_job_graph())}

    # Flink's determineSlotSharingGroup: the inputs' common group, else "default".
    assert groups == {SOURCE: "default", "A": "g1", "B": "g2", f"U -> {PRINT}": "default"}


def test_an_operator_whose_inputs_share_a_group_inherits_it() -> None:
    env = _env(1)
    first = env.from_collection([1]).map(_identity).name("A").slot_sharing_group("g1")
    second = env.from_collection([2]).map(_identity).name("B").slot_sharing_group("g1")
    first.union(second).map(_identity).name("U").print()

    groups = {v.name: v.slot_sharing_group for v in _vertices(env.get_job_graph())}

    assert groups == {SOURCE: "default", "A": "g1", "B": "g1", f"U -> {PRINT}": "g1"}


def test_union_input_never_chains() -> None:
    env = _env(1)
    first = env.from_collection([1, 2])
    second = env.from_collection([3, 4])
    first.union(second).map(_identity).print()

    job_graph = env.get_job_graph()

    assert sorted(_names(job_graph)) == sorted([SOURCE, SOURCE, f"Map -> {PRINT}"])
    union_target = [v for v in _vertices(job_graph) if not v.is_source]
    assert [v.name for v in union_target] == [f"Map -> {PRINT}"]
    assert _input_strategies(union_target[0]) == ["FORWARD", "FORWARD"]
    assert [e.input_index for e in union_target[0].inputs] == [0, 0]


def test_union_of_a_stream_with_a_mapped_copy_of_itself_does_not_chain() -> None:
    env = _env(1)
    source = env.from_collection([1, 2])
    source.union(source.map(_identity).name("Twin")).map(_identity).name("After").print()

    job_graph = env.get_job_graph()

    # The source chains to "Twin" (its only input) but not to "After" (two inputs).
    assert _names(job_graph) == [f"{SOURCE} -> Twin", f"After -> {PRINT}"]
    after = _by_name(job_graph)[f"After -> {PRINT}"]
    assert len(after.inputs) == 2
    assert {e.source for e in after.inputs} == {_by_name(job_graph)[f"{SOURCE} -> Twin"].id}


def test_connect_never_chains_and_numbers_its_inputs() -> None:
    env = _env(1)
    first = env.from_collection([1, 2]).map(_identity).name("First")
    second = env.from_collection(["a"]).map(_identity).name("Second")
    first.connect(second).map(_CoIdentity()).print()

    job_graph = env.get_job_graph()

    by_name = _by_name(job_graph)
    assert set(by_name) == {f"{SOURCE} -> First", f"{SOURCE} -> Second",
                            f"Co-Map -> {PRINT}"}
    co_map = by_name[f"Co-Map -> {PRINT}"]
    assert _input_strategies(co_map) == ["FORWARD", "FORWARD"]
    assert sorted((job_graph.vertices[e.source].name, e.input_index) for e in co_map.inputs) \
        == [(f"{SOURCE} -> First", 0), (f"{SOURCE} -> Second", 1)]
    assert co_map.chain_config().gate_input_indexes == [e.input_index for e in co_map.inputs]


def test_sink_names_carry_flinks_sink_prefix() -> None:
    env = _env(1)
    stream = env.from_collection([1, 2])
    stream.print()
    stream.add_sink(_identity)
    stream.add_sink(_identity).name("Out")

    stream_graph = env.get_stream_graph()

    # Flink's sink translators name the node "Sink: " + the transformation's name.
    assert sorted(n.name for n in stream_graph.nodes.values()) == sorted(
        [SOURCE, PRINT, "Sink: Unnamed", "Sink: Out"])
    assert _names(env.get_job_graph()) == [
        f"{SOURCE} -> ({PRINT}, Sink: Unnamed, Sink: Out)"]


def test_side_output_edges_carry_their_tag_and_chain_when_forward() -> None:
    tag = OutputTag("side")
    env = _env(1)
    main = env.from_collection([1, 2]).process(_Yielder(tag)).name("P")
    main.get_side_output(tag).map(_identity).name("SideMap").print().name("SideSink")
    main.map(_identity).name("MainMap").print().name("MainSink")

    stream_graph = env.get_stream_graph()
    process_node = next(n for n in stream_graph.nodes.values() if n.name == "P")
    tags = {stream_graph.nodes[e.target_id].name: e.output_tag for e in process_node.out_edges}
    assert tags == {"SideMap": "side", "MainMap": None}

    job_graph = env.get_job_graph()
    (vertex,) = _vertices(job_graph)
    process_config = next(op for op in vertex.chain_config().operators if op.name == "P")
    targets = {op.node_id: op.name for op in vertex.chain_config().operators}
    assert sorted((targets[t], tag_id) for t, tag_id in process_config.chained_outputs) == [
        ("MainMap", None), ("SideMap", "side")]


def test_branching_chain_is_named_as_flink_does() -> None:
    tag = OutputTag("side")
    env = _env(1)
    main = env.from_collection([1, 2]).process(_Yielder(tag)).name("P")
    main.get_side_output(tag).map(_identity).name("SideMap").print().name("SideSink")
    main.map(_identity).name("MainMap").print().name("MainSink")

    assert _names(env.get_job_graph()) == [
        f"{SOURCE} -> P -> (SideMap -> Sink: SideSink, MainMap -> Sink: MainSink)"]


def test_side_output_at_another_parallelism_leaves_through_a_network_edge() -> None:
    tag = OutputTag("side")
    env = _env(1)
    main = env.from_collection([1, 2]).process(_Yielder(tag)).name("P")
    main.get_side_output(tag).map(_identity).name("SideMap").set_parallelism(2) \
        .print().name("SideSink").set_parallelism(2)
    main.print().name("MainSink")

    job_graph = env.get_job_graph()

    by_name = _by_name(job_graph)
    assert set(by_name) == {f"{SOURCE} -> P -> Sink: MainSink", "SideMap -> Sink: SideSink"}
    assert _input_strategies(by_name["SideMap -> Sink: SideSink"]) == ["REBALANCE"]
    head = by_name[f"{SOURCE} -> P -> Sink: MainSink"]
    process_config = next(op for op in head.chain_config().operators if op.name == "P")
    (network_output,) = process_config.network_outputs
    assert network_output.output_tag == "side"
    assert network_output.result_id == head.outputs[0].result_id
    (produced,) = ExecutionGraph(job_graph).job_vertices[head.id].task_vertices[0].produced
    assert produced.consumer_max_parallelism == by_name["SideMap -> Sink: SideSink"] \
        .max_parallelism


# -- slots -------------------------------------------------------------------------------------


def test_slots_needed_is_the_sum_over_groups_of_the_largest_parallelism() -> None:
    env = _env(1)
    env.from_collection([1, 2]).map(_identity).name("M4").set_parallelism(4) \
        .map(_identity).name("M2").set_parallelism(2).slot_sharing_group("g2") \
        .print().set_parallelism(3).slot_sharing_group("g2")

    job_graph = env.get_job_graph()

    groups = {v.name: (v.slot_sharing_group, v.parallelism) for v in _vertices(job_graph)}
    assert groups == {SOURCE: ("default", 1), "M4": ("default", 4), "M2": ("g2", 2),
                      PRINT: ("g2", 3)}
    # default: max(1, 4) = 4; g2: max(2, 3) = 3
    assert job_graph.slots_needed() == 7


def test_slots_needed_of_a_single_group_is_its_max_parallelism() -> None:
    env = _env(3)
    env.from_collection([1, 2]).map(_identity).key_by(_identity).map(_identity) \
        .set_parallelism(5).print()

    job_graph = env.get_job_graph()

    assert {v.slot_sharing_group for v in _vertices(job_graph)} == {"default"}
    assert job_graph.slots_needed() == 5


# -- invalid programs --------------------------------------------------------------------------


def test_forward_between_different_parallelisms_is_an_invalid_program() -> None:
    env = _env(2)
    env.from_collection([1, 2]).forward().map(_identity).name("Doubler").print()

    with pytest.raises(InvalidProgramError) as info:
        env.get_job_graph()

    message = str(info.value)
    assert SOURCE in message and "Doubler" in message
    assert "1" in message and "2" in message


def test_forward_parallelism_check_also_guards_execution_plan() -> None:
    env = _env(1)
    env.from_collection([1, 2]).map(_identity).set_parallelism(3).forward() \
        .map(_identity).set_parallelism(2).print()

    with pytest.raises(InvalidProgramError, match="forward"):
        env.get_execution_plan()


def test_builtin_callables_are_accepted_as_functions() -> None:
    env = _env(1)
    env.from_collection([0, 1]).map(str).filter(bool).print()

    assert _names(env.get_job_graph()) == [f"{SOURCE} -> Map -> Filter -> {PRINT}"]


def test_empty_program_is_an_invalid_program() -> None:
    with pytest.raises(InvalidProgramError, match="no operators"):
        _env(1).get_job_graph()


# -- execution plan ----------------------------------------------------------------------------


def test_execution_plan_json_shape() -> None:
    env = _env(2)
    env.from_collection([("a", 1)]).flat_map(lambda t: [t]).key_by(lambda t: t[0]).sum(1) \
        .print()

    plan = json.loads(env.get_execution_plan())

    assert set(plan) == {"nodes"}
    nodes = plan["nodes"]
    assert [n["contents"] for n in nodes] == [SOURCE, "FlatMap", "Keyed Aggregation", PRINT]
    for node in nodes:
        assert {"id", "type", "pact", "contents", "parallelism"} <= set(node)
        assert isinstance(node["id"], int)
    assert [n["pact"] for n in nodes] == ["Data Source", "Operator", "Operator", "Data Sink"]
    assert [n["parallelism"] for n in nodes] == [1, 2, 2, 2]
    assert "predecessors" not in nodes[0]
    ids = [n["id"] for n in nodes]
    strategies = []
    for previous_id, node in zip(ids, nodes[1:]):
        (predecessor,) = node["predecessors"]
        assert predecessor["id"] == previous_id
        strategies.append(predecessor["ship_strategy"])
    assert strategies == ["REBALANCE", "HASH", "FORWARD"]
    assert [n["type"] for n in nodes[1:]] == ["FlatMap", "Keyed Aggregation", PRINT]


def test_execution_plan_lists_every_input_of_a_union() -> None:
    env = _env(1)
    env.from_collection([1]).union(env.from_collection([2])).map(_identity).print()

    nodes = json.loads(env.get_execution_plan())["nodes"]

    source_ids = [n["id"] for n in nodes if n["pact"] == "Data Source"]
    (map_node,) = [n for n in nodes if n["contents"] == "Map"]
    assert sorted(p["id"] for p in map_node["predecessors"]) == sorted(source_ids)
    assert all(p["ship_strategy"] == "FORWARD" for p in map_node["predecessors"])


def test_execution_plan_type_is_the_operator_name() -> None:
    env = _env(1)
    env.from_collection([1]).print()

    nodes = json.loads(env.get_execution_plan())["nodes"]

    assert [n["type"] for n in nodes] == [SOURCE, PRINT]


def test_execution_plan_marks_only_sinks_as_data_sinks() -> None:
    env = _env(1)
    env.from_collection([1]).map(_identity).name("Dangling")

    nodes = json.loads(env.get_execution_plan())["nodes"]

    # An operator nothing consumes is still an "Operator", not a "Data Sink".
    assert [(n["type"], n["pact"]) for n in nodes] == [
        (SOURCE, "Data Source"), ("Dangling", "Operator")]


def test_job_graph_carries_the_plan_and_settings() -> None:
    env = _env(1)
    env.set_buffer_timeout(7)
    env.from_collection([1]).map(_identity).print()

    job_graph = env.get_job_graph("my job")

    assert job_graph.job_name == "my job"
    assert job_graph.buffer_timeout == 7
    assert json.loads(job_graph.execution_plan) == json.loads(env.get_execution_plan())
