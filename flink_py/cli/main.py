"""The ``flink`` command: Flink's CLI actions, with Flink's output, for Python programs.

    flink run [OPTIONS] <program.py> [ARGUMENTS]      (or -c/--class <module.path>)
    flink info [OPTIONS] <program.py> [ARGUMENTS]
    flink list [-r] [-s] [-a] [-m host:port]
    flink cancel [-m host:port] [-s [targetDirectory]] <Job ID>
    flink savepoint [-m host:port] <Job ID> [<target directory>]
    flink savepoint [-m host:port] -d <savepoint path>
    flink stop [-m host:port] [-p [savepointPath]] [-d] <Job ID>

``run -s/--fromSavepoint <path>`` starts the job from a savepoint or retained checkpoint
(``execution.savepoint.path``), ``-n/--allowNonRestoredState`` lets it skip state that maps to
no operator (``execution.savepoint.ignore-unclaimed-state``).

The JobManager's REST endpoint is ``-m host:port``, else ``rest.address``:``rest.port`` of
the configuration in ``$FLINK_CONF_DIR`` (else this installation's ``conf/``).

``run`` executes the program in this process with a context environment: its
``env.execute()`` submits the JobGraph to the cluster (the program's code zipped into the
JobGraph's ``user_artifacts``), prints ``Job has been submitted with JobID <id>`` and, when
attached, waits and prints Flink's ``Program execution finished`` block. With ``-d`` it
returns after the submission and ``execute()`` returns a DetachedJobExecutionResult (its
job id is known; asking it for runtime or accumulators raises). ``-t local`` runs the
program on an embedded MiniCluster instead.

Output lines are Flink's, byte for byte (tools regex them); a JobManager that cannot be
reached is one line on stderr and exit code 1.
"""

from __future__ import annotations

import os
import runpy
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, List, NoReturn, Optional, Tuple

import click

import flink_py
from flink_py.cli.program_packager import (
    ProgramPackagingError, find_module_spec, local_py_path, package_program)
from flink_py.client.python_dependencies import python_dependency_artifacts, split_entries
from flink_py.client.remote_executor import RemoteExecutor
from flink_py.client.rest_cluster_client import (
    DEFAULT_TIMEOUT_S, ClusterUnreachableError, JobStatusMessage, RestClusterClient,
    SavepointFailedError, client_from_configuration)
from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration, GlobalConfiguration, parse_duration
from flink_py.common.job_id import JobID
from flink_py.common.job_status import JobStatus
from flink_py.datastream import stream_execution_environment as env_module
from flink_py.runtime.taskmanager.python_environment import executable_differs
from flink_py.errors import FlinkPyError, InvalidProgramError, JobExecutionError

_RULE = "-" * 62
_RUNNING_HEADER = "------------------ Running/Restarting Jobs -------------------"
_SCHEDULED_HEADER = "----------------------- Scheduled Jobs -----------------------"
_TERMINATED_HEADER = "---------------------- Terminated Jobs -----------------------"
_PLAN_HEADER = "----------------------- Execution Plan -----------------------"
#: this installation's conf/, used when $FLINK_CONF_DIR is not set
_INSTALLATION_CONF_DIR = Path(flink_py.__file__).resolve().parent.parent / "conf"
_CONTEXT = {"help_option_names": ["-h", "--help"]}
_PROGRAM_CONTEXT = {**_CONTEXT, "ignore_unknown_options": True,
                    "allow_interspersed_args": False}


class _ProgramAbort(BaseException):
    """Ends a program at its first execute() under ``flink info`` (Flink's
    ProgramAbortException; a BaseException so that a program's ``except Exception`` does
    not swallow it)."""


# -- errors -----------------------------------------------------------------------------------


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(1)


def _fail_with_exception(text: str) -> NoReturn:
    """Flink's CliFrontend.handleError layout."""
    click.echo("", err=True)
    click.echo("------------------------------------------------------------", err=True)
    click.echo(" The program finished with the following exception:", err=True)
    click.echo("", err=True)
    click.echo(text.rstrip("\n"), err=True)
    sys.exit(1)


