"""Byte ranges of text files and the blocks read from them.

A plain file is cut into ranges that start at line starts (lines end at
``\n``, ``\r\n`` or a lone ``\r``), so each line is read by exactly one
range; a compressed file is one piece, decompressed as it is read. A piece
is read in blocks that end between tokens, the unit the C loops of
``_reader`` take.
"""

import lzma
import os
import threading

import numpy as np

from . import _reader
from ._line_corpus import _OPENERS, _compression

RANGE_BYTES = 8 << 20        # most bytes of a plain file one task reads
BOUNDARY_READ = 1 << 16      # bytes read at a time while looking for a line start


class Stopped(Exception):
    """Another task failed or Ctrl-C was pressed: stop quietly."""


class Piece:
    """One task: a byte range of a plain file, or a whole compressed/text file."""

    def __init__(self, seq, path, start, end, at_eof, kind):
        self.seq, self.path, self.start, self.end = seq, path, start, end
        self.at_eof = at_eof  # the range ends the file: a last line without \n closes here
        self.kind = kind      # "bytes" (plain), "packed" (compressed), "text" (Python lines)


def line_start_at_or_after(f, p, size):
    """The first line start >= p (lines end at \\n, \\r\\n or a lone \\r)."""
    if p <= 0:
        return 0
    pos = p - 1  # a line starts after a terminator at pos >= p - 1
    while pos < size:
        f.seek(pos)
        data = f.read(BOUNDARY_READ)
        if not data:
            break
        nl, cr = data.find(b"\n"), data.find(b"\r")
        if cr >= 0 and (nl < 0 or cr < nl):
            if cr + 1 < len(data):
                return pos + cr + (2 if data[cr + 1:cr + 2] == b"\n" else 1)
            if pos + cr + 1 >= size:
                return size
            f.seek(pos + cr + 1)
            return pos + cr + (2 if f.read(1) == b"\n" else 1)
        if nl >= 0:
            return pos + nl + 1
        pos += len(data)
    return size


