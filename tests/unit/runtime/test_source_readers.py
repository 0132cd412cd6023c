"""Built-in source readers: one batch per step, and a position kept in operator state."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import pytest

from flink_py.runtime.checkpoint.options import CheckpointOptions
from flink_py.runtime.operators.base import Output, StreamingRuntimeContext
from flink_py.runtime.operators.sources import (
    READER_POSITION_STATE, CollectionSource, NumberSequenceSource, SourceTaskContext,
    StreamSource, TextFileSource)
from flink_py.runtime.state.checkpoint_streams import MemoryCheckpointStreamFactory
from flink_py.runtime.state.handles import SPLIT_DISTRIBUTE, OperatorSubtaskState
from flink_py.runtime.state.operator_state_backend import write_operator_state


class Context(SourceTaskContext):
    records_per_buffer = 3
    cancelled = False

    def __init__(self, source: StreamSource) -> None:
        self.source = source

    def emit(self, values: list, timestamps: Optional[list]) -> None:
        self.source.output.emit(values, timestamps)

    def flush(self) -> None:
        pass


def _open(make: Callable[[], StreamSource], out: List[Any], subtask: int = 0,
          parallelism: int = 1, restored: Optional[Dict[str, Any]] = None) -> StreamSource:
    source = make()
    source.restored_operator_state = restored
    source.setup(StreamingRuntimeContext("src", subtask, parallelism, 128),
                 Output(lambda values, timestamps: out.extend(values)))
    source.open()
    position = source.restored_reader_position()
    if position is not None:
        source.seek(position)
    return source


def _snapshot(source: StreamSource) -> Dict[str, Any]:
    """What the operator's snapshot holds, decoded as a restore would."""
    state = source.snapshot_state(1, 0, CheckpointOptions(), MemoryCheckpointStreamFactory())()
    restored: Dict[str, Any] = {}
    for handle in state.managed_operator_state:
        data = handle.delegate.read_bytes()
        for name, (mode, spans) in handle.state_name_to_partition_offsets.items():
            restored[name] = (mode, [pickle.loads(data[o:o + n]) for o, n in spans])
    return restored


def _as_subtask_state(snapshot: Dict[str, Any]) -> OperatorSubtaskState:
    handle = write_operator_state(snapshot, MemoryCheckpointStreamFactory())
    return OperatorSubtaskState(managed_operator_state=[handle])


@pytest.fixture
def text_files(tmp_path: Path) -> List[str]:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("".join(f"a{i}\n" for i in range(7)))
    second.write_text("".join(f"b{i}\n" for i in range(5)))
    return [str(first), str(second)]


SOURCES: Dict[str, Callable[..., Callable[[], StreamSource]]] = {
    "collection": lambda files: lambda: CollectionSource("c", list(range(20))),
    "sequence": lambda files: lambda: NumberSequenceSource("s", 1, 20),
    "text files": lambda files: lambda: TextFileSource("t", files),
}


@pytest.mark.parametrize("kind", SOURCES)
def test_a_reader_emits_at_most_the_batch_it_is_asked_for(kind: str,
                                                          text_files: List[str]) -> None:
    out: List[Any] = []
    source = _open(SOURCES[kind](text_files), out)
    assert source.emit_next(Context(source), 1)
    assert len(out) == 1


@pytest.mark.parametrize("kind", SOURCES)
def test_a_restored_reader_resumes_right_after_its_last_record(
        kind: str, text_files: List[str]) -> None:
    everything: List[Any] = []
    whole = _open(SOURCES[kind](text_files), everything)
    whole.run(Context(whole))
    before: List[Any] = []
    source = _open(SOURCES[kind](text_files), before)
    ctx = Context(source)
    for _ in range(3):
        source.emit_next(ctx, 3)
    snapshot = _snapshot(source)
    assert READER_POSITION_STATE in snapshot
    after: List[Any] = []
    restored = _open(SOURCES[kind](text_files), after, restored=snapshot)
    restored_ctx = Context(restored)
    while restored.emit_next(restored_ctx, 4):
        pass
    assert before + after == everything
    assert 0 < len(before) < len(everything)


def test_a_reader_of_many_subtasks_keeps_to_its_share() -> None:
    outs: List[List[Any]] = [[], []]
    for index in range(2):
        source = _open(lambda: NumberSequenceSource("s", 1, 10), outs[index], index, 2)
        ctx = Context(source)
        while source.emit_next(ctx, 2):
            pass
    assert outs == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]


