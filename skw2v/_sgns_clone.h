/* Per-clone kernels of _sgns.h. Included once per SIMD clone, with
 *   SKW2V_CLONE(name)  the clone's function name (name_baseline, name_x86_64_v3, ...)
 *   SKW2V_CLONE_ATTR   its target attribute (empty for the baseline)
 *   SKW2V_FUSED_ATTR   the target attribute of the fused per-pair / CBOW kernels
 *                      (dot, update_targets, cbow_step, axpy, scale); defaults
 *                      to SKW2V_CLONE_ATTR (see _sgns.h for the x86-64-v4 clone)
 *   SKW2V_VW           floats per explicit vector of dot (8, or 16 for AVX-512)
 *   SKW2V_ROW_VW       floats per vector of the element-wise row loops (the
 *                      register width: 4 for SSE2, 8 for AVX; default SKW2V_VW)
 * Every helper is always_inline, so its body is compiled with the clone's
 * instruction set. No include guard on purpose.
 */

#ifndef SKW2V_FUSED_ATTR
#define SKW2V_FUSED_ATTR SKW2V_CLONE_ATTR
#endif
#ifndef SKW2V_ROW_VW
#define SKW2V_ROW_VW SKW2V_VW
#endif

#ifdef SKW2V_VECTOR_EXTENSIONS
typedef float SKW2V_CLONE(vec) __attribute__((vector_size(4 * SKW2V_VW), aligned(4), may_alias));
typedef float SKW2V_CLONE(qvec) __attribute__((vector_size(16), aligned(4), may_alias));
typedef float SKW2V_CLONE(rvec) __attribute__((vector_size(4 * SKW2V_ROW_VW), aligned(4),
                                               may_alias));
#endif

/* The element-wise row loops below run explicit vectors: SKW2V_ROW_VW floats
 * at a time from 0, then one block of 4, then scalars -- the split dot() loads
 * with. Left to the auto-vectoriser, the x86-64-v4 clone ran 16 floats at a
 * time with a scalar tail (d = 100: 6 x 16 + 4 x 1), so the next dot() read
 * the tail with one 16-byte load over four 4-byte stores still in flight,
 * and 32-byte loads from halves of 64-byte stores: store-to-load forwarding
 * fails, and CBOW's mean and gradient are read right after they are written.
 * Element-wise results are those of the plain loops. */
#ifdef SKW2V_VECTOR_EXTENSIONS
#define SKW2V_ROW_LOOP(n, BODY)                                                        \
    do {                                                                               \
        const int64_t n_ = (n), nv_ = n_ / SKW2V_ROW_VW * SKW2V_ROW_VW;                \
        int64_t k = 0;                                                                 \
        { typedef SKW2V_CLONE(rvec) V; for (; k < nv_; k += SKW2V_ROW_VW) BODY; }      \
        { typedef SKW2V_CLONE(qvec) V; if (k + 4 <= n_) { BODY; k += 4; } }           \
        { typedef float V; for (; k < n_; k++) BODY; }                                 \
    } while (0)
#else
#define SKW2V_ROW_LOOP(n, BODY)                           \
    do {                                                  \
        typedef float V;                                  \
        for (int64_t k = 0; k < (n); k++) BODY;           \
    } while (0)
#endif
/* the V-wide element at k of row p */
#define SKW2V_AT(p) (*(V *)((p) + k))

/* Dot product with four independent accumulators: a single one would chain
 * every FMA on the previous (latency-bound at d ~ 100). */
