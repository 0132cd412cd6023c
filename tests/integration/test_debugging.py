"""Debugging a UDF: pdb and debugpy stop in user functions; a failing UDF's traceback is short.

Each test runs a small job as a user does (``python -m pdb job.py``, ``python job.py`` with a
``breakpoint()``, ``python -m debugpy --listen ... job.py``), drives the debugger through a
pseudo-terminal (pexpect) or the Debug Adapter Protocol, and sees it stop in the user's
function, on the task thread that runs it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

from flink_py.testing.poll import wait_until
from tests.integration.test_pyflink_typed_streams import FIXTURES, run_on_flink_py

pexpect = pytest.importorskip("pexpect")

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 60

MAP_JOB = """
    from flink_py.datastream import StreamExecutionEnvironment

    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    env.from_collection([1, 2, 3]).map(lambda v: v * 10).print()  # BREAK
    env.execute("map job")
"""

KEYED_PROCESS_JOB = """
    from flink_py.datastream import KeyedProcessFunction, StreamExecutionEnvironment


    class Total(KeyedProcessFunction):
        def process_element(self, value, ctx):
            key = ctx.get_current_key()  # BREAK
            yield key, value[1]


    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    env.from_collection([("a", 1), ("b", 2)]).key_by(lambda v: v[0]).process(Total()).print()
    env.execute("keyed process job")
"""

WINDOW_JOB = """
    from flink_py.datastream import ProcessWindowFunction, StreamExecutionEnvironment


    class Sum(ProcessWindowFunction):
        def process(self, key, context, elements):
            total = sum(v for _, v in elements)  # BREAK
            yield key, total


    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    env.from_collection([("a", 1), ("a", 2), ("b", 5), ("b", 6)]) \\
        .key_by(lambda v: v[0]).count_window(2).process(Sum()).print()
    env.execute("window job")
"""

BREAKPOINT_JOB = """
    from flink_py.datastream import StreamExecutionEnvironment


    def scale(value):
        breakpoint()
        scaled = value * 100  # STOP
        return scaled


    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    env.from_collection([7]).map(scale).print()
    env.execute("breakpoint job")
"""


def write_job(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "job.py"
    path.write_text(textwrap.dedent(source).lstrip())
    return path


def line_of(path: Path, marker: str) -> int:
    """The line of ``path`` that ends with the comment ``# <marker>``."""
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.endswith(f"# {marker}"))


def job_env() -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.pop("PYTHONBREAKPOINT", None)  # breakpoint() is pdb's
    return env


def spawn(tmp_path: Path, *args: str) -> Any:
    return pexpect.spawn(sys.executable, list(args), cwd=str(tmp_path), env=job_env(),
                         encoding="utf-8", timeout=TIMEOUT_S, echo=False)


PROMPT = r"\(Pdb\) "


def pdb_command(child: Any, command: str, expect: str) -> str:
    """Sends ``command`` at the prompt; returns what came before the next prompt, which
    must match ``expect``."""
    child.sendline(command)
    child.expect(PROMPT)
    output = child.before
    assert re.search(expect, output), f"{command!r} printed {output!r}, expected {expect!r}"
    return output


@pytest.fixture
def children() -> Iterator[List[Any]]:
    spawned: List[Any] = []
    yield spawned
    for child in spawned:
        child.close(force=True)


def debug_with_pdb(tmp_path: Path, children: List[Any], source: str) -> Any:
    """``python -m pdb job.py``, with a breakpoint at the ``# BREAK`` line, continued until
    it stops in the user's function on a task thread; returns the pexpect child there."""
    job = write_job(tmp_path, source)
    line = line_of(job, "BREAK")
    child = spawn(tmp_path, "-m", "pdb", str(job))
    children.append(child)
    child.expect(PROMPT)
    pdb_command(child, f"b job.py:{line}", rf"Breakpoint 1 at {re.escape(str(job))}:{line}")
    stop = rf"> {re.escape(str(job))}\({line}\)"
    where = pdb_command(child, "c", stop)
    if "<module>()" in where:  # a lambda's line is the pipeline's too: first the main thread
        pdb_command(child, "c", stop)
    # a task's thread ("<task name> (1/1)"), not the main one
    pdb_command(child, "p __import__('threading').current_thread().name", r"^'[^']+ \(1/1\)'")
    return child


