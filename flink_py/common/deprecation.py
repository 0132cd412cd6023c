"""Warnings for Flink 1.x names that flink_py still accepts (issue 10: PyFlink 1.x programs,
as most blog posts and answers show them, run with a DeprecationWarning).

Example::

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_flink_1x("FsStateBackend", "use HashMapStateBackend", stacklevel=2)
    >>> str(caught[0].message)
    'FsStateBackend is Flink 1.x API, removed in Flink 2.0; use HashMapStateBackend'
"""

from __future__ import annotations

import warnings

__all__ = ["warn_flink_1x"]


def warn_flink_1x(name: str, instead: str, stacklevel: int = 3) -> None:
    """Emits a DeprecationWarning for the Flink 1.x name ``name``, saying what replaces it.

    :param stacklevel: counted from this function: 3 points at the line of the program that
        called the API method which calls this.
    """
    warnings.warn(f"{name} is Flink 1.x API, removed in Flink 2.0; {instead}",
                  DeprecationWarning, stacklevel=stacklevel)
