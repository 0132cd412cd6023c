"""Operator state (CheckpointedFunction): list and union-list state, redistribution."""

from __future__ import annotations

from typing import Any, List

import pytest

from flink_py.datastream import StreamExecutionEnvironment
from flink_py.datastream.functions import CheckpointedFunction, MapFunction
from flink_py.datastream.state import ListStateDescriptor, ValueStateDescriptor
from flink_py.errors import FlinkPyError
from flink_py.runtime.state.operator_state_backend import (
    SPLIT_DISTRIBUTE, UNION, OperatorStateStore, redistribute)


def test_list_state_is_split_and_union_state_is_given_to_every_subtask() -> None:
    old = [{"offsets": (SPLIT_DISTRIBUTE, [1, 2, 3]), "seen": (UNION, ["a"])},
           {"offsets": (SPLIT_DISTRIBUTE, [4, 5]), "seen": (UNION, ["b", "c"])}]
    new = redistribute(old, 3)
    assert sorted(e for part in new for e in part["offsets"][1]) == [1, 2, 3, 4, 5]
    assert [len(part["offsets"][1]) for part in new] == [2, 2, 1]
    assert all(part["seen"] == (UNION, ["a", "b", "c"]) for part in new)


def test_a_store_restores_its_share_and_snapshots_it() -> None:
    store = OperatorStateStore({"offsets": (SPLIT_DISTRIBUTE, [7, 8])})
    state = store.get_list_state(ListStateDescriptor("offsets"))
    assert list(state) == [7, 8]
    state.add(9)
    assert store.snapshot() == {"offsets": (SPLIT_DISTRIBUTE, [7, 8, 9])}


def test_one_name_cannot_be_list_and_union_state() -> None:
    store = OperatorStateStore()
    store.get_list_state(ListStateDescriptor("s"))
    with pytest.raises(FlinkPyError, match="'s'"):
        store.get_union_list_state(ListStateDescriptor("s"))
    with pytest.raises(FlinkPyError, match="ListStateDescriptor"):
        store.get_list_state(ValueStateDescriptor("v"))


class Buffering(MapFunction, CheckpointedFunction):
    """Counts records in a list state it gets in initialize_state, before open."""

    def initialize_state(self, context: Any) -> None:
        self.restored = context.is_restored()
        self.state = context.get_operator_state_store().get_list_state(
            ListStateDescriptor("buffer"))

    def snapshot_state(self, context: Any) -> None:
        pass

    def open(self, runtime_context: Any) -> None:
        assert self.state is not None  # initialize_state ran first

    def map(self, value: Any) -> Any:
        self.state.add(value)
        return (value, len(self.state.get()), self.restored)


def test_initialize_state_runs_before_open_in_a_job() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    out: List[Any] = list(env.from_collection([10, 20, 30]).map(Buffering())
                          .execute_and_collect())
    assert out == [(10, 1, False), (20, 2, False), (30, 3, False)]
