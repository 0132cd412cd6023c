"""JobGraph: the StreamGraph with chainable operators fused into JobVertices.

Chaining rule (Flink's): an edge is chained when the downstream operator has exactly that one
input edge, the partitioning is forward, both sides have the same parallelism and slot sharing
group, the downstream operator's strategy is ALWAYS, the upstream's is not NEVER, chaining
is enabled for the job, and either both sides have the same max parallelism or
``pipeline.operator-chaining.chain-operators-with-different-max-parallelism`` is true (the
default). Every other edge becomes a JobEdge: a network exchange.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import cloudpickle

from flink_py.common import pickling

from flink_py.common.config_options import CHECKPOINTING_INTERVAL
from flink_py.common.configuration import Configuration
from flink_py.common.job_id import JobID
from flink_py.errors import InvalidProgramError
from flink_py.graph.ids import IntermediateDataSetID, JobVertexID, OperatorID
from flink_py.graph.python_chaining import (
    main_output_conversion, prints_rows_in_python, side_output_conversions)
from flink_py.graph.stream_graph import StreamEdge, StreamGraph, StreamNode, computes_keys
from flink_py.graph.stream_graph_hasher import traverse_stream_graph_and_generate_hashes
from flink_py.graph.transformations import ChainingStrategy
from flink_py.runtime.network.partitioners import StreamPartitioner

LOG = logging.getLogger(__name__)


@dataclass
class NetworkOutputConfig:
    """A chained operator's output that leaves the task through a result partition."""

    result_id: IntermediateDataSetID
    partitioner: StreamPartitioner
    output_tag: Optional[str]


@dataclass
class ChainedOperatorConfig:
    """One operator inside a task's chain and where its outputs go."""

    node_id: int
    name: str
    uid: Optional[str]
    operator_factory: Any
    # (node_id of the chained successor, side output tag id or None)
    chained_outputs: List[tuple] = field(default_factory=list)
    network_outputs: List[NetworkOutputConfig] = field(default_factory=list)
    keyed: bool = False
    #: what checkpoints and savepoints map this operator's state to (stable across runs)
    operator_id: Optional[OperatorID] = None
    #: the key hash of the key_by feeding it (by its ``key_type``; None: pickled keys): its
    #: keyed state must place keys into key groups by the same hash the partitioner routed with
    key_hash: Any = None
    #: the declared type whose serializer PyFlink sends this operator's main output through
    #: (graph/python_chaining.py); None where records stay Python objects
    converted_output_type: Any = None
    #: side output tag id -> its declared type: side outputs always leave a Python operator
    converted_side_output_types: Dict[str, Any] = field(default_factory=dict)
    #: the ROW type of its main output when a chained ``print()`` prints it: each record must
    #: be a Row (graph/python_chaining.py, prints_rows_in_python); None otherwise
    prints_rows: Any = None


def _key_hash(node: Any) -> Any:
    """The key hash of the (first) ``key_by`` feeding ``node``, None if no key_by does."""
    for edge in node.in_edges:
        key_hash = getattr(edge.partitioner, "key_hash", None)
        if key_hash is not None:
            return key_hash
    return None


@dataclass
class ChainConfig:
    """The operators of one JobVertex, head first (serialized with the user's code)."""

    operators: List[ChainedOperatorConfig]
    #: for each input gate of the task, the head operator input (0 or 1) it feeds
    gate_input_indexes: List[int]


@dataclass
class JobEdge:
    """A network exchange between two JobVertices."""

    source: JobVertexID
    target: JobVertexID
    result_id: IntermediateDataSetID
    ship_strategy: str
    is_pointwise: bool
    input_index: int  # which input of the target's head operator


@dataclass
class JobVertex:
    """A task: a chain of operators run by one thread per parallel subtask."""

    id: JobVertexID
    name: str
    parallelism: int
    #: the number of key groups; a restore changes it to the checkpoint's when it was not
    #: configured (Flink's ExecutionJobVertex#setMaxParallelism)
    max_parallelism: int
    slot_sharing_group: str
    is_source: bool
    operator_node_ids: List[int]
    #: whether the user set the max parallelism (env, operator or pipeline.max-parallelism)
    #: rather than it being derived from the parallelism
    max_parallelism_configured: bool = False
    chain_bytes: bytes = b""
    #: the OperatorIDs of the chain's operators, head first (as in the chain config)
    operator_ids: List[OperatorID] = field(default_factory=list)
    inputs: List[JobEdge] = field(default_factory=list)
    outputs: List[JobEdge] = field(default_factory=list)

    def chain_config(self) -> ChainConfig:
        """Deserializes the chain (a fresh copy of the user's functions)."""
        return cloudpickle.loads(self.chain_bytes)


