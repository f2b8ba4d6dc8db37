"""Checks of the arguments the public functions take, shared by the modules that take them."""

from __future__ import annotations

import numbers

__all__ = ["check_count", "check_flag", "empty_cell"]


def check_flag(name: str, value: object) -> bool:
    """``value`` if it is True or False; a TypeError naming the flag otherwise (a string such as
    "no" is true in Python, and would silently mean yes)."""
    if value is not True and value is not False:
        kind = type(value)
        # (numpy's bool calls itself "bool": its module says which one it is)
        where = "" if kind.__module__ == "builtins" else f"{kind.__module__.split('.')[0]}."
        raise TypeError(f"{name} must be True or False, got {value!r} ({where}{kind.__name__})")
    return value


def check_count(name: str, value: object, zero: str | None = None) -> int:
    """``value`` as an int if it is a whole number of at least 1 (numpy's integers too), or 0
    where ``zero`` says what 0 means; a TypeError naming ``name`` for another type (a float, a
    bool, a string), a ValueError below that."""
    least = "at least 1" + (f", or 0 for {zero}" if zero else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be a whole number, {least}; got {value!r} ({type(value).__name__})"
        )
    if value < (0 if zero else 1):
        raise ValueError(f"{name} must be a whole number, {least}; got {value!r}")
    return int(value)


def empty_cell(value: object) -> bool:
    """Whether ``value`` is an empty cell of a table: None, a NaN of any float type (numpy's
    too), or pandas' NA; what a column of titles holds where a text has none."""
    return (
        value is None
        or (isinstance(value, numbers.Real) and value != value)
        or type(value).__name__ == "NAType"
    )
