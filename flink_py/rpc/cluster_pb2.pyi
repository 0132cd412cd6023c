from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Ack(_message.Message):
    __slots__ = ("ok", "message")
    OK_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    message: str
    def __init__(self, ok: _Optional[bool] = ..., message: _Optional[str] = ...) -> None: ...

class SlotInfo(_message.Message):
    __slots__ = ("index", "rpc_address", "data_address", "process_id")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    RPC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DATA_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PROCESS_ID_FIELD_NUMBER: _ClassVar[int]
    index: int
    rpc_address: str
    data_address: str
    process_id: str
    def __init__(self, index: _Optional[int] = ..., rpc_address: _Optional[str] = ..., data_address: _Optional[str] = ..., process_id: _Optional[str] = ...) -> None: ...

class RegisterTaskExecutorRequest(_message.Message):
    __slots__ = ("resource_id", "host", "rpc_address", "data_port", "slots", "hardware")
    class HardwareEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    RPC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DATA_PORT_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    HARDWARE_FIELD_NUMBER: _ClassVar[int]
    resource_id: str
    host: str
    rpc_address: str
    data_port: int
    slots: _containers.RepeatedCompositeFieldContainer[SlotInfo]
    hardware: _containers.ScalarMap[str, int]
    def __init__(self, resource_id: _Optional[str] = ..., host: _Optional[str] = ..., rpc_address: _Optional[str] = ..., data_port: _Optional[int] = ..., slots: _Optional[_Iterable[_Union[SlotInfo, _Mapping]]] = ..., hardware: _Optional[_Mapping[str, int]] = ...) -> None: ...

class RegisterTaskExecutorResponse(_message.Message):
    __slots__ = ("accepted", "message", "heartbeat_interval_ms", "was_registered")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    WAS_REGISTERED_FIELD_NUMBER: _ClassVar[int]
    accepted: bool
    message: str
    heartbeat_interval_ms: int
    was_registered: bool
    def __init__(self, accepted: _Optional[bool] = ..., message: _Optional[str] = ..., heartbeat_interval_ms: _Optional[int] = ..., was_registered: _Optional[bool] = ...) -> None: ...

class HeartbeatRequest(_message.Message):
    __slots__ = ("resource_id",)
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    resource_id: str
    def __init__(self, resource_id: _Optional[str] = ...) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ("known",)
    KNOWN_FIELD_NUMBER: _ClassVar[int]
    known: bool
    def __init__(self, known: _Optional[bool] = ...) -> None: ...

