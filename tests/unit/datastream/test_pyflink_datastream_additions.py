"""pyflink.datastream names added for API completeness: project, the broadcast classes'
and KeyedStream.broadcast's PyFlink signatures, KeyedBroadcastProcessFunction's contexts,
KeyedStream.AccumulateType, BroadcastState / ReadOnlyBroadcastState /
OperatorStateStore, StateTtlConfig's PyFlink constructor, getters and cleanup strategies,
the state descriptors' function getters, the continuous triggers' public
register_next_fire_timestamp, the environment's changelog and max-parallelism chaining
settings, DeliveryGuarantee, and TimerService in ``functions``."""

from __future__ import annotations

from typing import Any, Iterator, List

import pytest

from flink_py.common import Configuration, Duration, Time, Types
from flink_py.datastream import (
    BroadcastConnectedStream, BroadcastStream, KeyedStream, StreamExecutionEnvironment)
from flink_py.datastream import functions
from flink_py.datastream.connectors import DeliveryGuarantee
from flink_py.datastream.connectors import base as connectors_base
from flink_py.datastream.functions import (
    AggregateFunction, BroadcastProcessFunction, KeyedBroadcastProcessFunction, ReduceFunction)
from flink_py.datastream.state import (
    AggregatingStateDescriptor, BroadcastState, MapStateDescriptor, OperatorStateStore,
    ReadOnlyBroadcastState, ReducingStateDescriptor, StateTtlConfig)
from flink_py.datastream.window import (
    ContinuousEventTimeTrigger, ContinuousProcessingTimeTrigger, TimeWindow)
from flink_py.errors import InvalidProgramError
from flink_py.runtime.state.operator_state_backend import OperatorStateStore as RuntimeStore


def _env(parallelism: int = 1) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    return env


# -- project ------------------------------------------------------------------------------------


def test_project_keeps_the_given_fields_in_the_given_order() -> None:
    env = _env()
    ds = env.from_collection([(1, "a", 1.5), (2, "b", 2.5)],
                             type_info=Types.TUPLE([Types.INT(), Types.STRING(), Types.DOUBLE()]))
    projected = ds.project(2, 0, 0)
    assert projected.get_type() == Types.TUPLE([Types.DOUBLE(), Types.INT(), Types.INT()])
    assert projected.get_name() == "Projection"
    assert sorted(projected.execute_and_collect()) == [(1.5, 1, 1), (2.5, 2, 2)]


def test_project_on_a_keyed_stream_projects_its_values() -> None:
    env = _env(2)
    ds = env.from_collection([("a", 1), ("b", 2), ("a", 3)],
                             type_info=Types.TUPLE([Types.STRING(), Types.INT()]))
    keyed = ds.key_by(lambda v: v[0])
    assert isinstance(keyed, KeyedStream)
    assert sorted(keyed.project(1).execute_and_collect()) == [(1,), (2,), (3,)]


def test_project_needs_a_tuple_stream_and_existing_fields() -> None:
    env = _env()
    with pytest.raises(InvalidProgramError, match="Only Tuple DataStreams can be projected"):
        env.from_collection([1, 2]).project(0)
    ds = env.from_collection([(1, 2)], type_info=Types.TUPLE([Types.INT(), Types.INT()]))
    with pytest.raises(Exception, match="2"):
        ds.project(2)
    with pytest.raises(InvalidProgramError, match="field positions"):
        ds.project("f0")  # type: ignore[arg-type]


# -- broadcast ----------------------------------------------------------------------------------

RULES = MapStateDescriptor("rules", Types.STRING(), Types.INT())


class _StateKinds(BroadcastProcessFunction):
    """Yields the kinds of broadcast state each side gets."""

    def process_element(self, value: Any, ctx: Any) -> Iterator:
        state = ctx.get_broadcast_state(RULES)
        yield ("element", isinstance(state, ReadOnlyBroadcastState),
               isinstance(state, BroadcastState), sorted(state.items()))

    def process_broadcast_element(self, value: Any, ctx: Any) -> Iterator:
        state = ctx.get_broadcast_state(RULES)
        state.put(value[0], value[1])
        yield "broadcast", isinstance(state, BroadcastState), state.contains(value[0])


