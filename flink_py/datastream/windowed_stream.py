"""WindowedStream and AllWindowedStream, as in ``pyflink.datastream.data_stream``.

``keyed_stream.window(assigner)`` and ``data_stream.window_all(assigner)`` describe windows;
``trigger``, ``evictor``, ``allowed_lateness`` and ``side_output_late_data`` refine them, and
``reduce``, ``aggregate``, ``apply`` or ``process`` add the window operator
(``runtime/operators/window.py``) and return its stream. Arguments are checked here, when the
program is defined.

Example::

    >>> from flink_py.datastream.window import TumblingEventTimeWindows
    >>> from flink_py.common.time import Time
    >>> from flink_py.datastream import StreamExecutionEnvironment
    >>> env = StreamExecutionEnvironment.get_execution_environment()
    >>> windowed = (env.from_collection([("a", 1)]).key_by(lambda r: r[0])
    ...             .window(TumblingEventTimeWindows.of(Time.seconds(5))))
    >>> sums = windowed.reduce(lambda a, b: (a[0], a[1] + b[1]))
    >>> sums.get_name()
    'TumblingEventTimeWindows'
    >>> sums._transformation.description
    'Window(TumblingEventTimeWindows(5000, 0), EventTimeTrigger, <lambda>)'

As in Flink (1.15 on), the operator is named after the assigner and described by the
assigner, the trigger, the evictor and the functions.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable, Optional, Tuple, Union

from flink_py.common.time import Duration, Time
from flink_py.common.typeinfo import RowTypeInfo, TypeInformation, Types
from flink_py.datastream.functions import (
    AggregateFunction, AllWindowFunction, Function, ProcessAllWindowFunction,
    ProcessWindowFunction, ReduceFunction, WindowFunction)
from flink_py.datastream.output_tag import OutputTag
from flink_py.datastream.window import (
    CountSlidingWindowAssigner, CountTrigger, CountTumblingWindowAssigner, Evictor,
    MergingWindowAssigner, PurgingTrigger, Trigger, WindowAssigner)
from flink_py.errors import InvalidProgramError, InvalidTypeError
from flink_py.runtime.operators.window import (
    CONTENTS_AGGREGATE, CONTENTS_LIST, CONTENTS_REDUCE, InternalWindowFunction, WindowOperator)

if TYPE_CHECKING:
    from flink_py.datastream.data_stream import DataStream, KeyedStream

__all__ = ["WindowedStream", "AllWindowedStream"]


def _null_byte_key(value: Any) -> int:
    """The key of every record of ``window_all`` (Flink's NullByteKeySelector)."""
    return 0


def _function_name(function: Any) -> str:
    """How the operator description names a user function."""
    if isinstance(function, Function):
        return type(function).__name__
    return getattr(function, "__name__", type(function).__name__)


def _lateness_millis(time_ms: Any) -> int:
    if isinstance(time_ms, (Time, Duration)):
        millis = time_ms.to_milliseconds()
    elif isinstance(time_ms, int) and not isinstance(time_ms, bool):
        millis = time_ms
    else:
        raise InvalidTypeError(
            f"allowed_lateness expects an int of milliseconds, a Time or a Duration, got "
            f"{type(time_ms).__name__} {time_ms!r}")
    if millis < 0:
        raise InvalidProgramError(f"The allowed lateness cannot be negative, got {millis} ms")
    return millis


class _BaseWindowedStream:
    """What WindowedStream and AllWindowedStream share; ``_keyed`` tells them apart."""

    _keyed = True
    _description_prefix = "Window"
    _window_function_class: type = WindowFunction
    _process_window_function_class: type = ProcessWindowFunction

    def __init__(self, keyed_stream: "KeyedStream", window_assigner: WindowAssigner) -> None:
        if isinstance(window_assigner, type) and issubclass(window_assigner, WindowAssigner):
            raise InvalidTypeError(
                f"window expects a WindowAssigner instance, got the class "
                f"{window_assigner.__name__} (use e.g. {window_assigner.__name__}.of(...))")
        if not isinstance(window_assigner, WindowAssigner):
            raise InvalidTypeError(
                f"window expects a WindowAssigner (e.g. TumblingEventTimeWindows.of(...)), got "
                f"{type(window_assigner).__name__} {window_assigner!r}")
        self._keyed_stream = keyed_stream
        self._window_assigner = window_assigner
        self._allowed_lateness = 0
        self._late_data_output_tag: Optional[OutputTag] = None
        self._window_trigger: Optional[Trigger] = None
        self._evictor: Optional[Evictor] = None

    def get_execution_environment(self) -> Any:
        return self._keyed_stream.get_execution_environment()

    def get_input_type(self) -> TypeInformation:
        return self._keyed_stream.get_type()

    def trigger(self, trigger: Trigger) -> Any:
        """Sets the Trigger that decides when a window is evaluated (instead of the
        assigner's default trigger)."""
        if not isinstance(trigger, Trigger):
            raise InvalidTypeError(
                f"trigger expects a Trigger (e.g. CountTrigger.of(3)), got "
                f"{type(trigger).__name__} {trigger!r}")
        if isinstance(self._window_assigner, MergingWindowAssigner) and not trigger.can_merge():
            raise InvalidProgramError(
                f"A merging window assigner cannot be used with a trigger that does not "
                f"support merging: {self._window_assigner!r} with {trigger!r}")
        self._window_trigger = trigger
        return self

    def evictor(self, evictor: Evictor) -> Any:
        """Sets an Evictor that removes elements from a window before and/or after the window
        function runs (Java's ``evictor``). The window then keeps every element, also for
        ``reduce`` and ``aggregate``, which run over what is left when it fires."""
        if not isinstance(evictor, Evictor):
            raise InvalidTypeError(
                f"evictor expects an Evictor (e.g. CountEvictor.of(3)), got "
                f"{type(evictor).__name__} {evictor!r}")
        self._evictor = evictor
        return self

    def allowed_lateness(self, time_ms: Union[int, Time, Duration]) -> Any:
        """Sets how long after the watermark passed a window's end elements are still added
        to it (and fire it again); later ones are dropped or sent to
        :meth:`side_output_late_data`. Only event-time windows use it; 0 by default.

        :param time_ms: milliseconds, a Time or a Duration; not negative.
        """
        self._allowed_lateness = _lateness_millis(time_ms)
        return self

    def side_output_late_data(self, output_tag: OutputTag) -> Any:
        """Sends elements that arrive after their windows' allowed lateness to ``output_tag``
        (get them with ``get_side_output(output_tag)`` on the result) instead of dropping
        them."""
        if not isinstance(output_tag, OutputTag):
            raise InvalidTypeError(
                f"side_output_late_data expects an OutputTag, got {type(output_tag).__name__} "
                f"{output_tag!r}")
        self._late_data_output_tag = output_tag
        return self

    # -- window functions -------------------------------------------------------------------

    def _window_function(self, window_function: Any,
                         api: str) -> Tuple[InternalWindowFunction, str]:
        """The internal function and its description part for ``window_function`` of
        ``reduce`` / ``aggregate`` (None: pass the result through)."""
        if window_function is None:
            return InternalWindowFunction(None, InternalWindowFunction.PASS_THROUGH,
                                          self._keyed), ""
        if isinstance(window_function, self._process_window_function_class):
            style = InternalWindowFunction.PROCESS
        elif isinstance(window_function, self._window_function_class) or (
                callable(window_function) and not isinstance(window_function, (type, Function))):
            style = InternalWindowFunction.APPLY
        else:
            raise InvalidTypeError(
                f"{api}(): window_function should be a {self._window_function_class.__name__} "
                f"or a {self._process_window_function_class.__name__}, got "
                f"{type(window_function).__name__} {window_function!r}")
        return (InternalWindowFunction(window_function, style, self._keyed),
                ", " + _function_name(window_function))

    def reduce(self, reduce_function: Union[Callable, ReduceFunction],
               window_function: Any = None,
               output_type: Optional[TypeInformation] = None) -> "DataStream":
        """Reduces each window incrementally (one value per key and window is kept) and
        emits the result, through ``window_function`` if given (which then gets the single
        reduced value as its elements).

        :param reduce_function: a ReduceFunction or a callable ``(a, b) -> reduced``.
        :param window_function: a (Process)WindowFunction (keyed) or a
            (Process)AllWindowFunction (``window_all``), or None.
        :param output_type: the type of the results (the input type without a window
            function).
        """
        from flink_py.datastream.data_stream import _check_function
        reduce_function = _check_function(reduce_function, ReduceFunction, "reduce", "reduce")
        internal, description = self._window_function(window_function, "reduce")
        if window_function is None and output_type is None:
            output_type = self.get_input_type()
        return self._get_result_data_stream(
            internal, CONTENTS_REDUCE, reduce_function,
            _function_name(reduce_function) + description, output_type, "reduce")

    def aggregate(self, aggregate_function: AggregateFunction, window_function: Any = None,
                  accumulator_type: Optional[TypeInformation] = None,
                  output_type: Optional[TypeInformation] = None) -> "DataStream":
        """Aggregates each window incrementally with an AggregateFunction (one accumulator
        per key and window; ``merge`` is needed for session windows) and emits
        ``get_result``, through ``window_function`` if given.

        :param accumulator_type: the type of the accumulator (a TypeInformation or a list of
            field types); informational, accumulators are kept as Python objects.
        """
        if isinstance(aggregate_function, type) or not all(
                callable(getattr(aggregate_function, m, None))
                for m in ("create_accumulator", "add", "get_result")):
            raise InvalidTypeError(
                f"aggregate expects an AggregateFunction (create_accumulator, add, get_result, "
                f"merge), got {type(aggregate_function).__name__} {aggregate_function!r}")
        if isinstance(accumulator_type, list):
            accumulator_type = RowTypeInfo(accumulator_type)
        elif accumulator_type is not None and not isinstance(accumulator_type, TypeInformation):
            raise InvalidTypeError(
                f"aggregate(): accumulator_type must be a TypeInformation, got "
                f"{accumulator_type!r}")
        internal, description = self._window_function(window_function, "aggregate")
        return self._get_result_data_stream(
            internal, CONTENTS_AGGREGATE, aggregate_function,
            _function_name(aggregate_function) + description, output_type, "aggregate")

    def apply(self, window_function: Any,
              output_type: Optional[TypeInformation] = None) -> "DataStream":
        """Evaluates each window with a window function on all its elements (kept until the
        window fires): ``WindowFunction.apply(key, window, inputs)`` (keyed) or
        ``AllWindowFunction.apply(window, inputs)``, or a callable of those arguments."""
        cls = self._window_function_class
        if not (isinstance(window_function, cls) or (
                callable(window_function) and not isinstance(window_function, (type, Function)))):
            raise InvalidTypeError(
                f"apply expects a {cls.__name__} or a callable, got "
                f"{type(window_function).__name__} {window_function!r}")
        internal = InternalWindowFunction(window_function, InternalWindowFunction.APPLY,
                                          self._keyed)
        return self._get_result_data_stream(
            internal, CONTENTS_LIST, None, _function_name(window_function), output_type,
            "apply")

    def process(self, process_window_function: Any,
                output_type: Optional[TypeInformation] = None) -> "DataStream":
        """Evaluates each window with a process window function on all its elements:
        ``ProcessWindowFunction.process(key, context, elements)`` (keyed) or
        ``ProcessAllWindowFunction.process(context, elements)`` yields the outputs;
        ``context.window()`` is the window."""
        cls = self._process_window_function_class
        if not (isinstance(process_window_function, cls) or (
                callable(process_window_function)
                and not isinstance(process_window_function, (type, Function)))):
            raise InvalidTypeError(
                f"process expects a {cls.__name__}, got "
                f"{type(process_window_function).__name__} {process_window_function!r}")
        internal = InternalWindowFunction(process_window_function,
                                          InternalWindowFunction.PROCESS, self._keyed)
        return self._get_result_data_stream(
            internal, CONTENTS_LIST, None, _function_name(process_window_function),
            output_type, "process")

    def _get_result_data_stream(self, window_function: InternalWindowFunction,
                                contents_kind: str, contents_function: Any, func_desc: str,
                                output_type: Optional[TypeInformation], api: str
                                ) -> "DataStream":
        from flink_py.datastream.data_stream import _check_type_info
        output_type = _check_type_info(output_type, api) or Types.PICKLED_BYTE_ARRAY()
        assigner = self._window_assigner
        trigger = self._window_trigger or assigner.get_default_trigger(
            self.get_execution_environment())
        name = type(assigner).__name__
        evictor = "" if self._evictor is None else type(self._evictor).__name__ + ", "
        description = (f"{self._description_prefix}({assigner!r}, {type(trigger).__name__}, "
                       f"{evictor}{func_desc})")
        keyed = self._keyed_stream
        factory = functools.partial(
            WindowOperator, name, assigner, trigger, self._allowed_lateness,
            self._late_data_output_tag, contents_kind, contents_function, window_function,
            keyed._key_selector, self._evictor, self.get_input_type())
        stream = keyed._one_input(name, factory, output_type)
        stream.set_description(description)
        return self._finish(stream)

    def _finish(self, stream: "DataStream") -> "DataStream":
        return stream


class WindowedStream(_BaseWindowedStream):
    """A keyed stream split into windows by a WindowAssigner; each key's windows are
    evaluated on their own, when the Trigger says. Finish it with ``reduce``,
    ``aggregate``, ``apply`` or ``process``."""


class AllWindowedStream(_BaseWindowedStream):
    """A non-keyed stream split into windows (``window_all``): all records go to one
    non-parallel window operator, as in Flink (a key_by on a constant key)."""

    _keyed = False
    _description_prefix = "AllWindow"
    _window_function_class = AllWindowFunction
    _process_window_function_class = ProcessAllWindowFunction

    def __init__(self, data_stream: "DataStream", window_assigner: WindowAssigner) -> None:
        # A KeyedStream's records are windowed all together too: key its input again.
        source = getattr(data_stream, "_original", data_stream)
        super().__init__(source.key_by(_null_byte_key), window_assigner)

    def _finish(self, stream: "DataStream") -> "DataStream":
        stream.force_non_parallel()
        stream._transformation.non_parallel = True  # set_parallelism(n > 1) is an error
        return stream


def count_window_stream(stream_class: type, stream: Any, size: int, slide: int) -> Any:
    """``count_window(size, slide)`` / ``count_window_all``: PyFlink's count assigners.

    A count window receives exactly ``size`` elements and then never another, so the default
    CountTrigger is made purging: the results are the same, and the fired window's state does
    not stay behind forever (count windows have no cleanup time).
    """
    if isinstance(slide, bool) or not isinstance(slide, int) or slide < 0:
        raise InvalidProgramError(f"count window slide must be an int >= 0, got {slide!r}")
    assigner = (CountTumblingWindowAssigner(size) if slide == 0
                else CountSlidingWindowAssigner(size, slide))
    windowed = stream_class(stream, assigner)
    windowed._window_trigger = PurgingTrigger.of(CountTrigger.of(size))
    return windowed
