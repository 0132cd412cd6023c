"""Stream partitioners: which output channel each record of a batch goes to.

Each partitioner routes a whole buffer at once (``route``), returning one sub-buffer per
channel that receives records; the per-record work is as small as the strategy allows
(slices for round robin, one key computation for hashing). Channels are numbered as the
producer's connected consumers, in consumer subtask order.
"""

from __future__ import annotations

import random
from typing import Any, Callable, List, Optional, Tuple

from flink_py.common.compiled import load_compiled
from flink_py.common.key_groups import KeyGroupAssigner
from flink_py.common.key_hash import KeyByKeyHash
from flink_py.common.typeinfo import TypeInformation
from flink_py.errors import UserFunctionError

Routed = List[Tuple[int, list, Optional[list]]]


class StreamPartitioner:
    """Base class: subclasses set ``ship_strategy`` (the plan's name) and implement route."""

    ship_strategy = "UNDEFINED"
    #: pointwise partitioners connect a producer only to some consumers (forward, rescale)
    is_pointwise = False
    #: broadcast-like partitioners send every record to every channel
    is_broadcast = False
    #: set up to route by a key and hand each channel its records' keys (``route_with_keys``)
    carries_keys = False

    def __init__(self) -> None:
        self.num_channels = 1

    def setup(self, num_channels: int, max_parallelism: int) -> None:
        """Prepares routing for ``num_channels`` output channels."""
        self.num_channels = num_channels

    def route(self, values: list, timestamps: Optional[list]) -> Routed:
        raise NotImplementedError

    def copy(self) -> "StreamPartitioner":
        """A fresh instance for one producer subtask (partitioners keep per-subtask state)."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def __repr__(self) -> str:
        return self.ship_strategy


class ForwardPartitioner(StreamPartitioner):
    """Every record to the one consumer with the same subtask index."""

    ship_strategy = "FORWARD"
    is_pointwise = True

    def route(self, values: list, timestamps: Optional[list]) -> Routed:
        return [(0, values, timestamps)]


class GlobalPartitioner(StreamPartitioner):
    """Every record to consumer subtask 0."""

    ship_strategy = "GLOBAL"

    def route(self, values: list, timestamps: Optional[list]) -> Routed:
        return [(0, values, timestamps)]


class BroadcastPartitioner(StreamPartitioner):
    """Every record to every consumer."""

    ship_strategy = "BROADCAST"
    is_broadcast = True

    def route(self, values: list, timestamps: Optional[list]) -> Routed:
        return [(c, values, timestamps) for c in range(self.num_channels)]


class _RoundRobinPartitioner(StreamPartitioner):
    """Cycles through the channels record by record, continuing across buffers."""

    def __init__(self) -> None:
        super().__init__()
        self._next = 0

    def route(self, values: list, timestamps: Optional[list]) -> Routed:
        n = self.num_channels
        start = self._next
        self._next = (start + len(values)) % n
        if n == 1:
            return [(0, values, timestamps)]
        routed = []
        for channel in range(n):
            first = (channel - start) % n
            part = values[first::n]
            if part:
                routed.append((channel, part,
                               None if timestamps is None else timestamps[first::n]))
        return routed


class RebalancePartitioner(_RoundRobinPartitioner):
    """Round robin over all consumers, starting at a random one (as Flink does)."""

    ship_strategy = "REBALANCE"

    def setup(self, num_channels: int, max_parallelism: int) -> None:
        super().setup(num_channels, max_parallelism)
        # Flink starts at a random channel and advances before the first send.
        self._next = (random.randrange(num_channels) + 1) % num_channels


class RescalePartitioner(_RoundRobinPartitioner):
    """Round robin over the consumers this producer is pointwise connected to."""

    ship_strategy = "RESCALE"
    is_pointwise = True


class ShufflePartitioner(StreamPartitioner):
    """Each record to a uniformly random consumer."""

    ship_strategy = "SHUFFLE"

    def route(self, values: list, timestamps: Optional[list]) -> Routed:
        n = self.num_channels
        if n == 1:
            return [(0, values, timestamps)]
        choices = random.choices(range(n), k=len(values))
        return _bucket_by_channel(values, timestamps, choices, n)


class KeyGroupStreamPartitioner(StreamPartitioner):
    """``key_by``: a record goes to the subtask owning its key's key group."""

    ship_strategy = "HASH"

    def __init__(self, key_selector: Callable[[Any], Any], operator_name: str = "key_by",
                 key_type: Optional[TypeInformation] = None) -> None:
        super().__init__()
        self.key_selector = key_selector
        self.operator_name = operator_name
        # Keys are placed as PyFlink places them: hashed as the one-field Row PyFlink's
        # key_by hands to Flink, holding the pickled key unless a key_type was declared, and
        # the key's Java value of that type if one was (flink_py.common.key_hash).
        self.key_hash = KeyByKeyHash(key_type)
        #: whether the consumer computes every key itself; if not, keys are computed here even
        #: for a single channel, so that a bad key fails as in Flink (which always extracts it)
        self.consumer_computes_keys = False
        self._assigner: Optional[KeyGroupAssigner] = None

    def setup(self, num_channels: int, max_parallelism: int) -> None:
        super().setup(num_channels, max_parallelism)
        self._assigner = KeyGroupAssigner(
            max_parallelism, num_channels,
            hash_function=self.key_hash)
        # One channel routes without keying (the consumer keys each record itself).
        self.carries_keys = num_channels > 1

    def route_with_keys(self, values: list, timestamps: Optional[list]
                        ) -> List[Tuple[int, list, Optional[list], list]]:
        """``route`` that also hands each channel the keys of its records, in order: the
        key selector's results travel with the buffer so that a keyed consumer does not
        call it again (only when ``carries_keys``: more than one channel)."""
        key = self.key_selector
        n = self.num_channels
        try:
            if _KEY_ROUTER is not None:
                assigner = self._assigner
                int_memo, str_memo = assigner.memos()  # type: ignore[union-attr]
                if type(values) is not list:
                    values = list(values)
                if timestamps is not None and type(timestamps) is not list:
                    timestamps = list(timestamps)
                buckets, ts_buckets, key_buckets = _KEY_ROUTER.bucket_by_key(
                    values, timestamps, key, assigner.subtask_of,  # type: ignore[union-attr]
                    int_memo, str_memo, n, True)
            else:
                keys = [key(v) for v in values]
                subtask_of = self._assigner.subtask_of  # type: ignore[union-attr]
                buckets, key_buckets = [[] for _ in range(n)], [[] for _ in range(n)]
                ts_buckets = None if timestamps is None else [[] for _ in range(n)]
                for i, (v, k) in enumerate(zip(values, keys)):
                    c = subtask_of(k)
                    buckets[c].append(v)
                    key_buckets[c].append(k)
                    if ts_buckets is not None:
                        ts_buckets[c].append(timestamps[i])  # type: ignore[index]
        except Exception as exc:
            raise UserFunctionError(
                f"key selector of '{self.operator_name}' failed: {exc!r}") from exc
        return [(c, b, None if ts_buckets is None else ts_buckets[c], key_buckets[c])
                for c, b in enumerate(buckets) if b]

    def route(self, values: list, timestamps: Optional[list]) -> Routed:
        n = self.num_channels
        key = self.key_selector
        if n == 1:
            if not self.consumer_computes_keys:
                try:
                    for v in values:
                        key(v)
                except Exception as exc:
                    raise UserFunctionError(
                        f"key selector of '{self.operator_name}' failed: {exc!r}") from exc
            return [(0, values, timestamps)]
        if _KEY_ROUTER is not None:
            return self._route_compiled(values, timestamps, key, n)
        if timestamps is not None:
            subtask_of = self._assigner.subtask_of  # type: ignore[union-attr]
            try:
                channels = [subtask_of(key(v)) for v in values]
            except Exception as exc:
                raise UserFunctionError(
                    f"key selector of '{self.operator_name}' failed: {exc!r}") from exc
            return _bucket_by_channel(values, timestamps, channels, n)
        return self._route_values(values, key, n)

    def _route_compiled(self, values: list, timestamps: Optional[list],
                        key: Callable[[Any], Any], n: int) -> Routed:
        # route's two Python loops in one, in C (_key_router.c): the same keys, the same
        # assigner (its memo dicts, its subtask_of on a miss), the same buckets.
        assigner = self._assigner
        int_memo, str_memo = assigner.memos()  # type: ignore[union-attr]
        if type(values) is not list:
            values = list(values)
        if timestamps is not None and type(timestamps) is not list:
            timestamps = list(timestamps)
        try:
            buckets, ts_buckets = _KEY_ROUTER.bucket_by_key(  # type: ignore[union-attr]
                values, timestamps, key, assigner.subtask_of,  # type: ignore[union-attr]
                int_memo, str_memo, n)
        except Exception as exc:
            raise UserFunctionError(
                f"key selector of '{self.operator_name}' failed: {exc!r}") from exc
        return [(c, b, None if ts_buckets is None else ts_buckets[c])
                for c, b in enumerate(buckets) if b]

    def _route_values(self, values: list, key: Callable[[Any], Any], n: int) -> Routed:
        # One pass: key, channel (the assigner memoizes the channel of int and str keys),
        # bucket.
        buckets: List[list] = [[] for _ in range(n)]
        appends = [b.append for b in buckets]
        subtask_of = self._assigner.subtask_of  # type: ignore[union-attr]
        try:
            for v in values:
                appends[subtask_of(key(v))](v)
        except Exception as exc:
            raise UserFunctionError(
                f"key selector of '{self.operator_name}' failed: {exc!r}") from exc
        return [(c, b, None) for c, b in enumerate(buckets) if b]


