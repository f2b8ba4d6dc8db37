"""`python -m nlpkit`: the `nlpkit` command, run by the same code.

From a source checkout, `python -m nlpkit` puts the working directory first on the path, so
the checkout's source folder shadows the installed nlpkit, which has the compiled core (the
checkout may have none, and would predict on the pure-Python path, 12-30 times slower). When an
installed nlpkit is shadowed that way, the command starts again on it (`python -P`), as the
`nlpkit` script does; `python -P -m nlpkit` says so outright, and an editable install (where
both are the checkout) runs the checkout.
"""

import os
import sys
from importlib.machinery import PathFinder
from pathlib import Path


def _shadowed() -> bool:
    """Whether this package comes from the working directory that `-m` put first on the path,
    while another nlpkit is installed further down the path."""
    if sys.flags.safe_path or not sys.path:
        return False
    here = Path(__file__).resolve().parent
    try:
        first = Path(sys.path[0] or os.getcwd()).resolve()
    except OSError:
        return False
    if here.parent != first:
        return False
    spec = PathFinder.find_spec(__package__, sys.path[1:])
    origin = spec.origin if spec is not None else None
    return origin is not None and Path(origin).resolve().parent != here


if __name__ == "__main__":
    if _shadowed():
        args = [sys.executable, "-P", "-m", __package__, *sys.argv[1:]]
        sys.stdout.flush()
        os.execv(sys.executable, args)
    from .cli import main

    sys.exit(main())
