"""Pickling of user code: cloudpickle, keeping every function's own source file name.

A job's functions (lambdas, functions of ``__main__``, classes defined in the program) travel
to their tasks by value, with cloudpickle. Since cloudpickle 3.1 a code object pickled by value
comes back with ``co_filename`` set to ``"<dynamic-code>"``, so a user's traceback loses its
file name and ``breakpoint()`` in a UDF shows no source. ``dumps`` pickles code objects with
their file name kept, whichever cloudpickle version we allow is installed; the result is read
by plain ``cloudpickle.loads`` (or ``pickle.loads``).

>>> import pickle
>>> def double(x):
...     return 2 * x
>>> restored = pickle.loads(dumps(double))
>>> restored(21), restored.__code__.co_filename == double.__code__.co_filename
(42, True)
"""

from __future__ import annotations

import io
import pickle
import types
from collections import ChainMap
from typing import Any, Callable, Tuple

import cloudpickle

__all__ = ["dumps", "loads"]


def _reduce_code(code: types.CodeType) -> Tuple[Callable[..., types.CodeType], tuple]:
    """A code object as ``CodeType(...)``'s arguments, its file name included.

    The argument order is the constructor's from Python 3.11 on (the versions we support).
    """
    return types.CodeType, (
        code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount, code.co_nlocals,
        code.co_stacksize, code.co_flags, code.co_code, code.co_consts, code.co_names,
        code.co_varnames, code.co_filename, code.co_name, code.co_qualname,
        code.co_firstlineno, code.co_linetable, code.co_exceptiontable, code.co_freevars,
        code.co_cellvars)


class UserCodePickler(cloudpickle.Pickler):
    """cloudpickle's Pickler with a code-object reducer that keeps ``co_filename``."""

    dispatch_table = ChainMap({types.CodeType: _reduce_code},
                              cloudpickle.Pickler.dispatch_table)


def dumps(obj: Any, protocol: int = pickle.DEFAULT_PROTOCOL) -> bytes:
    """Pickles ``obj`` as ``cloudpickle.dumps`` does, but functions keep their file names."""
    with io.BytesIO() as file:
        UserCodePickler(file, protocol=protocol).dump(obj)
        return file.getvalue()


#: the counterpart of ``dumps``
loads = cloudpickle.loads
