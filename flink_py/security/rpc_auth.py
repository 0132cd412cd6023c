"""Authenticated gRPC: every call proves the cluster secret before its handler runs, and every
answer proves it back before the caller reads it.

The caller adds the metadata entry ::

    x-flink-py-auth: v1:<ts_ms>:<nonce hex>:<hex HMAC-SHA256 of (b"rpc", method, ts, nonce)>

(``method`` is the full gRPC method name, ``/flink_py.rpc.JobMasterGateway/SendCollectBatch``;
``ts`` its decimal milliseconds since the epoch; ``nonce`` 16 random bytes.) The server
checks it in :class:`AuthServerInterceptor`, before gRPC hands the request to the servicer,
so nothing in a refused request is parsed, let alone unpickled: the refusing handler takes the
raw bytes and aborts with ``UNAUTHENTICATED``. Accepted are timestamps within
:data:`MAX_CLOCK_SKEW_S` of the server's clock whose nonce was not seen before; only verified
nonces are remembered (:class:`NonceCache`), so an outsider cannot fill the cache, and it
forgets a nonce once its timestamp falls out of the window (the skew check refuses it then).

The answer carries the initial metadata entry ``x-flink-py-auth-reply: <hex HMAC of
(b"reply", method, nonce)>``; :class:`AuthClientInterceptor` refuses an answer without a valid
one (a server that does not know the secret) with an :class:`RpcAuthenticationError`, before
our gateways unpickle any bytes field of it. The MACs authenticate the peers, not the bodies:
integrity and secrecy of what travels need TLS (``security.ssl.internal.enabled``).

Refusals are logged at WARNING with the peer, the method and the reason, one line per peer
host and reason per :data:`REFUSAL_LOG_PERIOD_S` (the next line counts the ones left out).

Example::

    >>> from flink_py.security.cluster_secret import ClusterSecret
    >>> secret = ClusterSecret(b"0123456789abcdef0123456789abcdef")
    >>> authenticator = RpcAuthenticator(secret)
    >>> header = authenticator.credential("/flink_py.X/Y", now_ms=1_000_000)
    >>> authenticator.check("/flink_py.X/Y", header, now_ms=1_000_500).reason
    >>> authenticator.check("/flink_py.X/Y", header, now_ms=1_000_600).reason
    'replayed credential (its nonce was used before)'
"""

from __future__ import annotations

import heapq
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import grpc

from flink_py.security.cluster_secret import ClusterSecret

log = logging.getLogger(__name__)

#: the metadata key of a call's credential (gRPC metadata keys are lower case)
AUTH_METADATA_KEY = "x-flink-py-auth"
#: the metadata key of the server's proof in its answer
REPLY_METADATA_KEY = "x-flink-py-auth-reply"
_VERSION = "v1"
#: how far a call's timestamp may be from the server's clock
MAX_CLOCK_SKEW_S = 300.0
#: at most this many nonces are remembered (see NonceCache: a full cache narrows the window)
MAX_NONCES = 65536
_NONCE_BYTES = 16
#: one log line per peer host and reason per this period
REFUSAL_LOG_PERIOD_S = 10.0
_MAX_LOGGED_PEERS = 1024


class RpcAuthenticationError(grpc.RpcError):
    """A peer failed to prove the cluster secret: a ``grpc.RpcError`` with the code
    ``UNAUTHENTICATED``, so callers handle it like any failed call."""

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self._details = details

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAUTHENTICATED

    def details(self) -> str:
        return self._details

    def __str__(self) -> str:
        return self._details


@dataclass(frozen=True)
class CheckResult:
    """What :meth:`RpcAuthenticator.check` found: ``reason`` is ``None`` when the credential
    is valid; ``nonce`` is the verified nonce (for the reply)."""

    reason: Optional[str]
    nonce: bytes = b""


class NonceCache:
    """The verified nonces of the last clock-skew window, bounded.

    Entries expire when their timestamp leaves the window. When :data:`MAX_NONCES` fresh
    entries are held, the oldest is dropped and its timestamp becomes a floor: a credential
    at or below it is refused, since it could no longer be told from a replay (legitimate
    calls carry the current time, far above that floor).
    """

    def __init__(self, max_entries: int = MAX_NONCES,
                 window_ms: int = int(MAX_CLOCK_SKEW_S * 1000)) -> None:
        self.max_entries = max_entries
        self.window_ms = window_ms
        self._seen: Dict[bytes, int] = {}
        self._by_time: List[Tuple[int, bytes]] = []
        self._floor_ms = -1
        self._lock = threading.Lock()

    def add(self, nonce: bytes, ts_ms: int, now_ms: int) -> Optional[str]:
        """Remembers ``nonce``; returns why it is refused (seen, or below the floor) or
        ``None``."""
        with self._lock:
            self._expire(now_ms)
            if nonce in self._seen:
                return "replayed credential (its nonce was used before)"
            if ts_ms <= self._floor_ms:
                return "credential too old to be told from a replay (busy nonce cache)"
            while len(self._seen) >= self.max_entries:
                old_ts, old_nonce = heapq.heappop(self._by_time)
                del self._seen[old_nonce]
                self._floor_ms = max(self._floor_ms, old_ts)
            self._seen[nonce] = ts_ms
            heapq.heappush(self._by_time, (ts_ms, nonce))
            return None

    def _expire(self, now_ms: int) -> None:
        horizon = now_ms - self.window_ms
        while self._by_time and self._by_time[0][0] < horizon:
            _, nonce = heapq.heappop(self._by_time)
            del self._seen[nonce]

    def __len__(self) -> int:
        return len(self._seen)


