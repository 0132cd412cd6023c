"""Fixtures shared by the test suite.

Waiting is done with :func:`flink_py.testing.poll.wait_until` (imported by the tests that
wait, and by the benchmarks): one helper with one signature, polling a condition with a
deadline and naming what it waited for when the deadline passes.
"""

from __future__ import annotations

import threading
import uuid
from typing import Iterator, List

import pytest

from flink_py.client import local_executor
from flink_py.security import context as security_context
from flink_py.security.context import SecurityContext
from flink_py.testing.poll import wait_until
from flink_py.testing.shared import release

# The suite's in-process jobs share objects with their tests (flink_py.testing.shared), which
# slot processes cannot see: they run in threads unless a test asks for processes
# (python.execution-mode: process). Programs the tests run as subprocesses get the real
# default: slot processes at parallelism > 1.
local_executor.DEFAULT_EXECUTION_MODE = "thread"


@pytest.fixture
def no_leaked_threads() -> Iterator[None]:
    """Fails the test if a thread it started is still alive after it (and the fixtures set
    up after this one) ended: a job, a cluster or an exchange must stop what it started.
    Threads get until the deadline of :func:`wait_until` to end."""
    before = set(threading.enumerate())
    yield

    def leaked() -> List[str]:
        return [t.name for t in threading.enumerate() if t not in before and t.is_alive()]

    try:
        wait_until(lambda: not leaked(), "the end of the threads the test started")
    except AssertionError:
        pytest.fail(f"threads left behind: {leaked()}")


@pytest.fixture
def token() -> Iterator[str]:
    """A unique id for one test: names the objects it shares with its job's functions
    (:func:`flink_py.testing.shared.shared`), released when the test ends. Test modules with
    shared objects of their own define their own ``token``."""
    value = uuid.uuid4().hex[:12]
    yield value
    release(value)


@pytest.fixture
def rpc_security() -> Iterator[SecurityContext]:
    """Installs ``SecurityContext.for_tests()`` (a fixed secret, no TLS) for one test, as a
    daemon installs its own before it opens a port: in-process gRPC servers and gateways
    need one. Restores what was installed before."""
    try:
        previous = security_context.current()
    except security_context.SecurityNotConfiguredError:
        previous = None
    context = SecurityContext.for_tests()
    security_context.install(context)
    try:
        yield context
    finally:
        if previous is None:
            security_context.uninstall()
        else:
            security_context.install(previous)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Prints the PyFlink API coverage that ``test_pyflink_api_completeness`` measured, when
    it ran in this session."""
    from flink_py.testing import pyflink_api
    for lines in pyflink_api.REPORTS:
        terminalreporter.write_sep("-", "PyFlink API coverage")
        for line in lines:
            terminalreporter.write_line(line)
