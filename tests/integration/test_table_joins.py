"""Joins and set operations print what real PyFlink 2.3 printed for them
(``tests/fixtures/pyflink/table_joins.py``, ``table_set_ops.py``, both modes).

A streaming join's two inputs come from two sources, whose rows the join task takes in an
order neither Flink nor flink_py fixes (PyFlink's two recordings interleaved them
differently: a left row before or after its match changes the changelog, ``+I[a, NULL]``,
``-D[a, NULL]``, ``+I[a, b]`` or just ``+I[a, b]``). So a streaming tableau is compared as
what it materializes to -- its header and its final rows, sorted, every ``-D``/``-U``
retracting a row that is there -- and a batch tableau sorted; schemas, errors and
everything else exactly. The exact changelog for a given arrival order is checked in
``tests/unit/table/test_joins.py`` against orders PyFlink printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import pytest

from tests.integration.test_table_pyflink_parity import _recorded, _run, _with_table_rows_sorted


def _materialized(text: str) -> List[object]:
    """The output with each tableau replaced by its header and final rows (sorted)."""
    out: List[object] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("+-") and i + 2 < len(lines) and lines[i + 1].startswith("| op |"):
            header = lines[i + 1]
            j = i + 3
            counts: dict = {}
            while not lines[j].startswith("+-"):
                cells = lines[j].split("|")
                op, row = cells[1].strip(), "|".join(cells[2:])
                counts[row] = counts.get(row, 0) + (1 if op in ("+I", "+U") else -1)
                assert counts[row] >= 0, f"{op} of a row that is not there: {lines[j]}"
                j += 1
            final: List[Tuple[str, int]] = sorted((r, n) for r, n in counts.items() if n)
            out.append(("table", header, final))
            i = j + 2  # the closing border and "N rows in set"
            continue
        out.append(line)
        i += 1
    return out


@pytest.mark.parametrize("program", ["table_joins.py", "table_set_ops.py"])
def test_streaming_joins_and_set_operations_materialize_to_what_pyflink_printed(
        program: str, tmp_path: Path) -> None:
    printed = _run(program, tmp_path, "stream")
    assert _materialized(printed) == _materialized(
        _recorded(program.replace(".py", ".stream.txt")))


@pytest.mark.parametrize("program", ["table_joins.py", "table_set_ops.py"])
def test_batch_joins_and_set_operations_print_as_in_pyflink_up_to_row_order(
        program: str, tmp_path: Path) -> None:
    printed = _run(program, tmp_path, "batch")
    assert "| op |" not in printed
    assert _with_table_rows_sorted(printed) == _with_table_rows_sorted(
        _recorded(program.replace(".py", ".batch.txt")))
