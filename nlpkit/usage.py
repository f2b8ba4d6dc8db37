"""How the ``nlpkit`` command's subcommands end badly: the exceptions its main function turns
into exit statuses (2 for bad usage, 143 for SIGTERM). A module of its own, so that a
subcommand kept apart from `nlpkit.cli` (``nlpkit serve``) raises them without importing it."""

from __future__ import annotations

__all__ = ["UsageError", "Terminated"]


class UsageError(Exception):
    """Bad usage or unreadable input: exit status 2 with a one-line message."""


class Terminated(BaseException):
    """SIGTERM arrived (timeout, docker stop, systemd): stop as Ctrl-C would."""
