"""Window joins and co-groups: Java's ``JoinedStreams`` and ``CoGroupedStreams``.

``a.join(b).where(key_a).equal_to(key_b).window(assigner).apply(JoinFunction)`` joins the
pairs of elements of ``a`` and ``b`` with equal keys in the same window;
``a.co_group(b)...apply(CoGroupFunction)`` gets, per key and window, the two lists of
elements (either may be empty). As in Flink, this is built from the DataStream API: each
input is tagged (``(0, a)`` / ``(1, b)``), the two are united, keyed by the key of their
side, windowed, and a window function splits every window's elements by tag and calls the
co-group function; a join is the co-group that emits the cross product of the two lists.

Example::

    joined = (orders.join(payments)
              .where(lambda o: o[0]).equal_to(lambda p: p[0])
              .window(TumblingEventTimeWindows.of(Time.seconds(10)))
              .apply(lambda order, payment: (order[0], order[1], payment[1])))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, List, Optional, Union

from flink_py.common.time import Duration, Time
from flink_py.common.typeinfo import TypeInformation
from flink_py.datastream.functions import (
    CoGroupFunction, FlatJoinFunction, Function, JoinFunction, KeySelector, RuntimeContext,
    WindowFunction)
from flink_py.datastream.window import Evictor, Trigger, WindowAssigner
from flink_py.errors import InvalidTypeError
from flink_py.runtime.operators.base import close_function, open_function

if TYPE_CHECKING:
    from flink_py.datastream.data_stream import DataStream

__all__ = ["CoGroupedStreams", "JoinedStreams"]

_FIRST, _SECOND = 0, 1


def _tag_first(value: Any) -> tuple:
    return _FIRST, value


def _tag_second(value: Any) -> tuple:
    return _SECOND, value


class _UnionKeySelector:
    """The key of a tagged element: by the key selector of its side."""

    def __init__(self, key1: Callable[[Any], Any], key2: Callable[[Any], Any]) -> None:
        self.key1 = key1
        self.key2 = key2

    def __call__(self, tagged: tuple) -> Any:
        tag, value = tagged
        return self.key1(value) if tag == _FIRST else self.key2(value)


class _CoGroupWindowFunction(WindowFunction):
    """Splits a window's tagged elements by side and calls the co-group function."""

    def __init__(self, function: Any) -> None:
        self.function = function

    def open(self, runtime_context: RuntimeContext) -> None:
        open_function(self.function, runtime_context)
        co_group = getattr(self.function, "co_group", None)
        self._co_group = co_group if isinstance(self.function, Function) else self.function

    def close(self) -> None:
        close_function(self.function)

    def apply(self, key: Any, window: Any, inputs: Iterable[Any]) -> Iterable[Any]:
        first: List[Any] = []
        second: List[Any] = []
        for tag, value in inputs:
            (first if tag == _FIRST else second).append(value)
        return self._co_group(first, second)


class _JoinCoGroupFunction(CoGroupFunction):
    """A join as a co-group: the function on every pair of the two sides' elements."""

    def __init__(self, function: Any, flat: bool) -> None:
        self.function = function
        self.flat = flat

    def open(self, runtime_context: RuntimeContext) -> None:
        open_function(self.function, runtime_context)
        self._join = (self.function.join if isinstance(self.function, Function)
                      else self.function)

    def close(self) -> None:
        close_function(self.function)

    def co_group(self, first: Iterable[Any], second: Iterable[Any]) -> Iterable[Any]:
        join = self._join
        if self.flat:
            for a in first:
                for b in second:
                    results = join(a, b)
                    if results is not None:
                        yield from results
        else:
            for a in first:
                for b in second:
                    yield join(a, b)


def _key_selector(stream: "DataStream", key_selector: Any) -> Callable[[Any], Any]:
    from flink_py.datastream.data_stream import _key_selector as normalize
    return normalize(key_selector, stream.get_type())


