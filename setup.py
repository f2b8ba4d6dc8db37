"""Builds the optional compiled core, nlpkit._core, from csrc/; everything else is in
pyproject.toml.

The extension is optional: where it cannot be built (no C compiler), the install still succeeds
and nlpkit runs its pure-Python path, with the same results (`nlpkit --version` says which).
"""

import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, ExecError, PlatformError

# No floating-point contraction: a fused multiply-add rounds once where numpy rounds twice, and
# the compiled scores must equal the Python ones bit for bit. (Optimisation is the
# interpreter's own setting, -O3 with gcc and clang.)
FLAGS = ["/fp:precise"] if sys.platform == "win32" else ["-ffp-contract=off"]

# One extension from the files of csrc/, one job each (docs/core.md); relative paths,
# as setuptools wants them, in a fixed order.
CSRC = Path("csrc")
SOURCES = sorted(p.as_posix() for p in CSRC.glob("*.c"))
HEADERS = sorted(p.as_posix() for p in CSRC.glob("*.h"))


class BuildCore(build_ext):
    """Builds the core with link-time optimisation where the compiler does it, so that the
    files' calls to each other are inlined as within one file (a single text's call into the
    core was 1-3% slower without); where it fails (a linker without the compiler's plugin),
    the same build without it: never the pure-Python path for want of an optimisation."""

    def build_extension(self, ext: Extension) -> None:
        if self.compiler.compiler_type != "unix":
            return super().build_extension(ext)
        plain = list(ext.extra_compile_args), list(ext.extra_link_args)
        # The link generates the code: it takes the interpreter's optimisation level and the
        # floating-point setting too.
        level = [f for f in (sysconfig.get_config_var("CFLAGS") or "").split() if f[:2] == "-O"]
        ext.extra_compile_args = plain[0] + ["-flto"]
        ext.extra_link_args = plain[1] + ["-flto", *level[-1:], *FLAGS]
        try:
            super().build_extension(ext)
        except (CCompilerError, ExecError, PlatformError) as exc:
            print(f"building without link-time optimisation ({exc})", file=sys.stderr)
            ext.extra_compile_args, ext.extra_link_args = plain
            super().build_extension(ext)


setup(
    cmdclass={"build_ext": BuildCore},
    ext_modules=[
        Extension(
            "nlpkit._core",
            SOURCES,
            depends=HEADERS,
            extra_compile_args=FLAGS,
            optional=True,
        )
    ],
)
