"""The encoded corpus on disk: int32 token ids and int64 sentence offsets.

A fit that reads files writes the vocabulary ids of the corpus (OOV tokens
dropped) to a private temporary folder, then trains over a read-only memory
map of it, so resident memory does not grow with the corpus. The folder is
removed when the fit ends, whether it succeeds, raises or is interrupted
(and at interpreter exit as a last resort).

Disk space: 4 bytes per in-vocabulary token plus 8 bytes per line.
"""

import errno
import mmap
import os
import shutil
import tempfile
import functools
import threading
import weakref
from contextlib import contextmanager

import numpy as np

TOKENS_FILE = "tokens.int32"
OFFSETS_FILE = "offsets.int64"


def _write(f, data):
    """Write one array to an open file (a seam for tests that simulate a full disk)."""
    f.write(memoryview(np.ascontiguousarray(data)).cast("B"))


def _remove(path):
    shutil.rmtree(path, ignore_errors=True)


_scopes = threading.local()


@contextmanager
def cache_scope():
    """Remove every cache made in this thread inside the block when it ends."""
    stack = _scopes.__dict__.setdefault("stack", [])
    made = []
    stack.append(made)
    try:
        yield
    finally:
        stack.pop()
        for cache in made:
            cache.close()


def closes_caches(method):
    """Run ``method`` in a :func:`cache_scope`: a fit, transform or score that
    reads files leaves no cache behind, whether it returns or raises."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with cache_scope():
            return method(*args, **kwargs)

    return wrapper


class CorpusCache:
    """A temporary folder receiving one encoded corpus, appended in order.

    ``cache_dir`` is the folder to create it in (default: the system's
    temporary folder). ``source`` names the input in error messages.
    """

    def __init__(self, cache_dir=None, source=""):
        if cache_dir is not None:
            cache_dir = os.fspath(cache_dir)
            if not os.path.isdir(cache_dir):
                raise ValueError(f"cache_dir={cache_dir!r} is not an existing folder")
        self.source = source
        self.path = tempfile.mkdtemp(prefix="skw2v-cache-", dir=cache_dir)
        # Removes the folder if the owner forgets to (or the interpreter exits first).
        self._finalizer = weakref.finalize(self, _remove, self.path)
        self.n_tokens = 0
        self.n_documents = 0
        self._maps = []
        stack = getattr(_scopes, "stack", None)
        if stack:
            stack[-1].append(self)
        try:
            self._tokens_file = open(os.path.join(self.path, TOKENS_FILE), "wb")
            self._offsets_file = open(os.path.join(self.path, OFFSETS_FILE), "wb")
            self._write(self._offsets_file, np.zeros(1, dtype=np.int64))
        except BaseException:
            self.close()
            raise

    def _write(self, f, data):
        try:
            _write(f, data)
        except OSError as exc:
            need = 4 * self.n_tokens + 8 * self.n_documents
            hint = ("the disk is full; " if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "")
            raise OSError(
                exc.errno,
                f"cannot write the encoded corpus cache {f.name!r} while reading "
                f"{self.source}: {exc.strerror or exc}; {hint}{need:,} bytes were written so "
                "far, and it needs 4 bytes per token plus 8 per line; pass "
                "LineCorpus(..., cache_dir=...) on a disk with more space",
            ) from exc

    def append(self, ids, line_ends):
        """Append token ids and the ends of the lines they complete.

        ``line_ends`` counts ids from the start of ``ids``.
        """
        base = self.n_tokens
        if len(ids):
            self._write(self._tokens_file, np.asarray(ids, dtype=np.int32))
        if len(line_ends):
            self._write(self._offsets_file, np.asarray(line_ends, dtype=np.int64) + base)
        self.n_tokens += len(ids)
        self.n_documents += len(line_ends)

    def finish(self):
        """Close the files; return read-only (tokens, offsets) arrays mapping them."""
        for f in (self._tokens_file, self._offsets_file):
            try:
                f.flush()
            except OSError as exc:
                raise OSError(exc.errno, f"cannot write the encoded corpus cache {f.name!r}: "
                                         f"{exc.strerror or exc}") from exc
            f.close()
        tokens = self._map(TOKENS_FILE, np.int32, self.n_tokens)
        offsets = self._map(OFFSETS_FILE, np.int64, self.n_documents + 1)
        return tokens, offsets

    def _map(self, name, dtype, length):
        if length == 0:
            return np.zeros(0, dtype=dtype)
        with open(os.path.join(self.path, name), "rb") as f:
            m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        self._maps.append(m)
        array = np.frombuffer(m, dtype=dtype)
        if len(array) != length:
            raise OSError(f"the corpus cache {name!r} holds {len(array)} values, "
                          f"expected {length}")
        return array

    def release_pages(self):
        """Drop the mapped pages from this process's resident set.

        They stay in the page cache and come back on the next access, so this
        is always safe; it keeps the resident memory of a long pass over the
        map from growing with the corpus.
        """
        for m in self._maps:
            if not m.closed and hasattr(mmap, "MADV_DONTNEED"):
                try:
                    m.madvise(mmap.MADV_DONTNEED)
                except (OSError, ValueError):  # pragma: no cover
                    pass

    def close(self):
        """Remove the folder (the maps stay valid until their arrays are freed)."""
        for f in (getattr(self, "_tokens_file", None), getattr(self, "_offsets_file", None)):
            if f is not None and not f.closed:
                try:
                    f.close()
                except OSError:
                    pass
        self._finalizer()

    @property
    def closed(self):
        return not self._finalizer.alive

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def drop_mapped_pages(array):
    """Drop the resident pages of the memory map under ``array``, if any.

    For a long read of a mapped array in one call (``np.searchsorted`` over
    the sentence offsets while planning the chunks): done in slices with this
    in between, the pages it touched do not pile up in the resident set.
    """
    base = array
    while base is not None:
        if isinstance(base, mmap.mmap):
            if not base.closed and hasattr(mmap, "MADV_DONTNEED"):
                try:
                    base.madvise(mmap.MADV_DONTNEED)
                except (OSError, ValueError):  # pragma: no cover
                    pass
            return
        base = base.obj if isinstance(base, memoryview) else getattr(base, "base", None)


class PageReleaser:
    """While active, a thread drops the cache's mapped pages every ``interval`` s.

    Used around training: the kernel reads the memory map chunk by chunk,
    and without this every page read would stay resident until the end.
    """

    def __init__(self, cache, interval=0.02):
        self.cache = cache
        self.interval = interval
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        if self.cache is not None and self.cache._maps:
            self._thread = threading.Thread(target=self._run, name="skw2v-pages", daemon=True)
            self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(self.interval):
            self.cache.release_pages()

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.cache is not None:
            self.cache.release_pages()
