"""Optional compiled extensions: a C module that speeds up a pure Python one it mirrors.

``pip install`` builds them (``setup.py``, optional extensions: with no compiler the install
still succeeds). The Python module each mirrors is the reference, what a debugger steps
through, and what runs when ``FLINK_PY_PURE_PYTHON`` is set or the extension was not built.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Optional


def load_compiled(module_name: str) -> Optional[ModuleType]:
    """The compiled module ``module_name``, or None: ``FLINK_PY_PURE_PYTHON`` is set, or it
    was not built (no compiler at install time).

    Example::

        >>> load_compiled("flink_py.no_such_extension") is None
        True
    """
    if os.environ.get("FLINK_PY_PURE_PYTHON"):
        return None
    try:
        return importlib.import_module(module_name)
    except ImportError:
        return None