def finish(child: Any) -> str:
    """Clears the breakpoint and lets the program end (pdb then offers a restart: quit)."""
    pdb_command(child, "clear 1", r"Deleted breakpoint 1")
    output = pdb_command(child, "c", r"The program finished and will be restarted")
    child.sendline("q")
    child.expect(pexpect.EOF)
    child.wait()
    assert child.exitstatus == 0, child.before
    return output


def test_pdb_stops_at_a_breakpoint_in_a_map_lambda(tmp_path: Path, children: List[Any]) -> None:
    child = debug_with_pdb(tmp_path, children, MAP_JOB)
    pdb_command(child, "p v", r"^1\r?\n$")
    pdb_command(child, "where", r"<lambda>\(\)")
    output = finish(child)
    assert re.findall(r"\b\d+\b", output)[:3] == ["10", "20", "30"], output


def test_pdb_stops_at_a_breakpoint_in_a_keyed_process_function(
        tmp_path: Path, children: List[Any]) -> None:
    child = debug_with_pdb(tmp_path, children, KEYED_PROCESS_JOB)
    pdb_command(child, "p value", r"\('a', 1\)")
    pdb_command(child, "n", r"yield key, value\[1\]")
    pdb_command(child, "p key", r"'a'")
    output = finish(child)
    assert "('a', 1)" in output and "('b', 2)" in output, output


def test_pdb_stops_at_a_breakpoint_in_a_window_function(
        tmp_path: Path, children: List[Any]) -> None:
    child = debug_with_pdb(tmp_path, children, WINDOW_JOB)
    pdb_command(child, "p key", r"'a'")
    pdb_command(child, "p list(elements)", r"\[\('a', 1\), \('a', 2\)\]")
    output = finish(child)
    assert "('a', 3)" in output and "('b', 11)" in output, output


PARALLEL_JOB = """
    from flink_py.datastream import StreamExecutionEnvironment

    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    doubled = env.from_collection(list(range(6))).rebalance().map(
        lambda v: v * 10)  # BREAK
    doubled.print()
    env.execute("parallel job")
"""


def test_subtasks_at_a_breakpoint_take_turns_at_the_prompt(
        tmp_path: Path, children: List[Any]) -> None:
    job = write_job(tmp_path, PARALLEL_JOB)
    line = line_of(job, "BREAK")
    child = spawn(tmp_path, "-m", "pdb", str(job))
    children.append(child)
    child.expect(PROMPT)
    pdb_command(child, f"b job.py:{line}", "Breakpoint 1")
    seen = []
    while True:
        output = pdb_command(child, "c", r"")
        if "The program finished" in output:
            break
        assert re.search(rf"> {re.escape(str(job))}\({line}\)", output), output
        if "<lambda>()" in output:  # not the main thread building the pipeline
            # (the other subtask's printed records may come before the answer)
            shown = pdb_command(child, "p __import__('threading').current_thread().name, v",
                                r"\('Map -> Sink: Print to Std. Out \([12]/2\)', \d\)")
            found = re.search(r"\('Map -> Sink: Print to Std. Out (\([12]/2\))', (\d)\)",
                              shown)
            assert found, shown
            seen.append((found.group(1), int(found.group(2))))
    child.sendline("q")
    child.expect(pexpect.EOF)
    # each record stopped once, in the subtask that got it; both subtasks stopped
    assert sorted(v for _, v in seen) == list(range(6)), seen
    assert {subtask for subtask, _ in seen} == {"(1/2)", "(2/2)"}, seen


