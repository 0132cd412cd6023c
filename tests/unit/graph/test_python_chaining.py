"""Where PyFlink serializes an operator's output (PythonOperatorChainingOptimizer's rule),
from programs built with the API: ``main_output_conversion`` names the declared type the
output goes through, or None where records stay Python objects."""

from __future__ import annotations

from typing import Any, Optional

from flink_py.common import Configuration, Types
from flink_py.datastream import OutputTag, ProcessFunction, StreamExecutionEnvironment
from flink_py.graph.python_chaining import (
    is_python_chained, main_output_conversion, side_output_conversions)
from flink_py.graph.stream_graph import StreamGraph

FLOATS = Types.TUPLE([Types.STRING(), Types.FLOAT()])


def _env(configuration: Optional[Configuration] = None) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment(configuration)
    env.set_parallelism(1)
    return env


def _conversion_of(env: StreamExecutionEnvironment, name: str) -> Any:
    graph: StreamGraph = env.get_stream_graph()
    [node] = [n for n in graph.nodes.values() if n.name == name]
    return main_output_conversion(node, graph)


def _typed(env: StreamExecutionEnvironment) -> Any:
    return env.from_collection([("a", 1.5)]).map(lambda v: v, output_type=FLOATS).name("typed")


def test_a_map_chained_to_the_next_map_keeps_python_objects():
    env = _env()
    _typed(env).map(lambda v: v).print()
    assert _conversion_of(env, "typed") is None


def test_a_network_exchange_converts_by_the_producers_type():
    for repartition in ("rebalance", "shuffle", "rescale", "broadcast"):
        env = _env()
        getattr(_typed(env), repartition)().map(lambda v: v).print()
        assert _conversion_of(env, "typed") == FLOATS, repartition


def test_key_by_converts_by_the_producers_type():
    env = _env()
    _typed(env).key_by(lambda v: v[0]).reduce(lambda a, b: a).print()
    assert _conversion_of(env, "typed") == FLOATS


def test_a_keyed_operator_chains_to_the_map_after_it():
    env = _env()
    (env.from_collection([("a", 1.5)]).key_by(lambda v: v[0])
     .reduce(lambda a, b: a).name("reduce").map(lambda v: v).print())
    assert _conversion_of(env, "reduce") is None


def test_java_sinks_convert_but_print_of_rows_formats_in_python():
    env = _env()
    _typed(env).print()
    assert _conversion_of(env, "typed") == FLOATS
    rows = Types.ROW([Types.STRING(), Types.FLOAT()])
    env = _env()
    env.from_collection([("a", 1.5)]).map(lambda v: v, output_type=rows).name("rows").print()
    assert _conversion_of(env, "rows") is None


def test_the_watermark_assigner_takes_python_objects_and_hands_over_serialized():
    from flink_py.common import WatermarkStrategy
    env = _env()
    (_typed(env).assign_timestamps_and_watermarks(
        WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(lambda v, t: 0))
     .map(lambda v: v).print())
    assert _conversion_of(env, "typed") is None
    assert _conversion_of(env, "Timestamps/Watermarks") == FLOATS


def test_broken_chains_convert():
    cases = {
        "disable_chaining upstream": lambda e: _typed(e).disable_chaining().map(lambda v: v),
        "start_new_chain downstream": lambda e: _typed(e).map(lambda v: v).start_new_chain(),
        "other parallelism": lambda e: _typed(e).map(lambda v: v).set_parallelism(2),
        "other slot sharing group": lambda e: _typed(e).map(lambda v: v)
        .slot_sharing_group("other"),
    }
    for case, build in cases.items():
        env = _env()
        build(env).print()
        assert _conversion_of(env, "typed") == FLOATS, case


def test_a_second_consumer_or_a_union_converts():
    env = _env()
    typed = _typed(env)
    typed.map(lambda v: v).print()
    typed.map(lambda v: v).print()
    assert _conversion_of(env, "typed") == FLOATS
    env = _env()
    _typed(env).union(env.from_collection([("b", 2.5)], type_info=FLOATS)) \
        .map(lambda v: v).print()
    assert _conversion_of(env, "typed") == FLOATS


def test_side_outputs_convert_by_their_tag_and_take_the_main_output_out_of_the_chain():
    tag = OutputTag("late", Types.FLOAT())

    class Split(ProcessFunction):
        def process_element(self, value, ctx):
            yield value
            yield tag, value[1]

    env = _env()
    main = env.from_collection([("a", 1.5)]).process(Split(), output_type=FLOATS).name("split")
    main.map(lambda v: v).print()
    main.get_side_output(tag).map(lambda v: v).print()
    graph = env.get_stream_graph()
    [split] = [n for n in graph.nodes.values() if n.name == "split"]
    assert main_output_conversion(split, graph) == FLOATS
    assert side_output_conversions(split, graph) == {"late": Types.FLOAT()}


def test_without_python_operator_chaining_every_hand_over_converts():
    configuration = Configuration()
    configuration.set_string("python.operator-chaining.enabled", "false")
    env = _env(configuration)
    _typed(env).map(lambda v: v).print()
    graph = env.get_stream_graph()
    assert not graph.python_chaining_enabled
    [edge] = [n for n in graph.nodes.values() if n.name == "typed"][0].out_edges
    assert not is_python_chained(edge, graph)
    assert _conversion_of(env, "typed") == FLOATS


def test_sources_and_sinks_convert_nothing_at_run_time():
    env = _env()
    env.from_collection([("a", 1.5)], type_info=FLOATS).rebalance().print()
    graph = env.get_stream_graph()
    for node in graph.nodes.values():
        assert main_output_conversion(node, graph) is None, node.name


def test_a_chained_python_sink_function_gets_python_objects():
    env = _env()
    _typed(env).add_sink(lambda value: None)
    assert _conversion_of(env, "typed") is None
    env = _env()
    _typed(env).rebalance().add_sink(lambda value: None)
    assert _conversion_of(env, "typed") == FLOATS