def _unreachable_in(exc: BaseException) -> Optional[ClusterUnreachableError]:
    seen = 0
    current: Optional[BaseException] = exc
    while current is not None and seen < 16:
        if isinstance(current, ClusterUnreachableError):
            return current
        current = current.__cause__ or current.__context__
        seen += 1
    return None


def _cluster_action(action: Callable[[], None]) -> None:
    """Runs an action against the cluster: unreachable is one line, other errors Flink's
    error block; both exit 1."""
    try:
        action()
    except ClusterUnreachableError as exc:
        _fail(str(exc))
    except FlinkPyError as exc:
        _fail_with_exception(str(exc))


# -- configuration and the cluster ------------------------------------------------------------


def _conf_dir() -> Optional[str]:
    """$FLINK_CONF_DIR, else this installation's conf/ (where the cluster secret is too)."""
    conf_dir = os.environ.get(GlobalConfiguration.ENV_FLINK_CONF_DIR)
    if not conf_dir and _INSTALLATION_CONF_DIR.is_dir():
        conf_dir = str(_INSTALLATION_CONF_DIR)
    return conf_dir


def _load_configuration(dynamic_properties: Tuple[str, ...]) -> Configuration:
    overrides: Dict[str, str] = {}
    for item in dynamic_properties:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            _fail(f"Invalid dynamic property {item!r}: expected -D key=value.")
        overrides[key.strip()] = value
    try:
        return GlobalConfiguration.load_configuration(_conf_dir(), overrides)
    except FlinkPyError as exc:
        _fail(str(exc))


def _client(jobmanager: Optional[str], configuration: Configuration) -> RestClusterClient:
    timeout_s = DEFAULT_TIMEOUT_S
    raw_timeout = configuration.get_string("client.timeout")
    try:
        if raw_timeout:
            timeout_s = parse_duration(raw_timeout).to_milliseconds() / 1000.0
        # the credential and TLS settings come from the configuration and the conf dir's
        # cluster secret: no extra step for the user
        return client_from_configuration(configuration, _conf_dir(), jobmanager, timeout_s)
    except (FlinkPyError, ValueError) as exc:
        _fail(str(exc))


def _check_job_id(job_id: Optional[str], usage: str = "cancel [-m <host:port>]",
                  after: str = "") -> str:
    if not job_id:
        _fail(f"Missing JobID. Usage: flink {usage} <Job ID>{after}")
    try:
        return JobID.from_hex_string(job_id).to_hex_string()
    except ValueError as exc:
        _fail(str(exc))


# -- running programs -------------------------------------------------------------------------


class _ContextExecutor:
    """Flink's ContextEnvironment around the real executor: prints the submission and, when
    attached, the result, as ``flink run`` does."""

    def __init__(self, executor: Any, detached: bool,
                 job_settings: Optional[Dict[str, str]] = None) -> None:
        self._executor = executor
        self._detached = detached
        self._job_settings = dict(job_settings or {})

    def submit(self, job_graph: Any) -> str:
        # -s/-n belong to the job: the JobMaster reads them from its configuration
        for key, value in self._job_settings.items():
            job_graph.job_configuration.setdefault(key, value)
        job_id = self._executor.submit(job_graph)
        click.echo(f"Job has been submitted with JobID {job_id}")
        return job_id

    def job_status(self, job_id: str) -> JobStatus:
        return self._executor.job_status(job_id)

    def cancel(self, job_id: str) -> None:
        self._executor.cancel(job_id)

    def job_result(self, job_id: str, timeout_s: Optional[float] = None) -> Any:
        result = self._executor.job_result(job_id, timeout_s)
        if not self._detached:
            click.echo(str(result), nl=False)  # Program execution finished / ... / Job Runtime
        return result

    def collect(self, job_id: str, collect_id: str) -> Any:
        return self._executor.collect(job_id, collect_id)


class _PlanExecutor:
    """``flink info``: prints the plan of the first job the program executes, then stops it."""

    def submit(self, job_graph: Any) -> str:
        click.echo(_PLAN_HEADER)
        click.echo(job_graph.execution_plan)
        click.echo(_RULE)
        click.echo("")
        raise _ProgramAbort()


