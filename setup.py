"""Builds the optional compiled core, nlpkit._core, from csrc/; everything else is in
pyproject.toml.

The extension is optional: where it cannot be built (no C compiler), the install still succeeds
and nlpkit runs its pure-Python path, with the same results (`nlpkit --version` says which).
"""

import sys
from pathlib import Path

from setuptools import Extension, setup

# No floating-point contraction: a fused multiply-add rounds once where numpy rounds twice, and
# the compiled scores must equal the Python ones bit for bit. (Optimisation is the
# interpreter's own setting, -O3 with gcc and clang.)
FLAGS = ["/fp:precise"] if sys.platform == "win32" else ["-ffp-contract=off"]

# One extension from the files of csrc/, one job each (docs/core.md); relative paths,
# as setuptools wants them, in a fixed order.
CSRC = Path("csrc")
SOURCES = sorted(p.as_posix() for p in CSRC.glob("*.c"))
HEADERS = sorted(p.as_posix() for p in CSRC.glob("*.h"))

setup(
    ext_modules=[
        Extension(
            "nlpkit._core",
            SOURCES,
            depends=HEADERS,
            extra_compile_args=FLAGS,
            optional=True,
        )
    ]
)
