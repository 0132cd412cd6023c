"""Data exchange between processes: a TaskExecutor's ``DataServer`` and ``RemoteInputChannel``.

A consumer subtask in another process reads one producer subpartition through one TCP
connection. It sends a request naming ``(job, result, producer subtask, consumer subtask)``
and an initial credit; the server streams that subpartition's items, one per credit, and the
consumer returns credits as its task polls items (in batches of a quarter of its credits, so
the server never runs dry and both sides wake less often). Every item costs a credit, events
included (Flink charges only buffers; charging events too keeps the bytes in flight strictly
bounded: at most ``credits`` items are between the subpartition and the consumer task, and the
producer blocks once its subpartition's ``capacity`` is also used). An item stays in the
producer's ``Subpartition`` until a credit lets it go, so backpressure reaches the producer.

Wire format: frames of ``!IB`` (payload length, kind) followed by the payload.

* consumer -> server: ``REQUEST`` (JSON: protocol, ids, credits) once, then ``CREDIT`` (``!I``).
* server -> consumer: ``ITEM`` (a buffer or event, pickled with protocol 5 without the memo
  where possible, see ``_dumps``) per credit, ``PRIORITY`` (a priority event: the barrier of
  an unaligned checkpoint, pickled) without a credit, then
  ``END`` (``EndOfPartition``, empty, also charged a credit); or ``RELEASED`` (the producer's
  subpartition was released) or ``ERROR`` (UTF-8 text). Nothing follows these three.

A priority event overtakes on both sides, as Flink's priority barrier does: the producer's
``Subpartition`` puts it at the head of its queue (see local.py) and the server sends it as
soon as it is there, credits or not (at most one per checkpoint, so the bound on what is in
flight grows by that much); the consumer puts it at the head of its own queue, and keeps the
items it overtook there, still to be delivered after it, for the task to record as channel
state (``take_overtaken``).

The server never unpickles what it receives; a consumer unpickles only what a server that
proved it is a member of the cluster sends. Before the first frame, both sides authenticate
(once per connection, see ``SecurityContext``):

* with internal TLS, the socket is wrapped first (mutual: both present a certificate of the
  cluster's CA);
* with a cluster secret, a challenge-response on the raw (or TLS) stream, fixed sizes:
  server -> consumer: a random 16-byte challenge ``S``; consumer -> server: its own 16-byte
  challenge ``C`` and ``sign(b"data-client", S, C)``; the server verifies it (in constant
  time) and answers ``sign(b"data-server", C, S)``, which the consumer verifies before it
  reads a frame. A peer that fails, sends junk or nothing within ``HANDSHAKE_TIMEOUT_S`` is
  dropped and logged (rate-limited), and nothing it sent is parsed or unpickled.

With authentication off (no secret, no TLS) there is no handshake; the request's protocol
version is checked either way.

A request names a subpartition; the server creates nothing for it: the subpartition must be
registered by a producer deployed here (``ResultPartitionManager.subpartition``). A request
that comes before its producer is deployed waits for the registration, at most
``PARTITION_REQUEST_TIMEOUT_S`` and with at most ``MAX_WAITING_REQUESTS`` waiting per server,
and is answered ``ERROR`` when it does not come.

How the end of a stream reaches the consumer task: ``RemoteInputChannel.poll`` raises
``CancelTaskException`` when the producer's subpartition was released (producer cancelled or
failed) and ``RemoteChannelError`` (a ``FlinkPyError``) when the connection broke before
``EndOfPartition`` or the server reported an error, so the task cancels or fails without any
special case in its input loop.
"""

from __future__ import annotations

import io
import json
import logging
import pickle
import secrets
import selectors
import socket
import ssl
import struct
import threading
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, Set, Tuple

from flink_py.errors import FlinkPyError
from flink_py.runtime.network.events import END_OF_PARTITION, EndOfPartition
from flink_py.runtime.execution.errors import PartnerLostException
from flink_py.runtime.network.buffer_codec import encode as encode_buffer, loads as loads_item
from flink_py.runtime.network.local import InputInbox, ResultPartitionManager, Subpartition
from flink_py.runtime.network.socket_io import send_all
from flink_py.security import context as security_context
from flink_py.security.cluster_secret import ClusterSecret
from flink_py.security.tls import TlsFiles

log = logging.getLogger(__name__)

#: 3: connections authenticate before the first frame (TLS and/or the cluster secret)
PROTOCOL_VERSION = 3

# Frame kinds.
REQUEST = 1
CREDIT = 2
ITEM = 3
RELEASED = 4
ERROR = 5
END = 6
PRIORITY = 7

_HEADER = struct.Struct("!IB")
_COUNT = struct.Struct("!I")
_PICKLE_PROTOCOL = 5

