"""SecurityContext: how this process authenticates internal traffic, resolved once.

A daemon (JobManager, TaskManager, slot worker) builds its context from its configuration
at start and installs it; the gRPC servers and channels (``flink_py.rpc.gateways``) and the
data plane (``flink_py.runtime.network.remote``) read :func:`current` when they open. There
is no unauthenticated default: a server that opens before any context was installed raises
:class:`SecurityNotConfiguredError`. Turning authentication off is a setting
(``security.internal.authentication.enabled: false``), logged as a warning, and refused for
non-loopback addresses unless TLS is on.

Example::

    context = SecurityContext.from_configuration(configuration, conf_dir, create_secret=True)
    install(context)
    context.check_bind_address("jobmanager.bind-host", "0.0.0.0")  # raises when open
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from dataclasses import dataclass
from typing import Optional

from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration
from flink_py.errors import ConfigurationError, FlinkPyError
from flink_py.security.cluster_secret import (
    ClusterSecret, create_secret_file, default_secret_file, find_cluster_secret,
    missing_secret_message)
from flink_py.security.tls import TlsFiles

log = logging.getLogger(__name__)


class SecurityNotConfiguredError(FlinkPyError):
    """A server or channel was opened before this process installed a SecurityContext."""


@dataclass(frozen=True)
class SecurityContext:
    """What internal traffic of this process uses: the cluster secret (``None`` when
    authentication is off) and the internal TLS files (``None`` when TLS is off)."""

    secret: Optional[ClusterSecret]
    tls: Optional[TlsFiles]

    @property
    def authenticated(self) -> bool:
        """Whether peers must prove something (the secret or a certificate)."""
        return self.secret is not None or self.tls is not None

    @staticmethod
    def from_configuration(configuration: Configuration, conf_dir: Optional[str] = None,
                           create_secret: bool = False) -> "SecurityContext":
        """Resolves the secret and TLS files of ``configuration``.

        :param conf_dir: the configuration directory (for its ``.cluster-secret``).
        :param create_secret: create the conf dir's secret file when no secret is found
                              (the JobManager does; TaskManagers must find the same one).
        :raises ConfigurationError: when authentication is on and there is no secret, or a
                                    secret or TLS file is unusable.
        """
        tls = TlsFiles.internal(configuration)
        if not configuration.get(options.SECURITY_INTERNAL_AUTHENTICATION_ENABLED):
            log.warning("%s is false: internal RPC and data connections are not "
                        "authenticated%s.", options.SECURITY_INTERNAL_AUTHENTICATION_ENABLED.key,
                        " (only by TLS certificates)" if tls else "; anyone who reaches the "
                        "cluster's ports can run code as this user")
            return SecurityContext(None, tls)
        secret = find_cluster_secret(configuration, conf_dir)
        if secret is None and create_secret:
            path = default_secret_file(conf_dir)
            if path is not None:
                secret = create_secret_file(path)
                log.info("Created the cluster secret file %s", path)
        if secret is None:
            raise ConfigurationError(missing_secret_message(conf_dir))
        return SecurityContext(secret, tls)

    @staticmethod
    def for_tests(secret: bytes = b"flink_py test cluster secret 0123456789") -> "SecurityContext":
        """A context with a fixed secret and no TLS, for in-process tests."""
        return SecurityContext(ClusterSecret(secret, "<test>"), None)

    def check_bind_address(self, key: str, host: str) -> None:
        """Refuses to listen on a non-loopback ``host`` with nothing authenticating peers."""
        if self.authenticated or is_loopback(host):
            return
        raise ConfigurationError(
            f"{key} is {host!r}, which is reachable from other machines, and internal traffic "
            f"is not authenticated ({options.SECURITY_INTERNAL_AUTHENTICATION_ENABLED.key}: "
            f"false, {options.SSL_INTERNAL_ENABLED.key}: false). Bind to localhost, or set "
            f"{options.SECURITY_INTERNAL_AUTHENTICATION_ENABLED.key}: true (the default) or "
            f"{options.SSL_INTERNAL_ENABLED.key}: true.")


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is a loopback address (unresolvable: no)."""
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


_lock = threading.Lock()
_current: Optional[SecurityContext] = None


def install(context: SecurityContext) -> None:
    """Makes ``context`` the one this process's servers and channels use."""
    global _current
    with _lock:
        _current = context


def current() -> SecurityContext:
    """The installed context.

    :raises SecurityNotConfiguredError: when none was installed (a bug: every daemon's main
                                        installs one before it opens a port).
    """
    context = _current
    if context is None:
        raise SecurityNotConfiguredError(
            "No SecurityContext is installed in this process: call "
            "flink_py.security.context.install(SecurityContext.from_configuration(...)) before "
            "opening an RPC or data port.")
    return context


def uninstall() -> None:
    """Forgets the installed context (tests)."""
    global _current
    with _lock:
        _current = None
