"""A job's Python dependencies, prepared in the process that runs its tasks (Flink's
``PythonEnvironmentManager``).

What a program declares with ``env.add_python_file``, ``set_python_requirements`` and
``add_python_archive`` (or ``python.files``/``python.requirements``/``python.archives``,
``flink run -pyfs/-pyreq/-pyarch``) travels with the JobGraph as user artifacts under
:data:`ARTIFACT_PREFIX`, described by the JSON :data:`MANIFEST` (written by
``flink_py.client.python_dependencies``). Before the first task of a job in a process loads
its functions, :class:`PythonEnvironmentManager` lays them out in a directory of the job's
own, as PyFlink's Python worker does:

- ``python-files/<i>/``: a ``.py`` file lands in this directory, which goes on ``sys.path``;
  a directory goes on ``sys.path`` itself (its modules are importable, not the directory as
  a package, as in PyFlink); a ``.zip``/``.jar``/``.tar``/``.tar.gz``/``.tgz`` file is
  extracted and its root goes on ``sys.path``; any other file (``.whl``, ``.egg``) goes on
  ``sys.path`` as it is. The first entry of ``python.files`` comes first.
- the requirements: installed by ``pip install --target`` into a directory shared by the jobs
  of this machine and keyed by the hash of the requirements file, its package directory
  and this Python (installed once; a second job with the same file reuses it), offline
  (``--no-index --find-links``) when a package directory is given; it goes on ``sys.path``
  after the files.
- ``python-archives/<target_dir>/``: each archive extracted; ``python-archives`` becomes the
  process's working directory while the job runs, so user functions open an archive's files
  by relative path (``open("mydata/data.txt")``) as in PyFlink.

Differences from PyFlink, and why: the tasks are threads of the TaskManager's (or, locally,
the program's) own Python process, not a separate Python worker, so the paths and the working
directory are the process's. A slot worker runs one job at a time, so that is the job's; in a
MiniCluster (``python job.py``) the program's working directory changes to the archives'
directory while a job with archives runs (relative paths the job's sources and sinks name are
resolved from there too), and ``python.executable`` cannot choose another interpreter: a
warning says so when it names one. The preparation is reference-counted per job: the last task
of the job to end removes the paths, the modules imported from them and the directory.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from flink_py.errors import FlinkPyError

log = logging.getLogger(__name__)

#: the user artifacts of a job's Python dependencies are named under this prefix
ARTIFACT_PREFIX = "python-dependencies/"
#: the artifact that describes the others (JSON)
MANIFEST = ARTIFACT_PREFIX + "manifest.json"
#: job configuration keys whose presence means the job has Python dependencies
DEPENDENCY_KEYS = ("python.files", "python.requirements", "python.archives")
#: suffixes of the files Flink extracts (CompressionUtils), longest first
COMPRESSED_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip", ".jar")
#: how long pip may take to install a job's requirements
PIP_TIMEOUT_S = 600.0


class PythonDependencyError(FlinkPyError):
    """A job's Python dependencies cannot be prepared (bad archive, pip failed, ...)."""


def has_python_dependencies(job_configuration: Dict[str, str]) -> bool:
    """Whether a job's configuration declares Python files, requirements or archives."""
    return any(job_configuration.get(key) for key in DEPENDENCY_KEYS)


def strip_compressed_suffix(name: str) -> Optional[str]:
    """``name`` without its archive suffix, or None if it is not an archive Flink extracts.

    >>> strip_compressed_suffix("lib.tar.gz"), strip_compressed_suffix("lib.whl")
    ('lib', None)
    """
    lower = name.lower()
    for suffix in COMPRESSED_SUFFIXES:
        if lower.endswith(suffix):
            return name[:-len(suffix)]
    return None


def extract_archive(data: bytes, name: str, target: str) -> None:
    """Extracts a zip or tar archive (``name`` says which) into ``target``, refusing members
    that would land outside it."""
    os.makedirs(target, exist_ok=True)
    root = os.path.realpath(target)

    def check(member: str) -> None:
        path = os.path.realpath(os.path.join(root, member))
        if path != root and not path.startswith(root + os.sep):
            raise PythonDependencyError(f"the archive {name!r} has an unsafe path {member!r}")

    lower = name.lower()
    try:
        if lower.endswith((".tar", ".tar.gz", ".tgz")):
            with tarfile.open(fileobj=io.BytesIO(data)) as archive:
                for member in archive.getmembers():
                    check(member.name)
                    if member.issym() or member.islnk():
                        check(os.path.join(os.path.dirname(member.name), member.linkname))
                archive.extractall(target)
        else:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for member in archive.namelist():
                    check(member)
                archive.extractall(target)
                for info in archive.infolist():  # permissions, as Flink restores them
                    mode = (info.external_attr >> 16) & 0o777
                    if mode and not info.is_dir():
                        os.chmod(os.path.join(target, info.filename), mode)
    except (zipfile.BadZipFile, tarfile.TarError) as exc:
        raise PythonDependencyError(
            f"{name!r} is not a zip or tar archive (python.files/python.archives take zip, "
            f"jar, whl, egg, tar, tar.gz and tgz files): {exc}") from exc


