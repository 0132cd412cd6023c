"""DataStream, KeyedStream, ConnectedStreams and DataStreamSink, as in
``pyflink.datastream.data_stream``.

Each method records a Transformation in the environment; nothing runs until ``execute()``.
Functions are accepted as Function objects or plain callables and checked here, at job
definition time, so that a wrong argument is reported where it was written.
"""

from __future__ import annotations

import enum
import functools
import uuid
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Union

from flink_py.common.typeinfo import TupleTypeInfo, RowTypeInfo, TypeInformation, Types
from flink_py.datastream.functions import (
    CoFlatMapFunction, CoMapFunction, FilterFunction, FlatMapFunction, Function, KeySelector,
    MapFunction, Partitioner, ProcessFunction, ReduceFunction, SinkFunction)
from flink_py.datastream.output_tag import OutputTag
from flink_py.errors import InvalidFieldReferenceError, InvalidProgramError
from flink_py.graph.transformations import (
    ChainingStrategy, OneInputTransformation, PartitionTransformation,
    SideOutputTransformation, SinkTransformation, Transformation, TwoInputTransformation,
    UnionTransformation)
from flink_py.runtime.network import partitioners as p
from flink_py.runtime.operators import aggregations, simple, sinks

if TYPE_CHECKING:
    from flink_py.datastream.stream_execution_environment import StreamExecutionEnvironment


def _check_function(fn: Any, interface: type, method: str, api: str) -> Any:
    """Accepts a Function of ``interface`` or any callable; anything else is an error."""
    is_function_class = isinstance(fn, type) and issubclass(fn, Function)
    if isinstance(fn, interface) or (callable(fn) and not is_function_class):
        return fn
    if is_function_class:
        raise InvalidProgramError(
            f"{api}() expects a callable or a {interface.__name__} instance, got the class "
            f"{fn.__name__} (did you forget to instantiate it?)")
    raise InvalidProgramError(
        f"{api}() expects a callable or a {interface.__name__} (with a '{method}' method), "
        f"got {type(fn).__name__} {fn!r}")


def _check_type_info(type_info: Any, api: str) -> Optional[TypeInformation]:
    if type_info is not None and not isinstance(type_info, TypeInformation):
        raise InvalidProgramError(
            f"{api}(): output_type must be a TypeInformation such as Types.STRING(), got "
            f"{type(type_info).__name__} {type_info!r}")
    return type_info


def _index_key_selector(index: int) -> Callable[[Any], Any]:
    def select(value: Any) -> Any:
        try:
            return value[index]
        except (IndexError, TypeError) as exc:
            raise InvalidFieldReferenceError(
                f"key_by({index}): record {value!r} has no field {index}") from exc
    return select


def _key_selector(key_selector: Any, input_type: TypeInformation) -> Callable[[Any], Any]:
    """Normalizes key_by's argument: a KeySelector, a callable, or a field position."""
    if isinstance(key_selector, int) and not isinstance(key_selector, bool):
        if isinstance(input_type, (TupleTypeInfo, RowTypeInfo)):
            input_type.field_type(key_selector)  # raises for a missing field
        return _index_key_selector(key_selector)
    fn = _check_function(key_selector, KeySelector, "get_key", "key_by")
    return fn.get_key if isinstance(fn, KeySelector) else fn


class _Projection:
    """The function of ``project``: a tuple of the fields at the given positions."""

    def __init__(self, field_indexes: tuple) -> None:
        self.field_indexes = tuple(field_indexes)

    def __call__(self, value: Any) -> tuple:
        return tuple(value[i] for i in self.field_indexes)


