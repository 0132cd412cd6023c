"""The exchange between processes: DataServer -> RemoteInputChannel with credit-based flow control.

Real sockets on port 0, real threads and processes. The consumer side is driven the way the
task's input loop drives a channel: take a channel from the inbox, poll it, re-announce it
when ``poll`` says more is queued.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import pickle
import socket
import struct
import threading
import time
from typing import Any, Callable, Iterator, List, Optional, Tuple

import pytest

from flink_py.errors import FlinkPyError
from flink_py.runtime.checkpoint.options import CheckpointOptions
from flink_py.runtime.network import buffer_codec
from flink_py.runtime.network.events import (
    END_OF_PARTITION, CheckpointBarrier, EndOfPartition, Watermark)
from flink_py.runtime.execution.errors import CancelTaskException, PartnerLostException
from flink_py.runtime.network.local import InputInbox, ResultPartitionManager, Subpartition
from flink_py.runtime.network.remote import (
    _INITIAL_RECEIVE_BUFFER, _RECEIVE_BUFFER, ITEM, PROTOCOL_VERSION, RELEASE_CHECK_INTERVAL_S,
    DataServer, RemoteChannelError, RemoteInputChannel, UnserializableRecordError,
    _FrameReader, secure_client_socket)
from flink_py.security import context as security_context
from flink_py.security.context import SecurityContext
from flink_py.testing.poll import wait_until
from flink_py.testing.process_cluster import free_port

DEADLINE_S = 5.0
#: How long a thread that should stay blocked is watched before we call it blocked.
BLOCKED_FOR_S = 0.1
JOB = "2f1e6b0c9d8a4e7f8c6b5a4d3e2f1a0b"
_THREAD_PREFIX = "flink-py-data-"


@pytest.fixture(autouse=True)
def security() -> Iterator[SecurityContext]:
    """The test cluster secret, as a daemon installs its context (connections authenticate)."""
    context = SecurityContext.for_tests()
    security_context.install(context)
    yield context
    security_context.uninstall()


def _raw_connection(address: Tuple[str, int]) -> socket.socket:
    """A consumer's socket to ``address`` past the handshake, to speak frames by hand."""
    sock = socket.create_connection(address, timeout=DEADLINE_S)
    return secure_client_socket(sock, security_context.current(), address[0])


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def _data_threads() -> List[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(_THREAD_PREFIX)]


class _Worker:
    """Runs ``target`` on a thread and keeps its result or exception."""

    def __init__(self, target: Callable[[], Any], name: str) -> None:
        self.result: Any = None
        self.error: Optional[BaseException] = None

        def run() -> None:
            try:
                self.result = target()
            except BaseException as exc:  # inspected by the test
                self.error = exc

        self.thread = threading.Thread(target=run, name=name, daemon=True)
        self.thread.start()

    def is_blocked(self) -> bool:
        """Still running after being watched for BLOCKED_FOR_S."""
        self.thread.join(BLOCKED_FOR_S)
        return self.thread.is_alive()

    def finish(self) -> Any:
        self.thread.join(DEADLINE_S)
        assert not self.thread.is_alive(), f"{self.thread.name} did not end"
        return self.result


class _Exchange:
    """A DataServer over a ResultPartitionManager, and the channels a test opened to it."""

    def __init__(self, capacity: int) -> None:
        self.partitions = ResultPartitionManager(capacity)
        self.server = DataServer(self.partitions, "127.0.0.1")
        self.server.start()
        self.address = f"127.0.0.1:{self.server.address[1]}"
        self.channels: List[RemoteInputChannel] = []
        self.workers: List[_Worker] = []

    def subpartition(self, result: str = "result", producer: int = 0,
                     consumer: int = 0) -> Subpartition:
        return self.partitions.subpartition(JOB, result, producer, consumer)

    def channel(self, credits: int, result: str = "result", producer: int = 0,
                consumer: int = 0, inbox: Optional[InputInbox] = None,
                index: int = 0) -> Tuple[RemoteInputChannel, InputInbox]:
        channel = RemoteInputChannel(self.address, JOB, result, producer, consumer, credits,
                                     connect_timeout_s=DEADLINE_S)
        self.channels.append(channel)
        inbox = inbox if inbox is not None else InputInbox()
        channel.connect(inbox, index)
        return channel, inbox

    def worker(self, target: Callable[[], Any], name: str = "producer") -> _Worker:
        worker = _Worker(target, name)
        self.workers.append(worker)
        return worker

    def close(self) -> None:
        for channel in self.channels:
            channel.release()
        self.server.stop()
        for worker in self.workers:
            worker.thread.join(DEADLINE_S)