class _Program:
    """The program to run: a file or a module, its arguments, where it is found."""

    def __init__(self, program: Optional[str], entry_module: Optional[str],
                 python_file: Optional[str], python_module: Optional[str],
                 args: Tuple[str, ...]) -> None:
        modules = [m for m in (entry_module, python_module) if m]
        if len(modules) > 1 or (modules and python_file):
            _fail("Give one program: a .py file, -py <file>, or -c/-pym <module>.")
        self.module = modules[0] if modules else None
        self.file = python_file
        if self.module is None and self.file is None:
            self.file = program
        elif program is not None:
            args = (program,) + args
        if self.module is None and self.file is None:
            _fail("No program given. Usage: flink run [OPTIONS] <program.py> [ARGUMENTS] "
                  "or flink run -c <module.path> [OPTIONS] [ARGUMENTS]")
        self.args = args

    def check(self) -> None:
        """Fails early, before the cluster is contacted, if the program cannot be found."""
        if self.file is not None:
            if not os.path.isfile(self.file):
                _fail(f"Could not run the program: FileNotFoundError: the program file "
                      f"{self.file!r} does not exist.")
            return
        with self.on_path():
            try:
                find_module_spec(self.module)  # type: ignore[arg-type]
            except ImportError as exc:
                _fail(f"Could not run the program: {type(exc).__name__}: {exc} "
                      f"(the module {self.module!r} of -c/--class is looked up in the current "
                      f"directory and the Python path).")

    def path_entry(self) -> str:
        """Where its own imports are found: the file's directory, or the working directory
        for a module (as ``python file.py`` and ``python -m module`` do)."""
        if self.file is not None:
            return str(Path(self.file).resolve().parent)
        return os.getcwd()

    def on_path(self, extra: Tuple[str, ...] = ()) -> "_SysPath":
        return _SysPath((self.path_entry(),) + extra)

    def run(self, extra_path: Tuple[str, ...] = ()) -> None:
        saved_argv = sys.argv
        sys.argv = [self.file or self.module or ""] + list(self.args)
        try:
            with self.on_path(extra_path):
                if self.module is not None:
                    runpy.run_module(self.module, run_name="__main__", alter_sys=True)
                else:
                    runpy.run_path(self.file, run_name="__main__")  # type: ignore[arg-type]
        finally:
            sys.argv = saved_argv


class _SysPath:
    """Puts entries first on ``sys.path`` for a while."""

    def __init__(self, entries: Tuple[str, ...]) -> None:
        self.entries = [e for e in entries if e]

    def __enter__(self) -> None:
        self._saved = list(sys.path)
        sys.path[:0] = self.entries

    def __exit__(self, *exc: object) -> None:
        sys.path[:] = self._saved


class _ContextEnvironment:
    """Installs the context executor and the CLI's configuration for the program's
    ``get_execution_environment()`` calls, and restores both afterwards."""

    def __init__(self, configuration: Configuration,
                 executor_factory: Callable[[Configuration], Any]) -> None:
        self.configuration = configuration
        self.executor_factory = executor_factory

    def __enter__(self) -> None:
        environment_class = env_module.StreamExecutionEnvironment
        # The staticmethod object itself, to put back as it was.
        self._original = environment_class.__dict__["get_execution_environment"]
        self._original_factory = env_module._context_executor_factory
        original = environment_class.get_execution_environment
        cli_configuration = self.configuration

        def get_execution_environment(configuration: Optional[Configuration] = None
                                      ) -> "env_module.StreamExecutionEnvironment":
            # The program's own settings win over -D/-p, which win over the files.
            merged = Configuration(cli_configuration)
            if configuration is not None:
                merged.add_all(configuration)
            return original(merged)

        env_module.StreamExecutionEnvironment.get_execution_environment = (  # type: ignore
            staticmethod(get_execution_environment))
        env_module._context_executor_factory = self.executor_factory

    def __exit__(self, *exc: object) -> None:
        setattr(env_module.StreamExecutionEnvironment, "get_execution_environment",
                self._original)
        env_module._context_executor_factory = self._original_factory


