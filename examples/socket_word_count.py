"""Socket word count: counts the words of the lines a text server sends.

Start a text server first, in another terminal, and type lines into it::

    nc -lk 9999

then run::

    python examples/socket_word_count.py --port 9999 [--host localhost] [--parallelism <n>]

Every word is printed with its running count, as ``(word,count)``. The input is unbounded:
the job runs until the server closes the connection (stop ``nc``) or you press Ctrl-C.
"""

from __future__ import annotations

import sys
from typing import Iterator, List, Optional, Tuple

from flink_py.common import Types
from flink_py.common.utils import ParameterTool
from flink_py.datastream import StreamExecutionEnvironment

USAGE = ("No port specified. Please run 'python examples/socket_word_count.py "
         "--host <host> --port <port>', where host (localhost by default) and port are the "
         "address of the text server. To start a simple text server, run 'nc -lk <port>' "
         "and type the input text into the command line.")


def split(line: str) -> Iterator[Tuple[str, int]]:
    """Splits a line on whitespace into ``(word, 1)`` pairs."""
    for word in line.split():
        yield word, 1


def main(argv: Optional[List[str]] = None) -> None:
    params = ParameterTool.from_args(sys.argv[1:] if argv is None else argv)
    if not params.has("port"):
        sys.exit(USAGE)
    host = params.get("host", "localhost")
    port = params.get_int("port")

    env = StreamExecutionEnvironment.get_execution_environment()
    if params.has("parallelism"):
        env.set_parallelism(params.get_int("parallelism"))
    counts = (env.socket_text_stream(host, port)
              .flat_map(split, output_type=Types.TUPLE([Types.STRING(), Types.INT()]))
              .key_by(lambda word_count: word_count[0])
              .sum(1))
    counts.print()
    env.execute("socket_word_count")


if __name__ == "__main__":
    main()