@pytest.fixture
def exchange() -> Iterator[Callable[[int], _Exchange]]:
    """Builds exchanges; afterwards checks that no thread or socket of theirs is left."""
    fds_before = _open_fds()
    made: List[_Exchange] = []

    def make(capacity: int = 4) -> _Exchange:
        made.append(_Exchange(capacity))
        return made[-1]

    yield make
    for ex in made:
        ex.close()
    assert not any(w.thread.is_alive() for ex in made for w in ex.workers), \
        "a producer thread was left running"
    wait_until(lambda: not _data_threads(), what="the end of the exchange threads")
    wait_until(lambda: _open_fds() <= fds_before, what="closing every socket")


def _next_item(channel: RemoteInputChannel, inbox: InputInbox,
               timeout_s: float = DEADLINE_S) -> Any:
    """One turn of the task's input loop on a single channel."""
    deadline = time.monotonic() + timeout_s
    while True:
        index, _ = inbox.take(deadline)
        assert index >= 0, "no item within the deadline"
        item, more = channel.poll()
        if more:
            inbox.channel_available(index)
        if item is not None:
            return item


def _drain(channel: RemoteInputChannel, inbox: InputInbox) -> List[Any]:
    items: List[Any] = []
    while True:
        item = _next_item(channel, inbox)
        if type(item) is EndOfPartition:
            return items
        items.append(item)


def _stream(name: str, buffers: int) -> List[Any]:
    """Buffers with and without timestamps, a watermark after every fifth."""
    items: List[Any] = []
    for i in range(buffers):
        values = [f"{name}-{i}-{j}" for j in range(i % 7 + 1)]
        timestamps = None if i % 3 == 0 else [1000 * i + j for j in range(len(values))]
        items.append((values, timestamps))
        if i % 5 == 4:
            items.append(Watermark(1000 * i))
    return items


def _produce(sub: Subpartition, items: List[Any], added: Optional[List[Any]] = None) -> None:
    for item in items:
        sub.add(item)
        if added is not None:
            added.append(item)


# -- ordering and the end of a stream ------------------------------------------------------------


def test_each_channel_keeps_the_order_of_its_buffers_and_events(exchange) -> None:
    ex = exchange(capacity=2)
    expected = {p: _stream(f"p{p}", 120) for p in (0, 1)}
    inbox = InputInbox()
    channels = [ex.channel(credits=3, producer=p, inbox=inbox, index=p)[0] for p in (0, 1)]
    for p in (0, 1):
        ex.worker(lambda p=p: _produce(ex.subpartition(producer=p),
                                       expected[p] + [END_OF_PARTITION]), f"producer-{p}")

    received: List[List[Any]] = [[], []]
    open_channels = 2
    while open_channels:
        # a deadline per item, not for the stream: ~300 items, each a few GIL hand-offs
        # between 7 threads, took 3.2 s with one busy thread elsewhere in the process (as
        # under the full suite) against 0.8 s alone; what must not happen is a stall
        index, _ = inbox.take(time.monotonic() + DEADLINE_S)
        assert index >= 0, "timed out waiting for data"
        item, more = channels[index].poll()
        if more:
            inbox.channel_available(index)
        if type(item) is EndOfPartition:
            open_channels -= 1
        elif item is not None:
            received[index].append(item)

    assert received == [expected[0], expected[1]]
    for worker in ex.workers:
        worker.finish()
        assert worker.error is None


def test_end_of_partition_ends_the_stream_and_closes_the_connection(exchange) -> None:
    ex = exchange()
    sub = ex.subpartition()
    channel, inbox = ex.channel(credits=2)
    _produce(sub, [([1, 2, 3], None), END_OF_PARTITION])

    assert _next_item(channel, inbox) == ([1, 2, 3], None)
    assert type(_next_item(channel, inbox)) is EndOfPartition
    assert channel.poll() == (None, False)
    wait_until(lambda: len(ex.server) == 0, what="the server closing the stream")
    wait_until(lambda: not _data_threads()[1:], what="only the acceptor left")
    assert channel.poll() == (None, False)


