"""RestClusterClient: talks to a JobManager over its REST API (Flink's ``RestClusterClient``).

Submission is ``POST /jobs`` with our own JSON body ``{"jobGraph": "<base64 of the
cloudpickled JobGraph>"}`` (the user's code travels inside it, in ``user_artifacts``);
everything else uses Flink's REST API v1 paths and shapes. Every request has a timeout, and
a JobManager that cannot be reached raises one :class:`ClusterUnreachableError` whose
message is a single line fit for the command line.

State-changing requests carry ``Authorization: Bearer <token>``
(:func:`flink_py.security.rest_auth.rest_token`); :func:`client_from_configuration` finds
the token and the REST TLS settings the way the JobManager does, so the CLI needs no extra
step. A 401 is one :class:`RestAuthenticationError` line saying where the credential comes
from.

Example::

    client = client_from_configuration(configuration, conf_dir)   # or RestClusterClient(...)
    job_id = client.submit_job(env.get_job_graph())
    result = client.request_job_result(job_id)   # polls until the job ends
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import pickle
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple


from flink_py.common import config_options as options
from flink_py.common import pickling
from flink_py.common.configuration import Configuration
from flink_py.common.job_status import JobStatus
from flink_py.errors import FlinkPyError
from flink_py.graph.job_graph import JobGraph
from flink_py.runtime.dispatcher.dispatcher import JobResult, UnknownJobError
from flink_py.runtime.jobmaster.job_master import JobFailure
from flink_py.runtime.execution.errors import SerializedError

log = logging.getLogger(__name__)

#: Flink's client.timeout default
DEFAULT_TIMEOUT_S = 60.0
#: polling ``execution-result``: first pause, growth and largest pause (exponential backoff)
_POLL_INITIAL_S = 0.01
_POLL_MAX_S = 0.2

_STATUS_OF_APPLICATION_STATUS = {"SUCCEEDED": JobStatus.FINISHED, "FAILED": JobStatus.FAILED,
                                 "CANCELED": JobStatus.CANCELED}


#: how many times a submission is sent when no answer comes (within client.timeout)
SUBMIT_ATTEMPTS = 3


class ClusterUnreachableError(FlinkPyError):
    """The JobManager's REST endpoint could not be reached (refused, unknown host, timeout).

    :param request_sent: whether the request may have reached the JobManager (no answer
        within the timeout, the connection lost): unlike a refused connection, its effect is
        unknown.
    """

    def __init__(self, message: str, request_sent: bool = False) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class SubmissionOutcomeUnknownError(ClusterUnreachableError):
    """A submission got no answer: the job may or may not have been submitted."""


class RestClientError(FlinkPyError):
    """The JobManager answered a request with an error (``status``, Flink's ``errors``)."""

    def __init__(self, message: str, status: int = 0,
                 errors: Optional[List[str]] = None) -> None:
        super().__init__(message)
        self.status = status
        self.errors = list(errors or [])


class RestAuthenticationError(ClusterUnreachableError, RestClientError):
    """The JobManager refused the request's credential (HTTP 401). A kind of
    ClusterUnreachableError: the CLI shows it as one line, as when the cluster cannot be
    reached, since the cause is the client's configuration, not the request."""

    def __init__(self, message: str, status: int = 401) -> None:
        # answered and refused: nothing was submitted, so a submission is not resent
        ClusterUnreachableError.__init__(self, message, request_sent=False)
        self.status = status
        self.errors = [message]


class JobNotFoundError(RestClientError, UnknownJobError):
    """The JobManager knows no job with this id (HTTP 404)."""


class SavepointFailedError(FlinkPyError):
    """The JobManager reported that a savepoint failed; the message is its cause."""


@dataclass(frozen=True)
class JobStatusMessage:
    """One job as ``flink list`` shows it (Flink's ``JobStatusMessage``)."""

    job_id: str
    job_name: str
    job_state: JobStatus
    start_time_ms: int


def parse_address(address: str) -> Tuple[str, int]:
    """``"host:port"`` (an ``http://`` prefix and a trailing ``/`` are allowed) as a pair."""
    text = address.strip()
    for prefix in ("http://", "https://"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    text = text.rstrip("/")
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise FlinkPyError(
            f"Could not parse the JobManager address {address!r}: expected host:port, "
            f"e.g. localhost:8081.")
    return host.strip("[]"), int(port)


class RestClusterClient:
    """The client side of a JobManager's REST API.

    :param address: ``host:port`` of the REST endpoint (``rest.address``:``rest.port``).
    :param timeout_s: the timeout of each request.
    :param token: the bearer token sent with every request (``None``: none).
    :param ssl_context: HTTPS with this context (``None``: HTTP).
    :param credential_help: what a refused credential's message says about where it comes
                            from.
    """

    def __init__(self, address: str, timeout_s: float = DEFAULT_TIMEOUT_S,
                 token: Optional[str] = None, ssl_context: Optional[ssl.SSLContext] = None,
                 credential_help: str = "") -> None:
        self.host, self.port = parse_address(address)
        self.address = f"{self.host}:{self.port}"
        self.timeout_s = timeout_s
        self._token = token
        self._scheme = "https" if ssl_context is not None else "http"
        self._credential_help = credential_help
        # No proxies: the JobManager is reached directly, as Flink's client does.
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ssl_context))

    # -- transport --------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: Optional[Dict[str, Any]] = None,
                 timeout_s: Optional[float] = None) -> Any:
        """Sends a request and returns its JSON answer; raises for errors and no answer."""
        timeout = self.timeout_s if timeout_s is None else timeout_s
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        request = urllib.request.Request(f"{self._scheme}://{self.address}{path}", data=data,
                                         method=method, headers=headers)
        try:
            with self._opener.open(request, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
            exc.close()
        except urllib.error.URLError as exc:
            raise self._unreachable(exc.reason, timeout) from None
        except (OSError, http.client.HTTPException) as exc:
            raise self._unreachable(exc, timeout) from None
        try:
            answer = json.loads(raw.decode("utf-8")) if raw else {}
        except ValueError:
            raise RestClientError(
                f"The JobManager at {self.address} answered {method} {path} with "
                f"HTTP {status} and a body that is not JSON (is this a flink_py REST "
                f"endpoint?).", status) from None
        if status == 401:
            what = ("the credential sent was not accepted" if self._token
                    else "no credential was found")
            raise RestAuthenticationError(
                f"The JobManager at {self.address} refused {method} {path}: {what} "
                f"(HTTP 401). {self._credential_help}".rstrip(), status)
        if status >= 400:
            errors = answer.get("errors", []) if isinstance(answer, dict) else []
            errors = [str(e) for e in errors] or [f"HTTP {status}"]
            message = "; ".join(errors)
            if status == 404 and path.startswith("/jobs/"):
                raise JobNotFoundError(message, status, errors)
            raise RestClientError(f"{method} {path} failed (HTTP {status}): {message}",
                                  status, errors)
        return answer

    def _unreachable(self, reason: Any, timeout: float) -> ClusterUnreachableError:
        if isinstance(reason, ConnectionRefusedError):
            why = "connection refused"
        elif isinstance(reason, (TimeoutError, socket.timeout)):
            why = f"no answer within {timeout:g} s"
        elif isinstance(reason, socket.gaierror):
            why = f"unknown host: {reason.strerror or reason}"
        elif isinstance(reason, ssl.SSLError):
            why = f"TLS: {reason.reason or reason}; check {options.SSL_REST_ENABLED.key} and " \
                  f"{options.SSL_REST_CA.key}"
        elif isinstance(reason, http.client.RemoteDisconnected):
            why = "the connection was closed without an answer"
        elif isinstance(reason, OSError) and reason.strerror:
            why = reason.strerror[0].lower() + reason.strerror[1:]
        else:
            why = str(reason) or type(reason).__name__
        if isinstance(reason, ssl.SSLError):  # it is running: the TLS settings disagree
            return ClusterUnreachableError(
                f"Could not connect to the JobManager at {self.address} ({why}).",
                request_sent=False)  # the handshake failed before the request went out
        # refused or no such host: nothing was sent; anything else may have arrived
        sent = not isinstance(reason, (ConnectionRefusedError, socket.gaierror))
        return ClusterUnreachableError(
            f"Could not connect to the JobManager at {self.address} ({why}). "
            f"Is the cluster running? Start it with bin/start-cluster.sh.", request_sent=sent)

    # -- cluster ----------------------------------------------------------------------------

    def overview(self) -> Dict[str, Any]:
        """``GET /overview``: TaskManagers, slots, job counts, version."""
        return self._request("GET", "/overview")

    def task_managers(self) -> List[Dict[str, Any]]:
        return self._request("GET", "/taskmanagers")["taskmanagers"]

    # -- jobs -------------------------------------------------------------------------------

    def submit_job(self, job_graph: JobGraph) -> str:
        """Submits a JobGraph (with its ``user_artifacts``); returns the job id.

        The JobGraph's id is chosen here, and the JobManager answers a repeated submission
        of the same bytes as it answered the first: so when no answer comes (a timeout, a
        lost connection) the same body is sent again, up to ``SUBMIT_ATTEMPTS`` times in all
        within the client timeout.

        :raises SubmissionOutcomeUnknownError: if no attempt was answered although one may
            have arrived: the job may or may not run.
        :raises ClusterUnreachableError: if the JobManager refused the connection (nothing
            was submitted).
        """
        encoded = base64.b64encode(pickling.dumps(job_graph)).decode("ascii")
        body = {"jobGraph": encoded}
        deadline = time.monotonic() + self.timeout_s
        maybe_sent = False
        for attempt in range(1, SUBMIT_ATTEMPTS + 1):
            remaining = deadline - time.monotonic()
            # each attempt gets its share of what is left of the client timeout
            share = remaining / (SUBMIT_ATTEMPTS - attempt + 1)
            try:
                answer = self._request("POST", "/jobs", body, timeout_s=max(share, 0.001))
                break
            except ClusterUnreachableError as exc:
                maybe_sent = maybe_sent or exc.request_sent
                if not maybe_sent:
                    raise
                if attempt == SUBMIT_ATTEMPTS or deadline - time.monotonic() <= 0:
                    raise SubmissionOutcomeUnknownError(
                        f"The JobManager at {self.address} did not answer within "
                        f"{self.timeout_s:g} s; job {job_graph.job_id} may or may not have "
                        f"been submitted: check with 'flink list'.", request_sent=True
                    ) from None
                log.info("Submission %d of job %s got no answer (%s); sending it again",
                         attempt, job_graph.job_id, exc)
        job_url = str(answer.get("jobUrl", ""))
        return job_url.rsplit("/", 1)[-1] if job_url else str(job_graph.job_id)

    def list_jobs(self) -> List[JobStatusMessage]:
        """Every job the JobManager knows, from ``GET /jobs/overview``."""
        jobs = self._request("GET", "/jobs/overview")["jobs"]
        return [JobStatusMessage(j["jid"], j["name"], JobStatus.from_name(j["state"]),
                                 int(j["start-time"])) for j in jobs]

    def job_status(self, job_id: str) -> JobStatus:
        return JobStatus.from_name(self._request("GET", f"/jobs/{job_id}/status")["status"])

    def collect_batch(self, job_id: str, collect_id: str, timeout_s: float
                      ) -> Tuple[Optional[list], bool]:
        """The next batch of a collect sink (``execute_and_collect``), waiting up to
        ``timeout_s`` on the JobManager: ``(batch, False)``, ``(None, True)`` at the end, or
        ``(None, False)`` when nothing came."""
        answer = self._request("GET", f"/jobs/{job_id}/collect/{collect_id}"
                                      f"?timeout={timeout_s:g}", timeout_s=timeout_s + 10)
        batch = answer.get("batch")
        return (None if batch is None else pickle.loads(base64.b64decode(batch)),
                bool(answer.get("ended")))

    def cancel_job(self, job_id: str) -> None:
        """Requests the cancellation (``PATCH /jobs/<id>?mode=cancel``); does not wait."""
        self._request("PATCH", f"/jobs/{job_id}?mode=cancel")

    def job_details(self, job_id: str) -> Dict[str, Any]:
        return self._request("GET", f"/jobs/{job_id}")

    # -- checkpoints and savepoints ---------------------------------------------------------

    def trigger_savepoint(self, job_id: str, target_directory: Optional[str] = None,
                          cancel_job: bool = False) -> str:
        """``POST /jobs/<id>/savepoints``; returns the trigger id to poll."""
        answer = self._request("POST", f"/jobs/{job_id}/savepoints",
                               {"target-directory": target_directory,
                                "cancel-job": cancel_job, "formatType": "CANONICAL"})
        return str(answer["request-id"])

    def stop_with_savepoint(self, job_id: str, target_directory: Optional[str] = None,
                            drain: bool = False) -> str:
        """``POST /jobs/<id>/stop`` (camelCase body, as Flink's); returns the trigger id."""
        answer = self._request("POST", f"/jobs/{job_id}/stop",
                               {"targetDirectory": target_directory, "drain": drain,
                                "formatType": "CANONICAL"})
        return str(answer["request-id"])

    def savepoint_status(self, job_id: str, trigger_id: str) -> Dict[str, Any]:
        """One answer of ``GET /jobs/<id>/savepoints/<trigger-id>``."""
        return self._request("GET", f"/jobs/{job_id}/savepoints/{trigger_id}")

    def wait_for_savepoint(self, job_id: str, trigger_id: str,
                           timeout_s: Optional[float] = None) -> str:
        """Polls until the savepoint is done; returns its location.

        :raises SavepointFailedError: with the cause the JobManager reported.
        :raises TimeoutError: if it is not done within ``timeout_s`` (None: the client
            timeout).
        """
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout_s
        pause = _POLL_INITIAL_S
        while True:
            answer = self.savepoint_status(job_id, trigger_id)
            if answer.get("status", {}).get("id") == "COMPLETED":
                operation = answer.get("operation") or {}
                if "location" in operation:
                    return str(operation["location"])
                cause = operation.get("failure-cause") or {}
                raise SavepointFailedError(str(cause.get("stack-trace") or cause.get("message")
                                               or cause.get("class") or "unknown cause"))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"the savepoint {trigger_id} of job {job_id} did not "
                                   f"complete within {timeout_s:g} s")
            time.sleep(min(pause, remaining))  # backoff between polls
            pause = min(pause * 2, _POLL_MAX_S)

    def dispose_savepoint(self, savepoint_path: str, timeout_s: Optional[float] = None) -> None:
        """``POST /savepoint-disposal``, then polls its status until it is done.

        :raises SavepointFailedError: with the cause the JobManager reported.
        """
        answer = self._request("POST", "/savepoint-disposal",
                               {"savepoint-path": savepoint_path})
        trigger_id = str(answer["request-id"])
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout_s
        pause = _POLL_INITIAL_S
        while True:
            status = self._request("GET", f"/savepoint-disposal/{trigger_id}")
            if status.get("status", {}).get("id") == "COMPLETED":
                cause = (status.get("operation") or {}).get("failure-cause")
                if cause:
                    raise SavepointFailedError(str(cause.get("stack-trace")
                                                   or cause.get("message") or cause))
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"the disposal of {savepoint_path} did not complete within "
                                   f"{timeout_s:g} s")
            time.sleep(min(pause, remaining))  # backoff between polls
            pause = min(pause * 2, _POLL_MAX_S)

    def checkpoint_statistics(self, job_id: str) -> Dict[str, Any]:
        """``GET /jobs/<id>/checkpoints``."""
        return self._request("GET", f"/jobs/{job_id}/checkpoints")

    def job_exceptions(self, job_id: str) -> Dict[str, Any]:
        return self._request("GET", f"/jobs/{job_id}/exceptions")

    def job_execution_result(self, job_id: str) -> Dict[str, Any]:
        """One answer of ``GET /jobs/<id>/execution-result`` (IN_PROGRESS or COMPLETED)."""
        return self._request("GET", f"/jobs/{job_id}/execution-result")

    def request_job_result(self, job_id: str, timeout_s: Optional[float] = None,
                           job_name: Optional[str] = None) -> JobResult:
        """Waits for the job to end (polling with backoff) and returns its result.

        :param timeout_s: how long to wait at most (None: until the job ends).
        :param job_name: the job's name, if known (saves a request).
        :raises TimeoutError: if the job has not ended within ``timeout_s``.
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        pause = _POLL_INITIAL_S
        while True:
            answer = self.job_execution_result(job_id)
            if answer.get("status", {}).get("id") == "COMPLETED":
                break
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"job {job_id} did not finish within {timeout_s} s")
                pause = min(pause, remaining)
            time.sleep(pause)  # backoff between polls
            pause = min(pause * 2, _POLL_MAX_S)
        result = answer["job-execution-result"]
        status = _STATUS_OF_APPLICATION_STATUS.get(result.get("application-status", ""))
        if status is None:
            status = self.job_status(job_id)
        if job_name is None:
            job_name = str(self.job_details(job_id).get("name", ""))
        failure = None
        cause = result.get("failure-cause")
        if cause:
            failure = self._failure(job_id, cause)
        return JobResult(job_id, job_name, status, int(result.get("net-runtime", 0)), failure)

    def _failure(self, job_id: str, cause: Dict[str, Any]) -> JobFailure:
        error: Optional[SerializedError] = None
        encoded = cause.get("serialized-throwable")
        if encoded:
            try:
                loaded = pickle.loads(base64.b64decode(encoded))
                if isinstance(loaded, SerializedError):
                    error = loaded
            except Exception as exc:  # another flink_py version: fall back to the text
                log.debug("could not load the failure cause of job %s: %r", job_id, exc)
        if error is None:
            trace = str(cause.get("stack-trace", ""))
            last_line = next((line for line in reversed(trace.splitlines()) if line.strip()),
                             "")
            error = SerializedError(last_line or str(cause.get("class", "Exception")), trace)
        task_name, timestamp, location = "(job)", 0, ""
        entries = self.job_exceptions(job_id).get("exceptionHistory", {}).get("entries", [])
        if entries:
            task_name = entries[0].get("taskName") or task_name
            timestamp = int(entries[0].get("timestamp") or 0)
            location = entries[0].get("taskManagerId") or ""
        return JobFailure(task_name, error, timestamp, location)


def client_from_configuration(configuration: Configuration, conf_dir: Optional[str],
                              address: Optional[str] = None,
                              timeout_s: float = DEFAULT_TIMEOUT_S) -> RestClusterClient:
    """A client of the JobManager ``configuration`` names, with the token and TLS settings
    it needs: ``rest.authentication.token``, else the token of the cluster secret found in
    the configuration or ``conf_dir`` (its ``.cluster-secret``); ``security.ssl.rest.*``.

    :param address: ``host:port``, else ``rest.address``:``rest.port``.
    :raises ConfigurationError: when a configured secret or CA file is unusable.
    """
    from flink_py.security.cluster_secret import find_cluster_secret
    from flink_py.security.rest_auth import credential_help, rest_client_ssl_context, rest_token
    address = address or (f"{configuration.get(options.REST_ADDRESS)}:"
                          f"{configuration.get(options.REST_PORT)}")
    secret = None if configuration.get(options.REST_AUTHENTICATION_TOKEN) else \
        find_cluster_secret(configuration, conf_dir)
    return RestClusterClient(address, timeout_s, token=rest_token(configuration, secret),
                             ssl_context=rest_client_ssl_context(configuration),
                             credential_help=credential_help(configuration, secret))
