"""``DataStream.cache()``: a batch job's intermediate result, kept for the later jobs of the
same environment (PyFlink's ``CachedDataStream``).

The first job that runs the cached stream computes it and writes each subtask's records to
a file of the cache (:mod:`flink_py.runtime.operators.cache`); once every subtask's file is
there, later jobs read the files instead of computing the stream again, with the same
parallelism, so each subtask gets the records it had (the same partitioning). A job that
fails before the cache is complete leaves it incomplete, and the next job computes the
stream again, as Flink does when a cached result is missing. ``invalidate()`` drops the
cache; so does ``env.close()``. The files live in a temporary directory on the machine
running the program, for the in-process MiniCluster and the workers on that machine.

Only BATCH execution caches, as in Flink.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import weakref
from typing import TYPE_CHECKING, Any, Iterable, List, Optional, Set

from flink_py.errors import InvalidProgramError
from flink_py.graph.transformations import (
    OneInputTransformation, SourceTransformation, Transformation)
from flink_py.runtime.operators import simple, sources
from flink_py.runtime.operators.cache import CacheReader, CacheWriter, complete_parallelism

if TYPE_CHECKING:
    from flink_py.datastream.stream_execution_environment import StreamExecutionEnvironment

__all__ = ["CacheTransformation", "refresh_caches", "clear_caches"]


def _identity(value: Any) -> Any:
    return value


def _cache_root(env: "StreamExecutionEnvironment") -> str:
    """The environment's directory of caches, made on first use and removed with the
    environment (or by ``clear_caches``)."""
    root = getattr(env, "_cache_directory", None)
    if root is None or not os.path.isdir(root):
        root = tempfile.mkdtemp(prefix="flink_py-cache-")
        env._cache_directory = root  # type: ignore[attr-defined]
        weakref.finalize(env, shutil.rmtree, root, True)
    return root


class CacheTransformation(OneInputTransformation):
    """The cached stream: writes the cache while computing it, or reads the complete
    cache (see :func:`refresh_caches`, called before each job's graph is built)."""

    def __init__(self, env: "StreamExecutionEnvironment", input: Transformation) -> None:
        self.directory = os.path.join(_cache_root(env), f"cache-{input.id}")
        super().__init__(input, f"Cache: {input.name}", functools.partial(
            CacheWriter, f"Cache: {input.name}", self.directory), input.output_type,
            input.parallelism)
        self.computed_input = input

    def refresh(self) -> None:
        """Reads the cache if it is complete, else computes (and writes) it."""
        parallelism = complete_parallelism(self.directory)
        if parallelism is None:
            self.input = self.computed_input
            self.operator_factory = functools.partial(CacheWriter, self.name, self.directory)
            self.parallelism = self.computed_input.parallelism
            return
        if isinstance(self.input, SourceTransformation) and \
                getattr(self.input, "cache_parallelism", None) == parallelism:
            return
        name = f"Source: {self.name}"
        reader = SourceTransformation(name, functools.partial(
            sources.SourceFunctionSource, name, CacheReader(self.directory, parallelism),
            True), self.output_type, parallelism, bounded=True)
        reader.cache_parallelism = parallelism  # type: ignore[attr-defined]
        self.input = reader
        self.parallelism = parallelism
        self.operator_factory = functools.partial(simple.StreamMap, self.name, _identity)

    def invalidate(self) -> None:
        """Drops the cache: the next job computes the stream again."""
        if os.path.isdir(self.directory):
            shutil.rmtree(self.directory)
        self.refresh()


def _caches(transformations: Iterable[Transformation]) -> List[CacheTransformation]:
    found: List[CacheTransformation] = []
    seen: Set[int] = set()
    stack = list(transformations)
    while stack:
        t = stack.pop()
        if t.id in seen:
            continue
        seen.add(t.id)
        if isinstance(t, CacheTransformation):
            found.append(t)
            stack.append(t.computed_input)
        stack.extend(t.inputs)
    return found


def refresh_caches(transformations: Iterable[Transformation], runtime_mode: str) -> None:
    """Before a job's graph is built: each cached stream it uses reads its cache when that
    is complete. Raises for a cached stream outside BATCH execution.

    :param transformations: the job's transformations (its sinks).
    :param runtime_mode: ``"BATCH"`` or ``"STREAMING"``, as the job runs.
    """
    caches = _caches(transformations)
    if caches and runtime_mode != "BATCH":
        raise InvalidProgramError(
            f"cache() is only supported in BATCH execution mode; the job uses "
            f"{', '.join(repr(c.name) for c in caches)} and runs in {runtime_mode} mode: set "
            f"env.set_runtime_mode(RuntimeExecutionMode.BATCH)")
    for cache in caches:
        cache.refresh()


def clear_caches(env: "StreamExecutionEnvironment") -> None:
    """Removes every cache of ``env`` (``env.close()``)."""
    root: Optional[str] = getattr(env, "_cache_directory", None)
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)
        env._cache_directory = None  # type: ignore[attr-defined]