@dataclass
class JobGraph:
    """What a client submits: vertices, edges, and the job's settings."""

    job_id: JobID
    job_name: str
    vertices: Dict[JobVertexID, JobVertex]
    runtime_mode: str
    buffer_timeout: int
    job_parameters: Dict[str, str]
    execution_plan: str
    #: the user's code shipped with the job: file name -> zip archive bytes. A TaskManager
    #: extracts each archive and puts it on ``sys.path`` before it loads the job's functions.
    user_artifacts: Dict[str, bytes] = field(default_factory=dict)
    #: the job's own settings as Flink's configuration keys (``execution.checkpointing.*``,
    #: ``state.backend.type``, ``state.checkpoints.dir``, ``restart-strategy.*``, ...): what
    #: the program set on its environment, over the cluster's configuration
    job_configuration: Dict[str, str] = field(default_factory=dict)

    def topological_vertices(self) -> List[JobVertex]:
        indegree = {vid: len(v.inputs) for vid, v in self.vertices.items()}
        order: List[JobVertex] = []
        ready = [v for v in self.vertices.values() if not v.inputs]
        while ready:
            vertex = ready.pop(0)
            order.append(vertex)
            for edge in vertex.outputs:
                indegree[edge.target] -= 1
                if indegree[edge.target] == 0:
                    ready.append(self.vertices[edge.target])
        return order

    def slots_needed(self) -> int:
        """Slots the job needs: per slot sharing group its largest parallelism, summed."""
        per_group: Dict[str, int] = {}
        for v in self.vertices.values():
            per_group[v.slot_sharing_group] = max(per_group.get(v.slot_sharing_group, 0),
                                                  v.parallelism)
        return sum(per_group.values())


def operator_ids_of(graph: StreamGraph) -> Dict[int, OperatorID]:
    """Every node's OperatorID, by node id: its ``set_uid_hash`` when given, else the hash of
    its uid or of its place in the topology (see graph/stream_graph_hasher.py)."""
    return _operator_ids(graph, traverse_stream_graph_and_generate_hashes(graph, is_chainable))


def _operator_ids(graph: StreamGraph, hashes: Dict[int, bytes]) -> Dict[int, OperatorID]:
    # A uid hash wins for state (Flink's user-defined id of the OperatorIDPair).
    return {node_id: OperatorID(graph.nodes[node_id].uid_hash or digest.hex())
            for node_id, digest in hashes.items()}


def _warn_of_stateful_operators_without_uid(graph: StreamGraph) -> None:
    """One message per job naming the keyed operators without uid: their state is matched by
    a hash of the topology, which changes when the program does. A warning when the job
    checkpoints (its state outlives the run); for a job without checkpoints, whose state
    dies with it, only an info line, so that every word count does not warn."""
    unnamed = [n.name for n in graph.topological_order()
               if n.uid is None and n.uid_hash is None and computes_keys(n.operator_factory)]
    if not unnamed:
        return
    interval = Configuration(graph.job_configuration).get(CHECKPOINTING_INTERVAL)
    LOG.log(logging.WARNING if interval else logging.INFO,
            "Job %r: the stateful operators %s have no uid; their state is matched to a "
            "checkpoint or savepoint by a hash of the job's topology, which changes when the "
            "program does. Set one with .uid(...)",
            graph.job_name, ", ".join(repr(n) for n in unnamed))


def is_chainable(edge: StreamEdge, graph: StreamGraph) -> bool:
    """Whether ``edge`` is fused into a chain (see the module docstring)."""
    up, down = graph.nodes[edge.source_id], graph.nodes[edge.target_id]
    return (graph.chaining_enabled
            and len(down.in_edges) == 1
            and down.num_inputs == 1
            and edge.partitioner.ship_strategy == "FORWARD"
            and up.parallelism == down.parallelism
            and (graph.chain_operators_with_different_max_parallelism
                 or up.max_parallelism == down.max_parallelism)
            and up.slot_sharing_group == down.slot_sharing_group
            and down.chaining_strategy is ChainingStrategy.ALWAYS
            and up.chaining_strategy is not ChainingStrategy.NEVER)


