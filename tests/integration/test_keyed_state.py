"""Keyed state on the MiniCluster, through a KeyedProcessFunction (Flink's semantics).

* every state kind (value, list, map, reducing, aggregating) is scoped to the key of the
  record being processed: one handle, created in ``open``, reads a different value per key,
  at any parallelism;
* state survives across records of the same key, ``clear()`` removes the key's value only;
* TTL (processing time): an entry older than its TTL is gone with ``NeverReturnExpired`` and
  still returned with ``ReturnExpiredIfNotCleanedUp``; ``OnReadAndWrite`` restarts the clock
  on reads;
* bad programs fail with an error that names the state (or the operator).

The TTL tests wait *inside the user function* until the wall clock (the clock TTL uses)
has passed a point: waiting is the scenario, not synchronization between threads.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List

import pytest

from flink_py.common import Types
from flink_py.common.time import Time
from flink_py.datastream import MapFunction, StreamExecutionEnvironment
from flink_py.datastream.functions import AggregateFunction, KeyedProcessFunction
from flink_py.datastream.state import (
    AggregatingStateDescriptor, ListStateDescriptor, MapStateDescriptor,
    ReducingStateDescriptor, StateTtlConfig, ValueStateDescriptor)
from flink_py.errors import InvalidProgramError, JobExecutionError

pytestmark = pytest.mark.timeout(60)


def new_env(parallelism: int = 1) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    return env


def run(data: List[Any], function: Any, parallelism: int = 1,
        key: Any = lambda r: r[0]) -> List[Any]:
    """``from_collection(data).key_by(key).process(function)``, collected."""
    env = new_env(parallelism)
    ds = env.from_collection(data).key_by(key).process(function)
    return list(ds.execute_and_collect())


def per_key(results: List[Any]) -> Dict[Any, List[Any]]:
    grouped: Dict[Any, List[Any]] = {}
    for r in results:
        grouped.setdefault(r[0], []).append(r[1:] if len(r) > 2 else r[1])
    return grouped


def now_ms() -> int:
    """The clock TTL uses (processing time: ms since the epoch)."""
    return time.time_ns() // 1_000_000


def wait_until_ms(deadline_ms: int) -> None:
    """Blocks until the wall clock reaches ``deadline_ms`` (the scenario's passage of time)."""
    while now_ms() < deadline_ms:
        time.sleep(max(0.001, (deadline_ms - now_ms()) / 2000.0))


# -- interleaved input over many keys -------------------------------------------------------------

KEYS = [f"k{i}" for i in range(12)]
ROUNDS = 6
#: (key, n): every key gets n = 1..ROUNDS, the keys interleaved round by round
INTERLEAVED = [(k, n) for n in range(1, ROUNDS + 1) for k in KEYS]


# -- ValueState -----------------------------------------------------------------------------------

class CountPerKey(KeyedProcessFunction):
    def open(self, runtime_context: Any) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))

    def process_element(self, value: Any, ctx: Any) -> Any:
        current = (self.count.value() or 0) + 1
        self.count.update(current)
        yield value[0], current


@pytest.mark.parametrize("parallelism", [1, 2])
def test_value_state_is_kept_per_key_and_survives_across_records(parallelism):
    grouped = per_key(run(INTERLEAVED, CountPerKey(), parallelism))
    assert grouped == {k: list(range(1, ROUNDS + 1)) for k in KEYS}


def test_value_state_is_none_before_the_first_update_and_after_clear():
    class ValueThenClear(KeyedProcessFunction):
        def open(self, runtime_context: Any) -> None:
            self.last = runtime_context.get_state(ValueStateDescriptor("last", Types.STRING()))

        def process_element(self, value: Any, ctx: Any) -> Any:
            key, command = value
            before = self.last.value()
            if command == "clear":
                self.last.clear()
            else:
                self.last.update(command)
            yield key, command, before, self.last.value()

    data = [("a", "x"), ("b", "y"), ("a", "clear"), ("a", "z"), ("b", "clear"),
            ("b", "clear")]
    assert run(data, ValueThenClear()) == [
        ("a", "x", None, "x"),
        ("b", "y", None, "y"),
        ("a", "clear", "x", None),   # clear() removes a's value only...
        ("a", "z", None, "z"),
        ("b", "clear", "y", None),   # ...b's was untouched until now
        ("b", "clear", None, None),  # clearing an absent value is a no-op
    ]


