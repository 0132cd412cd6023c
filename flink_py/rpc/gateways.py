"""Gateways over gRPC: the remote side of the runtime's in-process interfaces.

The JobMaster deploys into a slot through a TaskExecutor gateway, and a TaskExecutor reports
task states through a JobMaster gateway. In the MiniCluster these are the objects themselves;
in a cluster they are the classes here, which make the same calls over gRPC. Every call has
a deadline.

Security: servers and channels use the process's installed
:func:`flink_py.security.context.current` (none installed: SecurityNotConfiguredError). With a
cluster secret every call and answer is authenticated by ``flink_py.security.rpc_auth``'s
interceptors. With ``security.ssl.internal.enabled`` servers require a client certificate the
cluster CA signed (mutual TLS) and channels present this process's certificate. Peers are
verified by the cluster CA, not by host name (as Flink's internal SSL): gRPC always matches
the server's certificate against a name, so channels override the target name with
:data:`TLS_TARGET_NAME` (``localhost``), and every internal certificate must carry that name
in its subjectAltName (the test certificates carry ``localhost`` and ``127.0.0.1``), whatever
address its member is reached at.

Binding: no SO_REUSEPORT (two servers on one port fail instead of splitting the traffic), and
a host that resolves to several addresses (``localhost``: 127.0.0.1 and ::1) is bound on each
of them, on the same port, or the start fails naming the address that could not be bound.
"""

from __future__ import annotations

import logging
import pickle
import socket
import threading
import time
from concurrent import futures
from typing import Any, Callable, Dict, List, Optional, Tuple

import grpc

from flink_py.common import listen_addresses
from flink_py.common.listen_addresses import SKIPPABLE_ERRNOS, describe_bind_error, target
from flink_py.errors import FlinkPyError
from flink_py.graph.ids import ExecutionAttemptID
from flink_py.rpc import cluster_pb2 as pb
from flink_py.rpc import cluster_pb2_grpc as pb_grpc
from flink_py.runtime.execution.errors import CancelTaskException
from flink_py.runtime.resourcemanager.registration import (
    RegistrationResponse, SlotRegistration, TaskExecutorRegistration)
from flink_py.security import context as security_context
from flink_py.security.context import SecurityContext
from flink_py.security.rpc_auth import client_interceptors, server_interceptors

log = logging.getLogger(__name__)

#: User code and deployment descriptors can be large; gRPC's default limit is 4 MiB.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
]
#: servers: a second server on a taken port must fail, not share it
SERVER_OPTIONS = CHANNEL_OPTIONS + [("grpc.so_reuseport", 0)]
#: the name every internal TLS certificate carries (see the module docstring)
TLS_TARGET_NAME = "localhost"
DEFAULT_RPC_TIMEOUT_S = 10.0
#: how long a task keeps trying to report its final state to its JobMaster
TERMINAL_STATE_REPORT_S = 120.0


class RpcError(FlinkPyError):
    """A remote call failed: the peer is down, unreachable, or answered with an error."""


class RpcRefusedError(RpcError):
    """The peer answered, refusing the call: it is reachable."""


class RpcUnreachableError(RpcError):
    """The call did not reach the peer (gRPC ``UNAVAILABLE``: connection refused, reset, no
    route): Flink's ``RecipientUnreachableException``. A deadline that passed is not this:
    the peer may be alive and slow."""


def describe_rpc_error(address: str, call: str, exc: grpc.RpcError) -> str:
    code = exc.code() if hasattr(exc, "code") else None
    details = exc.details() if hasattr(exc, "details") else str(exc)
    name = code.name if code is not None else "UNKNOWN"
    return f"{call} to {address} failed ({name}): {details}"


class _Channels:
    """One gRPC channel per peer address and security context, shared by the gateways of
    this process."""

    _lock = threading.Lock()
    _channels: Dict[Tuple[str, SecurityContext], grpc.Channel] = {}

    @classmethod
    def get(cls, address: str, context: SecurityContext) -> grpc.Channel:
        with cls._lock:
            channel = cls._channels.get((address, context))
            if channel is None:
                channel = _open_channel(address, context)
                cls._channels[(address, context)] = channel
            return channel


