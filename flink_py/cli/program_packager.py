"""Packages a program's code for ``flink run``: the archives shipped as ``user_artifacts``.

A TaskManager extracts each archive into its own directory and puts that directory on
``sys.path``, so ``import pkg.mod`` must work from an archive's root:

- a program file ``job.py``: the file, the ``.py`` files next to it and the packages
  (directories with ``__init__.py``) next to it, recursively;
- a module ``-c pkg.mod``: the top-level package directory (or the single module file), as
  found by importlib; nothing when it is installed (site-packages, the standard library,
  flink_py itself), since the TaskManagers must have it installed too;
- ``--pyFiles``: ``.py`` files and directories' contents join the same archive at its root;
  ``.zip``/``.whl``/``.egg`` archives travel as they are, each under its own name.

Hidden files and directories, ``__pycache__``, compiled files and virtualenvs are left out.
The collected code may not exceed :data:`MAX_USER_CODE_BYTES`: that is almost always a
program sitting in a directory full of other things.
"""

from __future__ import annotations

import importlib.util
import io
import os
import sys
import sysconfig
import zipfile
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import flink_py
from flink_py.errors import FlinkPyError

#: the archive holding the program's own code
USER_CODE_ARTIFACT = "user-code.zip"
#: the most code ``flink run`` collects into USER_CODE_ARTIFACT (uncompressed)
MAX_USER_CODE_BYTES = 10 * 1024 * 1024

_ARCHIVE_SUFFIXES = (".zip", ".whl", ".egg")
_SKIPPED_DIR_NAMES = {"__pycache__", "site-packages", "dist-packages", "node_modules"}
_SKIPPED_FILE_SUFFIXES = (".pyc", ".pyo")


class ProgramPackagingError(FlinkPyError):
    """The program's code cannot be packaged (missing file, too large, name clash)."""


def _skip_dir(path: Path) -> bool:
    name = path.name
    return (name.startswith(".") or name in _SKIPPED_DIR_NAMES or name.endswith(".egg-info")
            or (path / "pyvenv.cfg").exists())


def _skip_file(path: Path) -> bool:
    return path.name.startswith(".") or path.suffix in _SKIPPED_FILE_SUFFIXES