def test_broadcast_state_is_pyflinks_broadcast_state() -> None:
    env = _env()
    rules = env.from_collection([("a", 1)]).broadcast(RULES)
    assert isinstance(rules, BroadcastStream)
    assert rules.descriptors == [RULES]
    connected = env.from_collection(["x"]).connect(rules)
    assert isinstance(connected, BroadcastConnectedStream)
    out = list(connected.process(_StateKinds()).execute_and_collect())
    assert ("broadcast", True, True) in out
    (element,) = [o for o in out if o[0] == "element"]
    # PyFlink's process_element sees a read-only view (here: the same state, read-only).
    assert element[1] is True and element[3] in ([], [("a", 1)])


def test_broadcast_classes_take_pyflinks_constructor_parameters() -> None:
    env = _env()
    source = env.from_collection([("a", 1)])
    stream = BroadcastStream(input_stream=source, broadcast_state_descriptors=[RULES])
    connected = BroadcastConnectedStream(non_broadcast_stream=env.from_collection(["x"]),
                                         broadcast_stream=stream,
                                         broadcast_state_descriptors=[RULES])
    assert connected.broadcast_stream is stream
    with pytest.raises(InvalidProgramError, match="not those of the broadcast stream"):
        BroadcastConnectedStream(env.from_collection(["x"]), stream, [])


def test_keyed_stream_broadcast_is_refused_as_pyflink_refuses_it() -> None:
    # PyFlink's KeyedStream.broadcast(*args) raises whatever it is given
    env = _env()
    keyed = env.from_collection([("a", 1)]).key_by(lambda v: v[0])
    with pytest.raises(InvalidProgramError, match="Cannot override partitioning"):
        keyed.broadcast(RULES)


def test_operator_state_store_is_pyflinks() -> None:
    store = RuntimeStore()
    assert isinstance(store, OperatorStateStore)
    with pytest.raises(InvalidProgramError, match="broadcast state comes with a broadcast"):
        store.get_broadcast_state(RULES)


# -- state TTL and descriptors -----------------------------------------------------------------


def test_state_ttl_config_keeps_what_the_builder_set() -> None:
    config = (StateTtlConfig.new_builder(Time.seconds(3))
              .update_ttl_on_read_and_write()
              .return_expired_if_not_cleaned_up()
              .use_processing_time()
              .cleanup_full_snapshot()
              .cleanup_incrementally(10, True)
              .cleanup_in_rocksdb_compact_filter(500, Duration.of_days(2))
              .build())
    assert config.get_ttl().to_milliseconds() == 3000 and config.ttl_ms == 3000
    assert config.get_update_type() is StateTtlConfig.UpdateType.OnReadAndWrite
    assert config.get_state_visibility() is \
        StateTtlConfig.StateVisibility.ReturnExpiredIfNotCleanedUp
    assert config.get_ttl_time_characteristic() is \
        StateTtlConfig.TtlTimeCharacteristic.ProcessingTime
    strategies = config.get_cleanup_strategies()
    assert strategies.is_cleanup_in_background() and strategies.in_full_snapshot()
    incremental = strategies.get_incremental_cleanup_strategy()
    assert (incremental.get_cleanup_size(), incremental.run_cleanup_for_every_record()) == \
        (10, True)
    compaction = strategies.get_rocksdb_compact_filter_cleanup_strategy()
    assert compaction.get_query_time_after_num_entries() == 500
    assert compaction.get_periodic_compaction_time().to_milliseconds() == 2 * 86_400_000


def test_state_ttl_config_defaults_are_pyflinks() -> None:
    strategies = StateTtlConfig.new_builder(Duration.of_seconds(1)).build() \
        .get_cleanup_strategies()
    assert not strategies.in_full_snapshot()
    assert strategies.get_incremental_cleanup_strategy().get_cleanup_size() == 5
    assert strategies.get_rocksdb_compact_filter_cleanup_strategy() \
        .get_query_time_after_num_entries() == 1000
    quiet = StateTtlConfig.new_builder(Duration.of_seconds(1)) \
        .disable_cleanup_in_background().build().get_cleanup_strategies()
    assert quiet.get_incremental_cleanup_strategy() is None
    assert quiet.get_rocksdb_compact_filter_cleanup_strategy() is None


