"""Tiny Python packages made on the spot, for tests of ``set_python_requirements``: a pure
wheel written with ``zipfile`` (no build backend, no index, no network needed).

Example::

    >>> import tempfile, zipfile
    >>> path = build_wheel(tempfile.mkdtemp(), "tiny_dep", "1.0", {"tiny_dep/__init__.py": "X = 1\\n"})
    >>> sorted(zipfile.ZipFile(path).namelist())  # doctest: +NORMALIZE_WHITESPACE
    ['tiny_dep-1.0.dist-info/METADATA', 'tiny_dep-1.0.dist-info/RECORD',
     'tiny_dep-1.0.dist-info/WHEEL', 'tiny_dep/__init__.py']
"""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from typing import Dict, List


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")


def build_wheel(directory: str, name: str, version: str, files: Dict[str, str]) -> str:
    """Writes the pure-Python wheel ``<name>-<version>-py3-none-any.whl`` into ``directory``.

    :param name: the distribution name (letters, digits and ``_``).
    :param files: archive path -> source text (e.g. ``{"pkg/__init__.py": "..."}``).
    :return: the wheel's path.
    """
    dist_info = f"{name}-{version}.dist-info"
    contents: Dict[str, bytes] = {path: text.encode("utf-8") for path, text in files.items()}
    contents[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n").encode("utf-8")
    contents[f"{dist_info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: flink_py.testing\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n").encode("utf-8")
    record: List[str] = [f"{path},{_record_hash(data)},{len(data)}"
                         for path, data in sorted(contents.items())]
    record.append(f"{dist_info}/RECORD,,")
    contents[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode("utf-8")
    path = os.path.join(directory, f"{name}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in sorted(contents.items()):
            archive.writestr(member, data)
    return path
