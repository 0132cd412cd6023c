"""The project's exception hierarchy: one base, a few specific kinds."""

from __future__ import annotations


class FlinkPyError(Exception):
    """Base class of every error flink_py raises itself."""


class InvalidProgramError(FlinkPyError, ValueError):
    """A job definition that cannot run: bad argument, unknown field, wrong type.

    Raised at job definition time, when the API call is made, wherever the problem can be
    known then.
    """


class InvalidTypeError(InvalidProgramError, TypeError):
    """An argument of the wrong type where PyFlink raises ``TypeError``."""


class InvalidFieldReferenceError(InvalidProgramError):
    """A field position or name that the record type does not have."""


class DeclaredTypeError(FlinkPyError, TypeError):
    """A record that does not match the type its operator declared (``output_type=``,
    ``type_info=``): the message names the value, the declared type and what differs, and,
    once the job runs, the operator and subtask that made the record."""


class ConfigurationError(FlinkPyError, ValueError):
    """A configuration value that is missing or malformed."""


class UserFunctionError(FlinkPyError):
    """A user function raised while the job ran.

    The user's exception is the ``__cause__``; the message, one line, names the operator and
    subtask ("user function in 'Map' (subtask 2/3) raised ValueError: ..."). The user's frames
    travel in ``user_frames`` (set when the failure is serialized; see
    flink_py.runtime.execution.user_traceback), the whole traceback as text next to it.
    """


class JobExecutionError(FlinkPyError):
    """A job ended FAILED; raised by ``execute()`` in the client.

    ``__cause__`` is the failure cause when it is available in this process: for a failing
    user function, the user's exception with the user's frames as its traceback (printed
    first). The message names the job, task, operator and subtask and the user's exception
    on one line; it carries the remote traceback text only where there is no cause to
    carry it (a failure of the runtime, or an exception that did not unpickle here).
    """


class JobCancellationError(JobExecutionError):
    """A job ended CANCELED while the client waited for its result."""
