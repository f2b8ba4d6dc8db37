"""The ASGI application of `nlpkit serve` (Starlette): routes, limits, errors and the page.

A prediction takes microseconds on the compiled core, less than handing it to a thread would,
so the endpoints answer on the event loop itself; a request's time is spent reading and writing
it. Every answer, errors included, is JSON (the page at ``/`` excepted); an error is
``{"error": "...", "field": "..."}`` with its HTTP status, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Sequence
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..fastjson import load_orjson
from ..modelfile import ModelError
from . import api
from .api import RequestError
from .limits import Limits

if TYPE_CHECKING:
    from ..predictor import Predictor

__all__ = ["create_app", "from_environment", "ENVIRONMENT"]

orjson = load_orjson()
log = logging.getLogger("nlpkit.serve")

# Where `nlpkit serve --workers N` puts the settings for the worker processes, which build the
# application themselves (`from_environment`).
ENVIRONMENT = "NLPKIT_SERVE_SETTINGS"

# The page talks to this service alone: the policy keeps it so (no external script, style, font
# or request), which is also what makes it work offline.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def encode(content: Any) -> bytes:
    """``content`` as compact JSON in UTF-8: orjson, a tenth of the standard library's time on
    a batch's answer (the same bytes for topics; floats in their shortest form either way).
    What orjson refuses (a string with a lone surrogate, from a field name in an error, say)
    goes to the standard library, which escapes it."""
    try:
        return orjson.dumps(content)
    except TypeError:
        return json.dumps(content, separators=(",", ":")).encode()


def _json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    headers = {**(headers or {}), "X-Content-Type-Options": "nosniff"}
    return Response(encode(content), status, headers, media_type="application/json")


def _route_path(scope: dict[str, Any]) -> str:
    """The request's path within this application: without the root path it is served under
    (a mount, or a proxy's ``--root-path``)."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


# (nosniff: a browser never reads an answer, whose text may echo the request's, as a page)
_JSON = ((b"content-type", b"application/json"), (b"x-content-type-options", b"nosniff"))


async def _send_json(send, status: int, content: Any, *headers: tuple[bytes, bytes]) -> None:
    """An answer in JSON, as ASGI messages: for the middleware and endpoints that answer
    without Starlette's Response (which costs more than the prediction)."""
    body = encode(content)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*_JSON, *headers, (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})


