"""Checks of the arguments the public functions take, shared by the modules that take them."""

from __future__ import annotations

__all__ = ["check_flag"]


def check_flag(name: str, value: object) -> bool:
    """``value`` if it is True or False; a TypeError naming the flag otherwise (a string such as
    "no" is true in Python, and would silently mean yes)."""
    if value is not True and value is not False:
        kind = type(value)
        # (numpy's bool calls itself "bool": its module says which one it is)
        where = "" if kind.__module__ == "builtins" else f"{kind.__module__.split('.')[0]}."
        raise TypeError(f"{name} must be True or False, got {value!r} ({where}{kind.__name__})")
    return value
