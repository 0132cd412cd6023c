"""A job's Python dependencies in a local run (MiniCluster): modules shipped only with
``add_python_file``, a package installed from a requirements file and a directory of wheels
(no index), an archive's data file opened by relative path; and the paths, modules and
working directory are gone again when the job ends."""

from __future__ import annotations

import importlib.util
import os
import sys
import tarfile
import uuid
import zipfile
from pathlib import Path
from typing import Iterator, List

import pytest

from flink_py.common import Configuration
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.errors import InvalidProgramError, JobExecutionError
from flink_py.runtime.taskmanager.python_environment import PYTHON_ENVIRONMENTS
from flink_py.testing.python_packages import build_wheel


def _collect(env: StreamExecutionEnvironment, function, items: List[int]) -> List[str]:
    with env.from_collection(items).map(function).execute_and_collect() as results:
        return sorted(results)


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _use_shipped_modules(x: int) -> str:
    import dep_single
    import dep_in_dir
    import dep_in_zip
    return f"{dep_single.NAME}/{dep_in_dir.NAME}/{dep_in_zip.NAME}:{x}"


def test_modules_added_with_add_python_file_are_importable_in_the_job_only(
        tmp_path: Path) -> None:
    (tmp_path / "single").mkdir()
    (tmp_path / "single" / "dep_single.py").write_text("NAME = 'single'\n")
    (tmp_path / "libs").mkdir()
    (tmp_path / "libs" / "dep_in_dir.py").write_text("NAME = 'dir'\n")
    with zipfile.ZipFile(tmp_path / "libs.zip", "w") as archive:
        archive.writestr("dep_in_zip.py", "NAME = 'zip'\n")
    assert not any(_importable(m) for m in ("dep_single", "dep_in_dir", "dep_in_zip"))
    path_before = list(sys.path)

    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.add_python_file(str(tmp_path / "single" / "dep_single.py"))
    env.add_python_file(str(tmp_path / "libs"))
    env.add_python_file(str(tmp_path / "libs.zip"))
    assert _collect(env, _use_shipped_modules, [1, 2, 3]) == [
        "single/dir/zip:1", "single/dir/zip:2", "single/dir/zip:3"]

    assert sys.path == path_before
    assert not any(m in sys.modules for m in ("dep_single", "dep_in_dir", "dep_in_zip"))


def _which_version(x: int) -> str:
    import dep_priority
    return f"{dep_priority.VERSION}:{x}"


def test_the_python_file_added_last_wins_and_python_files_is_read_from_the_configuration(
        tmp_path: Path) -> None:
    for version in ("old", "new"):
        (tmp_path / version).mkdir()
        (tmp_path / version / "dep_priority.py").write_text(f"VERSION = {version!r}\n")
    conf = Configuration().set_string("python.files", str(tmp_path / "old" / "dep_priority.py"))
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    assert _collect(env, _which_version, [7]) == ["old:7"]

    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.add_python_file(str(tmp_path / "new" / "dep_priority.py"))
    assert env.get_configuration().get_string("python.files") == (
        f"{tmp_path / 'new' / 'dep_priority.py'},{tmp_path / 'old' / 'dep_priority.py'}")
    assert _collect(env, _which_version, [7]) == ["new:7"]


@pytest.fixture
def requirements_cache() -> Iterator[str]:
    """Removes what the test installed into the shared requirements cache."""
    root = PYTHON_ENVIRONMENTS.requirements_cache_dir
    before = set(os.listdir(root)) if os.path.isdir(root) else set()
    yield root
    if os.path.isdir(root):
        import shutil
        for name in set(os.listdir(root)) - before:
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def _wheel_package(tmp_path: Path) -> str:
    """A unique package name, built into tmp_path/wheels (the requirements cache dir)."""
    name = "flinkpy_reqdep_" + uuid.uuid4().hex[:8]
    (tmp_path / "wheels").mkdir()
    build_wheel(str(tmp_path / "wheels"), name, "1.0",
                {f"{name}/__init__.py": "def shout(x):\n    return str(x).upper() + '!'\n"})
    return name


