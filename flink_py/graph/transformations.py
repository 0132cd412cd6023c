"""Transformations: what the DataStream API records, one per API call.

A Transformation is the logical description of one step of a program (Flink's
``Transformation``). Physical steps carry an operator factory; virtual ones (partitioning,
union, side output) only change how their inputs are wired. The StreamGraphGenerator turns
the list of transformations an environment collected into a StreamGraph.
"""

from __future__ import annotations

import enum
import itertools
import re
from typing import Any, Callable, Optional, Sequence

from flink_py.errors import InvalidProgramError


class ChainingStrategy(enum.Enum):
    """Whether an operator may be chained to its predecessor and successors."""

    ALWAYS = "ALWAYS"  # chain to predecessor and successors where possible
    HEAD = "HEAD"  # start a new chain here; successors may chain to it
    NEVER = "NEVER"  # neither chained to its predecessor nor to its successors


_ids = itertools.count(1)
_UID_HASH = re.compile(r"[0-9A-Fa-f]{32}")


class Transformation:
    """Base of every transformation; holds the attributes any step can set."""

    def __init__(self, name: str, output_type: Any, parallelism: Optional[int] = None) -> None:
        self.id: int = next(_ids)
        self.name = name
        self.uid: Optional[str] = None
        self.uid_hash: Optional[str] = None
        self.output_type = output_type
        self.parallelism = parallelism
        self.parallelism_configured = parallelism is not None
        self.max_parallelism: Optional[int] = None
        self.slot_sharing_group: Optional[str] = None
        self.chaining_strategy = ChainingStrategy.ALWAYS
        self.buffer_timeout: Optional[int] = None
        self.description: Optional[str] = None

    @property
    def inputs(self) -> Sequence["Transformation"]:
        return ()

    def set_parallelism(self, parallelism: int) -> None:
        if not isinstance(parallelism, int) or isinstance(parallelism, bool) or parallelism < 1:
            raise InvalidProgramError(
                f"parallelism of '{self.name}' must be a positive int, got {parallelism!r}")
        if self.max_parallelism is not None and parallelism > self.max_parallelism:
            raise InvalidProgramError(
                f"parallelism {parallelism} of '{self.name}' exceeds its max parallelism "
                f"{self.max_parallelism}")
        self.parallelism = parallelism
        self.parallelism_configured = True

    def set_uid(self, uid: str) -> None:
        """Sets the operator's uid: what its OperatorID, and so its state in savepoints, is
        derived from."""
        if not isinstance(uid, str) or not uid:
            raise InvalidProgramError(
                f"the uid of '{self.name}' must be a non-empty string, got {uid!r}")
        self.uid = uid

    def set_uid_hash(self, uid_hash: str) -> None:
        """Sets the operator's OperatorID directly, as 32 hex characters (Flink's
        user-provided node hash, to match the state of a job whose ids were generated)."""
        if not isinstance(uid_hash, str) or not _UID_HASH.fullmatch(uid_hash):
            raise InvalidProgramError(
                f"Node hash must be a 32 character String that describes a hex code. "
                f"Found: {uid_hash!r}")
        self.uid_hash = uid_hash.lower()

    def set_max_parallelism(self, max_parallelism: int) -> None:
        if (isinstance(max_parallelism, bool) or not isinstance(max_parallelism, int)
                or not 0 < max_parallelism <= 32768):
            raise InvalidProgramError(
                f"max parallelism of '{self.name}' must be an int in [1, 32768], "
                f"got {max_parallelism!r}")
        self.max_parallelism = max_parallelism

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id}, name={self.name!r})"


class PhysicalTransformation(Transformation):
    """A transformation that becomes an operator in the StreamGraph."""

    def __init__(self, name: str, operator_factory: Any, output_type: Any,
                 parallelism: Optional[int] = None) -> None:
        super().__init__(name, output_type, parallelism)
        self.operator_factory = operator_factory


class SourceTransformation(PhysicalTransformation):
    """A source: no inputs; its operator produces records."""

    def __init__(self, name: str, operator_factory: Any, output_type: Any,
                 parallelism: Optional[int] = None, bounded: bool = True) -> None:
        super().__init__(name, operator_factory, output_type, parallelism)
        self.bounded = bounded


class OneInputTransformation(PhysicalTransformation):
    """An operator with one logical input (which may itself be a union of streams).

    ``state_key_selector`` is set for keyed operators: the operator computes each record's key
    with it, and its state is partitioned by that key.
    """

    def __init__(self, input: Transformation, name: str, operator_factory: Any,
                 output_type: Any, parallelism: Optional[int] = None,
                 state_key_selector: Optional[Callable[[Any], Any]] = None) -> None:
        super().__init__(name, operator_factory, output_type, parallelism)
        self.input = input
        self.state_key_selector = state_key_selector

    @property
    def inputs(self) -> Sequence[Transformation]:
        return (self.input,)


class SinkTransformation(OneInputTransformation):
    """A sink: consumes records, produces none."""


class TwoInputTransformation(PhysicalTransformation):
    """An operator with two logical inputs (``connect``)."""

    def __init__(self, input1: Transformation, input2: Transformation, name: str,
                 operator_factory: Any, output_type: Any, parallelism: Optional[int] = None,
                 state_key_selector1: Optional[Callable[[Any], Any]] = None,
                 state_key_selector2: Optional[Callable[[Any], Any]] = None) -> None:
        super().__init__(name, operator_factory, output_type, parallelism)
        self.input1 = input1
        self.input2 = input2
        self.state_key_selector1 = state_key_selector1
        self.state_key_selector2 = state_key_selector2

    @property
    def inputs(self) -> Sequence[Transformation]:
        return (self.input1, self.input2)


class PartitionTransformation(Transformation):
    """Virtual: changes how records travel from its input to the next operator."""

    def __init__(self, input: Transformation, partitioner: Any) -> None:
        super().__init__("Partition", input.output_type, input.parallelism)
        self.input = input
        self.partitioner = partitioner

    @property
    def inputs(self) -> Sequence[Transformation]:
        return (self.input,)


class UnionTransformation(Transformation):
    """Virtual: the records of several streams of the same type, as one stream."""

    def __init__(self, inputs: Sequence[Transformation]) -> None:
        super().__init__("Union", inputs[0].output_type, inputs[0].parallelism)
        self._inputs = tuple(inputs)

    @property
    def inputs(self) -> Sequence[Transformation]:
        return self._inputs


class SideOutputTransformation(Transformation):
    """Virtual: the records its input emitted to one ``OutputTag``."""

    def __init__(self, input: Transformation, output_tag: Any) -> None:
        super().__init__("SideOutput", output_tag.type_info, input.parallelism)
        self.input = input
        self.output_tag = output_tag

    @property
    def inputs(self) -> Sequence[Transformation]:
        return (self.input,)