class InFlightLimit:
    """ASGI middleware: at most ``limit`` requests in flight (being read, answered or written);
    one more is answered 503 at once, with Retry-After, instead of waiting in an unbounded
    queue."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit, self.in_flight = app, limit, 0

    async def __call__(self, scope, receive, send) -> None:
        # (/health is not counted: a service full of slow requests is busy, not dead; under a
        # mount or a proxy's root path, the path holds that prefix before it)
        if scope["type"] != "http" or _route_path(scope) == "/health":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            error = f"overloaded: {self.limit} requests in flight; retry shortly"
            await _send_json(send, 503, {"error": error}, (b"retry-after", b"1"))
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


# Names of this machine that no other site can be given: a request by one of them is from it.
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


class HostCheck:
    """ASGI middleware: a request whose Host header names none of ``hosts`` (nor a loopback
    name) is refused (400). A service reachable on this machine's loopback address is
    otherwise open to any web page the user opens: a page whose domain is made to resolve to
    127.0.0.1 (DNS rebinding) sends its requests, and reads the answers, under its own name in
    the Host header. ``"*"`` among ``hosts``: any name for a request that came in on another
    address than a loopback one (a service listening on every address, 0.0.0.0).

    A browser's request from a page of another site names that site in its Origin header: it
    is refused too (403). Such a page cannot read the answers (no CORS header is sent), but
    it could make the service work for it, a thousand texts a request; a program sends no
    Origin, and the service's own page sends its own name."""

    def __init__(self, app: Any, hosts: list[str], most: int = Limits.max_body) -> None:
        self.app, self.hosts, self.most = app, {host.lower() for host in hosts}, most

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            status, error = self._refusal(scope)
            if error:
                await _drain(receive, scope, _DRAINED * self.most)
                await _send_json(send, status, {"error": error})
                return
        await self.app(scope, receive, send)

    def _refusal(self, scope: dict) -> tuple[int, str]:
        given = [v for k, v in scope["headers"] if k == b"host"]
        if len(given) > 1:
            # (a check of the first alone would let a second, which a proxy may read, through)
            return 400, f"{len(given)} Host headers: a request names one host"
        name = _host_name(given[0].decode("latin-1")) if given else None
        server = scope.get("server")
        # (no Host header, HTTP/1.0's way, is no browser's request)
        if name is not None and not self._allows(name, server):
            named = [*sorted(self.hosts - {"*"} - LOOPBACK_NAMES), "localhost", "addresses"]
            return 400, (
                f"Host {name!r} is not a name of this service ({', '.join(named)}); "
                "nlpkit serve --allowed-host adds one"
            )
        origins = [v.decode("latin-1") for k, v in scope["headers"] if k == b"origin"]
        host = given[0].decode("latin-1").strip().lower() if given else None
        for origin in origins:
            if not self._allows_origin(origin, host):
                return 403, (
                    f"Origin {origin!r} is another site: a page of another site may not use "
                    "this service (programs send no Origin header; nlpkit serve "
                    "--allowed-host names a site that may)"
                )
        return 0, ""

    def _allows_origin(self, origin: str, host: str | None) -> bool:
        """A page of this service itself (its origin the request's own host), of one of its
        names, or of this machine (a loopback name or address): not of any address, which
        a page of another site can be (where a Host may be any address: DNS rebinding needs
        a name)."""
        scheme, sep, rest = origin.strip().lower().partition("://")
        if not sep or scheme not in ("http", "https") or not rest or "/" in rest:
            return False  # ("null": a sandboxed page, a file)
        if rest == host:
            return True
        site = _host_name(rest)
        # (on every address, "*", any Host is answered; a page of another site still is not)
        return site in self.hosts or site in LOOPBACK_NAMES or _is_loopback(site)

    def _allows(self, name: str, server: tuple[str, int] | None) -> bool:
        # (an address is no name a page can be given: DNS rebinding needs a name)
        if name in self.hosts or name in LOOPBACK_NAMES or _address(name) is not None:
            return True
        return "*" in self.hosts and not _is_loopback(server[0] if server else "")


def _address(text: str) -> Any:
    import ipaddress

    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    # (an IPv4 connection on an IPv6 socket comes from ::ffff:127.0.0.1)
    return getattr(address, "ipv4_mapped", None) or address


def _is_loopback(address: str) -> bool:
    found = _address(address)
    return found.is_loopback if found is not None else address == "localhost"


def check_host_names(names: Any) -> list[str]:
    """``names`` as `HostCheck` takes them: host names as a Host header gives them, without a
    scheme, a path or a port (``"*"`` too); a `TypeError` or `ValueError` naming a bad one."""
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"allowed_hosts must be a list of host names, got {names!r}")
    out = []
    for given in names:
        name = given.strip().lower()
        if not name or any(c in name for c in "/ \t@?#,") or "://" in name:
            raise ValueError(
                f"not a host name: {given!r} (one name, such as nlp.example.com, without "
                "http://, a path or a comma: give the option once a name)"
            )
        out.append(_host_name(name))
    return out