def test_quitting_pdb_in_a_user_function_quits_the_program(
        tmp_path: Path, children: List[Any]) -> None:
    child = debug_with_pdb(tmp_path, children, MAP_JOB)
    child.sendline("q")
    child.expect(pexpect.EOF)
    child.wait()
    assert child.exitstatus == 0, child.before
    assert "Traceback" not in child.before, child.before


def test_breakpoint_in_a_udf_shows_its_source_with_l(tmp_path: Path,
                                                      children: List[Any]) -> None:
    job = write_job(tmp_path, BREAKPOINT_JOB)
    line = line_of(job, "STOP")
    child = spawn(tmp_path, str(job))
    children.append(child)
    child.expect(PROMPT)
    assert re.search(rf"> {re.escape(str(job))}\({line}\)scale\(\)", child.before), child.before
    pdb_command(child, "l", rf"{line}\s+->\s+scaled = value \* 100  # STOP")
    pdb_command(child, "p value", r"7")
    child.sendline("c")
    child.expect(pexpect.EOF)
    child.wait()
    assert child.exitstatus == 0, child.before
    assert "700" in child.before


# -- the traceback of a failing UDF ------------------------------------------------------------


def test_a_failing_udf_shows_the_users_frame_first_and_once(tmp_path: Path) -> None:
    done = run_on_flink_py("failing_map.py", tmp_path)
    assert done.returncode == 1
    program = str(tmp_path / "failing_map.py")
    err = done.stderr.splitlines()
    assert err[:4] == ["Traceback (most recent call last):",
                       f'  File "{program}", line 7, in parse',
                       "    return int(text)",
                       "           ^^^^^^^^^"], done.stderr
    assert err[4] == "ValueError: invalid literal for int() with base 10: 'three'"
    assert done.stderr.count("in parse") == 1
    assert done.stderr.count("return int(text)") == 1
    assert err[-1] == (
        "flink_py.errors.JobExecutionError: Job execution failed: job 'failing map' "
        f"({_job_id(err[-1])}) FAILED because task Source: Collection Source -> Map -> Sink: "
        "Print to Std. Out (1/1) failed: user function in 'Map' (subtask 1/1) raised "
        "ValueError: invalid literal for int() with base 10: 'three'")
    # PyFlink 2.3 (recorded in failing_map.stderr.txt): 276 lines, its Python workers'
    # frames (34 lines) before the user's, which comes three times (the Java stack traces of
    # the job's causes carry it twice more); ours is a tenth of that at most
    pyflink = (FIXTURES / "failing_map.stderr.txt").read_text()
    assert len(err) <= 16 < len(pyflink.splitlines()) / 10
    # the records before the failing one may be printed first, or not (PyFlink printed "1",
    # failing_map.txt; whether a record is printed before the job fails depends on when its
    # batch goes out)
    assert done.stdout in ("", "1\n", "1\n2\n"), done.stdout


def _job_id(line: str) -> str:
    found = re.search(r"\(([0-9a-f]{32})\)", line)
    assert found, line
    return found.group(1)


# -- debugpy (VS Code's debugger) --------------------------------------------------------------


