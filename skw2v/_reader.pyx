"""Compiled core of the file reader: whitespace tokenizing, counting, encoding.

The loops over bytes and tokens run in C without the GIL (``_reader.h``), so
several Python threads can count or encode byte ranges at once. A ``Table``
maps token bytes to a count (counting) or to a vocabulary id (encoding); a
counting table split into parts is shared by the threads that count.
Every byte buffer given here must have ``PAD`` spare bytes after the data.
"""

from cpython.pythread cimport (NOWAIT_LOCK, WAIT_LOCK, PyThread_acquire_lock,
                               PyThread_allocate_lock, PyThread_free_lock,
                               PyThread_release_lock, PyThread_type_lock)
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport calloc, free, realloc
from libc.string cimport memcpy, memset

import numpy as np

cdef extern from "_reader.h":
    ctypedef struct sk_scan:
        const uint8_t* b
        int64_t n
        int64_t i
        int at_end
        int mid

    ctypedef struct sk_entry:
        uint64_t hash
        int64_t count
        uint64_t off
        unsigned int len
        int32_t id

    ctypedef struct sk_table:
        sk_entry* e
        int64_t n
        uint8_t* arena
        int64_t max_types
        int64_t error
        int64_t n_prunes
        int64_t total
        int64_t n_waits

    int SK_PAD
    int SK_OK
    int SK_NOMEM
    int SK_BAD_UTF8
    void sk_init_classes() noexcept nogil
    int sk_table_init(sk_table* t, int64_t max_types, int counting) noexcept nogil
    void sk_table_free(sk_table* t) noexcept nogil
    uint64_t sk_hash(const uint8_t* p, int64_t n) noexcept nogil
    int64_t sk_find(const sk_table* t, const uint8_t* key, int64_t len, uint64_t h) noexcept nogil
    int64_t sk_intern(sk_table* t, const uint8_t* key, int64_t len, uint64_t h) noexcept nogil
    int sk_count(sk_table* t, sk_scan* s, int strict, int64_t* n_tokens, int64_t* n_lines,
                 int64_t* bad_at) noexcept nogil
    int sk_count_parts(sk_table* parts, PyThread_type_lock* locks, int n_parts, sk_scan* s,
                       int strict, int64_t* n_tokens, int64_t* n_lines,
                       int64_t* bad_at) noexcept nogil
    int sk_part_of(uint64_t h, int n_parts) noexcept nogil
    int sk_encode(const sk_table* v, sk_scan* s, int32_t* out, int64_t* n_out,
                  int64_t* line_ends, int64_t* n_lines, int64_t* n_seen,
                  int64_t* docs, int64_t* doc_serial, int strict, int64_t* bad_at) noexcept nogil
    int64_t sk_cut(const uint8_t* b, int64_t n, int allow_space) noexcept nogil
    const uint8_t* sk_key(const sk_table* t, const sk_entry* e) noexcept nogil
    int sk_intern_encode(sk_table* t, sk_scan* s, int strict, int32_t* out, int64_t* n_out,
                         int64_t* line_ends, int64_t* n_lines, int64_t* bad_at) noexcept nogil

sk_init_classes()

PAD = SK_PAD

# Indices into the int64 ``state`` array a caller keeps for one stream of bytes.
cdef enum:
    _MID = 0
    _TOKENS = 1
    _LINES = 2
    _BAD_AT = 3
    _DOC = 4
    _STATE_SIZE = 5

MID, TOKENS, LINES, BAD_AT, DOC, STATE_SIZE = _MID, _TOKENS, _LINES, _BAD_AT, _DOC, _STATE_SIZE


def new_state():
    """Scanner state of one stream (a byte range or one compressed file)."""
    return np.zeros(STATE_SIZE, dtype=np.int64)


def cut(const uint8_t[::1] buf, int64_t n, bint allow_space):
    """Bytes of ``buf[:n]`` to scan now so that no token is split (0: none).

    After the last newline; without one (a very long line), after the last
    space or tab when ``allow_space``.
    """
    if n > buf.shape[0]:
        raise ValueError("n exceeds the buffer")
    if n == 0:
        return 0
    with nogil:
        n = sk_cut(&buf[0], n, allow_space)
    return n


cdef inline void _check_buffer(const uint8_t[::1] buf, int64_t n) except *:
    if n < 0 or n + SK_PAD > buf.shape[0]:
        raise ValueError(f"a buffer of {n} bytes needs {SK_PAD} spare bytes after the data")