class CoGroupedStreams:
    """Two streams to co-group in windows: ``where(key1).equal_to(key2).window(assigner)
    .apply(CoGroupFunction)``."""

    _api = "co_group"

    def __init__(self, input1: "DataStream", input2: "DataStream") -> None:
        from flink_py.datastream.data_stream import DataStream
        if not isinstance(input2, DataStream):
            raise InvalidTypeError(
                f"{self._api} expects a DataStream, got {type(input2).__name__} {input2!r}")
        # Keyed inputs are keyed again by the union's key: start from what they keyed.
        self.input1 = getattr(input1, "_original", input1)
        self.input2 = getattr(input2, "_original", input2)

    def where(self, key_selector: Union[Callable, KeySelector, int],
              key_type: Optional[TypeInformation] = None) -> "CoGroupedStreams.Where":
        """The key of the first input's elements."""
        return self.Where(self, _key_selector(self.input1, key_selector), key_type)

    class Where:
        def __init__(self, streams: "CoGroupedStreams", key1: Callable[[Any], Any],
                     key_type: Optional[TypeInformation]) -> None:
            self._streams = streams
            self._key1 = key1
            self._key_type = key_type

        def equal_to(self, key_selector: Union[Callable, KeySelector, int],
                     key_type: Optional[TypeInformation] = None) -> "CoGroupedStreams.EqualTo":
            """The key of the second input's elements (equal keys meet)."""
            key2 = _key_selector(self._streams.input2, key_selector)
            return CoGroupedStreams.EqualTo(self._streams, self._key1, key2,
                                            key_type or self._key_type)

    class EqualTo:
        def __init__(self, streams: "CoGroupedStreams", key1: Callable[[Any], Any],
                     key2: Callable[[Any], Any], key_type: Optional[TypeInformation]) -> None:
            self._streams = streams
            self._key1 = key1
            self._key2 = key2
            self._key_type = key_type

        def window(self, window_assigner: WindowAssigner) -> "CoGroupedStreams.WithWindow":
            """The windows in which elements of equal keys meet."""
            if not isinstance(window_assigner, WindowAssigner):
                raise InvalidTypeError(
                    f"window expects a WindowAssigner, got {type(window_assigner).__name__} "
                    f"{window_assigner!r}")
            return CoGroupedStreams.WithWindow(self._streams, self._key1, self._key2,
                                               self._key_type, window_assigner)

    class WithWindow:
        def __init__(self, streams: "CoGroupedStreams", key1: Callable[[Any], Any],
                     key2: Callable[[Any], Any], key_type: Optional[TypeInformation],
                     window_assigner: WindowAssigner) -> None:
            self._streams = streams
            self._key1 = key1
            self._key2 = key2
            self._key_type = key_type
            self._window_assigner = window_assigner
            self._trigger: Optional[Trigger] = None
            self._evictor: Optional[Evictor] = None
            self._allowed_lateness: Union[int, Time, Duration, None] = None

        def trigger(self, trigger: Trigger) -> "CoGroupedStreams.WithWindow":
            self._trigger = trigger
            return self

        def evictor(self, evictor: Evictor) -> "CoGroupedStreams.WithWindow":
            self._evictor = evictor
            return self

        def allowed_lateness(self, time_ms: Union[int, Time, Duration]
                             ) -> "CoGroupedStreams.WithWindow":
            self._allowed_lateness = time_ms
            return self

        def _windowed(self) -> Any:
            streams = self._streams
            tagged1 = streams.input1.map(_tag_first)
            tagged2 = streams.input2.map(_tag_second)
            for tagged, original in ((tagged1, streams.input1), (tagged2, streams.input2)):
                upstream = original._transformation
                if upstream.parallelism_configured and upstream.parallelism is not None:
                    tagged._transformation.set_parallelism(upstream.parallelism)
            keyed = tagged1.union(tagged2).key_by(
                _UnionKeySelector(self._key1, self._key2), self._key_type)
            windowed = keyed.window(self._window_assigner)
            if self._trigger is not None:
                windowed.trigger(self._trigger)
            if self._evictor is not None:
                windowed.evictor(self._evictor)
            if self._allowed_lateness is not None:
                windowed.allowed_lateness(self._allowed_lateness)
            return windowed

        def apply(self, function: Union[Callable, CoGroupFunction],
                  output_type: Optional[TypeInformation] = None) -> "DataStream":
            """Calls ``function.co_group(first, second)`` (or ``function(first, second)``)
            once per key and window with the two sides' elements; it returns or yields the
            results."""
            if not (isinstance(function, CoGroupFunction) or (
                    callable(function) and not isinstance(function, (type, Function)))):
                raise InvalidTypeError(
                    f"co_group(...).apply expects a CoGroupFunction or a callable, got "
                    f"{type(function).__name__} {function!r}")
            return self._windowed().apply(_CoGroupWindowFunction(function), output_type)


class JoinedStreams(CoGroupedStreams):
    """Two streams to join in windows: ``where(key1).equal_to(key2).window(assigner)
    .apply(JoinFunction)``."""

    _api = "join"

    def where(self, key_selector: Union[Callable, KeySelector, int],
              key_type: Optional[TypeInformation] = None) -> "JoinedStreams.Where":
        return self.Where(self, _key_selector(self.input1, key_selector), key_type)

    class Where(CoGroupedStreams.Where):
        def equal_to(self, key_selector: Union[Callable, KeySelector, int],
                     key_type: Optional[TypeInformation] = None) -> "JoinedStreams.EqualTo":
            key2 = _key_selector(self._streams.input2, key_selector)
            return JoinedStreams.EqualTo(self._streams, self._key1, key2,
                                         key_type or self._key_type)

    class EqualTo(CoGroupedStreams.EqualTo):
        def window(self, window_assigner: WindowAssigner) -> "JoinedStreams.WithWindow":
            if not isinstance(window_assigner, WindowAssigner):
                raise InvalidTypeError(
                    f"window expects a WindowAssigner, got {type(window_assigner).__name__} "
                    f"{window_assigner!r}")
            return JoinedStreams.WithWindow(self._streams, self._key1, self._key2,
                                            self._key_type, window_assigner)

    class WithWindow(CoGroupedStreams.WithWindow):
        def apply(self,  # type: ignore[override]
                  function: Union[Callable, JoinFunction, FlatJoinFunction],
                  output_type: Optional[TypeInformation] = None) -> "DataStream":
            """Calls ``function.join(first, second)`` for every pair of elements of equal keys
            in the same window: a JoinFunction (or a callable) returns one result per pair,
            a FlatJoinFunction returns or yields any number."""
            if isinstance(function, FlatJoinFunction):
                flat = True
            elif isinstance(function, JoinFunction) or (
                    callable(function) and not isinstance(function, (type, Function))):
                flat = False
            else:
                raise InvalidTypeError(
                    f"join(...).apply expects a JoinFunction, a FlatJoinFunction or a callable, "
                    f"got {type(function).__name__} {function!r}")
            return self._windowed().apply(
                _CoGroupWindowFunction(_JoinCoGroupFunction(function, flat)), output_type)
