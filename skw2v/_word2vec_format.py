"""The word2vec C formats (text and binary), as gensim reads and writes them: words and
vectors in, words and vectors out (``skw2v.word2vec_format`` turns them into models).

Both start with a header line ``"<n_words> <vector_size>\\n"``. Then, one
word a row, most frequent first:

* text: ``word v1 v2 ... vd\\n``, values as decimal numbers;
* binary: ``word`` (UTF-8), one space, ``vector_size`` little-endian float32
  values (4 bytes each), then ``\\n``.

A ``.gz`` file is (de)compressed.
"""

import gzip
import os
import warnings

import numpy as np

from ._fileio import atomic_write

_FLOAT = np.dtype("<f4")
_BLOCK_ROWS = 4096
_READ_BYTES = 1 << 20


def write_word2vec(path, words, vectors, *, binary=False):
    """Write ``words`` (list of str) and their ``vectors`` (float32 (n, d)) to ``path``.

    Written atomically (temporary file + rename); gzip-compressed when
    ``path`` ends with ``.gz``. Text values have 9 significant digits, which
    read back to the same float32 values. A word that is empty or holds
    whitespace cannot be written (ValueError).
    """
    if not isinstance(binary, bool):
        raise TypeError(f"binary must be True or False, got {binary!r}")
    for t in words:
        if t == "" or any(c.isspace() for c in t):
            raise ValueError(
                f"word {t!r} cannot be written in the word2vec format, whose words "
                "end at a space: it is empty or contains whitespace"
            )
    tokens = list(words)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    header = f"{len(tokens)} {vectors.shape[1]}\n".encode("ascii")
    text_row = " ".join(["%.9g"] * vectors.shape[1])

    def write(raw):
        f = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) if _is_gz(path) else raw
        f.write(header)
        for start in range(0, len(tokens), _BLOCK_ROWS):
            block = vectors[start:start + _BLOCK_ROWS]
            block_words = tokens[start:start + _BLOCK_ROWS]
            if binary:
                le = block.astype(_FLOAT, copy=False)
                f.write(b"".join(w.encode("utf-8") + b" " + row.tobytes() + b"\n"
                                 for w, row in zip(block_words, le)))
            else:
                f.write("".join(f"{w} {text_row % tuple(row)}\n"
                                for w, row in zip(block_words, block.tolist())).encode("utf-8"))
        if f is not raw:
            f.close()

    atomic_write(path, write)


def _is_gz(path):
    return os.fspath(path).endswith(".gz")


def _open(path):
    f = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    if f.read(2) == b"\x1f\x8b":
        f.seek(0)
        return gzip.GzipFile(fileobj=f, mode="rb"), f
    f.seek(0)
    return f, f


def _bad(path, why):
    return ValueError(f"{os.fspath(path)!r} is not a word2vec-format file: {why}")


def read_word2vec(path, *, binary=None, limit=None, encoding="utf-8", unicode_errors="strict"):
    """Read a word2vec text or binary file; return ``(words, vectors)``.

    ``words`` is a list of str and ``vectors`` a float32 array of shape
    ``(len(words), vector_size)``. ``binary=None`` detects the format.
    ``limit`` reads only the first ``limit`` words. A word seen twice keeps
    its first vector (with a warning).
    """
    if binary not in (None, True, False):
        raise TypeError(f"binary must be None, True or False, got {binary!r}")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)
                              or limit < 1):
        raise ValueError(f"limit must be a positive integer or None, got {limit!r}")
    f, raw = _open(path)
    try:
        try:
            header = f.readline(200)
        except (OSError, EOFError) as exc:
            raise _bad(path, f"it cannot be read ({exc})") from None
        parts = header.split()
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or not header.endswith(b"\n"):
            raise _bad(path, f"the first line must be '<n_words> <vector_size>', got {header[:60]!r}")
        n_words, dim = int(parts[0]), int(parts[1])
        if n_words < 1 or dim < 1:
            raise _bad(path, f"the header announces {n_words} words of size {dim}")
        n_rows = n_words if limit is None else min(limit, n_words)
        reader = _Reader(f, path, encoding, unicode_errors)
        if binary is None:
            binary = not reader.looks_like_text(dim)
        read_row = reader.binary_row if binary else reader.text_row
        words, vectors, seen = [], np.empty((n_rows, dim), dtype=np.float32), {}
        for i in range(n_rows):
            word = read_row(dim, vectors, len(words), i)
            if word in seen:
                continue
            seen[word] = len(words)
            words.append(word)
    except (OSError, EOFError) as exc:  # e.g. a damaged .gz
        raise _bad(path, f"it cannot be read ({exc})") from None
    finally:
        f.close()
        raw.close()
    if len(words) < n_rows:
        warnings.warn(f"{os.fspath(path)!r}: {n_rows - len(words)} duplicate word(s) ignored "
                      "(the first vector of each word is kept)", stacklevel=2)
    vectors = vectors[:len(words)]
    if not np.isfinite(vectors).all():
        bad = words[int(np.flatnonzero(~np.isfinite(vectors).all(axis=1))[0])]
        raise _bad(path, f"the vector of {bad!r} has non-finite values")
    return words, vectors


