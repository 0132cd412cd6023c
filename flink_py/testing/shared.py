"""Objects shared between a test and the user functions of the job it runs on a MiniCluster.

User functions are cloudpickled per subtask, so state they share with the test must be
reached by reference: a module-level function such as :func:`shared` is pickled by name,
and the task threads of an in-process MiniCluster find the same objects as the test. Each
test names its objects with a token of its own and releases them at its end.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict

_VALUES: Dict[str, Any] = {}
_LOCK = threading.Lock()


def shared(token: str, name: str, factory: Callable[[], Any]) -> Any:
    """The object ``name`` of the test ``token``, made by ``factory`` on first use."""
    with _LOCK:
        return _VALUES.setdefault(f"{token}/{name}", factory())


def release(token: str) -> None:
    """Forgets every object of the test ``token``."""
    with _LOCK:
        for key in [k for k in _VALUES if k.startswith(token + "/")]:
            del _VALUES[key]
