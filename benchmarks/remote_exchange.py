"""Records/s through DataServer -> RemoteInputChannel between two processes.

Compares with the same buffers through an in-process ``Subpartition`` between two threads
(the forward edge without serialization: buffers are handed over by reference, so that
column is an upper bound, not a job's rate), and shows how much of the remote time pickling
takes: ``dumps`` runs in the producer process and ``loads`` in the consumer, in parallel;
each is timed alone and shown as a share of the remote wall time.

The producer process builds its buffers before the clock starts, so the numbers are the
exchange itself: add -> (pickle, send, receive, unpickle) -> poll, with credit-based flow
control. Connections authenticate as ``--security`` says (``off``, ``secret``: the default,
``tls``, ``tls+secret``; certificates made with openssl), once per connection.
Run: ``python benchmarks/remote_exchange.py [--records N] [--repeat R] [--security S]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import pickle
import sys
import tempfile
import threading
import time
from typing import Callable, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flink_py.runtime.network import buffer_codec  # noqa: E402
from flink_py.runtime.network.events import END_OF_PARTITION, EndOfPartition  # noqa: E402
from flink_py.runtime.network.local import (  # noqa: E402
    InputInbox, ResultPartitionManager, Subpartition)
from flink_py.runtime.network.remote import (  # noqa: E402
    DataServer, RemoteInputChannel, _dumps)
from flink_py.security import context as security_context  # noqa: E402
from flink_py.security.context import SecurityContext  # noqa: E402
from flink_py.security.tls import TlsFiles  # noqa: E402
from flink_py.testing.openssl_certs import make_certificates  # noqa: E402

BUFFER = 1024
CAPACITY = 10  # buffers per channel, the TaskExecutor's default
CREDITS = 10  # a remote channel's credits: the task gives it the same number


def make_buffers(kind: str, records: int) -> List[tuple]:
    if kind == "int":
        make: Callable[[int, int], list] = lambda lo, hi: list(range(lo, hi))  # noqa: E731
    else:
        make = lambda lo, hi: [(i % 1000, i) for i in range(lo, hi)]  # noqa: E731
    return [(make(lo, min(lo + BUFFER, records)), None) for lo in range(0, records, BUFFER)]


def consume(sub, inbox: InputInbox) -> int:
    """The task's input loop, reduced to counting records."""
    count = 0
    while True:
        channel, _ = inbox.take(None)
        item, more = sub.poll()
        if more:
            inbox.channel_available(channel)
        if type(item) is tuple:
            count += len(item[0])
        elif type(item) is EndOfPartition:
            return count


def local_run(buffers: List[tuple], capacity: int) -> float:
    sub = Subpartition(capacity)
    inbox = InputInbox()
    sub.connect(inbox, 0)

    def produce() -> None:
        for buffer in buffers:
            sub.add(buffer)
        sub.add(END_OF_PARTITION)

    start = time.perf_counter()
    producer = threading.Thread(target=produce)
    producer.start()
    consume(sub, inbox)
    producer.join()
    return time.perf_counter() - start


def security(setting: str, cert_dir: str) -> SecurityContext:
    """The SecurityContext of a ``--security`` setting."""
    secret = SecurityContext.for_tests().secret if "secret" in setting else None
    tls = None
    if "tls" in setting:
        certs = make_certificates(cert_dir)
        tls = TlsFiles(certs.cert, certs.key, certs.ca, mutual=True)
    return SecurityContext(secret, tls)


def _producer_process(kind: str, records: int, capacity: int, connection,
                      context: SecurityContext) -> None:
    security_context.install(context)
    buffers = make_buffers(kind, records)
    partitions = ResultPartitionManager(capacity)
    server = DataServer(partitions, "127.0.0.1")
    server.start()
    connection.send(server.address[1])
    try:
        while True:
            result_id = connection.recv()  # a new result per run
            if result_id is None:
                return
            sub = partitions.subpartition("job", result_id, 0, 0)
            for buffer in buffers:
                sub.add(buffer)
            sub.add(END_OF_PARTITION)
    finally:
        server.stop()


def remote_runs(kind: str, records: int, repeat: int, capacity: int,
                credits: int) -> List[float]:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_producer_process, args=(
        kind, records, capacity, child, security_context.current()))
    process.start()
    times = []
    try:
        port = parent.recv()
        for run in range(repeat):
            channel = RemoteInputChannel(f"127.0.0.1:{port}", "job", f"result-{run}", 0, 0,
                                         credits, connect_timeout_s=10)
            inbox = InputInbox()
            start = time.perf_counter()
            channel.connect(inbox, 0)
            parent.send(f"result-{run}")
            count = consume(channel, inbox)
            times.append(time.perf_counter() - start)
            channel.release()
            assert count == records, count
    finally:
        parent.send(None)
        process.join(10)
    return times


def pickle_time(buffers: List[tuple]) -> Tuple[float, float]:
    start = time.perf_counter()
    payloads = [_dumps(b) for b in buffers]  # as the DataServer pickles
    dumped = time.perf_counter()
    for p in payloads:
        pickle.loads(p)
    return dumped - start, time.perf_counter() - dumped


def codec_time(buffers: List[tuple]) -> Tuple[float, float]:
    """(encode s, loads s) of ``buffers`` in the columnar encoding (``buffer_codec``), as
    the DataServer sends a buffer that fits it; pickle where one does not."""
    start = time.perf_counter()
    payloads = [buffer_codec.encode(v, t, None) or _dumps((v, t)) for v, t in buffers]
    encoded = time.perf_counter()
    for p in payloads:
        buffer_codec.loads(p)
    return encoded - start, time.perf_counter() - encoded


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--capacity", type=int, default=CAPACITY,
                        help="items a subpartition holds")
    parser.add_argument("--credits", type=int, default=CREDITS,
                        help="items in flight to a remote channel")
    parser.add_argument("--security", choices=["off", "secret", "tls", "tls+secret"],
                        default="secret", help="how connections authenticate")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="flink_py-bench-certs-") as cert_dir:
        security_context.install(security(args.security, cert_dir))
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    header = (f"{'records':20} {'local rec/s':>13} {'remote rec/s':>13} {'remote ms':>9} "
              f"{'dumps ms':>8} {'share':>5} {'loads ms':>8} {'share':>5}")
    print(f"{args.records:,} records, buffers of {BUFFER}, capacity {args.capacity}, "
          f"credits {args.credits}, security {args.security}, best of {args.repeat}")
    print(header)
    print("-" * len(header))
    for kind, label in (("int", "int"), ("tuple", "(i % 1000, i)")):
        buffers = make_buffers(kind, args.records)
        local = min(local_run(buffers, args.capacity) for _ in range(args.repeat))
        remote = min(remote_runs(kind, args.records, args.repeat, args.capacity,
                                 args.credits))
        dumps, loads = min((pickle_time(buffers) for _ in range(args.repeat)),
                           key=lambda t: t[0] + t[1])
        print(f"{label:20} {args.records / local:>13,.0f} {args.records / remote:>13,.0f} "
              f"{remote * 1000:>9.0f} {dumps * 1000:>8.0f} {dumps / remote:>5.0%} "
              f"{loads * 1000:>8.0f} {loads / remote:>5.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