class StreamingJobGraphGenerator:
    """Builds the JobGraph of a StreamGraph: chains, job edges, serialized chain configs."""

    def __init__(self, graph: StreamGraph, job_id: Optional[JobID] = None) -> None:
        self.graph = graph
        self.job_id = job_id or JobID.generate()

    def create_job_graph(self) -> JobGraph:
        graph = self.graph
        order = graph.topological_order()
        head_of: Dict[int, int] = {}
        for node in order:
            chained_in = [e for e in node.in_edges if is_chainable(e, graph)]
            head_of[node.id] = head_of[chained_in[0].source_id] if chained_in else node.id
        hashes = traverse_stream_graph_and_generate_hashes(graph, is_chainable)
        operator_ids = _operator_ids(graph, hashes)
        _warn_of_stateful_operators_without_uid(graph)
        members: Dict[int, List[StreamNode]] = {}
        for node in order:
            members.setdefault(head_of[node.id], []).append(node)

        def chained_name(node: StreamNode) -> str:
            """Flink's createChainedName: ``A -> B``, and ``A -> (B, C)`` where it branches."""
            successors = [graph.nodes[e.target_id] for e in node.out_edges
                          if is_chainable(e, graph)]
            if len(successors) == 1:
                return f"{node.name} -> {chained_name(successors[0])}"
            if successors:
                return f"{node.name} -> ({', '.join(chained_name(s) for s in successors)})"
            return node.name

        vertices: Dict[int, JobVertex] = {}
        for head_id, nodes in members.items():
            head = graph.nodes[head_id]
            vertices[head_id] = JobVertex(
                # Flink's rule: the vertex id is the head operator's generated hash, so that
                # vertex ids are as stable as operator ids.
                id=JobVertexID(hashes[head_id].hex()), name=chained_name(head),
                parallelism=head.parallelism, max_parallelism=head.max_parallelism,
                slot_sharing_group=head.slot_sharing_group, is_source=head.is_source,
                operator_node_ids=[n.id for n in nodes],
                max_parallelism_configured=head.max_parallelism_configured)

        configs: Dict[int, ChainedOperatorConfig] = {
            n.id: ChainedOperatorConfig(n.id, n.name, n.uid, n.operator_factory,
                                        operator_id=operator_ids[n.id],
                                        key_hash=_key_hash(n),
                                        converted_output_type=main_output_conversion(n, graph),
                                        converted_side_output_types=side_output_conversions(
                                            n, graph),
                                        prints_rows=prints_rows_in_python(n, graph))
            for n in order}
        for node in order:
            for edge in node.out_edges:
                config = configs[node.id]
                if is_chainable(edge, graph):
                    config.chained_outputs.append((edge.target_id, edge.output_tag))
                    continue
                target = graph.nodes[edge.target_id]
                job_edge = JobEdge(
                    source=vertices[head_of[node.id]].id,
                    target=vertices[head_of[target.id]].id,
                    result_id=IntermediateDataSetID(),
                    ship_strategy=edge.partitioner.ship_strategy,
                    is_pointwise=edge.partitioner.is_pointwise,
                    input_index=edge.input_index)
                if head_of[target.id] != target.id:
                    raise InvalidProgramError(f"network edge into chained operator {target.name}")
                vertices[head_of[node.id]].outputs.append(job_edge)
                vertices[target.id].inputs.append(job_edge)
                # the consumer's max parallelism (the key groups a key_by hashes into)
                # comes with the deployment: a restore may change it
                config.network_outputs.append(NetworkOutputConfig(
                    job_edge.result_id, edge.partitioner, edge.output_tag))

        for head_id, vertex in vertices.items():
            vertex.operator_ids = [configs[n].operator_id for n in vertex.operator_node_ids]
            chain = ChainConfig(
                operators=[configs[n] for n in vertex.operator_node_ids],
                gate_input_indexes=[e.input_index for e in vertex.inputs])
            try:
                vertex.chain_bytes = pickling.dumps(chain)
            except Exception as exc:
                raise InvalidProgramError(
                    f"the functions of '{vertex.name}' cannot be serialized for shipping to "
                    f"the task managers: {exc!r}") from exc

        return JobGraph(
            job_id=self.job_id, job_name=graph.job_name,
            vertices={v.id: v for v in vertices.values()},
            runtime_mode=graph.runtime_mode, buffer_timeout=graph.buffer_timeout,
            job_parameters=dict(graph.job_parameters),
            execution_plan=graph.get_execution_plan(),
            job_configuration=dict(graph.job_configuration))
