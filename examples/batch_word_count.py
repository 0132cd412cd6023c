"""Batch word count: the program of ``word_count.py`` run in BATCH execution mode.

On bounded input, ``RuntimeExecutionMode.BATCH`` runs a DataStream program as a batch job:
instead of a running count at every occurrence, each word is printed once, with its final
count.

Usage::

    python examples/batch_word_count.py [--input <file>] [--parallelism <n>]
"""

from __future__ import annotations

import re
import sys
from typing import Iterator, List, Optional, Tuple

from flink_py.common import Types, WatermarkStrategy
from flink_py.common.utils import ParameterTool
from flink_py.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from flink_py.datastream.connectors import FileSource, StreamFormat

#: The first lines of Hamlet's soliloquy, as in Flink's ``WordCountData``.
WORDS = [
    "To be, or not to be,--that is the question:--",
    "Whether 'tis nobler in the mind to suffer",
    "The slings and arrows of outrageous fortune",
    "Or to take arms against a sea of troubles,",
    "And by opposing end them?--To die,--to sleep,--",
    "No more; and by a sleep to say we end",
    "The heartache, and the thousand natural shocks",
    "That flesh is heir to,--'tis a consummation",
    "Devoutly to be wish'd. To die,--to sleep;--",
    "To sleep! perchance to dream:--ay, there's the rub;",
]


def tokenize(line: str) -> Iterator[Tuple[str, int]]:
    """Splits a line into lowercase words (runs of word characters), each as ``(word, 1)``."""
    for word in re.findall(r"\w+", line.lower()):
        yield word, 1


def main(argv: Optional[List[str]] = None) -> None:
    params = ParameterTool.from_args(sys.argv[1:] if argv is None else argv)
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    if params.has("parallelism"):
        env.set_parallelism(params.get_int("parallelism"))

    if params.has("input"):
        source = FileSource.for_record_stream_format(
            StreamFormat.text_line_format(), params.get("input")).build()
        text = env.from_source(source, WatermarkStrategy.no_watermarks(), "file-source")
    else:
        print("Executing batch_word_count example with default input data.")
        print("Use --input to specify file input.")
        text = env.from_collection(WORDS, type_info=Types.STRING())

    counts = (text
              .flat_map(tokenize, output_type=Types.TUPLE([Types.STRING(), Types.INT()]))
              .key_by(lambda word_count: word_count[0])
              .sum(1))
    counts.print()
    env.execute("batch_word_count")


if __name__ == "__main__":
    main()