class DataStream:
    """A stream of records of one type, and the operations that build new streams from it."""

    def __init__(self, env: "StreamExecutionEnvironment", transformation: Transformation) -> None:
        self._env = env
        self._transformation = transformation

    # -- properties of the last operator ------------------------------------------------------

    def get_name(self) -> str:
        return self._transformation.name

    def name(self, name: str) -> "DataStream":
        """Sets the name of the operator, as shown in plans, logs and the web UI."""
        self._transformation.name = name
        return self

    def uid(self, uid: str) -> "DataStream":
        """Sets a stable id for the operator: what its state is matched by on restore.

        The operator's ``OperatorID`` is Flink's hash of the uid (murmur3 128-bit), so it
        does not change when other operators are added or removed. Uids must be unique in
        a job.
        """
        self._transformation.set_uid(uid)
        return self

    def set_uid_hash(self, uid_hash: str) -> "DataStream":
        """Sets the operator's ``OperatorID`` itself, as 32 hex characters: for restoring
        state written by a job whose operators had generated ids (take the id from the
        savepoint or the web UI)."""
        self._transformation.set_uid_hash(uid_hash)
        return self

    def set_description(self, description: str) -> "DataStream":
        self._transformation.description = description
        return self

    def set_parallelism(self, parallelism: int) -> "DataStream":
        """Sets the parallelism of the operator."""
        if getattr(self._transformation, "non_parallel", False) and parallelism != 1:
            raise InvalidProgramError(
                f"the parallelism of non-parallel operator '{self.get_name()}' must be 1, got "
                f"{parallelism!r}")
        self._transformation.set_parallelism(parallelism)
        return self

    def set_max_parallelism(self, max_parallelism: int) -> "DataStream":
        self._transformation.set_max_parallelism(max_parallelism)
        return self

    def force_non_parallel(self) -> "DataStream":
        self._transformation.set_parallelism(1)
        self._transformation.set_max_parallelism(1)
        return self

    def get_type(self) -> TypeInformation:
        """The type information of the records."""
        return self._transformation.output_type

    def get_execution_environment(self) -> "StreamExecutionEnvironment":
        return self._env

    def get_execution_config(self) -> Any:
        return self._env.get_config()

    def set_buffer_timeout(self, timeout_millis: int) -> "DataStream":
        self._transformation.buffer_timeout = timeout_millis
        return self

    def start_new_chain(self) -> "DataStream":
        """Starts a new chain at this operator (it is not chained to its predecessor)."""
        self._transformation.chaining_strategy = ChainingStrategy.HEAD
        return self

    def disable_chaining(self) -> "DataStream":
        """Chains this operator neither to its predecessor nor to its successors."""
        self._transformation.chaining_strategy = ChainingStrategy.NEVER
        return self

    def slot_sharing_group(self, slot_sharing_group: Any) -> "DataStream":
        """Puts the operator into a slot sharing group (a name or a SlotSharingGroup)."""
        name = getattr(slot_sharing_group, "get_name", lambda: slot_sharing_group)()
        if not isinstance(name, str) or not name:
            raise InvalidProgramError(
                f"slot_sharing_group expects a non-empty name, got {slot_sharing_group!r}")
        self._transformation.slot_sharing_group = name
        return self

    # -- transformations --------------------------------------------------------------------

    def _one_input(self, name: str, factory: Callable[[], Any], output_type: Any,
                   state_key_selector: Any = None) -> "DataStream":
        t = OneInputTransformation(self._transformation, name, factory, output_type,
                                   state_key_selector=state_key_selector)
        self._env._add_operator(t)
        return DataStream(self._env, t)

    def map(self, func: Union[Callable, MapFunction],
            output_type: Optional[TypeInformation] = None) -> "DataStream":
        """Applies ``func`` to every record: one output per input.

        :param func: a MapFunction or a callable ``value -> result``.
        :param output_type: the type of the results; pickled Python objects if not given.
        :return: the mapped stream.
        """
        func = _check_function(func, MapFunction, "map", "map")
        output_type = _check_type_info(output_type, "map") or Types.PICKLED_BYTE_ARRAY()
        return self._one_input("Map", functools.partial(simple.StreamMap, "Map", func),
                               output_type)

    def project(self, *field_indexes: int) -> "DataStream":
        """Keeps the given fields of each tuple, in the given order (a field may come more
        than once): ``project(2, 0)`` turns ``(a, b, c)`` into ``(c, a)``. Only a stream of
        declared tuple type (``Types.TUPLE([...])``) can be projected, as in PyFlink.

        :param field_indexes: The positions of the fields to keep.
        :return: The stream of the smaller tuples, of the matching tuple type.
        """
        input_type = self.get_type()
        if not isinstance(input_type, TupleTypeInfo):
            raise InvalidProgramError(
                f"Only Tuple DataStreams can be projected: the type of '{self.get_name()}' is "
                f"{input_type!r}; declare it with output_type=Types.TUPLE([...])")
        if not field_indexes:
            raise InvalidProgramError("project needs at least one field index")
        for index in field_indexes:
            if isinstance(index, bool) or not isinstance(index, int):
                raise InvalidProgramError(
                    f"project takes field positions (ints), got {index!r}")
        output_type = Types.TUPLE([input_type.field_type(i) for i in field_indexes])
        return DataStream._one_input(self, "Projection", functools.partial(
            simple.StreamMap, "Projection", _Projection(field_indexes)), output_type)

    def cache(self) -> "CachedDataStream":
        """Caches this stream's records for the later jobs of the environment (BATCH
        execution only): the first job that runs it computes it, later ones read the cache
        (see :mod:`flink_py.datastream.cache`).

        :return: The cached stream; ``invalidate()`` drops its cache.
        """
        from flink_py.datastream.cache import CacheTransformation
        t = CacheTransformation(self._env, self._transformation)
        return CachedDataStream(self._env, t)

    def flat_map(self, func: Union[Callable, FlatMapFunction],
                 output_type: Optional[TypeInformation] = None) -> "DataStream":
        """Applies ``func`` to every record; it returns or yields any number of results."""
        func = _check_function(func, FlatMapFunction, "flat_map", "flat_map")
        output_type = _check_type_info(output_type, "flat_map") or Types.PICKLED_BYTE_ARRAY()
        return self._one_input("FlatMap", functools.partial(simple.StreamFlatMap, "FlatMap",
                                                            func), output_type)

    def filter(self, func: Union[Callable, FilterFunction]) -> "DataStream":
        """Keeps the records for which ``func`` returns true."""
        func = _check_function(func, FilterFunction, "filter", "filter")
        return self._one_input("Filter", functools.partial(simple.StreamFilter, "Filter", func),
                               self.get_type())

    def process(self, func: Union[Callable, ProcessFunction],
                output_type: Optional[TypeInformation] = None) -> "DataStream":
        """Applies a ProcessFunction: ``process_element(value, ctx)`` yields outputs, and
        ``yield output_tag, value`` emits to a side output."""
        func = _check_function(func, ProcessFunction, "process_element", "process")
        output_type = _check_type_info(output_type, "process") or Types.PICKLED_BYTE_ARRAY()
        return self._one_input("Process", functools.partial(simple.ProcessOperator, "Process",
                                                            func), output_type)

    def get_side_output(self, output_tag: OutputTag) -> "DataStream":
        """The records this operator emitted to ``output_tag``."""
        if not isinstance(output_tag, OutputTag):
            raise InvalidProgramError(
                f"get_side_output expects an OutputTag, got {type(output_tag).__name__} "
                f"{output_tag!r}")
        return DataStream(self._env, SideOutputTransformation(self._transformation, output_tag))

    def assign_timestamps_and_watermarks(self, watermark_strategy: Any) -> "DataStream":
        """Gives every record an event timestamp and the stream watermarks, by a strategy.

        The operator ("Timestamps/Watermarks") sets each record's timestamp with the
        strategy's assigner and forwards the watermarks its generator emits; watermarks from
        upstream are replaced, except the final one of a bounded input. It runs at the
        parallelism of its input, so it chains to it.

        :param watermark_strategy: a WatermarkStrategy, e.g.
            ``WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_seconds(5))
            .with_timestamp_assigner(lambda event, ts: event[1])``.
        :return: the stream with timestamps and watermarks.
        """
        from flink_py.common.watermark_strategy import WatermarkStrategy
        from flink_py.runtime.operators.timestamps import (
            AutoWatermarkInterval, TimestampsAndWatermarksOperatorFactory)
        if not isinstance(watermark_strategy, WatermarkStrategy):
            raise InvalidProgramError(
                f"assign_timestamps_and_watermarks expects a WatermarkStrategy, got "
                f"{type(watermark_strategy).__name__} {watermark_strategy!r}")
        name = "Timestamps/Watermarks"
        stream = self._one_input(name, TimestampsAndWatermarksOperatorFactory(
            name, watermark_strategy, AutoWatermarkInterval(self._env.get_config())),
            self.get_type())
        upstream = self._transformation
        if upstream.parallelism_configured and upstream.parallelism is not None:
            stream._transformation.set_parallelism(upstream.parallelism)
        return stream

    def key_by(self, key_selector: Union[Callable, KeySelector, int],
               key_type: Optional[TypeInformation] = None) -> "KeyedStream":
        """Partitions the stream by key: records with equal keys go to the same subtask.

        :param key_selector: a KeySelector, a callable ``value -> key``, or a field position.
        :param key_type: the type of the keys (pickled Python objects if not given).
        """
        selector = _key_selector(key_selector, self.get_type())
        _check_type_info(key_type, "key_by")
        partition = PartitionTransformation(
            self._transformation, p.KeyGroupStreamPartitioner(selector, "key_by", key_type))
        return KeyedStream(self._env, partition, selector,
                           key_type or Types.PICKLED_BYTE_ARRAY(), self)

    def union(self, *streams: "DataStream") -> "DataStream":
        """One stream with the records of this stream and of ``streams`` (same type)."""
        for s in streams:
            if not isinstance(s, DataStream):
                raise InvalidProgramError(
                    f"union expects DataStreams, got {type(s).__name__} {s!r}")
            if s.get_type() != self.get_type():
                raise InvalidProgramError(
                    f"cannot union streams of different types: {self.get_type()!r} and "
                    f"{s.get_type()!r}")
        return DataStream(self._env, UnionTransformation(
            [self._transformation] + [s._transformation for s in streams]))

    def connect(self, ds: Any) -> Any:
        """Connects two streams (of possibly different types) for a co-operator; connecting
        a BroadcastStream gives a BroadcastConnectedStream."""
        if isinstance(ds, BroadcastStream):
            return BroadcastConnectedStream(self, ds)
        if not isinstance(ds, DataStream):
            raise InvalidProgramError(
                f"connect expects a DataStream, got {type(ds).__name__} {ds!r}")
        return ConnectedStreams(self, ds)

    # -- windows (flink_py/datastream/windowed_stream.py, joined_streams.py) ----------------

    def window_all(self, window_assigner: Any) -> Any:
        """Windows the whole stream (not per key) to an AllWindowedStream; its window operator
        runs at parallelism 1, as in Flink.

        :param window_assigner: a WindowAssigner, e.g. ``TumblingEventTimeWindows.of(...)``.
        """
        from flink_py.datastream.windowed_stream import AllWindowedStream
        return AllWindowedStream(self, window_assigner)

    def count_window_all(self, size: int, slide: int = 0) -> Any:
        """Windows the whole stream into windows of ``size`` elements, every ``slide``
        elements if ``slide`` is given (PyFlink's count window semantics: only full windows
        fire)."""
        from flink_py.datastream.windowed_stream import AllWindowedStream, count_window_stream
        return count_window_stream(AllWindowedStream, self, size, slide)

    def join(self, other_stream: "DataStream") -> Any:
        """A window join with ``other_stream``: ``.where(key).equal_to(key).window(assigner)
        .apply(JoinFunction)`` (Java's ``join``)."""
        from flink_py.datastream.joined_streams import JoinedStreams
        return JoinedStreams(self, other_stream)

    def co_group(self, other_stream: "DataStream") -> Any:
        """A window co-group with ``other_stream``: ``.where(key).equal_to(key)
        .window(assigner).apply(CoGroupFunction)`` (Java's ``coGroup``)."""
        from flink_py.datastream.joined_streams import CoGroupedStreams
        return CoGroupedStreams(self, other_stream)

    # -- partitioning -----------------------------------------------------------------------

    def _partition(self, partitioner: p.StreamPartitioner) -> "DataStream":
        return DataStream(self._env, PartitionTransformation(self._transformation, partitioner))

    def forward(self) -> "DataStream":
        """Records go to the next operator's subtask of the same index (same parallelism)."""
        return self._partition(p.ForwardPartitioner())

    def rebalance(self) -> "DataStream":
        """Records go round robin to all subtasks of the next operator."""
        return self._partition(p.RebalancePartitioner())

    def rescale(self) -> "DataStream":
        """Records go round robin to a local subset of the next operator's subtasks."""
        return self._partition(p.RescalePartitioner())

    def shuffle(self) -> "DataStream":
        """Records go to uniformly random subtasks of the next operator."""
        return self._partition(p.ShufflePartitioner())

    def broadcast(self, broadcast_state_descriptor: Any = None,
                  *other_broadcast_state_descriptors: Any) -> Any:
        """Every record goes to every subtask of the next operator.

        With MapStateDescriptors, returns a BroadcastStream: ``other.connect(it)`` then
        ``process(BroadcastProcessFunction | KeyedBroadcastProcessFunction)`` gives every
        subtask the broadcast state those descriptors name.
        """
        broadcast_state_descriptors = [d for d in (broadcast_state_descriptor,
                                                   *other_broadcast_state_descriptors)
                                       if d is not None]
        if broadcast_state_descriptors:
            from flink_py.datastream.state import MapStateDescriptor
            for d in broadcast_state_descriptors:
                if not isinstance(d, MapStateDescriptor):
                    raise InvalidProgramError(
                        f"broadcast state needs MapStateDescriptors, got "
                        f"{type(d).__name__} {d!r}")
            return BroadcastStream(self, list(broadcast_state_descriptors))
        return self._partition(p.BroadcastPartitioner())

    def global_(self) -> "DataStream":
        """Every record goes to subtask 0 of the next operator (Java's ``global()``)."""
        return self._partition(p.GlobalPartitioner())

    def partition_custom(self, partitioner: Union[Callable, Partitioner],
                         key_selector: Union[Callable, KeySelector]) -> "DataStream":
        """Records go to the subtask ``partitioner.partition(key, num_partitions)`` picks."""
        part = _check_function(partitioner, Partitioner, "partition", "partition_custom")
        part_fn = part.partition if isinstance(part, Partitioner) else part
        key = _key_selector(key_selector, self.get_type())
        return self._partition(p.CustomPartitionerWrapper(part_fn, key))

    # -- sinks --------------------------------------------------------------------------------

    def _sink(self, name: str, factory: Callable[[], Any]) -> "DataStreamSink":
        t = SinkTransformation(self._transformation, name, factory, None)
        self._env._add_operator(t)
        return DataStreamSink(t)

    def print(self, sink_identifier: Optional[str] = None) -> "DataStreamSink":
        """Writes every record to stdout of the TaskManager, as Flink shows it.

        Above parallelism 1 each line is prefixed with ``<subtask>> `` (or
        ``<identifier>:<subtask>> ``).
        """
        formatter = self.get_type().display_formatter()
        return self._sink("Print to Std. Out", functools.partial(
            sinks.PrintSink, "Print to Std. Out", formatter, sink_identifier))

    def add_sink(self, sink_func: Union[Callable, SinkFunction]) -> "DataStreamSink":
        """Writes every record with ``sink_func.invoke(value, context)`` (or ``fn(value)``)."""
        fn = _check_function(sink_func, SinkFunction, "invoke", "add_sink")
        return self._sink("Unnamed", functools.partial(
            sinks.SinkFunctionSink, "Unnamed", fn))

    def sink_to(self, sink: Any) -> "DataStreamSink":
        """Writes to a Sink such as a FileSink (an object with ``_create_sink_operator(name)``;
        one that writes records by their type also has ``_with_input_type(type_info)``)."""
        with_input_type = getattr(sink, "_with_input_type", None)
        if with_input_type is not None:
            sink = with_input_type(self.get_type())
        create = getattr(sink, "_create_sink_operator", None)
        if create is None:
            raise InvalidProgramError(
                f"sink_to expects a Sink (for example FileSink), got {type(sink).__name__} "
                f"{sink!r}")
        name = getattr(sink, "name", "Sink")
        return self._sink(name, functools.partial(create, name))

    def execute_and_collect(self, job_execution_name: Optional[str] = None,
                            limit: Optional[int] = None) -> Any:
        """Runs the job and returns its records to this program.

        :return: a CloseableIterator (also a context manager), or a list of at most ``limit``
                 records if ``limit`` is given.
        """
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                                  or limit <= 0):
            raise InvalidProgramError(f"limit must be a positive int, got {limit!r}")
        collect_id = uuid.uuid4().hex
        stream_type = self.get_type()
        row_names = (stream_type.get_field_names() if isinstance(stream_type, RowTypeInfo)
                     else None)
        sink = self._sink("Collect Sink", functools.partial(
            sinks.CollectSink, "Collect Sink", collect_id, row_names, stream_type))
        sink.set_parallelism(1)
        iterator = self._env._execute_and_collect(collect_id, job_execution_name)
        if limit is None:
            return iterator
        with iterator:
            result: list = []
            while len(result) < limit:
                try:
                    result.append(next(iterator))
                except StopIteration:
                    break
            return result


