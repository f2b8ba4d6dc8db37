"""Reading an input as jobs of whole lines: chunks of bytes cut at line ends (LF, CRLF or CR,
as the first line end says), gzip data decompressed, a byte-order mark dropped, JSON lines told
from plain text (`sniff`), and a line longer than `LINE_LIMIT` dropped as it is read. Nothing
here decodes a line: the process that reads only moves bytes.
"""

from __future__ import annotations

import codecs
import zlib
from collections.abc import Iterable, Iterator
from typing import IO

# A line longer than this many bytes is an error record: it is never held in memory whole, and
# reading past it costs time in proportion to its length.
LINE_LIMIT = 10_000_000
# Bytes read at a time, and the most a chunk of lines holds beyond its last line's start.
_BLOCK = 1 << 20
_BOM = b"\xef\xbb\xbf"
_GZIP = b"\x1f\x8b"


class InputError(ValueError):
    """An input or output file cannot be used at all (binary, UTF-16, a JSON array, a field no
    record has, an output another job is writing or written by another run); the message says
    which and why."""


class DamagedInput(InputError):
    """Compressed input that ends early or is damaged, found after the lines before it were
    read (and answered): those lines are complete in the output."""


# A job: the first line's number, and the lines (a chunk of whole lines with its line end, or a
# list of lines without them), or None for one line over the limit.
Job = tuple[int, "bytes | list[bytes] | None", bytes]


def _split(chunk: bytes, sep: bytes) -> list[bytes]:
    """The lines of a chunk of whole lines, each ended by ``sep``, without their line ends."""
    lines = chunk.split(sep)
    lines.pop()  # (after the last line end)
    if sep == b"\n":
        return [line[:-1] if line.endswith(b"\r") else line for line in lines]
    return lines


class _Reader:
    """A binary stream (gzip-compressed or not) as jobs of whole lines, in bounded memory: a
    line longer than `LINE_LIMIT` is dropped as it is read, and its job says so."""

    def __init__(self, stream: IO[bytes], batch_size: int = 256):
        self._damage: Exception | None = None  # met while reading ahead, raised in its turn
        head = stream.read(_BLOCK)
        self.compressed = head.startswith(_GZIP)
        if self.compressed:
            self.stream: IO[bytes] | _Gunzip = _Gunzip(head, stream)
            head = self._read()
        else:
            self.stream = stream
        self.head = head[len(_BOM) :] if head.startswith(_BOM) else head
        self.batch_size = batch_size
        self.sep = b"\r" if _cr_line_ends(self.head) else b"\n"
        self.lines = 0  # lines handed out in jobs so far

    def _read(self) -> bytes:
        try:
            if self._damage is not None:
                raise self._damage
            return self.stream.read(_BLOCK)
        except (OSError, EOFError, zlib.error) as exc:
            where = getattr(self, "lines", 0)
            after = f"after line {where:,}" if where else "before its first line"
            raise DamagedInput(f"damaged gzip data {after} ({exc})") from None

    def check_start(self) -> None:
        """Read on to the first line's end: gzip data damaged before it is found now, before
        an output is touched (nothing could be answered)."""
        self.read_ahead(1, LINE_LIMIT)
        if self._damage is not None and self.sep not in self.head:
            raise InputError(f"damaged gzip data before its first line ({self._damage})")

    def read_ahead(self, lines: int, limit: int) -> None:
        """Read on until the head holds ``lines`` whole lines, ``limit`` bytes or the whole
        input, for a check that wants more lines than the first block holds. Damaged gzip
        data met here is raised where the lines before it have been handed out."""
        parts, size = [self.head], len(self.head)
        held = self.head.count(self.sep)
        while held < lines and size < limit:
            try:
                block = self.stream.read(_BLOCK)
            except (OSError, EOFError, zlib.error) as exc:
                self._damage = exc
                break
            if not block:
                break
            parts.append(block)
            size += len(block)
            held += block.count(self.sep)
        self.head = b"".join(parts)

    def jobs(self) -> Iterator[Job]:
        sep, limit = self.sep, LINE_LIMIT
        parts: list[bytes] = []  # the start of a line whose end has not come yet
        size = 0
        long = False  # the current line is over the limit: its bytes are dropped
        block, self.head = self.head, b""
        while block:
            cut = block.rfind(sep)
            if cut < 0:
                if not long:
                    parts.append(block)
                    size += len(block)
                    long = size > limit
                    if long:
                        parts, size = [], 0
                block = self._read()
                continue
            if long:
                end = block.find(sep)
                self.lines += 1
                yield self.lines, None, sep
                long, block, cut = False, block[end + 1 :], cut - end - 1
                if cut < 0:
                    parts, size = [block], len(block)
                    block = self._read()
                    continue
            # (a view of the block: join copies it once, where a slice would copy it twice)
            head = memoryview(block)[: cut + 1]
            chunk = b"".join((*parts, head)) if parts else bytes(head)
            rest = block[cut + 1 :]
            parts, size = ([rest], len(rest)) if rest else ([], 0)
            yield from self._batches(chunk)
            block = self._read()
        if long:
            self.lines += 1
            yield self.lines, None, sep
        elif parts:
            yield from self._batches(b"".join(parts) + sep)

    def _batches(self, chunk: bytes) -> Iterator[Job]:
        """``chunk`` as jobs of at most ``batch_size`` lines."""
        import numpy as np  # (imported by the classifier anyway)

        sep, size = self.sep, self.batch_size
        # Where each line ends, found at once: bytes.count and a find a line cost three times as
        # much on a chunk of short lines.
        ends = np.flatnonzero(np.frombuffer(chunk, np.uint8) == sep[0])
        n, start, done = len(ends), 0, 0
        for done in range(size, n, size):
            end = int(ends[done - 1]) + 1
            yield self.lines + 1, chunk[start:end], sep
            self.lines += size
            start = end
        if n:
            yield self.lines + 1, chunk[start:] if start else chunk, sep
            self.lines += n - done


