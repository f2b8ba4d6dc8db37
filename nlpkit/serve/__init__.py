"""`nlpkit serve`: the classifier as a local web service, with a page that shows why.

    >>> from nlpkit.serve import create_app      # pip install '.[serve]' in nlpkit's source folder
    >>> app = create_app()                       # an ASGI app: run it with uvicorn, or any server

The JSON endpoints and their checks are in `nlpkit.serve.api` (no web framework needed to
read them), the application in `nlpkit.serve.app` (Starlette), where the deciding words are
in a text in `nlpkit.serve.highlight`, the command line in `nlpkit.serve.command`. See
docs/serving.md.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "Limits"]


def __getattr__(name: str) -> Any:
    # The command line imports this package to add its subcommand: Starlette only when asked.
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "Limits":
        from .limits import Limits

        return Limits
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
