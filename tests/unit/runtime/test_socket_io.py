"""``socket_io.send_all``: ``sendall``'s outcome, with what fits sent while keeping the GIL.

Both implementations (the compiled one, and the plain ``sendall`` used without it or for TLS
sockets) deliver every byte in order, including data far larger than the socket's buffer (the
non-blocking part sends some, ``sendall`` the rest while the reader drains), and fail as
``sendall`` fails on a closed socket or a peer that went away.
"""

from __future__ import annotations

import socket
import threading
from typing import Callable, List

import pytest

from flink_py.runtime.network import socket_io

pytestmark = pytest.mark.timeout(30)

IMPLEMENTATIONS: List[Callable] = [socket_io._send_all_python]
if socket_io._compiled is not None:
    IMPLEMENTATIONS.append(socket_io._send_all_compiled)


def _receive_all(sock: socket.socket, into: bytearray) -> None:
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return
        into += chunk


@pytest.mark.parametrize("send_all", IMPLEMENTATIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("size", [1, 9, 70_000, 8_000_000])
def test_every_byte_arrives_in_order(send_all, size):
    sender, receiver = socket.socketpair()
    received = bytearray()
    reader = threading.Thread(target=_receive_all, args=(receiver, received))
    reader.start()
    data = bytes(i % 251 for i in range(size))
    try:
        send_all(sender, data)
        send_all(sender, b"end")
    finally:
        sender.close()
        reader.join(20)
        receiver.close()
    assert not reader.is_alive()
    assert bytes(received) == data + b"end"


@pytest.mark.parametrize("send_all", IMPLEMENTATIONS, ids=lambda f: f.__name__)
def test_a_closed_socket_raises_as_sendall_does(send_all):
    sender, receiver = socket.socketpair()
    sender.close()
    receiver.close()
    with pytest.raises(OSError):
        send_all(sender, b"x")


@pytest.mark.parametrize("send_all", IMPLEMENTATIONS, ids=lambda f: f.__name__)
def test_a_peer_that_went_away_raises_an_os_error(send_all):
    sender, receiver = socket.socketpair()
    receiver.close()
    try:
        with pytest.raises(OSError) as raised:
            send_all(sender, b"credits")
        assert isinstance(raised.value, (BrokenPipeError, ConnectionResetError))
    finally:
        sender.close()


@pytest.mark.skipif(socket_io._compiled is None, reason="the compiled module was not built")
def test_send_nowait_never_blocks_and_says_when_nothing_fits():
    sender, receiver = socket.socketpair()
    try:
        # a blocking socket: only MSG_DONTWAIT keeps the call from waiting for the reader
        assert sender.getblocking()
        chunk = b"\0" * 65536
        sent = []
        while True:
            n = socket_io._compiled.send_nowait(sender.fileno(), chunk)
            if n == -1:
                break
            assert 0 < n <= len(chunk)
            sent.append(n)
        assert sum(sent) > 0
        # what was accepted is what the reader gets
        receiver.setblocking(False)
        got = 0
        while True:
            try:
                got += len(receiver.recv(1 << 20))
            except BlockingIOError:
                break
        assert got == sum(sent)
    finally:
        sender.close()
        receiver.close()


@pytest.mark.skipif(socket_io._compiled is None, reason="the compiled module was not built")
def test_bad_descriptors_are_refused_with_the_value():
    with pytest.raises(ValueError, match="-3"):
        socket_io._compiled.send_nowait(-3, b"x")
    with pytest.raises(TypeError):
        socket_io._compiled.send_nowait(0)
