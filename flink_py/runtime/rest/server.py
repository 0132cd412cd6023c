"""RestServer: the JobManager's REST endpoint (Flink's ``RestServerEndpoint``).

aiohttp on its own event loop in one thread: a slow or idle client costs a socket, not a
thread; TLS (``security.ssl.rest.*``) and a real listen backlog come with it. The handlers
stay synchronous (``(params, query, body) -> (status, payload)``; some block, e.g.
``job_collect`` up to 5 s) and run in a bounded thread pool. Every path is also under
``/v1``; errors are Flink's ``{"errors": [...]}``; a handler that raises answers 500 and the
server keeps serving.

Before any byte of a body is read, in this order (each refusal is logged, rate-limited):

1. ``Host`` must name this server (403; against DNS rebinding), and an ``Origin`` must be
   the server's own or one of ``rest.cors.allowed-origins`` (403); ``OPTIONS`` preflights are
   answered for those origins only;
2. the route must exist (404) for this method (405);
3. state-changing requests (every method but GET) and ``GET`` of a job's collected records
   need ``Authorization: Bearer <token>`` (401 with ``WWW-Authenticate: Bearer``);
4. a body must be ``application/json`` (415; every POST must be, whatever its length: a
   browser sends a cross-site "simple" POST without asking), at most
   ``rest.server.max-content-length`` bytes (413) and fit in
   ``rest.server.max-upload-bytes-in-flight`` with the bodies being handled (503).

Example::

    server = RestServer(cluster.dispatcher, cluster.resource_manager, Configuration(),
                        "localhost", 0, token="s3cret")
    server.start()
    # curl -H 'Authorization: Bearer s3cret' http://localhost:<server.port>/overview
    server.stop()
"""

from __future__ import annotations

import asyncio
import errno
import concurrent.futures
import json
import logging
import re
import socket
import threading
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, unquote

from aiohttp import web

from flink_py.common import config_options as options
from flink_py.common import listen_addresses
from flink_py.common.configuration import Configuration
from flink_py.errors import ConfigurationError, FlinkPyError
from flink_py.runtime.dispatcher.dispatcher import Dispatcher
from flink_py.runtime.resourcemanager.resource_manager import ResourceManager
from flink_py.runtime.rest.handlers import Handler, RestHandlerError, RestHandlers
from flink_py.runtime.rest.request_policy import RefusalLog, RequestPolicy
from flink_py.security.context import is_loopback
from flink_py.security.rest_auth import bearer_token_matches

log = logging.getLogger(__name__)

_VERSION_PREFIX = "/v1"
#: GET routes that hand out a job's data, not only its status: they need the token too
_GET_ROUTES_NEEDING_AUTH = frozenset({"/jobs/{jobid}/collect/{collectid}"})
#: the handlers' threads; a blocked one (job_collect waits up to 5 s) holds only its own
_HANDLER_THREADS = 16
#: pending connections the kernel queues while the loop is busy (the old server had 5)
_LISTEN_BACKLOG = 1024
#: a body must arrive within this time, or its share of the upload budget is released
_BODY_READ_TIMEOUT_S = 120.0
#: how long stop() lets running requests finish
_SHUTDOWN_TIMEOUT_S = 2.0
_PREFLIGHT_MAX_AGE_S = 600
#: how long the body of a refused request is read and dropped before the connection closes
_LINGER_S = 2.0


class _Route:
    __slots__ = ("method", "pattern", "regex", "handler", "needs_auth")

    def __init__(self, method: str, pattern: str, handler: Handler) -> None:
        self.method = method
        self.pattern = pattern
        self.regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")
        self.handler = handler
        self.needs_auth = method != "GET" or pattern in _GET_ROUTES_NEEDING_AUTH


