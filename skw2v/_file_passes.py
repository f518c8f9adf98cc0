"""The two passes that read a ``LineCorpus`` for fit, on every core.

Two passes over the files, each on ``n_jobs`` threads:

1. count: the files are cut into byte ranges that start and end at line
   boundaries (``_file_ranges``); each thread splits its ranges on whitespace and counts the
   tokens, without the GIL, into one C hash table that all threads share,
   split by hash into a locked part per thread (``_reader``). The number of
   distinct tokens held is capped (``max_types``): see :class:`LineCorpus`
   for the error bound above it.
2. encode: each range is turned into vocabulary ids (OOV tokens dropped,
   line ends kept as sentence offsets) and appended, in file order, to an
   on-disk cache (``_corpus_cache``) that training reads as a memory map.

``.gz``, ``.bz2`` and ``.xz`` files are decompressed in blocks (one thread
per file) and fed to the same C loop. With ``split=False`` the lines go
through the estimator's tokenizer in Python, in batches: slower.

``fit_files`` and ``encode_known_files`` are the stages ``Word2VecNS`` calls;
``file_partitions`` and ``read_partition`` are what ``skw2v.dask`` workers run.
"""

import contextlib
import gc
import itertools
import threading
import warnings
from collections import Counter
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

import numpy as np

from . import _reader
from ._corpus_cache import CorpusCache, PageReleaser
from ._file_ranges import (Piece, Source, Stopped, bad_utf8_error, blocks, file_size,
                           plan_pieces)
from ._line_corpus import LineCorpus, _compression, _text_lines
from ._vocab import document_frequency

BLOCK_BYTES = 4 << 20        # bytes read per call into the C loop
TEXT_BATCH_LINES = 10_000    # lines per batch through a Python tokenizer
# Encoded bytes waiting for their turn, all threads together: a few ranges'
# output; more would only let a stalled thread (a busy machine) grow the RSS.
WRITE_BUDGET = 32 << 20


class Stopped(Exception):
    """Another task failed or Ctrl-C was pressed: stop quietly."""

# ------------------------------------------------------------ thread pool
class _Progress:
    def __init__(self, verbose, desc, total=None):
        self.bar = None
        self._lock = threading.Lock()
        self.count = 0
        self._shown = 0
        if verbose:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit="tok", unit_scale=True, desc=desc)

    def add(self, n):
        with self._lock:
            self.count += n

    def refresh(self):
        if self.bar is not None and self.count > self._shown:
            self.bar.update(self.count - self._shown)
            self._shown = self.count

    def close(self):
        if self.bar is not None:
            self.refresh()
            self.bar.close()


def _run_pieces(pieces, work, n_jobs, progress):
    """Run ``work(piece, stop)`` on ``n_jobs`` threads; re-raise the first failure.

    Ctrl-C (or a failure) sets ``stop``: the other tasks end at their next
    block and nothing keeps running when this returns or raises.
    """
    stop = threading.Event()
    results = [None] * len(pieces)
    n_jobs = max(1, min(n_jobs, len(pieces)))
    pool = ThreadPoolExecutor(max_workers=n_jobs, thread_name_prefix="skw2v-read")
    futures = {}
    try:
        futures = {pool.submit(work, piece, stop): piece.seq for piece in pieces}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.1, return_when=FIRST_EXCEPTION)
            progress.refresh()
            for fut in done:
                if fut.exception() is not None and not isinstance(fut.exception(), Stopped):
                    raise fut.exception()
                results[futures[fut]] = fut.result() if fut.exception() is None else None
    except BaseException:
        stop.set()
        for fut in futures:
            fut.cancel()
        # Wait inline: a second Ctrl-C must not leave a thread writing the cache.
        while True:
            try:
                pool.shutdown(wait=True)
                break
            except KeyboardInterrupt:
                continue
        # Report the earliest real failure rather than a Stopped side effect.
        raise
    pool.shutdown(wait=True)
    return results


class _PerThread:
    """Per-thread state created on first use and kept for the whole pass."""

    def __init__(self, factory):
        self._local = threading.local()
        self._factory = factory
        self._lock = threading.Lock()
        self.all = []

    def get(self):
        value = getattr(self._local, "value", None)
        if value is None:
            value = self._local.value = self._factory()
            with self._lock:
                self.all.append(value)
        return value