class RpcAuthenticator:
    """Makes and checks credentials and reply proofs with one cluster secret (no I/O: the
    interceptors below carry them over gRPC)."""

    def __init__(self, secret: ClusterSecret, max_skew_s: float = MAX_CLOCK_SKEW_S,
                 nonces: Optional[NonceCache] = None) -> None:
        self.secret = secret
        self.max_skew_ms = int(max_skew_s * 1000)
        self.nonces = nonces if nonces is not None else NonceCache(
            window_ms=self.max_skew_ms)

    def credential(self, method: str, now_ms: Optional[int] = None,
                   nonce: Optional[bytes] = None) -> str:
        """The ``x-flink-py-auth`` value for one call of ``method``."""
        ts = str(int(time.time() * 1000) if now_ms is None else now_ms)
        nonce = secrets.token_bytes(_NONCE_BYTES) if nonce is None else nonce
        mac = self.secret.sign(b"rpc", method.encode(), ts.encode(), nonce)
        return f"{_VERSION}:{ts}:{nonce.hex()}:{mac.hex()}"

    def check(self, method: str, header: Optional[str],
              now_ms: Optional[int] = None) -> CheckResult:
        """Verifies a call's credential; a valid one's nonce is remembered (replays fail)."""
        if header is None:
            return CheckResult("no credential (the caller does not use the cluster secret)")
        parts = header.split(":")
        if len(parts) != 4 or parts[0] != _VERSION or not parts[1].isdigit():
            return CheckResult("malformed credential")
        try:
            nonce = bytes.fromhex(parts[2])
            mac = bytes.fromhex(parts[3])
        except ValueError:
            return CheckResult("malformed credential")
        if len(nonce) != _NONCE_BYTES:
            return CheckResult("malformed credential")
        if not self.secret.verify(mac, b"rpc", method.encode(), parts[1].encode(), nonce):
            return CheckResult("wrong credential (not made with this cluster's secret)")
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        ts_ms = int(parts[1])
        if abs(now_ms - ts_ms) > self.max_skew_ms:
            return CheckResult(f"credential timestamp {(ts_ms - now_ms) / 1000:+.0f} s from "
                               f"this clock, beyond the allowed {self.max_skew_ms / 1000:.0f} s")
        refused = self.nonces.add(nonce, ts_ms, now_ms)
        return CheckResult(refused, nonce)

    def reply(self, method: str, nonce: bytes) -> str:
        """The ``x-flink-py-auth-reply`` value answering the call with ``nonce``."""
        return self.secret.sign(b"reply", method.encode(), nonce).hex()

    def check_reply(self, method: str, nonce: bytes, value: Optional[str]) -> bool:
        if value is None:
            return False
        try:
            mac = bytes.fromhex(value)
        except ValueError:
            return False
        return self.secret.verify(mac, b"reply", method.encode(), nonce)


def _metadata_value(metadata: Optional[Sequence[Any]], key: str) -> Optional[str]:
    for entry in metadata or ():
        k, v = (entry.key, entry.value) if hasattr(entry, "key") else entry
        if k == key:
            return v.decode("ascii", "replace") if isinstance(v, bytes) else v
    return None