SKW2V_INLINE SKW2V_FUSED_ATTR float SKW2V_CLONE(dot)(const float *a, const float *b, int n) {
    int k = 0;
    float r = 0.0f;
#ifdef SKW2V_VECTOR_EXTENSIONS
    typedef SKW2V_CLONE(vec) v;
    v s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    for (; k + 4 * SKW2V_VW <= n; k += 4 * SKW2V_VW) {
        s0 += *(const v *)(a + k) * *(const v *)(b + k);
        s1 += *(const v *)(a + k + SKW2V_VW) * *(const v *)(b + k + SKW2V_VW);
        s2 += *(const v *)(a + k + 2 * SKW2V_VW) * *(const v *)(b + k + 2 * SKW2V_VW);
        s3 += *(const v *)(a + k + 3 * SKW2V_VW) * *(const v *)(b + k + 3 * SKW2V_VW);
    }
    for (; k + SKW2V_VW <= n; k += SKW2V_VW) s0 += *(const v *)(a + k) * *(const v *)(b + k);
    v s = (s0 + s1) + (s2 + s3);
    float h[8];
    for (int q = 0; q < 8; q++) h[q] = s[q];
#if SKW2V_VW == 16
    for (int q = 0; q < 8; q++) h[q] += s[q + 8];
#endif
    r = ((h[0] + h[4]) + (h[1] + h[5])) + ((h[2] + h[6]) + (h[3] + h[7]));
#endif
    for (; k < n; k++) r += a[k] * b[k];
    return r;
}

/* One positive (targets[0]) and n_targets-1 negatives against the input l1.
 *   IN     l1[dim]          input representation (a w_in row, or the CBOW mean)
 *   IN     targets[n]       output rows; targets[0] is the positive (label 1)
 *   IN     log_kq           NCE logit correction per word, or NULL (negative sampling)
 *   IN/OUT bias             NCE learned output bias per word (added to the logit and
 *                           trained like a row), or NULL (none)
 *   IN/OUT w_out            output vectors, rows updated in place (hogwild)
 *   OUT    work[dim]        alpha * gradient of the loss w.r.t. l1 (to be added to l1)
 * Returns the summed loss: softplus(-f) for the positive, softplus(f) for negatives.
 */
SKW2V_INLINE SKW2V_FUSED_ATTR double SKW2V_CLONE(update_targets_impl)(
        const float *restrict l1, float *restrict work, float *w_out, int dim,
        const int *targets, int n_targets, const float *log_kq, float *bias, float alpha) {
    double loss = 0.0;
    for (int j = 0; j < n_targets; j++) {
        float *restrict row = w_out + (int64_t)targets[j] * dim;
        float s = SKW2V_CLONE(dot)(l1, row, dim);
        if (log_kq) s -= log_kq[targets[j]];
        if (bias) s += bias[targets[j]];
        float sp;
        float sig = skw2v_logistic(s, &sp);
        float g;
        if (j == 0) { loss += skw2v_positive_loss(s, sp); g = (1.0f - sig) * alpha; }
        else { loss += sp; g = -sig * alpha; }
        /* d logit / d bias = 1: the bias takes the step g itself. */
        if (bias) bias[targets[j]] += g;
        if (j == 0)
            SKW2V_ROW_LOOP(dim, {
                V r = SKW2V_AT(row);
                SKW2V_AT(work) = g * r;
                SKW2V_AT(row) = r + g * SKW2V_AT(l1);
            });
        else
            SKW2V_ROW_LOOP(dim, {
                V r = SKW2V_AT(row);
                SKW2V_AT(work) += g * r;
                SKW2V_AT(row) = r + g * SKW2V_AT(l1);
            });
    }
    return loss;
}

static SKW2V_FUSED_ATTR double SKW2V_CLONE(update_targets)(
        const float *restrict l1, float *restrict work, float *w_out, int dim,
        const int *targets, int n_targets, const float *log_kq, float *bias, float alpha) {
    /* Negative sampling gets its own inlined copy with the NCE branches folded
     * away, so adding the bias costs it nothing per target. */
    if (!log_kq && !bias)
        return SKW2V_CLONE(update_targets_impl)(l1, work, w_out, dim, targets, n_targets, NULL,
                                                NULL, alpha);
    return SKW2V_CLONE(update_targets_impl)(l1, work, w_out, dim, targets, n_targets, log_kq,
                                            bias, alpha);
}