def test_state_ttl_config_constructor_is_pyflinks() -> None:
    strategies = StateTtlConfig.CleanupStrategies({}, True)
    config = StateTtlConfig(StateTtlConfig.UpdateType.OnCreateAndWrite,
                            StateTtlConfig.StateVisibility.NeverReturnExpired,
                            StateTtlConfig.TtlTimeCharacteristic.ProcessingTime,
                            Time.milliseconds(250), strategies)
    assert config.is_enabled() and config.ttl_ms == 250
    assert config.get_cleanup_strategies() is strategies
    with pytest.raises(InvalidProgramError,
                       match="expects a StateTtlConfig.UpdateType, got .OnCreateAndWrite."):
        StateTtlConfig("OnCreateAndWrite",  # type: ignore[arg-type]
                       StateTtlConfig.StateVisibility.NeverReturnExpired,
                       StateTtlConfig.TtlTimeCharacteristic.ProcessingTime,
                       Time.milliseconds(250), strategies)
    with pytest.raises(InvalidProgramError, match="must be positive"):
        StateTtlConfig.new_builder(Time.milliseconds(0))


class _Sum(ReduceFunction):
    def reduce(self, value1: Any, value2: Any) -> Any:
        return value1 + value2


class _Average(AggregateFunction):
    def create_accumulator(self) -> List[int]:
        return [0, 0]

    def add(self, value: Any, accumulator: List[int]) -> List[int]:
        return [accumulator[0] + value, accumulator[1] + 1]

    def get_result(self, accumulator: List[int]) -> float:
        return accumulator[0] / accumulator[1]

    def merge(self, acc_a: List[int], acc_b: List[int]) -> List[int]:
        return [acc_a[0] + acc_b[0], acc_a[1] + acc_b[1]]


def test_descriptors_give_back_their_functions() -> None:
    function = _Sum()
    assert ReducingStateDescriptor("s", function, Types.INT()).get_reduce_function() is function
    wrapped = ReducingStateDescriptor("s", lambda a, b: a * b, Types.INT()) \
        .get_reduce_function()
    assert isinstance(wrapped, ReduceFunction) and wrapped.reduce(3, 4) == 12
    average = _Average()
    assert AggregatingStateDescriptor("a", average, Types.PICKLED_BYTE_ARRAY()) \
        .get_agg_function() is average


# -- triggers -----------------------------------------------------------------------------------


class _Timers:
    """A TriggerContext's timer half, recording registrations."""

    def __init__(self) -> None:
        self.event: List[int] = []
        self.processing: List[int] = []

    def register_event_time_timer(self, time: int) -> None:
        self.event.append(time)

    def register_processing_time_timer(self, time: int) -> None:
        self.processing.append(time)


class _ReducingMin:
    def __init__(self) -> None:
        self.value = None

    def add(self, value: int) -> None:
        self.value = value if self.value is None else min(self.value, value)


@pytest.mark.parametrize("trigger,attribute", [
    (ContinuousEventTimeTrigger.of(Time.milliseconds(10)), "event"),
    (ContinuousProcessingTimeTrigger.of(Time.milliseconds(10)), "processing")])
def test_continuous_triggers_register_the_next_firing(trigger: Any, attribute: str) -> None:
    timers, state = _Timers(), _ReducingMin()
    window = TimeWindow(0, 25)
    trigger.register_next_fire_timestamp(3, window, timers, state)
    trigger.register_next_fire_timestamp(20, window, timers, state)
    # one interval later, but never after the window's last timestamp
    assert getattr(timers, attribute) == [13, 24]
    assert state.value == 13


# -- environment --------------------------------------------------------------------------------


def test_changelog_preference_is_recorded() -> None:
    env = _env()
    assert env.is_changelog_state_backend_enabled() is None
    assert env.enable_changelog_state_backend(True) is env
    assert env.is_changelog_state_backend_enabled() is True
    env.enable_changelog_state_backend(False)
    assert env.is_changelog_state_backend_enabled() is False
    with pytest.raises(InvalidProgramError, match="expects a bool"):
        env.enable_changelog_state_backend("yes")  # type: ignore[arg-type]


def _identity(value: Any) -> Any:
    return value