#: Each blocking socket call returns after this long at most. A receive that times out is
#: retried (an idle channel is normal); a send that times out means the peer stopped reading.
IO_TIMEOUT_S = 10.0
#: A connection whose request does not arrive within this is dropped.
REQUEST_TIMEOUT_S = 10.0
#: Largest frame a server accepts from a consumer (requests and credits are tiny).
MAX_CONTROL_FRAME = 64 * 1024
#: While idle, the server checks this often whether its subpartition was released. Only a
#: safety net: ``Subpartition.release`` wakes the server (its listener). Each idle stream's
#: thread wakes this often, and a key_by at parallelism P has P * (P - 1) streams: at 0.2 s
#: those wake-ups alone took a core at P = 64 (docs/scaling.md).
RELEASE_CHECK_INTERVAL_S = 5.0
#: A server batches at most this many payload bytes into one send.
MAX_BATCH_BYTES = 1 << 20
#: A consumer returns credits once this fraction of its credits is used up.
CREDIT_BATCH_FRACTION = 0.25
#: After a failed accept (out of descriptors, say), the server waits this long to retry.
ACCEPT_BACKOFF_S = 0.1
#: How long a connection's whole authentication (TLS and challenge-response) may take.
HANDSHAKE_TIMEOUT_S = 5.0
#: How long a request for a subpartition whose producer is not deployed yet waits for it.
PARTITION_REQUEST_TIMEOUT_S = 60.0
#: How many requests may wait for their producer at once, per server; more are refused.
MAX_WAITING_REQUESTS = 1024
#: Bytes of a handshake challenge and of its HMAC-SHA256 answer.
CHALLENGE_BYTES = 16
MAC_BYTES = 32
_CLIENT_LABEL = b"data-client"
_SERVER_LABEL = b"data-server"
#: A server logs at most this many refused connections per window, then a count.
REFUSAL_LOG_BURST = 10
REFUSAL_LOG_WINDOW_S = 60.0
#: A consumer's receive buffer grows to this, doubling from ``_INITIAL_RECEIVE_BUFFER``
#: each time a receive fills it (a busy stream); a frame larger than it gets a buffer of its
#: size.
_RECEIVE_BUFFER = 1 << 18
#: Where a consumer's receive buffer starts. Each buffer is zeroed, so resident, at once:
#: at 256 KiB on both ends a connection held 512 KiB, and a key_by at parallelism P has
#: P * (P - 1) connections (8 GiB at P = 128, docs/scaling.md), most of them nearly idle.
_INITIAL_RECEIVE_BUFFER = 1 << 14
#: The server reads only requests and credits (MAX_CONTROL_FRAME at most): a small buffer,
#: grown for a larger request.
_CONTROL_RECEIVE_BUFFER = 1 << 10
_THREAD_JOIN_S = 5.0


class UnserializableRecordError(FlinkPyError):
    """A record bound for another process that pickle cannot serialize."""


class RemoteChannelError(FlinkPyError):
    """The stream from a producer in another process broke or could not be opened."""


class HandshakeError(FlinkPyError):
    """A peer did not authenticate: wrong or no secret, junk, silence, or a closed socket."""


def _receive_exactly(sock: socket.socket, size: int, deadline: float) -> bytes:
    """Exactly ``size`` bytes, or HandshakeError once the peer closes or ``deadline``
    (``time.monotonic``) passes; reads no more than ``size``."""
    data = bytearray()
    while len(data) < size:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise HandshakeError(f"sent {len(data)} of {size} handshake bytes within "
                                 f"{HANDSHAKE_TIMEOUT_S:g} s")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(size - len(data))
        except socket.timeout:
            continue  # the deadline check above ends the wait
        if not chunk:
            raise HandshakeError(f"closed the connection after {len(data)} of {size} "
                                 f"handshake bytes")
        data += chunk
    return bytes(data)


def server_handshake(sock: socket.socket, secret: ClusterSecret, deadline: float) -> None:
    """The server's side of the challenge-response (see the module docstring).

    :raises HandshakeError: if the consumer's answer is wrong or incomplete by ``deadline``.
    :raises OSError: if the connection broke.
    """
    challenge = secrets.token_bytes(CHALLENGE_BYTES)
    sock.sendall(challenge)
    answer = _receive_exactly(sock, CHALLENGE_BYTES + MAC_BYTES, deadline)
    client_challenge, mac = answer[:CHALLENGE_BYTES], answer[CHALLENGE_BYTES:]
    if not secret.verify(mac, _CLIENT_LABEL, challenge, client_challenge):
        raise HandshakeError("answered the challenge without the cluster secret")
    sock.sendall(secret.sign(_SERVER_LABEL, client_challenge, challenge))


def client_handshake(sock: socket.socket, secret: ClusterSecret, deadline: float) -> None:
    """The consumer's side: answers the server's challenge and checks the server's proof
    before anything else is read from ``sock``.

    :raises HandshakeError: if the server does not prove it has the secret by ``deadline``.
    :raises OSError: if the connection broke.
    """
    server_challenge = _receive_exactly(sock, CHALLENGE_BYTES, deadline)
    challenge = secrets.token_bytes(CHALLENGE_BYTES)
    sock.sendall(challenge + secret.sign(_CLIENT_LABEL, server_challenge, challenge))
    proof = _receive_exactly(sock, MAC_BYTES, deadline)
    if not secret.verify(proof, _SERVER_LABEL, challenge, server_challenge):
        raise HandshakeError("answered without the cluster secret")


_client_contexts: Dict[TlsFiles, ssl.SSLContext] = {}
_client_contexts_lock = threading.Lock()


def _client_ssl_context(tls: TlsFiles) -> ssl.SSLContext:
    """One client context per TLS setting (loading the PEM files once per process)."""
    with _client_contexts_lock:
        context = _client_contexts.get(tls)
        if context is None:
            context = _client_contexts[tls] = tls.client_context()
        return context


def _server_ssl_context(tls: TlsFiles) -> ssl.SSLContext:
    context = tls.server_context()
    # No TLS 1.3 session tickets: they are the only records a server sends after the
    # handshake unasked, and a consumer reads (receiver thread) and writes credits (task
    # thread) on one SSL connection at once; with nothing but application data after the
    # handshake, its reads never need to write.
    context.num_tickets = 0
    return context


def secure_client_socket(sock: socket.socket, security: "security_context.SecurityContext",
                         host: str) -> socket.socket:
    """Wraps ``sock`` in TLS (when configured) and runs the consumer's challenge-response
    (when a secret is configured); returns the socket to use from then on. Closes ``sock``
    when it raises.

    :raises HandshakeError: the server did not prove it belongs to the cluster.
    :raises OSError: TLS failed (``ssl.SSLError``) or the connection broke.
    """
    deadline = time.monotonic() + HANDSHAKE_TIMEOUT_S
    timeout = sock.gettimeout()
    try:
        if security.tls is not None:
            context = _client_ssl_context(security.tls)
            sock.settimeout(HANDSHAKE_TIMEOUT_S)
            sock = context.wrap_socket(
                sock, server_hostname=host if context.check_hostname else None)
        if security.secret is not None:
            client_handshake(sock, security.secret, deadline)
    except BaseException:
        sock.close()
        raise
    sock.settimeout(timeout)
    return sock