def _open_channel(address: str, context: SecurityContext) -> grpc.Channel:
    if context.tls is None:
        channel = grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
    else:
        context.tls.client_context()  # unusable PEM files: a ConfigurationError naming them
        credentials = grpc.ssl_channel_credentials(
            context.tls.read_ca(), context.tls.read_key(), context.tls.read_cert())
        channel = grpc.secure_channel(
            address, credentials,
            options=CHANNEL_OPTIONS + [("grpc.ssl_target_name_override", TLS_TARGET_NAME)])
    interceptors = client_interceptors(context.secret)
    return grpc.intercept_channel(channel, *interceptors) if interceptors else channel


def channel_to(address: str) -> grpc.Channel:
    """The channel to ``address``, authenticated as the installed SecurityContext says.

    :raises SecurityNotConfiguredError: when this process installed none.
    """
    return _Channels.get(address, security_context.current())


def invoke(address: str, name: str, method: Any, request: Any, timeout_s: float) -> Any:
    """Calls ``method(request)`` with a deadline; a gRPC failure becomes an RpcError naming
    the call and the peer."""
    try:
        return method(request, timeout=timeout_s)
    except grpc.RpcError as exc:
        unreachable = hasattr(exc, "code") and exc.code() is grpc.StatusCode.UNAVAILABLE
        error = RpcUnreachableError if unreachable else RpcError
        raise error(describe_rpc_error(address, name, exc)) from None


def _check(ack: Any, address: str, call: str) -> None:
    if not ack.ok:
        raise RpcRefusedError(f"{call} to {address} was refused: {ack.message}")


def start_server(servicers: Callable[[grpc.Server], None], host: str, port: int,
                 max_workers: int = 16) -> Tuple[grpc.Server, int]:
    """Starts a gRPC server with the services ``servicers`` adds, authenticated as the
    installed SecurityContext says, on every address ``host`` resolves to; returns it and
    its port.

    :raises SecurityNotConfiguredError: when this process installed no SecurityContext.
    :raises FlinkPyError: when an address cannot be bound ("Could not bind the RPC endpoint
                          to 127.0.0.1:6123: address in use").
    """
    context = security_context.current()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers),
                         interceptors=server_interceptors(context.secret),
                         options=SERVER_OPTIONS)
    servicers(server)
    if context.tls is None:
        def add_port(target: str) -> int:
            return server.add_insecure_port(target)
    else:
        context.tls.server_context()  # unusable PEM files: a ConfigurationError naming them
        credentials = grpc.ssl_server_credentials(
            [(context.tls.read_key(), context.tls.read_cert())],
            root_certificates=context.tls.read_ca(), require_client_auth=True)

        def add_port(target: str) -> int:
            return server.add_secure_port(target, credentials)
    try:
        bound = bind_addresses(add_port, resolve_bind_addresses(host, port), port)
    except BaseException:
        server.stop(None)
        raise
    server.start()
    return server, bound


def resolve_bind_addresses(host: str, port: int) -> List[Tuple[int, str]]:
    """The distinct (family, address) pairs ``host`` names, in resolver order."""
    return listen_addresses.resolve(host, port, "the RPC endpoint")


def _bind_error(family: int, address: str, port: int) -> Optional[OSError]:
    """Why a listening socket cannot be bound to ``address``:``port`` (as gRPC binds it:
    SO_REUSEADDR, no SO_REUSEPORT), or None when it can."""
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            probe.bind((address, port))
    except OSError as exc:
        return exc
    return None