@pytest.mark.parametrize("allowed,vertices", [(True, 1), (False, 3)])
def test_chaining_of_operators_with_different_max_parallelism(allowed: bool,
                                                              vertices: int) -> None:
    env = _env()
    env.configure(Configuration().set_string(
        "pipeline.operator-chaining.chain-operators-with-different-max-parallelism",
        str(allowed).lower()))
    assert env.is_chaining_of_operators_with_different_max_parallelism_enabled() is allowed
    env.from_collection([1, 2]).set_max_parallelism(8).map(_identity) \
        .set_max_parallelism(16).print()
    assert len(env.get_job_graph().vertices) == vertices


def test_chaining_of_operators_with_different_max_parallelism_is_on_by_default() -> None:
    assert _env().is_chaining_of_operators_with_different_max_parallelism_enabled() is True


# -- plain names --------------------------------------------------------------------------------


def test_delivery_guarantee_is_flinks() -> None:
    assert [g.name for g in DeliveryGuarantee] == ["EXACTLY_ONCE", "AT_LEAST_ONCE", "NONE"]
    assert connectors_base.DeliveryGuarantee is DeliveryGuarantee
    assert DeliveryGuarantee["AT_LEAST_ONCE"] is DeliveryGuarantee.AT_LEAST_ONCE


def test_timer_service_is_in_functions_as_in_pyflink() -> None:
    from flink_py.datastream import TimerService
    assert functions.TimerService is TimerService


def test_class_relationships_are_pyflinks() -> None:
    from flink_py.common import TypeSerializer
    from flink_py.datastream.functions import KeyedStateStore, RuntimeContext
    from flink_py.datastream.window import (
        CountWindow, CountWindowSerializer, GlobalWindow, GlobalWindowSerializer,
        TimeWindowSerializer)
    assert issubclass(RuntimeContext, KeyedStateStore)
    for serializer, window in ((TimeWindowSerializer(), TimeWindow(5, 10)),
                               (CountWindowSerializer(), CountWindow(3)),
                               (GlobalWindowSerializer(), GlobalWindow.get())):
        assert isinstance(serializer, TypeSerializer)
        assert serializer.from_bytes(serializer.to_bytes(window)) == window


class _KeyedRulesWithTimers(KeyedBroadcastProcessFunction):
    """Uses the keyed contexts: the current key and timers in process_element, the time
    domain and the key in on_timer."""

    def process_element(self, value: Any, ctx: Any) -> Iterator:
        ctx.timer_service().register_event_time_timer(value[1] + 10)
        yield "element", ctx.get_current_key(), value[1]

    def process_broadcast_element(self, value: Any, ctx: Any) -> Iterator:
        return iter(())

    def on_timer(self, timestamp: int, ctx: Any) -> Iterator:
        yield "timer", ctx.get_current_key(), timestamp, ctx.time_domain().name


def test_keyed_broadcast_process_function_contexts() -> None:
    from flink_py.common import WatermarkStrategy
    assert issubclass(KeyedBroadcastProcessFunction.OnTimerContext,
                      KeyedBroadcastProcessFunction.ReadOnlyContext)
    env = _env()
    rules = env.from_collection([("r", 1)]).broadcast(RULES)
    readings = env.from_collection([("a", 1), ("b", 5)]).assign_timestamps_and_watermarks(
        WatermarkStrategy.for_monotonous_timestamps()
        .with_timestamp_assigner(lambda value, ts: value[1]))
    out = list(readings.key_by(lambda v: v[0]).connect(rules)
               .process(_KeyedRulesWithTimers()).execute_and_collect())
    assert sorted(out) == [("element", "a", 1), ("element", "b", 5),
                           ("timer", "a", 11, "EVENT_TIME"), ("timer", "b", 15, "EVENT_TIME")]


def test_accumulate_type_and_builder_parameter_names_are_pyflinks() -> None:
    assert [(t.name, t.value) for t in KeyedStream.AccumulateType] == [
        ("MIN", 1), ("MAX", 2), ("MIN_BY", 3), ("MAX_BY", 4), ("SUM", 5)]
    config = StateTtlConfig.new_builder(Time.seconds(1)).set_state_visibility(
        state_visibility=StateTtlConfig.StateVisibility.ReturnExpiredIfNotCleanedUp).build()
    assert config.get_state_visibility() is \
        StateTtlConfig.StateVisibility.ReturnExpiredIfNotCleanedUp