def plan_pieces(corpus, n_jobs, range_bytes=None, text=False):
    """Cut the corpus into tasks; plain files into ranges at line starts.

    ``text``: read every file as lines in Python (no compiled reader).
    """
    pieces = []
    kinds = []
    for path in corpus.paths:
        if text or not corpus.compiled:
            kinds.append("text")
        elif _compression(path):
            kinds.append("packed")
        else:
            kinds.append("bytes")
    plain = [p for p, k in zip(corpus.paths, kinds) if k == "bytes"]
    total = sum(file_size(p) for p in plain)
    if range_bytes is None:
        # many ranges per thread: the last ones leave little idle time at the end
        range_bytes = min(RANGE_BYTES, max(1 << 16, -(-total // (16 * max(n_jobs, 1)))))
    for path, kind in zip(corpus.paths, kinds):
        if kind != "bytes":
            pieces.append(Piece(len(pieces), path, 0, None, True, kind))
            continue
        size = file_size(path)
        if size == 0:
            raise ValueError(f"corpus file {path!r} is empty")
        n_ranges = max(1, -(-size // range_bytes))
        with open_binary(path) as f:
            starts = sorted({line_start_at_or_after(f, i * size // n_ranges, size)
                             for i in range(n_ranges)} | {0})
        bounds = [s for s in starts if s < size] + [size]
        for a, b in zip(bounds[:-1], bounds[1:]):
            pieces.append(Piece(len(pieces), path, a, b, b == size, kind))
    return pieces


def file_size(path):
    try:
        return os.path.getsize(path)
    except OSError as exc:
        raise ValueError(f"corpus file {path!r} cannot be read: {exc.strerror or exc}") from None


def open_binary(path):
    try:
        return open(path, "rb", buffering=0)
    except OSError as exc:
        raise ValueError(f"corpus file {path!r} cannot be read: {exc.strerror or exc}") from None


class Source:
    """Readable bytes of one piece: ``readinto`` until the range end or EOF."""

    def __init__(self, piece):
        self.piece = piece
        if piece.kind == "packed":
            try:
                self.f = _OPENERS[_compression(piece.path)](piece.path, "rb")
            except OSError as exc:
                raise ValueError(f"corpus file {piece.path!r} cannot be read: "
                                 f"{exc.strerror or exc}") from None
            self.remaining = None
        else:
            self.f = open_binary(piece.path)
            self.f.seek(piece.start)
            self.remaining = piece.end - piece.start

    def readinto(self, view):
        if self.remaining is not None:
            view = view[:self.remaining]
            if len(view) == 0:
                return 0
        try:
            n = self.f.readinto(view)
        except (OSError, EOFError, lzma.LZMAError) as exc:  # damaged .gz / .bz2 / .xz
            raise ValueError(f"corpus file {self.piece.path!r} cannot be read: {exc}") from None
        if self.remaining is not None:
            if n == 0:
                raise ValueError(f"corpus file {self.piece.path!r} changed while it was read "
                                 "(it is shorter than before)")
            self.remaining -= n
        return n or 0

    @property
    def exhausted(self):
        return self.remaining == 0

    def close(self):
        self.f.close()


def blocks(source, block_bytes, stop):
    """Yield ``(buf, n, at_end, offset)``: ``buf[:n]`` ends between tokens.

    ``offset`` is the position of ``buf[0]`` in the piece. A line longer
    than a block is cut after a space; a token longer than a block makes
    the buffer grow.
    """
    pad = _reader.PAD
    # One buffer per thread for all its pieces: allocating (and faulting in)
    # a fresh block per piece cost ~5% of a pass on two workers.
    buf = getattr(_spare, "buf", None)
    _spare.buf = None  # a nested reader in this thread gets its own
    if buf is None or len(buf) != block_bytes + pad:
        buf = np.empty(block_bytes + pad, dtype=np.uint8)
    own = buf
    try:
        yield from _blocks(source, block_bytes, stop, buf, pad)
    finally:
        _spare.buf = own


_spare = threading.local()


def _blocks(source, block_bytes, stop, buf, pad):
    carry, offset = 0, 0
    while True:
        if stop.is_set():
            raise Stopped
        room = len(buf) - pad - carry
        if room == 0:
            grown = np.zeros(2 * (len(buf) - pad) + pad, dtype=np.uint8)
            grown[:carry] = buf[:carry]
            buf = grown
            room = len(buf) - pad - carry
        n = source.readinto(memoryview(buf)[carry:carry + room])
        total = carry + n
        at_end = n == 0 or source.exhausted
        cut = total if at_end else _reader.cut(buf, total, True)
        if cut == 0 and not at_end:
            carry = total
            continue
        buf[total:total + pad] = 0
        yield buf, cut, at_end, offset
        rest = total - cut
        buf[:rest] = buf[cut:total].copy()
        carry, offset = rest, offset + cut
        if at_end:
            return


def line_number(piece_path, packed, offset):
    """1-based line holding byte ``offset`` of the (decompressed) file."""
    opener = _OPENERS[_compression(piece_path)] if packed else open
    line, done, last = 1, 0, b""
    with opener(piece_path, "rb") as f:
        while done < offset:
            data = f.read(min(1 << 20, offset - done))
            if not data:
                break
            both = last + data
            # \r\n counts once; a \r at the end of `data` is settled with the next read
            line += data.count(b"\n") + both.count(b"\r") - both.count(b"\r\n") \
                - (last == b"\r")
            done += len(data)
            last = data[-1:]
    return line


def bad_utf8_error(piece, offset_in_piece, buf, at):
    end = at
    while end < len(buf) and end - at < 40 and buf[end] not in b" \t\n\r\x0b\x0c":
        end += 1
    token = bytes(buf[at:end])
    offset = (piece.start or 0) + offset_in_piece + at
    line = line_number(piece.path, piece.kind == "packed", offset)
    return ValueError(
        f"corpus file {piece.path!r}, line {line}: invalid UTF-8 in the token {token!r} "
        f"(byte offset {offset}); pass LineCorpus(..., errors='replace') or errors='ignore' "
        "to read it anyway"
    )
