"""Flink's ``JobID``: a 16-byte identifier, printed as 32 lowercase hex digits."""

from __future__ import annotations

import re
import secrets

__all__ = ["JobID"]

_HEX_32 = re.compile(r"[0-9a-fA-F]{32}")
_SIZE = 16


class JobID:
    """Unique (at least statistically unique) identifier for a Flink job.

    A value type (as Flink's ``AbstractID``): two upper/lower 64-bit halves, shown as 32
    lowercase hex digits in the REST API, the CLI and logs.

    Example::

        >>> job_id = JobID.from_hex_string("fd72014d4c864993a2e5a9287b4a9c5d")
        >>> str(job_id)
        'fd72014d4c864993a2e5a9287b4a9c5d'
        >>> job_id == JobID.from_hex_string("FD72014D4C864993A2E5A9287B4A9C5D")
        True
    """

    __slots__ = ("_bytes",)

    def __init__(self, id_bytes: bytes | None = None) -> None:
        """Creates a job id from 16 bytes, or a random one.

        :param id_bytes: The 16 bytes of the id (upper part first); ``None`` for a random id.
        """
        if id_bytes is None:
            id_bytes = secrets.token_bytes(_SIZE)
        elif not isinstance(id_bytes, (bytes, bytearray)) or len(id_bytes) != _SIZE:
            raise ValueError(f"A JobID needs exactly {_SIZE} bytes, got {id_bytes!r}")
        self._bytes = bytes(id_bytes)

    @staticmethod
    def generate() -> "JobID":
        """Creates a new random job id."""
        return JobID()

    @staticmethod
    def from_hex_string(hex_string: str) -> "JobID":
        """Parses a job id from its 32 hex digits (either case).

        :param hex_string: e.g. ``"fd72014d4c864993a2e5a9287b4a9c5d"``.
        :return: The job id.
        :raises ValueError: If ``hex_string`` is not 32 hex digits.
        """
        if not isinstance(hex_string, str) or _HEX_32.fullmatch(hex_string) is None:
            raise ValueError(
                f'Cannot parse JobID from "{hex_string}". The expected format is '
                "[0-9a-fA-F]{32}, e.g. fd72014d4c864993a2e5a9287b4a9c5d."
            )
        return JobID(bytes.fromhex(hex_string))

    @staticmethod
    def from_byte_array(id_bytes: bytes) -> "JobID":
        """Creates a job id from its 16 bytes."""
        return JobID(id_bytes)

    def to_hex_string(self) -> str:
        """Returns the 32 lowercase hex digits of this id."""
        return self._bytes.hex()

    def get_bytes(self) -> bytes:
        """Returns the 16 bytes of this id."""
        return self._bytes

    def get_upper_part(self) -> int:
        """Returns the upper 64 bits as a signed long, as Flink's ``getUpperPart``."""
        return int.from_bytes(self._bytes[:8], "big", signed=True)

    def get_lower_part(self) -> int:
        """Returns the lower 64 bits as a signed long, as Flink's ``getLowerPart``."""
        return int.from_bytes(self._bytes[8:], "big", signed=True)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JobID) and self._bytes == other._bytes

    def __hash__(self) -> int:
        return hash(self._bytes)

    def __str__(self) -> str:
        return self._bytes.hex()

    def __repr__(self) -> str:
        return f"JobID('{self._bytes.hex()}')"