class _ArchiveBuilder:
    """Collects files under archive names, minding the size limit."""

    def __init__(self, limit: int, origin: str) -> None:
        self.limit = limit
        self.origin = origin
        self.files: Dict[str, Path] = {}
        self.total = 0

    def add_file(self, path: Path, arcname: str) -> None:
        known = self.files.get(arcname)
        if known is not None:
            if known.resolve() == path.resolve():
                return
            raise ProgramPackagingError(
                f"Two files would be shipped as {arcname!r}: {known} and {path}.")
        self.total += path.stat().st_size
        if self.total > self.limit:
            raise ProgramPackagingError(
                f"The program's code to ship is larger than {self.limit // (1024 * 1024)} MB "
                f"(at {path}). flink run ships {self.origin}; move the program into a "
                f"directory of its own or keep large files out of its packages.")
        self.files[arcname] = path

    def add_tree(self, directory: Path, prefix: str) -> None:
        """Adds a directory's files under ``prefix/`` (the root for ``""``), recursively."""
        for root, dirs, names in os.walk(directory):
            root_path = Path(root)
            dirs[:] = sorted(d for d in dirs if not _skip_dir(root_path / d))
            for name in sorted(names):
                path = root_path / name
                if _skip_file(path) or not path.is_file():
                    continue
                relative = path.relative_to(directory).as_posix()
                self.add_file(path, f"{prefix}/{relative}" if prefix else relative)

    def build(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for arcname in sorted(self.files):
                archive.write(self.files[arcname], arcname)
        return buffer.getvalue()


def zip_directory(directory: str, origin: str) -> bytes:
    """A directory's files as a zip, with the rules of the program's own code: hidden files
    and directories, virtualenvs, ``site-packages`` and byte code stay out, and the size limit
    (:data:`MAX_USER_CODE_BYTES`) holds.

    :param origin: What is shipped, for the size-limit error (e.g. ``"python.files 'lib'"``).
    :raises ProgramPackagingError: if the files are larger than the limit.
    """
    builder = _ArchiveBuilder(MAX_USER_CODE_BYTES, origin)
    builder.add_tree(Path(directory), "")
    return builder.build()


def _is_installed(path: Path) -> bool:
    """Whether ``path`` belongs to an installation (TaskManagers have it, too)."""
    resolved = path.resolve()
    if any(part in ("site-packages", "dist-packages") for part in resolved.parts):
        return True
    flink_py_root = Path(flink_py.__file__).resolve().parent
    installed_roots = [flink_py_root]
    for key in ("stdlib", "platstdlib"):
        location = sysconfig.get_paths().get(key)
        if location:
            installed_roots.append(Path(location).resolve())
    return any(resolved == root or root in resolved.parents for root in installed_roots)


def find_module_spec(module: str) -> "importlib.machinery.ModuleSpec":
    """The spec of ``module`` (importing its parent packages, as an import would).

    :raises ImportError: if it cannot be found.
    """
    spec = importlib.util.find_spec(module)
    if spec is None:
        raise ModuleNotFoundError(f"No module named {module!r}", name=module)
    return spec


def package_program(program: Optional[str] = None, module: Optional[str] = None,
                    py_files: Iterable[str] = (),
                    limit: int = MAX_USER_CODE_BYTES) -> Dict[str, bytes]:
    """The archives to ship with a program: artifact name -> zip bytes.

    :param program: the program's ``.py`` file.
    :param module: the program's module (``-c pkg.mod``); looked up on ``sys.path``.
    :param py_files: ``--pyFiles`` paths.
    :raises ProgramPackagingError: a file is missing, the code is too large, names clash.
    :raises ImportError: ``module`` cannot be found.
    """
    artifacts: Dict[str, bytes] = {}
    if program is not None:
        program_path = Path(program)
        directory = program_path.resolve().parent
        builder = _ArchiveBuilder(
            limit, f"the .py files and packages next to the program (in {directory})")
        builder.add_file(program_path, program_path.name)
        for entry in sorted(directory.iterdir()):
            if entry.is_file() and entry.suffix == ".py" and not _skip_file(entry):
                builder.add_file(entry, entry.name)
            elif (entry.is_dir() and not _skip_dir(entry)
                  and (entry / "__init__.py").is_file() and not _is_installed(entry)):
                builder.add_tree(entry, entry.name)
    else:
        builder = _ArchiveBuilder(limit, f"the package of the program's module {module!r}")
        if module is not None:
            _add_module(builder, module)
    for item in _split_py_files(py_files):
        path = Path(item)
        if not path.exists():
            raise ProgramPackagingError(f"The --pyFiles entry {item!r} does not exist.")
        if path.is_dir():
            builder.add_tree(path, "")
        elif path.suffix in _ARCHIVE_SUFFIXES:
            if path.name in artifacts or path.name == USER_CODE_ARTIFACT:
                raise ProgramPackagingError(
                    f"Two --pyFiles archives are named {path.name!r}.")
            artifacts[path.name] = path.read_bytes()
        else:
            builder.add_file(path, path.name)
    if builder.files:
        artifacts[USER_CODE_ARTIFACT] = builder.build()
    return artifacts


def _add_module(builder: _ArchiveBuilder, module: str) -> None:
    top = module.split(".", 1)[0]
    spec = find_module_spec(top)
    locations: List[str] = list(spec.submodule_search_locations or [])
    if locations:
        for location in locations:
            if not _is_installed(Path(location)):
                builder.add_tree(Path(location), top)
    elif spec.origin and spec.has_location:
        origin = Path(spec.origin)
        if not _is_installed(origin):
            builder.add_file(origin, origin.name)


def _split_py_files(py_files: Iterable[str]) -> List[str]:
    """``--pyFiles`` values: each may hold several paths separated by commas (PyFlink's)."""
    return [part.strip() for value in py_files for part in value.split(",") if part.strip()]


def local_py_path(py_files: Iterable[str]) -> List[str]:
    """What ``--pyFiles`` adds to the client's own ``sys.path`` (as PyFlink does)."""
    entries: List[str] = []
    for item in _split_py_files(py_files):
        path = Path(item).resolve()
        entry = str(path.parent) if path.suffix == ".py" else str(path)
        if entry not in entries and entry not in sys.path:
            entries.append(entry)
    return entries