@dataclass
class _PreparedJob:
    base_dir: str
    sys_path: List[str]
    roots: List[str]  # where its modules come from (unloaded at the end)
    previous_cwd: Optional[str] = None
    working_dir: Optional[str] = None
    users: int = 0


class PythonEnvironmentManager:
    """Prepares each job's Python dependencies once per process, for as long as its tasks run.

    Thread-safe; one instance per process (:data:`PYTHON_ENVIRONMENTS`), since ``sys.path``
    and the working directory are the process's.
    """

    def __init__(self, requirements_cache_dir: Optional[str] = None) -> None:
        self._lock = threading.Lock()
        self._jobs: Dict[str, _PreparedJob] = {}
        self._requirements_cache_dir = requirements_cache_dir

    @property
    def requirements_cache_dir(self) -> str:
        """Where installed requirements are kept, one directory per requirements hash."""
        return self._requirements_cache_dir or os.path.join(
            tempfile.gettempdir(), "flink_py-python-requirements")

    def open(self, job_id: str, fetch: Callable[[], Dict[str, bytes]]) -> None:
        """Makes the dependencies of ``job_id`` available (fetched and laid out on first use).

        :param fetch: returns the job's user artifacts (the JobMaster's
            ``request_user_artifacts``).
        :raises PythonDependencyError: if they cannot be prepared.
        """
        with self._lock:
            prepared = self._jobs.get(job_id)
            if prepared is None:
                prepared = self._prepare(job_id, fetch())
                self._jobs[job_id] = prepared
            prepared.users += 1

    def close(self, job_id: str) -> None:
        """Ends one task's use; the last one removes the job's paths and directory."""
        with self._lock:
            prepared = self._jobs.get(job_id)
            if prepared is None:
                return
            prepared.users -= 1
            if prepared.users > 0:
                return
            del self._jobs[job_id]
            self._remove(prepared)

    def working_directory(self, job_id: str) -> Optional[str]:
        """The working directory of ``job_id``'s tasks, if its archives set one."""
        with self._lock:
            prepared = self._jobs.get(job_id)
            return None if prepared is None else prepared.working_dir

    # -- laying out ---------------------------------------------------------------------------

    def _prepare(self, job_id: str, artifacts: Dict[str, bytes]) -> _PreparedJob:
        if MANIFEST not in artifacts:
            raise PythonDependencyError(
                f"job {job_id} declares Python dependencies but was submitted without them "
                f"(no {MANIFEST!r} among its user artifacts)")
        manifest = json.loads(artifacts[MANIFEST].decode("utf-8"))
        base = tempfile.mkdtemp(prefix=f"flink_py-python-{job_id}-")
        prepared = _PreparedJob(base, [], [base])
        try:
            for index, entry in enumerate(manifest.get("files", [])):
                prepared.sys_path.append(self._lay_out_file(
                    os.path.join(base, "python-files", str(index)), entry, artifacts))
            requirements = manifest.get("requirements")
            if requirements:
                installed = self._install_requirements(requirements, artifacts)
                prepared.sys_path.append(installed)
                prepared.roots.append(installed)
            archives = manifest.get("archives", [])
            if archives:
                working_dir = os.path.join(base, "python-archives")
                for entry in archives:
                    target_dir = entry["target_dir"]
                    if os.sep in target_dir or target_dir in ("", ".", ".."):
                        raise PythonDependencyError(
                            f"the target directory of archive {entry['name']!r} must be a "
                            f"plain directory name, got {target_dir!r}")
                    extract_archive(_artifact(artifacts, entry), entry["name"],
                                    os.path.join(working_dir, target_dir))
                prepared.working_dir = working_dir
            _check_executable(manifest.get("executable"))
        except BaseException:
            shutil.rmtree(base, ignore_errors=True)
            raise
        sys.path[:0] = prepared.sys_path
        importlib.invalidate_caches()
        if prepared.working_dir is not None:
            prepared.previous_cwd = os.getcwd()
            os.chdir(prepared.working_dir)
        log.info("Python dependencies of job %s: sys.path += %s, working directory %s",
                 job_id, prepared.sys_path, prepared.working_dir or "unchanged")
        return prepared

    @staticmethod
    def _lay_out_file(directory: str, entry: Dict[str, Any], artifacts: Dict[str, bytes]
                      ) -> str:
        """Writes one ``python.files`` entry under ``directory``; returns its path entry."""
        name = entry["name"]
        data = _artifact(artifacts, entry)
        os.makedirs(directory, exist_ok=True)
        if entry.get("directory"):
            target = os.path.join(directory, name)
            extract_archive(data, name + ".zip", target)
            return target
        if name.endswith(".py"):
            with open(os.path.join(directory, name), "wb") as f:
                f.write(data)
            return directory
        stem = strip_compressed_suffix(name)
        if stem is not None:
            target = os.path.join(directory, stem)
            extract_archive(data, name, target)
            return target
        target = os.path.join(directory, name)  # .whl, .egg: importable as they are
        with open(target, "wb") as f:
            f.write(data)
        return target

    def _install_requirements(self, entry: Dict[str, Any], artifacts: Dict[str, bytes]) -> str:
        """pip-installs the requirements once per (file, package dir, Python); returns the
        directory they are installed in."""
        requirements = _artifact(artifacts, entry)
        cache_name = entry.get("cache_artifact")
        cache = artifacts.get(cache_name) if cache_name else None
        if cache_name and cache is None:
            raise PythonDependencyError(f"the requirements' package directory {cache_name!r} "
                                        f"was not shipped with the job")
        digest = hashlib.sha256()
        for part in (requirements, cache or b"", sys.version.encode(),
                     os.path.realpath(sys.executable).encode()):
            digest.update(hashlib.sha256(part).digest())
        root = self.requirements_cache_dir
        target = os.path.join(root, digest.hexdigest()[:32])
        if os.path.isdir(target):
            return target
        os.makedirs(root, exist_ok=True)
        staging = tempfile.mkdtemp(prefix="installing-", dir=root)
        try:
            requirements_file = os.path.join(staging, "requirements.txt")
            with open(requirements_file, "wb") as f:
                f.write(requirements)
            command = [sys.executable, "-m", "pip", "install", "--target",
                       os.path.join(staging, "site"), "-r", requirements_file,
                       "--disable-pip-version-check", "--no-warn-script-location",
                       "--no-input"]
            if cache is not None:
                find_links = os.path.join(staging, "packages")
                extract_archive(cache, "requirements-cache.zip", find_links)
                command += ["--no-index", "--find-links", find_links]
            log.info("Installing Python requirements: %s", " ".join(command))
            try:
                done = subprocess.run(command, capture_output=True, text=True,
                                      timeout=PIP_TIMEOUT_S, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired as exc:
                raise PythonDependencyError(
                    f"pip did not install the requirements within {PIP_TIMEOUT_S:g} s") from exc
            if done.returncode != 0:
                raise PythonDependencyError(
                    f"pip could not install the job's requirements (python.requirements, exit "
                    f"code {done.returncode}):\n{requirements.decode('utf-8', 'replace')}\n"
                    f"{(done.stdout + done.stderr)[-4000:]}")
            os.makedirs(os.path.join(staging, "site"), exist_ok=True)  # nothing to install
            try:
                os.rename(os.path.join(staging, "site"), target)
            except OSError:
                if not os.path.isdir(target):  # not another process's rename first
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target

    @staticmethod
    def _remove(prepared: _PreparedJob) -> None:
        if prepared.previous_cwd is not None and os.getcwd() == prepared.working_dir:
            os.chdir(prepared.previous_cwd)
        sys.path[:] = [p for p in sys.path if p not in prepared.sys_path]
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None) or ""
            if any(path.startswith(root + os.sep) for root in prepared.roots):
                del sys.modules[name]
        importlib.invalidate_caches()
        shutil.rmtree(prepared.base_dir, ignore_errors=True)


def _artifact(artifacts: Dict[str, bytes], entry: Dict[str, Any]) -> bytes:
    name = entry["artifact"]
    if name not in artifacts:
        raise PythonDependencyError(f"the Python dependency {entry.get('name', name)!r} was not "
                                    f"shipped with the job (no artifact {name!r})")
    return artifacts[name]


def executable_differs(executable: Optional[str]) -> bool:
    """Whether ``python.executable`` names another interpreter than this process's."""
    if not executable or executable == "python":  # PyFlink's default: whichever is found
        return False
    found = shutil.which(executable)
    return found is None or os.path.realpath(found) != os.path.realpath(sys.executable)


def _check_executable(executable: Optional[str]) -> None:
    if executable_differs(executable):
        log.warning("python.executable is %r, but flink_py's tasks run in the TaskManager's "
                    "own Python (%s); the setting is not used.", executable, sys.executable)


#: The manager of this process.
PYTHON_ENVIRONMENTS = PythonEnvironmentManager()
