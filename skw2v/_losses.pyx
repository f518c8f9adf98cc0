"""Kernels of the public building blocks (``skw2v.losses``, ``skw2v.samplers``).

Sampled logistic losses
-----------------------
Negative sampling and NCE share one kernel. Row i of a batch has the true
class ``samples[i, 0]`` and negatives ``samples[i, 1:]``; the logit of entry
(i, j) is ``z = x_i . W[k_ij] (+ bias[k_ij]) (- correction[i, j])`` and its loss
is ``softplus(-z)`` for the true class and ``softplus(z)`` for a negative.
The forward pass stores ``coef = dloss/dz`` so the backward pass is two
scatter/gather sweeps. Rows run in parallel (OpenMP); the weight gradient is
grouped by weight row with a counting sort, so every gradient row is owned by
one thread: no atomics, and the result does not depend on the thread count.

Samplers
--------
Row-wise draws from an alias table (the training kernel's draw, from
``_random.pxd``) or from the log-uniform (Zipfian) distribution, with or
without replacement and optionally excluding one class per row. Draws without
replacement are successive sampling (rejection of repeats, as TensorFlow's
``unique=True``); a row stops early when the classes still allowed hold less
than ``MIN_FREE_MASS`` of the probability, and Python finishes it exactly
(see ``skw2v.samplers``), so rejection never spins.

Only arrays and scalars come in; validation happens in Python.
"""

from cython cimport floating
from cython.parallel cimport parallel, prange
from libc.math cimport exp, fabs, log1p
from libc.stdint cimport int64_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memset
from ._blas cimport _axpy, _dot
from ._random cimport alias_draw, hash64, rng_next

# Rejection stops when the allowed classes hold less probability than this:
# the expected number of draws per accepted class is then at most 64.
MIN_FREE_MASS = 1.0 / 64.0
cdef double _MIN_FREE_MASS = MIN_FREE_MASS

cdef enum:
    DIST_ALIAS = 0
    DIST_LOG_UNIFORM = 1

DISTRIBUTIONS = {"alias": DIST_ALIAS, "log_uniform": DIST_LOG_UNIFORM}


# ------------------------------------------------------- sampled logistic loss
cdef double _row_forward(
    const floating* xi,        # IN (d,)
    const floating* W,         # IN (V, d)
    const floating* bias,      # IN (V,) or NULL
    const int64_t* ki,         # IN (m,) true class then negatives
    const floating* corr_i,    # IN (m,) subtracted from the logits, or NULL
    int m,
    int d,
    bint remove_hits,
    floating* coef_i,          # OUT (m,) dloss/dlogit
) noexcept nogil:
    """Loss of one row. softplus and sigmoid come from one exp(-|z|), so
    neither overflows nor takes log(0), whatever the logit."""
    cdef double loss = 0.0, z, e
    cdef int j
    cdef int64_t k, t = ki[0]
    for j in range(m):
        k = ki[j]
        if j > 0 and remove_hits and k == t:
            coef_i[j] = 0
            continue
        z = _dot(d, xi, W + k * d)
        if bias != NULL:
            z = z + bias[k]
        if corr_i != NULL:
            z = z - corr_i[j]
        e = exp(-fabs(z))
        if j == 0:
            # softplus(-z); d/dz = -sigmoid(-z), written without 1 - sigmoid(z)
            loss += (-z if z < 0 else 0.0) + log1p(e)
            coef_i[j] = <floating> (-(e / (1.0 + e)) if z >= 0 else -(1.0 / (1.0 + e)))
        else:
            # softplus(z); d/dz = sigmoid(z)
            loss += (z if z > 0 else 0.0) + log1p(e)
            coef_i[j] = <floating> (1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e))
    return loss