class SlotLostRequest(_message.Message):
    __slots__ = ("resource_id", "slot_index", "reason")
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    SLOT_INDEX_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    resource_id: str
    slot_index: int
    reason: str
    def __init__(self, resource_id: _Optional[str] = ..., slot_index: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class DisconnectRequest(_message.Message):
    __slots__ = ("resource_id", "reason")
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    resource_id: str
    reason: str
    def __init__(self, resource_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class TaskExecutionStateUpdate(_message.Message):
    __slots__ = ("job_id", "attempt_id", "state", "error")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    attempt_id: str
    state: str
    error: bytes
    def __init__(self, job_id: _Optional[str] = ..., attempt_id: _Optional[str] = ..., state: _Optional[str] = ..., error: _Optional[bytes] = ...) -> None: ...

class JobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class UserArtifacts(_message.Message):
    __slots__ = ("artifacts",)
    class ArtifactsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    artifacts: _containers.ScalarMap[str, bytes]
    def __init__(self, artifacts: _Optional[_Mapping[str, bytes]] = ...) -> None: ...

class CollectBatch(_message.Message):
    __slots__ = ("job_id", "collect_id", "values", "end")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    COLLECT_ID_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    collect_id: str
    values: bytes
    end: bool
    def __init__(self, job_id: _Optional[str] = ..., collect_id: _Optional[str] = ..., values: _Optional[bytes] = ..., end: _Optional[bool] = ...) -> None: ...

class ReportedWatermark(_message.Message):
    __slots__ = ("job_id", "watermark_group", "source_operator_id", "subtask_index", "watermark")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    WATERMARK_GROUP_FIELD_NUMBER: _ClassVar[int]
    SOURCE_OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    SUBTASK_INDEX_FIELD_NUMBER: _ClassVar[int]
    WATERMARK_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    watermark_group: str
    source_operator_id: str
    subtask_index: int
    watermark: int
    def __init__(self, job_id: _Optional[str] = ..., watermark_group: _Optional[str] = ..., source_operator_id: _Optional[str] = ..., subtask_index: _Optional[int] = ..., watermark: _Optional[int] = ...) -> None: ...

class WatermarkAlignment(_message.Message):
    __slots__ = ("ok", "message", "group_watermark")
    OK_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    GROUP_WATERMARK_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    message: str
    group_watermark: int
    def __init__(self, ok: _Optional[bool] = ..., message: _Optional[str] = ..., group_watermark: _Optional[int] = ...) -> None: ...

class AcknowledgeCheckpointRequest(_message.Message):
    __slots__ = ("job_id", "attempt_id", "checkpoint_id", "metrics", "subtask_state")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    SUBTASK_STATE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    attempt_id: str
    checkpoint_id: int
    metrics: bytes
    subtask_state: bytes
    def __init__(self, job_id: _Optional[str] = ..., attempt_id: _Optional[str] = ..., checkpoint_id: _Optional[int] = ..., metrics: _Optional[bytes] = ..., subtask_state: _Optional[bytes] = ...) -> None: ...

class DeclineCheckpointRequest(_message.Message):
    __slots__ = ("job_id", "attempt_id", "checkpoint_id", "reason")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    attempt_id: str
    checkpoint_id: int
    reason: bytes
    def __init__(self, job_id: _Optional[str] = ..., attempt_id: _Optional[str] = ..., checkpoint_id: _Optional[int] = ..., reason: _Optional[bytes] = ...) -> None: ...

class SubmitTaskRequest(_message.Message):
    __slots__ = ("deployment", "job_master_address")
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    JOB_MASTER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    deployment: bytes
    job_master_address: str
    def __init__(self, deployment: _Optional[bytes] = ..., job_master_address: _Optional[str] = ...) -> None: ...

class CancelTaskRequest(_message.Message):
    __slots__ = ("attempt_id",)
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    attempt_id: str
    def __init__(self, attempt_id: _Optional[str] = ...) -> None: ...

class CheckpointRequest(_message.Message):
    __slots__ = ("attempt_id", "checkpoint_id", "timestamp", "options", "latest_completed_checkpoint_id")
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    LATEST_COMPLETED_CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    attempt_id: str
    checkpoint_id: int
    timestamp: int
    options: bytes
    latest_completed_checkpoint_id: int
    def __init__(self, attempt_id: _Optional[str] = ..., checkpoint_id: _Optional[int] = ..., timestamp: _Optional[int] = ..., options: _Optional[bytes] = ..., latest_completed_checkpoint_id: _Optional[int] = ...) -> None: ...

class PartitionRef(_message.Message):
    __slots__ = ("result_id", "producer_subtask")
    RESULT_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCER_SUBTASK_FIELD_NUMBER: _ClassVar[int]
    result_id: str
    producer_subtask: int
    def __init__(self, result_id: _Optional[str] = ..., producer_subtask: _Optional[int] = ...) -> None: ...

class ReleasePartitionsRequest(_message.Message):
    __slots__ = ("job_id", "partitions")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    partitions: _containers.RepeatedCompositeFieldContainer[PartitionRef]
    def __init__(self, job_id: _Optional[str] = ..., partitions: _Optional[_Iterable[_Union[PartitionRef, _Mapping]]] = ...) -> None: ...

class ReasonRequest(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...