class DataStreamSink:
    """The end of a stream: a sink operator whose properties can still be set."""

    def __init__(self, transformation: SinkTransformation) -> None:
        self._transformation = transformation

    def name(self, name: str) -> "DataStreamSink":
        self._transformation.name = name
        return self

    def uid(self, uid: str) -> "DataStreamSink":
        """Sets a stable id for the sink (see :meth:`DataStream.uid`)."""
        self._transformation.set_uid(uid)
        return self

    def set_uid_hash(self, uid_hash: str) -> "DataStreamSink":
        """Sets the sink's ``OperatorID`` (see :meth:`DataStream.set_uid_hash`)."""
        self._transformation.set_uid_hash(uid_hash)
        return self

    def set_description(self, description: str) -> "DataStreamSink":
        self._transformation.description = description
        return self

    def set_parallelism(self, parallelism: int) -> "DataStreamSink":
        self._transformation.set_parallelism(parallelism)
        return self

    def disable_chaining(self) -> "DataStreamSink":
        self._transformation.chaining_strategy = ChainingStrategy.NEVER
        return self

    def start_new_chain(self) -> "DataStreamSink":
        self._transformation.chaining_strategy = ChainingStrategy.HEAD
        return self

    def slot_sharing_group(self, slot_sharing_group: Any) -> "DataStreamSink":
        name = getattr(slot_sharing_group, "get_name", lambda: slot_sharing_group)()
        self._transformation.slot_sharing_group = name
        return self


