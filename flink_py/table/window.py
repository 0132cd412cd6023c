"""Group and over windows of the Table API (``pyflink.table.window``): ``Tumble``, ``Slide``,
``Session`` for ``Table.window(...)`` and ``Over`` for ``Table.over_window(...)``.

::

    >>> from flink_py.table.expressions import col, lit
    >>> w = Tumble.over(lit(5).seconds).on(col("ts")).alias("w")
    >>> w.alias_name
    'w'
"""

from __future__ import annotations

from typing import Any, List, Optional

from flink_py.table.errors import ValidationException
from flink_py.table.expressions import Expression, col

__all__ = ["Tumble", "Slide", "Session", "Over", "GroupWindow", "OverWindow"]


def _expr(e: Any) -> Expression:
    if isinstance(e, str):
        return col(e)
    if not isinstance(e, Expression):
        raise ValidationException(f"expected an Expression, got {e!r}")
    return e


class GroupWindow:
    """A group window: its kind, sizes (interval expressions), time attribute and alias."""

    def __init__(self, kind: str, size: Expression, slide: Optional[Expression],
                 time_field: Expression, alias_name: str) -> None:
        self.kind, self.size, self.slide = kind, size, slide
        self.time_field, self.alias_name = time_field, alias_name


class _WindowWithTime:
    def __init__(self, kind: str, size: Expression, slide: Optional[Expression],
                 time_field: Expression) -> None:
        self._kind, self._size, self._slide, self._time = kind, size, slide, time_field

    def alias(self, alias: str) -> GroupWindow:
        """The window's name, by which the group_by and the window properties refer to it."""
        return GroupWindow(self._kind, self._size, self._slide, self._time, alias)


class _WindowWithSize:
    def __init__(self, kind: str, size: Expression, slide: Optional[Expression] = None
                 ) -> None:
        self._kind, self._size, self._slide = kind, size, slide

    def on(self, time_field: Any) -> _WindowWithTime:
        """The time attribute the window is over."""
        return _WindowWithTime(self._kind, self._size, self._slide, _expr(time_field))


class Tumble:
    """Tumbling windows: ``Tumble.over(lit(10).minutes).on(col('rowtime')).alias('w')``."""

    @staticmethod
    def over(size: Any) -> _WindowWithSize:
        return _WindowWithSize("TUMBLE", _expr(size))


class _SlideWithSize:
    def __init__(self, size: Expression) -> None:
        self._size = size

    def every(self, slide: Any) -> _WindowWithSize:
        return _WindowWithSize("HOP", self._size, _expr(slide))


class Slide:
    """Sliding windows: ``Slide.over(lit(10).minutes).every(lit(5).minutes).on(...)``."""

    @staticmethod
    def over(size: Any) -> _SlideWithSize:
        return _SlideWithSize(_expr(size))


class Session:
    """Session windows: ``Session.with_gap(lit(10).minutes).on(col('rowtime')).alias('w')``."""

    @staticmethod
    def with_gap(gap: Any) -> _WindowWithSize:
        return _WindowWithSize("SESSION", _expr(gap))


class OverWindow:
    """An over window: partition keys, the time attribute it is ordered by, the preceding
    bound (``row_interval(n)``, an interval, ``UNBOUNDED_ROW``/``UNBOUNDED_RANGE``) and its
    alias."""

    def __init__(self, partition_by: List[Expression], order_by: Expression,
                 preceding: Optional[Expression], following: Optional[Expression],
                 alias_name: str) -> None:
        self.partition_by, self.order_by = partition_by, order_by
        self.preceding, self.following, self.alias_name = preceding, following, alias_name


class _OverBuilder:
    def __init__(self, partition_by: List[Expression], order_by: Optional[Expression] = None,
                 preceding: Optional[Expression] = None,
                 following: Optional[Expression] = None) -> None:
        self._partition, self._order = partition_by, order_by
        self._preceding, self._following = preceding, following

    def order_by(self, order_by: Any) -> "_OverBuilder":
        return _OverBuilder(self._partition, _expr(order_by), self._preceding,
                            self._following)

    def preceding(self, preceding: Any) -> "_OverBuilder":
        return _OverBuilder(self._partition, self._order, _expr(preceding), self._following)

    def following(self, following: Any) -> "_OverBuilder":
        return _OverBuilder(self._partition, self._order, self._preceding, _expr(following))

    def alias(self, alias: str) -> OverWindow:
        if self._order is None:
            raise ValidationException("an over window needs order_by(a time attribute)")
        return OverWindow(self._partition, self._order, self._preceding, self._following,
                          alias)