def test_buffers_larger_than_a_send_batch_and_the_receive_buffer_cross_intact(exchange) -> None:
    ex = exchange(capacity=4)
    sub = ex.subpartition()
    channel, inbox = ex.channel(credits=8)
    items = [([bytes([i]) * 700_000, i], [i, i]) for i in range(12)]
    ex.worker(lambda: _produce(sub, items + [END_OF_PARTITION]))
    assert _drain(channel, inbox) == items


def test_items_added_before_the_consumer_connects_are_delivered(exchange) -> None:
    ex = exchange(capacity=3)
    sub = ex.subpartition()
    _produce(sub, [(["early"], None), Watermark(5), END_OF_PARTITION])
    channel, inbox = ex.channel(credits=1)
    assert _drain(channel, inbox) == [(["early"], None), Watermark(5)]


# -- credit-based flow control -------------------------------------------------------------------


def test_credits_and_capacity_bound_what_a_producer_can_add(exchange) -> None:
    capacity, credits = 2, 4
    ex = exchange(capacity=capacity)
    sub = ex.subpartition()
    channel, inbox = ex.channel(credits=credits)
    items = [([i], None) for i in range(12)] + [END_OF_PARTITION]
    added: List[Any] = []
    producer = ex.worker(lambda: _produce(sub, items, added))

    # Nobody polls: `credits` items reach the consumer, `capacity` wait in the subpartition.
    wait_until(lambda: len(added) == capacity + credits and len(channel) == credits,
               "the subpartition and the channel's credits full")
    assert producer.is_blocked()
    assert len(added) == capacity + credits and len(channel) == credits and len(sub) == capacity

    # One poll returns one credit (a quarter of 4): exactly one more item moves along.
    assert _next_item(channel, inbox) == ([0], None)
    wait_until(lambda: len(added) == capacity + credits + 1 and len(channel) == credits,
               "one more buffer added")
    assert producer.is_blocked()
    assert len(added) == capacity + credits + 1

    received = [([0], None)]
    while True:
        assert len(channel) <= credits
        item = _next_item(channel, inbox)
        if type(item) is EndOfPartition:
            break
        received.append(item)
    producer.finish()
    assert producer.error is None
    assert received == items[:-1]


def test_a_priority_barrier_overtakes_both_queues_without_a_credit(exchange) -> None:
    capacity, credits = 2, 4
    ex = exchange(capacity=capacity)
    sub = ex.subpartition()
    channel, inbox = ex.channel(credits=credits)
    items = [([i], None) for i in range(capacity + credits)]
    _produce(sub, items)
    # nobody polls: the consumer's queue holds its credits' worth, the subpartition is full
    wait_until(lambda: len(channel) == credits and len(sub) == capacity,
               "the consumer holding its credits and the subpartition full")
    barrier = CheckpointBarrier(1, 0, CheckpointOptions.for_checkpoint(unaligned=True))
    # the producer persists these (serialized already, as they were added for this reader)
    assert [buffer_codec.loads(b) for b in sub.add_priority_event(barrier)] == items[credits:]
    wait_until(lambda: len(channel) == credits + 1, what="the barrier without a credit")
    assert _next_item(channel, inbox) == barrier
    assert channel.take_overtaken() == items[:credits]  # the consumer records these
    assert channel.take_overtaken() == []
    producer = ex.worker(lambda: sub.add(END_OF_PARTITION))  # waits for room
    assert _drain(channel, inbox) == items  # all still delivered, after the barrier
    producer.finish()


def test_a_slow_consumer_never_holds_more_than_its_credits(exchange) -> None:
    ex = exchange(capacity=1)
    sub = ex.subpartition()
    channel, inbox = ex.channel(credits=8)  # credits return in twos
    items = [([i] * 100, None) for i in range(200)] + [END_OF_PARTITION]
    ex.worker(lambda: _produce(sub, items))
    received = []
    most_queued = 0
    while True:
        most_queued = max(most_queued, len(channel))
        item = _next_item(channel, inbox)
        if type(item) is EndOfPartition:
            break
        received.append(item)
        if len(received) % 50 == 0 and len(received) <= 150:
            # a slow consumer: it stops taking until the queue has filled up to its credits
            wait_until(lambda: len(channel) >= 8, "eight buffers at the channel")
            most_queued = max(most_queued, len(channel))
    assert received == items[:-1]
    assert most_queued == 8


# -- releases and broken connections -------------------------------------------------------------


