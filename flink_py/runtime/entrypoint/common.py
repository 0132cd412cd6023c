"""What every daemon's main does: read ``--configDir`` and ``-D``, set up logging, wait for
SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
from typing import Dict, List, Optional, Sequence, Tuple

from flink_py.common.configuration import Configuration, GlobalConfiguration
from flink_py.errors import ConfigurationError
from flink_py.security.context import SecurityContext, install

LOG_FORMAT = "%(asctime)s %(levelname)-5s %(name)s [] - %(message)s"

#: the file a daemon writes once it serves (its ports are bound), set by bin/flink-daemon.sh,
#: which waits for it to count the daemon as started
ENV_READY_FILE = "FLINK_PY_READY_FILE"


def parse_daemon_args(description: str, argv: Optional[Sequence[str]],
                      extra: Optional[List[Tuple[str, dict]]] = None
                      ) -> Tuple[argparse.Namespace, Configuration]:
    """Parses ``--configDir DIR`` and ``-D key=value`` (repeatable), as Flink's entrypoints,
    and returns the arguments and the loaded configuration."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--configDir", "-c", dest="config_dir", default=None,
                        help="the configuration directory (default: $FLINK_CONF_DIR)")
    parser.add_argument("-D", dest="dynamic", action="append", default=[],
                        metavar="key=value", help="a configuration value (repeatable)")
    for name, kwargs in extra or []:
        parser.add_argument(name, **kwargs)
    args = parser.parse_args(argv)
    dynamic: Dict[str, str] = {}
    for item in args.dynamic:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            parser.error(f"-D expects key=value, got {item!r}")
        dynamic[key.strip()] = value.strip()
    config_dir = args.config_dir or os.environ.get(GlobalConfiguration.ENV_FLINK_CONF_DIR)
    if config_dir is not None and not os.path.isdir(config_dir):
        raise ConfigurationError(f"the configuration directory {config_dir!r} does not exist")
    return args, GlobalConfiguration.load_configuration(config_dir, dynamic)


def config_dir_of(args: argparse.Namespace) -> Optional[str]:
    """The configuration directory a daemon was started with (``--configDir``, else
    ``$FLINK_CONF_DIR``), or ``None``."""
    return args.config_dir or os.environ.get(GlobalConfiguration.ENV_FLINK_CONF_DIR)


def install_security(configuration: Configuration, config_dir: Optional[str],
                     create_secret: bool = False) -> SecurityContext:
    """Resolves this daemon's SecurityContext and installs it, before any port is opened.

    :param create_secret: create the conf dir's secret file when none is configured (the
                          JobManager does).
    :raises ConfigurationError: no secret, or an unusable secret or TLS file.
    """
    context = SecurityContext.from_configuration(configuration, config_dir, create_secret)
    install(context)
    return context


def take_ready_file() -> Optional[str]:
    """The ready file bin/flink-daemon.sh waits for (``$FLINK_PY_READY_FILE``), or ``None``;
    removed from the environment, so that the processes this daemon starts (slot workers) do
    not inherit it."""
    return os.environ.pop(ENV_READY_FILE, None) or None


def signal_ready(path: Optional[str], details: str) -> None:
    """Tells whoever started this daemon that it serves (its ports are bound): writes
    ``details`` (one line, e.g. the bound addresses) to ``path``, all at once (written aside,
    then renamed, so that a reader never sees half of it). No-op when ``path`` is ``None``.

    :raises OSError: the file cannot be written (the starter would wait for nothing).
    """
    if path is None:
        return
    partial = f"{path}.{os.getpid()}.tmp"
    with open(partial, "w", encoding="utf-8") as ready:
        ready.write(details.rstrip("\n") + "\n")
    os.replace(partial, path)


def line_buffered_stdout() -> None:
    """Makes stdout line-buffered. A daemon's stdout is a pipe or its ``.out`` file, which
    Python buffers in 8 KB blocks: what tasks print (``print()`` in user functions) would
    reach the ``.out`` file in bursts, many seconds late, and be lost when the process is
    killed."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:  # a TextIOWrapper (not a test's replacement)
        reconfigure(line_buffering=True)


def setup_logging(level: int = logging.INFO) -> None:
    line_buffered_stdout()
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr, force=True)
    logging.getLogger("flink_py").setLevel(level)  # a daemon logs the runtime's INFO too
    logging.getLogger("grpc").setLevel(logging.WARNING)


def wait_for_termination_signal() -> int:
    """Blocks until SIGTERM or SIGINT; returns the signal number."""
    received: List[int] = []
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        received.append(signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    while not stop.wait(3600):  # Event.wait wakes for the signal handler
        pass
    return received[0]


def local_address_towards(host: str, port: int) -> str:
    """The address of this machine's interface that reaches ``host`` (no packet is sent)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        family, _, _, _, sockaddr = infos[0]
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect(sockaddr)
            return probe.getsockname()[0]
    except OSError:
        return socket.gethostname()