class RefusalLog:
    """Logs refused calls at WARNING, one line per (peer host, reason) and period, with the
    count of the refusals left out since the last line."""

    def __init__(self, period_s: float = REFUSAL_LOG_PERIOD_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.period_s = period_s
        self._clock = clock
        self._lock = threading.Lock()
        #: (host, reason) -> (when last logged, refusals not logged since)
        self._entries: Dict[Tuple[str, str], Tuple[float, int]] = {}

    def refused(self, peer: str, method: str, reason: str) -> None:
        host = _peer_host(peer)
        now = self._clock()
        with self._lock:
            last, suppressed = self._entries.get((host, reason), (None, 0))
            if last is not None and now - last < self.period_s:
                self._entries[(host, reason)] = (last, suppressed + 1)
                return
            if len(self._entries) >= _MAX_LOGGED_PEERS:  # an outsider varying addresses
                self._entries = {k: v for k, v in self._entries.items()
                                 if now - v[0] < self.period_s}
            self._entries[(host, reason)] = (now, 0)
        more = (f" ({suppressed} more refused calls from this peer for this reason in the "
                f"last period)" if suppressed else "")
        log.warning("Refused the RPC %s from %s: %s%s", method, peer, reason, more)


def _peer_host(peer: str) -> str:
    """``ipv4:127.0.0.1:5432`` -> ``ipv4:127.0.0.1`` (the port changes per connection)."""
    head, sep, tail = peer.rpartition(":")
    return head if sep and tail.isdigit() else peer


class AuthServerInterceptor(grpc.ServerInterceptor):
    """Refuses calls without a valid credential before their handler (and its request
    deserializer) runs; answers accepted calls with the reply proof."""

    def __init__(self, authenticator: RpcAuthenticator,
                 refusals: Optional[RefusalLog] = None) -> None:
        self.authenticator = authenticator
        self.refusals = refusals if refusals is not None else RefusalLog()

    def intercept_service(self, continuation: Callable[[Any], Any],
                          handler_call_details: Any) -> Any:
        method = handler_call_details.method
        result = self.authenticator.check(
            method, _metadata_value(handler_call_details.invocation_metadata,
                                    AUTH_METADATA_KEY))
        if result.reason is not None:
            return self._refusing_handler(method, result.reason)
        handler = continuation(handler_call_details)
        if handler is None:
            return None  # unknown method: gRPC answers UNIMPLEMENTED
        if handler.unary_unary is None:
            # every method of proto/cluster.proto is unary-unary; a streaming one added
            # later must get its reply proof here before it is served
            raise NotImplementedError(f"{method}: only unary-unary RPCs are authenticated")
        reply = ((REPLY_METADATA_KEY, self.authenticator.reply(method, result.nonce)),)
        behavior = handler.unary_unary

        def proven(request: Any, context: grpc.ServicerContext) -> Any:
            context.send_initial_metadata(reply)
            return behavior(request, context)

        return grpc.unary_unary_rpc_method_handler(
            proven, request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer)

    def _refusing_handler(self, method: str, reason: str) -> Any:
        def refuse(request: bytes, context: grpc.ServicerContext) -> Any:
            self.refusals.refused(context.peer(), method, reason)
            context.abort(grpc.StatusCode.UNAUTHENTICATED,
                          f"{method} refused: {reason}")

        # no request_deserializer: the refused request stays raw bytes, never parsed
        return grpc.unary_unary_rpc_method_handler(refuse)


class _ClientCallDetails(grpc.ClientCallDetails):
    def __init__(self, details: Any, metadata: List[Tuple[str, str]]) -> None:
        self.method = details.method
        self.timeout = details.timeout
        self.metadata = metadata
        self.credentials = details.credentials
        self.wait_for_ready = getattr(details, "wait_for_ready", None)
        self.compression = getattr(details, "compression", None)


class AuthClientInterceptor(grpc.UnaryUnaryClientInterceptor):
    """Adds a fresh credential to every call and refuses an answer that does not prove the
    secret (:class:`RpcAuthenticationError`), before the caller reads it."""

    def __init__(self, authenticator: RpcAuthenticator) -> None:
        self.authenticator = authenticator

    def intercept_unary_unary(self, continuation: Callable[[Any, Any], Any],
                              client_call_details: Any, request: Any) -> Any:
        method = client_call_details.method
        if isinstance(method, bytes):
            method = method.decode()
        nonce = secrets.token_bytes(_NONCE_BYTES)
        metadata = list(client_call_details.metadata or ())
        metadata.append((AUTH_METADATA_KEY, self.authenticator.credential(method, nonce=nonce)))
        outcome = continuation(_ClientCallDetails(client_call_details, metadata), request)
        if outcome.exception() is not None:
            return outcome  # the call failed: an error status carries no pickled bytes
        proof = _metadata_value(outcome.initial_metadata(), REPLY_METADATA_KEY)
        if not self.authenticator.check_reply(method, nonce, proof):
            reason = "no proof" if proof is None else "a wrong proof"
            log.warning("Refused the answer to %s: it carries %s of the cluster secret (the "
                        "server is not a member of this cluster)", method, reason)
            raise RpcAuthenticationError(
                f"the answer to {method} carries {reason} of the cluster secret: the server "
                f"is not a member of this cluster (or uses another secret)")
        return outcome


def server_interceptors(secret: Optional[ClusterSecret]) -> List[grpc.ServerInterceptor]:
    """The interceptors a server installs: none when authentication is off."""
    return [] if secret is None else [AuthServerInterceptor(RpcAuthenticator(secret))]


def client_interceptors(secret: Optional[ClusterSecret]) -> List[Any]:
    """The interceptors a channel installs: none when authentication is off."""
    return [] if secret is None else [AuthClientInterceptor(RpcAuthenticator(secret))]
