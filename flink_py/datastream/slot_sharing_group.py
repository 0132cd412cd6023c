"""``SlotSharingGroup`` and ``MemorySize``, as in ``pyflink.datastream.slot_sharing_group``.

A slot sharing group is a name plus an optional resource profile. flink_py shares slots by
the name (subtasks of one group share a slot, as in Flink); the profile is kept and shown,
but slots are not sized by it (each slot is one worker process).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from flink_py.errors import InvalidProgramError

_UNITS = {"kibi": 1 << 10, "mebi": 1 << 20, "gibi": 1 << 30, "tebi": 1 << 40}


class MemorySize:
    """An amount of memory in bytes."""

    def __init__(self, j_memory_size: Any = None, bytes_size: Optional[int] = None) -> None:
        size = bytes_size if bytes_size is not None else j_memory_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InvalidProgramError(f"a memory size must be an int >= 0 of bytes, got {size!r}")
        self._bytes = size

    @staticmethod
    def of_mebi_bytes(mebi_bytes: int) -> "MemorySize":
        return MemorySize(bytes_size=mebi_bytes * _UNITS["mebi"])

    def get_bytes(self) -> int:
        return self._bytes

    def get_kibi_bytes(self) -> int:
        return self._bytes >> 10

    def get_mebi_bytes(self) -> int:
        return self._bytes >> 20

    def get_gibi_bytes(self) -> int:
        return self._bytes >> 30

    def get_tebi_bytes(self) -> int:
        return self._bytes >> 40

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MemorySize) and other._bytes == self._bytes

    def __hash__(self) -> int:
        return hash(self._bytes)

    def __lt__(self, other: "MemorySize") -> bool:
        return self._bytes < other._bytes

    def __le__(self, other: "MemorySize") -> bool:
        return self._bytes <= other._bytes

    def __str__(self) -> str:
        return f"{self._bytes} bytes"

    __repr__ = __str__


class SlotSharingGroup:
    """A named slot sharing group with an optional resource profile.

    Example::

        ssg = SlotSharingGroup.builder("heavy").set_cpu_cores(1.0) \\
            .set_task_heap_memory_mb(100).build()
        ds.map(f).slot_sharing_group(ssg)
    """

    def __init__(self, name: str, cpu_cores: Optional[float] = None,
                 task_heap_memory: Optional[MemorySize] = None,
                 task_off_heap_memory: Optional[MemorySize] = None,
                 managed_memory: Optional[MemorySize] = None,
                 external_resources: Optional[Dict[str, float]] = None) -> None:
        if not isinstance(name, str) or not name:
            raise InvalidProgramError(f"a slot sharing group needs a non-empty name, got "
                                      f"{name!r}")
        self._name = name
        self._cpu_cores = cpu_cores
        self._task_heap_memory = task_heap_memory
        self._task_off_heap_memory = task_off_heap_memory
        self._managed_memory = managed_memory
        self._external_resources = dict(external_resources or {})

    def get_name(self) -> str:
        return self._name

    def get_managed_memory(self) -> Optional[MemorySize]:
        return self._managed_memory

    def get_task_heap_memory(self) -> Optional[MemorySize]:
        return self._task_heap_memory

    def get_task_off_heap_memory(self) -> Optional[MemorySize]:
        return self._task_off_heap_memory

    def get_cpu_cores(self) -> Optional[float]:
        return self._cpu_cores

    def get_external_resources(self) -> Dict[str, float]:
        return dict(self._external_resources)

    @staticmethod
    def builder(name: str) -> "SlotSharingGroup.Builder":
        return SlotSharingGroup.Builder(name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SlotSharingGroup) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        return f"SlotSharingGroup({self._name!r})"

    class Builder:
        def __init__(self, name: str) -> None:
            self._name = name
            self._values: Dict[str, Any] = {}
            self._external: Dict[str, float] = {}

        def set_cpu_cores(self, cpu_cores: float) -> "SlotSharingGroup.Builder":
            if not isinstance(cpu_cores, (int, float)) or cpu_cores <= 0:
                raise InvalidProgramError(f"cpu cores must be positive, got {cpu_cores!r}")
            self._values["cpu_cores"] = float(cpu_cores)
            return self

        def set_task_heap_memory(self, task_heap_memory: MemorySize
                                 ) -> "SlotSharingGroup.Builder":
            self._values["task_heap_memory"] = task_heap_memory
            return self

        def set_task_heap_memory_mb(self, task_heap_memory_mb: int
                                    ) -> "SlotSharingGroup.Builder":
            return self.set_task_heap_memory(MemorySize.of_mebi_bytes(task_heap_memory_mb))

        def set_task_off_heap_memory(self, task_off_heap_memory: MemorySize
                                     ) -> "SlotSharingGroup.Builder":
            self._values["task_off_heap_memory"] = task_off_heap_memory
            return self

        def set_task_off_heap_memory_mb(self, task_off_heap_memory_mb: int
                                        ) -> "SlotSharingGroup.Builder":
            return self.set_task_off_heap_memory(
                MemorySize.of_mebi_bytes(task_off_heap_memory_mb))

        def set_managed_memory(self, managed_memory: MemorySize) -> "SlotSharingGroup.Builder":
            self._values["managed_memory"] = managed_memory
            return self

        def set_managed_memory_mb(self, managed_memory_mb: int) -> "SlotSharingGroup.Builder":
            return self.set_managed_memory(MemorySize.of_mebi_bytes(managed_memory_mb))

        def set_external_resource(self, name: str, value: float
                                  ) -> "SlotSharingGroup.Builder":
            self._external[name] = value
            return self

        def build(self) -> "SlotSharingGroup":
            return SlotSharingGroup(self._name, external_resources=self._external,
                                    **self._values)