class DapClient:
    """A Debug Adapter Protocol client over a socket, as VS Code talks to debugpy."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._sock.settimeout(TIMEOUT_S)
        self._buffer = b""
        self._seq = 0
        self.messages: List[Dict[str, Any]] = []

    def send(self, command: str, **arguments: Any) -> int:
        """Sends a request; returns its sequence number."""
        self._seq += 1
        body = json.dumps({"seq": self._seq, "type": "request", "command": command,
                           "arguments": arguments}).encode()
        self._sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self._seq

    def response(self, seq: int) -> Dict[str, Any]:
        """The response to request ``seq`` (the events before it are kept)."""
        response = self.wait_for(lambda m: m.get("type") == "response"
                                 and m.get("request_seq") == seq)
        assert response["success"], response
        return response

    def request(self, command: str, **arguments: Any) -> Dict[str, Any]:
        """Sends a request and returns its response."""
        return self.response(self.send(command, **arguments))

    def wait_for(self, matches: Callable[[Dict[str, Any]], bool]) -> Dict[str, Any]:
        """The first message (received so far or next) that ``matches``; it is consumed."""
        while True:
            for i, message in enumerate(self.messages):
                if matches(message):
                    return self.messages.pop(i)
            self.messages.append(self._read())

    def _read(self) -> Dict[str, Any]:
        while b"\r\n\r\n" not in self._buffer:
            self._receive()
        header, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        length = int(re.search(rb"Content-Length: (\d+)", header).group(1))  # type: ignore
        while len(self._buffer) < length:
            self._receive()
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return json.loads(body)

    def _receive(self) -> None:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"debugpy closed the connection; unread: {self.messages}")
        self._buffer += chunk


def _connect(process: subprocess.Popen, port: int) -> Optional[socket.socket]:
    """A connection to debugpy's port once it listens; fails if the program ended."""
    if process.poll() is not None:
        out, err = process.communicate()
        raise AssertionError(f"debugpy exited with {process.returncode}: {out}{err}")
    try:
        return socket.create_connection(("127.0.0.1", port), timeout=1.0)
    except OSError:
        return None


def test_debugpy_stops_at_a_breakpoint_in_a_udf_on_a_task_thread(tmp_path: Path) -> None:
    # find_spec, not importorskip: debugpy loaded into the suite's process would make every
    # later local job look debugged (debugging.debugger_active)
    if importlib.util.find_spec("debugpy") is None:
        pytest.skip("debugpy is not installed")
    job = write_job(tmp_path, KEYED_PROCESS_JOB)
    line = line_of(job, "BREAK")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "debugpy", "--listen", f"127.0.0.1:{port}",
         "--wait-for-client", str(job)],
        cwd=tmp_path, env=job_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        sock = wait_until(lambda: _connect(process, port), "debugpy listening",
                          timeout_s=TIMEOUT_S)
        with sock:
            dap = DapClient(sock)
            dap.request("initialize", adapterID="debugpy", clientID="test",
                        linesStartAt1=True, columnsStartAt1=True, pathFormat="path")
            # debugpy answers attach once configurationDone came: send, then wait
            attach = dap.send("attach", justMyCode=True)
            dap.wait_for(lambda m: m.get("type") == "event" and m.get("event") == "initialized")
            placed = dap.request("setBreakpoints", source={"path": str(job)},
                                 breakpoints=[{"line": line}])
            assert placed["body"]["breakpoints"][0]["verified"], placed
            dap.request("configurationDone")
            dap.response(attach)
            stopped = dap.wait_for(lambda m: m.get("event") == "stopped")
            assert stopped["body"]["reason"] == "breakpoint", stopped
            thread_id = stopped["body"]["threadId"]
            threads = {t["id"]: t["name"]
                       for t in dap.request("threads")["body"]["threads"]}
            # the stopped thread is a task's, listed with the others (the main one too): the
            # keyed task's own, or its source's when that ran the keyed task's step by local
            # handoff (taskmanager.network.local-handoff, as the README says)
            assert re.fullmatch(r"(Keyed|Source: Collection Source).* \(1/1\)",
                                threads[thread_id]), threads
            assert "MainThread" in threads.values(), threads
            frames = dap.request("stackTrace", threadId=thread_id)["body"]["stackFrames"]
            assert (frames[0]["name"], frames[0]["line"]) == ("process_element", line), frames
            assert frames[0]["source"]["path"] == str(job), frames
            dap.request("setBreakpoints", source={"path": str(job)}, breakpoints=[])
            dap.request("continue", threadId=thread_id)
        # the program runs on without a client; debugpy's adapter (its child, which holds
        # the pipes too) ends with the connection
        out, err = process.communicate(timeout=TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "('a', 1)" in out and "('b', 2)" in out, out