def bind_addresses(add_port: Callable[[str], int], addresses: List[Tuple[int, str]],
                   port: int) -> int:
    """Binds every address on one port (with ``port`` 0, one that is free on all of them);
    returns the port.

    Each address is checked with a plain socket first, so that the error names its cause
    (gRPC only says that it failed).
    """
    usable: List[Tuple[int, str]] = []
    skipped: List[str] = []
    for family, address in addresses:
        problem = _bind_error(family, address, port)
        if problem is None:
            usable.append((family, address))
        elif problem.errno in SKIPPABLE_ERRNOS:
            skipped.append(f"{target(address, port)} ({describe_bind_error(problem)})")
        else:
            raise FlinkPyError(f"Could not bind the RPC endpoint to {target(address, port)}: "
                               f"{describe_bind_error(problem)}")
    if not usable:
        raise FlinkPyError(f"Could not bind the RPC endpoint to {', '.join(skipped)}")
    if port == 0 and len(usable) > 1:
        port = _port_free_on_all(usable)
    bound = port
    for family, address in usable:
        where = target(address, bound)
        try:
            result = add_port(where)
        except RuntimeError:  # gRPC's "Failed to bind to address"
            result = 0
        if not result:
            raise FlinkPyError(f"Could not bind the RPC endpoint to {where}: "
                               f"{describe_bind_error(_bind_error(family, address, bound))}")
        bound = result
    for what in skipped:
        log.warning("The RPC endpoint does not listen on %s: the host resolves to it, but "
                    "this machine has no such address", what)
    return bound


def _port_free_on_all(addresses: List[Tuple[int, str]], attempts: int = 20) -> int:
    """A port that every address can bind now (the first address picks, the others must
    have it free)."""
    for _ in range(attempts):
        family, address = addresses[0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((address, 0))
            candidate = probe.getsockname()[1]
        if all(_bind_error(f, a, candidate) is None for f, a in addresses[1:]):
            return candidate
    raise FlinkPyError(f"Could not bind the RPC endpoint: found no port free on all of "
                       f"{', '.join(a for _, a in addresses)} in {attempts} attempts")


# -- TaskExecutor ---------------------------------------------------------------------------


class RemoteTaskExecutorGateway:
    """Deploys into one slot worker; what the JobMaster holds for a remote slot."""

    def __init__(self, address: str, job_master_address: str,
                 timeout_s: float = DEFAULT_RPC_TIMEOUT_S) -> None:
        self.address = address
        self.job_master_address = job_master_address
        self.timeout_s = timeout_s
        self._stub = pb_grpc.TaskExecutorGatewayStub(channel_to(address))

    def submit_task(self, tdd: Any, job_master: Any) -> None:
        request = pb.SubmitTaskRequest(deployment=pickle.dumps(tdd, protocol=5),
                                       job_master_address=self.job_master_address)
        self._call("SubmitTask", self._stub.SubmitTask, request)

    def cancel_task(self, attempt_id: ExecutionAttemptID) -> None:
        self._call("CancelTask", self._stub.CancelTask,
                   pb.CancelTaskRequest(attempt_id=str(attempt_id)))

    def release_job_partitions(self, job_id: str) -> None:
        self._call("ReleaseJobPartitions", self._stub.ReleaseJobPartitions,
                   pb.JobRequest(job_id=job_id))

    def release_partitions(self, job_id: str, partitions: List[Tuple[str, int]]) -> None:
        self._call("ReleasePartitions", self._stub.ReleasePartitions,
                   pb.ReleasePartitionsRequest(job_id=job_id, partitions=[
                       pb.PartitionRef(result_id=r, producer_subtask=p) for r, p in partitions]))

    def trigger_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                           timestamp: int, options: Any) -> None:
        self._call("TriggerCheckpoint", self._stub.TriggerCheckpoint, pb.CheckpointRequest(
            attempt_id=str(attempt_id), checkpoint_id=checkpoint_id, timestamp=timestamp,
            options=pickle.dumps(options, protocol=5)))

    def confirm_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                           timestamp: int) -> None:
        self._call("ConfirmCheckpoint", self._stub.ConfirmCheckpoint, pb.CheckpointRequest(
            attempt_id=str(attempt_id), checkpoint_id=checkpoint_id, timestamp=timestamp))

    def abort_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                         latest_completed_checkpoint_id: int) -> None:
        self._call("AbortCheckpoint", self._stub.AbortCheckpoint, pb.CheckpointRequest(
            attempt_id=str(attempt_id), checkpoint_id=checkpoint_id,
            latest_completed_checkpoint_id=latest_completed_checkpoint_id))

    def cancel_all_tasks(self, reason: str) -> None:
        self._call("CancelAllTasks", self._stub.CancelAllTasks, pb.ReasonRequest(reason=reason))

    def restart_worker(self, reason: str) -> None:
        """Asks the slot worker to exit (its TaskManager starts it again)."""
        self._call("RestartWorker", self._stub.RestartWorker, pb.ReasonRequest(reason=reason))

    def heartbeat_from_resource_manager(self, resource_id: str,
                                        timeout_s: Optional[float] = None) -> None:
        """The ResourceManager's heartbeat request; raises RpcUnreachableError when the
        worker cannot be reached."""
        _check(invoke(self.address, "HeartbeatFromResourceManager",
                      self._stub.HeartbeatFromResourceManager,
                      pb.HeartbeatRequest(resource_id=resource_id),
                      self.timeout_s if timeout_s is None else timeout_s),
               self.address, "HeartbeatFromResourceManager")

    def _call(self, name: str, method: Any, request: Any) -> None:
        _check(invoke(self.address, name, method, request, self.timeout_s), self.address, name)

    def __repr__(self) -> str:
        return f"RemoteTaskExecutorGateway({self.address})"


