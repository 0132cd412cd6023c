"""Runs the docstring examples of the fault-tolerance API modules and of the operator-id
hasher, so the docs never lie."""

from __future__ import annotations


import pytest

from flink_py.testing.doc_examples import assert_examples_hold

MODULES = [
    "flink_py.datastream.checkpoint_config",
    "flink_py.datastream.checkpoint_storage",
    "flink_py.datastream.state_backend",
    "flink_py.datastream.stream_execution_environment",
    "flink_py.graph.stream_graph_hasher",
]


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name: str) -> None:
    assert_examples_hold(module_name)
