"""The timer queue hands timers back in the order Flink's heap does, ties included.

``tests/fixtures/flink_heap/timer_heap_order.txt`` was printed by Flink 2.3's own
``HeapPriorityQueueSet`` on a JVM (``TimerHeapOrder.java`` beside it) for the random
register/delete/poll sequences of ``timer_heap_cases.txt`` (16 keys, a few timestamps, so
most timers tie). Both queues are checked: the Python one and, where it was built, the
compiled one.
"""

from pathlib import Path

import pytest

from flink_py.runtime.state import timer_queue

try:
    from flink_py.runtime.state import _timer_heap
except ImportError:  # not built: pip found no C compiler
    _timer_heap = None

IMPLEMENTATIONS = [pytest.param(timer_queue.PyTimerQueue, id="python"),
                   pytest.param(_timer_heap.TimerHeap if _timer_heap else None, id="compiled",
                                marks=pytest.mark.skipif(_timer_heap is None,
                                                         reason="_timer_heap was not built"))]

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "flink_heap"


def _replay(queue_class, ops):
    queue = queue_class("timers/event")
    order = []
    for op in ops:
        if op == "p":
            timer = queue.peek()
            order.append("none" if timer is None else _name(queue.poll()))
            continue
        key, timestamp = op[1:].split(":")
        if op[0] == "+":
            queue.add(int(timestamp), key, None)
        else:
            queue.remove(int(timestamp), key, None)
    while len(queue):
        order.append(_name(queue.poll()))
    return order


def _name(timer):
    return f"{timer.key}@{timer.timestamp}"


def _cases():
    cases = (FIXTURES / "timer_heap_cases.txt").read_text().splitlines()
    orders = (FIXTURES / "timer_heap_order.txt").read_text().splitlines()
    assert len(cases) == len(orders) == 300
    for case, order in zip(cases, orders):
        name, *ops = case.split()
        flink_name, *flink_order = order.split()
        assert name == flink_name
        yield name, ops, flink_order


@pytest.mark.parametrize("queue_class", IMPLEMENTATIONS)
def test_every_recorded_sequence_polls_in_flinks_order(queue_class):
    differing = [name for name, ops, order in _cases() if _replay(queue_class, ops) != order]
    assert differing == []


@pytest.mark.parametrize("queue_class", IMPLEMENTATIONS)
def test_registration_order_alone_does_not_decide_ties(queue_class):
    # a@100 b@100 c@100 d@100 registered in that order: Flink's heap (on the JVM) handed
    # back a d c b, as the polls move the last element to the head
    queue = queue_class("timers/event")
    for key in "abcd":
        queue.add(100, key, None)
    assert [_name(queue.poll()) for _ in range(4)] == ["a@100", "d@100", "c@100", "b@100"]


@pytest.mark.parametrize("queue_class", IMPLEMENTATIONS)
def test_a_deleted_timer_leaves_the_heap_at_once(queue_class):
    queue = queue_class("timers/event")
    queue.add(5, "a", None)
    queue.add(7, "b", None)
    assert queue.remove(5, "a", None) is True
    assert queue.remove(5, "a", None) is False
    assert (len(queue), queue.peek_time()) == (1, 7)
    assert list(queue) == [(7, "b", None)]


@pytest.mark.parametrize("queue_class", IMPLEMENTATIONS)
def test_registering_a_timer_twice_keeps_the_first(queue_class):
    queue = queue_class("timers/event")
    assert queue.add(5, "a", "w") is True
    first = queue.peek()
    assert queue.add(5, "a", "w") is False
    assert queue.peek() is first and len(queue) == 1


@pytest.mark.parametrize("time,expected", [(9, None), (10, "a@10")])
@pytest.mark.parametrize("queue_class", IMPLEMENTATIONS)
def test_pop_due_takes_the_head_only_when_due(queue_class, time, expected):
    queue = queue_class("timers/event")
    queue.add(10, "a", None)
    timer = queue.pop_due(time)
    assert (None if timer is None else _name(timer)) == expected


def test_the_compiled_queue_is_used_when_it_was_built():
    if timer_queue._COMPILED is None:
        pytest.skip("_timer_heap was not built, or FLINK_PY_PURE_PYTHON chose the Python one")
    assert timer_queue.KeyGroupedTimerQueue is _timer_heap.TimerHeap
    timer = _timer_heap.InternalTimer(5, "k", None)
    assert (timer.timestamp, timer.key, timer.namespace) == (5, "k", None)
    assert repr(timer) == repr(timer_queue.PyInternalTimer(5, "k", None))


@pytest.mark.skipif(_timer_heap is None, reason="_timer_heap was not built")
def test_the_compiled_queue_does_what_the_python_one_does_over_long_random_runs():
    import random
    rng = random.Random(11)
    python, compiled = timer_queue.PyTimerQueue("p"), _timer_heap.TimerHeap("c")
    namespaces = [None, ("w", 1), ("w", 2)]
    for step in range(50_000):
        choice = rng.random()
        timer = (rng.randrange(0, 2_000, 50), rng.randrange(40), rng.choice(namespaces))
        if choice < 0.55:
            assert python.add(*timer) == compiled.add(*timer)
        elif choice < 0.75:
            assert python.remove(*timer) == compiled.remove(*timer)
        else:
            due = rng.randrange(0, 2_000)
            a, b = python.pop_due(due), compiled.pop_due(due)
            assert (a and (a.timestamp, a.key, a.namespace)) == \
                (b and (b.timestamp, b.key, b.namespace)), step
        assert len(python) == len(compiled)
    assert list(python) == list(compiled)


