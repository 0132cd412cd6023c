"""Keyed rolling reduce and the rolling aggregations built on it (sum/min/max/min_by/max_by).

Semantics (Flink's): ``reduce(fn)`` emits ``fn(previous_result, record)`` for every record;
``sum/min/max(f)`` emit the key's first record with only field ``f`` replaced by the running
aggregate; ``min_by/max_by(f)`` emit the whole record holding the extreme, keeping the earlier
record on a tie. In BATCH mode only the final value per key is emitted, at end of input.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any, Callable, Iterable, Optional, Union

from flink_py.common.types import Row
from flink_py.errors import InvalidFieldReferenceError, UserFunctionError
from flink_py.runtime.tasks.fusion import FusionStage
from flink_py.runtime.operators.base import UdfOperator, unwrap_function

Field = Union[int, str]
_NUMERIC_TYPES = frozenset({int, float, Decimal, Fraction, complex})
_MISSING = object()


# -- field access on tuples, lists, Rows and basic values -------------------------------------

def _field_index(record: Any, field: Field) -> int:
    """The position of ``field`` in ``record`` (-1: the whole basic value)."""
    is_row = isinstance(record, Row)
    if isinstance(field, int):
        if not isinstance(record, (tuple, list)) and not is_row:
            if field == 0:
                return -1
            raise InvalidFieldReferenceError(
                f"field {field} selected on the basic value {record!r}: only field 0 (the "
                f"whole value) can be selected on a basic type")
        if not 0 <= field < len(record):
            raise InvalidFieldReferenceError(
                f"field {field} out of range for record {record!r} of arity {len(record)}")
        return field
    if not is_row:
        raise InvalidFieldReferenceError(
            f"field {field!r} selected by name on {record!r}, which is not a Row: select "
            f"fields of tuples by position")
    return record._field_index(field)


def _get(record: Any, index: int) -> Any:
    return record if index == -1 else record[index]


def _replace(record: Any, index: int, value: Any) -> Any:
    """A copy of ``record`` with position ``index`` set to ``value`` (same kind of record)."""
    if index == -1:
        return value
    if type(record) is tuple:
        return record[:index] + (value,) + record[index + 1:]
    if isinstance(record, Row):
        values = list(record._values)
        values[index] = value
        row = Row(*values)
        row._fields = record._fields
        row._row_kind = record._row_kind
        return row
    copy = list(record)
    copy[index] = value
    return type(record)(copy) if type(record) is not list else copy


def _check_numeric(value: Any, field: Field, record: Any, what: str) -> None:
    if type(value) not in _NUMERIC_TYPES:
        raise InvalidFieldReferenceError(
            f"{what}({field!r}) needs a numeric field, but field {field!r} of record "
            f"{record!r} is {type(value).__name__} {value!r}")


class _FieldAggregator:
    """A reduce function for one rolling aggregation on one field."""

    kind = ""

    def __init__(self, field: Field) -> None:
        self.field = field
        self._index: Optional[int] = None
        self._shape: Optional[tuple] = None
        #: the reduce function to call: specialized once the records' shape is known
        self.fast: Callable[[Any, Any], Any] = self
        #: (arity, index) once a tuple sum can be inlined by operator fusion
        self.inline_tuple_sum: Optional[tuple] = None

    def index_of(self, record: Any) -> int:
        if self._index is None:
            self._index = _field_index(record, self.field)
        return self._index

    def first(self, record: Any) -> Any:
        """Validates a key's first record; it is also the first result."""
        index = self.index_of(record)
        if self.kind == "sum":
            _check_numeric(_get(record, index), self.field, record, self.kind)
        shape = (type(record), len(record) if type(record) is tuple else -1)
        if self._shape is None:
            self._shape = shape
            if shape[0] is tuple and self.kind == "sum":
                self.fast = _tuple_sum_function(shape[1], index, self)
                self.inline_tuple_sum = (shape[1], index)
        elif shape != self._shape:
            self.fast = self  # records of several shapes: the generic path only
            self.inline_tuple_sum = None
        return record

    def __call__(self, acc: Any, record: Any) -> Any:
        raise NotImplementedError


class SumAggregator(_FieldAggregator):
    kind = "sum"

    def __call__(self, acc: Any, record: Any) -> Any:
        i = self.index_of(record)
        v = _get(record, i)
        if type(v) not in _NUMERIC_TYPES:
            _check_numeric(v, self.field, record, "sum")
        return _replace(acc, i, _get(acc, i) + v)


