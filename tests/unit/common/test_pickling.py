"""User code pickled by value keeps its file name: tracebacks and the debugger show the source."""

from __future__ import annotations

import linecache
import traceback
import types
from pathlib import Path

import pytest

from flink_py.common import pickling

PROGRAM = '''\
def explode(x):
    if x == 2:
        raise ValueError(f"no twos please, got {x}")
    return x
'''


def _function_from_file(tmp_path: Path) -> types.FunctionType:
    """``explode`` as defined by a program file run as a script (so pickled by value)."""
    path = tmp_path / "user_program.py"
    path.write_text(PROGRAM)
    namespace: dict = {"__name__": "__main__"}
    exec(compile(PROGRAM, str(path), "exec"), namespace)
    return namespace["explode"]


def test_a_function_pickled_by_value_keeps_its_file_name(tmp_path: Path) -> None:
    explode = _function_from_file(tmp_path)
    restored = pickling.loads(pickling.dumps(explode))
    assert restored is not explode
    assert restored.__code__.co_filename == str(tmp_path / "user_program.py")
    assert restored.__code__.co_firstlineno == 1


def test_a_traceback_from_restored_code_names_the_users_file_and_line(tmp_path: Path) -> None:
    restored = pickling.loads(pickling.dumps(_function_from_file(tmp_path)))
    with pytest.raises(ValueError) as info:
        restored(2)
    text = "".join(traceback.format_exception(info.value))
    assert f'File "{tmp_path / "user_program.py"}", line 3, in explode' in text
    # what the traceback and pdb print under that line: the source, read by file name
    assert 'raise ValueError(f"no twos please, got {x}")' in text


def test_the_debugger_finds_the_source_of_restored_code(tmp_path: Path) -> None:
    restored = pickling.loads(pickling.dumps(_function_from_file(tmp_path)))
    code = restored.__code__
    assert linecache.getline(code.co_filename, code.co_firstlineno) == "def explode(x):\n"


def test_nested_code_objects_keep_the_file_name_too(tmp_path: Path) -> None:
    path = tmp_path / "nested.py"
    source = "def outer():\n    return lambda y: [z + 1 for z in y]\n"
    path.write_text(source)
    namespace: dict = {"__name__": "__main__"}
    exec(compile(source, str(path), "exec"), namespace)
    inner = pickling.loads(pickling.dumps(namespace["outer"]()))
    assert inner([1, 2]) == [2, 3]
    assert inner.__code__.co_filename == str(path)