def _host_name(header: str) -> str:
    """A Host header's name, without its port: ``[::1]:8000`` is ``::1``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class JSONRoutes:
    """ASGI middleware: the JSON endpoints answered at once, without Starlette's exception
    middleware and router (which build a Request and try the routes in turn, some 7 µs a
    request); anything else, and these paths under a mount, go on to Starlette. The endpoints
    answer their own errors; an exception they raise still reaches Starlette's error
    middleware, outside this one, which answers 500 as JSON."""

    def __init__(self, app: Any, routes: dict[str, Any]) -> None:
        self.app, self.routes = app, routes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            endpoint = self.routes.get(scope["path"])
            if endpoint is not None:
                await endpoint(scope, receive, send)
                return
        await self.app(scope, receive, send)


class Disconnected(Exception):
    """The client went away before its request was read whole."""


# A body left unread when the connection closes makes the system reset it: a client still
# sending (Python's urllib, say) gets no answer but the reset. A request refused before its
# body is read has it read and dropped first, up to this many times the limit of a body (far
# larger, it is refused at once), unless the client waits to be told before it sends the body
# (Expect: 100-continue), which then it never sends.
_DRAINED = 16


def _waits_to_send(scope) -> bool:
    return any(name == b"expect" for name, _ in scope["headers"])


async def _drain(receive, scope, most: int, seconds: float = 10) -> None:
    """Read and drop the body of a request refused before it was read (see `_DRAINED`): at
    most ``most`` bytes, for at most ``seconds``."""
    if _waits_to_send(scope):
        return
    for name, value in scope["headers"]:
        if name == b"content-length" and (not value.isdigit() or int(value) > most):
            return

    async def drop() -> None:
        size = 0
        while size <= most:
            message = await receive()
            size += len(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body", False):
                return

    try:
        await asyncio.wait_for(drop(), seconds)
    except (TimeoutError, OSError):
        pass


async def _body(scope, receive, limits: Limits, deadlines: _Deadlines) -> bytes:
    """The request's body, refused (413) when it is over the limit of bytes: by its
    Content-Length, or as soon as reading it goes over, in both cases once the rest is read
    and dropped (`_DRAINED`); and (408) when it has not come whole within the limit of
    seconds, so that a client that stalls does not hold a place among the requests in
    flight."""
    limit = limits.max_body
    refused = None
    for name, value in scope["headers"]:
        if name == b"content-length":
            if not value.isdigit():
                raise RequestError(400, f"bad Content-Length: {value.decode('latin-1')!r}")
            if int(value) > limit:
                refused = RequestError(
                    413, f"body of {int(value):,} bytes is over the limit of {limit:,} bytes"
                )
                if int(value) > _DRAINED * limit or _waits_to_send(scope):
                    raise refused
            break
    task = asyncio.current_task()
    deadlines.reading(task)
    try:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if refused is None and size > limit:
                refused = RequestError(413, f"body is over the limit of {limit:,} bytes")
            if refused is None:
                chunks.append(chunk)
            elif size > _DRAINED * limit:
                raise refused
            if not message.get("more_body", False):
                if refused is not None:
                    raise refused
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    except asyncio.CancelledError:
        if task not in deadlines.late:
            raise  # (cancelled by the server: shutting down)
        task.uncancel()  # (the task goes on: it answers 408)
        raise RequestError(
            408, f"the body did not come whole within {limits.body_timeout} seconds"
        ) from None
    finally:
        deadlines.done(task)


class _Deadlines:
    """The requests whose body is being read, each with its deadline; a sweep every half
    second, while any is being read, cancels the reading of those past theirs. (A timer for
    each request, or a wait_for around each read, costs a few microseconds of the fast path;
    this costs a dictionary entry.)"""

    def __init__(self, seconds: float):
        self.seconds, self.deadline, self.late = seconds, {}, set()
        self.sweeper: asyncio.Task | None = None

    def reading(self, task: asyncio.Task) -> None:
        loop = asyncio.get_running_loop()
        self.deadline[task] = loop.time() + self.seconds
        if self.sweeper is None or self.sweeper.done():
            self.sweeper = loop.create_task(self._sweep())

    def done(self, task: asyncio.Task) -> None:
        del self.deadline[task]
        if self.late:
            self.late.discard(task)

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        while self.deadline:
            await asyncio.sleep(0.5)
            now = loop.time()
            for task, deadline in list(self.deadline.items()):
                if deadline <= now and task not in self.late:
                    self.late.add(task)
                    task.cancel()


class JSONEndpoint:
    """A POST endpoint as a plain ASGI application, routed by Starlette: JSON body in, JSON out
    (``answer(predictor, data, limits)``, errors as `RequestError`).

    Starlette's Request and Response objects cost about 40 µs a request, nearly as much as all
    the server's work for a prediction request without them: these endpoints read and write
    the ASGI messages themselves. (Starlette still routes them, and answers everything else.)"""

    def __init__(
        self,
        answer: Any,
        predictor: Any,
        limits: Limits,
        deadlines: _Deadlines,
        in_thread: bool = False,
    ) -> None:
        self.answer, self.predictor, self.limits = answer, predictor, limits
        self.deadlines, self.in_thread = deadlines, in_thread

    async def __call__(self, scope, receive, send) -> None:
        headers: list[tuple[bytes, bytes]] = []
        try:
            if scope.get("query_string"):
                # (options go in the body: one given in the address would be silently ignored)
                await _drain(receive, scope, _DRAINED * self.limits.max_body)
                query = scope["query_string"].decode("latin-1")
                raise RequestError(
                    422, f"the address's query ?{query} is not read: give options in the JSON body"
                )
            # (every Content-Encoding header: a second one may be the one that applies)
            encoding = next(
                (
                    v
                    for k, v in scope["headers"]
                    if k == b"content-encoding" and v.strip().lower() not in (b"", b"identity")
                ),
                None,
            )
            if encoding is not None:
                # (a gzipped body read as it is: "not UTF-8", which says nothing of why)
                await _drain(receive, scope, _DRAINED * self.limits.max_body)
                raise RequestError(
                    415,
                    f"Content-Encoding {encoding.decode('latin-1')!r} is not read: send the "
                    "JSON body as it is",
                )
            data = api.parse_json(await _body(scope, receive, self.limits, self.deadlines))
            if self.in_thread:
                content = await run_in_threadpool(self.answer, self.predictor(), data, self.limits)
            else:
                content = self.answer(self.predictor(), data, self.limits)
            status = 200
        except RequestError as exc:
            status, content = exc.status, exc.to_dict()
            if status == 408:  # (the rest of the body may still come: not on this connection)
                headers.append((b"connection", b"close"))
        except Disconnected:
            return
        except asyncio.CancelledError:
            # The server is stopping, its grace time over (or a second Ctrl-C): the client is
            # told so in JSON, where the server would answer a plain-text 500 and log a
            # traceback; the task then ends as the server asked.
            asyncio.current_task().uncancel()
            status, content = 503, {"error": "the service is stopping; retry shortly"}
            headers.append((b"connection", b"close"))
        await _send_json(send, status, content, *headers)


def _page() -> bytes:
    return files(__package__).joinpath("page.html").read_bytes()


def _openapi(limits: Limits) -> dict[str, Any]:
    """The OpenAPI document (package data), with this service's version and limits filled in."""
    from .. import __version__

    doc = json.loads(files(__package__).joinpath("openapi.json").read_text(encoding="utf-8"))
    doc["info"]["version"] = __version__
    schemas = doc["components"]["schemas"]
    schemas["PredictRequest"]["properties"]["texts"]["maxItems"] = limits.max_batch
    schemas["ExplainRequest"]["properties"]["texts"]["maxItems"] = limits.max_batch
    schemas["ExplainRequest"]["properties"]["k"]["maximum"] = limits.max_k
    doc["info"]["description"] += (
        f" Limits of this service: bodies up to {limits.max_body} bytes, batches up to "
        f"{limits.max_batch} texts, {limits.max_in_flight} requests in flight."
    )
    return doc


