"""The cluster secret: what every member of one cluster knows and an outsider does not.

Every internal RPC and data connection proves knowledge of it with an HMAC-SHA256 (see
``flink_py.security.rpc_auth`` and the data plane's handshake) before anything it sent is
deserialized. REST write requests carry a bearer token derived from it (:meth:`rest_token`),
so the token a client sends over plain HTTP never reveals the secret itself.

Where a process finds it, first match wins:

1. ``security.cluster-secret`` (the value itself);
2. ``security.cluster-secret.file`` (a file holding it);
3. the environment variable ``FLINK_PY_CLUSTER_SECRET``: how a TaskManager hands its secret
   to the slot workers it starts (never on a command line, which ``ps`` shows to everyone);
4. ``.cluster-secret`` in the configuration directory, which ``bin/start-cluster.sh``
   creates (mode 0600) when none of the above is configured::

       python -m flink_py.security.cluster_secret ensure conf/

A secret file readable by group or others is refused, as ssh refuses such a key.

Example::

    >>> secret = ClusterSecret(b"0123456789abcdef0123456789abcdef")
    >>> secret.verify(secret.sign(b"call", b"nonce"), b"call", b"nonce")
    True
    >>> secret.verify(secret.sign(b"call", b"nonce"), b"other", b"nonce")
    False
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import sys
from typing import Mapping, Optional, Sequence

from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration
from flink_py.errors import ConfigurationError

#: the file in the configuration directory that holds a generated secret
SECRET_FILE_NAME = ".cluster-secret"
#: how a TaskManager hands the secret to its slot workers
SECRET_ENV_VAR = "FLINK_PY_CLUSTER_SECRET"
#: a secret shorter than this is refused: it could be guessed
MIN_SECRET_BYTES = 16
_GENERATED_BYTES = 32


class ClusterSecret:
    """A cluster's shared secret, and the MACs made with it.

    :param key: the secret's bytes (at least :data:`MIN_SECRET_BYTES`).
    :param source: where it came from, for messages (never the value).
    """

    __slots__ = ("_key", "source")

    def __init__(self, key: bytes, source: str = "<given>") -> None:
        if len(key) < MIN_SECRET_BYTES:
            raise ConfigurationError(
                f"The cluster secret from {source} has {len(key)} bytes; at least "
                f"{MIN_SECRET_BYTES} are needed (bin/start-cluster.sh generates one).")
        self._key = key
        self.source = source

    def sign(self, *parts: bytes) -> bytes:
        """HMAC-SHA256 of ``parts`` (each length-prefixed, so that no two different part
        lists give the same message)."""
        mac = hmac.new(self._key, digestmod=hashlib.sha256)
        for part in parts:
            mac.update(len(part).to_bytes(4, "big"))
            mac.update(part)
        return mac.digest()

    def verify(self, signature: bytes, *parts: bytes) -> bool:
        """Whether ``signature`` is :meth:`sign` of ``parts`` (in constant time)."""
        return hmac.compare_digest(signature, self.sign(*parts))

    def rest_token(self) -> str:
        """The REST bearer token derived from this secret (64 hex digits)."""
        return self.sign(b"flink_py rest token v1").hex()

    def environment(self) -> Mapping[str, str]:
        """The environment entry that hands this secret to a child process."""
        return {SECRET_ENV_VAR: self._key.decode("utf-8", "surrogateescape")}

    def __repr__(self) -> str:  # never the value
        return f"ClusterSecret(from {self.source})"


def default_secret_file(conf_dir: Optional[str]) -> Optional[str]:
    """``<conf_dir>/.cluster-secret``, or ``None`` without a configuration directory."""
    if not conf_dir:
        conf_dir = os.environ.get("FLINK_CONF_DIR")
    return os.path.join(conf_dir, SECRET_FILE_NAME) if conf_dir else None


def read_secret_file(path: str) -> ClusterSecret:
    """Reads a secret file; refuses one that group or others can read."""
    try:
        mode = os.stat(path).st_mode
        with open(path, "rb") as f:
            key = f.read().strip()
    except OSError as exc:
        raise ConfigurationError(f"Cannot read the cluster secret file {path}: "
                                 f"{exc.strerror or exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"The cluster secret file {path} is accessible by others (mode "
            f"{stat.S_IMODE(mode):04o}); it must be readable by its owner only: "
            f"chmod 600 {path}")
    return ClusterSecret(key, path)


def create_secret_file(path: str) -> ClusterSecret:
    """Writes a new random secret to ``path`` (mode 0600) unless the file exists; returns
    the secret the file holds either way."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_secret_file(path)
    except OSError as exc:
        raise ConfigurationError(f"Cannot create the cluster secret file {path}: "
                                 f"{exc.strerror or exc}") from None
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(_GENERATED_BYTES) + "\n")
    return read_secret_file(path)


def find_cluster_secret(configuration: Configuration, conf_dir: Optional[str] = None,
                        environ: Optional[Mapping[str, str]] = None
                        ) -> Optional[ClusterSecret]:
    """The secret this process is configured with (see the module docstring), or ``None``
    when there is none anywhere."""
    value = configuration.get(options.SECURITY_CLUSTER_SECRET)
    if value:
        return ClusterSecret(value.encode("utf-8"), options.SECURITY_CLUSTER_SECRET.key)
    path = configuration.get(options.SECURITY_CLUSTER_SECRET_FILE)
    if path:
        return read_secret_file(path)
    environ = os.environ if environ is None else environ
    if environ.get(SECRET_ENV_VAR):
        return ClusterSecret(environ[SECRET_ENV_VAR].encode("utf-8", "surrogateescape"),
                             f"${SECRET_ENV_VAR}")
    default = default_secret_file(conf_dir)
    if default is not None and os.path.exists(default):
        return read_secret_file(default)
    return None


def missing_secret_message(conf_dir: Optional[str]) -> str:
    """What to do when a daemon needs the secret and finds none."""
    where = default_secret_file(conf_dir) or "<conf dir>/" + SECRET_FILE_NAME
    return (f"No cluster secret is configured: set {options.SECURITY_CLUSTER_SECRET_FILE.key} "
            f"(or {options.SECURITY_CLUSTER_SECRET.key}), or create {where} with "
            f"'python -m flink_py.security.cluster_secret ensure <conf dir>' (bin/start-cluster.sh "
            f"does), and give every JobManager and TaskManager of the cluster the same one.")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m flink_py.security.cluster_secret ensure <conf dir>``: creates the conf
    dir's secret file unless a secret is configured; prints where the secret is."""
    from flink_py.common.configuration import GlobalConfiguration

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] != "ensure":
        print("usage: python -m flink_py.security.cluster_secret ensure <conf dir>",
              file=sys.stderr)
        return 2
    conf_dir = args[1]
    try:
        configuration = GlobalConfiguration.load_configuration(conf_dir)
        secret = find_cluster_secret(configuration, conf_dir, environ={})
        if secret is None:
            path = default_secret_file(conf_dir)
            assert path is not None
            secret = create_secret_file(path)
    except ConfigurationError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(secret.source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
