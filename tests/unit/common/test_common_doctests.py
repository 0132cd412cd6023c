"""Runs the docstring examples of the common modules, so the docs never lie."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "flink_py.common.config_option_builder",
    "flink_py.common.config_options",
    "flink_py.common.configuration",
    "flink_py.common.execution_config",
    "flink_py.common.job_execution_result",
    "flink_py.common.job_id",
    "flink_py.common.job_status",
    "flink_py.common.key_groups",
    "flink_py.common.narrowing",
    "flink_py.common.restart_strategy",
    "flink_py.common.serialization",
    "flink_py.common.time",
    "flink_py.common.utils",
    "flink_py.common.watermark_strategy",
]


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name: str) -> None:
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{module_name} has no examples"
    assert result.failed == 0