class TaskExecutorServicer(pb_grpc.TaskExecutorGatewayServicer):
    """Serves a slot worker's TaskExecutor; ``job_master_for(address, job_id)`` makes the
    gateway its tasks report to."""

    def __init__(self, task_executor: Any,
                 job_master_for: Callable[[str, str], Any],
                 on_restart_requested: Optional[Callable[[str], None]] = None) -> None:
        """:param on_restart_requested: ends this worker (after the answer is sent); None
            refuses RestartWorker"""
        self.task_executor = task_executor
        self.job_master_for = job_master_for
        self.on_restart_requested = on_restart_requested

    def SubmitTask(self, request: Any, context: Any) -> Any:
        try:
            tdd = pickle.loads(request.deployment)
            self.task_executor.submit_task(
                tdd, self.job_master_for(request.job_master_address, tdd.job_id))
        except Exception as exc:  # answered to the JobMaster, which fails the task
            log.exception("SubmitTask failed")
            return pb.Ack(ok=False, message=f"{type(exc).__name__}: {exc}")
        return pb.Ack(ok=True)

    def CancelTask(self, request: Any, context: Any) -> Any:
        self.task_executor.cancel_task(ExecutionAttemptID(request.attempt_id))
        return pb.Ack(ok=True)

    def ReleaseJobPartitions(self, request: Any, context: Any) -> Any:
        self.task_executor.release_job_partitions(request.job_id)
        return pb.Ack(ok=True)

    def ReleasePartitions(self, request: Any, context: Any) -> Any:
        self.task_executor.release_partitions(
            request.job_id, [(p.result_id, p.producer_subtask) for p in request.partitions])
        return pb.Ack(ok=True)

    def TriggerCheckpoint(self, request: Any, context: Any) -> Any:
        return self._checkpoint_call(lambda: self.task_executor.trigger_checkpoint(
            ExecutionAttemptID(request.attempt_id), request.checkpoint_id, request.timestamp,
            pickle.loads(request.options)))

    def ConfirmCheckpoint(self, request: Any, context: Any) -> Any:
        return self._checkpoint_call(lambda: self.task_executor.confirm_checkpoint(
            ExecutionAttemptID(request.attempt_id), request.checkpoint_id, request.timestamp))

    def AbortCheckpoint(self, request: Any, context: Any) -> Any:
        return self._checkpoint_call(lambda: self.task_executor.abort_checkpoint(
            ExecutionAttemptID(request.attempt_id), request.checkpoint_id,
            request.latest_completed_checkpoint_id))

    @staticmethod
    def _checkpoint_call(call: Callable[[], None]) -> Any:
        try:
            call()
        except Exception as exc:  # answered: the coordinator declines/aborts with it
            log.warning("checkpoint call failed: %s", exc)
            return pb.Ack(ok=False, message=f"{type(exc).__name__}: {exc}")
        return pb.Ack(ok=True)

    def CancelAllTasks(self, request: Any, context: Any) -> Any:
        self.task_executor.cancel_all_tasks(request.reason)
        return pb.Ack(ok=True)

    def HeartbeatFromResourceManager(self, request: Any, context: Any) -> Any:
        self.task_executor.heartbeat_from_resource_manager(request.resource_id)
        return pb.Ack(ok=True)

    def RestartWorker(self, request: Any, context: Any) -> Any:
        if self.on_restart_requested is None:
            return pb.Ack(ok=False, message="this TaskExecutor cannot be restarted")
        log.error("restart of this slot worker requested: %s", request.reason)
        self.on_restart_requested(request.reason)
        return pb.Ack(ok=True)


