"""Arrays of a model folder, read from numpy's ``.npy`` format without numpy or pickle: a
model loaded for prediction with the compiled core never imports numpy, and a file of the folder
never runs code. `all_finite` is the check of their numbers, on the core where it is built."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path
from typing import Any

from . import compiled
from .errors import ModelError

__all__ = ["read_array", "npy_header", "all_finite"]

_NPY_MAGIC = b"\x93NUMPY"
# The header numpy writes (its keys in this order since the format began); any other form of
# the same dict is read as the Python literal it is.
_NPY_HEADER = re.compile(
    r"\{'descr': '([<>|=]?\w+)', 'fortran_order': (True|False), 'shape': \(((?:\d+, ?)*\d*)\), \} *\n?"
)


def read_array(
    path: Path, content: bytearray, shape: tuple[int, ...], positive: bool = False
) -> memoryview:
    """Float64 numbers of ``shape``, finite (and positive), from the ``content`` of a numpy
    ``.npy`` file (``path``, for messages), as a memoryview of that shape (`numpy.asarray`
    takes it without a copy). numpy is not needed: prediction with the compiled
    core never imports it."""
    *found, start = npy_header(content, path)
    found, size = tuple(found), len(content) - start
    if found != ("<f8", False, shape):
        descr, fortran, got = found
        raise ModelError(
            f"{path}: expected float64 numbers of shape {shape}, the file says "
            f"{descr}{' (Fortran order)' if fortran else ''} {got}"
        )
    count = math.prod(shape)
    if size != count * 8:
        raise ModelError(f"{path}: {size} bytes of data where {shape} needs {count * 8}")
    data = memoryview(content)[start:]  # (the file's own buffer, writable as numpy's arrays)
    values = data.cast("d", shape) if count else data
    if sys.byteorder != "little":  # .npy "<f8" is little-endian
        import numpy as np

        values = memoryview(np.asarray(values).byteswap())
    if not all_finite(values, positive):
        raise ModelError(
            f"{path}: holds {'non-positive or ' if positive else ''}non-finite numbers"
        )
    return values if count else _empty(shape)


def npy_header(content: bytearray, path: Path) -> tuple[str, bool, tuple[int, ...], int]:
    """(descr, fortran_order, shape, where the data starts) of a ``.npy`` file's content
    (format versions 1 to 3)."""
    head = bytes(content[: len(_NPY_MAGIC) + 2])
    if len(head) < 8 or not head.startswith(_NPY_MAGIC) or head[6] not in (1, 2, 3):
        raise ModelError(f"{path}: not a numpy array file")
    width = 2 if head[6] == 1 else 4
    length = int.from_bytes(content[8 : 8 + width], "little")
    text = bytes(content[8 + width : 8 + width + length])
    try:
        header = text.decode("latin-1" if head[6] < 3 else "utf-8")
        usual = _NPY_HEADER.fullmatch(header)
        if usual:
            descr, fortran = usual[1], usual[2] == "True"
            shape = tuple(int(n) for n in usual[3].replace(",", " ").split())
        else:
            import ast

            # A Python literal: the dict of the descr, the order and the shape.
            header = ast.literal_eval(header)
            descr, fortran, shape = header["descr"], header["fortran_order"], header["shape"]
        if not (isinstance(shape, tuple) and all(type(n) is int and n >= 0 for n in shape)):
            raise ValueError(f"shape {shape!r}")
    except (ValueError, SyntaxError, TypeError, KeyError, MemoryError, RecursionError) as exc:
        raise ModelError(f"{path}: not a numpy array file (header: {exc})") from None
    if len(text) != length:
        raise ModelError(f"{path}: not a numpy array file (header cut short)")
    return str(descr), bool(fortran), shape, 8 + width + length


def all_finite(values: Any, positive: bool = False) -> bool:
    """Whether every float64 of ``values`` (a float64 memoryview, or numbers numpy reads) is
    finite, and above 0 with ``positive``; True when there are none."""
    if not isinstance(values, memoryview):
        import numpy as np

        values = memoryview(np.ascontiguousarray(values, dtype=np.float64))
    if not values.nbytes:
        return True
    if compiled.core is not None:
        return compiled.core.all_finite(values, positive)
    import numpy as np

    array = np.asarray(values)
    return bool(np.isfinite(array).all() and (not positive or (array > 0).all()))


def _empty(shape: tuple[int, ...]) -> Any:
    # A memoryview cannot take a shape with no values: an empty numpy array can.
    import numpy as np

    return np.zeros(shape)
