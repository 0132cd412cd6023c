"""Key routing, BATCH order and default parallelism print what real PyFlink 2.3 printed.

Each program in ``tests/fixtures/pyflink/`` ran on PyFlink 2.3.0 (its stdout is the ``.txt``
next to it); here it runs on flink_py with only its imports changed
(:func:`run_on_flink_py`).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from flink_py.datastream.stream_execution_environment import local_default_parallelism
from tests.integration.test_pyflink_typed_streams import FIXTURES, by_identifier, run_on_flink_py


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


def test_local_environment_runs_at_the_number_of_cores_when_the_program_sets_none(tmp_path):
    if local_default_parallelism() != 2:
        pytest.skip("default_parallelism.txt was recorded on 2 cores; this machine has "
                    f"{local_default_parallelism()}")
    done = run_on_flink_py("default_parallelism.py", tmp_path)
    assert done.returncode == 0, done.stderr
    # keys 0 and 1 both land on subtask 0 of 2 (typed INT): one print identifier, in order
    assert done.stdout.splitlines() == _recorded("default_parallelism.py")


def test_parallelism_default_in_the_configuration_wins_over_the_cores(tmp_path):
    done = run_on_flink_py("default_parallelism.py", tmp_path, "config")
    assert done.returncode == 0, done.stderr
    expected = (FIXTURES / "default_parallelism_config.txt").read_text().splitlines()
    # get_parallelism() is printed first; the subtasks' lines interleave: per identifier
    assert done.stdout.splitlines()[0] == expected[0] == "config get_parallelism() = 3"
    assert by_identifier(done.stdout.splitlines()[1:]) == by_identifier(expected[1:])


def test_set_default_local_parallelism_applies_to_environments_created_after_it(tmp_path):
    if local_default_parallelism() != 2:
        pytest.skip("default_local_parallelism.txt was recorded on 2 cores")
    printed = _printed("default_local_parallelism.py", tmp_path)
    expected = _recorded("default_local_parallelism.py")
    assert printed[:2] == expected[:2]
    # the map reads a rebalance, which starts at a random channel in Flink: the records
    # and the three subtasks are compared, not which subtask printed which record
    assert sorted(line.split("> ")[1] for line in printed[2:]) == \
        sorted(line.split("> ")[1] for line in expected[2:])
    assert {line.split("> ")[0] for line in printed[2:]} == \
        {line.split("> ")[0] for line in expected[2:]} == {"1", "2", "3"}