def sampled_logistic_forward(
    const floating[:, ::1] x,            # IN (n, d) inputs
    const floating[:, ::1] W,            # IN (V, d) output weights
    const floating[::1] bias,            # IN (V,) biases, or length 0 for none
    const int64_t[:, ::1] samples,       # IN (n, m) column 0 true class, then negatives
    const floating[:, ::1] correction,   # IN (n, m) subtracted from logits, or (0, 0) for none
    const unsigned char[::1] active,     # IN (n,) 0 for rows to ignore
    bint remove_hits,                    # negatives equal to the true class count for nothing
    int n_threads,
    double[::1] row_loss,                # OUT (n,) loss per row (0 for ignored rows)
    floating[:, ::1] coef,               # OUT (n, m) dloss/dlogit (0 where ignored)
):
    """Forward pass of negative sampling / NCE. Indices must be valid (checked
    by the caller) for active rows; inactive rows are not read."""
    cdef Py_ssize_t n = x.shape[0], i
    cdef int d = <int> x.shape[1], m = <int> samples.shape[1]
    if (W.shape[1] != d or samples.shape[0] != n or active.shape[0] != n
            or row_loss.shape[0] != n or coef.shape[0] != n or coef.shape[1] != m):
        raise ValueError("inconsistent shapes")
    if bias.shape[0] != 0 and bias.shape[0] != W.shape[0]:
        raise ValueError("bias must have one entry per row of W")
    if correction.shape[0] != 0 and (correction.shape[0] != n or correction.shape[1] != m):
        raise ValueError("correction must have the shape of samples")
    if n == 0 or m == 0:
        row_loss[:] = 0
        return
    cdef const floating* xp = &x[0, 0] if d > 0 else NULL
    cdef const floating* wp = &W[0, 0] if d > 0 and W.shape[0] > 0 else NULL
    cdef const floating* bp = &bias[0] if bias.shape[0] > 0 else NULL
    cdef const floating* cp = &correction[0, 0] if correction.shape[0] > 0 else NULL
    cdef const int64_t* sp = &samples[0, 0]
    cdef floating* gp = &coef[0, 0]
    for i in prange(n, nogil=True, schedule="static", num_threads=n_threads):
        if active[i]:
            row_loss[i] = _row_forward(xp + i * d, wp, bp, sp + i * m,
                                       cp + i * m if cp != NULL else NULL,
                                       m, d, remove_hits, gp + i * m)
        else:
            row_loss[i] = 0.0
            memset(gp + i * m, 0, m * sizeof(floating))