# -- JobMaster ------------------------------------------------------------------------------


#: How long a collect sink may wait for room in the JobManager's buffer (the client reads it).
COLLECT_TIMEOUT_S = 600.0


class _RemoteOperatorEventGateway:
    """A task's way to its JobMaster's coordinators: the collect buffers
    (``execute_and_collect``) and the watermark alignment groups."""

    def __init__(self, stub: Any, address: str, job_id: str) -> None:
        self._stub = stub
        self._address = address
        self._job_id = job_id

    def send_collect_batch(self, collect_id: str, values: Any) -> None:
        """``values``: a list of results or a message of flink_py.runtime.jobmaster.collect."""
        self._send(pb.CollectBatch(job_id=self._job_id, collect_id=collect_id,
                                   values=pickle.dumps(values, protocol=5)))

    def send_collect_end(self, collect_id: str) -> None:
        self._send(pb.CollectBatch(job_id=self._job_id, collect_id=collect_id, end=True))

    def _send(self, request: Any) -> None:
        ack = invoke(self._address, "SendCollectBatch", self._stub.SendCollectBatch, request,
                     COLLECT_TIMEOUT_S)
        if not ack.ok:  # the job's results are no longer collected (cancelled, ended)
            raise CancelTaskException(ack.message)

    def report_watermark(self, watermark_group: str, reporter: Tuple[str, int],
                         watermark: int) -> int:
        operator_id, subtask_index = reporter
        answer = invoke(self._address, "ReportWatermark", self._stub.ReportWatermark,
                        pb.ReportedWatermark(job_id=self._job_id,
                                             watermark_group=watermark_group,
                                             source_operator_id=str(operator_id),
                                             subtask_index=subtask_index,
                                             watermark=watermark),
                        DEFAULT_RPC_TIMEOUT_S)
        if not answer.ok:  # the JobMaster no longer runs the job (cancelled, ended)
            raise CancelTaskException(answer.message)
        return answer.group_watermark


class RemoteJobMasterGateway:
    """The JobMaster of one job, as the tasks in a slot worker reach it."""

    def __init__(self, address: str, job_id: str,
                 timeout_s: float = DEFAULT_RPC_TIMEOUT_S) -> None:
        self.address = address
        self.job_id = job_id
        self.timeout_s = timeout_s
        self._stub = pb_grpc.JobMasterGatewayStub(channel_to(address))

    def update_task_execution_state(self, attempt_id: ExecutionAttemptID, state: Any,
                                    error: Any = None) -> None:
        request = pb.TaskExecutionStateUpdate(
            job_id=self.job_id, attempt_id=str(attempt_id), state=state.name,
            error=pickle.dumps(error, protocol=5) if error is not None else b"")
        # A lost final state would leave the job waiting for this task forever: final states
        # are retried (with backoff) for up to TERMINAL_STATE_REPORT_S; others are sent once.
        deadline = time.monotonic() + (TERMINAL_STATE_REPORT_S if state.is_terminal else 0)
        backoff = 0.1
        while True:
            try:
                ack = invoke(self.address, "UpdateTaskExecutionState",
                             self._stub.UpdateTaskExecutionState, request, self.timeout_s)
                break
            except RpcError as exc:
                if time.monotonic() + backoff > deadline:
                    log.error("the JobMaster did not get the state %s of %s: %s", state.name,
                              attempt_id, exc)
                    return
                time.sleep(backoff)  # retry backoff
                backoff = min(backoff * 2, 5.0)
        if not ack.ok:
            log.warning("JobMaster at %s ignored the state of %s: %s", self.address,
                        attempt_id, ack.message)

    def acknowledge_checkpoint(self, job_id: str, attempt_id: ExecutionAttemptID,
                               checkpoint_id: int, metrics: Any, subtask_state: Any) -> None:
        request = pb.AcknowledgeCheckpointRequest(
            job_id=job_id, attempt_id=str(attempt_id), checkpoint_id=checkpoint_id,
            metrics=pickle.dumps(metrics, protocol=5),
            subtask_state=b"" if subtask_state is None else pickle.dumps(subtask_state,
                                                                         protocol=5))
        self._checked("AcknowledgeCheckpoint", self._stub.AcknowledgeCheckpoint, request)

    def decline_checkpoint(self, job_id: str, attempt_id: ExecutionAttemptID,
                           checkpoint_id: int, reason: Any) -> None:
        request = pb.DeclineCheckpointRequest(
            job_id=job_id, attempt_id=str(attempt_id), checkpoint_id=checkpoint_id,
            reason=pickle.dumps(reason, protocol=5))
        self._checked("DeclineCheckpoint", self._stub.DeclineCheckpoint, request)

    def _checked(self, name: str, method: Any, request: Any) -> None:
        _check(invoke(self.address, name, method, request, self.timeout_s), self.address, name)

    def request_user_artifacts(self) -> Dict[str, bytes]:
        answer = invoke(self.address, "RequestUserArtifacts", self._stub.RequestUserArtifacts,
                        pb.JobRequest(job_id=self.job_id), self.timeout_s)
        return dict(answer.artifacts)

    def operator_event_gateway(self, job_id: str) -> Any:
        return _RemoteOperatorEventGateway(self._stub, self.address, job_id)


