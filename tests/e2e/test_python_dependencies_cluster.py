"""End to end: a job's Python dependencies reach the slot workers of a real cluster — a module
only shipped with ``add_python_file`` (or ``-pyfs``), a package pip-installed from a
requirements file and a directory of wheels (``set_python_requirements``/``-pyreq``, no
index), and an archive's data file read by relative path (``add_python_archive``/``-pyarch``).
"""

from __future__ import annotations

import os
import shutil
import textwrap
import uuid
import zipfile
from pathlib import Path
from typing import Iterator, List

import pytest

from flink_py.runtime.taskmanager.python_environment import PYTHON_ENVIRONMENTS
from flink_py.testing.process_cluster import ProcessCluster
from flink_py.testing.python_packages import build_wheel

PROGRAM = """\
import sys
from flink_py.datastream import StreamExecutionEnvironment

libs, requirements, wheels, archive, package = sys.argv[1:6]
env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(2)
if "--api" in sys.argv:
    env.add_python_file(libs)
    env.set_python_requirements(requirements, wheels)
    env.add_python_archive(archive, "mydata")


def use(x):
    import importlib
    import dep_cluster_helper
    installed = importlib.import_module(package)
    with open("mydata/data.txt") as f:
        return f"{dep_cluster_helper.NAME}|{installed.shout(x)}|{f.read()}"


with env.from_collection([1, 2, 3, 4]).map(use).execute_and_collect() as results:
    for line in sorted(results):
        print("RESULT", line)
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessCluster]:
    """One TaskManager with two slots (two slot worker processes)."""
    with ProcessCluster(str(tmp_path_factory.mktemp("cluster")), task_managers=1,
                        slots=2) as c:
        yield c


@pytest.fixture
def dependencies(tmp_path: Path) -> Iterator[List[str]]:
    """libs dir, requirements.txt, wheels dir, data archive, package name; removes what the
    cluster installed into the requirements cache afterwards."""
    root = PYTHON_ENVIRONMENTS.requirements_cache_dir
    before = set(os.listdir(root)) if os.path.isdir(root) else set()
    (tmp_path / "libs").mkdir()
    (tmp_path / "libs" / "dep_cluster_helper.py").write_text("NAME = 'helper'\n")
    package = "flinkpy_clusterdep_" + uuid.uuid4().hex[:8]
    (tmp_path / "wheels").mkdir()
    build_wheel(str(tmp_path / "wheels"), package, "2.0",
                {f"{package}/__init__.py": "def shout(x):\n    return f'{x}!'\n"})
    (tmp_path / "requirements.txt").write_text(f"{package}==2.0\n")
    with zipfile.ZipFile(tmp_path / "data.zip", "w") as archive:
        archive.writestr("data.txt", "archived")
    yield [str(tmp_path / "libs"), str(tmp_path / "requirements.txt"),
           str(tmp_path / "wheels"), str(tmp_path / "data.zip"), package]
    if os.path.isdir(root):
        for name in set(os.listdir(root)) - before:
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def _program(tmp_path: Path) -> str:
    (tmp_path / "program").mkdir()
    path = tmp_path / "program" / "job_with_dependencies.py"
    path.write_text(textwrap.dedent(PROGRAM))
    return str(path)


def _results(stdout: str) -> List[str]:
    return [line for line in stdout.splitlines() if line.startswith("RESULT ")]


EXPECTED = [f"RESULT helper|{x}!|archived" for x in (1, 2, 3, 4)]


def test_dependencies_declared_by_the_program_reach_the_slot_workers(
        cluster: ProcessCluster, dependencies: List[str], tmp_path: Path) -> None:
    done = cluster.flink("run", _program(tmp_path), *dependencies, "--api", timeout_s=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _results(done.stdout) == EXPECTED


def test_dependencies_given_to_flink_run_reach_the_slot_workers(
        cluster: ProcessCluster, dependencies: List[str], tmp_path: Path) -> None:
    libs, requirements, wheels, archive, _ = dependencies
    done = cluster.flink("run", "-pyfs", libs, "-pyreq", f"{requirements}#{wheels}",
                         "-pyarch", f"{archive}#mydata", _program(tmp_path), *dependencies,
                         timeout_s=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _results(done.stdout) == EXPECTED


def test_flink_run_accepts_pyexec_and_warns_that_the_taskmanagers_python_runs_the_job(
        cluster: ProcessCluster, dependencies: List[str], tmp_path: Path) -> None:
    done = cluster.flink("run", "-pyexec", "venv/bin/python", _program(tmp_path),
                         *dependencies, "--api", timeout_s=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _results(done.stdout) == EXPECTED
    assert "-pyexec 'venv/bin/python' is not used" in done.stderr
    assert "python.executable is 'venv/bin/python'" in "".join(
        cluster.log(f"taskmanager-{i}") for i in range(len(cluster.task_managers)))


def test_flink_run_fails_early_on_a_missing_dependency(
        cluster: ProcessCluster, tmp_path: Path) -> None:
    done = cluster.flink("run", "-pyarch", str(tmp_path / "missing.zip"), _program(tmp_path))
    assert done.returncode != 0
    assert "python.archives" in done.stderr + done.stdout
    assert "missing.zip" in done.stderr + done.stdout