def test_a_package_from_a_requirements_file_is_installed_offline_from_the_cache_dir(
        tmp_path: Path, requirements_cache: str) -> None:
    name = _wheel_package(tmp_path)
    (tmp_path / "requirements.txt").write_text(f"{name}==1.0\n")
    assert not _importable(name)
    source = f"def use(x):\n    import {name}\n    return {name}.shout(x)\n"
    namespace: dict = {}
    exec(compile(source, "<udf>", "exec"), namespace)

    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_python_requirements(str(tmp_path / "requirements.txt"), str(tmp_path / "wheels"))
    assert _collect(env, namespace["use"], [1, 2]) == ["1!", "2!"]
    installed = [n for n in os.listdir(requirements_cache) if
                 os.path.isdir(os.path.join(requirements_cache, n, name))]
    assert len(installed) == 1, "installed once, into a directory keyed by the file's hash"

    # a second job with the same file reuses the installation
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_python_requirements(str(tmp_path / "requirements.txt"), str(tmp_path / "wheels"))
    assert _collect(env, namespace["use"], [3]) == ["3!"]
    assert [n for n in os.listdir(requirements_cache) if
            os.path.isdir(os.path.join(requirements_cache, n, name))] == installed
    assert not _importable(name)


def _identity(x: int) -> int:
    return x


def test_a_requirement_missing_from_the_cache_dir_fails_the_job_with_pips_message(
        tmp_path: Path, requirements_cache: str) -> None:
    (tmp_path / "wheels").mkdir()
    (tmp_path / "requirements.txt").write_text("flinkpy_no_such_package_anywhere==9.9\n")
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_python_requirements(str(tmp_path / "requirements.txt"), str(tmp_path / "wheels"))
    env.from_collection([1]).map(_identity).print()
    with pytest.raises(JobExecutionError) as failure:
        env.execute("missing requirement")
    text = str(failure.value) + repr(failure.value.__cause__)
    assert "pip could not install the job's requirements" in text
    assert "flinkpy_no_such_package_anywhere" in text


def _read_archives(x: int) -> str:
    with open("mydata/inner/data.txt") as first, open("notes.tar.gz/notes.txt") as second:
        return f"{first.read()}+{second.read()}:{x}"


def test_archives_are_extracted_into_the_working_directory_of_the_tasks(
        tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "data.zip", "w") as archive:
        archive.writestr("inner/data.txt", "from-zip")
    (tmp_path / "notes.txt").write_text("from-tar")
    with tarfile.open(tmp_path / "notes.tar.gz", "w:gz") as archive:
        archive.add(tmp_path / "notes.txt", arcname="notes.txt")
    cwd = os.getcwd()

    env = StreamExecutionEnvironment.get_execution_environment()
    env.add_python_archive(str(tmp_path / "data.zip"), "mydata")
    env.add_python_archive(str(tmp_path / "notes.tar.gz"))
    assert _collect(env, _read_archives, [1]) == ["from-zip+from-tar:1"]
    assert os.getcwd() == cwd


def test_dependencies_that_do_not_exist_fail_when_the_job_is_made(tmp_path: Path) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.add_python_file(str(tmp_path / "missing.py"))
    env.from_collection([1]).map(_identity).print()
    with pytest.raises(InvalidProgramError, match="python.files: .*missing.py.* does not exist"):
        env.execute()

    env = StreamExecutionEnvironment.get_execution_environment()
    (tmp_path / "data.txt").write_text("x")
    env.add_python_archive(str(tmp_path / "data.txt"))
    env.from_collection([1]).map(_identity).print()
    with pytest.raises(InvalidProgramError, match="is not a zip or tar archive"):
        env.execute()


def test_set_python_executable_is_recorded_and_warns_when_it_is_another_interpreter(
        caplog: pytest.LogCaptureFixture) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_python_executable(sys.executable)
    assert env.get_configuration().get_string("python.executable") == sys.executable
    assert "set_python_executable" not in caplog.text
    env.set_python_executable("venv/bin/python")
    assert env.get_configuration().get_string("python.executable") == "venv/bin/python"
    assert "set_python_executable('venv/bin/python')" in caplog.text
