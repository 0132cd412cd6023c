"""SlotSharingGroup and MemorySize, as PyFlink's; operators share slots by the group's name."""

from __future__ import annotations

import pytest

from flink_py.datastream import MemorySize, SlotSharingGroup, StreamExecutionEnvironment
from flink_py.errors import FlinkPyError


def test_the_builder_records_the_profile() -> None:
    ssg = (SlotSharingGroup.builder("heavy").set_cpu_cores(1.5).set_task_heap_memory_mb(100)
           .set_managed_memory(MemorySize(bytes_size=2048)).set_external_resource("gpu", 1.0)
           .build())
    assert ssg.get_name() == "heavy" and ssg.get_cpu_cores() == 1.5
    assert ssg.get_task_heap_memory() == MemorySize.of_mebi_bytes(100)
    assert ssg.get_task_heap_memory().get_mebi_bytes() == 100
    assert ssg.get_managed_memory().get_kibi_bytes() == 2
    assert ssg.get_external_resources() == {"gpu": 1.0}
    assert ssg.get_task_off_heap_memory() is None
    with pytest.raises(FlinkPyError):
        SlotSharingGroup.builder("x").set_cpu_cores(0)


def test_operators_in_a_group_object_share_slots_by_its_name() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    group = SlotSharingGroup.builder("other").build()
    env.register_slot_sharing_group(group)
    env.from_collection([1, 2]).map(lambda x: x).slot_sharing_group(group) \
        .add_sink(lambda v, c=None: None)
    graph = env.get_job_graph("groups")
    assert {v.slot_sharing_group for v in graph.vertices.values()} >= {"other"}
    assert graph.slots_needed() == 1 + 2  # the source's default group (p=1) and "other"
