"""User code shipped with a job: extracted per job and put on ``sys.path`` in a slot worker.

``flink run`` zips the program's modules into the JobGraph's ``user_artifacts``. Before a
task of a job loads its functions, the worker fetches the job's archives from the JobMaster
once, extracts them under its work directory and puts them first on ``sys.path``. A slot
runs one job at a time, so when the next job arrives the previous job's modules are dropped
from ``sys.modules``: a resubmitted job with changed code runs the new code. The artifacts of
the job's Python dependencies (``python.files``, ...) are left to
:mod:`flink_py.runtime.taskmanager.python_environment`.
"""

from __future__ import annotations

import importlib
import io
import logging
import os
import shutil
import sys
import threading
import zipfile
from typing import Callable, Dict, List

from flink_py.errors import FlinkPyError
from flink_py.runtime.taskmanager.python_environment import (
    ARTIFACT_PREFIX as PYTHON_DEPENDENCY_PREFIX)

log = logging.getLogger(__name__)


class UserCodeLoader:
    """Makes each job's shipped modules importable in this process."""

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        self._lock = threading.Lock()
        self._roots: Dict[str, List[str]] = {}  # job id -> its directories on sys.path

    def prepare(self, job_id: str, fetch: Callable[[], Dict[str, bytes]]) -> None:
        """Ensures the code of ``job_id`` is on ``sys.path`` (fetched on first use)."""
        with self._lock:
            if job_id in self._roots:
                return
            for other in list(self._roots):
                self._unload(other)
            artifacts = fetch()
            roots: List[str] = []
            for name, data in sorted(artifacts.items()):
                if name.startswith(PYTHON_DEPENDENCY_PREFIX):
                    continue  # laid out by the PythonEnvironmentManager
                root = os.path.join(self.work_dir, job_id, os.path.basename(name) + ".d")
                os.makedirs(root, exist_ok=True)
                try:
                    with zipfile.ZipFile(io.BytesIO(data)) as archive:
                        _check_members(archive, name)
                        archive.extractall(root)
                except zipfile.BadZipFile as exc:
                    raise FlinkPyError(
                        f"user artifact {name!r} of job {job_id} is not a zip archive: "
                        f"{exc}") from exc
                roots.append(root)
            for root in reversed(roots):
                sys.path.insert(0, root)
            importlib.invalidate_caches()
            self._roots[job_id] = roots

    def release(self, job_id: str) -> None:
        with self._lock:
            self._unload(job_id)

    def _unload(self, job_id: str) -> None:
        roots = self._roots.pop(job_id, [])
        if roots:
            for name, module in list(sys.modules.items()):
                path = getattr(module, "__file__", None) or ""
                if any(path.startswith(root + os.sep) for root in roots):
                    del sys.modules[name]
            sys.path[:] = [p for p in sys.path if p not in roots]
            importlib.invalidate_caches()
        shutil.rmtree(os.path.join(self.work_dir, job_id), ignore_errors=True)


def _check_members(archive: zipfile.ZipFile, name: str) -> None:
    """Refuses archive members that would land outside the extraction directory."""
    for member in archive.namelist():
        if member.startswith("/") or ".." in member.split("/"):
            raise FlinkPyError(f"user artifact {name!r} has an unsafe path {member!r}")