def create_app(
    model: Predictor | str | Path | None = None,
    limits: Limits | None = None,
    *,
    allowed_hosts: Sequence[str] | None = None,
) -> Starlette:
    """The service for a `Predictor`, or for the model folder at ``model`` (the shipped model
    when None), loaded once when the application starts (per worker process).
    ``allowed_hosts``: the names a request's Host header may give (without the port) besides
    the loopback names; others are refused with 400. ``"*"`` among them: any name on a request
    that did not come in on a loopback address (`HostCheck`). None: any name."""
    from ..predictor import Predictor

    if model is not None and not isinstance(model, (Predictor, str, os.PathLike)):
        raise TypeError(
            f"model must be a Predictor, a model folder's path or None, got {type(model).__name__}"
        )
    if limits is not None and not isinstance(limits, Limits):
        raise TypeError(f"limits must be a nlpkit.serve.Limits, got {type(limits).__name__}")
    hosts = None if allowed_hosts is None else check_host_names(allowed_hosts)
    limits = limits or Limits()
    state: dict[str, Any] = {"predictor": model if isinstance(model, Predictor) else None}
    page = _page()
    openapi = _openapi(limits)

    def predictor() -> Predictor:
        # Loaded at start-up; but Starlette runs no lifespan of an application mounted in
        # another, which then loads its model at its first request.
        if state["predictor"] is None:
            import nlpkit

            loaded = nlpkit.load(model)
            # The first prediction builds the compiled scorer and the first explanation
            # imports numpy: done here, so that no client waits for them.
            loaded.predict("khởi động", 1, False)
            loaded.explain("khởi động", k=1)
            state["predictor"] = loaded
        return state["predictor"]

    def usable() -> Predictor:
        # A mounted application's model, read at its first request, that cannot be used:
        # what /health says, with the reason, and not the client's fault (answered here, not
        # raised: an error raised through Starlette is logged as a crash of the service).
        try:
            return predictor()
        except ModelError as exc:
            raise RequestError(503, f"the model cannot be used: {exc}") from None

    @asynccontextmanager
    async def lifespan(app: Starlette):
        loaded = predictor()
        log.info("nlpkit serve: model %r ready", loaded.manifest.get("name", "unsaved"))
        yield

    async def health(request: Request) -> Response:
        try:
            predictor()
        except ModelError as exc:  # (a mounted application's model, read at first use)
            return _json({"status": "error", "error": str(exc)}, 503)
        return _json({"status": "ok"})

    async def model_info(request: Request) -> Response:
        try:
            return _json(api.model_info(usable(), limits))
        except RequestError as exc:
            return _json(exc.to_dict(), exc.status)

    async def openapi_json(request: Request) -> Response:
        # Mounted under a path (``/nlp``), the endpoints are there: a client generated from
        # the document calls the server's URL plus each path.
        root = request.scope.get("root_path", "")
        return _json({**openapi, "servers": [{"url": root}]} if root else openapi)

    async def index(request: Request) -> Response:
        return Response(page, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        path = request.url.path
        text = {
            404: f"no such path: {path}",
            405: f"{request.method} is not allowed on {path}",
        }.get(exc.status_code, exc.detail)
        return _json({"error": text}, exc.status_code, exc.headers)

    async def server_error(request: Request, exc: Exception) -> Response:
        # Logged whole where the operator reads; the client gets one line.
        log.exception("nlpkit serve: error answering %s %s", request.method, request.url.path)
        return _json({"error": f"internal error: {type(exc).__name__}"}, 500)

    deadlines = _Deadlines(limits.body_timeout)
    endpoints = {
        "/predict": JSONEndpoint(api.predict, usable, limits, deadlines),
        # (an explanation of a full batch takes a second or more: off the event loop, so that
        # other requests, /health among them, are answered meanwhile)
        "/explain": JSONEndpoint(api.explain, usable, limits, deadlines, in_thread=True),
    }
    app = Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            *(Route(path, endpoint, methods=["POST"]) for path, endpoint in endpoints.items()),
            Route("/health", health, methods=["GET"]),
            Route("/model", model_info, methods=["GET"]),
            Route("/openapi.json", openapi_json, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    # (/predict/ is no path of the service: a 404 in JSON, not a redirect with an empty body
    # that a POST's client would follow, or not, by its own rules)
    app.router.redirect_slashes = False
    # The last added is the outermost: requests in flight are counted before anything else.
    app.add_middleware(JSONRoutes, routes=endpoints)
    app.add_middleware(InFlightLimit, limit=limits.max_in_flight)
    if hosts is not None:
        app.add_middleware(HostCheck, hosts=hosts, most=limits.max_body)
    return app


def from_environment() -> Starlette:
    """The application of a worker process of `nlpkit serve --workers N` (a factory uvicorn
    calls in each worker), from the settings the command put in the environment."""
    settings = json.loads(os.environ[ENVIRONMENT])
    return create_app(
        settings["model"], Limits(**settings["limits"]), allowed_hosts=settings["allowed_hosts"]
    )