class _RefusalLog:
    """Logs refused connections at WARNING, at most ``REFUSAL_LOG_BURST`` per
    ``REFUSAL_LOG_WINDOW_S``, then how many were not logged: a flood of probes must not
    flood the log."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window_start = time.monotonic()
        self._logged = 0
        self._suppressed = 0

    def refused(self, message: str, *args: Any) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._window_start >= REFUSAL_LOG_WINDOW_S:
                suppressed, self._suppressed = self._suppressed, 0
                self._window_start, self._logged = now, 0
                if suppressed:
                    log.warning("DataServer refused %d more connections in the last %.0f s "
                                "(not logged one by one)", suppressed, REFUSAL_LOG_WINDOW_S)
            if self._logged >= REFUSAL_LOG_BURST:
                self._suppressed += 1
                return
            self._logged += 1
        log.warning(message, *args)


def _configure(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    # Detect a vanished peer host within ~30 s instead of the kernel's default two hours.
    for option, value in (("TCP_KEEPIDLE", 15), ("TCP_KEEPINTVL", 5), ("TCP_KEEPCNT", 3)):
        if hasattr(socket, option):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)
    sock.settimeout(IO_TIMEOUT_S)


def _frame(kind: int, payload: bytes) -> bytes:
    return _HEADER.pack(len(payload), kind) + payload


def _dumps(item: Any) -> bytes:
    """Pickles an item without the memo ("fast" mode): records are trees of values, and not
    recording every tuple and string for back-references makes ``dumps`` of a buffer of
    tuples ~2x faster. An object that appears twice is then sent twice; a cycle, which fast
    mode refuses, goes through the ordinary pickler."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, _PICKLE_PROTOCOL)
    pickler.fast = True
    try:
        pickler.dump(item)
    except ValueError:  # a cyclic structure (or a reducer's own error: raised again below)
        return pickle.dumps(item, _PICKLE_PROTOCOL)
    return buffer.getvalue()


def serialize_buffer(buffer: tuple) -> bytes:
    """A data buffer as the bytes of an ITEM frame (on the producer's thread): its columnar
    encoding when its records fit one (``buffer_codec``), else its pickle.

    :raises UnserializableRecordError: naming the record that pickle refused.
    """
    columnar = encode_buffer(buffer[0], buffer[1], buffer[2] if len(buffer) == 3 else None)
    if columnar is not None:
        return columnar
    try:
        return _dumps(buffer)
    except Exception as exc:
        raise UnserializableRecordError(_unserializable_message(buffer, exc)) from exc


def _unserializable_message(item: Any, exc: Exception) -> str:
    culprit = item
    if type(item) is tuple:  # a buffer: name the record (or timestamp) that failed
        for value in [*item[0], *(item[1] or ())]:
            try:
                pickle.dumps(value, _PICKLE_PROTOCOL)
            except Exception as value_exc:  # the one we are looking for
                culprit, exc = value, value_exc
                break
    shown = repr(culprit)
    shown = shown if len(shown) <= 200 else shown[:200] + "..."
    return (f"cannot serialize the record {shown} of type {type(culprit).__name__} "
            f"with pickle protocol {_PICKLE_PROTOCOL} to send it to another process: "
            f"{exc!r}")


def _shutdown(sock: socket.socket) -> None:
    """Wakes every thread blocked on ``sock`` (``close`` alone does not)."""
    try:
        # socket.socket's own: SSLSocket.shutdown would also drop its TLS state under the
        # feet of a thread reading it
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:  # not connected any more: nobody is blocked on it
        pass


class _FrameReader:
    """Reads frames from a socket through one reusable buffer (many frames per receive).

    The buffer starts at ``initial_size`` and doubles, up to ``max_size``, whenever a
    receive fills all the room it had: an idle stream keeps a small buffer, a busy one gets
    large receives after a few.
    """

    def __init__(self, sock: socket.socket, max_frame: Optional[int] = None,
                 initial_size: int = _INITIAL_RECEIVE_BUFFER,
                 max_size: int = _RECEIVE_BUFFER) -> None:
        self._sock = sock
        self._max_frame = max_frame
        self._max_size = max(max_size, initial_size)
        self._buffer = bytearray(initial_size)
        self._view = memoryview(self._buffer)
        self._start = 0
        self._end = 0

    def read(self, out: List[Tuple[int, bytes]]) -> None:
        """Appends every complete frame received to ``out``, waiting for at least one.

        Raises what ``receive`` raises; after ``socket.timeout`` the reader is consistent
        and can be called again.
        """
        while True:
            self.parse(out)
            if out:
                return
            self.receive()

    def parse(self, out: List[Tuple[int, bytes]]) -> None:
        """Appends the complete frames already received to ``out``."""
        buffer, view, start, end = self._buffer, self._view, self._start, self._end
        unpack_from = _HEADER.unpack_from
        while end - start >= 5:
            length, kind = unpack_from(buffer, start)
            if self._max_frame is not None and length > self._max_frame:
                raise ConnectionError(f"frame of {length} bytes exceeds {self._max_frame}")
            if end - start - 5 < length:
                break
            out.append((kind, bytes(view[start + 5:start + 5 + length])))
            start += 5 + length
        self._start = start

    def receive(self) -> None:
        """Receives once (blocking up to the socket's timeout).

        Raises ``EOFError`` when the peer closed the connection at a frame boundary,
        ``ConnectionError`` when it closed it inside a frame, ``socket.timeout`` when nothing
        arrived within the socket's timeout.
        """
        start, end = self._start, self._end
        pending = end - start
        needed = 5
        if pending >= 5:
            needed = 5 + _HEADER.unpack_from(self._buffer, start)[0]
        if start and (start == end or len(self._buffer) - start < needed):
            # Move the incomplete frame to the front so that it fits.
            self._buffer[:pending] = self._view[start:end]
            self._start, self._end = start, end = 0, pending
        if needed > len(self._buffer):
            self._resize(needed)
            start, end = self._start, self._end
        room = len(self._buffer) - end
        received = self._sock.recv_into(self._view[end:])
        if received == 0:
            if self._start != self._end:
                raise ConnectionError("connection closed inside a frame")
            raise EOFError
        self._end = end + received
        if received == room and len(self._buffer) < self._max_size:
            self._resize(min(len(self._buffer) * 2, self._max_size))

    def size(self) -> int:
        """The buffer's size now (bytes)."""
        return len(self._buffer)

    def _resize(self, size: int) -> None:
        """A buffer of ``size`` bytes with the unparsed bytes moved to its front."""
        start, end = self._start, self._end
        grown = bytearray(size)
        grown[:end - start] = self._view[start:end]
        self._view.release()
        self._buffer, self._view = grown, memoryview(grown)
        self._start, self._end = 0, end - start


