"""The in-flight windows of one key of a merging (session) window operator.

Flink's ``MergingWindowSet``: it maps every in-flight window to its *state window*, the window
whose namespace holds the pane's contents. When windows merge, the merged window keeps the state
window of one of the windows it swallowed, so a merge moves the state of the others into that
one namespace instead of copying everything into a new one.

A window operator keeps one set per key, restored from and persisted to a keyed
``MapState`` (window -> state window), as PyFlink does::

    windows = MergingWindowSet(assigner, merging_windows_state)
    for window in assigner.assign_windows(value, timestamp, ctx):
        actual = windows.add_window(window, merge_function)
        state_window = windows.get_state_window(actual)
        ...  # add the element to state_window's namespace, run the trigger on actual
    windows.persist()
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Collection, Dict, Generic, List, Optional, TypeVar

from flink_py.errors import FlinkPyError

__all__ = ["MergingWindowSet"]

LOG = logging.getLogger(__name__)

W = TypeVar("W")


class _MergeResults:
    """A ``MergeCallback`` that records ``merge_result -> windows merged into it``."""

    __slots__ = ("results",)

    def __init__(self) -> None:
        self.results: Dict[Any, List[Any]] = {}

    def merge(self, to_be_merged: Collection[Any], merge_result: Any) -> None:
        # dict.fromkeys: drop duplicates, keep the assigner's order (so "pick any" is stable).
        self.results[merge_result] = list(dict.fromkeys(to_be_merged))


class MergingWindowSet(Generic[W]):
    """The mapping of merged windows to their state windows, for one key.

    :param window_assigner: A ``MergingWindowAssigner``; its ``merge_windows`` decides what
        merges.
    :param state: Where the mapping is persisted: a ``MapState``-like object (``items``,
        ``put``, ``clear``) scoped to the current key, or None to keep it only in memory.
    """

    class MergeFunction(Generic[W]):
        """Called by :meth:`MergingWindowSet.add_window` for every merge; a plain callable with
        the same arguments does as well."""

        def merge(self, merge_result: W, merged_windows: Collection[W], state_window_result: W,
                  merged_state_windows: Collection[W]) -> None:
            """:param merge_result: The window the merge produced.
            :param merged_windows: The in-flight windows merged into it (never the new window).
            :param state_window_result: The state window of ``merge_result``.
            :param merged_state_windows: The state windows whose contents must now be merged
                into ``state_window_result`` (never ``state_window_result`` itself).
            """
            raise NotImplementedError

    def __init__(self, window_assigner: Any, state: Optional[Any] = None) -> None:
        self._window_assigner = window_assigner
        self._state = state
        self._mapping: Dict[W, W] = {}
        if state is not None:
            for window, state_window in (state.items() or ()):
                self._mapping[window] = state_window
        self._initial_mapping = dict(self._mapping)

    def persist(self) -> None:
        """Writes the mapping to the state if it changed since this set was created."""
        if self._state is not None and self._mapping != self._initial_mapping:
            self._state.clear()
            for window, state_window in self._mapping.items():
                self._state.put(window, state_window)

    def get_state_window(self, window: W) -> Optional[W]:
        """The state window of the in-flight ``window``, or None if it is not in flight."""
        return self._mapping.get(window)

    def retire_window(self, window: W) -> None:
        """Removes ``window`` (fired and purged, or cleaned up) from the in-flight windows."""
        if self._mapping.pop(window, None) is None:
            raise FlinkPyError(f"Window {window} is not in in-flight window set.")

    def windows(self) -> List[W]:
        """The in-flight windows."""
        return list(self._mapping)

    def add_window(self, new_window: W,
                   merge_function: Any) -> W:
        """Adds ``new_window``, merging in-flight windows as the assigner says.

        :param new_window: A window the assigner gave an element.
        :param merge_function: A :class:`MergingWindowSet.MergeFunction` (or a callable with
            the arguments of its ``merge``), called once per merge before this returns.
        :return: The window the element belongs to now: ``new_window`` itself if it did not
            merge, else the merge result that swallowed it. Elements and triggers must only
            ever see this window.
        """
        merge: Callable[..., Any] = getattr(merge_function, "merge", merge_function)
        callback = _MergeResults()
        self._window_assigner.merge_windows(list(self._mapping) + [new_window], callback)

        result_window = new_window
        merged_new_window = False
        for merge_result, merged_windows in callback.results.items():
            if new_window in merged_windows:
                merged_windows.remove(new_window)
                merged_new_window = True
                result_window = merge_result
            if not merged_windows:
                # Only the new window "merged" into a different window: nothing to move.
                self._mapping.setdefault(merge_result, merge_result)
                continue

            # The merge result keeps the state window of (any) one of the merged windows;
            # the state of the others is merged into it by the merge function.
            state_window_result = self._mapping.get(merged_windows[0])
            merged_state_windows = []
            for merged_window in merged_windows:
                state_window = self._mapping.pop(merged_window, None)
                if state_window is not None and state_window != state_window_result:
                    merged_state_windows.append(state_window)
            self._mapping[merge_result] = state_window_result

            # An in-flight window that only swallowed the new window, without growing, has
            # nothing to merge.
            if not (len(merged_windows) == 1 and merged_windows[0] == merge_result):
                LOG.debug("Merging %s into %s", merged_windows, merge_result)
                merge(merge_result, merged_windows, state_window_result, merged_state_windows)

        if not merged_new_window:
            # A new, self-contained window. Flink puts it unconditionally; keeping an existing
            # entry matters when the new window equals an in-flight window whose state window
            # differs (a merged window of exactly the new window's bounds).
            self._mapping.setdefault(result_window, result_window)
        return result_window

    def __len__(self) -> int:
        return len(self._mapping)

    def __repr__(self) -> str:
        return f"MergingWindowSet{{windows={self._mapping}}}"
