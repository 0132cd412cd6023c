"""W1–W4 as Bytewax 0.21 dataflows; run by ``bytewax_runner`` with the Bytewax venv's python.

    python bytewax_flows.py W1|W2|W3|W4 RECORDS REPEAT [--path WORDS_FILE]

Runs the workload ``REPEAT`` times (a new dataflow each time, on ``run_main``: one worker in
this thread, as flink_py's rows run at p=1), checks every run's outputs the way
``workloads.py``'s sinks do and exits non-zero naming the first wrong one, and prints one
JSON line: the best run's seconds and this process's peak RSS.

flink_py is not installed in the Bytewax venv, so this file imports only Bytewax and the
standard library; the per-record functions are those of ``workloads.py``, compiled from its
source (``load_workload_functions``), so both engines call the same code.
"""

from __future__ import annotations

import argparse
import __future__
import ast
import json
import os
import sys
import time
import types
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Optional, Tuple

import bytewax.operators as op
from bytewax.connectors.files import FileSource
from bytewax.dataflow import Dataflow
from bytewax.operators import windowing as win
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from bytewax.testing import TestingSource, run_main

from startup_job import peak_rss_kib  # this file's folder is on sys.path, as a script's

#: the functions and constants of workloads.py that the dataflows call
WORKLOAD_NAMES = (
    "w1_double", "w1_divisible",
    "w2_pair", "w2_key", "w2_sum", "w2_expected", "expected_sums",
    "W3_KEYS", "W3_WINDOW_MS", "w3_event", "w3_key", "w3_timestamp", "w3_windows",
    "w3_expected_count",
    "w4_split", "w4_word",
)

#: records per batch entering the operators. Bytewax runs its Python steps a batch at a
#: time, and its keyed steps per key within a batch: with W2's 1000 keys, batches of 1000
#: records (one per key) ran W2 at about 2/3 of the speed of batches of 10 000 here, and
#: larger ones gained nothing more. TestingSource's default, 1, would make every record a
#: batch of its own.
BATCH_SIZE = 10_000
#: W4's FileSource batches lines, of 10 words each: the same 10 000 records a batch after
#: the split (1000 lines is also FileSource's default)
W4_LINES_PER_BATCH = 1_000

