"""RestServer: the JobManager's REST endpoint (Flink's ``RestServerEndpoint``).

Stdlib HTTP (``ThreadingHTTPServer``): one thread per connection, JSON in and out, every
path also under ``/v1``. A handler that raises never takes the server down: the error is
logged and answered with 500 and Flink's error body ``{"errors": [...]}``.

Example::

    server = RestServer(cluster.dispatcher, cluster.resource_manager, Configuration(),
                        "localhost", 0)
    server.start()
    # curl http://localhost:<server.port>/overview
    server.stop()
"""

from __future__ import annotations

import json
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, unquote, urlsplit

from flink_py.common.configuration import Configuration
from flink_py.errors import FlinkPyError
from flink_py.runtime.dispatcher.dispatcher import Dispatcher
from flink_py.runtime.resourcemanager.resource_manager import ResourceManager
from flink_py.runtime.rest.handlers import (
    MAX_CONTENT_LENGTH, Handler, RestHandlerError, RestHandlers)

log = logging.getLogger(__name__)

_VERSION_PREFIX = "/v1"


class _Router:
    """Matches ``(method, path)`` against the routes; ``{name}`` segments are parameters."""

    def __init__(self, routes: List[Tuple[str, str, Handler]]) -> None:
        self._routes = [
            (method, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$"),
             handler)
            for method, pattern, handler in routes]

    def match(self, method: str, path: str, shown_path: str) -> Tuple[Handler, Dict[str, str]]:
        path_exists = False
        for route_method, pattern, handler in self._routes:
            found = pattern.match(path)
            if found is None:
                continue
            if route_method == method:
                return handler, {k: unquote(v) for k, v in found.groupdict().items()}
            path_exists = True
        if path_exists:
            raise RestHandlerError(405, f"Method {method} is not allowed for {shown_path}")
        raise RestHandlerError(404, f"Not found: {shown_path}")


def _normalize(path: str) -> str:
    if path == _VERSION_PREFIX or path.startswith(_VERSION_PREFIX + "/"):
        path = path[len(_VERSION_PREFIX):]
    if len(path) > 1:
        path = path.rstrip("/")
    return path or "/"


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True  # an idle keep-alive connection must not hold up stop()
    allow_reuse_address = True

    def __init__(self, address: Tuple[str, int], router: _Router,
                 allow_origin: str) -> None:
        self.router = router
        self.allow_origin = allow_origin
        super().__init__(address, _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _HttpServer
    server_version = "flink_py-rest"
    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle kept-alive connection is closed after this many seconds

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        status: int
        payload: Any
        try:
            status, payload = self._respond(method)
        except RestHandlerError as exc:
            status, payload = exc.status, {"errors": exc.messages}
        except Exception as exc:  # a handler's bug answers 500; the server keeps serving
            log.exception("Unhandled error in the REST handler of %s %s", method, self.path)
            status, payload = 500, {"errors": ["Internal server error.",
                                               f"{type(exc).__name__}: {exc}"]}
        self._send_json(status, payload)

    def _respond(self, method: str) -> Tuple[int, Any]:
        url = urlsplit(self.path)
        body = self._read_body()
        handler, params = self.server.router.match(method, _normalize(url.path), url.path)
        return handler(params, parse_qs(url.query), body)

    def _read_body(self) -> bytes:
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        try:
            length = int(raw)
        except ValueError:
            self.close_connection = True
            raise RestHandlerError(400, f"Bad Content-Length header: {raw!r}") from None
        if length > MAX_CONTENT_LENGTH:
            self.close_connection = True  # the unread body must not be taken as a request
            raise RestHandlerError(
                413, f"Request of {length} bytes exceeds the maximum content length of "
                     f"{MAX_CONTENT_LENGTH} bytes (rest.server.max-content-length).")
        return self.rfile.read(length) if length > 0 else b""

    def _send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Access-Control-Allow-Origin", self.server.allow_origin)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
        except OSError as exc:  # the client went away
            log.debug("Could not answer %s: %s", self.path, exc)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


class RestServer:
    """Serves Flink's REST API v1 for one Dispatcher and ResourceManager.

    :param host: the address to bind to (``rest.bind-address``).
    :param port: the port to bind to; 0 picks a free one, see :attr:`port` after start().
    """

    def __init__(self, dispatcher: Dispatcher, resource_manager: ResourceManager,
                 configuration: Configuration, host: str, port: int) -> None:
        self.handlers = RestHandlers(dispatcher, resource_manager, configuration)
        self.configuration = configuration
        self.host = host
        self._requested_port = port
        self._bound_port = port
        self._httpd: Optional[_HttpServer] = None
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        if self._httpd is not None:
            raise FlinkPyError("the REST server was already started")
        allow_origin = self.configuration.get_string("web.access-control-allow-origin", "*")
        try:
            self._httpd = _HttpServer((self.host, self._requested_port),
                                      _Router(self.handlers.routes()), allow_origin or "*")
        except OSError as exc:
            raise FlinkPyError(f"Could not start the REST server on {self.host}:"
                               f"{self._requested_port}: {exc}") from exc
        self._bound_port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
            name=f"REST server {self.host}:{self.port}")
        self._thread.start()
        log.info("REST endpoint listening at %s:%d", self.host, self.port)

    @property
    def port(self) -> int:
        """The bound port (the requested one before start())."""
        return self._bound_port

    def stop(self) -> None:
        """Stops accepting requests and closes the socket (idempotent)."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