def _cr_line_ends(head: bytes) -> bool:
    """Whether the data is of CR line ends (an old Mac's file): its first block holds CRs and
    no LF. (A CR before the first LF may be JSON's white space inside a record; one that ends
    the block may be the first half of a CRLF.)"""
    return b"\n" not in head and b"\r" in head.rstrip(b"\r")


class _Gunzip:
    """A gzip stream (of one member or several) decompressed as it is read, every byte that
    can be: where the data ends early or is damaged, what came before it is read first, and
    the error at the next read. (gzip.GzipFile drops what it decompressed in the read that
    fails: up to a block of lines that could have been answered.)"""

    def __init__(self, head: bytes, stream: IO[bytes]):
        self.stream, self.compressed = stream, head  # compressed bytes not yet decompressed
        self.unzip = zlib.decompressobj(31)
        self.within = False  # inside a member whose end has not been read
        self.error: Exception | None = None

    def read(self, n: int) -> bytes:
        out: list[bytes] = []
        size = 0
        while size < n and self.error is None:
            if not self.compressed:
                self.compressed = self.stream.read(1 << 16)
                if not self.compressed:
                    if self.within:
                        self.error = EOFError("the compressed data ends before its end")
                    break
            if not self.within:
                # A member starts (a file may hold several, and be padded with zero bytes).
                self.compressed = self.compressed.lstrip(b"\0")
                if not self.compressed:
                    continue
                self.unzip, self.within = zlib.decompressobj(31), True
            before = self.unzip.copy()
            try:
                piece = self.unzip.decompress(self.compressed, n - size)
            except zlib.error as exc:
                # A failed call gives nothing of what it decoded (up to a block of lines
                # before the damage): decoded again from where it began, a little at a time.
                out.append(_up_to_damage(before, self.compressed, n - size))
                self.error = exc
                break
            self.compressed = self.unzip.unconsumed_tail
            if self.unzip.eof:
                self.compressed, self.within = self.unzip.unused_data, False
            out.append(piece)
            size += len(piece)
        data = b"".join(out)
        # (data cut inside its first block decompresses to nothing: that is damage too, not
        # an empty file)
        if not data and self.error is not None:
            raise self.error
        return data