class KeyedStream(DataStream):
    """A DataStream partitioned by key: rolling aggregations and keyed operators."""

    class AccumulateType(enum.Enum):
        """The rolling aggregations (PyFlink's names and values)."""

        MIN = 1
        MAX = 2
        MIN_BY = 3
        MAX_BY = 4
        SUM = 5

    def __init__(self, env: "StreamExecutionEnvironment", partition: Transformation,
                 key_selector: Callable[[Any], Any], key_type: TypeInformation,
                 original: DataStream) -> None:
        super().__init__(env, partition)
        self._key_selector = key_selector
        self._key_type = key_type
        self._original = original

    def get_type(self) -> TypeInformation:
        return self._original.get_type()

    def get_key_type(self) -> TypeInformation:
        return self._key_type

    # The partition itself has no operator: these settings belong to the next operator.
    def _not_an_operator(self, what: str) -> Any:
        raise InvalidProgramError(
            f"{what} cannot be set on a KeyedStream: set it on the operator that follows "
            f"key_by (e.g. key_by(...).sum(1).{what}(...))")

    def name(self, name: str) -> "DataStream":
        return self._not_an_operator("name")

    def uid(self, uid: str) -> "DataStream":
        return self._not_an_operator("uid")

    def set_parallelism(self, parallelism: int) -> "DataStream":
        return self._not_an_operator("set_parallelism")

    def _one_input(self, name: str, factory: Callable[[], Any], output_type: Any,
                   state_key_selector: Any = None) -> DataStream:
        # map/flat_map/filter with a rich function on a keyed stream may use keyed state, as
        # in PyFlink: their operator then scopes each record's call to its key.
        keyed = simple.KEYED_VARIANTS.get(getattr(factory, "func", None))
        if keyed is not None and isinstance(factory.args[1], Function):  # type: ignore
            factory = functools.partial(keyed, *factory.args, key_selector=self._key_selector)
        return super()._one_input(name, factory, output_type, self._key_selector)

    def process(self, func: Any, output_type: Optional[TypeInformation] = None) -> DataStream:
        """Applies a KeyedProcessFunction (or a ProcessFunction): per-key state through the
        runtime context, timers through ``ctx.timer_service()``, ``on_timer`` when they fire.
        """
        from flink_py.datastream.functions import KeyedProcessFunction
        from flink_py.runtime.operators.keyed_process import KeyedProcessOperator
        if isinstance(func, (KeyedProcessFunction, ProcessFunction)):
            pass
        elif callable(func):
            func = _check_function(func, ProcessFunction, "process_element", "process")
        else:
            raise InvalidProgramError(
                f"process expects a KeyedProcessFunction, a ProcessFunction or a callable, "
                f"got {type(func).__name__} {func!r}")
        output_type = _check_type_info(output_type, "process") or Types.PICKLED_BYTE_ARRAY()
        return self._one_input("KeyedProcess", functools.partial(
            KeyedProcessOperator, "KeyedProcess", func, self._key_selector), output_type)

    def window(self, window_assigner: Any) -> Any:
        """Windows this keyed stream to a WindowedStream: elements are grouped by key and by
        the windows ``window_assigner`` gives them; each key's windows fire on their own.

        :param window_assigner: a WindowAssigner, e.g. ``TumblingEventTimeWindows.of(...)``.
        """
        from flink_py.datastream.windowed_stream import WindowedStream
        return WindowedStream(self, window_assigner)

    def count_window(self, size: int, slide: int = 0) -> Any:
        """Windows of ``size`` elements per key, tumbling, or sliding every ``slide`` elements
        (PyFlink's semantics: only full windows fire, the first after ``size`` elements)."""
        from flink_py.datastream.windowed_stream import WindowedStream, count_window_stream
        return count_window_stream(WindowedStream, self, size, slide)

    def interval_join(self, other: "KeyedStream") -> "IntervalJoin":
        """Joins with another keyed stream: elements of equal keys whose timestamps are
        within ``between(lower, upper)`` of each other (event time)."""
        if not isinstance(other, KeyedStream):
            raise InvalidProgramError(
                f"interval_join expects a KeyedStream, got {type(other).__name__} {other!r}")
        return IntervalJoin(self, other)

    def reduce(self, func: Union[Callable, ReduceFunction]) -> DataStream:
        """Rolling reduce: emits ``func(previous_result, record)`` for every record."""
        func = _check_function(func, ReduceFunction, "reduce", "reduce")
        return self._reduce("Keyed Reduce", func)

    def _reduce(self, name: str, reducer: Any) -> DataStream:
        return self._one_input(name, functools.partial(
            aggregations.StreamGroupedReduce, name, reducer, self._key_selector),
            self.get_type())

    def _aggregate(self, kind: str, field: Union[int, str]) -> DataStream:
        if isinstance(field, bool) or not isinstance(field, (int, str)):
            raise InvalidProgramError(
                f"{kind}() expects a field position (int) or a field name (str), got "
                f"{field!r}")
        input_type = self.get_type()
        if not isinstance(input_type, type(Types.PICKLED_BYTE_ARRAY())):
            field_type = input_type.field_type(field)  # raises for a missing field
            if kind == "sum" and not field_type.is_numeric():
                raise InvalidFieldReferenceError(
                    f"{kind}({field!r}) needs a numeric field, but field {field!r} of "
                    f"{input_type!r} is {field_type!r}")
        return self._reduce("Keyed Aggregation", aggregations.AGGREGATORS[kind](field))

    def sum(self, position_to_sum: Union[int, str] = 0) -> DataStream:
        """Rolling sum of a field: the key's first record with that field summed."""
        return self._aggregate("sum", position_to_sum)

    def min(self, position_to_min: Union[int, str] = 0) -> DataStream:
        """Rolling minimum of a field (the other fields are the key's first record's)."""
        return self._aggregate("min", position_to_min)

    def max(self, position_to_max: Union[int, str] = 0) -> DataStream:
        """Rolling maximum of a field (the other fields are the key's first record's)."""
        return self._aggregate("max", position_to_max)

    def min_by(self, position_to_min_by: Union[int, str] = 0) -> DataStream:
        """The whole record with the smallest value of a field so far (earlier on ties)."""
        return self._aggregate("min_by", position_to_min_by)

    def max_by(self, position_to_max_by: Union[int, str] = 0) -> DataStream:
        """The whole record with the largest value of a field so far (earlier on ties)."""
        return self._aggregate("max_by", position_to_max_by)

    # A keyed stream's partitioning is its key: PyFlink refuses to replace it (with a plain
    # Exception; ours is an InvalidProgramError, which is one).
    def _cannot_override_partitioning(self) -> Any:
        raise InvalidProgramError("Cannot override partitioning for KeyedStream.")

    def shuffle(self) -> "DataStream":
        return self._cannot_override_partitioning()

    def rescale(self) -> "DataStream":
        return self._cannot_override_partitioning()

    def rebalance(self) -> "DataStream":
        return self._cannot_override_partitioning()

    def forward(self) -> "DataStream":
        return self._cannot_override_partitioning()

    def broadcast(self, *args: Any) -> Any:
        """Not supported: the partitioning of a KeyedStream cannot be overridden."""
        return self._cannot_override_partitioning()

    def partition_custom(self, partitioner: Union[Callable, Partitioner],
                         key_selector: Union[Callable, KeySelector]) -> "DataStream":
        return self._cannot_override_partitioning()

    def print(self, sink_identifier: Optional[str] = None) -> "DataStreamSink":
        """Prints the records, as :meth:`DataStream.print`, except that PyFlink's keyed
        stream ignores ``sink_identifier`` (its lines carry no ``ident> ``), and so does
        this one, so that the same program prints the same lines."""
        return super().print()


