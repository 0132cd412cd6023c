"""The FileSink with checkpoints: part files become visible when the checkpoint that
pre-committed them completes (exactly-once files), and a restore commits what its
checkpoint pre-committed."""

from __future__ import annotations

from pathlib import Path
from typing import List

from flink_py.common import Encoder
from flink_py.datastream.connectors.file_system import FileSink
from flink_py.testing.harness import OneInputStreamOperatorTestHarness


def _sink_harness(base: Path) -> OneInputStreamOperatorTestHarness:
    sink = FileSink.for_row_format(str(base), Encoder.simple_string_encoder()).build()
    return OneInputStreamOperatorTestHarness(sink._create_sink_operator("files"))


def _visible_lines(base: Path) -> List[str]:
    return sorted(line for p in base.rglob("*") if p.is_file() and not p.name.startswith(".")
                  for line in p.read_text().splitlines())


def test_part_files_are_committed_when_their_checkpoint_completes(tmp_path: Path) -> None:
    harness = _sink_harness(tmp_path)
    harness.open()
    harness.process_elements(["a", "b"])
    harness.snapshot(1, 0)
    harness.process_elements(["c"])
    harness.snapshot(2, 0)
    harness.process_elements(["d"])
    assert _visible_lines(tmp_path) == []  # pre-committed only
    harness.notify_checkpoint_complete(1)
    assert _visible_lines(tmp_path) == ["a", "b"]
    harness.notify_checkpoint_complete(2)
    assert _visible_lines(tmp_path) == ["a", "b", "c"]
    harness.end_input()
    harness.close()
    assert _visible_lines(tmp_path) == ["a", "b", "c", "d"]


def test_a_restore_commits_the_files_its_checkpoint_pre_committed(tmp_path: Path) -> None:
    harness = _sink_harness(tmp_path)
    harness.open()
    harness.process_elements(["a", "b"])
    snapshot = harness.snapshot(1, 0)
    harness.process_elements(["lost"])  # after the checkpoint: replayed after the restore
    harness.close()  # a failure before the notification of checkpoint 1
    assert _visible_lines(tmp_path) == []

    restored = _sink_harness(tmp_path)
    restored.initialize_state(snapshot)
    restored.open()
    assert _visible_lines(tmp_path) == ["a", "b"]
    restored.process_elements(["lost"])
    restored.end_input()
    restored.close()
    assert _visible_lines(tmp_path) == ["a", "b", "lost"]