def test_a_released_producer_cancels_the_consumer_promptly(exchange) -> None:
    ex = exchange()
    sub = ex.subpartition()
    channel, inbox = ex.channel(credits=2)
    sub.add(([1], None))
    assert _next_item(channel, inbox) == ([1], None)

    released_at = time.monotonic()
    sub.release()  # the producer was cancelled or failed
    with pytest.raises(PartnerLostException, match="released") as lost:
        _next_item(channel, inbox)
    # which partner was lost, for the JobMaster to name where it ran
    assert (lost.value.lost, lost.value.producer_subtask, lost.value.consumer_subtask) == \
        ("producer", channel.producer_subtask, channel.consumer_subtask)
    assert lost.value.result_id == channel.result_id
    assert time.monotonic() - released_at < 2.0
    with pytest.raises(CancelTaskException):  # it stays cancelled
        channel.poll()
    wait_until(lambda: len(ex.server) == 0, "the server closing the stream")


def test_a_producer_released_before_its_consumer_connects_cancels_it_promptly(
        exchange) -> None:
    # The release told no listener (there was none yet): the stream must find it when it
    # starts, not at its next periodic check (RELEASE_CHECK_INTERVAL_S, 5 s).
    ex = exchange()
    sub = ex.subpartition()
    sub.release()
    started = time.monotonic()
    channel, inbox = ex.channel(credits=2)
    with pytest.raises(CancelTaskException, match="released"):
        _next_item(channel, inbox)
    assert time.monotonic() - started < min(2.0, RELEASE_CHECK_INTERVAL_S / 2)
    wait_until(lambda: len(ex.server) == 0, "the server closing the stream")


def test_release_of_a_producer_with_items_in_flight_cancels_the_consumer(exchange) -> None:
    ex = exchange(capacity=2)
    sub = ex.subpartition()
    channel, inbox = ex.channel(credits=2)
    producer = ex.worker(lambda: _produce(sub, [([i], None) for i in range(10)]))
    wait_until(lambda: len(channel) == 2, "two buffers at the channel")
    assert producer.is_blocked()

    sub.release()

    producer.finish()
    assert isinstance(producer.error, CancelTaskException)
    with pytest.raises(CancelTaskException):
        for _ in range(3):  # it does not wait for the queued items to be polled
            _next_item(channel, inbox)


def test_consumer_release_stops_a_producer_blocked_in_add(exchange) -> None:
    ex = exchange(capacity=1)
    sub = ex.subpartition()
    channel, _ = ex.channel(credits=1)
    producer = ex.worker(lambda: _produce(sub, [([i], None) for i in range(10)]))
    wait_until(lambda: len(channel) == 1 and len(sub) == 1,
               "a buffer at the channel and one queued")
    assert producer.is_blocked()

    channel.release()  # the consumer task was cancelled

    producer.finish()
    assert isinstance(producer.error, CancelTaskException)
    assert channel.poll() == (None, False)
    assert len(channel) == 0
    wait_until(lambda: len(ex.server) == 0, "the server closing the stream")


def _request(result: str, credits: int, protocol: int = PROTOCOL_VERSION) -> bytes:
    """A consumer's request as it goes over the wire: ``!IB`` (length, kind 1) + JSON."""
    body = json.dumps({"protocol": protocol, "job_id": JOB, "result_id": result,
                       "producer_subtask": 0, "consumer_subtask": 0,
                       "credits": credits}).encode()
    return struct.pack("!IB", len(body), 1) + body


def test_a_consumer_that_disconnects_stops_a_producer_blocked_in_add(exchange) -> None:
    ex = exchange(capacity=1)
    sub = ex.subpartition()
    producer = ex.worker(lambda: _produce(sub, [([i], None) for i in range(10)]))
    with _raw_connection(ex.server.address) as raw:
        raw.sendall(_request("result", credits=1))
        header = raw.recv(5, socket.MSG_WAITALL)  # the first item, then no more credit
        assert struct.unpack("!IB", header)[1] == 3
        wait_until(lambda: len(sub) == 1, "a queued buffer")
        assert producer.is_blocked()
    # the socket closed without a word, as when the consumer's process dies

    producer.finish()
    assert isinstance(producer.error, PartnerLostException), producer.error
    assert (producer.error.lost, producer.error.result_id, producer.error.producer_subtask,
            producer.error.consumer_subtask) == ("consumer", "result", 0, 0)
    # it survives the trip to the JobMaster
    again = pickle.loads(pickle.dumps(producer.error))
    assert (type(again), str(again), again.lost) == (PartnerLostException, str(producer.error),
                                                    "consumer")