def test_value_state_update_none_removes_the_value():
    class UpdateNone(KeyedProcessFunction):
        def open(self, runtime_context: Any) -> None:
            self.state = runtime_context.get_state(ValueStateDescriptor("v", Types.LONG()))

        def process_element(self, value: Any, ctx: Any) -> Any:
            self.state.update(value[1])
            yield self.state.value()

    assert run([("a", 1), ("a", None), ("a", 3)], UpdateNone()) == [1, None, 3]


def test_two_descriptors_with_the_same_name_and_type_are_one_state():
    class TwoHandles(KeyedProcessFunction):
        def open(self, runtime_context: Any) -> None:
            self.first = runtime_context.get_state(ValueStateDescriptor("s", Types.LONG()))
            self.second = runtime_context.get_state(ValueStateDescriptor("s", Types.LONG()))

        def process_element(self, value: Any, ctx: Any) -> Any:
            self.first.update(value[1])
            yield self.second.value()

    assert run([("a", 1), ("b", 2), ("a", 3)], TwoHandles()) == [1, 2, 3]


def test_state_asked_for_in_process_element_is_the_same_state():
    """``get_state`` may also be called per record (PyFlink programs do); one state per name."""
    class LazyState(KeyedProcessFunction):
        def open(self, runtime_context: Any) -> None:
            self.runtime_context = runtime_context

        def process_element(self, value: Any, ctx: Any) -> Any:
            state = self.runtime_context.get_state(ValueStateDescriptor("n", Types.LONG()))
            state.update((state.value() or 0) + value[1])
            yield value[0], state.value()

    assert run([("a", 1), ("b", 10), ("a", 2)], LazyState()) == [("a", 1), ("b", 10), ("a", 3)]


def test_state_is_the_current_keys_with_a_derived_key():
    """The key is what the key selector returns (here the parity), not the record."""
    results = run([(1, "x"), (2, "y"), (3, "z"), (4, "w")], CountPerKey(),
                  key=lambda r: r[0] % 2)
    assert results == [(1, 1), (2, 1), (3, 2), (4, 2)]


# -- ListState ------------------------------------------------------------------------------------

class ListOps(KeyedProcessFunction):
    """Commands: ("add", v), ("add_all", [..]), ("update", [..]), ("clear", None)."""

    def open(self, runtime_context: Any) -> None:
        self.items = runtime_context.get_list_state(ListStateDescriptor("items", Types.LONG()))

    def process_element(self, value: Any, ctx: Any) -> Any:
        key, command, argument = value
        if command == "add":
            self.items.add(argument)
        elif command == "add_all":
            self.items.add_all(argument)
        elif command == "update":
            self.items.update(argument)
        elif command == "clear":
            self.items.clear()
        yield key, list(self.items.get()), [x for x in self.items]


def test_list_state_add_add_all_update_clear_and_iteration():
    data = [
        ("a", "add", 1), ("a", "add", 2), ("b", "add", 10),
        ("a", "add_all", [3, 4]), ("b", "add_all", []),
        ("a", "update", [7]), ("b", "update", [20, 30]),
        ("a", "clear", None), ("a", "add", 5), ("b", "update", []),
    ]
    assert run(data, ListOps()) == [
        ("a", [1], [1]),
        ("a", [1, 2], [1, 2]),
        ("b", [10], [10]),
        ("a", [1, 2, 3, 4], [1, 2, 3, 4]),
        ("b", [10], [10]),
        ("a", [7], [7]),
        ("b", [20, 30], [20, 30]),
        ("a", [], []),
        ("a", [5], [5]),
        ("b", [], []),  # update([]) empties the list
    ]


@pytest.mark.parametrize("parallelism", [1, 2])
def test_list_state_is_kept_per_key(parallelism):
    data = [(k, "add", n) for k, n in INTERLEAVED]
    grouped: Dict[Any, List[Any]] = {}
    for key, items, _ in run(data, ListOps(), parallelism):
        grouped.setdefault(key, []).append(items)
    assert grouped == {k: [list(range(1, n + 1)) for n in range(1, ROUNDS + 1)]
                       for k in KEYS}


def test_list_state_add_all_into_an_empty_list_and_a_list_copied_out_is_not_the_state():
    class CopyOut(KeyedProcessFunction):
        def open(self, runtime_context: Any) -> None:
            self.items = runtime_context.get_list_state(ListStateDescriptor("l", Types.LONG()))

        def process_element(self, value: Any, ctx: Any) -> Any:
            self.items.add_all(value[1])
            yield list(self.items)

    assert run([("a", [1, 2]), ("a", [3])], CopyOut()) == [[1, 2], [1, 2, 3]]