class JobMasterServicer(pb_grpc.JobMasterGatewayServicer):
    """Routes task state updates to the JobMaster of their job (through the Dispatcher)."""

    def __init__(self, dispatcher: Any) -> None:
        self.dispatcher = dispatcher

    def UpdateTaskExecutionState(self, request: Any, context: Any) -> Any:
        from flink_py.runtime.execution.execution_state import ExecutionState
        try:
            master = self.dispatcher.job_master(request.job_id)
        except FlinkPyError as exc:
            return pb.Ack(ok=False, message=str(exc))
        error: Optional[Any] = pickle.loads(request.error) if request.error else None
        master.update_task_execution_state(ExecutionAttemptID(request.attempt_id),
                                           ExecutionState[request.state], error)
        return pb.Ack(ok=True)

    def AcknowledgeCheckpoint(self, request: Any, context: Any) -> Any:
        try:
            master = self.dispatcher.job_master(request.job_id)
        except FlinkPyError as exc:
            return pb.Ack(ok=False, message=str(exc))
        state = pickle.loads(request.subtask_state) if request.subtask_state else None
        master.acknowledge_checkpoint(request.job_id, ExecutionAttemptID(request.attempt_id),
                                      request.checkpoint_id, pickle.loads(request.metrics),
                                      state)
        return pb.Ack(ok=True)

    def DeclineCheckpoint(self, request: Any, context: Any) -> Any:
        try:
            master = self.dispatcher.job_master(request.job_id)
        except FlinkPyError as exc:
            return pb.Ack(ok=False, message=str(exc))
        master.decline_checkpoint(request.job_id, ExecutionAttemptID(request.attempt_id),
                                  request.checkpoint_id, pickle.loads(request.reason))
        return pb.Ack(ok=True)

    def SendCollectBatch(self, request: Any, context: Any) -> Any:
        try:
            master = self.dispatcher.job_master(request.job_id)
        except FlinkPyError as exc:
            return pb.Ack(ok=False, message=str(exc))
        buffer = master.collect.buffer(request.collect_id)
        try:
            if request.end:
                buffer.end()
            else:
                buffer.put(pickle.loads(request.values))
        except CancelTaskException as exc:
            return pb.Ack(ok=False, message=str(exc))
        return pb.Ack(ok=True)

    def ReportWatermark(self, request: Any, context: Any) -> Any:
        try:
            master = self.dispatcher.job_master(request.job_id)
        except FlinkPyError as exc:
            return pb.WatermarkAlignment(ok=False, message=str(exc))
        group_watermark = master.watermark_alignment.report(
            request.watermark_group, (request.source_operator_id, request.subtask_index),
            request.watermark)
        return pb.WatermarkAlignment(ok=True, group_watermark=group_watermark)

    def RequestUserArtifacts(self, request: Any, context: Any) -> Any:
        try:
            master = self.dispatcher.job_master(request.job_id)
        except FlinkPyError as exc:
            context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
        return pb.UserArtifacts(artifacts=master.job_graph.user_artifacts)