class Over:
    """``Over.partition_by(col('a')).order_by(col('rowtime')).preceding(row_interval(2))
    .alias('w')``."""

    @staticmethod
    def partition_by(*partition_by: Any) -> _OverBuilder:
        return _OverBuilder([_expr(p) for p in partition_by])

    @staticmethod
    def order_by(order_by: Any) -> _OverBuilder:
        return _OverBuilder([], _expr(order_by))


class GroupWindowedTable:
    """A table with a group window (``Table.window``); ``group_by`` must name the window."""

    def __init__(self, table: Any, window: GroupWindow) -> None:
        self._table, self._window = table, window

    def group_by(self, *fields: Any) -> "WindowGroupedTable":
        keys = [_expr(f) for f in fields]
        alias = self._window.alias_name
        from flink_py.table.expressions import ColumnRef
        window_keys = [k for k in keys if isinstance(k, ColumnRef) and k.name == alias]
        if not window_keys:
            raise ValidationException(f"A group window expects an alias and the alias must be "
                                      f"grouped: group_by does not name '{alias}'")
        return WindowGroupedTable(self._table, self._window,
                                  [k for k in keys if all(k is not w for w in window_keys)])


class WindowGroupedTable:
    """A windowed, grouped table: ``select`` its keys, aggregates and window properties
    (``col('w').start``, ``.end``, ``.rowtime``)."""

    def __init__(self, table: Any, window: GroupWindow, keys: List[Expression]) -> None:
        self._table, self._window, self._keys = table, window, keys

    def select(self, *fields: Any) -> Any:
        from flink_py.table.expressions import ColumnRef, TimeAttribute, WindowProperty
        from flink_py.table.table import Table, _as_expression
        from flink_py.table.windows import window_aggregate_plan, window_spec
        table, w = self._table, self._window
        items = [_as_expression(f) for f in fields]
        alias = w.alias_name

        def prop(name: str) -> Any:
            def matches(e: Any) -> bool:
                if isinstance(e, TimeAttribute):  # w.rowtime / w.proctime
                    return (name == "rowtime" and isinstance(e.child, ColumnRef)
                            and e.child.name == alias)
                return (isinstance(e, WindowProperty) and e.prop == name
                        and isinstance(e.window, ColumnRef) and e.window.name == alias)
            return matches
        key_reprs = {repr(k) for k in self._keys}
        positions = [i for i, e in enumerate(items) if repr(e) not in key_reprs]

        def unnamed(i: int, e: Any) -> str:
            # Flink numbers an unnamed aggregate or window property by its place among the
            # non-key items; another unnamed expression is _c<position>
            from flink_py.table.expressions import Aggregate
            if isinstance(e, (Aggregate, WindowProperty, TimeAttribute)):
                return f"EXPR${positions.index(i)}"
            return f"_c{i}"
        with table._t_env._functions_in_scope():
            plan = table._plan
            spec = window_spec(w.kind, plan, w.time_field, w.size, w.slide)
            return Table(window_aggregate_plan(
                plan, spec, self._keys, items,
                {"start": prop("start"), "end": prop("end"), "time": prop("rowtime")},
                unnamed), table._t_env)


class OverWindowedTable:
    """A table with over windows (``Table.over_window``): ``select`` columns and
    ``agg.over(col('w'))``."""

    def __init__(self, table: Any, windows: List[OverWindow]) -> None:
        self._table, self._windows = table, windows

    def select(self, *fields: Any) -> Any:
        from flink_py.table.expressions import (ColumnRef, OverBound, OverCall,
                                                OverWindowSpec)
        from flink_py.table.table import Table, _as_expression
        from flink_py.table.windows import _map_children, over_plan
        by_alias = {w.alias_name: w for w in self._windows}

        def bind(e: Any) -> Any:
            if isinstance(e, OverCall) and isinstance(e.window, ColumnRef):
                w = by_alias.get(e.window.name)
                if w is None:
                    raise ValidationException(f"Over window alias '{e.window.name}' is not "
                                              f"defined: the over windows are "
                                              f"{sorted(by_alias)}")
                preceding = w.preceding
                if preceding is None:
                    rows, bound = True, None  # Flink's default: UNBOUNDED_RANGE
                    rows = False
                elif isinstance(preceding, OverBound):
                    rows, bound = preceding.rows, preceding.bound
                else:
                    rows, bound = False, preceding  # an interval: a RANGE frame
                return OverCall(e.aggregate, OverWindowSpec(w.partition_by, w.order_by,
                                                            rows, bound))
            return _map_children(e, bind)
        table = self._table
        items = [bind(_as_expression(f)) for f in fields]
        with table._t_env._functions_in_scope():
            return Table(over_plan(table._plan, items, "_c{}"), table._t_env)
