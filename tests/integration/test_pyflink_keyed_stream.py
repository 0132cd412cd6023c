"""A KeyedStream as PyFlink's: its partitioning cannot be overridden, and its print() ignores
the sink identifier (fixture recorded from PyFlink 2.3.0)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flink_py.datastream import StreamExecutionEnvironment
from flink_py.errors import InvalidProgramError
from tests.integration.test_pyflink_typed_streams import FIXTURES, run_on_flink_py


def test_a_keyed_stream_refuses_other_partitioning_and_prints_as_pyflink(tmp_path: Path
                                                                         ) -> None:
    done = run_on_flink_py("keyed_stream_partitioning.py", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (FIXTURES / "keyed_stream_partitioning.txt").read_text()


@pytest.mark.parametrize("call", [
    lambda keyed: keyed.rebalance(), lambda keyed: keyed.broadcast(),
    lambda keyed: keyed.partition_custom(lambda key, n: 0, lambda x: x)])
def test_the_refusal_is_an_invalid_program_error(call) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    keyed = env.from_collection([1, 2]).key_by(lambda x: x)
    with pytest.raises(InvalidProgramError, match="Cannot override partitioning"):
        call(keyed)