class ConnectedStreams:
    """Two streams joined for a co-operator (``map1``/``map2``, ``flat_map1``/``flat_map2``)."""

    def __init__(self, stream1: DataStream, stream2: DataStream) -> None:
        self.stream1 = stream1
        self.stream2 = stream2

    def key_by(self, key_selector1: Union[Callable, KeySelector],
               key_selector2: Union[Callable, KeySelector],
               key_type: Optional[TypeInformation] = None) -> "ConnectedStreams":
        """Partitions both inputs by key, so that equal keys meet in the same subtask."""
        return ConnectedStreams(self.stream1.key_by(key_selector1, key_type),
                                self.stream2.key_by(key_selector2, key_type))

    def _two_input(self, name: str, factory: Callable[[], Any],
                   output_type: Optional[TypeInformation]) -> DataStream:
        env = self.stream1._env
        output_type = _check_type_info(output_type, name) or Types.PICKLED_BYTE_ARRAY()
        t = TwoInputTransformation(
            self.stream1._transformation, self.stream2._transformation, name, factory,
            output_type,
            state_key_selector1=getattr(self.stream1, "_key_selector", None),
            state_key_selector2=getattr(self.stream2, "_key_selector", None))
        env._add_operator(t)
        return DataStream(env, t)

    def process(self, func: Any, output_type: Optional[TypeInformation] = None) -> DataStream:
        """Applies a CoProcessFunction, or a KeyedCoProcessFunction when both inputs are
        keyed (keyed state and timers)."""
        from flink_py.datastream.functions import CoProcessFunction, KeyedCoProcessFunction
        from flink_py.runtime.operators import co_process
        keyed = isinstance(self.stream1, KeyedStream) and isinstance(self.stream2, KeyedStream)
        expected = KeyedCoProcessFunction if keyed else CoProcessFunction
        if not isinstance(func, (CoProcessFunction, KeyedCoProcessFunction)) or (
                not keyed and isinstance(func, KeyedCoProcessFunction)):
            raise InvalidProgramError(
                f"ConnectedStreams.process expects a {expected.__name__} here (both inputs "
                f"{'keyed' if keyed else 'not both keyed'}), got {type(func).__name__} "
                f"{func!r}")
        name = "KeyedCoProcess" if keyed else "Co-Process"
        operator = (co_process.KeyedTwoInputProcessOperator if keyed
                    else co_process.TwoInputProcessOperator)
        selectors = (self.stream1._key_selector, self.stream2._key_selector) if keyed else (
            None, None)
        return self._two_input(name, functools.partial(
            operator, name, func, ("process_element1", "process_element2"), selectors),
            output_type)

    def map(self, func: CoMapFunction, output_type: Optional[TypeInformation] = None
            ) -> DataStream:
        """Applies ``func.map1`` to the first input's records and ``func.map2`` to the
        second's; both outputs form one stream."""
        if not isinstance(func, CoMapFunction):
            raise InvalidProgramError(
                f"ConnectedStreams.map expects a CoMapFunction (with map1 and map2), got "
                f"{type(func).__name__} {func!r}")
        return self._two_input("Co-Map", functools.partial(
            simple.CoStreamMap, "Co-Map", func), output_type)

    def flat_map(self, func: CoFlatMapFunction, output_type: Optional[TypeInformation] = None
                 ) -> DataStream:
        """Applies ``func.flat_map1`` / ``func.flat_map2``; each yields any number of outputs."""
        if not isinstance(func, CoFlatMapFunction):
            raise InvalidProgramError(
                f"ConnectedStreams.flat_map expects a CoFlatMapFunction (with flat_map1 and "
                f"flat_map2), got {type(func).__name__} {func!r}")
        return self._two_input("Co-Flat Map", functools.partial(
            simple.CoStreamFlatMap, "Co-Flat Map", func), output_type)


