"""The PythonEnvironmentManager lays out a job's python.files, requirements and archives as
PyFlink's Python worker does, once per job and process, and removes them with the job's last
task; the client packs them from the configuration (flink_py.client.python_dependencies)."""

from __future__ import annotations

import importlib
import io
import os
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Dict, List

import pytest

from flink_py.client.python_dependencies import python_dependency_artifacts
from flink_py.common import Configuration
from flink_py.errors import InvalidProgramError
from flink_py.runtime.taskmanager.python_environment import (
    MANIFEST, PythonDependencyError, PythonEnvironmentManager, extract_archive)
from flink_py.testing.doc_examples import assert_examples_hold


def _zip(members: Dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _artifacts(**settings: str) -> Dict[str, bytes]:
    conf = Configuration()
    for key, value in settings.items():
        conf.set_string(key.replace("_", "."), value)
    return python_dependency_artifacts(conf)


class _Fetch:
    """Counts the fetches of a job's artifacts."""

    def __init__(self, artifacts: Dict[str, bytes]) -> None:
        self.artifacts = artifacts
        self.calls = 0

    def __call__(self) -> Dict[str, bytes]:
        self.calls += 1
        return self.artifacts


def test_each_kind_of_python_file_lands_where_pyflink_puts_it(tmp_path: Path) -> None:
    (tmp_path / "one.py").write_text("X = 'py'\n")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "in_dir.py").write_text("X = 'dir'\n")
    (tmp_path / "lib.zip").write_bytes(_zip({"in_zip.py": "X = 'zip'\n"}))
    (tmp_path / "pkg.whl").write_bytes(_zip({"in_wheel/__init__.py": "X = 'whl'\n"}))
    with tarfile.open(tmp_path / "lib.tar.gz", "w:gz") as archive:
        (tmp_path / "in_tar.py").write_text("X = 'tar'\n")
        archive.add(tmp_path / "in_tar.py", arcname="in_tar.py")
    files = ",".join(str(tmp_path / n) for n in
                     ("one.py", "dir", "lib.zip", "pkg.whl", "lib.tar.gz"))
    manager = PythonEnvironmentManager(str(tmp_path / "cache"))
    path_before = list(sys.path)
    manager.open("job-a", _Fetch(_artifacts(python_files=files)))
    try:
        added = sys.path[:5]
        assert added[0].endswith(os.path.join("python-files", "0"))
        assert added[1].endswith(os.path.join("python-files", "1", "dir"))
        assert added[2].endswith(os.path.join("python-files", "2", "lib"))
        assert added[3].endswith(os.path.join("python-files", "3", "pkg.whl"))  # zipimport
        assert added[4].endswith(os.path.join("python-files", "4", "lib"))
        found = [importlib.import_module(m).X
                 for m in ("one", "in_dir", "in_zip", "in_wheel", "in_tar")]
        assert found == ["py", "dir", "zip", "whl", "tar"]
    finally:
        manager.close("job-a")
    assert sys.path == path_before
    assert not any(m in sys.modules for m in ("one", "in_dir", "in_zip", "in_wheel", "in_tar"))
    assert not any(os.path.exists(p) for p in added)


def test_a_job_is_prepared_once_and_removed_with_its_last_task(tmp_path: Path) -> None:
    (tmp_path / "shared_dep.py").write_text("X = 1\n")
    fetch = _Fetch(_artifacts(python_files=str(tmp_path / "shared_dep.py")))
    manager = PythonEnvironmentManager(str(tmp_path / "cache"))
    manager.open("job-b", fetch)
    manager.open("job-b", fetch)
    assert fetch.calls == 1
    entry = sys.path[0]
    manager.close("job-b")
    assert sys.path[0] == entry, "one task of the job still runs"
    manager.close("job-b")
    assert entry not in sys.path and not os.path.exists(entry)


def test_archives_become_the_working_directory_until_the_job_ends(tmp_path: Path) -> None:
    (tmp_path / "data.zip").write_bytes(_zip({"d/x.txt": "zip-data"}))
    archives = f"{tmp_path / 'data.zip'}#first,{tmp_path / 'data.zip'}#second"
    manager = PythonEnvironmentManager(str(tmp_path / "cache"))
    cwd = os.getcwd()
    manager.open("job-c", _Fetch(_artifacts(python_archives=archives)))
    try:
        assert os.getcwd() == manager.working_directory("job-c")
        assert sorted(os.listdir(".")) == ["first", "second"]
        assert Path("second/d/x.txt").read_text() == "zip-data"
    finally:
        manager.close("job-c")
    assert os.getcwd() == cwd


def test_zip_members_keep_their_permissions(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("bin/run.sh")
        info.external_attr = 0o755 << 16
        archive.writestr(info, "#!/bin/sh\necho ok\n")
    extract_archive(buffer.getvalue(), "env.zip", str(tmp_path / "env"))
    assert os.stat(tmp_path / "env" / "bin" / "run.sh").st_mode & 0o777 == 0o755


def test_client_errors_name_the_option_and_the_path(tmp_path: Path) -> None:
    (tmp_path / "a.zip").write_bytes(_zip({"x": "1"}))
    with pytest.raises(InvalidProgramError, match=r"python.files: '.*nope.py' does not exist"):
        _artifacts(python_files=str(tmp_path / "nope.py"))
    with pytest.raises(InvalidProgramError, match="would both be extracted to 'a.zip'"):
        _artifacts(python_archives=f"{tmp_path / 'a.zip'},{tmp_path / 'a.zip'}")
    with pytest.raises(InvalidProgramError, match="not a local path"):
        _artifacts(python_files="hdfs://namenode/lib.py")
    with pytest.raises(InvalidProgramError, match="is not a requirements file"):
        _artifacts(python_requirements=str(tmp_path))
    assert _artifacts() == {}


def test_unsafe_or_broken_archives_and_missing_artifacts_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PythonDependencyError, match="unsafe path '../escape.py'"):
        extract_archive(_zip({"../escape.py": "x"}), "evil.zip", str(tmp_path / "out"))
    with pytest.raises(PythonDependencyError, match="'broken.zip' is not a zip or tar archive"):
        extract_archive(b"not a zip", "broken.zip", str(tmp_path / "out"))
    manager = PythonEnvironmentManager(str(tmp_path / "cache"))
    with pytest.raises(PythonDependencyError, match=f"no '{MANIFEST}' among its user"):
        manager.open("job-d", _Fetch({}))
    (tmp_path / "m.py").write_text("X = 1\n")
    artifacts = _artifacts(python_files=str(tmp_path / "m.py"))
    del artifacts["python-dependencies/files/0/m.py"]
    path_before = list(sys.path)
    with pytest.raises(PythonDependencyError, match="'m.py' was not shipped with the job"):
        manager.open("job-d", _Fetch(artifacts))
    assert sys.path == path_before


MODULES: List[str] = [
    "flink_py.client.python_dependencies",
    "flink_py.runtime.taskmanager.python_environment",
    "flink_py.common.deprecation",
    "flink_py.datastream.time_characteristic",
    "flink_py.testing.python_packages",
]


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name: str) -> None:
    assert_examples_hold(module_name)