class _TlsFrameReader(_FrameReader):
    """A consumer's reader on a TLS socket that the task thread also writes credits to.

    One SSL connection must not be used by two threads at once (OpenSSL), so every read and
    write holds ``lock``; a read waits for data *outside* the lock (the socket readable, or
    decrypted bytes pending), so that credits go out while the receiver waits.
    """

    def __init__(self, sock: ssl.SSLSocket, lock: threading.Lock) -> None:
        super().__init__(sock)
        self._lock = lock
        self._selector = selectors.DefaultSelector()
        self._selector.register(sock, selectors.EVENT_READ)

    def receive(self) -> None:
        sock = self._sock
        assert isinstance(sock, ssl.SSLSocket)
        if not sock.pending() and not self._selector.select(sock.gettimeout()):
            raise socket.timeout("no data within the socket's timeout")
        with self._lock:
            super().receive()

    def close(self) -> None:
        self._selector.close()


# -- server ----------------------------------------------------------------------------------


class DataServer:
    """Serves a TaskExecutor's subpartitions to consumer tasks in other processes.

    One TCP connection streams one subpartition, served by one thread (see
    ``_StreamConnection``); an acceptor thread takes connections.

    :param partitions: The TaskExecutor's subpartitions.
    :param host: The interface to listen on.
    :param port: The port, or 0 for any free one (see ``address``).
    :param partition_request_timeout_s: How long a request for a subpartition that no task
                                        deployed here registered yet waits for it.
    :param max_waiting_requests: How many such requests may wait at once.

    Example::

        server = DataServer(ResultPartitionManager(capacity=8), "127.0.0.1")
        server.start()
        host, port = server.address
        ...
        server.stop()
    """

    def __init__(self, partitions: ResultPartitionManager, host: str = "127.0.0.1",
                 port: int = 0,
                 partition_request_timeout_s: float = PARTITION_REQUEST_TIMEOUT_S,
                 max_waiting_requests: int = MAX_WAITING_REQUESTS) -> None:
        self.partitions = partitions
        self._host = host
        self._port = port
        #: how long a request waits for its producer to be deployed
        self.partition_request_timeout_s = partition_request_timeout_s
        self._max_waiting = max_waiting_requests
        self._waiting = 0
        self._security: Optional[security_context.SecurityContext] = None
        self._ssl_context: Optional[ssl.SSLContext] = None
        self.refusals = _RefusalLog()
        self._listener: Optional[socket.socket] = None
        self._acceptor: Optional[threading.Thread] = None
        self._lock = threading.Lock()
        self._connections: Set["_StreamConnection"] = set()
        self._stopping = False
        self._stopped = threading.Event()

    @property
    def address(self) -> Tuple[str, int]:
        """``(host, port)`` the server is bound to (the actual port when 0 was asked for)."""
        if self._listener is None:
            raise FlinkPyError("the DataServer is not started")
        host, port = self._listener.getsockname()[:2]
        return host, port

    def start(self) -> None:
        """Listens; authenticates connections as this process's ``SecurityContext`` says.

        :raises SecurityNotConfiguredError: if no SecurityContext is installed.
        """
        security = security_context.current()
        self._security = security
        if security.tls is not None:
            self._ssl_context = _server_ssl_context(security.tls)
        listener = socket.create_server((self._host, self._port), backlog=128)
        self._listener = listener
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True,
                                          name=f"flink-py-data-server-{self.address[1]}")
        self._acceptor.start()
        log.info("DataServer listening on %s:%d", *self.address)

    def stop(self) -> None:
        """Closes the listener and every connection; releases the subpartitions whose stream
        had not ended (their producers stop with ``CancelTaskException``)."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            connections = list(self._connections)
        self._stopped.set()
        if self._listener is not None:
            _shutdown(self._listener)  # wakes accept() on Linux
            self._listener.close()
        if self._acceptor is not None:
            self._acceptor.join(_THREAD_JOIN_S)
        for connection in connections:
            connection.close()
        for connection in connections:
            connection.join()

    def __len__(self) -> int:
        """The number of open connections."""
        with self._lock:
            return len(self._connections)

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while True:
            try:
                sock, peer = self._listener.accept()
            except OSError as exc:
                if self._stopping:
                    return
                # Out of descriptors or memory, or a connection aborted before we took it:
                # the consumer retries or fails; keep serving the others.
                log.warning("DataServer on port %d could not accept a connection: %s",
                            self.address[1], exc)
                self._stopped.wait(ACCEPT_BACKOFF_S)
                continue
            try:
                _configure(sock)
                connection = _StreamConnection(self, sock, peer)
            except OSError as exc:
                log.warning("DataServer dropped the connection from %s: %s", peer, exc)
                sock.close()
                continue
            with self._lock:  # so that stop() joins only started connections
                if self._stopping:
                    sock.close()
                    return
                self._connections.add(connection)
                connection.start()

    def _forget(self, connection: "_StreamConnection") -> None:
        with self._lock:
            self._connections.discard(connection)

    def _begin_wait(self) -> bool:
        """Takes one of the places for requests waiting for their producer, if one is free."""
        with self._lock:
            if self._waiting >= self._max_waiting:
                return False
            self._waiting += 1
            return True

    def _end_wait(self) -> None:
        with self._lock:
            self._waiting -= 1


def _peer_text(peer: Any) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)


class _StreamConnection:
    """Streams one subpartition to one consumer, on one thread.

    The thread waits (``selectors``) on the consumer's socket, for credits and for the
    consumer going away, and on a wake-up socket pair that the subpartition's listener
    interface (``channel_available``, called on the producer's thread) writes to. It owns
    the credit count. ``Subpartition.release`` tells the listener, and the thread checks
    whether the subpartition was released each time it wakes: at once when it starts
    streaming (a release before it became the listener told nobody), and at least every
    ``RELEASE_CHECK_INTERVAL_S`` as a safety net. (It is a listener in its own right rather
    than an ``InputInbox``, so that one thread can wait for data and for the socket at once.)
    """

    def __init__(self, server: DataServer, sock: socket.socket, peer: Any) -> None:
        self._server = server
        self._sock = sock
        self._peer = peer
        self._subpartition: Optional[Subpartition] = None
        self._description = f"connection from {peer}"
        self._credits = 0
        #: set before EndOfPartition, RELEASED or ERROR is sent: nothing follows
        self._stream_ended = False
        self._wake_lock = threading.Lock()
        self._wake_receive, wake_send = socket.socketpair()
        self._wake_send: Optional[socket.socket] = wake_send
        self._wake_receive.setblocking(False)
        wake_send.setblocking(False)
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"flink-py-data-stream-{peer}")

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Ends the thread; it releases the subpartition if the stream had not ended."""
        _shutdown(self._sock)  # the consumer socket turns readable (EOF)

    def join(self) -> None:
        self._thread.join(_THREAD_JOIN_S)

    def channel_available(self, channel: int) -> None:
        """The subpartition's listener: data arrived (called on the producer's thread)."""
        with self._wake_lock:  # never write to a closed (possibly reused) descriptor
            if self._wake_send is not None:
                try:
                    send_all(self._wake_send, b"\0")
                except BlockingIOError:  # wake-ups are pending already: one is enough
                    pass

    def _run(self) -> None:
        try:
            if not self._authenticate():
                return
            reader = _FrameReader(self._sock, MAX_CONTROL_FRAME, _CONTROL_RECEIVE_BUFFER,
                                  _CONTROL_RECEIVE_BUFFER)
            if self._open(reader):
                self._stream(reader)
            self._linger()
        except EOFError:
            log.debug("%s: the consumer closed the connection", self._description)
        except OSError as exc:  # ConnectionError is an OSError
            log.debug("%s: %s", self._description, exc)
        except Exception:  # a bug must still end the stream, so that the consumer fails
            log.exception("%s failed", self._description)
        finally:
            self._end()

    def _authenticate(self) -> bool:
        """TLS and the challenge-response, as the server's SecurityContext says, before any
        frame is read; False (logged, rate-limited) if the peer did not authenticate."""
        security = self._server._security
        assert security is not None
        if security.tls is None and security.secret is None:
            return True
        deadline = time.monotonic() + HANDSHAKE_TIMEOUT_S
        try:
            if self._server._ssl_context is not None:
                self._sock.settimeout(HANDSHAKE_TIMEOUT_S)
                self._sock = self._server._ssl_context.wrap_socket(
                    self._sock, server_side=True, do_handshake_on_connect=False)
                self._sock.do_handshake()
            if security.secret is not None:
                server_handshake(self._sock, security.secret, deadline)
        except (HandshakeError, OSError) as exc:  # ssl.SSLError and timeouts are OSErrors
            if self._server._stopping:  # stop() closed the connection: nobody was refused
                return False
            what = "TLS" if isinstance(exc, ssl.SSLError) else "authentication"
            detail = f"the peer {exc}" if isinstance(exc, HandshakeError) else repr(exc)
            self._server.refusals.refused(
                "DataServer on port %d refused the connection from %s: %s failed: %s",
                self._server.address[1], _peer_text(self._peer), what, detail)
            return False
        self._sock.settimeout(IO_TIMEOUT_S)
        return True

    def _open(self, reader: _FrameReader) -> bool:
        """Reads the request, waits for its subpartition to be registered and registers as
        its listener; False if the request was bad or its subpartition never came."""
        frames: List[Tuple[int, bytes]] = []
        self._sock.settimeout(REQUEST_TIMEOUT_S)
        try:
            reader.read(frames)
        except socket.timeout:
            log.warning("%s sent no request within %.0f s", self._description,
                        REQUEST_TIMEOUT_S)
            return False
        self._sock.settimeout(IO_TIMEOUT_S)
        kind, payload = frames[0]
        try:
            if kind != REQUEST:
                raise ValueError(f"expected a request frame, got kind {kind}")
            request = json.loads(payload.decode("utf-8"))
            if request.get("protocol") != PROTOCOL_VERSION:
                raise ValueError(f"protocol {request.get('protocol')!r}, "
                                 f"this server speaks {PROTOCOL_VERSION}")
            key = (str(request["job_id"]), str(request["result_id"]),
                   int(request["producer_subtask"]), int(request["consumer_subtask"]))
            credits = int(request["credits"])
            if credits < 1:
                raise ValueError(f"credits must be at least 1, got {credits}")
            self._credits = credits + self._granted(frames[1:])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, ConnectionError) as exc:
            message = f"bad request from {self._peer}: {exc}"
            log.warning(message)
            self._send_final(ERROR, message.encode("utf-8"))
            return False
        self._key = key
        self._description = (f"stream of job {key[0]} result {key[1]} subpartition "
                             f"{key[2]}->{key[3]} to {self._peer}")
        sub = self._await_producer(reader, key)
        if sub is None:
            return False
        self._subpartition = sub
        self._subpartition.set_serializer(serialize_buffer)
        self._subpartition.connect(self, 0)  # type: ignore[arg-type]  # a listener
        return True

    def _await_producer(self, reader: _FrameReader,
                        key: Tuple[str, str, int, int]) -> Optional[Subpartition]:
        """The subpartition of ``key`` once a task deployed here registered it (a consumer
        may connect before its producer is deployed); None, after answering ERROR, if it is
        not registered within the server's timeout or too many requests wait already. Creates
        no state for the key: whatever a request names, it costs this thread and a callback
        entry while it waits, and nothing after."""
        partitions = self._server.partitions
        sub = partitions.registered(key)
        if sub is not None:
            return sub
        if not self._server._begin_wait():
            self._refuse_request(f"{self._server._max_waiting} requests already wait for "
                                 f"their producer to be deployed")
            return None
        wake = self._wake_on_registration
        try:
            sub = partitions.await_registration(key, wake)
            timeout_s = self._server.partition_request_timeout_s
            deadline = time.monotonic() + timeout_s
            with selectors.DefaultSelector() as selector:
                selector.register(self._sock, selectors.EVENT_READ, False)
                selector.register(self._wake_receive, selectors.EVENT_READ, True)
                while sub is None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        self._refuse_request(f"no task deployed here registered it within "
                                             f"{timeout_s:g} s")
                        return None
                    for selected, _ in selector.select(remaining):
                        if selected.data:
                            self._drain_wake_ups()
                        else:  # the consumer went away (EOFError) or sent credits early
                            reader.receive()
                            frames: List[Tuple[int, bytes]] = []
                            reader.parse(frames)
                            self._credits += self._granted(frames)
                    if self._server._stopping:
                        raise EOFError
                    sub = partitions.registered(key)
            return sub
        finally:
            partitions.cancel_registration_wait(key, wake)
            self._server._end_wait()

    def _wake_on_registration(self) -> None:
        self.channel_available(0)

    def _refuse_request(self, why: str) -> None:
        message = f"{self._description}: the subpartition is not available: {why}"
        log.warning(message)
        self._send_final(ERROR, message.encode("utf-8"))

    @staticmethod
    def _granted(frames: List[Tuple[int, bytes]]) -> int:
        granted = 0
        for kind, payload in frames:
            if kind != CREDIT or len(payload) != 4:
                raise ConnectionError(f"unexpected frame kind {kind} from the consumer")
            granted += _COUNT.unpack(payload)[0]
        return granted

    def _stream(self, reader: _FrameReader) -> None:
        sub = self._subpartition
        assert sub is not None
        frames: List[Tuple[int, bytes]] = []
        # True: the first turn waits for nothing, so that a subpartition released before
        # this became its listener (which told nobody) is found at once
        data_available = True
        pending: Optional[Callable[[], int]] = getattr(self._sock, "pending", None)
        with selectors.DefaultSelector() as selector:
            selector.register(self._sock, selectors.EVENT_READ, False)
            selector.register(self._wake_receive, selectors.EVENT_READ, True)
            while True:
                # Do not wait while there is something to send (a batch stopped at its size).
                sendable = data_available and (self._credits > 0 or sub.priority_pending > 0)
                ready = selector.select(0 if sendable else RELEASE_CHECK_INTERVAL_S)
                for key, _ in ready:
                    if key.data:  # data arrived in the subpartition
                        self._drain_wake_ups()
                        data_available = True
                    else:  # credits, or the consumer went away (EOFError)
                        reader.receive()
                        # TLS: decrypted bytes the selector cannot see
                        while pending is not None and pending():
                            reader.receive()
                        frames.clear()
                        reader.parse(frames)
                        self._credits += self._granted(frames)
                if sub.released:  # see the class docstring
                    self._send_released()
                    return
                if data_available and (self._credits > 0 or sub.priority_pending > 0):
                    data_available = self._send_batch(sub)
                    if self._stream_ended:
                        return

    def _drain_wake_ups(self) -> None:
        try:
            while self._wake_receive.recv(4096):
                pass
        except BlockingIOError:
            pass  # drained

    def _send_batch(self, sub: Subpartition) -> bool:
        """Sends items while credits last; returns whether more items may be waiting."""
        dumps = _dumps
        pack = _HEADER.pack
        parts: List[bytes] = []
        size = 0
        more = True
        while sub.priority_pending > 0:  # at the head of the queue; they need no credit
            item, more = sub.poll()
            if item is None:
                break
            payload = pickle.dumps(item, _PICKLE_PROTOCOL)
            parts.append(pack(len(payload), PRIORITY))
            parts.append(payload)
        while self._credits > 0 and size < MAX_BATCH_BYTES:
            item, more = sub.poll()
            if item is None:
                if parts:
                    send_all(self._sock, b"".join(parts))
                if sub.released:
                    self._send_released()
                return False
            self._credits -= 1
            if type(item) is EndOfPartition:
                parts.append(_END_FRAME)
                self._stream_ended = True
                send_all(self._sock, b"".join(parts))
                return False
            if type(item) is bytes:  # serialized by the producer as it was added
                payload = item
            else:
                try:
                    payload = dumps(item)
                except Exception as exc:  # a record that cannot cross processes
                    if parts:
                        send_all(self._sock, b"".join(parts))
                    self._send_unserializable(item, exc)
                    return False
            parts.append(pack(len(payload), ITEM))
            parts.append(payload)
            size += len(payload)
            if not more:
                break
        if parts:
            send_all(self._sock, b"".join(parts))
        return more

    def _send_released(self) -> None:
        log.info("%s: the subpartition was released", self._description)
        self._send_final(RELEASED, b"")

    def _send_unserializable(self, item: Any, exc: Exception) -> None:
        message = _unserializable_message(item, exc)
        log.warning("%s: %s", self._description, message)
        # The stream cannot go on: the consumer fails with this message and the producer
        # is stopped (its next add raises CancelTaskException).
        assert self._subpartition is not None
        self._subpartition.release()
        self._send_final(ERROR, message.encode("utf-8"))

    def _send_final(self, kind: int, payload: bytes) -> None:
        self._stream_ended = True
        send_all(self._sock, _frame(kind, payload))

    def _linger(self) -> None:
        """Half-closes and waits for the consumer to close: closing a socket with unread
        credits resets the connection, which can destroy the final frame in flight."""
        socket.socket.shutdown(self._sock, socket.SHUT_WR)
        deadline = time.monotonic() + IO_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if not self._sock.recv(4096):
                    return
            except socket.timeout:
                continue

    def _end(self) -> None:
        with self._wake_lock:
            wake_send, self._wake_send = self._wake_send, None
        if wake_send is not None:
            wake_send.close()
        self._wake_receive.close()
        if self._subpartition is not None and not self._stream_ended:
            # The consumer is gone before the end of the stream: stop the producer.
            log.info("%s: consumer disconnected, releasing the subpartition", self._description)
            _, result_id, producer, consumer = self._key
            self._subpartition.release(PartnerLostException(
                f"the consumer of {self._description} disconnected", result_id, producer,
                consumer, "consumer"))
        self._sock.close()
        self._server._forget(self)


