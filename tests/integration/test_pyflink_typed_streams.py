"""Typed streams change values where PyFlink serializes them, as real PyFlink 2.3 does.

The programs in ``tests/fixtures/pyflink/`` are PyFlink programs; next to each is what
PyFlink 2.3 printed for it. Each test runs one on flink_py with only its imports changed and
compares the output per print identifier (pipelines interleave in no fixed order).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pyflink"
REPO = Path(__file__).resolve().parents[2]


def _ported(program: str, tmp_path: Path) -> Tuple[Path, Dict[str, str]]:
    """The fixture ``program`` with ``pyflink.`` imports changed to ``flink_py.``, and the
    environment to run it in."""
    source = (FIXTURES / program).read_text()
    ported = source.replace("from pyflink.", "from flink_py.")
    assert ported != source, f"{program} imports nothing from pyflink"
    script = tmp_path / program
    script.write_text(ported)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return script, env


def run_on_flink_py(program: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Runs the fixture ``program`` with ``pyflink.`` imports changed to ``flink_py.``."""
    script, env = _ported(program, tmp_path)
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          timeout=120, env=env, cwd=tmp_path)


_CASES_DRIVER = """
import contextlib, io, json, runpy, sys, traceback
script, cases, output, results = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3], []
for args in cases:
    out, err, code = io.StringIO(), io.StringIO(), 0
    sys.argv = [script, *args]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            runpy.run_path(script, run_name="__main__")
        except Exception:  # the program failed: its traceback is its stderr
            traceback.print_exc()
            code = 1
    results.append({"returncode": code, "stdout": out.getvalue(), "stderr": err.getvalue()})
json.dump(results, open(output, "w"))
"""


def run_cases_on_flink_py(program: str, tmp_path: Path,
                          cases: List[List[str]]) -> List[subprocess.CompletedProcess]:
    """:func:`run_on_flink_py` for each argument list of ``cases``, all in one process
    (one after the other, each as ``__main__``): a failed run's stderr is its traceback."""
    script, env = _ported(program, tmp_path)
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    driver = tmp_path / "run_cases.py"
    driver.write_text(_CASES_DRIVER)
    done = subprocess.run([sys.executable, str(driver), str(script), "cases.json",
                           "results.json"], capture_output=True, text=True,
                          timeout=60 + 30 * len(cases), env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    return [subprocess.CompletedProcess([str(script), *args], r["returncode"], r["stdout"],
                                        r["stderr"]) for args, r in zip(cases, results)]


def by_identifier(lines: List[str]) -> Dict[str, List[str]]:
    grouped: Dict[str, List[str]] = defaultdict(list)
    for line in lines:
        identifier, sep, _ = line.partition("> ")
        assert sep, f"a line without a print identifier: {line!r}"
        grouped[identifier].append(line)
    return dict(grouped)


def assert_prints_as_pyflink(program: str, tmp_path: Path) -> None:
    done = run_on_flink_py(program, tmp_path)
    assert done.returncode == 0, done.stderr
    expected = (FIXTURES / program.replace(".py", ".txt")).read_text().splitlines()
    assert by_identifier(done.stdout.splitlines()) == by_identifier(expected)


def test_float_values_are_narrowed_where_pyflink_serializes_them(tmp_path):
    # 110.1 stays 110.1 between chained Python operators and is 110.0999984741211 after a
    # network exchange, a Java operator, a broken chain, a second consumer or a side output.
    assert_prints_as_pyflink("typed_float_streams.py", tmp_path)


def test_without_python_operator_chaining_every_hand_over_narrows(tmp_path):
    assert_prints_as_pyflink("typed_float_no_python_chaining.py", tmp_path)


def test_float_values_through_watermarks_windows_and_collect(tmp_path):
    assert_prints_as_pyflink("typed_float_windows_and_collect.py", tmp_path)


def test_typed_sources_narrow_integers_as_java_casts_do(tmp_path):
    assert_prints_as_pyflink("typed_integer_sources.py", tmp_path)


def _overflow_cases() -> List[Tuple[str, str, str]]:
    cases = []
    for line in (FIXTURES / "typed_integer_overflow.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            args, outcome, text = line.split("\t")
            cases.append((args, outcome, text))
    return cases


@pytest.mark.parametrize("args,outcome,text", _overflow_cases(), ids=lambda v: v[:30])
def test_integers_out_of_range_fail_where_pyflink_fails(tmp_path, args, outcome, text):
    done = run_on_flink_py("typed_integer_overflow.py", tmp_path, *args.split())
    if outcome == "value":
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [text]
        return
    assert done.returncode != 0, done.stdout
    assert done.stdout == ""
    if text.startswith("OverflowError: "):
        # Python's own error, as PyFlink's coder raises it (we add the operator that made
        # the record, the value and the range)
        kind, _, message = text.partition(": ")
        assert f"{kind}: record made in operator 'Map' (subtask 1/1): {message}" in done.stderr
    else:
        # PyFlink fails in Java when the job is defined; flink_py says why in its own words
        assert "InvalidProgramError: from_collection: " in done.stderr
        assert "does not fit a Java long" in done.stderr


def test_each_types_kind_through_sources_maps_state_and_collect(tmp_path):
    # FLOAT ... PICKLED_BYTE_ARRAY through a typed from_collection, a typed map printed by
    # Java and sent over the network, typed ValueState and execute_and_collect, with the
    # Python type of each value (and of its elements) as the next operator gets it. Two
    # PyFlink runs printed the same lines in different interleavings: compared per identifier
    done = run_on_flink_py("typed_values.py", tmp_path)
    assert done.returncode == 0, done.stderr
    expected = by_identifier(
        (FIXTURES / "typed_values.txt").read_text().splitlines())
    # typed FLOAT state included: PyFlink's Python state hands back the object written
    assert by_identifier(done.stdout.splitlines()) == expected
