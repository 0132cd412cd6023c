"""What the REST server checks in every request's headers before routing it: the ``Host``
(against DNS rebinding) and the ``Origin`` (no cross-site requests but from the origins in
``rest.cors.allowed-origins``), and the rate-limited log of refused requests.

DNS rebinding: a web page at ``evil.example`` makes its own name resolve to 127.0.0.1 and
then calls "its own" server, which is this one; the browser sends ``Host: evil.example``.
A server bound to loopback therefore answers only requests that name a loopback host.

Example::

    policy = RequestPolicy.from_configuration(configuration, "localhost", "http")
    policy.host_allowed("localhost:8081")                          # True
    policy.host_allowed("evil.example:8081")                       # False
    policy.origin_allowed("http://evil.example", "localhost:8081")  # False
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import FrozenSet, Iterable, List, Optional
from urllib.parse import urlsplit

from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration
from flink_py.errors import ConfigurationError
from flink_py.security.context import is_loopback

log = logging.getLogger(__name__)

#: Flink's old key, read as a deprecated alias of rest.cors.allowed-origins
DEPRECATED_CORS_KEY = "web.access-control-allow-origin"
_LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost", "ip6-loopback"})


def host_name(host_header: str) -> Optional[str]:
    """The lower-case host of a ``Host`` header (``[::1]:8081`` -> ``::1``), ``None`` if it
    is not one."""
    try:
        name = urlsplit("//" + host_header.strip()).hostname
    except ValueError:
        return None
    return name.rstrip(".") if name else None


def _ip(name: str) -> Optional[ipaddress._BaseAddress]:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def is_loopback_name(name: str) -> bool:
    """A name or address that means this machine's loopback (RFC 6761's ``*.localhost``
    included: browsers resolve those to loopback themselves)."""
    address = _ip(name)
    if address is not None:
        return address.is_loopback
    return name in _LOOPBACK_NAMES or name.endswith(".localhost")


def normalize_origin(origin: str) -> str:
    """``scheme://host[:port]`` in lower case without a trailing slash (as browsers send)."""
    return origin.strip().rstrip("/").lower()


def allowed_origins(configuration: Configuration) -> List[str]:
    """``rest.cors.allowed-origins``, plus the deprecated ``web.access-control-allow-origin``
    when it is set explicitly (the only place where ``*`` is accepted)."""
    origins = [normalize_origin(o) for o in configuration.get(options.REST_CORS_ALLOWED_ORIGINS)
               if str(o).strip()]
    if "*" in origins:
        raise ConfigurationError(
            f"{options.REST_CORS_ALLOWED_ORIGINS.key} contains '*': list the origins "
            f"(scheme://host:port) whose pages may call the REST API; any web page a user "
            f"opens could otherwise submit jobs through the user's browser.")
    deprecated = configuration.get_string(DEPRECATED_CORS_KEY)
    if deprecated:
        log.warning("%s is deprecated: use %s (a list of origins; '*' is not accepted "
                    "there).", DEPRECATED_CORS_KEY, options.REST_CORS_ALLOWED_ORIGINS.key)
        extra = [normalize_origin(o) for o in str(deprecated).split(",") if o.strip()]
        if "*" in extra:
            log.warning("%s: '*' lets the pages of every web site call this REST API from "
                        "a browser.", DEPRECATED_CORS_KEY)
        origins.extend(extra)
    return list(dict.fromkeys(origins))


def _this_machine_names() -> FrozenSet[str]:
    names = {socket.gethostname().lower()}
    try:
        names.add(socket.getfqdn().lower())
    except OSError as exc:  # a resolver failure only shrinks the set
        log.debug("could not resolve this machine's full name: %s", exc)
    return frozenset(n.rstrip(".") for n in names if n)


@dataclass(frozen=True)
class RequestPolicy:
    """The Host and Origin rules of one REST server.

    :param loopback_only: the server is bound to loopback addresses only.
    :param origins: the allowed origins (normalized); ``*`` allows every origin.
    :param host_names: the names accepted in ``Host`` when not bound to loopback.
    :param scheme: ``http`` or ``https``: with ``Host``, the server's own origin.
    """

    loopback_only: bool
    origins: FrozenSet[str]
    host_names: FrozenSet[str] = field(default_factory=frozenset)
    scheme: str = "http"

    @staticmethod
    def from_configuration(configuration: Configuration, bind_host: str,
                           scheme: str) -> "RequestPolicy":
        origins = frozenset(allowed_origins(configuration))
        names = set(_LOOPBACK_NAMES)
        if not is_loopback(bind_host):
            names |= _this_machine_names()
        names.add(str(configuration.get(options.REST_ADDRESS)).lower())
        names.add(bind_host.lower())
        for origin in origins:
            name = host_name(urlsplit(origin).netloc) if origin != "*" else None
            if name:
                names.add(name)
        return RequestPolicy(is_loopback(bind_host), origins, frozenset(names), scheme)

    def host_allowed(self, host_header: Optional[str]) -> bool:
        """Whether a request naming ``host_header`` is for this server (no ``Host``: not a
        browser's request, allowed)."""
        if host_header is None:
            return True
        name = host_name(host_header)
        if name is None:
            return False
        if self.loopback_only:
            return is_loopback_name(name)
        return _ip(name) is not None or name in self.host_names

    def origin_listed(self, origin: str) -> bool:
        """Whether ``origin`` is one ``rest.cors.allowed-origins`` lists."""
        return "*" in self.origins or normalize_origin(origin) in self.origins

    def origin_allowed(self, origin: Optional[str], host_header: Optional[str]) -> bool:
        """No ``Origin``, a listed one, or the server's own (``scheme://Host``)."""
        if origin is None:
            return True
        if self.origin_listed(origin):
            return True
        return host_header is not None and \
            normalize_origin(origin) == normalize_origin(f"{self.scheme}://{host_header}")

    def allow_origin_header(self, origin: Optional[str]) -> Optional[str]:
        """The ``Access-Control-Allow-Origin`` value for ``origin``, if any."""
        if origin is None or not self.origins:
            return None
        if "*" in self.origins:
            return "*"
        return origin if normalize_origin(origin) in self.origins else None


class RefusalLog:
    """Logs refused requests at WARNING, at most ``per_second`` lines a second; what is
    suppressed is counted and reported with the next line (or by :meth:`flush`)."""

    def __init__(self, logger: logging.Logger, per_second: float = 5.0) -> None:
        self._log = logger
        self._per_second = per_second
        self._allowance = per_second
        self._last = time.monotonic()
        self._suppressed = 0
        self._lock = threading.Lock()

    def refused(self, peer: str, method: str, path: str, status: int, reason: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._allowance = min(self._per_second,
                                  self._allowance + (now - self._last) * self._per_second)
            self._last = now
            if self._allowance < 1.0:
                self._suppressed += 1
                return
            self._allowance -= 1.0
            suppressed, self._suppressed = self._suppressed, 0
        self._log.warning("Refused REST request from %s: %s %s -> %d %s%s", peer, method,
                          path, status, reason,
                          f" ({suppressed} more refusals not logged)" if suppressed else "")

    @property
    def suppressed(self) -> int:
        return self._suppressed

    def flush(self) -> None:
        """Logs the count of refusals not logged yet, if any."""
        with self._lock:
            suppressed, self._suppressed = self._suppressed, 0
        if suppressed:
            self._log.warning("%d more refused REST requests were not logged.", suppressed)


def origins_of(values: Iterable[str]) -> FrozenSet[str]:
    """Normalized origins (tests and callers building a policy by hand)."""
    return frozenset(normalize_origin(v) for v in values)
