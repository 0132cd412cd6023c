"""Typed IDs (Flink's AbstractID family): 32 lowercase hex characters on the wire."""

from __future__ import annotations

import secrets


class AbstractID:
    """A 128-bit random id, compared by value and shown as 32 hex characters."""

    __slots__ = ("hex",)

    def __init__(self, hex_string: str | None = None) -> None:
        if hex_string is None:
            hex_string = secrets.token_hex(16)
        elif len(hex_string) != 32 or any(c not in "0123456789abcdef" for c in hex_string):
            raise ValueError(f"{type(self).__name__} must be 32 lowercase hex characters, "
                             f"got {hex_string!r}")
        self.hex = hex_string

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.hex == self.hex  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.hex))

    def __str__(self) -> str:
        return self.hex

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.hex})"

    def __reduce__(self):  # slots + custom init: pickle by hex string
        return (type(self), (self.hex,))


class JobVertexID(AbstractID):
    """Identifies a JobVertex (an operator chain)."""


class IntermediateDataSetID(AbstractID):
    """Identifies the data one JobVertex produces for one downstream edge."""


class ExecutionAttemptID(AbstractID):
    """Identifies one attempt of running one subtask."""


class AllocationID(AbstractID):
    """Identifies a slot allocation."""


class ResourceID(AbstractID):
    """Identifies a TaskManager: Flink's form is ``<host>:<port>-<6 hex>``; any non-empty
    string without whitespace is accepted, and a random 32-hex id is made when none is given.
    """

    def __init__(self, value: str | None = None) -> None:
        if value is None:
            value = secrets.token_hex(16)
        elif not isinstance(value, str) or not value or any(c.isspace() for c in value):
            raise ValueError(f"ResourceID must be a non-empty string without spaces, "
                             f"got {value!r}")
        self.hex = value


class OperatorID(AbstractID):
    """Identifies an operator across runs of a job: what checkpoints and savepoints map state
    to. Derived from the operator's ``uid`` when it has one, else deterministically from the
    topology (see graph/job_graph.py), never random."""
