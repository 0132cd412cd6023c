"""flink_py: Apache Flink's model of stateful stream processing, rebuilt in Python."""

import logging as _logging

__version__ = "0.1.0"

# The runtime's own INFO messages (job and task state changes) belong in the daemons' logs,
# as Flink's JVM logs do, not in the output of a program that configures logging for its own
# messages: below WARNING they are off unless a daemon (or the user) turns them on.
_logging.getLogger("flink_py").setLevel(_logging.WARNING)
