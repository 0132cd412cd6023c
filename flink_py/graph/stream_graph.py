"""StreamGraph: operators and the edges between them, generated from transformations.

Virtual transformations (partitioning, union, side output) do not become nodes: they set
the partitioner and output tag of the edges that connect physical operators.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from flink_py.common.key_groups import compute_default_max_parallelism
from flink_py.errors import InvalidProgramError
from flink_py.graph.transformations import (
    ChainingStrategy, PartitionTransformation, PhysicalTransformation,
    SideOutputTransformation, SinkTransformation, SourceTransformation, Transformation, TwoInputTransformation,
    UnionTransformation)
from flink_py.runtime.network.partitioners import (
    ForwardPartitioner, KeyGroupStreamPartitioner, RebalancePartitioner, StreamPartitioner)


def computes_keys(operator_factory: Any) -> bool:
    """Whether the operator a factory makes computes every record's key (keyed operators)."""
    made = getattr(operator_factory, "func", operator_factory)  # functools.partial or a class
    return bool(getattr(made, "computes_keys", False))


@dataclass
class StreamEdge:
    """A connection from one operator's output to one input of another."""

    source_id: int
    target_id: int
    input_index: int  # 0 or 1 (the second input of a two-input operator)
    partitioner: StreamPartitioner
    output_tag: Optional[str] = None  # side output tag id, None for the main output

    def __repr__(self) -> str:
        tag = f", tag={self.output_tag}" if self.output_tag else ""
        return f"StreamEdge({self.source_id}->{self.target_id} {self.partitioner}{tag})"


@dataclass
class StreamNode:
    """One operator of the program, with everything the runtime needs to run it."""

    id: int
    name: str
    operator_factory: Any
    parallelism: int
    max_parallelism: int
    max_parallelism_configured: bool
    slot_sharing_group: str
    chaining_strategy: ChainingStrategy
    output_type: Any
    uid: Optional[str] = None
    #: set_uid_hash's 32-hex hash: the OperatorID state is matched by, instead of the
    #: generated one (Flink's user-provided node hash)
    uid_hash: Optional[str] = None
    is_source: bool = False
    is_sink: bool = False
    bounded: bool = True
    num_inputs: int = 1
    buffer_timeout: Optional[int] = None
    in_edges: List[StreamEdge] = field(default_factory=list)
    out_edges: List[StreamEdge] = field(default_factory=list)


@dataclass
class _Endpoint:
    """Where a (possibly virtual) transformation's records come from."""

    node_id: int
    partitioner: Optional[StreamPartitioner] = None
    output_tag: Optional[str] = None


def _configured(job_configuration: Dict[str, str], option_name: str) -> Any:
    """The value of the option named ``option_name`` in ``config_options``, read from a
    job's configuration (Flink's keys and string values)."""
    from flink_py.common import config_options
    from flink_py.common.configuration import Configuration
    return Configuration(job_configuration).get(getattr(config_options, option_name))


class StreamGraph:
    """The operators of a job and how records flow between them."""

    def __init__(self, job_name: str, chaining_enabled: bool = True,
                 runtime_mode: str = "STREAMING", buffer_timeout: int = 100,
                 job_parameters: Optional[Dict[str, str]] = None,
                 job_configuration: Optional[Dict[str, str]] = None,
                 python_chaining_enabled: bool = True) -> None:
        self.job_name = job_name
        self.chaining_enabled = chaining_enabled
        #: PyFlink's ``python.operator-chaining.enabled``: where records keep their Python
        #: values between operators (graph/python_chaining.py)
        self.python_chaining_enabled = python_chaining_enabled
        #: side output tag id -> the type its OutputTag declares
        self.side_output_types: Dict[str, Any] = {}
        self.runtime_mode = runtime_mode
        self.buffer_timeout = buffer_timeout
        self.job_parameters = dict(job_parameters or {})
        #: the job's settings as Flink's keys; the JobGraph carries them to the JobMaster
        self.job_configuration = dict(job_configuration or {})
        #: Flink's ``pipeline.operator-chaining.chain-operators-with-different-max-parallelism``
        self.chain_operators_with_different_max_parallelism = _configured(
            self.job_configuration, "CHAIN_OPERATORS_WITH_DIFFERENT_MAX_PARALLELISM")
        self.nodes: Dict[int, StreamNode] = {}

    def add_edge(self, source_id: int, target_id: int, input_index: int,
                 partitioner: Optional[StreamPartitioner], output_tag: Optional[str]) -> None:
        source, target = self.nodes[source_id], self.nodes[target_id]
        if partitioner is None:
            partitioner = (ForwardPartitioner() if source.parallelism == target.parallelism
                           else RebalancePartitioner())
        elif (isinstance(partitioner, ForwardPartitioner)
              and source.parallelism != target.parallelism):
            raise InvalidProgramError(
                f"forward partitioning does not allow a change of parallelism: "
                f"'{source.name}' has {source.parallelism}, '{target.name}' has "
                f"{target.parallelism}; use rebalance() or rescale()")
        if isinstance(partitioner, KeyGroupStreamPartitioner):
            partitioner.consumer_computes_keys = computes_keys(target.operator_factory)
        edge = StreamEdge(source_id, target_id, input_index, partitioner, output_tag)
        source.out_edges.append(edge)
        target.in_edges.append(edge)

    @property
    def sources(self) -> List[StreamNode]:
        return [n for n in self.nodes.values() if n.is_source]

    def topological_order(self) -> List[StreamNode]:
        """Nodes ordered so that every edge goes from an earlier to a later node."""
        indegree = {i: len(n.in_edges) for i, n in self.nodes.items()}
        ready = sorted(i for i, d in indegree.items() if d == 0)
        order: List[StreamNode] = []
        while ready:
            node = self.nodes[ready.pop(0)]
            order.append(node)
            for edge in node.out_edges:
                indegree[edge.target_id] -= 1
                if indegree[edge.target_id] == 0:
                    ready.append(edge.target_id)
            ready.sort()
        return order

    def get_stream_node(self, node_id: int) -> StreamNode:
        return self.nodes[node_id]

    def get_execution_plan(self) -> str:
        """The plan as JSON, in the shape of Flink's ``getExecutionPlan``."""
        nodes = []
        for node in self.topological_order():
            entry: Dict[str, Any] = {
                "id": node.id,
                "type": node.name,
                "pact": ("Data Source" if node.is_source
                         else "Data Sink" if node.is_sink else "Operator"),
                "contents": node.name,
                "parallelism": node.parallelism,
            }
            if node.in_edges:
                entry["predecessors"] = [
                    {"id": e.source_id, "ship_strategy": e.partitioner.ship_strategy,
                     "side": "second"} for e in node.in_edges]
            nodes.append(entry)
        return json.dumps({"nodes": nodes}, indent=2)


