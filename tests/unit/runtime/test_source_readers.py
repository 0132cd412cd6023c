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


@pytest.mark.parametrize("new_parallelism", [1, 3])
def test_a_sequence_restored_at_another_parallelism_emits_each_number_once(
        new_parallelism: int) -> None:
    emitted: List[Any] = []
    ranges: List[Any] = []
    mode = None
    for index in range(2):
        source = _open(lambda: NumberSequenceSource("s", 1, 100), emitted, index, 2)
        source.emit_next(Context(source), 7 + index)
        mode, elements = _snapshot(source)[READER_POSITION_STATE]
        ranges += elements
    for index in range(new_parallelism):  # dealt round robin, as the state assignment does
        share = ranges[index::new_parallelism]
        source = _open(lambda: NumberSequenceSource("s", 1, 100), emitted, index,
                       new_parallelism, restored={READER_POSITION_STATE: (mode, share)}
                       if share else None)
        source.task_restored = True
        position = source.restored_reader_position()
        if position is not None:
            source.seek(position)
        ctx = Context(source)
        while source.emit_next(ctx, 5):
            pass
    assert sorted(emitted) == list(range(1, 101))