class CachedDataStream(DataStream):
    """A stream whose records are cached for the later jobs of its environment
    (``DataStream.cache()``)."""

    def invalidate(self) -> None:
        """Drops the cache: the next job that uses this stream computes it again."""
        self._transformation.invalidate()  # type: ignore[attr-defined]


class BroadcastStream:
    """A stream broadcast with broadcast state descriptors (``DataStream.broadcast(d, ...)``)."""

    def __init__(self, input_stream: DataStream, broadcast_state_descriptors: List[Any]
                 ) -> None:
        self.stream = input_stream
        self.descriptors = list(broadcast_state_descriptors)


class BroadcastConnectedStream:
    """A (keyed or non-keyed) stream connected with a BroadcastStream."""

    def __init__(self, non_broadcast_stream: DataStream, broadcast_stream: BroadcastStream,
                 broadcast_state_descriptors: Optional[List[Any]] = None) -> None:
        """:param broadcast_state_descriptors: the descriptors of the broadcast state (None:
            those ``broadcast_stream`` was made with)."""
        self.stream = non_broadcast_stream
        self.broadcast_stream = broadcast_stream
        if broadcast_state_descriptors is not None and \
                list(broadcast_state_descriptors) != broadcast_stream.descriptors:
            raise InvalidProgramError(
                f"BroadcastConnectedStream: broadcast_state_descriptors "
                f"{broadcast_state_descriptors!r} are not those of the broadcast stream "
                f"{broadcast_stream.descriptors!r}")

    def process(self, func: Any, output_type: Optional[TypeInformation] = None) -> DataStream:
        """Applies a BroadcastProcessFunction, or a KeyedBroadcastProcessFunction when the
        non-broadcast stream is keyed."""
        from flink_py.datastream.functions import (
            BroadcastProcessFunction, KeyedBroadcastProcessFunction)
        from flink_py.runtime.operators import co_process
        keyed = isinstance(self.stream, KeyedStream)
        expected = KeyedBroadcastProcessFunction if keyed else BroadcastProcessFunction
        if not isinstance(func, expected):
            raise InvalidProgramError(
                f"process on a {'keyed' if keyed else 'non-keyed'} stream connected with a "
                f"broadcast stream expects a {expected.__name__}, got {type(func).__name__} "
                f"{func!r}")
        name = "Co-Process-Broadcast-Keyed" if keyed else "Co-Process-Broadcast"
        operator = (co_process.KeyedTwoInputProcessOperator if keyed
                    else co_process.TwoInputProcessOperator)
        selectors = (self.stream._key_selector if keyed else None, None)
        broadcast = self.broadcast_stream.stream._partition(p.BroadcastPartitioner())
        connected = ConnectedStreams(self.stream, broadcast)
        return connected._two_input(name, functools.partial(
            operator, name, func, ("process_element", "process_broadcast_element"),
            selectors, True, self.broadcast_stream.descriptors), output_type)


