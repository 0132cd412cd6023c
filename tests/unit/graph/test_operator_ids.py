"""Stable operator identity: OperatorIDs and JobVertexIDs as Flink's StreamGraphHasherV2.

An operator's id is what checkpoints and savepoints map its state to, so it must be the same
in every build of the same program (in any process), derived from ``uid`` when set, and
never random.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from typing import Dict

import pytest

from flink_py.common.configuration import Configuration
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.errors import InvalidProgramError
from flink_py.graph.job_graph import JobGraph, operator_ids_of
from flink_py.graph.stream_graph_hasher import murmur3_128, user_specified_hash

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def _double(value):
    return value * 2


def _positive(value):
    return value > 0


def _key(value):
    return value % 3


def _program(env: StreamExecutionEnvironment, with_uids: bool = False,
             extra_branch: bool = False) -> None:
    source = env.from_collection([1, 2, 3])
    if with_uids:
        source = source.uid("numbers")
    if extra_branch:
        source.filter(_positive).name("unrelated").print()
    doubled = source.map(_double).name("double")
    if with_uids:
        doubled = doubled.uid("double")
    summed = doubled.key_by(_key).reduce(lambda a, b: a + b).name("sum")
    if with_uids:
        summed = summed.uid("sum")
    summed.print()


def _ids_by_name(job_graph: JobGraph) -> Dict[str, str]:
    ids = {}
    for vertex in job_graph.vertices.values():
        for config, operator_id in zip(vertex.chain_config().operators, vertex.operator_ids):
            assert config.operator_id == operator_id
            ids[config.name] = operator_id.hex
    return ids


def _job_graph(parallelism: int = 2, **program) -> JobGraph:
    env = StreamExecutionEnvironment(Configuration())
    env.set_parallelism(parallelism)
    _program(env, **program)
    return env.get_job_graph("ids")


def test_murmur3_128_matches_the_reference_vectors():
    assert murmur3_128(b"").hex() == "00" * 16
    # MurmurHash3_x64_128 reference output (h1, h2 little endian, as Guava's asBytes()).
    assert murmur3_128(b"The quick brown fox jumps over the lazy dog").hex() == \
        "6c1b07bc7bbc4be347939ac4a93c437a"
    # 16-byte block plus tail lengths exercise every branch of the tail.
    assert len({murmur3_128(bytes(range(n))) for n in range(40)}) == 40


def test_a_uid_gives_flinks_id_the_murmur3_hash_of_the_uid():
    ids = _ids_by_name(_job_graph(with_uids=True))
    assert ids["double"] == user_specified_hash("double").hex()
    assert ids["double"] == murmur3_128("double".encode("utf-8")).hex()
    assert ids["Source: Collection Source"] == user_specified_hash("numbers").hex()


def test_operator_ids_are_equal_across_two_builds_of_the_same_program():
    first, second = _ids_by_name(_job_graph()), _ids_by_name(_job_graph())
    assert first == second
    assert len(set(first.values())) == len(first)  # and distinct from each other


def test_vertex_ids_are_the_head_operators_hash_and_stable():
    first, second = _job_graph(), _job_graph()
    assert set(first.vertices) == set(second.vertices)
    for vertex in first.vertices.values():
        # Flink: JobVertexID = the head operator's generated hash.
        assert vertex.id.hex == vertex.operator_ids[0].hex


def test_operator_ids_are_equal_across_processes():
    script = textwrap.dedent("""
        import sys
        sys.path.insert(0, sys.argv[1])
        from tests.unit.graph.test_operator_ids import _ids_by_name, _job_graph
        for name, operator_id in sorted(_ids_by_name(_job_graph()).items()):
            print(name, operator_id)
    """)
    env = dict(os.environ, PYTHONHASHSEED="random", PYTHONPATH=REPO)
    outputs = [subprocess.run([sys.executable, "-c", script, REPO], capture_output=True,
                              text=True, timeout=120, env=env, check=True).stdout
               for _ in range(2)]
    here = "".join(f"{n} {i}\n" for n, i in sorted(_ids_by_name(_job_graph()).items()))
    assert outputs[0] == outputs[1] == here


def test_a_uid_operator_keeps_its_id_when_an_unrelated_operator_is_added():
    before = _ids_by_name(_job_graph(with_uids=True))
    after = _ids_by_name(_job_graph(with_uids=True, extra_branch=True))
    for name in ("Source: Collection Source", "double", "sum"):
        assert before[name] == after[name]
    assert "unrelated" in after


def test_without_uids_an_added_branch_changes_generated_ids():
    # Why uids matter: the generated hash depends on the traversal position.
    before = _ids_by_name(_job_graph())
    after = _ids_by_name(_job_graph(extra_branch=True))
    assert before["sum"] != after["sum"]


def test_distinct_uids_give_distinct_ids():
    env = StreamExecutionEnvironment(Configuration())
    source = env.from_collection([1])
    source.map(_double).uid("a").print().uid("sink-a")
    source.map(_double).uid("b").print().uid("sink-b")
    ids = _ids_by_name(env.get_job_graph())
    assert len(set(ids.values())) == len(ids)


def test_a_duplicate_uid_is_flinks_hash_collision_error():
    env = StreamExecutionEnvironment(Configuration())
    source = env.from_collection([1])
    source.map(_double).uid("same").print()
    source.map(_double).uid("same").print()
    with pytest.raises(InvalidProgramError, match='Hash collision on user-specified ID "same"'):
        env.get_job_graph()


def test_set_uid_hash_is_the_operator_id_and_must_be_32_hex():
    env = StreamExecutionEnvironment(Configuration())
    mapped = env.from_collection([1]).map(_double).name("m").set_uid_hash("AB" * 16)
    mapped.print()
    assert _ids_by_name(env.get_job_graph())["m"] == "ab" * 16
    with pytest.raises(InvalidProgramError, match="Node hash must be a 32 character String"):
        mapped.set_uid_hash("xyz")
    with pytest.raises(InvalidProgramError, match="non-empty string"):
        mapped.uid("")


def test_disabled_auto_generated_uids_need_a_uid_on_every_operator():
    env = StreamExecutionEnvironment(Configuration())
    env.get_config().disable_auto_generated_uids()
    env.from_collection([1]).uid("source").map(_double).print().uid("sink")
    with pytest.raises(InvalidProgramError,
                       match="Auto generated UIDs have been disabled but no UID or hash has "
                             "been assigned to operator Map"):
        env.get_job_graph()


def test_disabled_auto_generated_uids_accept_a_program_with_uids():
    env = StreamExecutionEnvironment(Configuration())
    env.get_config().disable_auto_generated_uids()
    env.from_collection([1]).uid("source").map(_double).uid("map").print().uid("sink")
    assert len(_ids_by_name(env.get_job_graph())) == 3


def test_a_stateful_operator_without_uid_is_warned_about_once_per_checkpointed_job(caplog):
    env = StreamExecutionEnvironment(Configuration())
    env.enable_checkpointing(1000)
    keyed = env.from_collection([1, 2]).key_by(_key)
    keyed.reduce(lambda a, b: a + b).name("first").print()
    keyed.reduce(lambda a, b: a + b).name("second").print()
    with caplog.at_level(logging.WARNING, logger="flink_py.graph.job_graph"):
        env.get_job_graph()
    warnings = [r for r in caplog.records if "have no uid" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "'first'" in warnings[0].getMessage() and "'second'" in warnings[0].getMessage()


def test_without_checkpointing_a_stateful_operator_without_uid_is_only_an_info(caplog):
    env = StreamExecutionEnvironment(Configuration())
    env.from_collection([1, 2]).key_by(_key).reduce(lambda a, b: a + b).print()
    with caplog.at_level(logging.INFO, logger="flink_py.graph.job_graph"):
        env.get_job_graph()
    (record,) = [r for r in caplog.records if "have no uid" in r.getMessage()]
    assert record.levelno == logging.INFO


def test_stateless_or_uid_operators_are_not_warned_about(caplog):
    env = StreamExecutionEnvironment(Configuration())
    env.enable_checkpointing(1000)
    env.from_collection([1, 2]).map(_double).key_by(_key).reduce(
        lambda a, b: a + b).uid("sum").print()
    with caplog.at_level(logging.WARNING, logger="flink_py.graph.job_graph"):
        env.get_job_graph()
    assert not [r for r in caplog.records if "have no uid" in r.getMessage()]


def test_operator_ids_of_a_stream_graph_match_the_job_graph():
    env = StreamExecutionEnvironment(Configuration())
    env.set_parallelism(2)
    _program(env)
    stream_graph = env.get_stream_graph("ids")
    by_node = operator_ids_of(stream_graph)
    env2 = StreamExecutionEnvironment(Configuration())
    env2.set_parallelism(2)
    _program(env2)
    job_graph = env2.get_job_graph("ids")
    names = {n.name: by_node[n.id].hex for n in stream_graph.nodes.values()}
    assert names == _ids_by_name(job_graph)