def _program_error_text(exc: BaseException) -> str:
    """A failed program's error: a job's failure shows the user's frames (its cause's
    traceback) and then its one line naming task, operator and subtask, without the
    client's frames; any other error shows its traceback from the program's own frames on."""
    if isinstance(exc, JobExecutionError):
        return "".join(traceback.format_exception(type(exc), exc, None))
    tb = exc.__traceback__
    this_file = os.path.abspath(__file__)
    while tb is not None and (tb.tb_frame.f_globals.get("__name__") == "runpy"
                              or os.path.abspath(tb.tb_frame.f_code.co_filename) == this_file):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def _execute_program(program: _Program, configuration: Configuration,
                     executor_factory: Callable[[Configuration], Any],
                     extra_path: Tuple[str, ...] = ()) -> bool:
    """Runs the program in the context environment; False if it stopped at _ProgramAbort."""
    try:
        with _ContextEnvironment(configuration, executor_factory):
            program.run(extra_path)
    except _ProgramAbort:
        return False
    except SystemExit as exc:  # the program's own sys.exit()
        if exc.code not in (None, 0):
            raise
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        unreachable = _unreachable_in(exc)
        if unreachable is not None:
            _fail(str(unreachable))
        _fail_with_exception(_program_error_text(exc))
    return True


def _parallelism_override(configuration: Configuration, parallelism: Optional[int]) -> None:
    if parallelism is not None:
        if parallelism < 1:
            _fail(f"The parallelism must be a positive number, got {parallelism} (-p).")
        configuration.set(options.DEFAULT_PARALLELISM, parallelism)


