"""A job's Python dependencies (``python.files``, ``python.requirements``,
``python.archives``) packed as user artifacts of its JobGraph, as PyFlink registers them in
Flink's distributed cache.

The values are PyFlink's: entries separated by ``,``; an archive may carry ``#target_dir``
and the requirements ``#requirements_cache_dir``. Paths are read when the JobGraph is made (on
the client), so a cluster needs none of them; the TaskManagers lay the artifacts out
(:mod:`flink_py.runtime.taskmanager.python_environment`, which describes the layout).

Example::

    >>> import os, tempfile
    >>> from flink_py.common.configuration import Configuration
    >>> directory = tempfile.mkdtemp()
    >>> with open(os.path.join(directory, "helpers.py"), "w") as f:
    ...     _ = f.write("X = 1\\n")
    >>> conf = Configuration().set_string("python.files", os.path.join(directory, "helpers.py"))
    >>> sorted(python_dependency_artifacts(conf))
    ['python-dependencies/files/0/helpers.py', 'python-dependencies/manifest.json']
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from typing import Any, Dict, List, Optional, Tuple

from flink_py.cli.program_packager import zip_directory
from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration
from flink_py.errors import InvalidProgramError
from flink_py.runtime.taskmanager.python_environment import (
    ARTIFACT_PREFIX, MANIFEST, strip_compressed_suffix)

#: PyFlink's separators (PythonDependencyUtils.FILE_DELIMITER / PARAM_DELIMITER)
FILE_DELIMITER = ","
PARAM_DELIMITER = "#"


def split_entries(value: Optional[str]) -> List[str]:
    """The comma-separated entries of a ``python.*`` value.

    >>> split_entries("a.py, b.zip#t,")
    ['a.py', 'b.zip#t']
    """
    return [part.strip() for part in (value or "").split(FILE_DELIMITER) if part.strip()]


def split_param(entry: str) -> Tuple[str, Optional[str]]:
    """``path#param`` as ``(path, param)``; ``(path, None)`` without ``#``.

    >>> split_param("data.zip#mydata"), split_param("data.zip")
    (('data.zip', 'mydata'), ('data.zip', None))
    """
    path, _, param = entry.partition(PARAM_DELIMITER)
    return path, (param or None)


def _local_path(path: str, option: str) -> str:
    if path.startswith("file://"):
        path = path[len("file://"):]
    if "://" in path:
        raise InvalidProgramError(
            f"{option}: {path!r} is not a local path; flink_py ships local files only")
    if not os.path.exists(path):
        raise InvalidProgramError(f"{option}: {path!r} does not exist")
    return path


def _zip_directory(directory: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for root, dirs, names in os.walk(directory):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(names):
                if name.endswith((".pyc", ".pyo")):
                    continue
                path = os.path.join(root, name)
                archive.write(path, os.path.relpath(path, directory))
    return buffer.getvalue()


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def python_dependency_artifacts(configuration: Configuration) -> Dict[str, bytes]:
    """The user artifacts that carry the configuration's Python dependencies (none if it
    declares none).

    :raises InvalidProgramError: if a path does not exist or an archive is not one.
    """
    artifacts: Dict[str, bytes] = {}
    manifest: Dict[str, Any] = {"files": [], "requirements": None, "archives": []}
    for index, entry in enumerate(split_entries(configuration.get(options.PYTHON_FILES))):
        path = _local_path(entry, "python.files")
        name = os.path.basename(os.path.normpath(path))
        artifact = f"{ARTIFACT_PREFIX}files/{index}/{name}"
        directory = os.path.isdir(path)
        # a directory is shipped as the program's own code is (cli.program_packager)
        artifacts[artifact] = zip_directory(path, f"python.files {path!r}") if directory \
            else _read(path)
        manifest["files"].append({"artifact": artifact, "name": name, "directory": directory})
    requirements = configuration.get(options.PYTHON_REQUIREMENTS)
    if requirements:
        file_path, cache_dir = split_param(requirements.strip())
        file_path = _local_path(file_path, "python.requirements")
        if not os.path.isfile(file_path):
            raise InvalidProgramError(
                f"python.requirements: {file_path!r} is not a requirements file")
        entry = {"artifact": f"{ARTIFACT_PREFIX}requirements/requirements.txt",
                 "name": os.path.basename(file_path), "cache_artifact": None}
        artifacts[entry["artifact"]] = _read(file_path)
        if cache_dir is not None:
            cache_dir = _local_path(cache_dir, "python.requirements (requirements_cache_dir)")
            if not os.path.isdir(cache_dir):
                raise InvalidProgramError(
                    f"python.requirements: the requirements cache {cache_dir!r} is not a "
                    f"directory")
            entry["cache_artifact"] = f"{ARTIFACT_PREFIX}requirements/cache.zip"
            artifacts[entry["cache_artifact"]] = _zip_directory(cache_dir)
        manifest["requirements"] = entry
    targets: Dict[str, str] = {}
    for index, item in enumerate(split_entries(configuration.get(options.PYTHON_ARCHIVES))):
        archive_path, target_dir = split_param(item)
        archive_path = _local_path(archive_path, "python.archives")
        name = os.path.basename(archive_path)
        if os.path.isdir(archive_path) or (strip_compressed_suffix(name) is None
                                           and not name.lower().endswith((".whl", ".egg"))):
            raise InvalidProgramError(
                f"python.archives: {archive_path!r} is not a zip or tar archive (zip, jar, "
                f"whl, egg, tar, tar.gz, tgz)")
        target_dir = target_dir or name
        if target_dir in targets:
            raise InvalidProgramError(
                f"python.archives: {archive_path!r} and {targets[target_dir]!r} would both be "
                f"extracted to {target_dir!r}; give one of them another target_dir")
        targets[target_dir] = archive_path
        artifact = f"{ARTIFACT_PREFIX}archives/{index}/{name}"
        artifacts[artifact] = _read(archive_path)
        manifest["archives"].append({"artifact": artifact, "name": name,
                                     "target_dir": target_dir})
    if not artifacts:
        return {}
    manifest["executable"] = configuration.get(options.PYTHON_EXECUTABLE)
    artifacts[MANIFEST] = json.dumps(manifest, indent=1).encode("utf-8")
    return artifacts