# -- MapState -------------------------------------------------------------------------------------

class MapOps(KeyedProcessFunction):
    """Commands on the key's map; every output shows the whole map afterwards."""

    def open(self, runtime_context: Any) -> None:
        self.map = runtime_context.get_map_state(
            MapStateDescriptor("m", Types.STRING(), Types.LONG()))

    def process_element(self, value: Any, ctx: Any) -> Any:
        key, command, argument = value
        result: Any = None
        if command == "put":
            self.map.put(*argument)
        elif command == "put_all":
            self.map.put_all(argument)
        elif command == "get":
            result = self.map.get(argument)
        elif command == "contains":
            result = self.map.contains(argument)
        elif command == "remove":
            self.map.remove(argument)
        elif command == "clear":
            self.map.clear()
        yield (key, command, result, sorted(self.map.items()), sorted(self.map.keys()),
               sorted(self.map.values()), self.map.is_empty())


def test_map_state_operations():
    data = [
        ("a", "is_empty", None),
        ("a", "put", ("x", 1)),
        ("a", "put_all", {"y": 2, "z": 3}),
        ("b", "put", ("x", 100)),
        ("a", "get", "y"),
        ("a", "get", "missing"),
        ("a", "contains", "z"),
        ("a", "contains", "missing"),
        ("a", "put", ("x", 10)),  # overwrites
        ("a", "remove", "y"),
        ("a", "remove", "missing"),
        ("b", "get", "x"),
        ("a", "clear", None),
        ("b", "remove", "x"),
    ]
    assert run(data, MapOps()) == [
        ("a", "is_empty", None, [], [], [], True),
        ("a", "put", None, [("x", 1)], ["x"], [1], False),
        ("a", "put_all", None, [("x", 1), ("y", 2), ("z", 3)], ["x", "y", "z"], [1, 2, 3],
         False),
        ("b", "put", None, [("x", 100)], ["x"], [100], False),
        ("a", "get", 2, [("x", 1), ("y", 2), ("z", 3)], ["x", "y", "z"], [1, 2, 3], False),
        ("a", "get", None, [("x", 1), ("y", 2), ("z", 3)], ["x", "y", "z"], [1, 2, 3], False),
        ("a", "contains", True, [("x", 1), ("y", 2), ("z", 3)], ["x", "y", "z"], [1, 2, 3],
         False),
        ("a", "contains", False, [("x", 1), ("y", 2), ("z", 3)], ["x", "y", "z"], [1, 2, 3],
         False),
        ("a", "put", None, [("x", 10), ("y", 2), ("z", 3)], ["x", "y", "z"], [2, 3, 10],
         False),
        ("a", "remove", None, [("x", 10), ("z", 3)], ["x", "z"], [3, 10], False),
        ("a", "remove", None, [("x", 10), ("z", 3)], ["x", "z"], [3, 10], False),
        ("b", "get", 100, [("x", 100)], ["x"], [100], False),
        ("a", "clear", None, [], [], [], True),
        ("b", "remove", None, [], [], [], True),  # removing the last entry empties the map
    ]


def test_map_state_dict_style_access():
    class DictStyle(KeyedProcessFunction):
        def open(self, runtime_context: Any) -> None:
            self.map = runtime_context.get_map_state(MapStateDescriptor("m"))

        def process_element(self, value: Any, ctx: Any) -> Any:
            key, word = value
            self.map[word] = (self.map[word] or 0) + 1
            if word == "drop":
                del self.map["drop"]
            yield key, sorted(iter(self.map)), "x" in self.map

    data = [("a", "x"), ("a", "y"), ("a", "x"), ("b", "y"), ("b", "drop")]
    assert run(data, DictStyle()) == [
        ("a", ["x"], True), ("a", ["x", "y"], True), ("a", ["x", "y"], True),
        ("b", ["y"], False), ("b", ["y"], False)]


@pytest.mark.parametrize("parallelism", [1, 2])
def test_map_state_is_kept_per_key(parallelism):
    data = [(k, "put", (f"n{n}", n)) for k, n in INTERLEAVED]
    final: Dict[Any, Any] = {}
    for key, _, _, items, _, _, _ in run(data, MapOps(), parallelism):
        final[key] = items
    assert final == {k: sorted((f"n{n}", n) for n in range(1, ROUNDS + 1)) for k in KEYS}