def _program_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that name a program and its settings (run and info)."""
    decorators = [
        click.option("-c", "--class", "entry_module", default=None, metavar="<module>",
                     help="Module with the program's entry point (runs as __main__)."),
        click.option("-py", "--python", "python_file", default=None, metavar="<file>",
                     help="Python file with the program's entry point."),
        click.option("-pym", "--pyModule", "python_module", default=None, metavar="<module>",
                     help="Python module with the program's entry point (like -c)."),
        click.option("-p", "--parallelism", type=int, default=None, metavar="<parallelism>",
                     help="The parallelism with which to run the program."),
        click.option("-D", "dynamic_properties", multiple=True, metavar="<property=value>",
                     help="Configuration value (repeatable)."),
        click.argument("program", required=False),
        click.argument("args", nargs=-1, type=click.UNPROCESSED),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


# -- the actions ------------------------------------------------------------------------------


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from flink_py.runtime.rest.handlers import FLINK_VERSION, flink_commit
    click.echo(f"Version: {FLINK_VERSION}, Commit ID: {flink_commit()}")
    ctx.exit(0)


@click.group(context_settings=_CONTEXT)
@click.option("-v", "--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show the version and exit.")
def main() -> None:
    """./flink <ACTION> [OPTIONS] [ARGUMENTS]"""


@main.command(context_settings=_PROGRAM_CONTEXT)
@_program_options
@click.option("-d", "--detached", is_flag=True, help="Run the job in detached mode.")
@click.option("-m", "--jobmanager", default=None, metavar="<host:port>",
              help="Address of the JobManager's REST endpoint.")
@click.option("-t", "--target", type=click.Choice(["remote", "local"], case_sensitive=False),
              default=None, help="remote: the cluster (default, or execution.target); "
                                 "local: an embedded MiniCluster in this process.")
@click.option("-pyfs", "--pyFiles", "py_files", multiple=True, metavar="<pythonFiles>",
              help="Files (.py/.zip/.whl) or directories to ship with the program and put "
                   "on its path, comma-separated (python.files).")
@click.option("-pyreq", "--pyRequirements", "py_requirements", default=None,
              metavar="<requirementsFile>[#<requirementsCacheDir>]",
              help="A requirements.txt the TaskManagers pip-install for the job "
                   "(python.requirements); after '#', a directory of packages to install "
                   "from without an index.")
@click.option("-pyarch", "--pyArchives", "py_archives", default=None,
              metavar="<archive>[#<targetDir>],...",
              help="Archives extracted into the working directory of the job's tasks "
                   "(python.archives), comma-separated.")
@click.option("-pyexec", "--pyExecutable", "py_executable", default=None,
              metavar="<pythonInterpreter>",
              help="The Python interpreter of the job's functions (python.executable; "
                   "flink_py runs them in the TaskManagers' Python and warns if it differs).")
@click.option("-s", "--fromSavepoint", "from_savepoint", default=None,
              metavar="<savepointPath>",
              help="Path to a savepoint (or retained checkpoint) to restore the job from.")
@click.option("-n", "--allowNonRestoredState", "allow_non_restored_state", is_flag=True,
              help="Allow to skip savepoint state that cannot be restored.")
def run(entry_module: Optional[str], python_file: Optional[str],
        python_module: Optional[str], parallelism: Optional[int],
        dynamic_properties: Tuple[str, ...], program: Optional[str], args: Tuple[str, ...],
        detached: bool, jobmanager: Optional[str], target: Optional[str],
        py_files: Tuple[str, ...], py_requirements: Optional[str],
        py_archives: Optional[str], py_executable: Optional[str],
        from_savepoint: Optional[str], allow_non_restored_state: bool) -> None:
    """Compiles and runs a program: a .py file, or a module with -c."""
    the_program = _Program(program, entry_module, python_file, python_module, args)
    configuration = _load_configuration(dynamic_properties)
    _parallelism_override(configuration, parallelism)
    _python_dependency_options(configuration, py_files, py_requirements, py_archives,
                               py_executable)
    job_settings = _savepoint_restore_settings(configuration, from_savepoint,
                                               allow_non_restored_state)
    target = (target or configuration.get_string("execution.target") or "remote").lower()
    if target not in ("remote", "local"):
        _fail(f"Unsupported execution target {target!r} (-t/--target, execution.target): "
              f"expected remote or local.")
    the_program.check()
    extra_path = tuple(local_py_path(py_files))
    if target == "local":
        if detached:
            _fail("-d/--detached needs a cluster: an embedded MiniCluster (-t local) ends "
                  "with the client.")
        factory = _local_executor_factory
    else:
        client = _client(jobmanager, configuration)
        try:
            with the_program.on_path(extra_path):
                # -pyfs travel as python.files (laid out by the TaskManagers)
                artifacts = package_program(the_program.file, the_program.module)
        except (ProgramPackagingError, ImportError, OSError) as exc:
            _fail(f"Could not package the program's code: {exc}")
        executor = RemoteExecutor(client, detached, artifacts)

        def factory(conf: Configuration) -> Any:
            return _ContextExecutor(executor, detached, job_settings)
    _execute_program(the_program, configuration, factory, extra_path)


def _python_dependency_options(configuration: Configuration, py_files: Tuple[str, ...],
                               py_requirements: Optional[str], py_archives: Optional[str],
                               py_executable: Optional[str]) -> None:
    """-pyfs/-pyreq/-pyarch/-pyexec as python.files/requirements/archives/executable, as
    Flink's CLI sets them."""
    files = [entry for value in py_files for entry in split_entries(value)]
    if files:
        configuration.set(options.PYTHON_FILES, ",".join(files))
    for option, value in ((options.PYTHON_REQUIREMENTS, py_requirements),
                          (options.PYTHON_ARCHIVES, py_archives),
                          (options.PYTHON_EXECUTABLE, py_executable)):
        if value is not None:
            if not value.strip():
                _fail(f"{option.key} (-pyreq/-pyarch/-pyexec) needs a value.")
            configuration.set(option, value.strip())
    if py_executable is not None and executable_differs(py_executable.strip()):
        click.echo(f"Warning: -pyexec {py_executable.strip()!r} is not used: flink_py runs the "
                   f"job's functions in the TaskManagers' own Python.", err=True)
    try:  # a missing file fails here, before the program runs
        python_dependency_artifacts(configuration)
    except (InvalidProgramError, ProgramPackagingError) as exc:
        _fail(f"Could not package the program's Python dependencies: {exc}")


def _savepoint_restore_settings(configuration: Configuration, from_savepoint: Optional[str],
                                allow_non_restored_state: bool) -> Dict[str, str]:
    """-s and -n as the job's settings (also put into the configuration the program sees)."""
    settings: Dict[str, str] = {}
    if from_savepoint is not None:
        if not from_savepoint.strip():
            _fail("-s/--fromSavepoint needs the path of a savepoint or retained checkpoint.")
        settings[options.SAVEPOINT_PATH.key] = from_savepoint
    if allow_non_restored_state:
        settings[options.SAVEPOINT_IGNORE_UNCLAIMED_STATE.key] = "true"
    for key, value in settings.items():
        configuration.set_string(key, value)
    return settings


