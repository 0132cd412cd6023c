"""Sends on the data plane's sockets that keep the GIL when they cannot block.

Python's socket methods release the GIL around each system call. In a slot process a task
thread runs Python nearly all the time, and a thread that released the GIL gets it back only
when the running one is made to drop it, after up to ``sys.getswitchinterval()`` (5 ms). A
task returning credits to its producer, or a data-stream thread sending a batch or a wake-up,
waited that long for a call of microseconds, and a keyed exchange between two slot processes
went at the pace of those waits.

So :func:`send_all` first sends without blocking and with the GIL held (``_socket_io.c``,
``MSG_DONTWAIT``); only what does not fit in the socket's buffer is left to ``sendall``,
which waits with the GIL released. Receives keep the socket's own method: a thread that
receives has been waiting anyway, and a large copy out of the kernel with the GIL released
runs beside the task thread (holding it measured no better). Without the compiled module
(``FLINK_PY_PURE_PYTHON``, or no compiler at install time), and for TLS sockets, ``sendall``
is used throughout.
"""

from __future__ import annotations

import socket
from typing import Any

from flink_py.common.compiled import load_compiled

__all__ = ["send_all"]

_compiled = load_compiled("flink_py.runtime.network._socket_io")
_PLAIN = socket.socket


def _send_all_compiled(sock: Any, data: bytes) -> None:
    """``sock.sendall(data)``; what fits in the socket's buffer is sent with the GIL held."""
    fd = sock.fileno() if type(sock) is _PLAIN else -1
    if fd >= 0:  # (-1 for a closed socket too: sendall raises as it should)
        sent = _send_nowait(fd, data)
        if sent == len(data):
            return
        if sent > 0:
            sock.sendall(memoryview(data)[sent:])
            return
    sock.sendall(data)


def _send_all_python(sock: Any, data: bytes) -> None:
    sock.sendall(data)


if _compiled is not None:
    _send_nowait = _compiled.send_nowait
    send_all = _send_all_compiled
else:
    send_all = _send_all_python