# -- ResourceManager ------------------------------------------------------------------------


class ResourceManagerServicer(pb_grpc.ResourceManagerGatewayServicer):
    """TaskManager registration and heartbeats, from the wire into a
    ``ResourceManagerEndpoint`` (the in-process gateway)."""

    def __init__(self, endpoint: Any) -> None:
        self.endpoint = endpoint

    def RegisterTaskExecutor(self, request: Any, context: Any) -> Any:
        answer = self.endpoint.register(_registration_from_wire(request))
        return pb.RegisterTaskExecutorResponse(
            accepted=answer.accepted, message=answer.message,
            heartbeat_interval_ms=answer.heartbeat_interval_ms,
            was_registered=answer.was_registered)

    def Heartbeat(self, request: Any, context: Any) -> Any:
        return pb.HeartbeatResponse(known=self.endpoint.heartbeat(request.resource_id))

    def ReportSlotLost(self, request: Any, context: Any) -> Any:
        self.endpoint.report_slot_lost(request.resource_id, request.slot_index, request.reason)
        return pb.Ack(ok=True)

    def DisconnectTaskExecutor(self, request: Any, context: Any) -> Any:
        self.endpoint.disconnect(request.resource_id, request.reason)
        return pb.Ack(ok=True)


def _registration_to_wire(registration: TaskExecutorRegistration) -> Any:
    return pb.RegisterTaskExecutorRequest(
        resource_id=registration.resource_id, host=registration.host,
        rpc_address=registration.rpc_address, data_port=registration.data_port,
        slots=[pb.SlotInfo(index=s.index, rpc_address=s.rpc_address,
                           data_address=s.data_address, process_id=s.process_id)
               for s in registration.slots],
        hardware=registration.hardware)


def _registration_from_wire(request: Any) -> TaskExecutorRegistration:
    return TaskExecutorRegistration(
        request.resource_id, request.host, request.rpc_address, request.data_port,
        tuple(SlotRegistration(s.index, s.rpc_address, s.data_address, s.process_id)
              for s in request.slots),
        dict(request.hardware))


class RemoteResourceManagerGateway:
    """What a TaskManager daemon uses to register and heartbeat."""

    def __init__(self, address: str, timeout_s: float = DEFAULT_RPC_TIMEOUT_S) -> None:
        self.address = address
        self.timeout_s = timeout_s
        self._stub = pb_grpc.ResourceManagerGatewayStub(channel_to(address))

    def register(self, registration: TaskExecutorRegistration) -> RegistrationResponse:
        answer = self._invoke("RegisterTaskExecutor", self._stub.RegisterTaskExecutor,
                              _registration_to_wire(registration))
        return RegistrationResponse(answer.accepted, answer.heartbeat_interval_ms,
                                    answer.was_registered, answer.message)

    def heartbeat(self, resource_id: str) -> bool:
        return self._invoke("Heartbeat", self._stub.Heartbeat,
                            pb.HeartbeatRequest(resource_id=resource_id)).known

    def report_slot_lost(self, resource_id: str, slot_index: int, reason: str) -> None:
        self._invoke("ReportSlotLost", self._stub.ReportSlotLost, pb.SlotLostRequest(
            resource_id=resource_id, slot_index=slot_index, reason=reason))

    def disconnect(self, resource_id: str, reason: str) -> None:
        self._invoke("DisconnectTaskExecutor", self._stub.DisconnectTaskExecutor,
                     pb.DisconnectRequest(resource_id=resource_id, reason=reason))

    def _invoke(self, name: str, method: Any, request: Any) -> Any:
        return invoke(self.address, name, method, request, self.timeout_s)