# -- consumer --------------------------------------------------------------------------------


_END_FRAME = _frame(END, b"")
#: stands for EndOfPartition in a channel's queue of payloads
_END_MARK: Any = object()


class _Priority:
    """A priority event in a channel's queue of payloads, with the payloads it overtook."""

    __slots__ = ("payload", "overtaken")

    def __init__(self, payload: bytes, overtaken: List[bytes]) -> None:
        self.payload = payload
        self.overtaken = overtaken


class RemoteInputChannel:
    """A consumer task's input channel from a producer subpartition in another process.

    It has the interface the task uses on a local ``Subpartition``: ``connect``, ``poll``,
    ``release`` and ``len``. A receiver thread queues what arrives (at most ``credits``
    items) and tells the task's inbox when the queue goes from empty to non-empty.

    ``poll`` raises ``CancelTaskException`` once the producer's subpartition was released,
    and ``RemoteChannelError`` once the connection broke before ``EndOfPartition`` (or the
    server reported an error); it keeps raising after that.

    :param address: The producer TaskExecutor's ``DataServer``, as ``"host:port"``.
    :param job_id: The job.
    :param result_id: The intermediate result the producer writes.
    :param producer_subtask: The producer's subtask index.
    :param consumer_subtask: This consumer's subtask index.
    :param credits: How many items may be in flight to this channel (at least 1).
    :param connect_timeout_s: How long ``connect`` retries while the server is not reachable.
    """

    def __init__(self, address: str, job_id: str, result_id: str, producer_subtask: int,
                 consumer_subtask: int, credits: int, connect_timeout_s: float) -> None:
        host, sep, port = address.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise FlinkPyError(f"a data server address must be 'host:port', got {address!r}")
        if credits < 1:
            raise FlinkPyError(f"credits must be at least 1, got {credits}")
        self.address = address
        self._host = host.strip("[]")  # "[::1]:6121"
        self._port = int(port)
        self.job_id = str(job_id)
        self.result_id = str(result_id)
        self.producer_subtask = producer_subtask
        self.consumer_subtask = consumer_subtask
        self.credits = credits
        self.connect_timeout_s = connect_timeout_s
        self._description = (f"subpartition {producer_subtask}->{consumer_subtask} of result "
                             f"{self.result_id} (job {self.job_id}) at {address}")
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()  # credits come from the task thread
        #: held around every read and write of a TLS socket (see _TlsFrameReader)
        self._tls_lock: Optional[threading.Lock] = None
        self._payloads: Deque[Any] = deque()  # pickled items, _END_MARK
        self._listener: Optional[Tuple[InputInbox, int]] = None
        self._sock: Optional[socket.socket] = None
        self._receiver: Optional[threading.Thread] = None
        #: "released" (CancelTaskException) or an error message (RemoteChannelError)
        self._failure: Optional[str] = None
        self._end_received = False
        self._released = threading.Event()
        # Credits go back in batches: fewer sends here and fewer wake-ups at the server.
        # The server keeps at least credits - batch + 1 >= 1 credits, so it never starves.
        self._credit_batch = max(1, int(credits * CREDIT_BATCH_FRACTION))
        self._credit_frame = _frame(CREDIT, _COUNT.pack(self._credit_batch))
        self._unreturned = 0
        #: the queued payloads the last priority event taken overtook
        self._overtaken: List[bytes] = []

    def connect(self, inbox: InputInbox, channel: int, direct: Any = None) -> None:
        """Opens the stream and registers the task's inbox (``direct`` is ignored).

        :raises RemoteChannelError: if the server is not reachable within the timeout, or
                                    does not prove that it belongs to the cluster.
        :raises SecurityNotConfiguredError: if no SecurityContext is installed.
        """
        security = security_context.current()
        with self._lock:
            self._listener = (inbox, channel)
        sock = self._open()
        if sock is None:  # released while connecting
            return
        try:
            sock = secure_client_socket(sock, security, self._host)
        except (HandshakeError, OSError) as exc:
            what = "TLS" if isinstance(exc, ssl.SSLError) else "authentication"
            raise RemoteChannelError(
                f"{what} with the data server at {self.address} failed for "
                f"{self._description}: the server {exc}. Nothing it sent was read; do all "
                f"members of the cluster have the same cluster secret and TLS settings?"
                if isinstance(exc, HandshakeError) else
                f"{what} with the data server at {self.address} failed for "
                f"{self._description}: {exc!r}") from exc
        request = json.dumps({
            "protocol": PROTOCOL_VERSION, "job_id": self.job_id, "result_id": self.result_id,
            "producer_subtask": self.producer_subtask,
            "consumer_subtask": self.consumer_subtask, "credits": self.credits,
        }).encode("utf-8")
        try:
            sock.sendall(_frame(REQUEST, request))
        except OSError as exc:
            sock.close()
            raise RemoteChannelError(f"could not request {self._description}: {exc}") from exc
        with self._send_lock:
            if self._released.is_set():
                sock.close()
                return
            if isinstance(sock, ssl.SSLSocket):
                self._tls_lock = threading.Lock()
            self._sock = sock
        self._receiver = threading.Thread(
            target=self._receive_loop, args=(sock,), daemon=True,
            name=f"flink-py-data-receiver-{self.result_id}-"
                 f"{self.producer_subtask}-{self.consumer_subtask}")
        self._receiver.start()

    def _open(self) -> Optional[socket.socket]:
        deadline = time.monotonic() + self.connect_timeout_s
        backoff = 0.01
        while not self._released.is_set():
            remaining = deadline - time.monotonic()
            try:
                sock = socket.create_connection((self._host, self._port),
                                                timeout=max(min(remaining, IO_TIMEOUT_S), 0.05))
                _configure(sock)
                return sock
            except OSError as exc:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RemoteChannelError(
                        f"could not connect to the data server at {self.address} for "
                        f"{self._description} within {self.connect_timeout_s:g} s: {exc}"
                    ) from exc
            # Backoff between attempts; release() ends the wait.
            self._released.wait(min(backoff, remaining))
            backoff = min(backoff * 2, 0.5)
        return None

    def _receive_loop(self, sock: socket.socket) -> None:
        reader = _FrameReader(sock) if self._tls_lock is None else \
            _TlsFrameReader(sock, self._tls_lock)  # type: ignore[arg-type]
        try:
            self._receive(reader, sock)
        finally:
            if isinstance(reader, _TlsFrameReader):
                reader.close()

    def _receive(self, reader: _FrameReader, sock: socket.socket) -> None:
        frames: List[Tuple[int, bytes]] = []
        failure: Optional[str] = None
        try:
            while True:
                frames.clear()
                try:
                    reader.read(frames)
                except socket.timeout:
                    continue  # the producer has nothing to send
                payloads = []
                for kind, payload in frames:
                    if kind == ITEM:
                        payloads.append(payload)
                    elif kind == PRIORITY:
                        self._deliver(payloads)
                        payloads = []
                        self._deliver_priority(payload)
                    elif kind == END:
                        payloads.append(_END_MARK)
                        self._end_received = True
                        break
                    elif kind == RELEASED:
                        failure = "released"
                        break
                    elif kind == ERROR:
                        failure = (f"the producer's data server failed {self._description}: "
                                   f"{payload.decode('utf-8', 'replace')}")
                        break
                    else:
                        failure = f"unexpected frame kind {kind} in {self._description}"
                        break
                self._deliver(payloads)
                if failure is not None or self._end_received:
                    break
        except (EOFError, OSError) as exc:
            if not self._released.is_set():
                failure = self._connection_lost(
                    "closed by the peer" if isinstance(exc, EOFError) else repr(exc))
        if failure is not None and not self._end_received:
            self._fail(failure)
        self._close_socket()

    def _deliver(self, payloads: List[Any]) -> None:
        if not payloads:
            return
        with self._lock:
            if self._released.is_set():
                return
            notify = self._listener if not self._payloads else None
            self._payloads.extend(payloads)
        if notify is not None:
            notify[0].channel_available(notify[1])

    def _deliver_priority(self, payload: bytes) -> None:
        """A priority event goes ahead of the queued items, behind earlier priority events;
        the items it overtakes stay queued (see ``take_overtaken``)."""
        with self._lock:
            if self._released.is_set():
                return
            queue = self._payloads
            position = 0
            while position < len(queue) and type(queue[position]) is _Priority:
                position += 1
            overtaken = [p for p in list(queue)[position:] if p is not _END_MARK]
            notify = self._listener if not queue else None
            queue.insert(position, _Priority(payload, overtaken))
        if notify is not None:
            notify[0].channel_available(notify[1])

    def take_overtaken(self) -> List[Any]:
        """The data buffers that the priority event polled last overtook in this channel's
        queue (they are still delivered, after it); empty for any other event."""
        overtaken, self._overtaken = self._overtaken, []
        buffers = []
        for payload in overtaken:
            item = loads_item(payload)
            if type(item) is tuple:
                buffers.append(item)
        return buffers

    def _connection_lost(self, how: str) -> str:
        # Flink's wording (RemoteTransportException): the address names the lost TaskManager.
        return (f"Connection unexpectedly closed by remote task manager '{self.address}' "
                f"({how}). This might indicate that the remote task manager was lost. "
                f"Reading {self._description}.")

    def _fail(self, failure: str) -> None:
        with self._lock:
            if self._released.is_set() or self._failure is not None:
                return
            self._failure = failure
            listener = self._listener
        if listener is not None:
            listener[0].channel_available(listener[1])

    def poll(self) -> Tuple[Any, bool]:
        """Takes the oldest item (its credit goes back); also says whether more are queued.

        :raises CancelTaskException: if the producer's subpartition was released.
        :raises RemoteChannelError: if the connection broke before ``EndOfPartition``.
        """
        with self._lock:
            failure = self._failure
            if failure is None:
                if not self._payloads:
                    return None, False
                payload = self._payloads.popleft()
                more = bool(self._payloads)
        if failure is not None:
            if failure == "released":
                raise PartnerLostException(
                    f"the producer of {self._description} was released", self.result_id,
                    self.producer_subtask, self.consumer_subtask, "producer")
            raise RemoteChannelError(failure)
        if payload is _END_MARK:
            return END_OF_PARTITION, more
        if type(payload) is _Priority:  # sent without a credit: none goes back
            self._overtaken = payload.overtaken
            return loads_item(payload.payload), more
        if not self._end_received:
            self._unreturned += 1
            if self._unreturned >= self._credit_batch:
                self._return_credits()
        return loads_item(payload), more

    def _return_credits(self) -> None:
        self._unreturned = 0
        with self._send_lock:
            sock = self._sock
            if sock is None:
                return
            try:
                if self._tls_lock is None:
                    send_all(sock, self._credit_frame)
                else:
                    with self._tls_lock:
                        sock.sendall(self._credit_frame)
            except OSError as exc:
                # The receiver sees the broken connection too; make sure the task learns.
                if not self._end_received and not self._released.is_set():
                    self._fail(self._connection_lost(repr(exc)))

    def release(self) -> None:
        """Drops the queue and closes the connection (the producer's subpartition is then
        released by its server). Safe from any thread, any number of times."""
        self._released.set()
        with self._lock:  # poll() now returns (None, False), as a released Subpartition's
            self._payloads.clear()
            self._failure = None
        with self._send_lock:
            sock = self._sock
        if sock is not None:
            _shutdown(sock)
        receiver = self._receiver
        if receiver is not None and receiver is not threading.current_thread():
            receiver.join(_THREAD_JOIN_S)
        self._close_socket()

    def _close_socket(self) -> None:
        with self._send_lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def __len__(self) -> int:
        return len(self._payloads)

    def __repr__(self) -> str:
        return f"RemoteInputChannel({self._description})"