class MinAggregator(_FieldAggregator):
    kind = "min"

    def __call__(self, acc: Any, record: Any) -> Any:
        i = self.index_of(record)
        v = _get(record, i)
        return _replace(acc, i, v) if v < _get(acc, i) else acc


class MaxAggregator(_FieldAggregator):
    kind = "max"

    def __call__(self, acc: Any, record: Any) -> Any:
        i = self.index_of(record)
        v = _get(record, i)
        return _replace(acc, i, v) if v > _get(acc, i) else acc


class MinByAggregator(_FieldAggregator):
    kind = "min_by"

    def __call__(self, acc: Any, record: Any) -> Any:
        i = self.index_of(record)
        return record if _get(record, i) < _get(acc, i) else acc


class MaxByAggregator(_FieldAggregator):
    kind = "max_by"

    def __call__(self, acc: Any, record: Any) -> Any:
        i = self.index_of(record)
        return record if _get(record, i) > _get(acc, i) else acc


def _tuple_sum_function(arity: int, index: int, generic: Callable[[Any, Any], Any]
                        ) -> Callable[[Any, Any], Any]:
    """``sum`` for tuples of one arity, as straight-line code: ``(a[0], a[1] + x, ...)``."""
    fields = ", ".join(f"a[{j}] + x" if j == index else f"a[{j}]" for j in range(arity))
    code = (f"def tuple_sum(a, v):\n"
            f"    x = v[{index}]\n"
            f"    if type(x) in numeric and type(v) is tuple and len(v) == {arity}:\n"
            f"        return ({fields},)\n"
            f"    return generic(a, v)\n")
    namespace = {"numeric": _NUMERIC_TYPES, "generic": generic}
    exec(compile(code, f"<sum of field {index} of {arity}-tuples>", "exec"), namespace)
    return namespace["tuple_sum"]


AGGREGATORS = {"sum": SumAggregator, "min": MinAggregator, "max": MaxAggregator,
               "min_by": MinByAggregator, "max_by": MaxByAggregator}


class StreamGroupedReduce(UdfOperator):
    computes_keys = True

    """Keyed rolling reduce: keeps one value per key, emits the updated value per record."""

    def __init__(self, name: str, function: Any, key_selector: Callable[[Any], Any]) -> None:
        super().__init__(name, function)
        self.key_selector = key_selector
        self.batch_mode = False

    def open(self) -> None:
        super().open()
        self.batch_mode = self.runtime_context.runtime_mode == "BATCH"
        f = self.function
        self._reduce = f if isinstance(f, _FieldAggregator) else unwrap_function(f, "reduce")
        self._first = f.first if isinstance(f, _FieldAggregator) else None
        self._values = self.keyed_state_backend.state_table("reduce-value")

    def fusion_stage(self) -> Optional[FusionStage]:
        if self.batch_mode:
            return None  # emits only at end of input
        refresh = None
        if isinstance(self.function, _FieldAggregator):
            aggregator = self.function
            refresh = lambda: aggregator.fast  # noqa: E731  (specialized after 1st record)
        inline = getattr(self.function, "inline_tuple_sum", None)
        return FusionStage("reduce", self._reduce, key_selector=self.key_selector,
                           state=self._values, first=self._first, refresh=refresh,
                           inline_tuple_sum=inline, numeric=_NUMERIC_TYPES)

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        self.process_batch_with_keys(values, timestamps, map(self.key_selector, values))

    def process_batch_with_keys(self, values: list, timestamps: Optional[list],
                                keys: Iterable[Any]) -> None:
        """``process_batch`` given the records' keys (a keyed exchange sends them along)."""
        reduce = self._reduce
        if isinstance(reduce, _FieldAggregator):
            reduce = reduce.fast
        first = self._first
        state = self._values
        get = state.get
        out: list = []
        append = out.append
        try:
            for v, k in zip(values, keys):  # keys may be lazy: the selector's errors land here
                prev = get(k, _MISSING)
                if prev is _MISSING:
                    r = v if first is None else first(v)
                else:
                    r = reduce(prev, v)
                state[k] = r
                append(r)
        except (InvalidFieldReferenceError, UserFunctionError) as exc:
            raise self.user_error(exc, "aggregation")
        except Exception as exc:
            raise self.user_error(exc)
        if not self.batch_mode:
            self.output.emit(out, timestamps)

    def end_input(self, input_index: int = 0) -> None:
        if not self.batch_mode or not self._values:
            return
        # BATCH execution sorts the input by key (runtime/io/sorting_input.py): the keys were
        # first seen in that order, and the final values come out in it.
        self.output.emit(list(self._values.values()), None)
