"""The REST API's credential: one bearer token, resolved the same way by the server and the
client, so that ``flink run`` needs no extra step once the cluster secret is in place.

The token is ``rest.authentication.token`` when set, else the one derived from the cluster
secret (:meth:`ClusterSecret.rest_token`; the secret itself never travels).

Example::

    secret = find_cluster_secret(configuration, conf_dir)
    token = rest_token(configuration, secret)            # None: no credential at all
    headers = {"Authorization": f"Bearer {token}"}
"""

from __future__ import annotations

import hmac
import ssl
from typing import Optional

from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration
from flink_py.errors import ConfigurationError
from flink_py.security.cluster_secret import ClusterSecret, SECRET_FILE_NAME

_BEARER = "bearer "


def rest_token(configuration: Configuration, secret: Optional[ClusterSecret]) -> Optional[str]:
    """``rest.authentication.token`` if set, else ``secret.rest_token()``, else ``None``."""
    token = configuration.get(options.REST_AUTHENTICATION_TOKEN)
    if token:
        return str(token)
    return secret.rest_token() if secret is not None else None


def rest_token_source(configuration: Configuration, secret: Optional[ClusterSecret]) -> str:
    """Where :func:`rest_token` took the token from, for messages (never the value)."""
    if configuration.get(options.REST_AUTHENTICATION_TOKEN):
        return options.REST_AUTHENTICATION_TOKEN.key
    if secret is not None:
        return f"the cluster secret from {secret.source}"
    return "nowhere"


def credential_help(configuration: Configuration, secret: Optional[ClusterSecret]) -> str:
    """One sentence: where the CLI's REST credential comes from, and what it used."""
    return (f"The credential is {options.REST_AUTHENTICATION_TOKEN.key} if set, else derived "
            f"from the cluster secret (the conf dir's {SECRET_FILE_NAME}, "
            f"{options.SECURITY_CLUSTER_SECRET_FILE.key} or "
            f"{options.SECURITY_CLUSTER_SECRET.key}) of the cluster; this client's came from "
            f"{rest_token_source(configuration, secret)}.")


def bearer_token_matches(expected: str, authorization: Optional[str]) -> bool:
    """Whether an ``Authorization`` header value is ``Bearer <expected>`` (the comparison of
    the token takes the same time wherever it differs)."""
    if not authorization or not authorization[:len(_BEARER)].lower() == _BEARER:
        return False
    offered = authorization[len(_BEARER):].strip().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(offered, expected.encode("utf-8"))


def rest_client_ssl_context(configuration: Configuration) -> Optional[ssl.SSLContext]:
    """The context a REST client verifies the endpoint with (``security.ssl.rest.ca``, else
    the system's CAs), or ``None`` when ``security.ssl.rest.enabled`` is false."""
    if not configuration.get(options.SSL_REST_ENABLED):
        return None
    ca = configuration.get(options.SSL_REST_CA) or None
    try:
        context = ssl.create_default_context(cafile=ca)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigurationError(f"{options.SSL_REST_CA.key} names {ca!r}, which is not a "
                                 f"usable PEM CA file: {exc}") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