class _Router:
    """Matches ``(method, path)`` against the routes; ``{name}`` segments are parameters."""

    def __init__(self, routes: List[Tuple[str, str, Handler]]) -> None:
        self._routes = [_Route(method, pattern, handler) for method, pattern, handler in routes]

    def match(self, method: str, path: str, shown_path: str) -> Tuple[_Route, Dict[str, str]]:
        path_exists = False
        for route in self._routes:
            found = route.regex.match(path)
            if found is None:
                continue
            if route.method == method:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
            path_exists = True
        if path_exists:
            raise RestHandlerError(405, f"Method {method} is not allowed for {shown_path}")
        raise RestHandlerError(404, f"Not found: {shown_path}")

    def methods(self) -> List[str]:
        return sorted({route.method for route in self._routes})


def _normalize(path: str) -> str:
    if path == _VERSION_PREFIX or path.startswith(_VERSION_PREFIX + "/"):
        path = path[len(_VERSION_PREFIX):]
    if len(path) > 1:
        path = path.rstrip("/")
    return path or "/"


class _Refused(Exception):
    """A request refused before its handler: answered with ``status`` and logged."""

    def __init__(self, status: int, message: str, headers: Optional[Dict[str, str]] = None
                 ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _json_response(status: int, payload: Any, headers: Optional[Dict[str, str]] = None
                   ) -> web.Response:
    data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return web.Response(status=status, body=data, headers=headers,
                        content_type="application/json", charset="UTF-8")


def _bind(host: str, port: int) -> List[socket.socket]:
    """Listening sockets on every address ``host`` resolves to, all on one port (the first
    one's, when ``port`` is 0), as ``flink_py.common.listen_addresses`` says.

    :raises OSError: when one of them cannot be bound (none is left open).
    """
    addresses = listen_addresses.resolve(host, port, "the REST endpoint")
    sockets: List[socket.socket] = []
    skipped: List[str] = []
    try:
        for family, address in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # not REUSEPORT
            if family == socket.AF_INET6 and len(addresses) > 1:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind((address, port))
            except OSError as exc:
                sock.close()
                if exc.errno in listen_addresses.SKIPPABLE_ERRNOS:
                    skipped.append(listen_addresses.target(address, port))
                    continue
                raise OSError(exc.errno, f"{exc.strerror} ({address}:{port})") from None
            sockets.append(sock)
            port = sock.getsockname()[1]
            sock.listen(_LISTEN_BACKLOG)
            sock.setblocking(False)
        if not sockets:
            raise OSError(errno.EADDRNOTAVAIL, f"no address of this machine "
                                               f"({', '.join(skipped)})")
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    for where in skipped:
        log.warning("The REST endpoint does not listen on %s: the host resolves to it, but "
                    "this machine has no such address", where)
    return sockets


class RestServer:
    """Serves Flink's REST API v1 for one Dispatcher and ResourceManager.

    :param host: the address to bind to (``rest.bind-address``); every address it resolves
                 to is bound.
    :param port: the port to bind to; 0 picks a free one, see :attr:`port` after start().
    :param token: the bearer token of state-changing requests (see
                  :func:`flink_py.security.rest_auth.rest_token`); ``None``: the configured
                  ``rest.authentication.token``.
    """

    def __init__(self, dispatcher: Dispatcher, resource_manager: ResourceManager,
                 configuration: Configuration, host: str, port: int,
                 token: Optional[str] = None) -> None:
        self.handlers = RestHandlers(dispatcher, resource_manager, configuration)
        self.configuration = configuration
        self.host = host
        self._token = token or configuration.get(options.REST_AUTHENTICATION_TOKEN) or None
        self._requested_port = port
        self._bound_port = port
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._runner: Optional[web.BaseRunner] = None
        self._pool: Optional[concurrent.futures.ThreadPoolExecutor] = None
        self._started = False
        self._checked = False
        self._flush_scheduled = False
        self._stop_lock = threading.Lock()
        self.refusals = RefusalLog(log)

    # -- lifecycle --------------------------------------------------------------------------

    def check_configuration(self) -> None:
        """Resolves and checks what start() needs but the socket (authentication, TLS files,
        CORS origins, limits), so that a daemon can refuse a bad setting before it opens
        any port.

        :raises ConfigurationError: naming the keys to set.
        """
        auth_key = options.REST_AUTHENTICATION_ENABLED.key
        self._auth_enabled = bool(self.configuration.get(options.REST_AUTHENTICATION_ENABLED))
        if not self._auth_enabled:
            if not is_loopback(self.host):
                raise ConfigurationError(
                    f"{auth_key} is false and {options.REST_BIND_ADDRESS.key} is "
                    f"{self.host!r}, which other machines can reach: anyone could submit "
                    f"code. Bind to localhost, or set {auth_key}: true (the default).")
            log.warning("%s is false: anyone who reaches the REST port can submit, cancel "
                        "and savepoint jobs.", auth_key)
        elif not self._token:
            raise ConfigurationError(
                f"{auth_key} is true, but there is no REST token: set "
                f"{options.REST_AUTHENTICATION_TOKEN.key}, or configure a cluster secret "
                f"({options.SECURITY_CLUSTER_SECRET_FILE.key}).")
        from flink_py.security.tls import TlsFiles
        tls = TlsFiles.rest(self.configuration)
        self._ssl_context = tls.server_context() if tls is not None else None
        self._scheme = "https" if self._ssl_context is not None else "http"
        self._policy = RequestPolicy.from_configuration(self.configuration, self.host,
                                                        self._scheme)
        self._max_content_length = int(
            self.configuration.get(options.REST_SERVER_MAX_CONTENT_LENGTH))
        self._max_in_flight = int(
            self.configuration.get(options.REST_SERVER_MAX_UPLOAD_BYTES_IN_FLIGHT))
        self._router = _Router(self.handlers.routes())
        self._checked = True

    def start(self) -> None:
        if self._started:
            raise FlinkPyError("the REST server was already started")
        if not self._checked:
            self.check_configuration()
        ssl_context = self._ssl_context
        self._in_flight = 0  # only touched on the loop's thread
        try:
            sockets = _bind(self.host, self._requested_port)
        except OSError as exc:
            raise FlinkPyError(f"Could not start the REST server on {self.host}:"
                               f"{self._requested_port}: {exc.strerror or exc}") from exc
        self._started = True
        self._bound_port = int(sockets[0].getsockname()[1])
        self._pool = concurrent.futures.ThreadPoolExecutor(
            _HANDLER_THREADS, thread_name_prefix=f"REST handler {self._bound_port}")
        loop = asyncio.new_event_loop()
        self._loop = loop
        ready: concurrent.futures.Future = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._serve, args=(loop, sockets, ssl_context,
                                                                  ready),
                                        daemon=True, name=f"REST server {self.host}:{self.port}")
        self._thread.start()
        try:
            ready.result(timeout=30.0)
        except BaseException:
            self.stop()
            raise
        bound = ", ".join(f"{s.getsockname()[0]}" for s in sockets)
        log.info("REST endpoint listening at %s://%s:%d (bound to %s)", self._scheme,
                 self.host, self.port, bound)

    def _serve(self, loop: asyncio.AbstractEventLoop, sockets: List[socket.socket],
               ssl_context: Any, ready: concurrent.futures.Future) -> None:
        asyncio.set_event_loop(loop)
        try:
            self._runner = loop.run_until_complete(self._start_sites(sockets, ssl_context))
        except BaseException as exc:  # handed to start(), which raises it
            for sock in sockets:
                sock.close()
            loop.close()
            ready.set_exception(exc)
            return
        ready.set_result(None)
        try:
            loop.run_forever()
        finally:
            # connections still draining or idle end here, not as "destroyed" pending tasks
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _start_sites(self, sockets: List[socket.socket], ssl_context: Any
                           ) -> web.BaseRunner:
        # A refused request's body is never stored: it is drained for at most
        # _LINGER_S (so that a client still sending it reads the answer instead of a reset),
        # and not at all when it is over the size limit; then the connection closes.
        server = web.Server(self._dispatch, lingering_time=_LINGER_S, access_log=None,
                            keepalive_timeout=60)
        runner = web.ServerRunner(server, handle_signals=False,
                                  shutdown_timeout=_SHUTDOWN_TIMEOUT_S)
        await runner.setup()
        try:
            for sock in sockets:
                await web.SockSite(runner, sock, ssl_context=ssl_context,
                                   backlog=_LISTEN_BACKLOG).start()
        except BaseException:
            await runner.cleanup()
            raise
        return runner

    @property
    def port(self) -> int:
        """The bound port (the requested one before start())."""
        return self._bound_port

    def stop(self) -> None:
        """Stops accepting requests, lets running ones finish for a moment, closes every
        connection and socket (idempotent)."""
        with self._stop_lock:
            loop, self._loop = self._loop, None
            thread, self._thread = self._thread, None
            pool, self._pool = self._pool, None
        if loop is None:
            return
        runner = self._runner
        if runner is not None and thread is not None and thread.is_alive():
            cleanup = asyncio.run_coroutine_threadsafe(runner.cleanup(), loop)
            try:
                cleanup.result(timeout=_SHUTDOWN_TIMEOUT_S + 5.0)
            except (concurrent.futures.TimeoutError, OSError) as exc:
                log.warning("The REST server did not stop cleanly: %r", exc)
            loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self.refusals.flush()

    # -- requests ---------------------------------------------------------------------------

    async def _dispatch(self, request: web.BaseRequest) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        cors: Dict[str, str] = {}
        try:
            self._check_host_and_origin(request, origin)
            allow_origin = self._policy.allow_origin_header(origin)
            if allow_origin is not None:
                cors = {"Access-Control-Allow-Origin": allow_origin, "Vary": "Origin"}
            if request.method == "OPTIONS":
                return self._preflight(request, origin, cors)
            return await self._handle(request, cors)
        except _Refused as refused:
            self.refusals.refused(self._peer(request), request.method, request.path,
                                  refused.status, refused.message)
            if self.refusals.suppressed and not self._flush_scheduled:
                # a flood's count is logged within a second even if nothing follows it
                self._flush_scheduled = True
                asyncio.get_running_loop().call_later(1.0, self._flush_refusals)
            response = _json_response(refused.status, {"errors": [refused.message]},
                                      {**cors, **refused.headers})
            if request.can_read_body:
                response.force_close()  # the unread body must not be taken as a request
                if refused.status in (411, 413):
                    # too large (or of unknown size) to even drain: answer, then close at
                    # once (the transport sends what was written before it closes)
                    await response.prepare(request)
                    await response.write_eof()
                    request.protocol.force_close()
            return response

    def _flush_refusals(self) -> None:
        self._flush_scheduled = False
        self.refusals.flush()

    @staticmethod
    def _peer(request: web.BaseRequest) -> str:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        return f"{peer[0]}:{peer[1]}" if peer else "unknown peer"

    def _check_host_and_origin(self, request: web.BaseRequest, origin: Optional[str]) -> None:
        host = request.headers.get("Host")
        if not self._policy.host_allowed(host):
            raise _Refused(403, f"Host {host!r} is not a name of this server (DNS "
                                f"rebinding?); use its address, or list the origin in "
                                f"{options.REST_CORS_ALLOWED_ORIGINS.key}.")
        if not self._policy.origin_allowed(origin, host):
            raise _Refused(403, f"Cross-origin requests from {origin!r} are not allowed; "
                                f"allowed origins are listed in "
                                f"{options.REST_CORS_ALLOWED_ORIGINS.key}.")

    def _preflight(self, request: web.BaseRequest, origin: Optional[str],
                   cors: Dict[str, str]) -> web.StreamResponse:
        if origin is None or not self._policy.origin_listed(origin):
            raise _Refused(403, f"CORS preflight requests are answered only for the origins "
                                f"in {options.REST_CORS_ALLOWED_ORIGINS.key}.")
        return web.Response(status=204, headers={
            **cors, "Access-Control-Allow-Methods": ", ".join(self._router.methods()),
            "Access-Control-Allow-Headers": "Authorization, Content-Type",
            "Access-Control-Max-Age": str(_PREFLIGHT_MAX_AGE_S)})

    async def _handle(self, request: web.BaseRequest, cors: Dict[str, str]
                      ) -> web.StreamResponse:
        method = request.method
        path = request.path
        try:
            route, params = self._router.match(method, _normalize(path), path)
        except RestHandlerError as exc:
            return _json_response(exc.status, {"errors": exc.messages}, cors)
        if route.needs_auth and self._auth_enabled and not bearer_token_matches(
                self._token or "", request.headers.get("Authorization")):
            raise _Refused(401, f"{method} {path} needs a credential: 'Authorization: Bearer "
                                f"<token>' ({options.REST_AUTHENTICATION_TOKEN.key}, or the "
                                f"token the flink CLI derives from the cluster secret).",
                           {"WWW-Authenticate": 'Bearer realm="flink_py"'})
        length = self._admit_body(request)
        try:
            body = await self._read_body(request, length) if length else b""
            query = parse_qs(request.query_string)
            assert self._loop is not None and self._pool is not None
            status, data = await asyncio.get_running_loop().run_in_executor(
                self._pool, self._call, route.handler, params, query, body, method, path)
        finally:
            self._in_flight -= length
        return web.Response(status=status, body=data, headers=cors,
                            content_type="application/json", charset="UTF-8")

    def _admit_body(self, request: web.BaseRequest) -> int:
        """Checks a body's type and size and reserves its bytes in the upload budget;
        returns its length (0: none)."""
        has_body = request.can_read_body
        content_type = request.headers.get("Content-Type")
        # an empty PATCH (cancel) may come without a type; a POST never: browsers send
        # cross-site POSTs of "simple" types without a preflight
        needs_json = has_body or request.method == "POST" or (
            request.method != "GET" and content_type is not None)
        if needs_json and request.content_type != "application/json":
            raise _Refused(415, f"{request.method} {request.path} takes a JSON body "
                                f"(Content-Type: application/json), not "
                                f"{content_type or 'no Content-Type'}.")
        if not has_body:
            return 0
        length = request.content_length
        if length is None:
            raise _Refused(411, "A request body needs a Content-Length header.")
        if length > self._max_content_length:
            raise _Refused(413, f"Request of {length} bytes exceeds the maximum content "
                                f"length of {self._max_content_length} bytes "
                                f"({options.REST_SERVER_MAX_CONTENT_LENGTH.key}).")
        if self._in_flight + length > self._max_in_flight:
            raise _Refused(503, f"The server is reading {self._in_flight} bytes of other "
                                f"requests; {length} more would pass "
                                f"{options.REST_SERVER_MAX_UPLOAD_BYTES_IN_FLIGHT.key} "
                                f"({self._max_in_flight}). Retry later.",
                           {"Retry-After": "1"})
        self._in_flight += length
        return length

    async def _read_body(self, request: web.BaseRequest, length: int) -> bytes:
        if request.headers.get("Expect", "").lower() == "100-continue":
            # only now, with the request admitted, is the client asked for its body
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        buffer = bytearray(length)  # one allocation of the announced size, no regrowing
        view = memoryview(buffer)
        position = 0
        try:
            async with asyncio.timeout(_BODY_READ_TIMEOUT_S):
                while position < length:
                    chunk = await request.content.readany()
                    if not chunk:
                        break
                    view[position:position + len(chunk)] = chunk
                    position += len(chunk)
        except TimeoutError:
            raise _Refused(408, f"The body did not arrive within {_BODY_READ_TIMEOUT_S:g} s "
                                f"({position} of {length} bytes).") from None
        finally:
            view.release()
        if position < length:
            raise _Refused(400, f"The body ended after {position} of {length} bytes.")
        data = bytes(buffer)
        del buffer
        return data

    def _call(self, handler: Handler, params: Dict[str, str], query: Dict[str, List[str]],
              body: bytes, method: str, path: str) -> Tuple[int, bytes]:
        """Runs a handler in the pool; returns the status and the JSON answer."""
        payload: Any
        try:
            status, payload = handler(params, query, body)
        except RestHandlerError as exc:
            status, payload = exc.status, {"errors": exc.messages}
        except Exception as exc:  # a handler's bug answers 500; the server keeps serving
            log.exception("Unhandled error in the REST handler of %s %s", method, path)
            status, payload = 500, {"errors": ["Internal server error.",
                                               f"{type(exc).__name__}: {exc}"]}
        return status, json.dumps(payload, separators=(",", ":")).encode("utf-8")