cdef class Table:
    """Open-addressing hash table from token bytes to a count and an id.

    ``max_types`` > 0 caps the entries held while counting: when full, a
    Misra-Gries step subtracts the median count from every count and drops
    the entries that reach zero (``error`` sums what was subtracted; no count
    is more than ``error`` below the truth, and ``error <= 2 * total /
    max_types``). Counting tables flag keys that are not valid UTF-8.

    ``n_parts`` > 1 splits the table by hash into parts of ``max_types /
    n_parts`` entries each, with a lock each, so that several threads can
    ``count`` (and ``add``) into it at once. Each part prunes on its own:
    ``error`` is the largest of the parts' (a key lives in one part), at most
    ``2 * n_parts * (tokens of the busiest part) / max_types``. Entries are
    numbered part after part. ``encode`` and ``intern_encode`` need one part.
    """

    cdef sk_table* parts
    cdef PyThread_type_lock* locks
    cdef int n_parts
    cdef int64_t cap    # max_types as given
    cdef int64_t n_ids  # 1 + the largest id set by add()

    def __cinit__(self, int64_t max_types=0, bint counting=True, int n_parts=1):
        cdef int p
        if max_types < 0:
            raise ValueError(f"max_types must be >= 0, got {max_types}")
        if n_parts < 1:
            raise ValueError(f"n_parts must be >= 1, got {n_parts}")
        self.parts = <sk_table*> calloc(n_parts, sizeof(sk_table))
        self.locks = <PyThread_type_lock*> calloc(n_parts, sizeof(PyThread_type_lock))
        if self.parts == NULL or self.locks == NULL:
            raise MemoryError("cannot allocate a token table")
        self.n_parts = n_parts
        self.cap = max_types
        for p in range(n_parts):
            self.locks[p] = PyThread_allocate_lock()
            if self.locks[p] == NULL or sk_table_init(&self.parts[p], self._part_cap(max_types),
                                                      counting) != 0:
                raise MemoryError("cannot allocate a token table")

    def __dealloc__(self):
        cdef int p
        if self.parts != NULL:
            for p in range(self.n_parts):
                sk_table_free(&self.parts[p])
            free(self.parts)
        if self.locks != NULL:
            for p in range(self.n_parts):
                if self.locks[p] != NULL:
                    PyThread_free_lock(self.locks[p])
            free(self.locks)

    cdef int64_t _part_cap(self, int64_t max_types):
        if max_types == 0 or self.n_parts == 1:
            return max_types
        return max(2, max_types // self.n_parts)

    cdef void _lock_all(self) noexcept nogil:
        cdef int p
        for p in range(self.n_parts):
            PyThread_acquire_lock(self.locks[p], WAIT_LOCK)

    cdef void _unlock_all(self) noexcept nogil:
        cdef int p
        for p in range(self.n_parts):
            PyThread_release_lock(self.locks[p])

    cdef sk_table* _single(self, str what) except NULL:
        if self.n_parts != 1:
            raise ValueError(f"{what} needs a table of one part")
        return &self.parts[0]

    @property
    def n_parts(self):
        return self.n_parts

    @property
    def n_types(self):
        return sum(self.parts[p].n for p in range(self.n_parts))

    @property
    def total(self):
        """Tokens counted (exact, whatever the cap)."""
        return sum(self.parts[p].total for p in range(self.n_parts))

    @property
    def error(self):
        """Largest possible undercount of any token (0: every count is exact)."""
        return max(self.parts[p].error for p in range(self.n_parts))

    @property
    def n_prunes(self):
        return sum(self.parts[p].n_prunes for p in range(self.n_parts))

    @property
    def n_waits(self):
        """Times a counting thread found a part busy and had to wait for it."""
        return sum(self.parts[p].n_waits for p in range(self.n_parts))

    @property
    def max_types(self):
        return self.cap

    def part_of(self, bytes key):
        """The part that holds (or would hold) ``key``."""
        padded = key + b"\0" * SK_PAD
        return sk_part_of(sk_hash(padded, len(key)), self.n_parts)

    def part_stats(self):
        """Per part: (types held, tokens counted, error), each an int64 array."""
        cdef int p
        out = np.zeros((3, self.n_parts), dtype=np.int64)
        for p in range(self.n_parts):
            out[:, p] = self.parts[p].n, self.parts[p].total, self.parts[p].error
        return out[0], out[1], out[2]

    def count(self, const uint8_t[::1] buf, int64_t n, bint at_end, int64_t[::1] state,
              bint strict):
        """Count the tokens of ``buf[:n]``; ``state`` carries the line state.

        Several threads may count into one table at once (each part is
        locked while it is written). Returns 0, or SK_BAD_UTF8 with
        ``state[_BAD_AT]`` the offset in buf of the first token that is not
        valid UTF-8 (only when ``strict``).
        """
        cdef sk_scan s
        cdef int status
        _check_buffer(buf, n)
        if state.shape[0] < _STATE_SIZE:
            raise ValueError("state too short")
        s.b = &buf[0]
        s.n = n
        s.i = 0
        s.at_end = at_end
        s.mid = <int> state[_MID]
        with nogil:
            if self.n_parts == 1:
                PyThread_acquire_lock(self.locks[0], WAIT_LOCK)
                status = sk_count(&self.parts[0], &s, strict, &state[_TOKENS], &state[_LINES],
                                  &state[_BAD_AT])
                PyThread_release_lock(self.locks[0])
            else:
                status = sk_count_parts(self.parts, self.locks, self.n_parts, &s, strict,
                                        &state[_TOKENS], &state[_LINES], &state[_BAD_AT])
        state[_MID] = s.mid
        if status == SK_NOMEM:
            raise MemoryError("out of memory while counting tokens")
        return 0 if status == SK_OK else status

    def add(self, list keys, counts=None, ids=None):
        """Insert byte-string keys, adding ``counts`` and/or setting ``ids``."""
        cdef int64_t k, j, n_keys = len(keys)
        cdef uint64_t h
        cdef bytes key
        cdef sk_table* t
        cdef const int64_t[::1] c = None
        cdef const int32_t[::1] v = None
        if counts is not None:
            c = np.ascontiguousarray(counts, dtype=np.int64)
        if ids is not None:
            v = np.ascontiguousarray(ids, dtype=np.int32)
        if (c is not None and c.shape[0] != n_keys) or (v is not None and v.shape[0] != n_keys):
            raise ValueError("keys, counts and ids must have the same length")
        if v is not None and n_keys and np.asarray(v).min() < 0:
            raise ValueError("ids must be >= 0")
        cdef Py_ssize_t n, cap = 0
        cdef uint8_t* buf = NULL  # one padded copy of the key at a time (a vocabulary
        cdef uint8_t* grown       # of 628k keys: concatenating each with padding cost 1/3)
        # Without the GIL: a thread holding a part never waits for the GIL,
        # but one holding the GIL here would wait for that part.
        with nogil:
            self._lock_all()
        try:
            for k in range(n_keys):
                key = keys[k]
                n = len(key)
                if n + SK_PAD > cap:
                    cap = 2 * (n + SK_PAD) if n + SK_PAD > 64 else 64
                    grown = <uint8_t*> realloc(buf, cap)
                    if grown == NULL:
                        raise MemoryError("out of memory while building a token table")
                    buf = grown
                memcpy(buf, <const char*> key, n)
                memset(buf + n, 0, SK_PAD)
                h = sk_hash(buf, n)
                t = &self.parts[sk_part_of(h, self.n_parts)]
                j = sk_intern(t, buf, n, h)
                if j < 0:
                    raise MemoryError("out of memory while building a token table")
                if c is not None:
                    t.e[j].count += c[k]
                    t.total += c[k]
                if v is not None:
                    t.e[j].id = v[k]
                    if v[k] + 1 > self.n_ids:
                        self.n_ids = v[k] + 1
        finally:
            free(buf)
            self._unlock_all()

    def get(self, bytes key):
        """(count, id) of ``key``, or None."""
        cdef int64_t j
        cdef uint64_t h
        padded = key + b"\0" * SK_PAD
        cdef const uint8_t* p = padded
        h = sk_hash(p, len(key))
        cdef sk_table* t = &self.parts[sk_part_of(h, self.n_parts)]
        j = sk_find(t, p, len(key), h)
        if j < 0:
            return None
        return t.e[j].count, t.e[j].id

    def counts(self):
        """(counts: int64 array, invalid: bool array) of every entry, in table order."""
        cdef int64_t k, w = 0
        cdef int p
        cdef int64_t[::1] c = np.empty(self.n_types, dtype=np.int64)
        cdef uint8_t[::1] bad = np.empty(self.n_types, dtype=np.uint8)
        for p in range(self.n_parts):
            for k in range(self.parts[p].n):
                c[w] = self.parts[p].e[k].count
                bad[w] = self.parts[p].e[k].id != 0
                w += 1
        return np.asarray(c), np.asarray(bad).view(bool)

    def keys(self, indices):
        """The key bytes of the entries at ``indices`` (positions in table order)."""
        cdef int64_t k, i
        cdef int p
        cdef sk_entry* e
        cdef const int64_t[::1] idx = np.ascontiguousarray(indices, dtype=np.int64)
        cdef int64_t[::1] starts = np.cumsum(
            [0] + [self.parts[p].n for p in range(self.n_parts)], dtype=np.int64)
        out = []
        for k in range(idx.shape[0]):
            i = idx[k]
            if i < 0 or i >= starts[self.n_parts]:
                raise IndexError(f"entry {i} out of range")
            p = 0
            while i >= starts[p + 1]:
                p += 1
            e = &self.parts[p].e[i - starts[p]]
            out.append((<char*> sk_key(&self.parts[p], e))[:e.len])
        return out

    def set_max_types(self, int64_t max_types):
        """Change the cap (applies from the next insertion)."""
        cdef int p
        if max_types < 0:
            raise ValueError(f"max_types must be >= 0, got {max_types}")
        self.cap = max_types
        for p in range(self.n_parts):
            self.parts[p].max_types = self._part_cap(max_types)

    def entries(self, int64_t min_count=1):
        """Keys with count >= min_count, plus every key that is not valid UTF-8.

        Returns (keys: list of bytes, counts: int64 array, invalid: bool array).
        """
        counts, invalid = self.counts()
        idx = np.flatnonzero((counts >= min_count) | invalid)
        return self.keys(idx), counts[idx], invalid[idx]

    def encode(self, const uint8_t[::1] buf, int64_t n, bint at_end, int64_t[::1] state,
               int32_t[::1] out, int64_t[::1] line_ends, int64_t[:, ::1] docs,
               bint strict=False):
        """Write the ids of ``buf[:n]``'s known tokens to ``out``.

        ``out`` needs ``n // 2 + 1`` entries, ``line_ends`` ``n + 1``; the
        ends of the lines are written as the number of ids before them.
        Returns ``(n_ids, n_line_ends, status)``; with ``strict`` an unknown
        token that is not valid UTF-8 gives status SK_BAD_UTF8 and sets
        ``state[BAD_AT]`` (the output is then partial). ``state[TOKENS]`` counts every
        token seen, ``state[DOC]`` numbers the documents. ``docs`` (V, 2):
        column 1 counts the documents holding each id (column 0 is scratch,
        zeros at first).
        """
        cdef sk_scan s
        cdef int64_t n_out = 0, n_lines = 0
        cdef int status
        _check_buffer(buf, n)
        if out.shape[0] < n // 2 + 1 or line_ends.shape[0] < n + 1:
            raise ValueError("encode: output arrays too small")
        if docs.shape[0] < self.n_ids or docs.shape[1] != 2 or docs.shape[0] == 0:
            raise ValueError("encode: docs needs shape (n_vocab, 2)")
        cdef sk_table* t = self._single("encode")
        s.b = &buf[0]
        s.n = n
        s.i = 0
        s.at_end = at_end
        s.mid = <int> state[_MID]
        with nogil:
            status = sk_encode(t, &s, &out[0], &n_out, &line_ends[0], &n_lines,
                               &state[_TOKENS], &docs[0, 0], &state[_DOC], strict,
                               &state[_BAD_AT])
        state[_MID] = s.mid
        state[_LINES] += n_lines
        return n_out, n_lines, (0 if status == SK_OK else status)

    def intern_encode(self, const uint8_t[::1] buf, int64_t n, bint at_end, int64_t[::1] state,
                      int32_t[::1] out, int64_t[::1] line_ends, bint strict):
        """Provisional ids: each token's entry index, new tokens inserted and counted.

        Like ``encode`` (same output sizes); the table must have no cap.
        Returns ``(n_ids, n_line_ends, status)``; status SK_BAD_UTF8 sets
        ``state[BAD_AT]`` (only when ``strict``).
        """
        cdef sk_scan s
        cdef int64_t n_out = 0, n_lines = 0
        cdef int status
        _check_buffer(buf, n)
        cdef sk_table* t = self._single("intern_encode")
        if t.max_types != 0:
            raise ValueError("intern_encode needs a table without a cap")
        if out.shape[0] < n // 2 + 1 or line_ends.shape[0] < n + 1:
            raise ValueError("intern_encode: output arrays too small")
        s.b = &buf[0]
        s.n = n
        s.i = 0
        s.at_end = at_end
        s.mid = <int> state[_MID]
        with nogil:
            status = sk_intern_encode(t, &s, strict, &out[0], &n_out, &line_ends[0],
                                      &n_lines, &state[_BAD_AT])
        state[_MID] = s.mid
        state[_LINES] += n_lines
        state[_TOKENS] += n_out
        if status == SK_NOMEM:
            raise MemoryError("out of memory while reading tokens")
        return n_out, n_lines, (0 if status == SK_OK else status)
