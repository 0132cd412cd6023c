"""``OutputTag``: names a side output, as in ``pyflink.datastream.output_tag``."""

from __future__ import annotations

from typing import Any, Optional

from flink_py.errors import InvalidProgramError, InvalidTypeError


class OutputTag:
    """A named, typed side output of an operator.

    :param tag_id: the name of the side output; tags with equal ids are the same output.
    :param type_info: the type of its records; pickled Python objects when not given.

    Example::

        late = OutputTag("late", Types.STRING())
        main = ds.process(MyFunction())      # MyFunction does ``yield late, value``
        main.get_side_output(late).print()
    """

    def __init__(self, tag_id: str, type_info: Optional[Any] = None) -> None:
        if not isinstance(tag_id, str) or not tag_id:
            raise InvalidProgramError(f"OutputTag id must be a non-empty str, got {tag_id!r}")
        from flink_py.common.typeinfo import TypeInformation, Types
        if type_info is None:
            type_info = Types.PICKLED_BYTE_ARRAY()
        elif isinstance(type_info, list):
            type_info = Types.ROW(type_info)  # as PyFlink: a list of field types is a ROW
        elif not isinstance(type_info, TypeInformation):
            raise InvalidTypeError(
                f"OutputTag {tag_id!r}: type_info must be a TypeInformation or a list of them, "
                f"got {type(type_info).__name__} {type_info!r}")
        self.tag_id = tag_id
        self.type_info = type_info

    def get_type_info(self) -> Any:
        return self.type_info

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OutputTag) and other.tag_id == self.tag_id

    def __hash__(self) -> int:
        return hash(("OutputTag", self.tag_id))

    def __repr__(self) -> str:
        return f"OutputTag({self.tag_id!r}, {self.type_info!r})"