/* One CBOW step (word2vec's convention: the mean of the context rows
 * predicts the centre, and each context row gets the full gradient of the mean).
 *   IN     contexts[m]      input words of the window, m >= 1 (a repeated word
 *                           counts, and is updated, once per occurrence)
 *   IN     frozen           per word: non-zero: that input row is never updated; or NULL
 *   IN     targets[nt], log_kq, bias, alpha   as for update_targets
 *   IN/OUT w_in, w_out      rows updated in place (hogwild)
 *   SCRATCH neu1[dim], work[dim]
 * Returns the loss. Bitwise the result of neu1 = 0, neu1 += row (each
 * context in order), neu1 *= (float)(1.0 / m), update_targets, row += work:
 * the mean is summed block by block in registers and stored once, and one
 * call replaces the 2 m + 2 calls of that sequence. */
#ifndef SKW2V_CBOW_ROWS
#define SKW2V_CBOW_ROWS 16 /* context rows summed per pass (a window of radius 8) */
#endif
SKW2V_INLINE SKW2V_FUSED_ATTR double SKW2V_CLONE(cbow_step_impl)(
        float *w_in, float *w_out, int dim, const int *contexts, int m,
        const unsigned char *frozen, const int *targets, int nt, const float *log_kq,
        float *bias, float alpha, float *restrict neu1, float *restrict work) {
    const float inv = (float)(1.0 / m);
    const float *rows[SKW2V_CBOW_ROWS];
    for (int c0 = 0; c0 < m; c0 += SKW2V_CBOW_ROWS) {
        const int mb = m - c0 < SKW2V_CBOW_ROWS ? m - c0 : SKW2V_CBOW_ROWS;
        const int first = c0 == 0, last = c0 + mb == m;
        for (int c = 0; c < mb; c++) rows[c] = w_in + (int64_t)contexts[c0 + c] * dim;
        SKW2V_ROW_LOOP(dim, {
            V acc = (V){0};
            if (!first) acc = SKW2V_AT(neu1);
            for (int c = 0; c < mb; c++) acc += SKW2V_AT(rows[c]);
            if (last) acc *= inv;
            SKW2V_AT(neu1) = acc;
        });
    }
    double loss = SKW2V_CLONE(update_targets_impl)(neu1, work, w_out, dim, targets, nt, log_kq,
                                                   bias, alpha);
    for (int c = 0; c < m; c++) {
        if (frozen && frozen[contexts[c]]) continue;
        float *row = w_in + (int64_t)contexts[c] * dim;
        SKW2V_ROW_LOOP(dim, { SKW2V_AT(row) += SKW2V_AT(work); });
    }
    return loss;
}

static SKW2V_FUSED_ATTR double SKW2V_CLONE(cbow_step)(
        float *w_in, float *w_out, int dim, const int *contexts, int m,
        const unsigned char *frozen, const int *targets, int nt, const float *log_kq,
        float *bias, float alpha, float *neu1, float *work) {
    if (!log_kq && !bias)
        return SKW2V_CLONE(cbow_step_impl)(w_in, w_out, dim, contexts, m, frozen, targets, nt,
                                           NULL, NULL, alpha, neu1, work);
    return SKW2V_CLONE(cbow_step_impl)(w_in, w_out, dim, contexts, m, frozen, targets, nt,
                                       log_kq, bias, alpha, neu1, work);
}

/* y += a * x */
static SKW2V_FUSED_ATTR void SKW2V_CLONE(axpy)(int n, float a, const float *restrict x,
                                               float *restrict y) {
    SKW2V_ROW_LOOP(n, { SKW2V_AT(y) += a * SKW2V_AT(x); });
}

/* y = a * y */
static SKW2V_FUSED_ATTR void SKW2V_CLONE(scale)(int n, float a, float *y) {
    SKW2V_ROW_LOOP(n, { SKW2V_AT(y) *= a; });
}

