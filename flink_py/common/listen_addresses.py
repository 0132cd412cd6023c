"""The addresses a server listens on: every address its bind host resolves to.

``localhost`` resolves to 127.0.0.1 and ::1: a server binds both on one port, or fails
naming the address it could not bind (a port taken on one of them must not leave a server
that listens only on the other). An address the machine does not have (IPv6 disabled while
/etc/hosts names ::1) is left out when another one was bound. Used by the RPC endpoints
(``flink_py.rpc.gateways``) and the REST endpoint (``flink_py.runtime.rest.server``).

Example::

    >>> target("::1", 6123), target("127.0.0.1", 6123)
    ('[::1]:6123', '127.0.0.1:6123')
"""

from __future__ import annotations

import errno
import socket
from typing import List, Optional, Tuple

from flink_py.errors import FlinkPyError

#: errors for which a resolved address is left out when another one was bound: the machine
#: has no such address or family
SKIPPABLE_ERRNOS = (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT)


def resolve(host: str, port: int, what: str) -> List[Tuple[int, str]]:
    """The distinct (family, address) pairs ``host`` names, in resolver order.

    :param what: the endpoint, for the error ("the RPC endpoint").
    :raises FlinkPyError: when ``host`` does not resolve.
    """
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FlinkPyError(f"Could not bind {what} to {host}:{port}: the host does not "
                           f"resolve ({exc})") from None
    return list(dict.fromkeys((family, sockaddr[0]) for family, _, _, _, sockaddr in infos))


def target(address: str, port: int) -> str:
    """``address:port``, with an IPv6 address in brackets."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def describe_bind_error(exc: Optional[OSError]) -> str:
    """Why a bind failed, in a few words."""
    if exc is None:
        return "gRPC could not bind it"
    if exc.errno == errno.EADDRINUSE:
        return "address in use"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "not an address of this machine"
    if exc.errno == errno.EACCES:
        return "permission denied (ports below 1024 need privileges)"
    return exc.strerror or str(exc)