def _local_executor_factory(configuration: Configuration) -> Any:
    environment = env_module.StreamExecutionEnvironment(configuration)
    settings = {key: configuration.get_string(key) for key in
                (options.SAVEPOINT_PATH.key, options.SAVEPOINT_IGNORE_UNCLAIMED_STATE.key)
                if configuration.get_string(key) is not None}
    return _ContextExecutor(environment._get_executor(), detached=False,
                            job_settings=settings)


@main.command(context_settings=_PROGRAM_CONTEXT)
@_program_options
def info(entry_module: Optional[str], python_file: Optional[str],
         python_module: Optional[str], parallelism: Optional[int],
         dynamic_properties: Tuple[str, ...], program: Optional[str],
         args: Tuple[str, ...]) -> None:
    """Shows the optimized execution plan of a program (JSON)."""
    the_program = _Program(program, entry_module, python_file, python_module, args)
    configuration = _load_configuration(dynamic_properties)
    _parallelism_override(configuration, parallelism)
    the_program.check()
    plan_executor = _PlanExecutor()
    if _execute_program(the_program, configuration, lambda conf: plan_executor):
        _fail_with_exception("The program plan could not be fetched - the program aborted "
                             "pre-maturely: it did not call execute().")


@main.command(name="list", context_settings=_CONTEXT)
@click.option("-r", "--running", is_flag=True, help="Show only running programs and their "
                                                    "JobIDs.")
@click.option("-s", "--scheduled", is_flag=True, help="Show only scheduled programs and "
                                                      "their JobIDs.")
@click.option("-a", "--all", "show_all", is_flag=True, help="Show all programs and their "
                                                           "JobIDs.")
@click.option("-m", "--jobmanager", default=None, metavar="<host:port>",
              help="Address of the JobManager's REST endpoint.")
@click.option("-D", "dynamic_properties", multiple=True, metavar="<property=value>",
              help="Configuration value (repeatable).")
def list_jobs(running: bool, scheduled: bool, show_all: bool, jobmanager: Optional[str],
              dynamic_properties: Tuple[str, ...]) -> None:
    """Lists running and scheduled programs."""
    if not (running or scheduled or show_all):
        running, scheduled = True, True
    client = _client(jobmanager, _load_configuration(dynamic_properties))

    def action() -> None:
        click.echo("Waiting for response...")
        _print_job_list(client.list_jobs(), running, scheduled, show_all)

    _cluster_action(action)


def _print_job_list(jobs: List[JobStatusMessage], show_running: bool, show_scheduled: bool,
                    show_all: bool) -> None:
    """CliFrontend.listJobs: CREATED is scheduled, not globally terminal is running."""
    running, scheduled, terminated = [], [], []
    for job in jobs:
        if job.job_state is JobStatus.CREATED:
            scheduled.append(job)
        elif not job.job_state.is_globally_terminal_state():
            running.append(job)
        else:
            terminated.append(job)
    if show_running or show_all:
        if not running:
            click.echo("No running jobs.")
        else:
            click.echo(_RUNNING_HEADER)
            _print_job_status_messages(running)
            click.echo(_RULE)
    if show_scheduled or show_all:
        if not scheduled:
            click.echo("No scheduled jobs.")
        else:
            click.echo(_SCHEDULED_HEADER)
            _print_job_status_messages(scheduled)
            click.echo(_RULE)
    if show_all and terminated:
        click.echo(_TERMINATED_HEADER)
        _print_job_status_messages(terminated)
        click.echo(_RULE)
    failed = [job for job in terminated if job.job_state is JobStatus.FAILED]
    if failed and not show_all:
        # stderr only: stdout keeps Flink's format, which tools parse
        shown = ", ".join(f"{job.job_id} ({job.job_name})" for job in failed[:3])
        more = f" and {len(failed) - 3} more" if len(failed) > 3 else ""
        click.echo(f"Note: {len(failed)} job{'s' if len(failed) > 1 else ''} FAILED: "
                   f"{shown}{more}; 'flink list -a' lists them, the JobManager's log says "
                   f"why.", err=True)