/* ------------------------------------------------------------------------
 * The window-batched skip-gram update: small matrix products written as
 * register-blocked micro-kernels. At these shapes (m <= 2 window inputs,
 * k + 1 targets, d ~ 100) a BLAS call costs more in dispatch and packing
 * than in arithmetic. A tile keeps its accumulators in registers, so each
 * packed row chunk is loaded once per tile rather than once per product.
 * SKW2V_BW floats per vector; without vector extensions a "vector" is one float.
 */
#ifdef SKW2V_VECTOR_EXTENSIONS
typedef float SKW2V_CLONE(bvec) __attribute__((vector_size(4 * SKW2V_BW), aligned(4), may_alias));
#define SKW2V_LANES SKW2V_BW
#else
typedef float SKW2V_CLONE(bvec);
#define SKW2V_LANES 1
#endif

/* Tile shapes (accumulators = rows x vectors must fit the register file). */
#define SKW2V_DOT_ROWS 2   /* input rows of a score tile (= SKW2V_CONTEXT_PAD) */
#ifndef SKW2V_OUT_VECTORS
#define SKW2V_OUT_VECTORS 2  /* vectors per row of a target-row update tile (6 rows) */
#endif
#ifndef SKW2V_IN_VECTORS
#define SKW2V_IN_VECTORS 4   /* vectors per row of an input-row update tile (2 rows) */
#endif

SKW2V_INLINE SKW2V_CLONE_ATTR float SKW2V_CLONE(hsum)(SKW2V_CLONE(bvec) a) {
#if SKW2V_LANES == 1
    return a;
#else
    float h[SKW2V_LANES];
    for (int q = 0; q < SKW2V_LANES; q++) h[q] = a[q];
    for (int w = SKW2V_LANES / 2; w > 0; w /= 2)
        for (int q = 0; q < w; q++) h[q] += h[q + w];
    return h[0];
#endif
}

/* s[a * lds + b] = x_a . y_b for a < MR packed input rows and b < NR packed
 * output rows, over n floats (a multiple of the vector width). */
SKW2V_INLINE SKW2V_CLONE_ATTR void SKW2V_CLONE(dot_tile)(
        const float *x, const float *y, int dp, int n, float *s, int lds, const int MR,
        const int NR) {
    typedef SKW2V_CLONE(bvec) v;
    v acc[SKW2V_DOT_ROWS][6];
    for (int a = 0; a < MR; a++)
        for (int b = 0; b < NR; b++) acc[a][b] = (v){0};
    for (int k = 0; k < n; k += SKW2V_LANES) {
        v xa[SKW2V_DOT_ROWS];
        for (int a = 0; a < MR; a++) xa[a] = *(const v *)(x + a * dp + k);
        for (int b = 0; b < NR; b++) {
            v yb = *(const v *)(y + b * dp + k);
            for (int a = 0; a < MR; a++) acc[a][b] += xa[a] * yb;
        }
    }
    for (int a = 0; a < MR; a++)
        for (int b = 0; b < NR; b++) s[a * lds + b] = SKW2V_CLONE(hsum)(acc[a][b]);
}

/* out[r][k0 + ...] += sum_q A[r * ars + q * acs] * B[q * dp + k0 + ...] for
 * r < RB and NV vectors of columns; tail > 0: the last vector holds only
 * `tail` columns of the rows (B is zero padded, the rows are not). Rows may
 * repeat: each tile row adds its own sum. */