class StreamGraphGenerator:
    """Turns the transformations an environment collected into a StreamGraph."""

    def __init__(self, transformations: Sequence[Transformation], job_name: str,
                 default_parallelism: int, max_parallelism: int = -1,
                 chaining_enabled: bool = True, runtime_mode: str = "STREAMING",
                 buffer_timeout: int = 100, job_parameters: Optional[Dict[str, str]] = None,
                 job_configuration: Optional[Dict[str, str]] = None,
                 auto_generate_uids: bool = True,
                 python_chaining_enabled: bool = True) -> None:
        self.transformations = list(transformations)
        self.default_parallelism = default_parallelism
        self.max_parallelism = max_parallelism
        self.auto_generate_uids = auto_generate_uids
        self.graph = StreamGraph(job_name, chaining_enabled, runtime_mode, buffer_timeout,
                                 job_parameters, job_configuration, python_chaining_enabled)
        self._done: Dict[int, List[_Endpoint]] = {}

    def generate(self) -> StreamGraph:
        if not self.transformations:
            raise InvalidProgramError(
                "no operators defined in streaming topology; cannot execute: add a sink "
                "(print(), add_sink(), sink_to()) before execute()")
        for t in self.transformations:
            self._transform(t)
        return self.graph

    def _transform(self, t: Transformation) -> List[_Endpoint]:
        done = self._done.get(t.id)
        if done is not None:
            return done
        if isinstance(t, PartitionTransformation):
            result = [_Endpoint(e.node_id, t.partitioner.copy(), e.output_tag)
                      for e in self._transform(t.input)]
        elif isinstance(t, UnionTransformation):
            result = [e for i in t.inputs for e in self._transform(i)]
        elif isinstance(t, SideOutputTransformation):
            self.graph.side_output_types[t.output_tag.tag_id] = t.output_tag.type_info
            result = [_Endpoint(e.node_id, e.partitioner, t.output_tag.tag_id)
                      for e in self._transform(t.input)]
        elif isinstance(t, PhysicalTransformation):
            inputs = [self._transform(i) for i in t.inputs]
            self._add_node(t, [e.node_id for endpoints in inputs for e in endpoints])
            for input_index, endpoints in enumerate(inputs):
                for e in endpoints:
                    self.graph.add_edge(e.node_id, t.id, input_index,
                                        e.partitioner.copy() if e.partitioner else None,
                                        e.output_tag)
            result = [_Endpoint(t.id)]
        else:
            raise InvalidProgramError(f"unknown transformation {t!r}")
        self._done[t.id] = result
        return result

    def _slot_sharing_group(self, t: PhysicalTransformation, input_ids: List[int]) -> str:
        """Flink's rule: the group set on the operator, else its inputs' common group."""
        if t.slot_sharing_group:
            return t.slot_sharing_group
        groups = {self.graph.nodes[i].slot_sharing_group for i in input_ids}
        return groups.pop() if len(groups) == 1 else "default"

    def _add_node(self, t: PhysicalTransformation, input_ids: List[int]) -> None:
        if not self.auto_generate_uids and t.uid is None and t.uid_hash is None:
            # Flink's check (pipeline.auto-generate-uids: false), with its message.
            raise InvalidProgramError(
                f"Auto generated UIDs have been disabled but no UID or hash has been assigned "
                f"to operator {t.name}")
        parallelism = t.parallelism or self.default_parallelism
        configured_max = t.max_parallelism or (
            self.max_parallelism if self.max_parallelism > 0 else None)
        max_parallelism = configured_max or compute_default_max_parallelism(parallelism)
        if parallelism > max_parallelism:
            raise InvalidProgramError(
                f"parallelism {parallelism} of '{t.name}' exceeds its max parallelism "
                f"{max_parallelism}")
        self.graph.nodes[t.id] = StreamNode(
            id=t.id, name=("Sink: " + t.name) if isinstance(t, SinkTransformation) else t.name,
            operator_factory=t.operator_factory,
            parallelism=parallelism, max_parallelism=max_parallelism,
            max_parallelism_configured=configured_max is not None,
            slot_sharing_group=self._slot_sharing_group(t, input_ids),
            is_sink=isinstance(t, SinkTransformation),
            chaining_strategy=t.chaining_strategy, output_type=t.output_type, uid=t.uid,
            uid_hash=t.uid_hash,
            is_source=isinstance(t, SourceTransformation),
            bounded=getattr(t, "bounded", True),
            num_inputs=0 if isinstance(t, SourceTransformation) else (
                2 if isinstance(t, TwoInputTransformation) else 1),
            buffer_timeout=t.buffer_timeout)