def _print_job_status_messages(jobs: List[JobStatusMessage]) -> None:
    """Grouped by state (names compared case-insensitively), then stably sorted by start
    time, as CliFrontend.printJobStatusMessages does."""
    by_state: Dict[str, List[JobStatusMessage]] = {}
    for job in jobs:
        by_state.setdefault(job.job_state.name, []).append(job)
    ordered = [job for state in sorted(by_state, key=str.lower) for job in by_state[state]]
    for job in sorted(ordered, key=lambda j: j.start_time_ms):
        started = time.strftime("%d.%m.%Y %H:%M:%S", time.localtime(job.start_time_ms / 1000))
        click.echo(f"{started} : {job.job_id} : {job.job_name} ({job.job_state.name})")


def _cluster_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """-m and -D, as every action against a running cluster takes them."""
    command = click.option("-D", "dynamic_properties", multiple=True,
                           metavar="<property=value>",
                           help="Configuration value (repeatable).")(command)
    return click.option("-m", "--jobmanager", default=None, metavar="<host:port>",
                        help="Address of the JobManager's REST endpoint.")(command)


@main.command(context_settings=_CONTEXT)
@_cluster_options
@click.option("-s", "--withSavepoint", "with_savepoint", default=None, is_flag=False,
              flag_value="", metavar="<targetDirectory>",
              help="Trigger a savepoint and cancel the job (deprecated in Flink: use stop).")
@click.argument("job_id", required=False)
def cancel(jobmanager: Optional[str], dynamic_properties: Tuple[str, ...],
           with_savepoint: Optional[str], job_id: Optional[str]) -> None:
    """Cancels a running job."""
    job_id, with_savepoint = _job_id_or_optional_value(job_id, with_savepoint)
    job_id = _check_job_id(job_id, "cancel [-m <host:port>] [-s [targetDirectory]]")
    client = _client(jobmanager, _load_configuration(dynamic_properties))

    def action() -> None:
        click.echo(f"Cancelling job {job_id}.")
        try:
            client.cancel_job(job_id)
        except ClusterUnreachableError:
            raise
        except FlinkPyError as exc:
            raise FlinkPyError(f"Could not cancel job {job_id}: {exc}") from exc
        click.echo(f"Cancelled job {job_id}.")

    def action_with_savepoint() -> None:
        target = with_savepoint or None
        click.echo("DEPRECATION WARNING: Cancelling a job with savepoint is deprecated. Use "
                   "\"stop\" instead.")
        click.echo(f"Cancelling job {job_id} with savepoint to "
                   f"{target or 'default savepoint directory'}.")
        path = _await_savepoint(client, job_id, lambda: client.trigger_savepoint(
            job_id, target, cancel_job=True), f"Could not cancel job {job_id}.")
        click.echo(f"Cancelled job {job_id}. Savepoint stored in {path}.")

    _cluster_action(action if with_savepoint is None else action_with_savepoint)


def _job_id_or_optional_value(job_id: Optional[str], value: Optional[str]
                              ) -> Tuple[Optional[str], Optional[str]]:
    """``stop -p <job-id>``: an option with an optional value took the job id (Flink's
    CliFrontend reads the job id from the option's value when no argument is left)."""
    if job_id is None and value:
        return value, ""
    return job_id, value


def _check_format_type(context: click.Context, parameter: click.Parameter,
                       value: str) -> str:
    if value.lower() != "canonical":
        raise click.BadParameter(
            f"the savepoint format {value!r} is not supported: flink_py writes savepoints in "
            f"the canonical format (restorable into either state backend, at any "
            f"parallelism)", context, parameter)
    return value.lower()


#: Flink's ``-type,--type <canonical|native>`` of savepoint and stop
_format_type_option = click.option(
    "-type", "--type", "format_type", default="canonical", metavar="<arg>",
    callback=_check_format_type,
    help="Describes the binary format in which a savepoint should be taken. Supported "
         "options: [canonical - a common format for all state backends, allows for "
         "changing state backends].")


