"""Whether a JobVertex's max parallelism was configured: what decides if a restore may adopt
the checkpoint's (Flink's ``VertexParallelismInformation#canRescaleMaxParallelism``)."""

from __future__ import annotations

from typing import Callable, Dict

import pytest

from flink_py.common.configuration import Configuration
from flink_py.datastream import StreamExecutionEnvironment


def _identity(value: int) -> int:
    return value


def _key(value: int) -> int:
    return value % 2


def _by_name(env: StreamExecutionEnvironment) -> Dict[str, tuple]:
    return {v.name: (v.max_parallelism, v.max_parallelism_configured)
            for v in env.get_job_graph().vertices.values()}


def _pipeline(env: StreamExecutionEnvironment) -> None:
    env.from_sequence(1, 10).key_by(_key).map(_identity).name("Keyed").print()


def test_a_derived_max_parallelism_is_not_configured() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(100)
    _pipeline(env)
    assert set(_by_name(env).values()) == {(256, False)}


SETTINGS: Dict[str, Callable[[], StreamExecutionEnvironment]] = {
    "env.set_max_parallelism": lambda: StreamExecutionEnvironment.get_execution_environment()
    .set_max_parallelism(64),
    "pipeline.max-parallelism": lambda: StreamExecutionEnvironment.get_execution_environment(
        Configuration({"pipeline.max-parallelism": "64"})),
}


@pytest.mark.parametrize("how", SETTINGS)
def test_a_max_parallelism_set_for_the_job_is_configured_on_every_vertex(how: str) -> None:
    env = SETTINGS[how]()
    _pipeline(env)
    assert set(_by_name(env).values()) == {(64, True)}


def test_a_max_parallelism_set_on_one_operator_is_configured_on_its_vertex_only() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_sequence(1, 10).key_by(_key).map(_identity).name("Keyed") \
        .set_max_parallelism(32).print()
    by_name = _by_name(env)
    assert by_name["Keyed -> Sink: Print to Std. Out"] == (32, True)
    assert by_name["Source: Sequence Source"] == (128, False)