# -- ReducingState --------------------------------------------------------------------------------

class SumWithReducingState(KeyedProcessFunction):
    def open(self, runtime_context: Any) -> None:
        self.total = runtime_context.get_reducing_state(
            ReducingStateDescriptor("total", lambda a, b: a + b, Types.LONG()))

    def process_element(self, value: Any, ctx: Any) -> Any:
        if value[1] == "clear":
            self.total.clear()
        else:
            self.total.add(value[1])
        yield value[0], self.total.get()


@pytest.mark.parametrize("parallelism", [1, 2])
def test_reducing_state_reduces_per_key(parallelism):
    grouped = per_key(run(INTERLEAVED, SumWithReducingState(), parallelism))
    assert grouped == {k: [n * (n + 1) // 2 for n in range(1, ROUNDS + 1)] for k in KEYS}


def test_reducing_state_get_before_add_and_after_clear_is_none():
    class GetFirst(KeyedProcessFunction):
        def open(self, runtime_context: Any) -> None:
            self.total = runtime_context.get_reducing_state(
                ReducingStateDescriptor("total", lambda a, b: a + b, Types.LONG()))

        def process_element(self, value: Any, ctx: Any) -> Any:
            yield self.total.get()
            if value[1] == "clear":
                self.total.clear()
            else:
                self.total.add(value[1])

    data = [("a", 1), ("a", 2), ("a", "clear"), ("a", 5), ("a", 0)]
    assert run(data, GetFirst()) == [None, 1, 3, None, 5]


def test_reducing_state_with_a_reduce_function_object():
    from flink_py.datastream import ReduceFunction

    class Max(ReduceFunction):
        def reduce(self, a: Any, b: Any) -> Any:
            return max(a, b)

    class RunningMax(KeyedProcessFunction):
        def open(self, runtime_context: Any) -> None:
            self.best = runtime_context.get_reducing_state(
                ReducingStateDescriptor("best", Max(), Types.LONG()))

        def process_element(self, value: Any, ctx: Any) -> Any:
            self.best.add(value[1])
            yield self.best.get()

    assert run([("a", 3), ("a", 1), ("a", 7), ("a", 5)], RunningMax()) == [3, 3, 7, 7]


# -- AggregatingState -----------------------------------------------------------------------------

class Average(AggregateFunction):
    """(sum, count) accumulator; the result is the mean."""

    def create_accumulator(self) -> Any:
        return 0, 0

    def add(self, value: Any, accumulator: Any) -> Any:
        return accumulator[0] + value, accumulator[1] + 1

    def get_result(self, accumulator: Any) -> Any:
        return accumulator[0] / accumulator[1]

    def merge(self, acc_a: Any, acc_b: Any) -> Any:
        return acc_a[0] + acc_b[0], acc_a[1] + acc_b[1]


class AverageWithAggregatingState(KeyedProcessFunction):
    def open(self, runtime_context: Any) -> None:
        self.average = runtime_context.get_aggregating_state(
            AggregatingStateDescriptor("avg", Average(), Types.TUPLE([Types.LONG(),
                                                                       Types.LONG()])))

    def process_element(self, value: Any, ctx: Any) -> Any:
        if value[1] == "clear":
            self.average.clear()
            yield value[0], self.average.get()
            return
        self.average.add(value[1])
        yield value[0], self.average.get()


@pytest.mark.parametrize("parallelism", [1, 2])
def test_aggregating_state_aggregates_per_key(parallelism):
    grouped = per_key(run(INTERLEAVED, AverageWithAggregatingState(), parallelism))
    assert grouped == {k: [(n + 1) / 2 for n in range(1, ROUNDS + 1)] for k in KEYS}


def test_aggregating_state_clear_starts_a_new_accumulator():
    data = [("a", 2), ("a", 4), ("a", "clear"), ("a", 10)]
    assert run(data, AverageWithAggregatingState()) == [
        ("a", 2.0), ("a", 3.0), ("a", None), ("a", 10.0)]


# -- several states in one function, per key ------------------------------------------------------

class AllKinds(KeyedProcessFunction):
    def open(self, runtime_context: Any) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))
        self.seen = runtime_context.get_list_state(ListStateDescriptor("seen", Types.LONG()))
        self.by_parity = runtime_context.get_map_state(
            MapStateDescriptor("by_parity", Types.LONG(), Types.LONG()))
        self.total = runtime_context.get_reducing_state(
            ReducingStateDescriptor("total", lambda a, b: a + b, Types.LONG()))
        self.mean = runtime_context.get_aggregating_state(
            AggregatingStateDescriptor("mean", Average(), Types.PICKLED_BYTE_ARRAY()))

    def process_element(self, value: Any, ctx: Any) -> Any:
        key, n = value
        self.count.update((self.count.value() or 0) + 1)
        self.seen.add(n)
        self.by_parity.put(n % 2, (self.by_parity.get(n % 2) or 0) + 1)
        self.total.add(n)
        self.mean.add(n)
        if self.count.value() == ROUNDS:
            yield (key, self.count.value(), list(self.seen), sorted(self.by_parity.items()),
                   self.total.get(), self.mean.get())


