"""The ASGI application of `nlpkit serve` (Starlette): routes, limits, errors and the page.

A prediction takes microseconds on the compiled core, less than handing it to a thread would,
so the endpoints answer on the event loop itself; a request's time is spent reading and writing
it. Every answer, errors included, is JSON (the page at ``/`` excepted); an error is
``{"error": "...", "field": "..."}`` with its HTTP status, never a traceback.
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import api
from .api import RequestError
from .limits import Limits

if TYPE_CHECKING:
    from ..predictor import Predictor

__all__ = ["create_app", "from_environment", "ENVIRONMENT"]

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
    return Response(encode(content), status, headers, media_type="application/json")


class InFlightLimit:
    """ASGI middleware: at most ``limit`` requests in flight (being read, answered or written);
    one more is answered 503 at once, with Retry-After, instead of waiting in an unbounded
    queue."""

    def __init__(self, app, limit: int):
        self.app, self.limit, self.in_flight = app, limit, 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            body = encode({"error": f"overloaded: {self.limit} requests in flight; retry shortly"})
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"retry-after", b"1"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class JSONRoutes:
    """ASGI middleware: the JSON endpoints answered at once, without Starlette's exception
    middleware and router (which build a Request and try the routes in turn, some 7 µs a
    request); anything else, and these paths under a mount, go on to Starlette. The endpoints
    answer their own errors; an exception they raise still reaches Starlette's error
    middleware, outside this one, which answers 500 as JSON."""

    def __init__(self, app, routes: dict[str, Any]):
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


async def _body(scope, receive, limit: int) -> bytes:
    """The request's body, refused (413) as soon as it is known to be over ``limit`` bytes:
    from its Content-Length before reading a byte of it, else while reading it."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            if not value.isdigit():
                raise RequestError(400, f"bad Content-Length: {value.decode('latin-1')!r}")
            if int(value) > limit:
                raise RequestError(
                    413, f"body of {int(value):,} bytes is over the limit of {limit:,} bytes"
                )
            break
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestError(413, f"body is over the limit of {limit:,} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


_JSON = (b"content-type", b"application/json")


class JSONEndpoint:
    """A POST endpoint as a plain ASGI application, routed by Starlette: JSON body in, JSON out
    (``answer(predictor, data, limits)``, errors as `RequestError`).

    Starlette's Request and Response objects cost about 40 µs a request, nearly as much as all
    the server's work for a prediction request without them: these endpoints read and write
    the ASGI messages themselves. (Starlette still routes them, and answers everything else.)"""

    def __init__(self, answer, state: dict[str, Any], limits: Limits):
        self.answer, self.state, self.limits = answer, state, limits

    async def __call__(self, scope, receive, send) -> None:
        try:
            data = api.parse_json(await _body(scope, receive, self.limits.max_body))
            status, content = 200, self.answer(self.state["predictor"], data, self.limits)
        except RequestError as exc:
            status, content = exc.status, exc.to_dict()
        except Disconnected:
            return
        body = encode(content)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [_JSON, (b"content-length", b"%d" % len(body))],
            }
        )
        await send({"type": "http.response.body", "body": body})


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
    model: Predictor | str | Path | None = None, limits: Limits | None = None
) -> Starlette:
    """The service for a `Predictor`, or for the model folder at ``model`` (the shipped model
    when None), loaded once when the application starts (per worker process)."""
    from ..predictor import Predictor

    limits = limits or Limits()
    state: dict[str, Any] = {"predictor": model if isinstance(model, Predictor) else None}
    page = _page()
    openapi = _openapi(limits)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        if state["predictor"] is None:
            import nlpkit

            state["predictor"] = nlpkit.load(model)
        predictor = state["predictor"]
        # The first prediction builds the compiled scorer and the first explanation imports
        # numpy: done here, so that no client waits for them.
        predictor.predict("khởi động", 1, False)
        predictor.explain("khởi động", k=1)
        log.info("nlpkit serve: model %r ready", predictor.manifest.get("name", "unsaved"))
        yield

    async def health(request: Request) -> Response:
        return _json({"status": "ok"})

    async def model_info(request: Request) -> Response:
        return _json(api.model_info(state["predictor"], limits))

    async def openapi_json(request: Request) -> Response:
        return _json(openapi)

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

    endpoints = {
        "/predict": JSONEndpoint(api.predict, state, limits),
        "/explain": JSONEndpoint(api.explain, state, limits),
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
    # The last added is the outermost: requests in flight are counted before anything else.
    app.add_middleware(JSONRoutes, routes=endpoints)
    app.add_middleware(InFlightLimit, limit=limits.max_in_flight)
    return app


def from_environment() -> Starlette:
    """The application of a worker process of `nlpkit serve --workers N` (a factory uvicorn
    calls in each worker), from the settings the command put in the environment."""
    settings = json.loads(os.environ[ENVIRONMENT])
    return create_app(settings["model"], Limits(**settings["limits"]))
