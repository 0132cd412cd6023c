"""Where PyFlink hands records between operators as Python objects, and where it serializes.

PyFlink runs consecutive Python operators as one Python function
(``PythonOperatorChainingOptimizer``); between them records stay Python objects. Every other
hand-over goes through the serializer of the producer's declared output type, which changes
some values (``flink_py.common.narrowing``): a FLOAT comes back narrowed to 32 bits, an INT
out of range fails the job. flink_py runs every operator in Python, so it applies the same
change exactly where PyFlink would serialize.

PyFlink chains an operator to the operator before it when (its optimizer's rule):

* python operator chaining is on (``python.operator-chaining.enabled``, default true);
* the producer is a Python operator (not a source, a sink or a Java operator such as the
  watermark assigner's) and the consumer is a one-input, non-keyed Python function
  (``map``, ``flat_map``, ``filter``, ``process``, the extraction step of
  ``assign_timestamps_and_watermarks``, and the text conversion ``print()`` runs in Python
  for ROW streams) reading only from it;
* they are connected forward (no ``key_by``, ``rebalance``, ``shuffle``, ...; no union);
* they have the same parallelism, max parallelism and slot sharing group;
* the producer's chaining strategy is not NEVER and the consumer's is ALWAYS
  (``disable_chaining``/``start_new_chain`` break the chain);
* the producer has no other output (a second consumer or a side output breaks it).

Side outputs always leave the Python operator, typed by their OutputTag. Sources convert
their values when the job is defined (``from_collection``). PyFlink has no sinks written in
Python; flink_py's (``add_sink`` with a Python SinkFunction) count as Python functions, so a
chained one gets what the operator before it made.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from flink_py.graph.stream_graph import StreamEdge, StreamGraph, StreamNode
from flink_py.graph.transformations import ChainingStrategy

__all__ = ["is_python_chained", "main_output_conversion", "side_output_conversions",
           "prints_rows_in_python"]


def _made(node: StreamNode) -> Any:
    factory = node.operator_factory
    return getattr(factory, "func", factory)  # functools.partial, a class or a factory object


def _is_watermark_assigner(node: StreamNode) -> bool:
    from flink_py.runtime.operators.timestamps import TimestampsAndWatermarksOperatorFactory
    return isinstance(node.operator_factory, TimestampsAndWatermarksOperatorFactory)


def _is_python_producer(node: StreamNode) -> bool:
    """Whether PyFlink runs the node as a Python operator whose output can stay in Python."""
    return not (node.is_source or node.is_sink or _is_watermark_assigner(node))


def _is_python_consumer(node: StreamNode, graph: StreamGraph) -> bool:
    """Whether PyFlink runs the node's first step as a one-input Python process function."""
    if node.num_inputs != 1 or len(node.in_edges) != 1:
        return False
    if node.is_sink:
        from flink_py.common.typeinfo import RowTypeInfo
        from flink_py.runtime.operators.sinks import PrintSink, SinkFunctionSink
        if _made(node) is SinkFunctionSink:
            return True  # a Python SinkFunction: Python code, as a map is
        # print() of a ROW stream turns rows into text with a Python map first
        producer = graph.nodes[node.in_edges[0].source_id]
        return _made(node) is PrintSink and isinstance(producer.output_type, RowTypeInfo)
    return True


def is_python_chained(edge: StreamEdge, graph: StreamGraph) -> bool:
    """Whether PyFlink passes the records of ``edge`` as Python objects (see the module
    docstring); False means they go through the producer's type serializer."""
    up, down = graph.nodes[edge.source_id], graph.nodes[edge.target_id]
    return (graph.python_chaining_enabled
            and edge.output_tag is None
            and len(up.out_edges) == 1
            and edge.partitioner.ship_strategy == "FORWARD"
            and _is_python_producer(up)
            and _is_python_consumer(down, graph)
            and up.parallelism == down.parallelism
            and up.max_parallelism == down.max_parallelism
            and up.slot_sharing_group == down.slot_sharing_group
            and up.chaining_strategy is not ChainingStrategy.NEVER
            and down.chaining_strategy is ChainingStrategy.ALWAYS)


def main_output_conversion(node: StreamNode, graph: StreamGraph) -> Optional[Any]:
    """The type whose serializer round trip the node's main output goes through in
    PyFlink, or None when it needs no conversion here (sources convert when defined)."""
    if node.is_source or node.is_sink:
        return None
    main = [e for e in node.out_edges if e.output_tag is None]
    if not main or all(is_python_chained(e, graph) for e in main):
        return None
    return node.output_type


def side_output_conversions(node: StreamNode, graph: StreamGraph) -> Dict[str, Any]:
    """Side output tag id -> the tag's type, for the side outputs the node has consumers of."""
    return {e.output_tag: graph.side_output_types[e.output_tag] for e in node.out_edges
            if e.output_tag is not None and e.output_tag in graph.side_output_types}


def prints_rows_in_python(node: StreamNode, graph: StreamGraph) -> Optional[Any]:
    """The node's ROW type when its main output goes, as Python objects, to the Python map
    in which PyFlink's ``print()`` of a ROW stream formats rows (it fails for a value not a
    Row); None otherwise."""
    from flink_py.common.typeinfo import RowTypeInfo
    from flink_py.runtime.operators.sinks import PrintSink
    if isinstance(node.output_type, RowTypeInfo) and any(
            e.output_tag is None and _made(graph.nodes[e.target_id]) is PrintSink
            and is_python_chained(e, graph) for e in node.out_edges):
        return node.output_type
    return None
