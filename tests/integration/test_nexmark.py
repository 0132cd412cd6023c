"""Nexmark's q0-q8 (benchmarks/nexmark_queries) on flink_py give the rows real PyFlink 2.3
gave for the same files, in batch and streaming mode.

The data: 10,000 events of flink_py's Nexmark generator (seed 0, 100 events a second:
200 people, 600 auctions, 9,200 bids over 100 s), written as JSON lines and read by the
filesystem connector on both sides (with nexmark's ``WATERMARK FOR dateTime AS dateTime -
INTERVAL '4' SECOND``). ``tests/fixtures/pyflink/nexmark_queries.py`` ran under PyFlink
2.3.0 in each mode, twice, and printed ``nexmark_qN.batch.txt`` / ``nexmark_qN.stream.txt``
(streaming q0 and q1, the batch scans with an op column, are not kept: 1 MB each).

A batch join's or aggregation's row order is Flink's hash/sort order, which SQL leaves
undefined: the rows of each table are compared sorted (q0-q2, plain scans, also come in the
same order). Streaming: the insert-only results are compared sorted (the two file sources
of a join interleave as they are scheduled). q4's changelog depends on that interleaving
(two PyFlink runs printed different changelogs), so its result -- the changelog applied --
is compared.
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Dict

import pytest

from flink_py.table import nexmark
from tests.integration.test_pyflink_typed_streams import FIXTURES, run_on_flink_py
from tests.integration.test_table_pyflink_parity import _with_table_rows_sorted

ROOT = Path(__file__).resolve().parents[2]
QUERIES = ["q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8"]
STREAM_QUERIES = QUERIES[2:]


def _split(text: str) -> Dict[str, str]:
    parts: Dict[str, str] = {}
    current = None
    for line in text.splitlines(keepends=True):
        if line.startswith("== q"):
            current = line[3:].strip()
            parts[current] = ""
        if current is not None:
            parts[current] += line
    return parts


def _recorded(query: str, mode: str) -> str:
    return (FIXTURES / f"nexmark_{query}.{mode}.txt").read_text()


def _applied(changelog: str) -> collections.Counter:
    """The rows a printed changelog leaves (each +I/+U adds its row, each -U/-D takes it)."""
    rows: collections.Counter = collections.Counter()
    for line in changelog.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 3 and cells[1] in ("+I", "+U", "-U", "-D"):
            rows[tuple(cells[2:-1])] += 1 if cells[1] in ("+I", "+U") else -1
    assert all(n >= 0 for n in rows.values()), "a retraction of a row not there"
    return +rows


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("nexmark") / "data"
    nexmark.write_json_files(str(directory), 10_000, nexmark.GeneratorConfig(seed=0, rate=100))
    return directory


def _run(tmp_path_factory, data: Path, mode: str, queries) -> Dict[str, str]:
    done = run_on_flink_py("nexmark_queries.py", tmp_path_factory.mktemp(mode), mode,
                           str(data), str(ROOT / "benchmarks" / "nexmark_queries"), *queries)
    assert done.returncode == 0, done.stderr
    return _split(done.stdout)


@pytest.fixture(scope="module")
def batch(tmp_path_factory, data) -> Dict[str, str]:
    return _run(tmp_path_factory, data, "batch", QUERIES)


@pytest.fixture(scope="module")
def stream(tmp_path_factory, data) -> Dict[str, str]:
    return _run(tmp_path_factory, data, "stream", STREAM_QUERIES)


@pytest.mark.parametrize("query", [q for q in QUERIES if q != "q6"])
def test_nexmark_query_in_batch_mode_gives_flinks_rows(query, batch):
    assert _with_table_rows_sorted(batch[query]) == \
        _with_table_rows_sorted(_recorded(query, "batch"))


@pytest.mark.parametrize("query", ["q0", "q1", "q2"])
def test_nexmark_scans_keep_the_files_order(query, batch):
    assert batch[query] == _recorded(query, "batch")


@pytest.mark.parametrize("query", ["q2", "q3", "q7", "q8"])
def test_nexmark_insert_only_query_in_streaming_mode_gives_flinks_rows(query, stream):
    assert _with_table_rows_sorted(stream[query]) == \
        _with_table_rows_sorted(_recorded(query, "stream"))


@pytest.mark.parametrize("query", ["q4", "q5"])
def test_nexmark_updating_query_in_streaming_mode_ends_with_flinks_rows(query, stream):
    recorded = _applied(_recorded(query, "stream"))
    assert recorded and _applied(stream[query]) == recorded


def test_nexmark_q5_streaming_changelog_is_flinks():
    pytest.skip("not built yet: Flink plans q5's GROUP BY starttime, endtime over a window "
                "aggregate's rows as a window aggregate (window properties propagate) and "
                "the join on the window bounds as a window join, so its changelog is the 54 "
                "final rows, inserts only; flink_py builds a regular aggregate and a regular "
                "join there and prints a changelog of updates and retractions (about 12,500 "
                "rows) that ends with the same 54 rows")


@pytest.mark.parametrize("mode", ["batch", "stream"])
def test_nexmark_q6_is_refused_as_flink_refuses_it(mode, batch, stream):
    # nexmark's q6 filters on the ROW_NUMBER alias inside the SELECT that defines it
    # (and needs an OVER window over a retracting input): Flink refuses it at validation
    recorded = _recorded("q6", mode).splitlines()
    ours = (batch if mode == "batch" else stream)["q6"].splitlines()
    assert recorded[1].startswith("ERROR: SQL validation failed.")
    assert ours[0] == recorded[0] and ours[1].startswith(recorded[1])


def test_json_timestamp_columns_read_as_in_pyflink(tmp_path):
    # the json format's TIMESTAMP text, as the Nexmark files hold it, and texts it refuses
    done = run_on_flink_py("table_json_timestamp.py", tmp_path, str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout == (FIXTURES / "table_json_timestamp.txt").read_text()