# ----------------------------------------------------------------- counting
class TokenCounts:
    """Result of the counting pass."""

    def __init__(self, table, n_tokens, n_documents, text_mode, errors):
        self.table = table            # _reader.Table (in parts): token bytes -> count
        self.n_tokens = n_tokens
        self.n_documents = n_documents
        self.text_mode = text_mode    # keys come from Python strings (no invalid UTF-8)
        self.errors = errors

    @property
    def error(self):
        """No count is more than this below its true value (0: exact)."""
        return self.table.error


def count_tokens(corpus, *, n_jobs=1, verbose=0, analyzer=None, range_bytes=None,
                 block_bytes=None, n_parts=None):
    """Count the tokens of every line of ``corpus`` on ``n_jobs`` threads.

    ``analyzer`` (``line -> tokens``) is used when ``corpus.split`` is False.
    ``n_parts``: parts of the shared table (default: one per thread).
    """
    n_jobs = max(1, int(n_jobs))
    pieces = plan_pieces(corpus, n_jobs, range_bytes)
    block_bytes = block_bytes or BLOCK_BYTES
    # One table for all threads, split by hash into a locked part per thread:
    # no type is held (and inserted) twice and nothing is merged at the end,
    # which a table per thread needed (and scaled 1.4x from 1 to 2 threads).
    table = _reader.Table(corpus.max_types, True, n_parts or max(1, min(n_jobs, len(pieces))))
    strict = corpus.errors == "strict"
    progress = _Progress(verbose, "skw2v vocabulary")

    def count_bytes(piece, stop):
        state = _reader.new_state()
        source = Source(piece)
        try:
            seen = 0
            for buf, n, at_end, offset in blocks(source, block_bytes, stop):
                before = state[_reader.TOKENS]
                if table.count(buf, n, at_end, state, strict):
                    raise bad_utf8_error(piece, offset, buf, int(state[_reader.BAD_AT]))
                progress.add(int(state[_reader.TOKENS] - before))
                seen += n
        finally:
            source.close()
        if piece.kind == "packed" and seen == 0:
            raise ValueError(f"corpus file {piece.path!r} is empty")
        lines = int(state[_reader.LINES]) + int(piece.at_eof and state[_reader.MID] != 0)
        return int(state[_reader.TOKENS]), lines

    def count_text(piece, stop):
        tokens = lines = 0
        split = analyzer if (analyzer is not None and not corpus.split) else str.split
        with corpus.open_text(piece.path) as f:
            batches = _batched(_text_lines(f, piece.path), TEXT_BATCH_LINES)
            for batch in batches:
                if stop.is_set():
                    raise Stopped
                counter = Counter()
                for line in batch:
                    toks = split(line)
                    counter.update(toks)
                n = sum(counter.values())
                table.add([t.encode("utf-8", "surrogatepass") for t in counter],
                          np.fromiter(counter.values(), dtype=np.int64, count=len(counter)))
                tokens += n
                lines += len(batch)
                progress.add(n)
        if lines == 0:
            raise ValueError(f"corpus file {piece.path!r} is empty")
        return tokens, lines

    def work(piece, stop):
        return (count_text if piece.kind == "text" else count_bytes)(piece, stop)

    try:
        results = _run_pieces(pieces, work, n_jobs, progress)
    finally:
        progress.close()
    return TokenCounts(table, sum(r[0] for r in results), sum(r[1] for r in results),
                       text_mode=not corpus.compiled, errors=corpus.errors)


def _batched(iterable, n):
    it = iter(iterable)
    while True:
        batch = list(itertools.islice(it, n))
        if not batch:
            return
        yield batch


# ---------------------------------------------------------------- vocabulary
class Vocabulary:
    """The kept tokens, their counts, and a table from token bytes to row."""

    def __init__(self, types, counts, table):
        self.types = types      # list of str, final row order
        self.counts = counts    # int64 (V,)
        self.table = table      # _reader.Table: bytes -> id (every byte form of a token)