def _interval_millis(value: Any, what: str) -> int:
    from flink_py.common.time import Duration, Time
    if isinstance(value, (Time, Duration)):
        return value.to_milliseconds()
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise InvalidProgramError(f"interval join {what} bound must be a Time, Duration or int "
                              f"of ms, got {value!r}")


class IntervalJoin:
    """``keyed_a.interval_join(keyed_b)``; give the bounds with ``between``."""

    def __init__(self, left: KeyedStream, right: KeyedStream) -> None:
        self.left = left
        self.right = right

    def between(self, lower_bound: Any, upper_bound: Any) -> "IntervalJoined":
        lower = _interval_millis(lower_bound, "lower")
        upper = _interval_millis(upper_bound, "upper")
        if lower > upper:
            raise InvalidProgramError(
                f"interval join: the lower bound ({lower} ms) must not be larger than the "
                f"upper bound ({upper} ms)")
        return IntervalJoined(self.left, self.right, lower, upper)


class IntervalJoined:
    """An interval join with its bounds; ``process(ProcessJoinFunction)`` runs it."""

    def __init__(self, left: KeyedStream, right: KeyedStream, lower: int, upper: int) -> None:
        self.left = left
        self.right = right
        self.lower = lower
        self.upper = upper
        self.lower_inclusive = True
        self.upper_inclusive = True

    def lower_bound_exclusive(self) -> "IntervalJoined":
        self.lower_inclusive = False
        return self

    def upper_bound_exclusive(self) -> "IntervalJoined":
        self.upper_inclusive = False
        return self

    def process(self, func: Any, output_type: Optional[TypeInformation] = None) -> DataStream:
        from flink_py.datastream.functions import ProcessJoinFunction
        from flink_py.runtime.operators.interval_join import IntervalJoinOperator
        if not (isinstance(func, ProcessJoinFunction) or callable(func)):
            raise InvalidProgramError(
                f"IntervalJoined.process expects a ProcessJoinFunction, got "
                f"{type(func).__name__} {func!r}")
        name = "IntervalJoin"
        return ConnectedStreams(self.left, self.right)._two_input(name, functools.partial(
            IntervalJoinOperator, name, func, self.left._key_selector, self.right._key_selector,
            self.lower, self.upper, self.lower_inclusive, self.upper_inclusive), output_type)
