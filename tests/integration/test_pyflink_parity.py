"""Key routing, BATCH order and default parallelism print what real PyFlink 2.3 printed.

Each program in ``tests/fixtures/pyflink/`` ran on PyFlink 2.3.0 (its stdout is the ``.txt``
next to it); here it runs on flink_py with only its imports changed
(:func:`run_on_flink_py`).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

from tests.integration.test_pyflink_typed_streams import FIXTURES, run_on_flink_py


def _printed(program: str, tmp_path: Path) -> List[str]:
    done = run_on_flink_py(program, tmp_path)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def _recorded(program: str) -> List[str]:
    return (FIXTURES / program.replace(".py", ".txt")).read_text().splitlines()


def test_keys_land_on_the_subtasks_pyflink_routes_them_to(tmp_path):
    # Each line names the parallelism, key kind and key; its "N> " prefix is the subtask the
    # key went to. 21 pipelines print at once, so lines interleave in no fixed order (two
    # PyFlink runs differed): compared sorted, which still checks every key's subtask.
    assert sorted(_printed("key_routing.py", tmp_path)) == sorted(_recorded("key_routing.py"))


def _by_pipeline(lines: List[str]) -> Dict[Tuple[str, str, str], List[str]]:
    """Lines per (print identifier, parallelism tag, key kind), in printed order."""
    grouped: Dict[Tuple[str, str, str], List[str]] = defaultdict(list)
    for line in lines:
        identifier, sep, text = line.partition("> ")
        if not sep:  # parallelism 1 prints no identifier
            identifier, text = "", line
        tag, kind, _ = text.split(" ", 2)
        grouped[(identifier, tag, kind)].append(line)
    return dict(grouped)


def test_batch_keyed_input_is_sorted_by_serialized_key_as_in_pyflink(tmp_path):
    # A BATCH job's keyed operator reads its input sorted by the key's serialized bytes
    # (signed), so ('a', 5) comes before ('Be', 1), untyped int 128 before 0 and typed INT
    # -1 before -129. The pipelines print at once; each one's lines come in a fixed order
    # (the same in two PyFlink runs), compared per subtask and pipeline.
    printed = _by_pipeline(_printed("batch_key_order.py", tmp_path))
    assert printed == _by_pipeline(_recorded("batch_key_order.py"))