#: W3's windows are aligned to the epoch, as Flink's (window start = ts - ts % length)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def load_workload_functions(path: str, names: Tuple[str, ...] = WORKLOAD_NAMES
                            ) -> Dict[str, Any]:
    """The top-level functions and constants ``names`` of the Python file ``path``, compiled
    from its source without running the rest (its flink_py imports) in a namespace of their
    own, so they still see each other (``w3_event`` reads ``W3_KEYS``)."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=path)
    wanted = set(names)
    picked = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in wanted:
            picked.append(node)
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Name) and node.targets[0].id in wanted):
            picked.append(node)
    module = ast.Module(body=picked, type_ignores=[])
    namespace: Dict[str, Any] = {"__name__": "workloads"}
    # workloads.py has ``from __future__ import annotations``: its annotations name typing
    # and flink_py types that this namespace does not have, so they stay unevaluated here too
    exec(compile(module, path, "exec", flags=__future__.annotations.compiler_flag,
                 dont_inherit=True), namespace)
    missing = wanted - namespace.keys()
    if missing:
        raise LookupError(f"{path} defines no top-level {sorted(missing)}")
    return namespace


_WORKLOADS_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "workloads.py")
w = types.SimpleNamespace(**load_workload_functions(_WORKLOADS_PY))


# -- sinks: what workloads.py's sinks do, a batch at a time -----------------------------------

class _CallbackPartition(StatelessSinkPartition[Any]):
    def __init__(self, on_batch: Callable[[List[Any]], None]) -> None:
        self.on_batch = on_batch

    def write_batch(self, items: List[Any]) -> None:
        self.on_batch(items)


class CallbackSink(DynamicSink[Any]):
    """Hands each batch of outputs to ``on_batch`` (single worker: one partition)."""

    def __init__(self, on_batch: Callable[[List[Any]], None]) -> None:
        self.on_batch = on_batch

    def build(self, step_id: str, worker_index: int, worker_count: int
              ) -> _CallbackPartition:
        return _CallbackPartition(self.on_batch)


class Outputs:
    """Counts the outputs and keeps the last value per key, as ``LastPerKeySink`` does."""

    def __init__(self) -> None:
        self.count = 0
        self.last: Dict[Any, Any] = {}

    def count_batch(self, items: List[Any]) -> None:
        self.count += len(items)

    def keep_last(self, items: List[Tuple[str, tuple]]) -> None:
        self.count += len(items)
        last = self.last
        for _, value in items:  # (Bytewax's str key, the record (key, value))
            last[value[0]] = value[1]


def _check(what: str, got: Any, expected: Any) -> None:
    if got != expected:
        raise AssertionError(f"Bytewax {what}: got {got!r}, expected {expected!r}")


def _check_last(workload: str, outputs: Outputs, records: int, expected: Dict[Any, int]
                ) -> None:
    _check(f"{workload} output count", outputs.count, records)
    wrong = [k for k in expected if outputs.last.get(k) != expected[k]]
    if wrong or len(outputs.last) != len(expected):
        raise AssertionError(f"Bytewax {workload}: wrong final values for keys {wrong[:5]} "
                             f"({len(outputs.last)} keys, expected {len(expected)})")


# -- the workloads -----------------------------------------------------------------------------

def w1(records: int) -> Callable[[], None]:
    """W1: map(w1_double) -> filter(w1_divisible) -> count."""
    expected = sum(1 for x in range(records) if w.w1_divisible(w.w1_double(x)))

    def run() -> None:
        outputs = Outputs()
        flow = Dataflow("w1_stateless_chain")
        s = op.input("inp", flow, TestingSource(range(records), batch_size=BATCH_SIZE))
        s = op.map("double", s, w.w1_double)
        s = op.filter("divisible", s, w.w1_divisible)
        op.output("out", s, CallbackSink(outputs.count_batch))
        run_main(flow)
        _check("W1 output count", outputs.count, expected)
    return run


def _rolling(reduce: Callable[[tuple, tuple], tuple]
             ) -> Callable[[Optional[tuple], tuple], Tuple[tuple, tuple]]:
    """A stateful_map mapper emitting every partial result, as Flink's rolling reduce."""
    def mapper(state: Optional[tuple], value: tuple) -> Tuple[tuple, tuple]:
        result = value if state is None else reduce(state, value)
        return result, result
    return mapper


def w2(records: int) -> Callable[[], None]:
    """W2: map(w2_pair) -> key by w2_key -> rolling w2_sum -> last value per key."""
    expected = w.w2_expected(records)

    def key(t: tuple) -> str:
        return str(w.w2_key(t))  # Bytewax's keys must be str

    def run() -> None:
        outputs = Outputs()
        flow = Dataflow("w2_keyed_reduce")
        s = op.input("inp", flow, TestingSource(range(records), batch_size=BATCH_SIZE))
        s = op.map("pair", s, w.w2_pair)
        keyed = op.key_on("key", s, key)
        summed = op.stateful_map("reduce", keyed, _rolling(w.w2_sum))
        op.output("out", summed, CallbackSink(outputs.keep_last))
        run_main(flow)
        _check_last("W2", outputs, records, expected)
    return run


def _w3_add(accumulator: int, value: tuple) -> int:
    return accumulator + 1  # W3Count.add


def _w3_merge(a: int, b: int) -> int:
    return a + b  # W3Count.merge