class _Reader:
    """Buffered parsing of rows; ``i`` (0-based row) only serves error messages."""

    def __init__(self, f, path, encoding, errors):
        self.f, self.path, self.encoding, self.errors = f, path, encoding, errors
        self.buf, self.pos = b"", 0

    def _fill(self, need):
        """Make at least ``need`` bytes available from ``pos``; False at end of file."""
        while len(self.buf) - self.pos < need:
            chunk = self.f.read(max(_READ_BYTES, need))
            if not chunk:
                return False
            self.buf = self.buf[self.pos:] + chunk
            self.pos = 0
        return True

    def looks_like_text(self, dim):
        # A text row is a line of one word and `dim` numbers; the 4*dim raw bytes of a
        # binary row almost never decode into that.
        self._fill(64 * dim + 1024)
        end = self.buf.find(b"\n", self.pos)
        line = self.buf[self.pos:end if end >= 0 else len(self.buf)]
        try:
            values = line.decode(self.encoding).rstrip().partition(" ")[2].split()
            np.array(values, dtype=np.float32)
        except (UnicodeDecodeError, ValueError):
            return False
        return len(values) == dim

    def _decode(self, word, i):
        try:
            return word.decode(self.encoding, errors=self.errors)
        except UnicodeDecodeError as exc:
            raise _bad(self.path, f"word {i + 1} is not valid {self.encoding} ({exc}); "
                                  "pass unicode_errors='replace' to read it anyway") from None

    def binary_row(self, dim, out, row, i):
        while True:
            self._fill(1)
            if self.pos < len(self.buf) and self.buf[self.pos:self.pos + 1] in (b"\n", b"\r"):
                self.pos += 1  # the newline ending the previous row
                continue
            break
        space = self.buf.find(b" ", self.pos)
        while space < 0:
            have = len(self.buf) - self.pos
            if have > 1 << 16:
                raise _bad(self.path, f"row {i + 1} has no space after its word")
            if not self._fill(have + 1):
                raise _bad(self.path, f"it ends after {i} of the announced rows (truncated?)")
            space = self.buf.find(b" ", self.pos)
        word = self.buf[self.pos:space]
        if not word:
            raise _bad(self.path, f"row {i + 1} has an empty word")
        self.pos = space + 1
        nbytes = 4 * dim
        if not self._fill(nbytes):
            raise _bad(self.path, f"the vector of row {i + 1} is truncated")
        out[row] = np.frombuffer(self.buf, dtype=_FLOAT, count=dim, offset=self.pos)
        self.pos += nbytes
        return self._decode(word, i)

    def text_row(self, dim, out, row, i):
        end = self.buf.find(b"\n", self.pos)
        while end < 0 and self._fill(len(self.buf) - self.pos + 1):
            end = self.buf.find(b"\n", self.pos)
        if end < 0:
            end = len(self.buf)
        line = self.buf[self.pos:end]
        self.pos = end + 1
        if not line.strip():
            raise _bad(self.path, f"it ends after {i} of the announced rows (truncated?)")
        # The word ends at the first ASCII space (it may hold other whitespace).
        word, _, rest = self._decode(line, i).rstrip().partition(" ")
        values = rest.split()
        if not word:
            raise _bad(self.path, f"row {i + 1} starts with a space instead of a word")
        if len(values) != dim:
            raise _bad(self.path, f"row {i + 1} ({word!r}) has {len(values)} values, "
                                  f"expected {dim}")
        try:
            out[row] = np.array(values, dtype=np.float32)
        except ValueError:
            raise _bad(self.path, f"row {i + 1} ({word!r}) has a value that is not a "
                                  "number") from None
        return word
