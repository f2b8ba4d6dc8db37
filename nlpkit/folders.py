"""Writing a folder in place of another, so that whoever reads it meanwhile finds one whole.

A model folder is written beside its path under a hidden temporary name, then takes the path's
place. On Linux the two are swapped in one step (``renameat2`` with ``RENAME_EXCHANGE``): at
every moment the path holds the old folder or the new one, complete. Elsewhere, or on a file
system without that call, the old folder is moved aside first, and the path is missing for the
moment between the two renames.

A file (`write_file`: a report) is written whole the same way: beside its path, then renamed.

The temporary names say which machine and process made them, so that a later save can remove
those a killed process left behind (never one of a process that is still running, or of
another machine sharing the file system).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import sys
from pathlib import Path

__all__ = [
    "temporary_folder",
    "replace_folder",
    "remove_leftovers",
    "write_file",
    "is_stream",
    "is_descriptor",
]

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _stem(path: Path) -> str:
    # (the start of the name: the hidden names add up to about 70 bytes more, and a file name
    # is at most 255 bytes; a Vietnamese letter takes two or three)
    return os.fsencode(path.name)[:150].decode("utf-8", "ignore")


def _host() -> str:
    # (a name that fits a file name: the host's, without what a path cannot hold)
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())[:40] or "host"


def temporary_folder(path: Path) -> Path:
    """A new, empty, hidden folder beside ``path``, made with the permissions the process's
    umask gives a new folder (`tempfile.mkdtemp` makes it readable by its owner alone, which
    the folder would keep once it takes the path's place)."""
    while True:
        tmp = path.with_name(f".{_stem(path)}.{_host()}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            os.mkdir(tmp, 0o777)
            return tmp
        except FileExistsError:
            continue


# A name of one of this process's open descriptors: /dev/stdout, /dev/stderr, /dev/fd/N,
# /proc/self/fd/N. Behind it may be a file the shell opened (``2>> run.log``), which must be
# written through the descriptor's name, not replaced.
_DESCRIPTOR = re.compile(r"/dev/(?:stdin|stdout|stderr|fd/\d+)|/proc/(?:self|\d+)/fd/\d+")


def is_descriptor(path: str | Path) -> bool:
    """Whether ``path``, or a link on its way to what it names, is a descriptor's name."""
    at = os.path.abspath(path)
    for _ in range(40):  # (the system's own limit of links followed)
        if _DESCRIPTOR.fullmatch(at):
            return True
        try:
            target = os.readlink(at)
        except OSError:  # (not a link: the end of the way)
            return False
        at = os.path.normpath(os.path.join(os.path.dirname(at), target))
    return False


def is_stream(path: Path) -> bool:
    """Whether `write_file` writes to ``path`` as it is: a pipe, a terminal, a descriptor's
    name (whatever file the shell sent it to)."""
    return is_descriptor(path) or (path.exists() and not path.is_file() and not path.is_dir())


def write_file(path: Path, text: str | bytes) -> None:
    """``text`` (in UTF-8; or bytes) as the file ``path``, whole or not at all: written beside
    it under a hidden name, flushed to the disk, then renamed in its place (a file already
    there keeps its permissions; a new one has those the umask gives). A link to a file writes
    the file it points to; a stream (a pipe, a terminal, standard output or error, whatever
    file the shell sent them to) is written to as it is, after what it already holds."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if is_stream(path):
        with open(path, "ab") as out:
            out.write(data)
        return
    path = path.resolve() if path.is_symlink() else path
    remove_leftovers(path)
    tmp = path.with_name(f".{_stem(path)}.{_host()}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        mode = None
    try:
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as out:
            out.write(data)
            out.flush()
            if mode is not None:
                os.fchmod(out.fileno(), mode)
            # (renamed before its bytes reach the disk, a crash could leave the path empty)
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step; False where the system cannot (not Linux, an old C
    library, a file system without the call)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    import errno

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    done = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def replace_folder(new: Path, path: Path) -> None:
    """Put the folder ``new`` at ``path`` (a folder, or nothing yet), and remove the old one."""
    if not os.path.lexists(path):
        os.replace(new, path)
        return
    if _exchange(new, path):
        shutil.rmtree(new, ignore_errors=True)  # (the old folder, now under the new's name)
        return
    # os.replace cannot put a folder in place of a non-empty one: the old one moves aside first.
    old = path.with_name(f".{_stem(path)}.{_host()}.{os.getpid()}.old")
    os.replace(path, old)
    try:
        os.replace(new, path)
    except BaseException:
        os.replace(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # (another user's process)
        return True
    return True


def remove_leftovers(path: Path) -> None:
    """Remove the temporary folders (or files) beside ``path`` that a process of this machine
    left when it was killed while saving there."""
    pattern = re.compile(
        rf"\.{re.escape(_stem(path))}\.{re.escape(_host())}\.(\d+)\.(?:[0-9a-f]{{8}}\.tmp|old)"
    )
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return
    for entry in entries:
        found = pattern.fullmatch(entry.name)
        if found and int(found[1]) != os.getpid() and not _running(int(found[1])):
            if os.path.islink(entry.path) or entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
            else:
                shutil.rmtree(entry.path, ignore_errors=True)