def test_a_bad_request_is_answered_with_an_error(exchange) -> None:
    ex = exchange()
    with _raw_connection(ex.server.address) as raw:
        raw.sendall(_request("result", credits=1, protocol=99))
        length, kind = struct.unpack("!IB", raw.recv(5, socket.MSG_WAITALL))
        message = raw.recv(length, socket.MSG_WAITALL).decode()
        assert kind == 5 and "protocol 99" in message
        assert raw.recv(1) == b""  # then the server closes the connection


def test_server_stop_fails_the_consumer_and_stops_the_producer(exchange) -> None:
    ex = exchange(capacity=1)
    sub = ex.subpartition()
    channel, inbox = ex.channel(credits=1)
    producer = ex.worker(lambda: _produce(sub, [([i], None) for i in range(10)]))
    wait_until(lambda: len(channel) == 1 and len(sub) == 1,
               "a buffer at the channel and one queued")

    ex.server.stop()

    producer.finish()
    assert isinstance(producer.error, CancelTaskException)
    with pytest.raises(RemoteChannelError, match=f"closed by remote task manager "
                                                 f"'{ex.address}'"):
        for _ in range(3):
            _next_item(channel, inbox)


def test_a_record_pickle_cannot_serialize_fails_the_producer_naming_it(exchange) -> None:
    """Buffers bound for another process are serialized as the producer adds them, so the
    producer task fails with the record named; what it sent before still arrives."""
    ex = exchange(capacity=2)
    sub = ex.subpartition()
    channel, inbox = ex.channel(credits=2)
    wait_until(lambda: sub._serializer is not None, what="the server streaming the partition")
    sub.add(([1], None))
    with pytest.raises(UnserializableRecordError,
                       match="cannot serialize the record <function .*lambda.* of type function"):
        sub.add(([2, lambda x: x], None))
    assert _next_item(channel, inbox)[0] == [1]


# -- connecting ----------------------------------------------------------------------------------


def test_connecting_to_a_closed_port_times_out_naming_the_address() -> None:
    address = f"127.0.0.1:{free_port()}"
    channel = RemoteInputChannel(address, JOB, "result-7", 2, 3, credits=2,
                                 connect_timeout_s=0.3)
    start = time.monotonic()
    with pytest.raises(FlinkPyError) as raised:
        channel.connect(InputInbox(), 0)
    assert 0.3 <= time.monotonic() - start < 2.0
    message = str(raised.value)
    assert address in message and "result-7" in message and "2->3" in message
    channel.release()


def test_connect_retries_until_the_producer_server_is_up(exchange) -> None:
    port = free_port()
    partitions = ResultPartitionManager(2)
    partitions.subpartition(JOB, "late", 0, 0).add((["x"], None))
    partitions.subpartition(JOB, "late", 0, 0).add(END_OF_PARTITION)
    server = DataServer(partitions, "127.0.0.1", port)
    starter = threading.Timer(0.2, server.start)
    starter.start()
    try:
        channel = RemoteInputChannel(f"127.0.0.1:{port}", JOB, "late", 0, 0, credits=2,
                                     connect_timeout_s=DEADLINE_S)
        inbox = InputInbox()
        channel.connect(inbox, 0)
        assert _drain(channel, inbox) == [(["x"], None)]
        channel.release()
    finally:
        starter.join()
        server.stop()


def test_release_ends_a_connect_that_is_retrying() -> None:
    channel = RemoteInputChannel(f"127.0.0.1:{free_port()}", JOB, "r", 0, 0, credits=1,
                                 connect_timeout_s=DEADLINE_S)
    connecting = _Worker(lambda: channel.connect(InputInbox(), 0), "connecting")
    assert connecting.is_blocked()
    channel.release()
    connecting.finish()
    assert connecting.error is None
    assert channel.poll() == (None, False)


def test_a_malformed_address_is_rejected() -> None:
    with pytest.raises(FlinkPyError, match="host:port"):
        RemoteInputChannel("localhost", JOB, "r", 0, 0, credits=1, connect_timeout_s=1)


# -- two processes -------------------------------------------------------------------------------


