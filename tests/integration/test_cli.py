"""The ``flink`` command against an in-process MiniCluster with its REST server.

Output lines are compared byte for byte apart from job ids and times (regexes), since tools
parse them. The MiniCluster runs the programs' functions in this process, so the code that
``run`` ships is checked by its archive's contents, not by running it elsewhere.
"""

from __future__ import annotations

import inspect
import io
import json
import re
import textwrap
import time
import zipfile
from pathlib import Path
from typing import Any, Iterator, List

import pytest
from click.testing import CliRunner, Result

from flink_py.cli import main as cli
from flink_py.cli.program_packager import (
    USER_CODE_ARTIFACT, ProgramPackagingError, package_program)
from flink_py.client.rest_cluster_client import JobStatusMessage
from flink_py.common.configuration import Configuration
from flink_py.common.job_status import JobStatus
from flink_py.datastream import stream_execution_environment as env_module
from flink_py.runtime.minicluster import MiniCluster
from flink_py.runtime.rest import RestServer
from flink_py.security.cluster_secret import SECRET_FILE_NAME, create_secret_file
from flink_py.testing.poll import wait_until
from flink_py.testing.process_cluster import free_port

DEADLINE_S = 10.0
JOB_ID = r"[0-9a-f]{32}"
LIST_LINE = r"\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d : ([0-9a-f]{32}) : (.*) \((\w+)\)"
RULE = "-" * 62

BOUNDED_PROGRAM = """
    import sys
    from flink_py.datastream import StreamExecutionEnvironment

    def shout(word):
        return word.upper()

    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_collection(["a", "b"]).map(shout).print()
    result = env.execute(sys.argv[1] if len(sys.argv) > 1 else "cli job")
    print("program got", type(result).__name__)
"""

FAILING_PROGRAM = """
    from flink_py.datastream import StreamExecutionEnvironment

    class UserBoom(Exception):
        pass

    def explode(value):
        if value == 2:
            raise UserBoom(f"no twos please, got {value}")
        return value

    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_collection([1, 2, 3]).map(explode).print()
    env.execute("failing cli job")
"""

UNBOUNDED_PROGRAM = """
    import threading
    from flink_py.datastream import SinkFunction, SourceFunction, StreamExecutionEnvironment

    class UntilCancelled(SourceFunction):
        def open(self, runtime_context):
            self.stop = threading.Event()

        def run(self, ctx):
            while not self.stop.is_set():
                ctx.collect(1)
                self.stop.wait(0.005)

        def cancel(self):
            self.stop.set()

    class Discard(SinkFunction):
        def invoke(self, value, context):
            pass

    env = StreamExecutionEnvironment.get_execution_environment()
    env.add_source(UntilCancelled()).add_sink(Discard())
    env.execute("endless cli job")
"""


class Cluster:
    def __init__(self, minicluster: MiniCluster, server: RestServer) -> None:
        self.minicluster = minicluster
        self.server = server
        self.address = f"127.0.0.1:{server.port}"

    @property
    def dispatcher(self) -> Any:
        return self.minicluster.dispatcher

    def wait_terminal(self, job_id: str) -> JobStatus:
        master = self.dispatcher.job_master(job_id)
        assert master.wait_for_termination(DEADLINE_S), f"job {job_id} did not end"
        return master.status

    def wait_running(self, job_id: str) -> None:
        master = self.dispatcher.job_master(job_id)
        wait_until(lambda: master.task_state_counts()["RUNNING"] > 0, "a running task")