@pytest.mark.parametrize("queue_class", IMPLEMENTATIONS)
def test_a_timestamp_outside_a_java_long_is_refused_with_its_value(queue_class):
    queue = queue_class("timers/event")
    assert queue.add(2 ** 63 - 1, "k", None) and queue.add(-2 ** 63, "k", None)
    with pytest.raises(OverflowError, match="must fit a Java long .*got 9223372036854775808"):
        queue.add(2 ** 63, "k", None)
    assert len(queue) == 2


@pytest.mark.skipif(_timer_heap is None, reason="_timer_heap was not built")
def test_compiled_timers_of_atomic_keys_stay_off_the_collector_and_cycles_are_still_collected():
    import gc
    import weakref

    heap = _timer_heap.TimerHeap("timers/event")
    heap.add(5, 7, None)
    assert not gc.is_tracked(heap.peek())  # an int key in the void namespace: no cycle possible
    heap.poll()
    key = tuple(["k", 1])  # a new tuple is tracked until a collection finds it atomic
    gc.collect()
    assert not gc.is_tracked(key)
    heap.add(5, key, None)
    assert not gc.is_tracked(heap.peek())

    class Key:  # a key that refers back to the heap holding its timer: a reference cycle
        pass

    key = Key()
    key.heap = heap
    heap.add(6, key, None)
    assert not gc.is_tracked(heap.pop_due(5))
    assert gc.is_tracked(heap.peek())
    collected = weakref.ref(key)
    del key, heap
    gc.collect()
    assert collected() is None


TIMER_TYPES = [pytest.param(timer_queue.PyInternalTimer, id="python")]
if _timer_heap is not None:
    TIMER_TYPES.append(pytest.param(_timer_heap.InternalTimer, id="compiled"))


@pytest.mark.parametrize("timer_type", TIMER_TYPES)
def test_timers_are_equal_when_timestamp_key_and_namespace_are(timer_type):
    # Flink's TimerHeapInternalTimer.equals/hashCode; the compiled queue's dedup map relies
    # on it (a timer is its own key there)
    timer = timer_type(5, ("k", 1), ("w", 0, 10))
    same = timer_type(5, ("k", 1), ("w", 0, 10))
    assert timer == same and not timer != same and hash(timer) == hash(same)
    for other in (timer_type(6, ("k", 1), ("w", 0, 10)), timer_type(5, ("k", 2), ("w", 0, 10)),
                  timer_type(5, ("k", 1), ("w", 0, 11)), timer_type(5, ("k", 1), None)):
        assert timer != other and not timer == other
    assert timer != (5, ("k", 1), ("w", 0, 10))
    assert len({timer, same, timer_type(-5, "k", None), timer_type(-5, "k", None)}) == 2


@pytest.mark.parametrize("queue_class", IMPLEMENTATIONS)
def test_an_unhashable_key_is_refused_and_the_queue_is_unchanged(queue_class):
    queue = queue_class("timers/event")
    queue.add(1, "a", None)
    with pytest.raises(TypeError):
        queue.add(2, ["not", "hashable"], None)
    with pytest.raises(TypeError):
        queue.remove(1, {"not": "hashable"}, None)
    assert len(queue) == 1 and _name(queue.poll()) == "a@1"


@pytest.mark.skipif(_timer_heap is None, reason="_timer_heap was not built")
def test_the_compiled_registrar_adds_for_the_current_key_as_add_does():
    from flink_py.errors import InvalidProgramError
    from flink_py.runtime.operators.keyed_process import _timestamp

    class Backend:
        current_key = "a"

    backend = Backend()
    heap = _timer_heap.TimerHeap("timers/event")
    register = _timer_heap.EventTimeRegistrar(heap, backend, None, _timestamp)
    assert register(10) is None
    backend.current_key = ("k", 2)
    register(5)
    register(5)  # held already: one timer per (timestamp, key, namespace)
    backend.current_key = "a"
    register(7)

    class Millis(int):
        pass

    register(Millis(3))  # an int subclass is a timestamp, as int(value)
    assert [(t.timestamp, t.key) for t in iter(lambda: heap.pop_due(100), None)] == [
        (3, "a"), (5, ("k", 2)), (7, "a"), (10, "a")]
    with pytest.raises(InvalidProgramError, match="must be an int of milliseconds, got True"):
        register(True)
    with pytest.raises(InvalidProgramError, match="got 1.5"):
        register(1.5)
    with pytest.raises(OverflowError, match="Java long"):
        register(2 ** 63)
    with pytest.raises(TypeError, match="takes \\(timestamp\\)"):
        register()
    with pytest.raises(TypeError, match="takes \\(timestamp\\)"):
        register(1, timestamp=2)
    with pytest.raises(AttributeError):
        _timer_heap.EventTimeRegistrar(heap, object(), None, _timestamp)(1)
    with pytest.raises(TypeError):
        _timer_heap.EventTimeRegistrar(object(), backend, None, _timestamp)
    assert len(heap) == 0