def _serve(connection: Any, buffers: int, end: bool) -> None:
    """A producer process: serves one subpartition, then waits to be told to stop."""
    security_context.install(SecurityContext.for_tests())
    partitions = ResultPartitionManager(4)
    server = DataServer(partitions, "127.0.0.1")
    server.start()
    connection.send(server.address[1])
    sub = partitions.subpartition(JOB, "result", 0, 0)
    for i in range(buffers):
        sub.add((list(range(i * 100, i * 100 + 100)), [i] * 100))
        if i % 10 == 9:
            sub.add(Watermark(i))
    if end:
        sub.add(END_OF_PARTITION)
    connection.recv()
    server.stop()


def _start_producer_process(buffers: int, end: bool) -> Tuple[Any, Any, int]:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve, args=(child, buffers, end), daemon=True)
    process.start()
    child.close()
    assert parent.poll(30), "the producer process did not start"
    return process, parent, parent.recv()


def test_records_cross_between_two_processes() -> None:
    process, control, port = _start_producer_process(buffers=300, end=True)
    channel = RemoteInputChannel(f"127.0.0.1:{port}", JOB, "result", 0, 0, credits=4,
                                 connect_timeout_s=DEADLINE_S)
    try:
        inbox = InputInbox()
        channel.connect(inbox, 0)
        items = _drain(channel, inbox)
    finally:
        channel.release()
        control.send("stop")
        process.join(DEADLINE_S)
        control.close()
    assert process.exitcode == 0
    process.close()
    values = [v for item in items if type(item) is tuple for v in item[0]]
    assert values == list(range(30_000))
    assert [item for item in items if type(item) is Watermark] == [
        Watermark(i) for i in range(9, 300, 10)]


def test_a_producer_process_that_dies_fails_the_consumer() -> None:
    process, control, port = _start_producer_process(buffers=50, end=False)
    channel = RemoteInputChannel(f"127.0.0.1:{port}", JOB, "result", 0, 0, credits=2,
                                 connect_timeout_s=DEADLINE_S)
    try:
        inbox = InputInbox()
        channel.connect(inbox, 0)
        assert _next_item(channel, inbox)[0] == list(range(100))
        process.kill()
        with pytest.raises(RemoteChannelError, match="closed by remote task manager"):
            for _ in range(60):
                _next_item(channel, inbox)
    finally:
        channel.release()
        process.join(DEADLINE_S)
        control.close()
    process.close()


# -- receive buffers ---------------------------------------------------------------------------


def _frames(payloads: List[bytes]) -> bytes:
    return b"".join(struct.pack("!IB", len(p), ITEM) + p for p in payloads)


def _read_frames(reader: _FrameReader, count: int) -> List[bytes]:
    payloads: List[bytes] = []
    while len(payloads) < count:
        frames: List[Tuple[int, bytes]] = []  # read() returns at once if given frames
        reader.read(frames)
        payloads.extend(payload for _, payload in frames)
    return payloads


def test_a_receive_buffer_starts_small_and_grows_only_while_its_stream_is_busy() -> None:
    # A connection's buffers are resident from the start, and a key_by at parallelism P
    # has P * (P - 1) connections, most of them nearly idle: an idle one keeps a small buffer.
    a, b = socket.socketpair()
    with a, b:
        a.settimeout(DEADLINE_S)
        reader = _FrameReader(a)
        assert reader.size() == _INITIAL_RECEIVE_BUFFER
        b.sendall(_frames([b"x" * 100]))
        assert _read_frames(reader, 1) == [b"x" * 100]
        assert reader.size() == _INITIAL_RECEIVE_BUFFER

        payloads = [bytes([i % 251]) * 3000 for i in range(600)]  # ~1.8 MB, no frame large
        sender = threading.Thread(target=b.sendall, args=(_frames(payloads),), daemon=True)
        sender.start()
        assert _read_frames(reader, len(payloads)) == payloads
        sender.join(DEADLINE_S)
        assert reader.size() == _RECEIVE_BUFFER


def test_a_control_reader_of_fixed_size_still_takes_a_larger_frame() -> None:
    a, b = socket.socketpair()
    with a, b:
        a.settimeout(DEADLINE_S)
        reader = _FrameReader(a, 64 * 1024, 1024, 1024)
        b.sendall(_frames([b"c" * 9, b"r" * 5000, b"c" * 9]))
        assert _read_frames(reader, 3) == [b"c" * 9, b"r" * 5000, b"c" * 9]