def w3(records: int) -> Callable[[], None]:
    """W3: map(w3_event) -> key by w3_key -> 1 s event-time tumbling windows counting their
    events -> (key, window start, count), each count checked."""
    window = timedelta(milliseconds=w.W3_WINDOW_MS)
    frozen_now = datetime.now(timezone.utc)  # the clock's "system time": any constant

    def key(event: tuple) -> str:
        return str(w.w3_key(event))

    def timestamp(event: tuple) -> datetime:
        return EPOCH + timedelta(milliseconds=w.w3_timestamp(event, 0))

    # The watermark of Flink's monotonous strategy: the largest timestamp seen (-1 ms), moved
    # by events only. EventClock's default also moves it with the system time that passes
    # after an event, which on this replayed history would make events late when a batch
    # stalls; and windows of 1970 would be "due" in system time all the time, so the
    # runtime is not asked to wake up for them (to_system_utc -> None): events and the end of
    # the input close them, as in Flink.
    clock = win.EventClock(timestamp, wait_for_system_duration=timedelta(0),
                           now_getter=lambda: frozen_now,
                           to_system_utc=lambda _: None)
    windower = win.TumblingWindower(length=window, align_to=EPOCH)

    def with_window(item: Tuple[str, Tuple[int, int]]) -> tuple:  # W3WithWindow.apply
        key_text, (window_id, count) = item
        return int(key_text), window_id * w.W3_WINDOW_MS, count

    def run() -> None:
        checked = [0]

        def check(items: List[tuple]) -> None:  # W3CheckingSink.invoke
            for key_, start, count in items:
                if count != w.w3_expected_count(records, key_, start):
                    raise AssertionError(f"Bytewax W3: window {start} of key {key_}: "
                                         f"{count} events")
            checked[0] += len(items)

        flow = Dataflow("w3_tumbling_window")
        s = op.input("inp", flow, TestingSource(range(records), batch_size=BATCH_SIZE))
        s = op.map("event", s, w.w3_event)
        keyed = op.key_on("key", s, key)
        # ordered=False: the events come in timestamp order already, and Flink's window
        # operator does not sort them either
        counts = win.fold_window("count", keyed, clock, windower, lambda: 0, _w3_add,
                                 _w3_merge, ordered=False)
        op.output("late", counts.late, CallbackSink(_no_late_events))
        results = op.map("with_window", counts.down, with_window)
        op.output("out", results, CallbackSink(check))
        run_main(flow)
        _check("W3 window count", checked[0], w.w3_windows(records))
    return run


def _no_late_events(items: List[Tuple[str, Tuple[int, tuple]]]) -> None:
    raise AssertionError(f"Bytewax W3: late events {items!r} (the watermark passed them)")


def w4(records: int, path: str) -> Callable[[], None]:
    """W4: lines of ``path`` -> flat_map(w4_split) -> key by w4_word -> rolling sum of
    field 1 -> last count per word."""
    with open(path, encoding="utf-8") as f:
        expected = dict(Counter(word for line in f for word in line.split()))
    _check("W4 words in the input file", sum(expected.values()), records)

    def sum_field_1(a: tuple, b: tuple) -> tuple:
        return (a[0], a[1] + b[1])  # what flink_py's .sum(1) does for a tuple

    def run() -> None:
        outputs = Outputs()
        flow = Dataflow("w4_word_count")
        lines = op.input("inp", flow, FileSource(path, batch_size=W4_LINES_PER_BATCH))
        pairs = op.flat_map("split", lines, w.w4_split)
        keyed = op.key_on("word", pairs, w.w4_word)
        counts = op.stateful_map("sum", keyed, _rolling(sum_field_1))
        op.output("out", counts, CallbackSink(outputs.keep_last))
        run_main(flow)
        _check_last("W4", outputs, records, expected)
    return run


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workload", choices=("W1", "W2", "W3", "W4"))
    parser.add_argument("records", type=int)
    parser.add_argument("repeat", type=int)
    parser.add_argument("--path", help="W4's input file")
    args = parser.parse_args(argv)
    if args.records < 1 or args.repeat < 1:
        parser.error(f"records and repeat must be >= 1, got {args.records} and {args.repeat}")
    if args.workload == "W4":
        if args.path is None:
            parser.error("W4 needs --path")
        run = w4(args.records, args.path)
    else:
        run = {"W1": w1, "W2": w2, "W3": w3}[args.workload](args.records)
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    print(json.dumps({"workload": args.workload, "records": args.records,
                      "best_s": min(times),
                      "peak_rss_kib": peak_rss_kib()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