@pytest.fixture
def four_files(tmp_path: Path) -> List[str]:
    paths = []
    for n, name in enumerate("abcd"):
        path = tmp_path / f"{name}.txt"
        path.write_text("".join(f"{name}{i}\n" for i in range(5 + 3 * n)))
        paths.append(str(path))
    return paths


RESCALED: Dict[str, Callable[..., Callable[[], StreamSource]]] = {
    "sequence": lambda files: lambda: NumberSequenceSource("s", 1, 100),
    "collection": lambda files: lambda: CollectionSource("c", [f"item-{i}" for i in range(50)]),
    "text files": lambda files: lambda: TextFileSource("t", files),
}


def _drain(source: StreamSource) -> None:
    ctx = Context(source)
    while source.emit_next(ctx, 5):
        pass


@pytest.mark.parametrize("new_parallelism", [1, 3])
@pytest.mark.parametrize("kind", RESCALED)
def test_a_source_restored_at_another_parallelism_emits_each_remaining_record_once(
        kind: str, new_parallelism: int, four_files: List[str]) -> None:
    make = RESCALED[kind](four_files)
    everything: List[Any] = []
    for index in range(2):
        _drain(_open(make, everything, index, 2))
    before: List[Any] = []
    splits: List[Any] = []
    mode = None
    for index in range(2):
        source = _open(make, before, index, 2)
        source.emit_next(Context(source), 3 + index)
        mode, elements = _snapshot(source)[READER_POSITION_STATE]
        splits += elements
    assert mode == SPLIT_DISTRIBUTE and len(splits) >= 2
    after: List[Any] = []
    for index in range(new_parallelism):  # dealt round robin, as the state assignment does
        share = splits[index::new_parallelism]
        source = make()
        source.restored_operator_state = ({READER_POSITION_STATE: (mode, share)}
                                          if share else None)
        source.task_restored = True  # a subtask of a restored job, with or without a share
        source.setup(StreamingRuntimeContext("src", index, new_parallelism, 128),
                     Output(lambda values, timestamps: after.extend(values)))
        source.open()
        source.seek(source.restored_reader_position())
        _drain(source)
    assert 0 < len(before) < len(everything)
    assert sorted(before + after, key=str) == sorted(everything, key=str)


def test_a_restored_subtask_without_splits_emits_nothing_and_a_fresh_one_everything() -> None:
    for restored, expected in ((True, []), (False, list(range(1, 11)))):
        out: List[Any] = []
        source = NumberSequenceSource("s", 1, 10)
        source.task_restored = restored
        source.setup(StreamingRuntimeContext("src", 0, 1, 128),
                     Output(lambda values, timestamps: out.extend(values)))
        position = source.restored_reader_position()
        if position is not None:
            source.seek(position)
        _drain(source)
        assert out == expected


def test_positions_of_older_savepoints_still_restore(text_files: List[str]) -> None:
    """Before positions were splits: a collection's count, a text source's (split, lines)."""
    out: List[Any] = []
    source = _open(lambda: CollectionSource("c", list(range(10))), out,
                   restored={READER_POSITION_STATE: (SPLIT_DISTRIBUTE, [4])})
    _drain(source)
    assert out == list(range(4, 10))
    lines: List[Any] = []
    source = _open(lambda: TextFileSource("t", text_files), lines,
                   restored={READER_POSITION_STATE: (SPLIT_DISTRIBUTE, [(0, 5)])})
    _drain(source)
    assert lines == ["a5", "a6"] + [f"b{i}" for i in range(5)]


def test_a_source_with_watermarks_restores_the_position_of_the_source_it_wraps(
        four_files: List[str]) -> None:
    from flink_py.common.watermark_strategy import WatermarkStrategy
    from flink_py.runtime.operators.timestamps import SourceWithWatermarks

    def make() -> StreamSource:
        return SourceWithWatermarks(TextFileSource("t", four_files),
                                    WatermarkStrategy.no_watermarks())

    everything: List[Any] = []
    _drain(_open(make, everything))
    before: List[Any] = []
    source = _open(make, before)
    source.emit_next(Context(source), 4)
    snapshot = _snapshot(source)
    after: List[Any] = []
    restored = make()
    restored.task_restored = True
    restored.setup(StreamingRuntimeContext("src", 0, 1, 128),
                   Output(lambda values, timestamps: after.extend(values)))
    restored.initialize_state(_as_subtask_state(snapshot))
    restored.open()
    restored.seek(restored.restored_reader_position())
    _drain(restored)
    assert before + after == everything and before