def _await_savepoint(client: RestClusterClient, job_id: str, trigger: Callable[[], str],
                     failure: str) -> str:
    """Triggers a savepoint operation and waits for its location; ``failure`` heads the
    error (Flink's FlinkException message) with the cause below it."""
    try:
        trigger_id = trigger()
        return client.wait_for_savepoint(job_id, trigger_id)
    except ClusterUnreachableError:
        raise
    except (FlinkPyError, TimeoutError) as exc:
        cause = str(exc) if isinstance(exc, SavepointFailedError) else \
            f"{type(exc).__name__}: {exc}"
        raise FlinkPyError(f"{failure}\nCaused by: {cause}") from exc


@main.command(context_settings=_CONTEXT)
@_cluster_options
@click.option("-d", "--dispose", "dispose", default=None, metavar="<arg>",
              help="Path of savepoint to dispose.")
@_format_type_option
@click.argument("job_id", required=False)
@click.argument("target_directory", required=False)
def savepoint(jobmanager: Optional[str], dynamic_properties: Tuple[str, ...],
              dispose: Optional[str], format_type: str, job_id: Optional[str],
              target_directory: Optional[str]) -> None:
    """Triggers a savepoint of a running job (into the target directory, else
    execution.checkpointing.savepoint-dir)."""
    if dispose is not None:
        _dispose_savepoint(_client(jobmanager, _load_configuration(dynamic_properties)),
                           dispose)
        return
    job_id = _check_job_id(job_id, "savepoint [-m <host:port>]", " [<target directory>]")
    client = _client(jobmanager, _load_configuration(dynamic_properties))

    def action() -> None:
        click.echo(f"Triggering savepoint for job {job_id}.")
        click.echo("Waiting for response...")
        path = _await_savepoint(
            client, job_id, lambda: client.trigger_savepoint(job_id, target_directory),
            f"Triggering a savepoint for the job {job_id} failed.")
        click.echo(f"Savepoint completed. Path: {path}")
        click.echo("You can resume your program from this savepoint with the run command.")

    _cluster_action(action)


def _dispose_savepoint(client: RestClusterClient, savepoint_path: str) -> None:
    def action() -> None:
        click.echo(f"Disposing savepoint '{savepoint_path}'.")
        click.echo("Waiting for response...")
        try:
            client.dispose_savepoint(savepoint_path)
        except ClusterUnreachableError:
            raise
        except (FlinkPyError, TimeoutError) as exc:
            raise FlinkPyError(f"Disposing the savepoint '{savepoint_path}' failed.\n"
                               f"Caused by: {exc}") from exc
        click.echo(f"Savepoint '{savepoint_path}' disposed.")

    _cluster_action(action)


@main.command(context_settings=_CONTEXT)
@_cluster_options
@click.option("-p", "--savepointPath", "savepoint_path", default=None, is_flag=False,
              flag_value="", metavar="<savepointPath>",
              help="Path to the savepoint (else execution.checkpointing.savepoint-dir).")
@click.option("-d", "--drain", is_flag=True,
              help="Send MAX_WATERMARK before taking the savepoint and stopping the "
                   "pipeline.")
@_format_type_option
@click.argument("job_id", required=False)
def stop(jobmanager: Optional[str], dynamic_properties: Tuple[str, ...],
         savepoint_path: Optional[str], drain: bool, format_type: str,
         job_id: Optional[str]) -> None:
    """Stops a running job with a savepoint."""
    job_id, savepoint_path = _job_id_or_optional_value(job_id, savepoint_path)
    job_id = _check_job_id(job_id, "stop [-m <host:port>] [-p [savepointPath]] [-d]")
    client = _client(jobmanager, _load_configuration(dynamic_properties))

    def action() -> None:
        click.echo(f'{"Draining" if drain else "Suspending"} job "{job_id}" with a '
                   f'savepoint.')
        path = _await_savepoint(
            client, job_id,
            lambda: client.stop_with_savepoint(job_id, savepoint_path or None, drain),
            f'Could not stop with a savepoint job "{job_id}".')
        click.echo(f"Savepoint completed. Path: {path}")

    _cluster_action(action)


if __name__ == "__main__":
    main(prog_name="flink")