SKW2V_INLINE SKW2V_CLONE_ATTR void SKW2V_CLONE(gemm_tile)(
        const float *A, int ars, int acs, const float *B, int dp, int K, float *const *out,
        int k0, const int RB, const int NV, int tail) {
    typedef SKW2V_CLONE(bvec) v;
    v acc[6][4];
    for (int r = 0; r < RB; r++)
        for (int c = 0; c < NV; c++) acc[r][c] = (v){0};
    for (int q = 0; q < K; q++) {
        v b[4];
        for (int c = 0; c < NV; c++) b[c] = *(const v *)(B + q * dp + k0 + c * SKW2V_LANES);
        for (int r = 0; r < RB; r++) {
            float a = A[r * ars + q * acs];
            for (int c = 0; c < NV; c++) acc[r][c] += a * b[c];
        }
    }
    for (int r = 0; r < RB; r++) {
        float *o = out[r] + k0;
        for (int c = 0; c < NV; c++) {
            if (tail && c == NV - 1) {
#if SKW2V_LANES > 1
                for (int l = 0; l < tail; l++) o[c * SKW2V_LANES + l] += acc[r][c][l];
#endif
            } else {
                *(v *)(o + c * SKW2V_LANES) += acc[r][c];
            }
        }
    }
}

/* out[r][:dim] += sum_q A[r, q] B[q] for RB rows, NV vectors a tile. */
SKW2V_INLINE SKW2V_CLONE_ATTR void SKW2V_CLONE(gemm_rows)(
        const float *A, int ars, int acs, const float *B, int dp, int K, float *const *out,
        int dim, const int RB, const int NV) {
    int nfull = dim / SKW2V_LANES, tail = dim % SKW2V_LANES, c = 0;
    for (; c + NV <= nfull; c += NV)
        SKW2V_CLONE(gemm_tile)(A, ars, acs, B, dp, K, out, c * SKW2V_LANES, RB, NV, 0);
    for (; c < nfull; c++)
        SKW2V_CLONE(gemm_tile)(A, ars, acs, B, dp, K, out, c * SKW2V_LANES, RB, 1, 0);
    if (tail) SKW2V_CLONE(gemm_tile)(A, ars, acs, B, dp, K, out, c * SKW2V_LANES, RB, 1, tail);
}

/* Copy row src[:dim] to dst, zero padded to whole vectors (the tiles read
 * no further). Written with explicit vectors and a vector tail: as plain
 * loops GCC calls memcpy/memset for a few dozen bytes. */
SKW2V_INLINE SKW2V_CLONE_ATTR void SKW2V_CLONE(pack_row)(float *restrict dst,
                                                         const float *restrict src, int dim) {
    typedef SKW2V_CLONE(bvec) v;
    int64_t k = 0;
    for (; k + 2 * SKW2V_LANES <= dim; k += 2 * SKW2V_LANES) {
        *(v *)(dst + k) = *(const v *)(src + k);
        *(v *)(dst + k + SKW2V_LANES) = *(const v *)(src + k + SKW2V_LANES);
    }
    for (; k + SKW2V_LANES <= dim; k += SKW2V_LANES) *(v *)(dst + k) = *(const v *)(src + k);
#if SKW2V_LANES > 1
    if (k < dim) {
        v t = {0};
        for (int l = 0; l < dim - k; l++) t[l] = src[k + l];
        *(v *)(dst + k) = t;
    }
#endif
}

/* Zero a packed row (whole vectors up to dim). */
SKW2V_INLINE SKW2V_CLONE_ATTR void SKW2V_CLONE(zero_row)(float *dst, int dim) {
    typedef SKW2V_CLONE(bvec) v;
    for (int64_t k = 0; k < dim; k += SKW2V_LANES) *(v *)(dst + k) = (v){0};
}

/* The window-batched skip-gram update of one centre word (semantics: the
 * helper brief's "window-batched skip-gram update", shared with sgns.cu).
 *   IN     contexts[m]      input words (the window's kept tokens but the centre)
 *   IN     targets[nt]      targets[0] the centre word (label 1), then the negatives
 *   IN     log_kq, bias     as for update_targets (NULL when unused)
 *   IN/OUT w_in, w_out      rows updated in place (hogwild), each delta added once
 *   IN/OUT bias             bias[t_j] += sum_c g[c, j]
 *   SCRATCH scratch         laid out by skw2v_window_scratch_init for >= m, nt
 * Every score uses the output rows Y as they were at the start of the step
 * (the input row x_c as it is at its turn): G = alpha (label - sigmoid(X Y^T
 * + corr)), w_out[t] += G^T X. The input step of context c is taken against
 * the output rows after the output steps of the contexts before it, as the
 * per-pair update does: w_in[c] += sum_j g[c, j] (y_j + sum_{c'<c} g[c', j]
 * x_c') = (G Y + L X)[c], L the strictly lower part of G G^T.
 * Contexts run in blocks of up to SKW2V_CONTEXT_BLOCK rows, a block ending
 * before a word it already holds (so each x is read at its turn: a repeated
 * word sees its earlier step); across blocks yc carries Y plus the earlier
 * blocks' G^T X. Returns the summed loss.
 */
