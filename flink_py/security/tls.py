"""TLS material from the configuration: PEM files for internal traffic and for REST.

Internal TLS is mutual (Flink's ``security.ssl.internal.*``, with PEM files in place of
Java keystores): every process presents ``security.ssl.internal.cert``/``.key`` and accepts
only peers whose certificate ``security.ssl.internal.ca`` signed. REST TLS
(``security.ssl.rest.*``) is server-side; clients verify against ``security.ssl.rest.ca``.

Example::

    tls = TlsFiles.internal(configuration)        # None when TLS is off
    server_context = tls.server_context()         # ssl.SSLContext, client certs required
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from typing import Optional

from flink_py.common import config_options as options
from flink_py.common.configuration import ConfigOption, Configuration
from flink_py.errors import ConfigurationError


def _required_file(configuration: Configuration, option: ConfigOption, enabled_by: str) -> str:
    path = configuration.get(option)
    if not path:
        raise ConfigurationError(f"{enabled_by} is true, but {option.key} is not set: set it "
                                 f"to a PEM file.")
    if not os.path.isfile(path):
        raise ConfigurationError(f"{option.key} names {path!r}, which is not a file.")
    return path


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


@dataclass(frozen=True)
class TlsFiles:
    """The PEM files of one TLS setting: this side's certificate and key, and the CA."""

    cert: str
    key: str
    ca: Optional[str]
    #: whether peers must present a certificate the CA signed (mutual TLS)
    mutual: bool

    @staticmethod
    def internal(configuration: Configuration) -> Optional["TlsFiles"]:
        """``security.ssl.internal.*``, or ``None`` when it is not enabled."""
        if not configuration.get(options.SSL_INTERNAL_ENABLED):
            return None
        enabled_by = options.SSL_INTERNAL_ENABLED.key
        return TlsFiles(_required_file(configuration, options.SSL_INTERNAL_CERT, enabled_by),
                        _required_file(configuration, options.SSL_INTERNAL_KEY, enabled_by),
                        _required_file(configuration, options.SSL_INTERNAL_CA, enabled_by),
                        mutual=True)

    @staticmethod
    def rest(configuration: Configuration) -> Optional["TlsFiles"]:
        """``security.ssl.rest.*`` as the REST server needs it, or ``None`` when off."""
        if not configuration.get(options.SSL_REST_ENABLED):
            return None
        enabled_by = options.SSL_REST_ENABLED.key
        ca = configuration.get(options.SSL_REST_CA)
        return TlsFiles(_required_file(configuration, options.SSL_REST_CERT, enabled_by),
                        _required_file(configuration, options.SSL_REST_KEY, enabled_by),
                        ca or None, mutual=False)

    def read_cert(self) -> bytes:
        return _read(self.cert)

    def read_key(self) -> bytes:
        return _read(self.key)

    def read_ca(self) -> Optional[bytes]:
        return _read(self.ca) if self.ca else None

    def server_context(self) -> ssl.SSLContext:
        """A server-side context; with :attr:`mutual`, clients must present a certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(self.cert, self.key)
            if self.mutual:
                context.verify_mode = ssl.CERT_REQUIRED
                context.load_verify_locations(cafile=self.ca)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigurationError(f"Cannot use the TLS files {self.cert}, {self.key}, "
                                     f"{self.ca}: {exc}") from None
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client-side context that verifies the server against the CA (and presents this
        side's certificate when :attr:`mutual`). Internal peers are verified by the CA alone,
        not by host name, as Flink's internal SSL does: every member holds a certificate of
        the cluster's CA, whatever address it is reached at."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            if self.ca:
                context.load_verify_locations(cafile=self.ca)
            else:
                context.load_default_certs()
            if self.mutual:
                context.check_hostname = False
                context.load_cert_chain(self.cert, self.key)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigurationError(f"Cannot use the TLS files {self.cert}, {self.key}, "
                                     f"{self.ca}: {exc}") from None
        context.verify_mode = ssl.CERT_REQUIRED
        return context