@pytest.mark.parametrize("parallelism", [1, 2])
def test_every_state_kind_in_one_function_is_scoped_to_the_key(parallelism):
    results = sorted(run(INTERLEAVED, AllKinds(), parallelism))
    expected_values = list(range(1, ROUNDS + 1))
    assert results == sorted(
        (k, ROUNDS, expected_values, [(0, ROUNDS // 2), (1, ROUNDS - ROUNDS // 2)],
         sum(expected_values), sum(expected_values) / ROUNDS)
        for k in KEYS)


def test_state_of_two_operators_with_the_same_state_name_is_separate():
    env = new_env()
    ds = (env.from_collection([("a", 1), ("a", 2)])
          .key_by(lambda r: r[0]).process(CountPerKey())
          .key_by(lambda r: r[0]).process(CountPerKey()))
    assert list(ds.execute_and_collect()) == [("a", 1), ("a", 2)]


def test_state_of_a_function_instance_used_twice_is_per_operator():
    """The same function object in two operators: each operator has its own state."""
    function = CountPerKey()
    env = new_env()
    source = env.from_collection([("a", 1), ("a", 2), ("a", 3)])
    first = source.key_by(lambda r: r[0]).process(function)
    second = source.key_by(lambda r: r[0]).process(function)
    results = sorted(first.union(second).execute_and_collect())
    assert results == [("a", 1), ("a", 1), ("a", 2), ("a", 2), ("a", 3), ("a", 3)]


# -- TTL ------------------------------------------------------------------------------------------

def ttl_config(ttl_ms: int, update_type: Any = StateTtlConfig.UpdateType.OnCreateAndWrite,
               visibility: Any = StateTtlConfig.StateVisibility.NeverReturnExpired) -> Any:
    return (StateTtlConfig.new_builder(Time.milliseconds(ttl_ms))
            .set_update_type(update_type)
            .set_state_visibility(visibility)
            .build())


class TtlScenario(KeyedProcessFunction):
    """Plays a script of ("write", v) / ("read", None) / ("wait", ms after the *first write*)
    commands on a TTL'd ValueState; yields every read's result.

    Waits are measured from the wall-clock time right *after* the first write (an upper
    bound of the time stored with it), so "wait" past the TTL means the entry has expired.
    """

    def __init__(self, config: Any) -> None:
        self.config = config

    def open(self, runtime_context: Any) -> None:
        descriptor = ValueStateDescriptor("v", Types.LONG())
        descriptor.enable_time_to_live(self.config)
        self.state = runtime_context.get_state(descriptor)
        self.reference_ms = None

    def process_element(self, value: Any, ctx: Any) -> Any:
        key, command, argument = value
        if command == "write":
            self.state.update(argument)
            if self.reference_ms is None:
                self.reference_ms = now_ms()
        elif command == "wait":
            wait_until_ms(self.reference_ms + argument)
        elif command == "read":
            yield key, self.state.value()
        elif command == "read_and_mark":  # a read that restarts the reference
            yield key, self.state.value()
            self.reference_ms = now_ms()


TTL_MS = 60


def test_ttl_never_return_expired_hides_an_expired_value():
    script = [("a", "write", 1), ("a", "read", None), ("a", "wait", TTL_MS + 5),
              ("a", "read", None), ("a", "write", 2), ("a", "read", None)]
    assert run(script, TtlScenario(ttl_config(TTL_MS))) == [
        ("a", 1), ("a", None), ("a", 2)]


def test_ttl_return_expired_if_not_cleaned_up_returns_the_old_value():
    config = ttl_config(TTL_MS, visibility=StateTtlConfig.StateVisibility
                        .ReturnExpiredIfNotCleanedUp)
    script = [("a", "write", 1), ("a", "wait", TTL_MS + 5), ("a", "read", None)]
    assert run(script, TtlScenario(config)) == [("a", 1)]


def test_ttl_return_expired_if_not_cleaned_up_returns_it_once_then_it_is_cleaned_up():
    """Flink's read of an expired entry clears it, whatever the visibility: the expired value
    is handed out by that read only."""
    config = ttl_config(TTL_MS, visibility=StateTtlConfig.StateVisibility
                        .ReturnExpiredIfNotCleanedUp)
    script = [("a", "write", 1), ("a", "wait", TTL_MS + 5), ("a", "read", None),
              ("a", "read", None)]
    assert run(script, TtlScenario(config)) == [("a", 1), ("a", None)]


def test_ttl_of_a_fresh_write_is_counted_from_that_write():
    """OnCreateAndWrite: a second write restarts the TTL of the value."""
    script = [("a", "write", 1), ("a", "wait", TTL_MS + 5), ("a", "write", 2),
              ("a", "read", None)]
    assert run(script, TtlScenario(ttl_config(TTL_MS))) == [("a", 2)]


def test_ttl_is_per_key():
    """b is written after the wait: only a's value has expired."""
    script = [("a", "write", 1), ("a", "wait", TTL_MS + 5), ("b", "write", 2),
              ("a", "read", None), ("b", "read", None)]
    assert run(script, TtlScenario(ttl_config(TTL_MS))) == [("a", None), ("b", 2)]


# OnReadAndWrite vs OnCreateAndWrite: write at t0, read at t0 + 0.6 TTL, read again at
# (first read) + 0.6 TTL >= t0 + 1.2 TTL. Without the read refreshing it the value has expired;
# with OnReadAndWrite it is alive. A wide TTL keeps a 0.4 TTL margin for a slow machine.
REFRESH_TTL_MS = 400


def refresh_script() -> List[Any]:
    return [("a", "write", 1), ("a", "wait", REFRESH_TTL_MS * 6 // 10),
            ("a", "read_and_mark", None), ("a", "wait", REFRESH_TTL_MS * 6 // 10),
            ("a", "read", None)]


def test_ttl_on_read_and_write_extends_the_lifetime_on_reads():
    config = ttl_config(REFRESH_TTL_MS, update_type=StateTtlConfig.UpdateType.OnReadAndWrite)
    assert run(refresh_script(), TtlScenario(config)) == [("a", 1), ("a", 1)]


def test_ttl_on_create_and_write_does_not_extend_the_lifetime_on_reads():
    config = ttl_config(REFRESH_TTL_MS)
    assert run(refresh_script(), TtlScenario(config)) == [("a", 1), ("a", None)]


class TtlMap(KeyedProcessFunction):
    """Puts "old" then, after 0.6 TTL, "new"; at 1.2 TTL after "old" only "new" is alive."""

    def __init__(self, ttl_ms: int) -> None:
        self.ttl_ms = ttl_ms

    def open(self, runtime_context: Any) -> None:
        descriptor = MapStateDescriptor("m", Types.STRING(), Types.LONG())
        descriptor.enable_time_to_live(ttl_config(self.ttl_ms))
        self.map = runtime_context.get_map_state(descriptor)

    def process_element(self, value: Any, ctx: Any) -> Any:
        self.map.put("old", 1)
        start = now_ms()
        wait_until_ms(start + self.ttl_ms * 6 // 10)
        self.map.put("new", 2)
        wait_until_ms(start + self.ttl_ms * 12 // 10)
        yield (sorted(self.map.items()), self.map.get("old"), self.map.contains("old"),
               self.map.is_empty())


def test_ttl_of_map_state_is_per_entry():
    assert run([("a", None)], TtlMap(REFRESH_TTL_MS)) == [([("new", 2)], None, False, False)]


def test_ttl_of_list_state():
    class TtlList(KeyedProcessFunction):
        def open(self, runtime_context: Any) -> None:
            descriptor = ListStateDescriptor("l", Types.LONG())
            descriptor.enable_time_to_live(ttl_config(TTL_MS))
            self.items = runtime_context.get_list_state(descriptor)

        def process_element(self, value: Any, ctx: Any) -> Any:
            self.items.add(1)
            self.items.add(2)
            yield list(self.items.get())
            wait_until_ms(now_ms() + TTL_MS + 5)
            yield list(self.items.get())
            self.items.add(3)
            yield list(self.items.get())

    assert run([("a", None)], TtlList()) == [[1, 2], [], [3]]


def test_ttl_of_list_state_is_per_element():
    """Flink's TtlListState stamps each element: the older one expires alone."""
    class TtlListPerElement(KeyedProcessFunction):
        def open(self, runtime_context: Any) -> None:
            descriptor = ListStateDescriptor("l", Types.LONG())
            descriptor.enable_time_to_live(ttl_config(REFRESH_TTL_MS))
            self.items = runtime_context.get_list_state(descriptor)

        def process_element(self, value: Any, ctx: Any) -> Any:
            self.items.add(1)
            start = now_ms()
            wait_until_ms(start + REFRESH_TTL_MS * 6 // 10)
            self.items.add(2)
            wait_until_ms(start + REFRESH_TTL_MS * 12 // 10)
            yield list(self.items.get())

    assert run([("a", None)], TtlListPerElement()) == [[2]]


def test_ttl_builder_settings():
    config = (StateTtlConfig.new_builder(Time.seconds(3))
              .update_ttl_on_read_and_write()
              .return_expired_if_not_cleaned_up()
              .cleanup_full_snapshot()
              .build())
    assert config.get_ttl().to_milliseconds() == 3000
    assert config.get_update_type() is StateTtlConfig.UpdateType.OnReadAndWrite
    assert config.get_state_visibility() is \
        StateTtlConfig.StateVisibility.ReturnExpiredIfNotCleanedUp
    assert config.is_enabled()
    default = StateTtlConfig.new_builder(Time.seconds(1)).build()
    assert default.get_update_type() is StateTtlConfig.UpdateType.OnCreateAndWrite
    assert default.get_state_visibility() is StateTtlConfig.StateVisibility.NeverReturnExpired


@pytest.mark.parametrize("bad_ttl", [0, -5, "10s", None, 1.5])
def test_ttl_must_be_a_positive_duration(bad_ttl):
    with pytest.raises(InvalidProgramError, match="TTL"):
        StateTtlConfig.new_builder(bad_ttl)


def test_enable_time_to_live_needs_a_ttl_config():
    with pytest.raises(InvalidProgramError, match="StateTtlConfig"):
        ValueStateDescriptor("v", Types.LONG()).enable_time_to_live(Time.seconds(1))


# -- bad programs ---------------------------------------------------------------------------------

def run_failing(build: Any, parallelism: int = 1) -> str:
    env = new_env(parallelism)
    started = time.monotonic()
    with pytest.raises(JobExecutionError) as info:
        list(build(env).execute_and_collect())
    assert time.monotonic() - started < 20
    return str(info.value)


class TwoStates(KeyedProcessFunction):
    def __init__(self, first: Any, second: Any) -> None:
        self.first = first
        self.second = second

    def open(self, runtime_context: Any) -> None:
        getter = {"value": runtime_context.get_state,
                  "list": runtime_context.get_list_state,
                  "map": runtime_context.get_map_state}
        getter[self.first.kind](self.first)
        getter[self.second.kind](self.second)

    def process_element(self, value: Any, ctx: Any) -> Any:
        yield value


@pytest.mark.parametrize("second", [
    ListStateDescriptor("dup", Types.LONG()),
    MapStateDescriptor("dup", Types.STRING(), Types.LONG()),
    ValueStateDescriptor("dup", Types.STRING()),
], ids=["other-kind-list", "other-kind-map", "other-type"])
def test_the_same_state_name_with_another_kind_or_type_is_an_error_naming_it(second):
    first = ValueStateDescriptor("dup", Types.LONG())
    message = run_failing(lambda env: env.from_collection([("a", 1)]).key_by(lambda r: r[0])
                          .process(TwoStates(first, second)).name("Dedup"))
    assert "'dup'" in message
    assert "Dedup" in message
    assert "InvalidProgramError" in message


class KeyedStateInMapOpen(MapFunction):
    def open(self, runtime_context: Any) -> None:
        self.state = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))

    def map(self, value: Any) -> Any:
        return value


def test_keyed_state_in_a_non_keyed_map_is_an_error_naming_the_operator():
    message = run_failing(lambda env: env.from_collection([1, 2])
                          .map(KeyedStateInMapOpen()).name("NotKeyed"))
    assert "keyed stream" in message
    assert "'NotKeyed'" in message
    assert "'count'" in message


def test_keyed_state_in_a_map_on_a_keyed_stream():
    class CountInMap(MapFunction):
        def open(self, runtime_context: Any) -> None:
            self.count = runtime_context.get_state(ValueStateDescriptor("c", Types.LONG()))

        def map(self, value: Any) -> Any:
            self.count.update((self.count.value() or 0) + 1)
            return value, self.count.value()

    env = new_env()
    ds = env.from_collection(["a", "b", "a"]).key_by(lambda x: x).map(CountInMap())
    assert list(ds.execute_and_collect()) == [("a", 1), ("b", 1), ("a", 2)]


def test_keyed_state_in_a_flat_map_and_a_filter_on_a_keyed_stream():
    """PyFlink's documented CountWindowAverage: a FlatMapFunction with a ValueState."""
    from flink_py.datastream import FilterFunction, FlatMapFunction

    class CountWindowAverage(FlatMapFunction):
        def open(self, runtime_context: Any) -> None:
            self.sum = runtime_context.get_state(ValueStateDescriptor(
                "average", Types.PICKLED_BYTE_ARRAY()))

        def flat_map(self, value: Any) -> Any:
            current = self.sum.value() or (0, 0)
            current = (current[0] + 1, current[1] + value[1])
            if current[0] >= 2:
                self.sum.clear()
                yield value[0], current[1] // current[0]
            else:
                self.sum.update(current)

    class FirstOfEachKey(FilterFunction):
        def open(self, runtime_context: Any) -> None:
            self.seen = runtime_context.get_state(ValueStateDescriptor("seen", Types.BOOLEAN()))

        def filter(self, value: Any) -> bool:
            if self.seen.value():
                return False
            self.seen.update(True)
            return True

    data = [(1, 3), (1, 5), (1, 7), (1, 4), (1, 2), (2, 10), (2, 20)]
    for parallelism in (1, 2):
        env = new_env(parallelism)
        ds = env.from_collection(data)
        averages = ds.key_by(lambda r: r[0]).flat_map(CountWindowAverage())
        firsts = ds.key_by(lambda r: r[0]).filter(FirstOfEachKey())
        results = sorted(averages.map(lambda r: ("avg",) + r)
                         .union(firsts.map(lambda r: ("first",) + r)).execute_and_collect())
        assert results == [("avg", 1, 4), ("avg", 1, 5), ("avg", 2, 15),
                           ("first", 1, 3), ("first", 2, 10)]


@pytest.mark.parametrize("getter, bad", [
    ("get_state", "count"),
    ("get_state", None),
    ("get_state", ListStateDescriptor("l", Types.LONG())),
    ("get_list_state", ValueStateDescriptor("v", Types.LONG())),
    ("get_map_state", {"a": 1}),
    ("get_reducing_state", ValueStateDescriptor("v", Types.LONG())),
    ("get_aggregating_state", ReducingStateDescriptor("r", max)),
], ids=["str", "None", "list-descriptor", "value-for-list", "dict", "value-for-reducing",
        "reducing-for-aggregating"])
def test_a_non_descriptor_or_the_wrong_descriptor_is_an_error(getter, bad):
    class BadGet(KeyedProcessFunction):
        def open(self, runtime_context: Any) -> None:
            getattr(runtime_context, getter)(bad)

        def process_element(self, value: Any, ctx: Any) -> Any:
            yield value

    message = run_failing(lambda env: env.from_collection([("a", 1)]).key_by(lambda r: r[0])
                          .process(BadGet()))
    assert getter in message
    assert "StateDescriptor" in message
    assert repr(bad) in message


@pytest.mark.parametrize("name", ["", None, 5])
def test_a_state_descriptor_needs_a_name(name):
    with pytest.raises(InvalidProgramError, match="name"):
        ValueStateDescriptor(name, Types.LONG())


def test_reducing_and_aggregating_descriptors_check_their_functions():
    with pytest.raises(InvalidProgramError, match="'r'.*ReduceFunction"):
        ReducingStateDescriptor("r", 42, Types.LONG())
    with pytest.raises(InvalidProgramError, match="'agg'.*AggregateFunction"):
        AggregatingStateDescriptor("agg", lambda a, b: a, Types.LONG())


def test_list_state_rejects_none_elements():
    class AddNone(KeyedProcessFunction):
        def open(self, runtime_context: Any) -> None:
            self.items = runtime_context.get_list_state(ListStateDescriptor("l", Types.LONG()))

        def process_element(self, value: Any, ctx: Any) -> Any:
            self.items.add(None)
            yield value

    message = run_failing(lambda env: env.from_collection([("a", 1)]).key_by(lambda r: r[0])
                          .process(AddNone()))
    assert "null" in message or "None" in message