@contextlib.contextmanager
def _no_gc():
    """Millions of new small objects would trigger full collections for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def select_vocabulary_from_counts(counts, min_count, max_vocab_size):
    """Apply ``min_count`` and ``max_vocab_size`` as ``fit`` does for lists.

    Byte strings that decode to the same token (``errors="replace"`` or
    ``"ignore"``) are merged first; ties are ordered by token.
    """
    with _no_gc():
        return _select_vocabulary_from_counts(counts, min_count, max_vocab_size)


def _select_vocabulary_from_counts(counts, min_count, max_vocab_size):
    all_counts, all_invalid = counts.table.counts()
    candidates = (all_counts >= min_count) | all_invalid
    if max_vocab_size is not None and not all_invalid.any() \
            and np.count_nonzero(candidates) > max_vocab_size:
        # Only the top max_vocab_size counts (and ties with the last) become Python strings.
        last = np.partition(all_counts[candidates], -max_vocab_size)[-max_vocab_size]
        candidates &= all_counts >= last
    idx = np.flatnonzero(candidates)
    if counts.text_mode or not all_invalid[idx].any():
        return _ordered_vocabulary(counts, idx, all_counts[idx], max_vocab_size,
                                   "surrogatepass" if counts.text_mode else "strict")
    # Invalid UTF-8 under errors="replace" / "ignore": spellings that decode alike merge.
    keys, key_counts, invalid = counts.table.keys(idx), all_counts[idx], all_invalid[idx]
    del all_counts, all_invalid, candidates
    merged = {}
    for key, count, bad in zip(keys, key_counts.tolist(), invalid.tolist()):
        name = key.decode("utf-8", counts.errors)
        if not name:  # "ignore" removed the whole token, as str.split() would
            continue
        if name not in merged:
            merged[name] = [0, []]
            if bad:  # the valid spelling may sit below min_count in the table
                found = counts.table.get(name.encode("utf-8"))
                if found is not None:
                    merged[name][0] += found[0]
                    merged[name][1].append(name.encode("utf-8"))
        entry = merged[name]
        if key not in entry[1]:
            entry[0] += count
            entry[1].append(key)
    names = list(merged)
    totals = np.asarray([merged[n][0] for n in names], dtype=np.int64)
    kept = _vocabulary_order(names, totals, min_count, max_vocab_size)
    spellings = [merged[names[i]][1] for i in kept]
    table = _reader.Table(0, False)
    table.add([k for f in spellings for k in f],
              ids=np.repeat(np.arange(len(kept), dtype=np.int32), [len(f) for f in spellings]))
    return Vocabulary([names[i] for i in kept], totals[kept], table)


def _ordered_vocabulary(counts, idx, key_counts, max_vocab_size, errors):
    """The vocabulary when every kept key decodes to a distinct token: the keys are
    read from the table once, already in (count descending, token ascending) order.
    The serial step between the two passes: on 628k types, building Python objects
    in table order and then permuting them cost twice as much (cache misses)."""
    order = np.argsort(-key_counts, kind="stable")
    n_keep = len(order) if max_vocab_size is None else min(len(order), max_vocab_size)
    sorted_counts = key_counts[order]
    ends = np.flatnonzero(np.diff(sorted_counts)) + 1
    starts = np.concatenate([[0], ends])
    stops = np.concatenate([ends, [len(order)]])
    # only the runs of equal counts that reach into the kept part are read and sorted
    last = int(np.searchsorted(starts, n_keep, side="left"))
    n_read = int(stops[last - 1]) if last else 0
    keys = counts.table.keys(idx[order[:n_read]])
    for a, b in zip(starts[:last].tolist(), stops[:last].tolist()):
        if b - a > 1:  # UTF-8 bytes sort as their code points, i.e. as the str tokens
            keys[a:b] = sorted(keys[a:b])
    del keys[n_keep:]
    if errors == "strict":  # whitespace-split tokens hold no newline: one bulk decode
        types = b"\n".join(keys).decode("utf-8").split("\n") if keys else []
    else:
        types = [k.decode("utf-8", errors) for k in keys]
    table = _reader.Table(0, False)
    table.add(keys, ids=np.arange(n_keep, dtype=np.int32))
    return Vocabulary(types, np.ascontiguousarray(sorted_counts[:n_keep], dtype=np.int64),
                      table)


def _vocabulary_order(names, counts, min_count, max_vocab_size):
    """``_vocab.select_vocabulary``'s order, (count descending, token ascending),
    sorting by count in NumPy and only the runs of equal counts by token."""
    counts = np.asarray(counts, dtype=np.int64)
    candidates = np.flatnonzero(counts >= min_count)
    order = candidates[np.argsort(-counts[candidates], kind="stable")]
    runs = np.flatnonzero(np.diff(counts[order])) + 1
    bounds = np.concatenate([[0], runs, [len(order)]]).tolist()
    kept = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        if max_vocab_size is not None and len(kept) >= max_vocab_size:
            break
        run = order[a:b].tolist()
        kept.extend(run if b - a == 1 else sorted(run, key=names.__getitem__))
    return kept[:max_vocab_size] if max_vocab_size is not None else kept


def vocabulary_table(types):
    """A lookup table for a fitted vocabulary (row order of ``types``)."""
    table = _reader.Table(0, False)
    table.add([t.encode("utf-8", "surrogatepass") for t in types],
              ids=np.arange(len(types), dtype=np.int32))
    return table


# ----------------------------------------------------------------- encoding
class EncodedFiles:
    """The encoded corpus in its cache: memory-mapped ids and offsets."""

    def __init__(self, tokens, offsets, df, n_seen, cache):
        self.tokens = tokens        # int32 (N,), read-only memory map
        self.offsets = offsets      # int64 (S + 1,)
        self.types = None
        self.df = df                # int64 (V,): documents holding each word
        self.n_seen = n_seen        # tokens read, OOV included
        self.cache = cache

    @property
    def n_documents(self):
        return len(self.offsets) - 1

    def close(self):
        self.cache.close()


class _OrderedWriter:
    """Appends the tasks' output to the cache in task order.

    A task writes directly when all earlier tasks are written (its turn);
    otherwise it buffers, and waits for its turn once all tasks together
    buffer more than ``budget`` bytes. The task whose turn it is never
    waits, so this cannot deadlock.
    """

    def __init__(self, cache, budget=WRITE_BUDGET):
        self.cache = cache
        self.budget = budget
        self.cond = threading.Condition()
        self.next = 0
        self.finished = {}
        self.buffered = 0

    def put(self, task, ids, ends, stop):
        """``ids``/``ends`` may be views of a buffer the caller reuses: they are
        copied only when kept for later."""
        size = ids.nbytes + ends.nbytes
        with self.cond:
            while self.next != task["seq"]:
                if self.buffered + size <= self.budget:
                    task["chunks"].append((ids.copy(), ends.copy()))
                    task["bytes"] += size
                    self.buffered += size
                    return
                if stop.is_set():
                    raise Stopped
                self.cond.wait(0.1)
            chunks, task["chunks"] = task["chunks"], []
            self.buffered -= task["bytes"]
            task["bytes"] = 0
        for c in chunks:
            self.cache.append(*c)
        self.cache.append(ids, ends)

    def finish(self, task):
        with self.cond:
            if self.next != task["seq"]:
                self.finished[task["seq"]] = task
                return
        while task is not None:
            for c in task["chunks"]:
                self.cache.append(*c)
            with self.cond:
                self.buffered -= task["bytes"]
                self.next += 1
                task = self.finished.pop(self.next, None)
                self.cond.notify_all()


def encode_files(corpus, vocabulary, n_vocab, *, n_jobs=1, verbose=0, analyzer=None,
                 total_tokens=None, range_bytes=None, block_bytes=None, text=False,
                 strict=False):
    """Write the ids of ``corpus`` to a new cache; return :class:`EncodedFiles`.

    ``vocabulary`` is a ``_reader.Table`` (bytes -> id) for the compiled
    reader, or a dict (str -> id) when lines go through Python. ``strict``:
    check that unknown tokens are valid UTF-8 (the counting pass of a fit
    already did). The cache is removed if this raises.
    """
    n_jobs = max(1, int(n_jobs))
    pieces = plan_pieces(corpus, n_jobs, range_bytes, text=text)
    block_bytes = block_bytes or BLOCK_BYTES
    source_name = (repr(corpus.paths[0]) if len(corpus.paths) == 1
                   else f"{len(corpus.paths)} corpus files")
    cache = CorpusCache(corpus.cache_dir, source=source_name)
    try:
        writer = _OrderedWriter(cache)
        scratch = _PerThread(lambda: {
            "docs": np.zeros((max(n_vocab, 1), 2), dtype=np.int64),  # (last doc, df) per id
            "doc": 0,
            "out": np.empty(0, dtype=np.int32),
            "ends": np.empty(0, dtype=np.int64),
        })
        progress = _Progress(verbose, "skw2v encoding", total=total_tokens)

        def encode_bytes(piece, stop):
            mine = scratch.get()
            task = {"seq": piece.seq, "chunks": [], "bytes": 0}
            state = _reader.new_state()
            state[_reader.DOC] = mine["doc"]
            source = Source(piece)
            try:
                for buf, n, at_end, offset in blocks(source, block_bytes, stop):
                    if len(mine["out"]) < n // 2 + 1 or len(mine["ends"]) < n + 1:
                        mine["out"] = np.empty(n // 2 + 1, dtype=np.int32)
                        mine["ends"] = np.empty(n + 1, dtype=np.int64)
                    before = state[_reader.TOKENS]
                    n_ids, n_ends, status = vocabulary.encode(
                        buf, n, at_end, state, mine["out"], mine["ends"], mine["docs"], strict)
                    if status:
                        raise bad_utf8_error(piece, offset, buf, int(state[_reader.BAD_AT]))
                    if piece.at_eof and at_end and state[_reader.MID]:
                        mine["ends"][n_ends] = n_ids  # the last line has no newline
                        n_ends += 1
                        state[_reader.DOC] += 1
                        state[_reader.MID] = 0
                    writer.put(task, mine["out"][:n_ids], mine["ends"][:n_ends], stop)
                    progress.add(int(state[_reader.TOKENS] - before))
            finally:
                source.close()
                mine["doc"] = int(state[_reader.DOC])
            writer.finish(task)

        def encode_text(piece, stop):
            mine = scratch.get()
            task = {"seq": piece.seq, "chunks": [], "bytes": 0}
            split = analyzer if (analyzer is not None and not corpus.split) else str.split
            get = vocabulary.get
            with corpus.open_text(piece.path) as f:
                for batch in _batched(_text_lines(f, piece.path), TEXT_BATCH_LINES):
                    if stop.is_set():
                        raise Stopped
                    ids, ends, seen = [], [], 0
                    for line in batch:
                        toks = split(line)
                        seen += len(toks)
                        ids.extend(i for i in map(get, toks) if i is not None)
                        ends.append(len(ids))
                    ids = np.asarray(ids, dtype=np.int32)
                    ends = np.asarray(ends, dtype=np.int64)
                    offsets = np.concatenate([[0], ends])
                    mine["docs"][:n_vocab, 1] += document_frequency(ids, offsets, n_vocab)
                    writer.put(task, ids, ends, stop)
                    progress.add(seen)
            writer.finish(task)

        def work(piece, stop):
            return (encode_text if piece.kind == "text" else encode_bytes)(piece, stop)

        try:
            _run_pieces(pieces, work, n_jobs, progress)
        finally:
            progress.close()
        tokens, offsets = cache.finish()
        df = np.zeros(n_vocab, dtype=np.int64)
        for mine in scratch.all:
            df += mine["docs"][:n_vocab, 1]
        return EncodedFiles(tokens, offsets, df, progress.count, cache)
    except BaseException:
        cache.close()
        raise


# ------------------------------------------------------- the estimator's stages
def fit_files(corpus, *, min_count, max_vocab_size, n_threads=1, verbose=0, analyzer=None):
    """The vocabulary stage of ``fit`` on files: both passes.

    Returns ``(encoded, index_to_token, token_counts, df)`` with ``encoded``
    an :class:`EncodedFiles` over the cache (removed by its ``close`` or
    by the caller's :func:`~skw2v._corpus_cache.cache_scope`).
    """
    from ._vocab import check_corpus_size

    counts = count_tokens(corpus, n_jobs=n_threads, verbose=verbose, analyzer=analyzer)
    check_corpus_size(counts.n_documents, counts.n_tokens, name=repr(corpus))
    if counts.error:
        warnings.warn(
            f"{corpus!r} has more distinct tokens than max_types={corpus.max_types:,} allows "
            f"while counting: a token's count may be up to {counts.error:,} below its true "
            "value (never above), and tokens seen fewer times may be missing; raise "
            "LineCorpus(max_types=...) for exact counts", UserWarning, stacklevel=4)
    vocab = select_vocabulary_from_counts(counts, min_count, max_vocab_size)
    if not vocab.types:
        largest = int(counts.table.counts()[0].max())
        raise ValueError(
            f"the vocabulary is empty: {corpus!r} has {counts.table.n_types} distinct "
            f"token(s), the most frequent seen {largest} time(s), and min_count={min_count} "
            "removed them all; lower min_count")
    n_tokens = counts.n_tokens
    del counts  # the counting table is not needed any more
    mapping = vocab.table if corpus.compiled else {t: i for i, t in enumerate(vocab.types)}
    encoded = encode_files(corpus, mapping, len(vocab.types), n_jobs=n_threads, verbose=verbose,
                           analyzer=analyzer, total_tokens=n_tokens)
    return encoded, np.array(vocab.types, dtype=object), vocab.counts, encoded.df


def encode_known_files(corpus, index_to_token, vocabulary, *, n_threads=1, verbose=0,
                       analyzer=None):
    """Encode files with a fitted vocabulary (transform, score, partial_fit)."""
    if corpus.compiled and corpus.errors == "strict":
        return encode_files(corpus, vocabulary_table(index_to_token), len(index_to_token),
                            n_jobs=n_threads, verbose=verbose, strict=True)
    # Invalid UTF-8 read with "replace"/"ignore" must meet the fitted tokens as
    # Python decodes them: read as text.
    return encode_files(corpus, vocabulary, len(index_to_token), n_jobs=n_threads,
                        verbose=verbose, analyzer=analyzer, text=True)


def training_pages(corpus):
    """Around training: keeps the memory-mapped corpus out of the resident set."""
    cache = getattr(corpus, "cache", None)
    return PageReleaser(cache) if cache is not None else contextlib.nullcontext()


# ------------------------------------------------------------ dask partitions
def file_partitions(paths, n_parts, max_bytes=64 << 20):
    """Cut local files into about ``n_parts`` partitions of whole-line byte ranges
    (at most ``max_bytes`` each, so that more partitions balance the workers).

    Returns a list of partitions, each a list of ``(path, start, end, at_eof,
    kind)`` for :func:`read_partition` (a compressed file is one piece).
    """
    corpus = LineCorpus(list(paths))
    total = sum(file_size(p) for p in corpus.paths if not _compression(p))
    range_bytes = min(max_bytes, max(1, -(-total // max(1, n_parts))))
    pieces = plan_pieces(corpus, n_parts, range_bytes)
    return [[(p.path, p.start, p.end, p.at_eof, p.kind)] for p in pieces]


def read_partition(specs, block_bytes=None):
    """Read pieces with the compiled reader into provisional ids.

    Returns ``(tokens int32, offsets int64, types list of str)``: token i of
    the partition has id ``tokens[i]``, ids numbered by first appearance
    (what ``_corpus.encode_new`` gives for the lines' ``str.split()``).
    """
    table = _reader.Table(0, True)
    chunks, ends, n_ids = [], [], 0
    stop = threading.Event()
    block_bytes = block_bytes or BLOCK_BYTES
    for path, start, end, at_eof, kind in specs:
        piece = Piece(0, path, start, end, at_eof, kind)
        state = _reader.new_state()
        source = Source(piece)
        seen = 0
        out = np.empty(0, dtype=np.int32)
        line_ends = np.empty(0, dtype=np.int64)
        try:
            for buf, n, at_end, offset in blocks(source, block_bytes, stop):
                if len(out) < n // 2 + 1 or len(line_ends) < n + 1:
                    out = np.empty(n // 2 + 1, dtype=np.int32)
                    line_ends = np.empty(n + 1, dtype=np.int64)
                got, n_ends, status = table.intern_encode(buf, n, at_end, state, out,
                                                          line_ends, True)
                if status:
                    raise bad_utf8_error(piece, offset, buf, int(state[_reader.BAD_AT]))
                chunks.append(out[:got].copy())
                ends.append(line_ends[:n_ends] + n_ids)
                n_ids += got
                seen += n
        finally:
            source.close()
        if seen == 0 and at_eof and start == 0:
            raise ValueError(f"corpus file {path!r} is empty")
        if at_eof and state[_reader.MID]:
            ends.append(np.array([n_ids], dtype=np.int64))
    tokens = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int32)
    offsets = np.concatenate([np.zeros(1, dtype=np.int64)] + ends)
    types = [k.decode("utf-8") for k in table.keys(np.arange(table.n_types))]
    return tokens, offsets, types