class CustomPartitionerWrapper(StreamPartitioner):
    """``partition_custom``: the user's partitioner picks a channel from each record's key."""

    ship_strategy = "CUSTOM"

    def __init__(self, partitioner: Callable[[Any, int], int],
                 key_selector: Callable[[Any], Any]) -> None:
        super().__init__()
        self.partitioner = partitioner
        self.key_selector = key_selector

    def route(self, values: list, timestamps: Optional[list]) -> Routed:
        n = self.num_channels
        key = self.key_selector
        partition = self.partitioner
        try:
            channels = [partition(key(v), n) for v in values]
        except Exception as exc:
            raise UserFunctionError(f"custom partitioner failed: {exc!r}") from exc
        for c, v in zip(channels, values):
            if type(c) is not int or not 0 <= c < n:
                raise UserFunctionError(
                    f"custom partitioner returned {c!r} for record {v!r}; expected an int "
                    f"in [0, {n})")
        return _bucket_by_channel(values, timestamps, channels, n)


#: the compiled routing loop of KeyGroupStreamPartitioner, or None (the Python loops)
_KEY_ROUTER: Any = load_compiled("flink_py.runtime.network._key_router")


def _bucket_by_channel(values: list, timestamps: Optional[list], channels: List[int],
                       n: int) -> Routed:
    buckets: List[list] = [[] for _ in range(n)]
    if timestamps is None:
        appends = [b.append for b in buckets]
        for c, v in zip(channels, values):
            appends[c](v)
        return [(c, b, None) for c, b in enumerate(buckets) if b]
    ts_buckets: List[list] = [[] for _ in range(n)]
    for c, v, t in zip(channels, values, timestamps):
        buckets[c].append(v)
        ts_buckets[c].append(t)
    return [(c, b, ts_buckets[c]) for c, b in enumerate(buckets) if b]
