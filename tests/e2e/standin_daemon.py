"""A stand-in for the JobManager and TaskManager entry points, for testing ``bin/``.

It keeps the daemons' command-line contract: ``python -m standin_daemon --configDir <dir>
[-D key=value ...]``, runs in the foreground until SIGTERM or SIGINT, logs to stderr and
exits 0 on SIGTERM. The scripts run it instead of the real entry points when
``FLINK_PY_JOBMANAGER_MODULE`` / ``FLINK_PY_TASKMANAGER_MODULE`` name it (with this directory
on ``PYTHONPATH``).

Test hooks, given as dynamic properties:

* ``-D standin.exit-code=<n>``: exit with ``n`` at once, as a daemon that fails to start.
* ``-D standin.ignore-sigterm=true``: ignore SIGTERM, as a daemon that hangs on shutdown.
* ``-D standin.never-ready=true``: run, but never write the ready file, as a daemon that
  hangs on start.
* ``$STANDIN_FAIL_LOGS`` (environment): comma-separated parts of log file names; a daemon
  whose ``FLINK_LOG_FILE`` contains one exits with 3 at once (``taskmanager-1-`` fails the
  second TaskManager that start-cluster.sh starts).

Otherwise it writes ``$FLINK_PY_READY_FILE`` once it runs, as the real daemons do once their
ports are bound.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from types import FrameType
from typing import Dict, List, Optional

LOG = logging.getLogger("standin_daemon")


def parse_arguments(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="standin_daemon")
    parser.add_argument("--configDir", required=True)
    parser.add_argument("-D", dest="dynamic_properties", action="append", default=[],
                        metavar="key=value")
    return parser.parse_args(argv)


def dynamic_properties(items: List[str]) -> Dict[str, str]:
    properties = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"standin_daemon: expected -D key=value, got {item!r}")
        properties[key] = value
    return properties


def main(argv: Optional[List[str]] = None) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    properties = dynamic_properties(arguments.dynamic_properties)
    # One greppable line with everything a test may check.
    LOG.info("started pid=%d configDir=%s properties=%s log_file=%s", os.getpid(),
             arguments.configDir, properties, os.environ.get("FLINK_LOG_FILE", ""))
    print(f"standin daemon {os.getpid()} running", flush=True)

    log_file = os.environ.get("FLINK_LOG_FILE", "")
    fail_logs = [part for part in os.environ.get("STANDIN_FAIL_LOGS", "").split(",") if part]
    if any(part in log_file for part in fail_logs):
        properties.setdefault("standin.exit-code", "3")
    if "standin.exit-code" in properties:
        exit_code = int(properties["standin.exit-code"])
        LOG.error("failing on purpose with exit code %d", exit_code)
        return exit_code

    stopped = threading.Event()

    def on_signal(signum: int, frame: Optional[FrameType]) -> None:
        LOG.info("received %s, shutting down", signal.Signals(signum).name)
        stopped.set()

    if properties.get("standin.ignore-sigterm", "false").lower() == "true":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    ready_file = os.environ.pop("FLINK_PY_READY_FILE", "")
    if ready_file and properties.get("standin.never-ready", "false").lower() != "true":
        with open(ready_file, "w", encoding="utf-8") as ready:
            ready.write(f"standin {os.getpid()}\n")
    while not stopped.wait(1.0):
        pass
    LOG.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
