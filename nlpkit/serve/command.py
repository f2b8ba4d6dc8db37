"""The ``nlpkit serve`` subcommand: its options, and starting the server (uvicorn)."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

__all__ = ["add_subcommand", "cmd_serve"]


def _at_least(minimum: int, most: int | None = None):
    def check(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {number}")
        if most is not None and number > most:
            raise argparse.ArgumentTypeError(f"must be at most {most}, got {number}")
        return number

    return check


# The options of `Limits`, each a field of it: (field, metavar, help with its default).
_LIMIT_OPTIONS = (
    ("max_body", "BYTES", "largest request body (413 above; default {})"),
    ("max_batch", "N", "most texts in one /predict or /explain request (413 above; default {})"),
    ("max_k", "K", "most terms one /explain request may ask for (422 above; default {})"),
    (
        "max_in_flight",
        "N",
        "requests in flight at once, per worker; more are answered 503 at once (default {})",
    ),
    (
        "body_timeout",
        "SECONDS",
        "how long a request's body may take to come whole (408 after; default {})",
    ),
)


def add_subcommand(sub: argparse._SubParsersAction) -> None:
    """Add ``serve`` to the subcommands of the ``nlpkit`` parser."""
    from .limits import Limits

    defaults = Limits()
    p = sub.add_parser(
        "serve",
        help="serve the model over HTTP, with a page that shows why",
        description="Serve the model as a local web service: POST /predict, POST /explain, "
        "GET /health, GET /model, GET /openapi.json, and a page at / to try it in a browser. "
        "Stops on Ctrl-C or SIGTERM after answering the requests in flight (exit status 0). "
        "Needs the serve extra: pip install '.[serve]' in nlpkit's source folder.",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for all)",
    )
    # (a port is 16 bits: with a larger number the server said it was running on it)
    p.add_argument("--port", type=_at_least(0, 65535), default=8000, help="port (default 8000)")
    p.add_argument("-m", "--model", help="model folder (default: the shipped model)")
    p.add_argument(
        "--workers",
        type=_at_least(1),
        default=1,
        help="worker processes, each with its own copy of the model (default 1)",
    )
    limits = p.add_argument_group("limits (a request over one is refused with its HTTP status)")
    for field, metavar, what in _LIMIT_OPTIONS:
        default = getattr(defaults, field)
        limits.add_argument(
            "--" + field.replace("_", "-"),
            type=_at_least(1),
            default=default,
            metavar=metavar,
            help=what.format(default),
        )
    limits.add_argument(
        "--shutdown-timeout",
        type=_at_least(1),
        default=30,
        metavar="SECONDS",
        help="on SIGTERM, how long to wait for requests in flight (default 30)",
    )
    p.add_argument(
        "--allowed-host",
        action="append",
        type=_host_name,
        metavar="NAME",
        help="a name requests may give in their Host header, besides the loopback ones "
        "(localhost, 127.0.0.1, ::1); repeatable. Other names are refused, so that no web page "
        "can reach the service by DNS rebinding. On an address that is not a loopback one "
        "(0.0.0.0), without this option any name is answered but on requests that come in "
        "on the loopback address",
    )
    p.add_argument(
        "--access-log",
        action="store_true",
        help="log every request (default: startup, shutdown and errors)",
    )
    p.set_defaults(func=cmd_serve)


def _check_address(host: str, port: int) -> None:
    """A usage error, before the model is loaded, when the address cannot be listened on (a
    port in use, a host name that is not this machine's)."""
    import socket

    from ..usage import UsageError

    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = found[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def _allowed_hosts(host: str, given: list[str] | None) -> list[str]:
    """The Host header names the service answers to, besides the loopback names: on a
    loopback address those given; elsewhere those given, or when none are, any ("*") but on
    a request that came in on a loopback address (a service on 0.0.0.0 is on 127.0.0.1 too)."""
    from .app import _is_loopback

    return list(given or ([] if _is_loopback(host) else ["*"]))


def _host_name(value: str) -> str:
    """An ``--allowed-host``: a name as a Host header gives it, without a scheme or a path."""
    try:
        from .app import check_host_names
    except ImportError:  # (no serve extra: the command says so, once the options are read)
        return value
    try:
        return check_host_names([value])[0]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _log_config() -> dict:
    """uvicorn's logging, and the service's own lines (the model ready, an error answering)
    written as uvicorn writes its own, in every worker process."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["nlpkit.serve"] = {
        "handlers": ["default"],
        "level": "INFO",
        "propagate": False,
    }
    config.setdefault("filters", {})["forced_stop"] = {"()": _forced_stop}
    config["loggers"]["uvicorn.error"]["filters"] = ["forced_stop"]
    return config


def _forced_stop() -> Any:
    """A filter of uvicorn's error log (its class says what it does), made when uvicorn sets
    up its logging: the command's parser imports neither logging nor asyncio."""
    import asyncio
    import logging

    class ForcedStop(logging.Filter):
        """A second Ctrl-C while requests are still in flight stops uvicorn at once, before the
        application's shutdown: the interruption then cancels the application's lifespan, which
        uvicorn logs as an error with some forty lines of traceback. Said in one line instead."""

        def filter(self, record: logging.LogRecord) -> bool:
            exc = record.exc_info[1] if record.exc_info else None
            text = str(record.msg)
            # (Starlette's router sends the traceback as the lifespan's failure message, which
            # uvicorn logs as it is; uvicorn's own handler logs the exception)
            if "lifespan" in text and (
                isinstance(exc, asyncio.CancelledError)
                or text.rstrip().endswith("asyncio.exceptions.CancelledError")
            ):
                record.msg, record.args, record.exc_info, record.exc_text = (
                    "nlpkit serve: stopped at once (Ctrl-C twice): the requests still in flight "
                    "were not answered",
                    (),
                    None,
                    None,
                )
                record.levelno, record.levelname = logging.WARNING, "WARNING"
            return True

    return ForcedStop()


def cmd_serve(args: argparse.Namespace) -> int:
    from .. import load
    from ..modelfile import ModelError
    from ..usage import Terminated, UsageError

    try:
        import uvicorn

        from .app import ENVIRONMENT, create_app
    except ImportError as exc:
        raise UsageError(
            f"serving needs the serve extra ({exc.name} is not installed): "
            "pip install '.[serve]' in nlpkit's source folder"
        ) from None
    from .limits import Limits

    limits = Limits(**{field: getattr(args, field) for field in Limits.FIELDS})
    _check_address(args.host, args.port)
    hosts = _allowed_hosts(args.host, args.allowed_host)
    # Loaded here first, so that a bad model folder is one line and exit status 2, not a
    # failure in every worker.
    try:
        predictor = load(args.model)
    except ModelError as exc:
        raise UsageError(str(exc)) from None
    options = dict(
        host=args.host,
        port=args.port,
        access_log=args.access_log,
        timeout_graceful_shutdown=args.shutdown_timeout,
        server_header=False,
        # Nothing here reads the client's address: no proxy headers to trust or parse.
        proxy_headers=False,
        log_level="info",
        log_config=_log_config(),
    )
    try:
        if args.workers == 1:
            uvicorn.run(create_app(predictor, limits, allowed_hosts=hosts), **options)
        else:
            del predictor  # each worker loads its own
            os.environ[ENVIRONMENT] = json.dumps(
                {"model": args.model, "limits": limits.to_dict(), "allowed_hosts": hosts}
            )
            uvicorn.run(
                "nlpkit.serve.app:from_environment", factory=True, workers=args.workers, **options
            )
    except (KeyboardInterrupt, Terminated):
        # uvicorn has answered the requests in flight and stopped: a server's usual way to end.
        pass
    return 0
