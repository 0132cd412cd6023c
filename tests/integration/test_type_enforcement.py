"""A record that does not match its declared type fails in the operator that made it.

``tests/fixtures/pyflink/type_enforcement.py`` makes one value under one declared type (a
map's ``output_type`` printed by Java or sent over the network, or ``from_collection``'s
``type_info``); ``type_enforcement.txt`` is what real PyFlink 2.3 did with each
(``record_type_enforcement.py``). flink_py runs the same program with its imports changed:

* where PyFlink prints a value, flink_py prints the same one (an int declared DOUBLE comes
  back 3.0, a bool declared INT 1);
* where PyFlink fails (in its serializer, or later in Java), flink_py fails in the map that
  made the record, naming the operator, the subtask, the value and the declared type; a
  typed ``from_collection`` fails when it is called, naming the item;
* where PyFlink passes a wrong value on changed or crashes (:data:`STRICTER_THAN_PYFLINK`),
  flink_py fails as for any other mismatch (issue 10, goal 4).
"""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Dict, List, Tuple

import pytest

from tests.integration.test_pyflink_typed_streams import (
    FIXTURES, REPO, run_cases_on_flink_py)

T2 = "Types.TUPLE([Types.INT(), Types.INT()])"
R2 = "Types.ROW([Types.INT(), Types.INT()])"

#: case -> what differs; PyFlink prints a changed value (or crashes) for each
STRICTER_THAN_PYFLINK = {
    (T2, "(1, 2, 3)", "print"): "3 fields, expected 2",  # PyFlink prints (1,2)
    (T2, "(1, 2, 3)", "network"): "3 fields, expected 2",  # PyFlink gives (1, 2)
    (T2, "(1,)", "network"): "1 fields, expected 2",  # PyFlink's worker segfaults
    ("Types.INT()", "1.5", "network"): "a float, expected an int",  # PyFlink gives 1
    (R2, "Row(1, 2, 3)", "network"): "3 fields, expected 2",  # PyFlink: Row(f0=1, f1=2)
    ("Types.STRING()", '["a", 1]', "source"): "an int, expected a str",  # "a", then 1
}


def _cases() -> List[Tuple[str, str, str, str, str]]:
    cases = []
    for line in (FIXTURES / "type_enforcement.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            type_expr, value, mode, outcome, text = line.split("\t")
            cases.append((type_expr, value, mode, outcome, text))
    return cases


def _id(case: Tuple[str, ...]) -> str:
    return " ".join(case[:3])


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Dict[Tuple[str, str, str], subprocess.CompletedProcess]:
    """Every case run on flink_py, in one process (one per case took minutes)."""
    cases = [list(case[:3]) for case in _cases()]
    done = run_cases_on_flink_py("type_enforcement.py", tmp_path_factory.mktemp("cases"),
                                 cases)
    return {tuple(args): result for args, result in zip(cases, done)}


@pytest.mark.parametrize("case", _cases(), ids=_id)
def test_a_value_of_the_wrong_type_fails_where_it_is_made(runs, case):
    type_expr, value, mode, outcome, text = case
    done = runs[(type_expr, value, mode)]
    stricter = STRICTER_THAN_PYFLINK.get((type_expr, value, mode))
    if outcome == "value" and stricter is None:
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == text.split(" | ")
        return
    assert done.returncode != 0, done.stdout
    assert done.stdout == ""
    if mode == "source":
        # when the job is defined, as PyFlink's own from_collection checks fail
        assert re.search(r"InvalidProgramError: from_collection: item \d+: (value .* does not "
                         r"match|None is no value of the) declared type " + re.escape(type_expr),
                         done.stderr), done.stderr
    else:
        shown = repr(eval(value, {"Row": _row()}))
        expected = (f"DeclaredTypeError: record made in operator 'Map' (subtask 1/1): value "
                    f"{shown} does not match declared type {type_expr}: ")
        assert expected in done.stderr, done.stderr
    if stricter is not None:
        assert stricter in done.stderr, done.stderr


def _row() -> type:
    from flink_py.common import Row
    return Row


def test_the_error_names_the_subtask_that_made_the_record(tmp_path):
    program = tmp_path / "parallel.py"
    program.write_text(
        "from flink_py.common import Types\n"
        "from flink_py.datastream import StreamExecutionEnvironment\n"
        "env = StreamExecutionEnvironment.get_execution_environment()\n"
        "env.set_parallelism(2)\n"
        "env.from_collection([1, 2, 3, 4]).rebalance()\\\n"
        "    .map(lambda v: (v, 'x', 'extra'), output_type=Types.TUPLE(\n"
        "        [Types.INT(), Types.STRING()])).name('Widen').print()\n"
        "env.execute('parallel')\n")
    done = subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, env={"PYTHONPATH": str(REPO),
                                                          "PATH": "/usr/bin:/bin"})
    assert done.returncode != 0
    assert done.stdout == ""
    assert re.search(
        r"DeclaredTypeError: record made in operator 'Widen' \(subtask [12]/2\): value "
        r"\(\d, 'x', 'extra'\) does not match declared type "
        r"Types\.TUPLE\(\[Types\.INT\(\), Types\.STRING\(\)\]\): 3 fields, expected 2",
        done.stderr), done.stderr


def test_chained_python_operators_hand_over_objects_unchecked(tmp_path):
    # PyFlink does not serialize between chained Python operators, and neither is a record
    # checked there: only where it leaves the chain (here: the print sink, after the map)
    program = tmp_path / "chained.py"
    program.write_text(
        "from flink_py.common import Types\n"
        "from flink_py.datastream import StreamExecutionEnvironment\n"
        "env = StreamExecutionEnvironment.get_execution_environment()\n"
        "env.set_parallelism(1)\n"
        "env.from_collection([1]).map(lambda v: (v, 2, 3), output_type=Types.TUPLE(\n"
        "    [Types.INT(), Types.INT()])).map(lambda v: len(v), output_type=Types.INT())\\\n"
        "    .print()\n"
        "env.execute('chained')\n")
    done = subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, env={"PYTHONPATH": str(REPO),
                                                          "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout == "3\n"


def test_fixture_cases_are_the_recorders():
    sys.path.insert(0, str(FIXTURES))
    try:
        from record_type_enforcement import CASES
    finally:
        sys.path.remove(str(FIXTURES))
    assert [c[:3] for c in _cases()] == [tuple(c) for c in CASES]
    assert set(STRICTER_THAN_PYFLINK) <= set(CASES)