SKW2V_INLINE SKW2V_CLONE_ATTR double SKW2V_CLONE(update_window_impl)(
        float *w_in, float *w_out, int dim, const int *contexts, int m, const int *targets,
        int nt, const float *log_kq, float *bias, float alpha, const skw2v_window_scratch *sc) {
    const int dp = sc->dp;
    const int n = SKW2V_ROUND_UP(dim, SKW2V_LANES); /* columns the dots run over */
    const int ntp = SKW2V_ROUND_UP(nt, SKW2V_TARGET_PAD);
    const int lb = SKW2V_CONTEXT_BLOCK; /* row stride of l */
    float *y = sc->y, *yc = sc->y, *x = sc->x, *g = sc->g, *l = sc->l;
    float **rows = sc->rows;
    double loss = 0.0;
    for (int j = 0; j < ntp; j++) {
        if (j < nt) {
            SKW2V_CLONE(pack_row)(y + j * dp, w_out + (int64_t)targets[j] * dim, dim);
            sc->corr[j] = (bias ? bias[targets[j]] : 0.0f) - (log_kq ? log_kq[targets[j]] : 0.0f);
        } else {
            SKW2V_CLONE(zero_row)(y + j * dp, dim);
        }
        sc->dbias[j] = 0.0f;
    }
    for (int c0 = 0, mb; c0 < m; c0 += mb) {
        for (mb = 1; c0 + mb < m && mb < SKW2V_CONTEXT_BLOCK; mb++) {
            int q = c0;
            while (q < c0 + mb && contexts[q] != contexts[c0 + mb]) q++;
            if (q < c0 + mb) break; /* a repeated word starts the next block */
        }
        const int mbp = SKW2V_ROUND_UP(mb, SKW2V_CONTEXT_PAD);
        for (int a = 0; a < mbp; a++) {
            if (a < mb) SKW2V_CLONE(pack_row)(x + a * dp, w_in + (int64_t)contexts[c0 + a] * dim, dim);
            else SKW2V_CLONE(zero_row)(x + a * dp, dim);
        }
        for (int a = 0; a < mbp; a += SKW2V_DOT_ROWS) {
            int b = 0;
            for (; b + 6 <= ntp; b += 6)
                SKW2V_CLONE(dot_tile)(x + a * dp, y + b * dp, dp, n, g + a * ntp + b, ntp, SKW2V_DOT_ROWS, 6);
            if (b < ntp)
                SKW2V_CLONE(dot_tile)(x + a * dp, y + b * dp, dp, n, g + a * ntp + b, ntp, SKW2V_DOT_ROWS, 3);
        }
        for (int a = 0; a < mbp; a++) {
            float *ga = g + a * ntp;
            for (int j = 0; j < ntp; j++) {
                if (a >= mb || j >= nt) { ga[j] = 0.0f; continue; }
                float s = ga[j] + sc->corr[j];
                float sp;
                float sig = skw2v_logistic(s, &sp);
                float gj;
                if (j == 0) { loss += skw2v_positive_loss(s, sp); gj = (1.0f - sig) * alpha; }
                else { loss += sp; gj = -sig * alpha; }
                ga[j] = gj;
                sc->dbias[j] += gj;
            }
            /* L[a, a'] = g_a . g_a' for a' < a; rows a, a + 1 read columns <= a */
            for (int a2 = 0; a2 < a; a2++) {
                float t = 0.0f;
                for (int q = 0; q < nt; q++) t += ga[q] * g[a2 * ntp + q];
                l[a * lb + a2] = t;
            }
            l[a * lb + a] = 0.0f;
        }
        /* w_out[t_j] += sum_c g[c, j] x_c: rows j, reduction over the block's inputs */
        for (int j = 0; j < ntp; j++) rows[j] = j < nt ? w_out + (int64_t)targets[j] * dim : sc->sink;
        int j = 0;
        for (; j + 6 <= ntp; j += 6)
            SKW2V_CLONE(gemm_rows)(g + j, 1, ntp, x, dp, mbp, rows + j, dim, 6, SKW2V_OUT_VECTORS);
        if (j < ntp)
            SKW2V_CLONE(gemm_rows)(g + j, 1, ntp, x, dp, mbp, rows + j, dim, 3, SKW2V_OUT_VECTORS);
        /* w_in[c] += (G yc + L X)[c] */
        for (int a = 0; a < mbp; a++)
            rows[a] = a < mb && !(sc->frozen && sc->frozen[contexts[c0 + a]]) /* locked: sink */
                      ? w_in + (int64_t)contexts[c0 + a] * dim : sc->sink;
        for (int a = 0; a < mbp; a += SKW2V_CONTEXT_PAD) {
            SKW2V_CLONE(gemm_rows)(g + a * ntp, ntp, 1, yc, dp, ntp, rows + a, dim,
                                   SKW2V_CONTEXT_PAD, SKW2V_IN_VECTORS);
            SKW2V_CLONE(gemm_rows)(l + a * lb, lb, 1, x, dp, a + 1, rows + a, dim,
                                   SKW2V_CONTEXT_PAD, SKW2V_IN_VECTORS);
        }
        if (c0 + mb < m) { /* the next block's input steps see this block's output steps */
            if (yc == y) {
                yc = sc->yc;
                for (int q = 0; q < ntp * dp; q++) yc[q] = y[q];
            }
            for (int q = 0; q < ntp; q++) rows[q] = yc + q * dp;
            for (j = 0; j + 6 <= ntp; j += 6)
                SKW2V_CLONE(gemm_rows)(g + j, 1, ntp, x, dp, mbp, rows + j, dim, 6, SKW2V_OUT_VECTORS);
            if (j < ntp)
                SKW2V_CLONE(gemm_rows)(g + j, 1, ntp, x, dp, mbp, rows + j, dim, 3, SKW2V_OUT_VECTORS);
        }
    }
    if (bias)
        for (int j = 0; j < nt; j++) bias[targets[j]] += sc->dbias[j];
    return loss;
}

static SKW2V_CLONE_ATTR double SKW2V_CLONE(update_window)(
        float *w_in, float *w_out, int dim, const int *contexts, int m, const int *targets,
        int nt, const float *log_kq, float *bias, float alpha, const skw2v_window_scratch *sc) {
    if (!log_kq && !bias)
        return SKW2V_CLONE(update_window_impl)(w_in, w_out, dim, contexts, m, targets, nt, NULL,
                                               NULL, alpha, sc);
    return SKW2V_CLONE(update_window_impl)(w_in, w_out, dim, contexts, m, targets, nt, log_kq,
                                           bias, alpha, sc);
}

#undef SKW2V_LANES
#undef SKW2V_DOT_ROWS
#undef SKW2V_ROW_LOOP
#undef SKW2V_AT
#undef SKW2V_FUSED_ATTR
#undef SKW2V_ROW_VW

static const skw2v_ops SKW2V_CLONE(ops) = {
    SKW2V_CLONE(update_targets), SKW2V_CLONE(update_window), SKW2V_CLONE(axpy),
    SKW2V_CLONE(scale), SKW2V_CLONE(cbow_step),
};
