"""A keyed exchange hands its consumer the keys it routed by (``RecordWriter``,
``route_with_keys``): a fused reduce behind it does not call the key selector again, and
gives what it gives when it keys each record itself."""

from __future__ import annotations

import itertools
from typing import Any, Dict, List

import pytest

from flink_py.common import Configuration
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.runtime.tasks.fusion import FusionStage, build_fused_function


#: calls of the key selector: a module-level counter, shared by reference with the
#: subtasks (all in this process: the functions ship by reference to this module)
_CALLS = itertools.count()


def _key(record: tuple) -> Any:
    next(_CALLS)
    return record[0]


def _calls() -> int:
    return next(_CALLS)  # the count so far (and one more, which the caller subtracts)


def _run(parallelism: int, records: List[tuple]) -> tuple:
    config = Configuration()
    config.set_string("python.execution-mode", "thread")
    env = StreamExecutionEnvironment.get_execution_environment(config)
    env.set_parallelism(parallelism)
    before = _calls()
    stream = (env.from_collection(records).key_by(_key)
              .reduce(lambda a, b: (a[0], a[1] + b[1])))
    with stream.execute_and_collect() as results:
        collected = list(results)
    return collected, _calls() - before - 1


@pytest.mark.parametrize("keys", [
    [i % 13 for i in range(5000)],
    [f"w{i % 29}" for i in range(5000)],
    [(i % 3, "x") if i % 2 else None for i in range(5000)],
])
def test_a_fused_reduce_behind_two_channels_keys_each_record_once(keys: List[Any]) -> None:
    records = [(k, i) for i, k in enumerate(keys)]
    collected, calls = _run(2, records)
    # once, by the partitioner; the reduce took the keys that came with the buffers
    assert calls == len(records)
    finals: Dict[Any, int] = {}
    for k, total in collected:
        finals[repr(k)] = total  # one producer: each key's rolling sums arrive in order
    expected: Dict[Any, int] = {}
    for k, v in records:
        expected[repr(k)] = expected.get(repr(k), 0) + v
    assert finals == expected
    assert len(collected) == len(records)


def test_one_channel_keys_in_the_consumer() -> None:
    # with a single consumer the exchange sends no keys; the reduce keys each record
    records = [(i % 5, i) for i in range(1000)]
    collected, calls = _run(1, records)
    assert calls == len(records)
    assert len(collected) == len(records)


def test_keys_can_only_be_handed_to_a_fused_reduce() -> None:
    with pytest.raises(ValueError, match="keys can only be handed to a fused reduce, "
                                         "not to a 'map' stage"):
        build_fused_function([], [FusionStage("map", abs)], lambda values, ts: None,
                             with_keys=True)
