"""Nexmark q0-q8 on flink_py's Table API & SQL, batch mode, from JSON-lines files into a
blackhole sink; each against a hand-written Python loop doing the same work.

    python benchmarks/nexmark.py [--events 100000] [--repeat 3] [--parallelism 1,2]

The data: ``--events`` events of flink_py's Nexmark generator (seed 0; 1 person, 3
auctions and 46 bids in every 50), written once as ``person.json``/``auction.json``/
``bid.json`` into a temporary directory. Each query (``benchmarks/nexmark_queries/qN.sql``:
nexmark's own text, its sink a blackhole) runs in a fresh process (``--child``) that
declares the three filesystem tables as tests/fixtures/pyflink/nexmark_queries.py does and
times ``execute_sql(INSERT ...).wait()``; the process's peak RSS is reported. events/s is
``--events`` over that time, as nexmark counts (Flink's nexmark source generates every
event and filters by kind; here a query reads only the files of the tables it names, e.g.
q0-q2 only ``bid.json``, 92% of the events). The plain loop (in this process) reads the same
files line by line with ``json.loads``, parses the timestamps and computes the query's rows
with dicts, lists and ``decimal``; ratio = plain time / engine time (1.0: as fast as the
loop). Start-up: a process that imports flink_py.table, creates a batch TableEnvironment
and runs q0 over one bid, from start to exit (each timed engine run is preceded in its
process by the same query over one event of each table, so that throughput leaves out
start-up). Each side runs ``--repeat`` times, the best
counts. q6 is not run: Flink refuses nexmark's q6 text (see the fixture nexmark_q6.txt).
"""

from __future__ import annotations

import argparse
import collections
import datetime
import decimal
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, Iterator, List, Tuple

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
sys.path.insert(0, _ROOT)

QUERIES = ["q0", "q1", "q2", "q3", "q4", "q5", "q7", "q8"]
# real Flink's figures on this machine (issue 12), events/s
FLINK_RATES = {"q0": 409_000, "q1": 454_000, "q2": 917_000, "q3": 1_070_000, "q4": 240_000,
               "q5": 291_000, "q7": 322_000, "q8": 1_540_000}

COLUMNS = {
    "person": "id BIGINT, name VARCHAR, emailAddress VARCHAR, creditCard VARCHAR, "
              "city VARCHAR, state VARCHAR, `dateTime` TIMESTAMP(3), extra VARCHAR",
    "auction": "id BIGINT, itemName VARCHAR, description VARCHAR, initialBid BIGINT, "
               "reserve BIGINT, `dateTime` TIMESTAMP(3), expires TIMESTAMP(3), seller BIGINT, "
               "category BIGINT, extra VARCHAR",
    "bid": "auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, "
           "`dateTime` TIMESTAMP(3), extra VARCHAR",
}


def statements(name: str) -> List[str]:
    """The query file's statements (the sink's CREATE TABLE, the INSERT)."""
    with open(os.path.join(_HERE, "nexmark_queries", f"{name}.sql")) as f:
        text = "\n".join(line for line in f.read().splitlines() if not line.startswith("--"))
    return [s.strip() for s in text.split(";") if s.strip()]


# -- the engine side (in a child process) -------------------------------------------------

def run_engine(name: str, data: str, parallelism: int) -> float:
    """Declares the sources, runs query ``name`` into its blackhole; the job's seconds."""
    from flink_py.table import EnvironmentSettings, TableEnvironment
    t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    t_env.get_config().set("parallelism.default", str(parallelism))
    for table, columns in COLUMNS.items():
        t_env.execute_sql(f"""
            CREATE TABLE {table} (
              {columns},
              WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND
            ) WITH ('connector' = 'filesystem', 'path' = '{data}/{table}.json',
                    'format' = 'json')""")
    create, insert = statements(name)
    t_env.execute_sql(create)
    start = time.perf_counter()
    t_env.execute_sql(insert).wait()
    return time.perf_counter() - start


