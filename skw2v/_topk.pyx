"""Per-row top-k of scores: the partial sort behind batched ``most_similar``.

A numpy ``argpartition`` of every row of a (queries x vocabulary) score block
cost a good part of the matrix product that made it; a threshold scan with a
bounded heap per row reads each score once and, after the first few hundred
columns, almost never touches the heap. ``top_k_rows`` scans given scores;
``top_k_products`` also computes them, tile by cache-sized tile, so the
(queries x vocabulary) matrix never exists. Rows (blocks of queries) are
independent and run in parallel (OpenMP) without the GIL.
"""

cimport cython
from cython.parallel cimport parallel, prange
from libc.math cimport INFINITY
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

from ._blas cimport _gemm

# A tile of TILE_QUERIES x TILE_COLUMNS scores (1 MB) stays in a core's cache
# between the product that writes it and the scan that reads it.
cdef enum:
    TILE_QUERIES = 256
    TILE_COLUMNS = 1024

cdef extern from *:
    """
    #include <math.h>
    #include <stdint.h>

    /* (v, c) is a worse neighbour than (w, d): a lower score, or the same
       score at a later column (ties go to the smaller column). */
    static inline int skw2v_worse(float v, int64_t c, float w, int64_t d) {
        return v < w || (v == w && c > d);
    }

    /* Restore the min-heap (worst at the root) below position i, of size n. */
    static inline void skw2v_sift_down(float *hv, int64_t *hc, int64_t i, int64_t n) {
        float v = hv[i];
        int64_t c = hc[i];
        for (;;) {
            int64_t child = 2 * i + 1;
            if (child >= n) break;
            if (child + 1 < n && skw2v_worse(hv[child + 1], hc[child + 1], hv[child], hc[child]))
                child += 1;
            if (!skw2v_worse(hv[child], hc[child], v, c)) break;
            hv[i] = hv[child];
            hc[i] = hc[child];
            i = child;
        }
        hv[i] = v;
        hc[i] = c;
    }

    /* A row's heap of k (score, column) slots, all empty (-inf). */
    static void skw2v_heap_init(int64_t k, float *hv, int64_t *hc) {
        for (int64_t i = 0; i < k; i++) {
            hv[i] = -INFINITY;
            hc[i] = INT64_MAX;
        }
    }

    /* Offer the scores s[0:n] of columns offset..offset+n-1 to the heap.
       Columns arrive in increasing order (within and across calls), so a
       score equal to the current k-th best comes later and is never
       better: one strict comparison with the root decides, and 16 of them
       at a time are counted first (vectorised), so a block with nothing to
       insert costs one branch. NaN scores never enter. */
    static void skw2v_heap_scan(const float *s, int64_t n, int64_t offset, int64_t k,
                                float *hv, int64_t *hc) {
        int64_t j, t;
        float thr = hv[0];
        for (j = 0; j + 16 <= n; j += 16) {
            int count = 0;
            #pragma omp simd reduction(+:count)
            for (t = 0; t < 16; t++) count += s[j + t] > thr;
            if (!count) continue;
            for (t = j; t < j + 16; t++) {
                if (s[t] > thr) {
                    hv[0] = s[t];
                    hc[0] = offset + t;
                    skw2v_sift_down(hv, hc, 0, k);
                    thr = hv[0];
                }
            }
        }
        for (; j < n; j++) {
            if (s[j] > thr) {
                hv[0] = s[j];
                hc[0] = offset + j;
                skw2v_sift_down(hv, hc, 0, k);
                thr = hv[0];
            }
        }
    }

    /* Heap sort: pop the worst into the last free slot, so slot 0 ends best. */
    static void skw2v_heap_finish(int64_t k, float *hv, int64_t *hc) {
        for (int64_t i = k - 1; i > 0; i--) {
            float v = hv[0];
            int64_t c = hc[0];
            hv[0] = hv[i];
            hc[0] = hc[i];
            hv[i] = v;
            hc[i] = c;
            skw2v_sift_down(hv, hc, 0, i);
        }
    }

    /* The k best (score, column) pairs of row s[0:n], best first (ties by
       column), into hv[0:k], hc[0:k]; k <= n. Slots no real score filled
       (fewer than k scores above -inf) hold -inf. */
    static void skw2v_row_topk(const float *s, int64_t n, int64_t k,
                               float *hv, int64_t *hc) {
        skw2v_heap_init(k, hv, hc);
        skw2v_heap_scan(s, n, 0, k, hv, hc);
        skw2v_heap_finish(k, hv, hc);
    }
    """
    void skw2v_row_topk(const float *s, int64_t n, int64_t k,
                        float *hv, int64_t *hc) noexcept nogil
    void skw2v_heap_init(int64_t k, float *hv, int64_t *hc) noexcept nogil
    void skw2v_heap_scan(const float *s, int64_t n, int64_t offset, int64_t k,
                         float *hv, int64_t *hc) noexcept nogil
    void skw2v_heap_finish(int64_t k, float *hv, int64_t *hc) noexcept nogil