@pytest.fixture
def cluster(no_leaked_threads: None, tmp_path_factory: pytest.TempPathFactory,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    # the CLI's conf dir: this installation's conf and a cluster secret, whose token the
    # server wants for writes (as bin/start-cluster.sh sets it up)
    conf_dir = tmp_path_factory.mktemp("conf")
    (conf_dir / "flink-conf.yaml").write_text(
        (Path(__file__).resolve().parents[2] / "conf" / "flink-conf.yaml").read_text())
    secret = create_secret_file(str(conf_dir / SECRET_FILE_NAME))
    monkeypatch.setenv("FLINK_CONF_DIR", str(conf_dir))
    minicluster = MiniCluster(1, 4)
    server = RestServer(minicluster.dispatcher, minicluster.resource_manager, Configuration(),
                        "127.0.0.1", 0, token=secret.rest_token())
    server.start()
    try:
        yield Cluster(minicluster, server)
    finally:
        server.stop()
        minicluster.close()
    # the CLI restored the environment
    assert env_module._context_executor_factory is None
    assert isinstance(inspect.getattr_static(env_module.StreamExecutionEnvironment,
                                             "get_execution_environment"), staticmethod)


def flink(*args: str, env: Any = None) -> Result:
    return CliRunner().invoke(cli.main, list(args), env=env, catch_exceptions=False)


def write_program(directory: Path, name: str, source: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(source))
    return path


def lines(text: str) -> List[str]:
    return text.splitlines()


def zip_names(data: bytes) -> List[str]:
    return sorted(zipfile.ZipFile(io.BytesIO(data)).namelist())


# -- run -----------------------------------------------------------------------------------------


def test_run_attached(cluster: Cluster, tmp_path: Path) -> None:
    program = write_program(tmp_path / "prog", "job.py", BOUNDED_PROGRAM)
    result = flink("run", "-m", cluster.address, str(program), "my cli job")
    assert result.exit_code == 0, result.output
    # The job's print() sink writes here too (the MiniCluster is in this process), at any
    # point after the submission.
    out = [line for line in lines(result.stdout) if line not in ("A", "B")]
    assert sorted(set(lines(result.stdout)) - set(out)) == ["A", "B"]
    submitted = re.fullmatch(f"Job has been submitted with JobID ({JOB_ID})", out[0])
    assert submitted, out
    job_id = submitted.group(1)
    assert out[1] == "Program execution finished"
    assert out[2] == f"Job with JobID {job_id} has finished."
    assert re.fullmatch(r"Job Runtime: \d+ ms", out[3])
    assert out[4:] == ["program got JobExecutionResult"]
    assert result.stderr == ""
    master = cluster.dispatcher.job_master(job_id)
    assert master.job_name == "my cli job" and master.status is JobStatus.FINISHED
    assert zip_names(master.job_graph.user_artifacts[USER_CODE_ARTIFACT]) == ["job.py"]


def test_run_detached(cluster: Cluster, tmp_path: Path) -> None:
    program = write_program(tmp_path, "job.py", BOUNDED_PROGRAM)
    result = flink("run", "-d", "-m", cluster.address, str(program))
    assert result.exit_code == 0, result.output
    [submitted, returned] = [line for line in lines(result.stdout) if line not in ("A", "B")]
    job_id = re.fullmatch(f"Job has been submitted with JobID ({JOB_ID})", submitted).group(1)
    assert returned == "program got DetachedJobExecutionResult"
    assert cluster.wait_terminal(job_id) is JobStatus.FINISHED


def test_run_a_failing_program(cluster: Cluster, tmp_path: Path) -> None:
    program = write_program(tmp_path, "failing.py", FAILING_PROGRAM)
    result = flink("run", "-m", cluster.address, str(program))
    assert result.exit_code == 1
    # The record before the failing one may be printed first (a source's first steps emit
    # single records, as Flink's sources do), by the in-process cluster's task.
    assert re.fullmatch(f"(1\n)?Job has been submitted with JobID {JOB_ID}\n(1\n)?",
                        result.stdout)
    err = lines(result.stderr)
    assert err[:4] == ["", "-" * 60, " The program finished with the following exception:", ""]
    # the user's frames first (once), then the job's failure on one line
    assert err[4] == "Traceback (most recent call last):"
    assert re.fullmatch(rf'  File "{re.escape(str(program))}", line \d+, in explode', err[5])
    assert sum(", in explode" in line for line in err) == 1
    assert "UserBoom: no twos please, got 2" in err
    assert err[-1].startswith("flink_py.errors.JobExecutionError: Job execution failed: job "
                              "'failing cli job'")
    assert err[-1].endswith("failed: user function in 'Map' (subtask 1/1) raised UserBoom: "
                            "no twos please, got 2")


def test_run_a_module_with_parallelism_ships_its_package(
        cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "mypkg"
    write_program(package, "__init__.py", "")
    write_program(package, "helpers.py", "def upper(s):\n    return s.upper()\n")
    write_program(package, "job.py", """
        from flink_py.datastream import StreamExecutionEnvironment
        from mypkg.helpers import upper

        env = StreamExecutionEnvironment.get_execution_environment()
        env.from_collection(["x"]).map(upper).print()
        env.execute("module job")
    """)
    monkeypatch.chdir(tmp_path)
    result = flink("run", "-m", cluster.address, "-p", "2", "-c", "mypkg.job")
    assert result.exit_code == 0, result.output
    job_id = re.search(f"^Job has been submitted with JobID ({JOB_ID})$", result.stdout,
                       re.MULTILINE).group(1)
    job_graph = cluster.dispatcher.job_master(job_id).job_graph
    assert sorted(v.parallelism for v in job_graph.vertices.values()) == [1, 2]
    assert zip_names(job_graph.user_artifacts[USER_CODE_ARTIFACT]) == [
        "mypkg/__init__.py", "mypkg/helpers.py", "mypkg/job.py"]


def test_run_missing_program_fails_before_contacting_the_cluster(tmp_path: Path) -> None:
    nobody = f"127.0.0.1:{free_port()}"
    result = flink("run", "-m", nobody, "-c", "nosuch.module")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Could not run the program: ModuleNotFoundError: No module "
                                    "named 'nosuch'")
    assert len(lines(result.stderr)) == 1
    result = flink("run", "-m", nobody, str(tmp_path / "missing.py"))
    assert result.exit_code == 1
    assert result.stderr == (f"Could not run the program: FileNotFoundError: the program file "
                             f"'{tmp_path / 'missing.py'}' does not exist.\n")


def test_run_locally(tmp_path: Path) -> None:
    program = write_program(tmp_path, "job.py", BOUNDED_PROGRAM)
    result = flink("run", "-t", "local", str(program))
    assert result.exit_code == 0, result.output
    out = [line for line in lines(result.stdout) if line not in ("A", "B")]
    job_id = re.fullmatch(f"Job has been submitted with JobID ({JOB_ID})", out[0]).group(1)
    assert out[1:3] == ["Program execution finished", f"Job with JobID {job_id} has finished."]


# -- list ----------------------------------------------------------------------------------------


def test_list(cluster: Cluster, tmp_path: Path) -> None:
    result = flink("list", "-m", cluster.address)
    assert result.stdout == "Waiting for response...\nNo running jobs.\nNo scheduled jobs.\n"
    assert flink("list", "-a", "-m", cluster.address).stdout == result.stdout

    finished = write_program(tmp_path, "job.py", BOUNDED_PROGRAM)
    assert flink("run", "-m", cluster.address, str(finished), "done job").exit_code == 0
    endless = write_program(tmp_path, "endless.py", UNBOUNDED_PROGRAM)
    result = flink("run", "-d", "-m", cluster.address, str(endless))
    running_id = re.match(f"Job has been submitted with JobID ({JOB_ID})",
                          result.stdout).group(1)
    cluster.wait_running(running_id)

    out = lines(flink("list", "-m", cluster.address).stdout)
    assert out[:2] == ["Waiting for response...",
                       "------------------ Running/Restarting Jobs -------------------"]
    assert re.fullmatch(LIST_LINE, out[2]).groups() == (running_id, "endless cli job",
                                                        "RUNNING")
    assert out[3:] == [RULE, "No scheduled jobs."]

    assert lines(flink("list", "-r", "-m", cluster.address).stdout) == out[:4]
    assert lines(flink("list", "-s", "-m", cluster.address).stdout) == [
        "Waiting for response...", "No scheduled jobs."]

    out = lines(flink("list", "-a", "-m", cluster.address).stdout)
    assert out[4:6] == ["No scheduled jobs.",
                        "---------------------- Terminated Jobs -----------------------"]
    assert re.fullmatch(LIST_LINE, out[6]).groups()[1:] == ("done job", "FINISHED")
    assert out[7:] == [RULE]


def test_list_format_and_order(capsys: pytest.CaptureFixture[str]) -> None:
    day = time.mktime((2024, 1, 7, 16, 18, 8, 0, 0, -1)) * 1000
    jobs = [JobStatusMessage("c" * 32, "third", JobStatus.RUNNING, int(day) + 2000),
            JobStatusMessage("a" * 32, "first", JobStatus.RESTARTING, int(day)),
            JobStatusMessage("b" * 32, "second", JobStatus.RUNNING, int(day) + 1000),
            JobStatusMessage("d" * 32, "waiting", JobStatus.CREATED, int(day)),
            JobStatusMessage("e" * 32, "old", JobStatus.CANCELED, int(day))]
    cli._print_job_list(jobs, True, True, True)
    assert capsys.readouterr().out == (
        "------------------ Running/Restarting Jobs -------------------\n"
        f"07.01.2024 16:18:08 : {'a' * 32} : first (RESTARTING)\n"
        f"07.01.2024 16:18:09 : {'b' * 32} : second (RUNNING)\n"
        f"07.01.2024 16:18:10 : {'c' * 32} : third (RUNNING)\n"
        "--------------------------------------------------------------\n"
        "----------------------- Scheduled Jobs -----------------------\n"
        f"07.01.2024 16:18:08 : {'d' * 32} : waiting (CREATED)\n"
        "--------------------------------------------------------------\n"
        "---------------------- Terminated Jobs -----------------------\n"
        f"07.01.2024 16:18:08 : {'e' * 32} : old (CANCELED)\n"
        "--------------------------------------------------------------\n")


def test_the_rest_address_comes_from_the_configuration(cluster: Cluster,
                                                       tmp_path: Path) -> None:
    conf_dir = tmp_path / "conf"
    conf_dir.mkdir()
    (conf_dir / "config.yaml").write_text(
        f"rest:\n  address: 127.0.0.1\n  port: {cluster.server.port}\n")
    result = flink("list", env={"FLINK_CONF_DIR": str(conf_dir)})
    assert result.exit_code == 0, result.output
    assert result.stdout == "Waiting for response...\nNo running jobs.\nNo scheduled jobs.\n"


# -- cancel --------------------------------------------------------------------------------------


def test_cancel(cluster: Cluster, tmp_path: Path) -> None:
    endless = write_program(tmp_path, "endless.py", UNBOUNDED_PROGRAM)
    result = flink("run", "-d", "-m", cluster.address, str(endless))
    job_id = re.match(f"Job has been submitted with JobID ({JOB_ID})", result.stdout).group(1)
    cluster.wait_running(job_id)
    result = flink("cancel", "-m", cluster.address, job_id)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Cancelling job {job_id}.\nCancelled job {job_id}.\n"
    assert cluster.wait_terminal(job_id) is JobStatus.CANCELED

    unknown = "0123456789abcdef0123456789abcdef"
    result = flink("cancel", "-m", cluster.address, unknown)
    assert result.exit_code == 1
    assert result.stdout == f"Cancelling job {unknown}.\n"
    assert f"Could not cancel job {unknown}: Job {unknown} not found" in result.stderr
    result = flink("cancel", "-m", cluster.address, "not-a-job-id")
    assert result.exit_code == 1 and "Cannot parse JobID" in result.stderr


# -- info ----------------------------------------------------------------------------------------


def test_info_prints_the_plan_without_running(cluster: Cluster, tmp_path: Path) -> None:
    program = write_program(tmp_path, "job.py", BOUNDED_PROGRAM)
    result = flink("info", "-p", "3", str(program))
    assert result.exit_code == 0, result.output
    out = lines(result.stdout)
    assert out[0] == "----------------------- Execution Plan -----------------------"
    assert out[-2:] == [RULE, ""]
    plan = json.loads("\n".join(out[1:-2]))
    assert [node["type"] for node in plan["nodes"]] == [
        "Source: Collection Source", "Map", "Sink: Print to Std. Out"]
    assert plan["nodes"][1]["parallelism"] == 3
    assert "program got" not in result.stdout  # the program stopped at execute()
    assert cluster.dispatcher.list_jobs() == []


# -- the JobManager is down ----------------------------------------------------------------------


def test_a_jobmanager_that_is_down_is_one_line(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    message = (f"Could not connect to the JobManager at {address} (connection refused). "
               f"Is the cluster running? Start it with bin/start-cluster.sh.\n")
    program = write_program(tmp_path, "job.py", BOUNDED_PROGRAM)
    for args in (["list", "-m", address], ["cancel", "-m", address, "a" * 32],
                 ["run", "-m", address, str(program)]):
        result = flink(*args)
        assert result.exit_code == 1, args
        assert result.stderr == message, args
        assert "Traceback" not in result.output


def test_a_programs_own_error_shows_its_traceback_from_the_program_on(tmp_path: Path) -> None:
    program = write_program(tmp_path, "bug.py", """
        from flink_py.datastream import StreamExecutionEnvironment

        env = StreamExecutionEnvironment.get_execution_environment()
        env.from_collection([1]).map(undefined_function).print()
    """)
    result = flink("run", "-m", f"127.0.0.1:{free_port()}", str(program))
    assert result.exit_code == 1
    err = lines(result.stderr)
    assert err[:6] == ["", "-" * 60, " The program finished with the following exception:", "",
                       "Traceback (most recent call last):",
                       f'  File "{program}", line 5, in <module>']
    assert err[-1] == "NameError: name 'undefined_function' is not defined"


# -- code shipping -------------------------------------------------------------------------------


def test_package_program_ships_the_programs_directory(tmp_path: Path) -> None:
    root = tmp_path / "project"
    write_program(root, "job.py", "import util\n")
    write_program(root, "util.py", "")
    write_program(root, "notes.txt", "not code")
    write_program(root / "pkg", "__init__.py", "")
    write_program(root / "pkg", "data.json", "{}")
    write_program(root / "pkg" / "sub", "__init__.py", "")
    write_program(root / "pkg" / "__pycache__", "x.cpython-311.pyc", "")
    write_program(root / "pkg" / ".hidden", "secret.py", "")
    write_program(root / "notapackage", "x.py", "")
    write_program(root / ".venv", "pyvenv.cfg", "")
    write_program(root / "venv", "pyvenv.cfg", "")
    write_program(root / "venv", "__init__.py", "")
    artifacts = package_program(str(root / "job.py"))
    assert list(artifacts) == [USER_CODE_ARTIFACT]
    assert zip_names(artifacts[USER_CODE_ARTIFACT]) == [
        "job.py", "pkg/__init__.py", "pkg/data.json", "pkg/sub/__init__.py", "util.py"]

    with pytest.raises(ProgramPackagingError, match="larger than 0 MB"):
        package_program(str(root / "job.py"), limit=10)


def test_package_program_with_py_files_and_modules(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_program(tmp_path / "lib", "extra.py", "")
    write_program(tmp_path / "dir" / "deps", "__init__.py", "")
    wheel = tmp_path / "dep-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("dep/__init__.py", "")
    write_program(tmp_path / "single", "solo.py", "")
    monkeypatch.syspath_prepend(str(tmp_path / "single"))
    artifacts = package_program(
        module="solo.main", py_files=[f"{tmp_path / 'lib' / 'extra.py'},{tmp_path / 'dir'}",
                                      str(wheel)])
    assert sorted(artifacts) == sorted([USER_CODE_ARTIFACT, wheel.name])
    assert zip_names(artifacts[USER_CODE_ARTIFACT]) == ["deps/__init__.py", "extra.py",
                                                        "solo.py"]
    assert zip_names(artifacts[wheel.name]) == ["dep/__init__.py"]
    assert package_program(module="json") == {}  # installed: the TaskManagers have it
    with pytest.raises(ModuleNotFoundError):
        package_program(module="nosuch_module_here.job")
    with pytest.raises(ProgramPackagingError, match="does not exist"):
        package_program(str(tmp_path / "single" / "solo.py"), py_files=["/no/such/file.py"])


# -- savepoints: run -s/-n, savepoint, stop ------------------------------------------------------


def test_run_from_a_savepoint_puts_the_restore_settings_into_the_job(cluster: Cluster,
                                                                     tmp_path: Path) -> None:
    program = write_program(tmp_path, "job.py", BOUNDED_PROGRAM)
    savepoint = tmp_path / "savepoint-000000-000000000000"
    result = flink("run", "-d", "-m", cluster.address, "-s", str(savepoint), "-n",
                   str(program))
    assert "does not exist" not in result.output
    job_id = re.search(f"Job has been submitted with JobID ({JOB_ID})", result.stdout).group(1)
    configuration = cluster.dispatcher.job_master(job_id).job_graph.job_configuration
    assert configuration["execution.savepoint.path"] == str(savepoint)
    assert configuration["execution.savepoint.ignore-unclaimed-state"] == "true"
    cluster.wait_terminal(job_id)
    result = flink("run", "-d", "-m", cluster.address, "--fromSavepoint", str(savepoint),
                   str(program))
    job_id = re.search(f"Job has been submitted with JobID ({JOB_ID})", result.stdout).group(1)
    configuration = cluster.dispatcher.job_master(job_id).job_graph.job_configuration
    assert configuration["execution.savepoint.path"] == str(savepoint)
    assert "execution.savepoint.ignore-unclaimed-state" not in configuration
    cluster.wait_terminal(job_id)


def test_savepoint_and_stop_need_a_job_id() -> None:
    result = flink("savepoint")
    assert result.exit_code == 1
    assert result.stderr == ("Missing JobID. Usage: flink savepoint [-m <host:port>] <Job ID> "
                             "[<target directory>]\n")
    result = flink("stop", "-d")
    assert result.exit_code == 1
    assert result.stderr == ("Missing JobID. Usage: flink stop [-m <host:port>] "
                             "[-p [savepointPath]] [-d] <Job ID>\n")


def test_a_savepoint_that_fails_prints_flinks_failure(cluster: Cluster, tmp_path: Path) -> None:
    program = write_program(tmp_path, "job.py", BOUNDED_PROGRAM)
    result = flink("run", "-m", cluster.address, str(program))
    job_id = re.search(f"Job has been submitted with JobID ({JOB_ID})", result.stdout).group(1)
    assert cluster.wait_terminal(job_id) is JobStatus.FINISHED
    result = flink("savepoint", "-m", cluster.address, job_id, str(tmp_path / "sp"))
    assert result.exit_code == 1
    assert result.stdout == f"Triggering savepoint for job {job_id}.\nWaiting for response...\n"
    assert f"Triggering a savepoint for the job {job_id} failed." in result.stderr
    result = flink("stop", "-m", cluster.address, "-p", str(tmp_path / "sp"), job_id)
    assert result.exit_code == 1
    assert result.stdout == f'Suspending job "{job_id}" with a savepoint.\n'
    assert f'Could not stop with a savepoint job "{job_id}".' in result.stderr


def test_stop_reads_the_job_id_from_an_option_without_a_value(cluster: Cluster) -> None:
    unknown = "0123456789abcdef0123456789abcdef"
    result = flink("stop", "-m", cluster.address, "--drain", "-p", unknown)
    assert result.stdout == f'Draining job "{unknown}" with a savepoint.\n'
    assert f"Job {unknown} not found" in result.stderr


def test_savepoint_and_stop_take_only_the_canonical_format() -> None:
    job_id = "0123456789abcdef0123456789abcdef"
    for action in (("savepoint", "--type", "native", job_id),
                   ("stop", "-type", "NATIVE", job_id)):
        result = flink(*action)
        assert result.exit_code == 2, result
        assert "the savepoint format 'NATIVE' is not supported" in result.stderr \
            or "the savepoint format 'native' is not supported" in result.stderr, result.stderr


def test_savepoint_then_stop_print_flinks_lines(cluster: Cluster, tmp_path: Path) -> None:
    endless = write_program(tmp_path, "endless.py", UNBOUNDED_PROGRAM)
    result = flink("run", "-d", "-m", cluster.address, str(endless))
    job_id = re.search(f"Job has been submitted with JobID ({JOB_ID})", result.stdout).group(1)
    cluster.wait_running(job_id)
    target = tmp_path / "savepoints"
    result = flink("savepoint", "-m", cluster.address, job_id, str(target))
    assert result.exit_code == 0, result.output
    out = lines(result.stdout)
    assert out[:2] == [f"Triggering savepoint for job {job_id}.", "Waiting for response..."]
    path = re.fullmatch(r"Savepoint completed\. Path: (\S*)", out[2]).group(1)
    assert path.startswith(f"file:{target}/savepoint-{job_id[:6]}-")
    assert out[3] == "You can resume your program from this savepoint with the run command."
    result = flink("stop", "-m", cluster.address, "--savepointPath", str(target), job_id)
    assert result.exit_code == 0, result.output
    out = lines(result.stdout)
    assert out[0] == f'Suspending job "{job_id}" with a savepoint.'
    stopped = re.fullmatch(r"Savepoint completed\. Path: (\S*)", out[1]).group(1)
    assert stopped.startswith(f"file:{target}/savepoint-{job_id[:6]}-") and stopped != path
    # the stop completes once the job ended, and it ended FINISHED (not CANCELED)
    assert cluster.dispatcher.job_master(job_id).status is JobStatus.FINISHED
    assert cluster.wait_terminal(job_id) is JobStatus.FINISHED


DECLINING_PROGRAM = """
    from flink_py.datastream import MapFunction
    from flink_py.datastream.functions import CheckpointedFunction

    class DeclineSnapshots(MapFunction, CheckpointedFunction):
        def initialize_state(self, context):
            pass

        def snapshot_state(self, context):
            raise RuntimeError("planned: no snapshot of this operator")

        def map(self, value):
            return value
"""


@pytest.mark.parametrize("case", ["declined", "unwritable"])
def test_a_failed_stop_prints_flinks_message_and_the_job_runs_on(
        cluster: Cluster, tmp_path: Path, case: str) -> None:
    program = UNBOUNDED_PROGRAM
    if case == "declined":
        program = textwrap.dedent(DECLINING_PROGRAM) + textwrap.dedent(program).replace(
            "env.add_source(UntilCancelled())",
            "env.add_source(UntilCancelled()).map(DeclineSnapshots())")
    endless = write_program(tmp_path, "endless.py", program)
    result = flink("run", "-d", "-m", cluster.address, str(endless))
    job_id = re.search(f"Job has been submitted with JobID ({JOB_ID})", result.stdout).group(1)
    cluster.wait_running(job_id)
    target = tmp_path / "savepoints"
    if case == "unwritable":
        target.write_text("a file, not a directory")
        target = target / "below"
    result = flink("stop", "-m", cluster.address, "-p", str(target), job_id)
    assert result.exit_code == 1, result.output
    assert lines(result.stdout) == [f'Suspending job "{job_id}" with a savepoint.']
    assert f'Could not stop with a savepoint job "{job_id}".' in result.stderr
    assert ("planned: no snapshot of this operator" if case == "declined"
            else str(target)) in result.stderr
    master = cluster.dispatcher.job_master(job_id)
    assert master.status is JobStatus.RUNNING
    assert master.task_state_counts()["RUNNING"] == sum(master.task_state_counts().values())
    master.cancel()
    assert cluster.wait_terminal(job_id) is JobStatus.CANCELED


def test_savepoint_dispose_deletes_a_savepoint_and_its_files(cluster: Cluster,
                                                             tmp_path: Path) -> None:
    from flink_py.common.key_groups import KeyGroupRange
    from flink_py.graph.ids import OperatorID
    from flink_py.runtime.checkpoint.metadata import CheckpointMetadata, OperatorState
    from flink_py.runtime.checkpoint.metadata_serializer import write_metadata_file
    from flink_py.runtime.state.handles import (
        FileStateHandle, KeyGroupsStateHandle, OperatorSubtaskState)

    savepoint = tmp_path / "savepoint-abcdef-0123456789ab"
    savepoint.mkdir()
    state_file = savepoint / "state"
    state_file.write_bytes(b"keyed")
    operator_state = OperatorState(OperatorID(), 1, 128, {0: OperatorSubtaskState(
        [KeyGroupsStateHandle(KeyGroupRange.of(0, 127), {0: (0, 5)},
                              FileStateHandle(str(state_file), 5))])})
    write_metadata_file(str(savepoint), CheckpointMetadata(3, [operator_state], True))
    result = flink("savepoint", "-m", cluster.address, "-d", f"file:{savepoint}")
    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == [f"Disposing savepoint 'file:{savepoint}'.",
                                    "Waiting for response...",
                                    f"Savepoint 'file:{savepoint}' disposed."]
    assert not savepoint.exists()

    not_a_savepoint = tmp_path / "elsewhere"
    not_a_savepoint.mkdir()
    result = flink("savepoint", "-m", cluster.address, "--dispose", str(not_a_savepoint))
    assert result.exit_code == 1
    assert f"Disposing the savepoint '{not_a_savepoint}' failed." in result.stderr
    assert f"Cannot find meta data file '_metadata' in directory '{not_a_savepoint}'" in \
        result.stderr
    assert not_a_savepoint.exists()