def child(argv: List[str]) -> int:
    name, data, parallelism = argv[0], argv[1], int(argv[2])
    # a first job over one event of each table: the runtime's lazy imports and first-job
    # set-up are start-up (measured on its own), not throughput
    run_engine(name, one_event_files(data), parallelism)
    seconds = run_engine(name, data, parallelism)
    print(json.dumps({
        "seconds": seconds,
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        # the largest worker process (-p > 1 runs slots in processes of their own)
        "worker_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
    return 0


def engine_in_process(name: str, data: str, parallelism: int) -> Tuple[float, float, float]:
    """(seconds, peak RSS MiB, the largest worker's peak RSS MiB) of one run in a fresh
    process."""
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", name, data,
                           str(parallelism)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": _ROOT})
    if done.returncode != 0:
        raise RuntimeError(f"{name} at -p {parallelism} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["seconds"], result["rss_mib"], result["worker_rss_mib"]


def one_event_files(data: str) -> str:
    """A directory beside ``data``'s files with the first line of each."""
    one = os.path.join(data, "one")
    if not os.path.isdir(one):
        os.makedirs(one, exist_ok=True)
        for table in COLUMNS:
            with open(os.path.join(data, f"{table}.json")) as src, \
                    open(os.path.join(one, f"{table}.json"), "w") as dst:
                dst.write(src.readline())
    return one


def startup(data: str) -> Tuple[float, float]:
    """(seconds from start to exit, peak RSS MiB) of a process running q0 over one bid."""
    one = one_event_files(data)
    code = ("import sys; sys.argv = ['x']; sys.path.insert(0, %r); import nexmark; "
            "nexmark.run_engine('q0', %r, 1); import resource; "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)" % (_HERE, one))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": _ROOT}, check=True)
    return time.perf_counter() - start, int(done.stdout.split()[-1]) / 1024


# -- the plain loops ------------------------------------------------------------------------

def _ts(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def _records(data: str, table: str) -> Iterator[Dict[str, Any]]:
    with open(os.path.join(data, f"{table}.json"), encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            record["dateTime"] = _ts(record["dateTime"])
            if "expires" in record:
                record["expires"] = _ts(record["expires"])
            yield record


def _drain(rows: Iterator[Any]) -> int:
    return sum(1 for _ in rows)


def plain_q0(data: str) -> int:
    return _drain((r["auction"], r["bidder"], r["price"], r["dateTime"], r["extra"])
                  for r in _records(data, "bid"))


_RATE = decimal.Decimal("0.908")
_MILLS = decimal.Decimal("0.001")


def plain_q1(data: str) -> int:
    return _drain((r["auction"], r["bidder"], (_RATE * r["price"]).quantize(_MILLS),
                   r["dateTime"], r["extra"]) for r in _records(data, "bid"))


def plain_q2(data: str) -> int:
    return _drain((r["auction"], r["price"]) for r in _records(data, "bid")
                  if r["auction"] % 123 == 0)


def plain_q3(data: str) -> int:
    people = {}
    for p in _records(data, "person"):
        if p["state"] in ("OR", "ID", "CA"):
            people[p["id"]] = p
    return _drain((people[a["seller"]]["name"], people[a["seller"]]["city"],
                   people[a["seller"]]["state"], a["id"])
                  for a in _records(data, "auction")
                  if a["category"] == 10 and a["seller"] in people)


def plain_q4(data: str) -> int:
    auctions = {a["id"]: a for a in _records(data, "auction")}
    final: Dict[int, int] = {}
    for b in _records(data, "bid"):
        a = auctions.get(b["auction"])
        if a is not None and a["dateTime"] <= b["dateTime"] <= a["expires"]:
            if b["price"] > final.get(a["id"], -1):
                final[a["id"]] = b["price"]
    sums: Dict[int, List[int]] = collections.defaultdict(lambda: [0, 0])
    for aid, price in final.items():
        s = sums[auctions[aid]["category"]]
        s[0] += price
        s[1] += 1
    return _drain((c, int(s / n)) for c, (s, n) in sums.items())


def _epoch_ms(ts: datetime.datetime) -> int:
    return int((ts - datetime.datetime(1970, 1, 1)).total_seconds() * 1000)


def plain_q5(data: str) -> int:
    size, slide = 10_000, 2_000
    counts: Dict[Tuple[int, int], int] = collections.Counter()
    for b in _records(data, "bid"):
        t = _epoch_ms(b["dateTime"])
        last = t - t % slide
        for start in range(last, t - size, -slide):
            counts[(b["auction"], start)] += 1
    maxn: Dict[int, int] = {}
    for (_, start), n in counts.items():
        if n > maxn.get(start, 0):
            maxn[start] = n
    return _drain((auction, n) for (auction, start), n in counts.items() if n >= maxn[start])


def plain_q7(data: str) -> int:
    size = 10_000
    bids = list(_records(data, "bid"))
    highest: Dict[int, int] = {}
    for b in bids:
        end = _epoch_ms(b["dateTime"]) // size * size + size
        if b["price"] > highest.get(end, -1):
            highest[end] = b["price"]
    ends_of: Dict[int, List[int]] = collections.defaultdict(list)
    for end, price in highest.items():
        ends_of[price].append(end)
    out = 0
    for b in bids:
        t = _epoch_ms(b["dateTime"])
        for end in ends_of.get(b["price"], ()):
            if end - size <= t <= end:
                out += 1
    return out


def plain_q8(data: str) -> int:
    size = 10_000
    people = {(p["id"], p["name"], _epoch_ms(p["dateTime"]) // size)
              for p in _records(data, "person")}
    sellers = {(a["seller"], _epoch_ms(a["dateTime"]) // size)
               for a in _records(data, "auction")}
    return _drain((pid, name, w) for pid, name, w in people if (pid, w) in sellers)


PLAIN: Dict[str, Callable[[str], int]] = {
    "q0": plain_q0, "q1": plain_q1, "q2": plain_q2, "q3": plain_q3, "q4": plain_q4,
    "q5": plain_q5, "q7": plain_q7, "q8": plain_q8}


def best(repeat: int, fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: List[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        return child(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--parallelism", default="1",
                        help="comma-separated parallelisms to run the engine at (1,2)")
    parser.add_argument("--queries", default=",".join(QUERIES))
    args = parser.parse_args(argv)
    from flink_py.table import nexmark
    parallelisms = [int(p) for p in args.parallelism.split(",")]
    queries = args.queries.split(",")
    with tempfile.TemporaryDirectory(prefix="nexmark-") as data:
        nexmark.write_json_files(data, args.events, nexmark.GeneratorConfig(seed=0))
        print(f"Nexmark, batch, {args.events:,} events (seed 0) from JSON-lines files into "
              f"blackhole; best of {args.repeat}")
        header = (f"{'query':6} {'-p':>3} {'flink_py ev/s':>14} {'plain ev/s':>12} "
                  f"{'ratio':>6} {'Flink ev/s':>11} {'flink_py/Flink':>15} {'RSS MiB':>8} "
                  f"{'worker RSS':>10}")
        print(header)
        print("-" * len(header))
        for name in queries:
            plain_s = best(args.repeat, lambda: PLAIN[name](data))
            for p in parallelisms:
                runs = [engine_in_process(name, data, p) for _ in range(args.repeat)]
                engine_s = min(s for s, _, _ in runs)
                rss = max(r for _, r, _ in runs)
                worker = max(w for _, _, w in runs)
                flink = FLINK_RATES[name]
                rate = args.events / engine_s
                print(f"{name:6} {p:>3} {rate:>14,.0f} {args.events / plain_s:>12,.0f} "
                      f"{plain_s / engine_s:>6.2f} {flink:>11,} {rate / flink:>15.4f} "
                      f"{rss:>8.0f} {worker if p > 1 else 0:>10.0f}", flush=True)
        starts = [startup(data) for _ in range(args.repeat)]
        print(f"start-up (q0 over one bid, process start to exit): "
              f"{min(s for s, _ in starts):.2f} s, peak RSS {max(r for _, r in starts):.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