@cython.boundscheck(False)
@cython.wraparound(False)
def top_k_rows(const float[:, ::1] scores, float[:, ::1] values, int64_t[:, ::1] columns):
    """The ``k`` best scores of each row of ``scores``, best first, ties by column.

    IN  scores  (n_rows, n_cols) float32, C-contiguous.
    OUT values  (n_rows, k) float32: the scores, best first; -inf where a row
                has fewer than k scores above -inf (those slots' columns are
                meaningless).
    OUT columns (n_rows, k) int64: their columns.
    Requires 1 <= k <= n_cols. NaN scores are never selected.
    """
    cdef Py_ssize_t n_rows = scores.shape[0], n_cols = scores.shape[1]
    cdef Py_ssize_t k = values.shape[1], r
    if columns.shape[0] != n_rows or values.shape[0] != n_rows or columns.shape[1] != k:
        raise ValueError(f"values and columns must both have shape ({n_rows}, k), got "
                         f"({values.shape[0]}, {values.shape[1]}) and "
                         f"({columns.shape[0]}, {columns.shape[1]})")
    if not 1 <= k <= n_cols:
        raise ValueError(f"k must be in [1, {n_cols}] (the number of columns), got {k}")
    if n_rows == 0:
        return
    for r in prange(n_rows, nogil=True, schedule="static"):
        skw2v_row_topk(&scores[r, 0], n_cols, k, &values[r, 0], &columns[r, 0])


@cython.boundscheck(False)
@cython.wraparound(False)
def top_k_products(const float[:, ::1] queries, const float[:, ::1] candidates,
                   const int64_t[::1] exclude_ptr, const int64_t[::1] exclude_rows,
                   float[:, ::1] values, int64_t[:, ::1] columns):
    """The ``k`` best dot products of each query with the candidate rows, best
    first, ties by candidate row; the scores never fill a (queries x
    candidates) matrix.

    Each thread takes blocks of TILE_QUERIES queries and walks the candidates
    in tiles of TILE_COLUMNS rows: one single-threaded sgemm per tile (the
    caller limits BLAS to one thread), the query's excluded rows set to -inf,
    then the threshold scan into each query's heap while the tile is in cache.

    IN  queries       (n_queries, d) float32.
    IN  candidates    (n_candidates, d) float32.
    IN  exclude_ptr   (n_queries + 1,) int64: query i leaves out the rows
                      exclude_rows[exclude_ptr[i]:exclude_ptr[i + 1]] (any
                      order; rows >= n_candidates are ignored).
    IN  exclude_rows  int64.
    OUT values        (n_queries, k) float32: the scores, best first; -inf in
                      slots beyond the query's scores above -inf.
    OUT columns       (n_queries, k) int64: their candidate rows.
    Requires 1 <= k <= n_candidates.
    """
    cdef Py_ssize_t n_queries = queries.shape[0], n_cand = candidates.shape[0]
    cdef Py_ssize_t d = queries.shape[1], k = values.shape[1]
    cdef Py_ssize_t n_blocks, n_tiles, block, q0, nq, t, c0, nc, i, e, row
    cdef float *tile
    cdef int failed[1]
    if candidates.shape[1] != d:
        raise ValueError(f"queries and candidates must have the same number of columns, got "
                         f"{d} and {candidates.shape[1]}")
    if (values.shape[0] != n_queries or columns.shape[0] != n_queries
            or columns.shape[1] != k):
        raise ValueError(f"values and columns must both have shape ({n_queries}, k), got "
                         f"({values.shape[0]}, {values.shape[1]}) and "
                         f"({columns.shape[0]}, {columns.shape[1]})")
    if exclude_ptr.shape[0] != n_queries + 1:
        raise ValueError(f"exclude_ptr must have {n_queries + 1} entries, got "
                         f"{exclude_ptr.shape[0]}")
    if not 1 <= k <= n_cand:
        raise ValueError(f"k must be in [1, {n_cand}] (the number of candidates), got {k}")
    if n_queries == 0:
        return
    if d == 0:
        raise ValueError("queries must have at least one column")
    for i in range(n_queries):
        if (exclude_ptr[i] > exclude_ptr[i + 1] or exclude_ptr[i] < 0
                or exclude_ptr[i + 1] > exclude_rows.shape[0]):
            raise ValueError("exclude_ptr must be non-decreasing within exclude_rows")
    n_blocks = (n_queries + TILE_QUERIES - 1) // TILE_QUERIES
    n_tiles = (n_cand + TILE_COLUMNS - 1) // TILE_COLUMNS
    failed[0] = 0
    with nogil, parallel():
        tile = <float *> malloc(TILE_QUERIES * TILE_COLUMNS * sizeof(float))
        # Every thread reaches the loop (an OpenMP work-sharing construct);
        # one without its tile flags the failure instead of computing.
        for block in prange(n_blocks, schedule="dynamic"):
            if tile == NULL:
                failed[0] = 1
            else:
                q0 = block * TILE_QUERIES
                nq = min(TILE_QUERIES, n_queries - q0)
                for i in range(nq):
                    skw2v_heap_init(k, &values[q0 + i, 0], &columns[q0 + i, 0])
                for t in range(n_tiles):
                    c0 = t * TILE_COLUMNS
                    nc = min(TILE_COLUMNS, n_cand - c0)
                    # Column-major (nc x nq) = candidates[c0:c0+nc] @ queries[q0:q0+nq].T:
                    # row i of the row-major tile (stride nc) holds query q0 + i.
                    _gemm(b"T", b"N", <int> nc, <int> nq, <int> d, 1.0,
                          &candidates[c0, 0], <int> d, &queries[q0, 0], <int> d, 0.0,
                          tile, <int> nc)
                    for i in range(nq):
                        for e in range(exclude_ptr[q0 + i], exclude_ptr[q0 + i + 1]):
                            row = exclude_rows[e]
                            if c0 <= row < c0 + nc:
                                tile[i * nc + row - c0] = -INFINITY
                        skw2v_heap_scan(&tile[i * nc], nc, c0, k,
                                        &values[q0 + i, 0], &columns[q0 + i, 0])
                for i in range(nq):
                    skw2v_heap_finish(k, &values[q0 + i, 0], &columns[q0 + i, 0])
        free(tile)
    if failed[0]:
        raise MemoryError("could not allocate a top-k score tile")
