"""The async wait operator's queues (pure state) and the docstring examples of async I/O."""

from __future__ import annotations


import pytest

from flink_py.runtime.operators.async_queue import (
    OrderedStreamElementQueue, RecordEntry, UnorderedStreamElementQueue)
from flink_py.testing.doc_examples import assert_examples_hold

MODULES = [
    "flink_py.runtime.operators.async_queue",
    "flink_py.datastream.async_retry_strategies",
    "flink_py.datastream.async_retry_predicates",
    "flink_py.api.functions",
]


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name: str) -> None:
    assert_examples_hold(module_name)


def _shown(elements: list) -> list:
    return [e.value if isinstance(e, RecordEntry) else f"wm{e}" for e in elements]


def test_unordered_watermarks_in_a_row_leave_in_order_once_the_records_before_them_did() -> None:
    queue = UnorderedStreamElementQueue()
    a = queue.add_record("a", 1)
    queue.add_watermark(5)
    queue.add_watermark(7)
    b = queue.add_record("b", 8)
    queue.complete(b, [])
    assert queue.pop_completed() == []
    queue.complete(a, ["A"])
    assert _shown(queue.pop_completed()) == ["a", "wm5", "wm7", "b"]
    assert len(queue) == 0


def test_a_watermark_with_nothing_before_it_leaves_at_once() -> None:
    for queue in (OrderedStreamElementQueue(), UnorderedStreamElementQueue()):
        queue.add_watermark(3)
        assert queue.pop_completed() == [3]


def test_values_are_what_a_restore_must_issue_again_in_order() -> None:
    ordered = OrderedStreamElementQueue()
    first = ordered.add_record(1, None)
    ordered.add_watermark(10)
    ordered.add_record(2, None)
    ordered.complete(first, ["done"])  # done but not popped: still in the queue
    assert _shown(ordered.values()) == [1, "wm10", 2]

    unordered = UnorderedStreamElementQueue()
    x = unordered.add_record("x", None)
    unordered.add_record("y", None)
    unordered.add_watermark(10)
    unordered.add_record("z", None)
    unordered.complete(x, [])
    shown = _shown(unordered.values())
    assert sorted(shown[:2]) == ["x", "y"] and shown[2:] == ["wm10", "z"]


def test_records_count_towards_the_length_watermarks_do_not() -> None:
    queue = OrderedStreamElementQueue()
    entry = queue.add_record(1, None)
    queue.add_watermark(4)
    assert len(queue) == 1
    queue.complete(entry, [1])
    assert _shown(queue.pop_completed()) == [1, "wm4"] and len(queue) == 0
