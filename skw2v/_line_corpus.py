"""``LineCorpus``: text files read as documents, one document per line.

What a corpus is (files, split, encoding, errors, the cap on distinct tokens
while counting, where the encoded corpus goes); the parallel passes that read
it for ``fit`` live in ``_file_passes``.
"""

import bz2
import codecs
import glob
import gzip
import lzma
import os

import numpy as np

_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
ERRORS = ("strict", "replace", "ignore")
DEFAULT_MAX_TYPES = 10_000_000


def _compression(path):
    return next((ext for ext in _OPENERS if path.endswith(ext)), None)


def _expand(paths):
    """Files named by a path, a directory (its files, sorted) or a glob."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    elif not isinstance(paths, (list, tuple)):
        raise TypeError("LineCorpus takes a path, a directory, a glob or a list of them, "
                        f"got {type(paths).__name__}")
    if len(paths) == 0:
        raise ValueError("LineCorpus needs at least one path, got an empty list")
    files = []
    for p in paths:
        if not isinstance(p, (str, os.PathLike)):
            raise TypeError(f"LineCorpus: a path must be a str or os.PathLike, got {p!r} of type "
                            f"{type(p).__name__}")
        p = os.fspath(p)
        if os.path.isdir(p):
            # hidden files (.DS_Store, editor swap files) are not corpus shards
            found = sorted(os.path.join(p, name) for name in os.listdir(p)
                           if not name.startswith(".") and os.path.isfile(os.path.join(p, name)))
            if not found:
                raise ValueError(f"corpus directory {p!r} holds no file")
            files.extend(found)
        elif os.path.isfile(p):
            files.append(p)
        elif glob.has_magic(p):
            found = sorted(f for f in glob.glob(p) if os.path.isfile(f))
            if not found:
                raise ValueError(f"corpus glob {p!r} matches no file")
            files.extend(found)
        else:
            raise ValueError(f"corpus file {p!r} does not exist or is not a file")
    return files


class LineCorpus:
    """Text files as a re-iterable corpus: one document per line.

    Parameters
    ----------
    path : path, directory, glob, or a list of them
        Files are read in the order given (a directory's files, hidden ones
        excepted, and a glob's matches sorted by name). ``.gz``, ``.bz2``
        and ``.xz`` files are decompressed on the fly.
    split : bool, default=True
        True: each line is split on whitespace (str.split(): word2vec.c's and
        gensim's LineSentence convention), tokens used as given; ``fit`` then
        reads the files in compiled code on ``n_jobs`` threads. False: each
        line goes through the estimator's tokenization (``lowercase``,
        ``token_pattern`` or ``tokenizer``), in batches of lines in Python:
        slower.
    encoding : str, default="utf-8"
        Other encodings than UTF-8 are decoded in Python (slower).
    errors : {"strict", "replace", "ignore"}, default="strict"
        Invalid UTF-8: "strict" raises a ValueError naming the file and the
        line; "replace" reads each invalid byte sequence as U+FFFD; "ignore"
        drops it (as ``bytes.decode`` does).
    max_types : int, default=10_000_000
        Most distinct tokens held in memory while counting (about 60 bytes
        each). The reading threads share one table split by hash into a part
        per thread, each part holding up to ``max_types / n_threads``.
        Below the cap the counts are exact. When a part fills up, the
        median count is subtracted from all its counts and the tokens that
        reach zero are dropped (a Misra-Gries step): no count is then more
        than ``E`` below its true value, and never above it, with
        ``E <= 2 * n_part * n_threads / max_types`` where ``n_part`` is
        the number of tokens that fell into the busiest part (at most
        ``n_tokens``; about ``n_tokens / n_threads`` when no word dominates);
        a word with more than ``E`` occurrences is always kept. ``fit`` warns
        with the value of E.
    cache_dir : path or None, default=None
        Where ``fit`` writes the encoded corpus (4 bytes per token plus 8 per
        line) for training; a private folder made there is removed when the
        call ends. None: the system's temporary folder.

    Iterating over a LineCorpus yields each line's tokens (``split=True``)
    or each line (``split=False``), file after file.
    """

    def __init__(self, path, *, split=True, encoding="utf-8", errors="strict",
                 max_types=DEFAULT_MAX_TYPES, cache_dir=None):
        self.paths = _expand(path)
        # The single file given, as before the reader took several.
        self.path = self.paths[0] if len(self.paths) == 1 else None
        self.split = bool(split)
        try:
            self.encoding = codecs.lookup(encoding).name
        except (LookupError, TypeError):
            raise ValueError(f"encoding={encoding!r} is not a known text encoding") from None
        if errors not in ERRORS:
            raise ValueError(f"errors must be one of {ERRORS}, got {errors!r}")
        self.errors = errors
        if isinstance(max_types, bool) or not isinstance(max_types, (int, np.integer)) \
                or max_types < 2:
            raise ValueError(f"max_types must be an integer >= 2, got {max_types!r}")
        self.max_types = int(max_types)
        if cache_dir is not None and not os.path.isdir(os.fspath(cache_dir)):
            raise ValueError(f"cache_dir={os.fspath(cache_dir)!r} is not an existing folder")
        self.cache_dir = cache_dir

    @property
    def compiled(self):
        """True when the compiled whitespace reader applies (split, UTF-8)."""
        return self.split and self.encoding == "utf-8"

    def open_text(self, path):
        opener = _OPENERS.get(_compression(path), open)
        return opener(path, "rt", encoding=self.encoding, errors=self.errors)

    def __iter__(self):
        for path in self.paths:
            with self.open_text(path) as f:
                for line in _text_lines(f, path):
                    yield line.split() if self.split else line

    def __repr__(self):
        shown = self.paths[0] if len(self.paths) == 1 else f"{len(self.paths)} files"
        return f"LineCorpus({shown!r})"


def _text_lines(f, path):
    """Lines of a text file; a decoding error names the file and the line."""
    try:
        yield from f
    except UnicodeDecodeError as exc:
        line = _undecodable_line(path, exc.encoding)
        raise ValueError(
            f"corpus file {path!r}, line {line}: invalid {exc.encoding} ({exc.reason}); "
            "pass LineCorpus(..., errors='replace') or errors='ignore' to read it anyway"
        ) from None


def _undecodable_line(path, encoding):
    """The first line that does not decode (the text layer decodes whole blocks)."""
    opener = _OPENERS.get(_compression(path), open)
    line = 0
    with opener(path, "rb") as f:
        for raw in f:
            for part in raw.splitlines(keepends=True):  # \r, \n, \r\n: universal newlines
                line += 1
                try:
                    part.decode(encoding)
                except UnicodeDecodeError:
                    return line
    return line


# ------------------------------------------------------------ byte ranges
