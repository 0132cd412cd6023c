"""Partitioning: which parallel subtask each record is sent to, for every strategy.

Each job sends the records 1..8 through two operators: ``upstream`` (parallelism 2) and
``downstream`` (parallelism 4; 2 for ``forward``, which needs equal parallelism). Both
note the index of the subtask that got the record, and the strategy under test connects
them:

=================  ===========================================================
forward            upstream subtask i -> downstream subtask i
rebalance          round robin over all downstream subtasks
rescale            round robin over a local group: 0 -> {0, 1}, 1 -> {2, 3}
shuffle            a uniformly random downstream subtask
broadcast          every downstream subtask gets a copy of every record
global             everything to downstream subtask 0
custom             ``partition_custom``: here record ``r`` goes to ``r % 4``
=================  ===========================================================

Usage::

    python examples/partitioning.py [--mode <mode>]   (one of the modes above; default: all)

Without ``--mode`` every strategy runs, one job each.
"""

from __future__ import annotations

import sys
from typing import List, Optional, Tuple

from flink_py.common import Types
from flink_py.common.utils import ParameterTool
from flink_py.datastream import (
    DataStream, MapFunction, RuntimeContext, StreamExecutionEnvironment)

MODES = ["forward", "rebalance", "rescale", "shuffle", "broadcast", "global", "custom"]


class TagWithSubtask(MapFunction):
    """``record -> (record, index of the upstream subtask that got it)``."""

    def open(self, runtime_context: RuntimeContext) -> None:
        self.subtask = runtime_context.get_index_of_this_subtask()

    def map(self, value: int) -> Tuple[int, int]:
        return value, self.subtask


class ShowRouting(MapFunction):
    """``(record, upstream subtask) -> "record r: upstream subtask u -> subtask d"``."""

    def open(self, runtime_context: RuntimeContext) -> None:
        self.subtask = runtime_context.get_index_of_this_subtask()

    def map(self, value: Tuple[int, int]) -> str:
        record, upstream = value
        return f"record {record}: upstream subtask {upstream} -> subtask {self.subtask}"


def partition(stream: DataStream, mode: str) -> DataStream:
    """Applies the partitioning strategy called ``mode``."""
    if mode == "forward":
        return stream.forward()
    if mode == "rebalance":
        return stream.rebalance()
    if mode == "rescale":
        return stream.rescale()
    if mode == "shuffle":
        return stream.shuffle()
    if mode == "broadcast":
        return stream.broadcast()
    if mode == "global":
        return stream.global_()
    return stream.partition_custom(lambda key, num_partitions: key % num_partitions,
                                   lambda record: record[0])


def run(mode: str) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    upstream = (env.from_collection(range(1, 9), type_info=Types.INT())
                .map(TagWithSubtask(), output_type=Types.TUPLE([Types.INT(), Types.INT()]))
                .name("upstream").set_parallelism(2))
    downstream = (partition(upstream, mode)
                  .map(ShowRouting(), output_type=Types.STRING())
                  .name("downstream").set_parallelism(2 if mode == "forward" else 4))
    downstream.print().set_parallelism(1)
    env.execute(f"partitioning ({mode})")


def main(argv: Optional[List[str]] = None) -> None:
    params = ParameterTool.from_args(sys.argv[1:] if argv is None else argv)
    mode = params.get("mode", "all")
    if mode != "all" and mode not in MODES:
        sys.exit(f"Unknown --mode {mode!r}; expected one of: {', '.join(MODES)} (or all)")
    for each in MODES if mode == "all" else [mode]:
        print(f"--- {each} ---")
        run(each)


if __name__ == "__main__":
    main()
