"""Running a module's docstring examples as a test (Bytewax's executable docs): one place for
the doctest options, and a module without examples is a failure, not a silent pass."""

from __future__ import annotations

import doctest
import importlib
from types import ModuleType
from typing import Union

__all__ = ["assert_examples_hold"]


def assert_examples_hold(module: Union[str, ModuleType]) -> None:
    """Runs the docstring examples of ``module`` (a module or its dotted name).

    :raises AssertionError: if it has no examples or one of them fails.
    """
    if isinstance(module, str):
        module = importlib.import_module(module)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{module.__name__} has no examples"
    assert result.failed == 0, f"{result.failed} example(s) of {module.__name__} failed"
