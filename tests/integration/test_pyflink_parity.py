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