def sampled_logistic_backward(
    const floating[:, ::1] x,            # IN (n, d)
    const floating[:, ::1] W,            # IN (V, d)
    const int64_t[:, ::1] samples,       # IN (n, m)
    const floating[:, ::1] coef,         # IN (n, m) from the forward pass
    const unsigned char[::1] active,     # IN (n,)
    const floating[::1] gloss,           # IN (n,) upstream gradient of each row's loss
    int n_threads,
    floating[:, ::1] gx,                 # OUT (n, d) fully written
    floating[:, ::1] gW,                 # OUT (V, d) rows hit are added to: pass zeros
    floating[::1] gbias,                 # OUT (V,) added to (pass zeros), or length 0
):
    """Backward pass: gx_i = sum_j g_ij W[k_ij]; gW[k] = sum g_ij x_i; gbias[k] = sum g_ij,
    with g_ij = gloss_i * coef_ij."""
    cdef Py_ssize_t n = x.shape[0], i, e, r, t, idx
    cdef int d = <int> x.shape[1], m = <int> samples.shape[1], j
    cdef int64_t V = W.shape[0], n_touched = 0, k
    cdef floating g
    if (W.shape[1] != d or samples.shape[0] != n or coef.shape[0] != n or coef.shape[1] != m
            or active.shape[0] != n or gloss.shape[0] != n or gx.shape[0] != n
            or gx.shape[1] != d or gW.shape[0] != V or gW.shape[1] != d):
        raise ValueError("inconsistent shapes")
    if gbias.shape[0] != 0 and gbias.shape[0] != V:
        raise ValueError("gbias must have one entry per row of W")
    if n == 0:
        return
    if m == 0 or d == 0:
        gx[:, :] = 0
        if m == 0:
            return
    cdef const floating* xp = &x[0, 0] if d > 0 else NULL
    cdef const floating* wp = &W[0, 0] if d > 0 and V > 0 else NULL
    cdef const int64_t* sp = &samples[0, 0]
    cdef const floating* cp = &coef[0, 0]
    cdef floating* gxp = &gx[0, 0] if d > 0 else NULL
    cdef floating* gwp = &gW[0, 0] if d > 0 and V > 0 else NULL
    cdef floating* gbp = &gbias[0] if gbias.shape[0] > 0 else NULL

    # gx: one row per iteration, no sharing.
    if d > 0:
        for i in prange(n, nogil=True, schedule="static", num_threads=n_threads):
            memset(gxp + i * d, 0, d * sizeof(floating))
            if active[i]:
                for j in range(m):
                    g = gloss[i] * cp[i * m + j]
                    if g != 0:
                        _axpy(d, g, wp + sp[i * m + j] * d, gxp + i * d)

    # gW, gbias: counting sort of the entries by weight row, then one thread per row.
    cdef int64_t* start = <int64_t*> calloc(V + 1, sizeof(int64_t))
    cdef int64_t* order = NULL
    cdef int64_t* rows = NULL
    if start == NULL:
        raise MemoryError()
    try:
        with nogil:
            for i in range(n):
                if active[i]:
                    for j in range(m):
                        start[sp[i * m + j] + 1] += 1
            for r in range(V):
                start[r + 1] += start[r]
        order = <int64_t*> malloc((start[V] + 1) * sizeof(int64_t))
        rows = <int64_t*> malloc((V + 1) * sizeof(int64_t))
        if order == NULL or rows == NULL:
            raise MemoryError()
        with nogil:
            for r in range(V):
                if start[r + 1] > start[r]:
                    rows[n_touched] = r
                    n_touched += 1
            # Fill in order of (i, j); start[k] walks forward and is restored below.
            for i in range(n):
                if active[i]:
                    for j in range(m):
                        k = sp[i * m + j]
                        order[start[k]] = i * m + j
                        start[k] += 1
            for r in range(V, 0, -1):
                start[r] = start[r - 1]
            start[0] = 0
        for t in prange(n_touched, nogil=True, schedule="dynamic", num_threads=n_threads):
            r = rows[t]
            for e in range(start[r], start[r + 1]):
                idx = order[e]
                g = gloss[idx // m] * cp[idx]
                if gwp != NULL:
                    _axpy(d, g, xp + (idx // m) * d, gwp + r * d)
                if gbp != NULL:
                    gbp[r] += g
    finally:
        free(start)
        free(order)
        free(rows)


# ------------------------------------------------------------------- samplers
cdef struct Dist:
    int kind
    const uint32_t* threshold   # alias table (DIST_ALIAS)
    const int* alias
    const double* prob          # class probabilities (DIST_ALIAS)
    uint32_t n_alias
    int64_t range_max           # number of classes (DIST_LOG_UNIFORM)
    double log_range            # log(range_max + 1)


cdef inline int64_t _draw(const Dist* dist, uint64_t* rng) noexcept nogil:
    cdef double u
    cdef int64_t k
    if dist.kind == DIST_ALIAS:
        return alias_draw(rng_next(rng), dist.threshold, dist.alias, dist.n_alias)
    # Inverse CDF of P(k) = log((k+2)/(k+1)) / log(R+1): k = floor(exp(u log(R+1))) - 1.
    u = <double> (rng_next(rng) >> 11) * (1.0 / 9007199254740992.0)
    k = <int64_t> exp(u * dist.log_range) - 1
    if k >= dist.range_max:  # rounding at u -> 1
        k = dist.range_max - 1
    return k


cdef inline double _prob(const Dist* dist, int64_t k) noexcept nogil:
    if dist.kind == DIST_ALIAS:
        return dist.prob[k]
    return log1p(1.0 / (<double> k + 1.0)) / dist.log_range


cdef inline bint _set_add(int64_t* table, uint64_t mask, int64_t key) noexcept nogil:
    """Open-addressing set of non-negative keys (-1 = empty); True if key is new."""
    cdef uint64_t pos = hash64(<uint64_t> key) & mask
    while table[pos] != -1:
        if table[pos] == key:
            return False
        pos = (pos + 1) & mask
    table[pos] = key
    return True


cdef int64_t _draw_row(
    const Dist* dist, int64_t target, int64_t m, bint replace, uint64_t rng,
    int64_t* out, int64_t* table, uint64_t mask, double* tries,
) noexcept nogil:
    """Fill out[:m]; return how many were drawn (fewer when rejection must stop)."""
    cdef double free_mass = 1.0, n_tries = 0.0
    cdef int64_t filled = 0, k
    cdef uint64_t s
    if target >= 0:
        free_mass -= _prob(dist, target)
    if replace:
        if target >= 0 and free_mass < _MIN_FREE_MASS:
            tries[0] = 0.0
            return 0
        while filled < m:
            k = _draw(dist, &rng)
            n_tries += 1.0
            if k != target:
                out[filled] = k
                filled += 1
    else:
        for s in range(mask + 1):
            table[s] = -1
        if target >= 0:
            _set_add(table, mask, target)
        while filled < m and free_mass >= _MIN_FREE_MASS:
            k = _draw(dist, &rng)
            n_tries += 1.0
            if _set_add(table, mask, k):
                out[filled] = k
                filled += 1
                free_mass -= _prob(dist, k)
    tries[0] = n_tries
    return filled


def draw_rows(
    int kind,                              # DISTRIBUTIONS["alias"] or ["log_uniform"]
    const uint32_t[::1] alias_threshold,   # IN (V,) alias table (empty for log-uniform)
    const int[::1] alias_index,            # IN (V,)
    const double[::1] probabilities,       # IN (V,) probabilities the table was built from
    int64_t range_max,                     # number of classes
    const int64_t[::1] targets,            # IN (n,) class excluded from row i (< 0: none), or empty
    bint replace,                          # False: the entries of a row are distinct
    uint64_t seed,                         # row i draws from the stream hash64(seed + i)
    int n_threads,
    int64_t[:, ::1] out,                   # OUT (n, m)
    int64_t[::1] filled,                   # OUT (n,) entries drawn; < m: finish the row in Python
    double[::1] tries,                     # OUT (n,) number of draws made for the row
):
    """Draw ``m`` classes for each of ``n`` rows."""
    cdef Py_ssize_t n = out.shape[0], i
    cdef int64_t m = out.shape[1]
    cdef Dist dist
    cdef uint64_t mask = 1
    cdef int64_t* table = NULL
    cdef int failed = 0
    cdef int* failed_ptr = &failed
    if filled.shape[0] != n or tries.shape[0] != n:
        raise ValueError("filled and tries must have one entry per row")
    if targets.shape[0] != 0 and targets.shape[0] != n:
        raise ValueError("targets must have one entry per row, or none")
    if range_max < 1:
        raise ValueError("range_max must be >= 1")
    dist.kind = kind
    dist.range_max = range_max
    dist.log_range = log1p(<double> range_max)
    if kind == DIST_ALIAS:
        if (alias_threshold.shape[0] != range_max or alias_index.shape[0] != range_max
                or probabilities.shape[0] != range_max or range_max >= 2**31):
            raise ValueError("alias tables must have range_max entries (< 2**31)")
        dist.threshold = &alias_threshold[0]
        dist.alias = &alias_index[0]
        dist.prob = &probabilities[0]
        dist.n_alias = <uint32_t> range_max
    elif kind != DIST_LOG_UNIFORM:
        raise ValueError(f"unknown distribution {kind}")
    if n == 0:
        return
    if m == 0:
        filled[:] = 0
        tries[:] = 0
        return
    while mask < <uint64_t> (2 * m + 2):
        mask <<= 1
    mask -= 1
    cdef const int64_t* tp = &targets[0] if targets.shape[0] > 0 else NULL
    cdef int64_t* op = &out[0, 0]
    with nogil, parallel(num_threads=n_threads):
        table = NULL if replace else <int64_t*> malloc((mask + 1) * sizeof(int64_t))
        try:
            for i in prange(n, schedule="static"):
                if not replace and table == NULL:
                    failed_ptr[0] = 1
                    continue
                filled[i] = _draw_row(&dist, tp[i] if tp != NULL else -1, m, replace,
                                      hash64(seed + <uint64_t> i), op + i * m, table, mask,
                                      &tries[i])
        finally:
            free(table)
    if failed:
        raise MemoryError("could not allocate the per-thread hash sets")
