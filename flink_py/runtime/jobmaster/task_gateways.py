"""The JobMaster's side of its tasks' gateways: the operator-event gateway tasks use to reach
the job's coordinators, and the non-blocking checkpoint gateway the CheckpointCoordinator
gets for each task."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Hashable, Optional

from flink_py.graph.ids import ExecutionAttemptID
from flink_py.runtime.jobmaster.collect import CollectCoordinator
from flink_py.runtime.jobmaster.watermark_alignment import WatermarkAlignmentCoordinator
from flink_py.runtime.resourcemanager.resource_manager import SlotAllocation

if TYPE_CHECKING:
    from flink_py.runtime.jobmaster.job_master import JobMaster


class OperatorEventGateway:
    """What tasks of a job use to reach its JobMaster's operator coordinators."""

    def __init__(self, collect: CollectCoordinator,
                 watermark_alignment: Optional[WatermarkAlignmentCoordinator] = None) -> None:
        self._collect = collect
        self._watermark_alignment = watermark_alignment or WatermarkAlignmentCoordinator()

    def send_collect_batch(self, collect_id: str, values: list) -> None:
        self._collect.buffer(collect_id).put(values)

    def send_collect_end(self, collect_id: str) -> None:
        self._collect.buffer(collect_id).end()

    def report_watermark(self, watermark_group: str, reporter: Hashable,
                         watermark: int) -> int:
        return self._watermark_alignment.report(watermark_group, reporter, watermark)


class AsyncCheckpointGateway:
    """A slot's TaskExecutorCheckpointGateway for the coordinator on the main thread: each
    call is sent from the JobMaster's RPC pool and returns at once."""

    def __init__(self, master: "JobMaster", allocation: SlotAllocation) -> None:
        self._master = master
        self._allocation = allocation

    def _send(self, name: str, *args: Any) -> None:
        self._master.call_slot(self._allocation, name, *args)

    def trigger_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                           timestamp: int, options: Any) -> None:
        self._send("trigger_checkpoint", attempt_id, checkpoint_id, timestamp, options)

    def confirm_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                           timestamp: int) -> None:
        self._send("confirm_checkpoint", attempt_id, checkpoint_id, timestamp)

    def abort_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                         latest_completed_checkpoint_id: int) -> None:
        self._send("abort_checkpoint", attempt_id, checkpoint_id,
                   latest_completed_checkpoint_id)