def _up_to_damage(unzip, compressed: bytes, n: int) -> bytes:
    """What ``unzip`` decodes of ``compressed`` (at most ``n`` bytes) before its damage, 4 KiB
    a call: a call that fails gives nothing, so at most the last 4 KiB are lost."""
    out: list[bytes] = []
    size = 0
    while size < n and compressed:
        try:
            piece = unzip.decompress(compressed, min(1 << 12, n - size))
        except zlib.error:
            break
        compressed = unzip.unconsumed_tail
        if not piece:
            break
        out.append(piece)
        size += len(piece)
    return b"".join(out)


# Compressed data nlpkit does not decompress, by its first bytes.
_PACKED = (
    *((b"BZh%d" % level, "bzip2") for level in range(1, 10)),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"PK\x03\x04", "zip"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip"),
)


# Files of other kinds, by their first bytes.
_BINARY = (
    (b"\x89PNG\r\n\x1a\n", "a PNG picture"),
    (b"\xff\xd8\xff", "a JPEG picture"),
    (b"GIF8", "a GIF picture"),
    (b"%PDF-", "a PDF document"),
    (b"\x93NUMPY", "a numpy array"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "a program (ELF)"),
)


def _text_but_for_some_lines(head: bytes) -> bool:
    """Whether data whose NUL bytes make 1% of it is text with a few bad lines (a stray NUL,
    a block of zeros left by a crash): NUL bytes in a minority of its lines, and the other
    lines UTF-8. Binary data (a compiled file, a numpy array, a database) fails one or the
    other."""
    sep = b"\r" if _cr_line_ends(head) else b"\n"
    lines = head.removesuffix(sep).split(sep)
    bad = sum(b"\0" in line for line in lines)
    # (one bad line among good ones, in a file of two lines too)
    if bad == len(lines) or (bad * 4 > len(lines) and bad > 1):
        return False
    return _utf8(sep.join(line for line in lines if b"\0" not in line))


def _utf8(data: bytes) -> bool:
    """Whether the first bytes of a file are UTF-8 (the last character may be cut)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return True


def sniff(head: bytes) -> str:
    """'jsonl' or 'text' from the first bytes of an input; `InputError` for what cannot be
    read as lines of text (binary data, compressed data but gzip, UTF-16, a JSON array). A stray
    NUL byte is a bad line, not a binary file: binary data is known by NUL bytes making 1% of
    the first bytes, in most of their lines."""
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise InputError("it is UTF-32 (byte-order mark): convert it to UTF-8 first")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("it is UTF-16 (byte-order mark): convert it to UTF-8 first")
    for magic, name in _PACKED:
        if head.startswith(magic):
            # (gzip is read as it is, before this; the others would be read as lines of text)
            raise InputError(f"it is {name} data: decompress it first (gzip is read as it is)")
    for magic, name in _BINARY:
        # (few NUL bytes, but lines of bytes all the same, some of which would be answered; a
        # text that starts with the same letters, "GIF89a là...", is text: UTF-8, no NUL)
        if head.startswith(magic) and (
            not _utf8(head[:4096].replace(b"\0", b"\xff"))
            # (a PDF may be all ASCII: known by its objects)
            or (magic == b"%PDF-" and b"endobj" in head)
        ):
            raise InputError(f"it is {name}, not lines of text")
    if head.count(b"\0") * 100 > len(head) and not _text_but_for_some_lines(head):
        raise InputError("it is not a text file (it holds NUL bytes)")
    first = head.removeprefix(_BOM).lstrip()
    if first.startswith(b"["):
        raise InputError(
            "it is a JSON array, not JSON lines: convert it first, e.g. jq -c '.[]' FILE"
        )
    return "jsonl" if first.startswith(b"{") else "text"


def _line_jobs(lines: Iterable[bytes | str], batch_size: int) -> Iterator[Job]:
    """Jobs from given lines (each one line, its line end optional)."""
    batch: list[bytes] = []
    first = 1
    for n, line in enumerate(lines, start=1):
        if isinstance(line, str):
            raw = line.encode("utf-8", "surrogatepass")
        elif isinstance(line, (bytes, bytearray)):
            raw = bytes(line)
        else:
            raise TypeError(f"line {n} must be bytes or str, not {type(line).__name__}")
        if raw.endswith(b"\n"):
            raw = raw[:-1]
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        batch.append(raw)
        if len(batch) >= batch_size:
            yield first, batch, b"\n"
            first, batch = n + 1, []
    if batch:
        yield first, batch, b"\n"
