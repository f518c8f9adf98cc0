/* Fused negative-sampling updates for the training kernel.
 *
 * At d ~ 100 a BLAS level-1 call costs about as much in call and dispatch
 * overhead as in arithmetic, and the two saxpy of an update read the output
 * row twice. Here one loop computes the dot product and one loop applies both
 * updates. On x86-64 with GCC or clang the functions are compiled twice
 * (target_clones): baseline x86-64 and Haswell (AVX2 + FMA), picked at load
 * time, so wheels stay portable without -march=native. Elsewhere the code is
 * plain C that the compiler vectorises for its baseline; SKW2V_USE_BLAS makes
 * the kernel call SciPy's BLAS instead (see _core.pyx).
 *
 * sigmoid and softplus come from one table with linear interpolation on
 * [-16, 16] in steps of 1/256: absolute error below h^2/8 * max|f''|, i.e.
 * < 2e-7 for sigmoid and < 5e-7 for softplus (float32 rounding level); beyond
 * +-16 the limits are used (error < 1.2e-7). The two values of a step sit
 * side by side, so a lookup touches one cache line.
 */
#ifndef SKW2V_SGNS_H
#define SKW2V_SGNS_H

#include <math.h>
#include <stdint.h>

/* Helpers must be inlined into each target clone to get its instruction set. */
#if defined(__GNUC__) || defined(__clang__)
#define SKW2V_INLINE static inline __attribute__((always_inline))
#else
#define SKW2V_INLINE static inline
#endif

#define SKW2V_TABLE_MAX 16.0f
#define SKW2V_TABLE_STEPS_PER_UNIT 256
#define SKW2V_TABLE_SIZE (2 * 16 * SKW2V_TABLE_STEPS_PER_UNIT + 1)

/* [2i] = sigmoid(x_i), [2i + 1] = softplus(x_i) */
static float skw2v_logistic_table[2 * (SKW2V_TABLE_SIZE + 1)];

static void skw2v_init_tables(void) {
    for (int i = 0; i <= SKW2V_TABLE_SIZE; i++) {
        double x = (double)i / SKW2V_TABLE_STEPS_PER_UNIT - SKW2V_TABLE_MAX;
        skw2v_logistic_table[2 * i] = (float)(1.0 / (1.0 + exp(-x)));
        /* softplus(x) = log(1 + e^x), written to avoid overflow */
        skw2v_logistic_table[2 * i + 1] = (float)(x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)));
    }
}

/* sigmoid(f) and softplus(f) = -log sigmoid(-f) */
SKW2V_INLINE float skw2v_logistic(float f, float *softplus) {
    if (f >= SKW2V_TABLE_MAX) { *softplus = f; return 1.0f; }
    if (f <= -SKW2V_TABLE_MAX) { *softplus = 0.0f; return 0.0f; }
    float u = (f + SKW2V_TABLE_MAX) * SKW2V_TABLE_STEPS_PER_UNIT;
    int i = (int)u;
    float frac = u - (float)i;
    const float *t = skw2v_logistic_table + 2 * i;
    float s0 = t[0], p0 = t[1], s1 = t[2], p1 = t[3];
    *softplus = p0 + frac * (p1 - p0);
    return s0 + frac * (s1 - s0);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(SKW2V_NO_MULTIVERSION)
#define SKW2V_MULTIVERSION __attribute__((target_clones("arch=haswell", "default")))
#else
#define SKW2V_MULTIVERSION
#endif

#if defined(_OPENMP) || defined(SKW2V_OPENMP_SIMD)
#define SKW2V_SIMD _Pragma("omp simd")
#else
#define SKW2V_SIMD
#endif

#if defined(__GNUC__) || defined(__clang__)
/* 8 floats, unaligned, may alias float: lowered to two SSE ops in the baseline clone. */
typedef float skw2v_v8 __attribute__((vector_size(32), aligned(4), may_alias));
#define SKW2V_VECTOR_EXTENSIONS 1
#endif

/* Dot product with four independent accumulators: a single one would chain
 * every FMA on the previous (latency-bound at d ~ 100). */
SKW2V_INLINE float skw2v_dot(const float *a, const float *b, int n) {
    int k = 0;
    float r = 0.0f;
#ifdef SKW2V_VECTOR_EXTENSIONS
    skw2v_v8 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    for (; k + 32 <= n; k += 32) {
        s0 += *(const skw2v_v8 *)(a + k) * *(const skw2v_v8 *)(b + k);
        s1 += *(const skw2v_v8 *)(a + k + 8) * *(const skw2v_v8 *)(b + k + 8);
        s2 += *(const skw2v_v8 *)(a + k + 16) * *(const skw2v_v8 *)(b + k + 16);
        s3 += *(const skw2v_v8 *)(a + k + 24) * *(const skw2v_v8 *)(b + k + 24);
    }
    for (; k + 8 <= n; k += 8) s0 += *(const skw2v_v8 *)(a + k) * *(const skw2v_v8 *)(b + k);
    skw2v_v8 s = (s0 + s1) + (s2 + s3);
    r = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
#endif
    for (; k < n; k++) r += a[k] * b[k];
    return r;
}

SKW2V_INLINE void skw2v_prefetch_row(const float *row, int dim) {
#if defined(__GNUC__) || defined(__clang__)
    const char *p = (const char *)row;
    for (int b = 0; b < dim * (int)sizeof(float); b += 64) __builtin_prefetch(p + b, 1, 3);
#else
    (void)row; (void)dim;
#endif
}

/* Ask for the rows of the next update while the current one computes:
 * negatives are random rows, mostly outside the caches. */
static inline void skw2v_prefetch_targets(const float *w_out, int dim, const int *targets,
                                          int n_targets) {
    for (int j = 0; j < n_targets; j++) skw2v_prefetch_row(w_out + (int64_t)targets[j] * dim, dim);
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
SKW2V_INLINE double skw2v_update_targets_impl(const float *restrict l1, float *restrict work,
                                              float *w_out, int dim, const int *targets,
                                              int n_targets, const float *log_kq, float *bias,
                                              float alpha) {
    double loss = 0.0;
    for (int j = 0; j < n_targets; j++) {
        float *restrict row = w_out + (int64_t)targets[j] * dim;
        float s = skw2v_dot(l1, row, dim);
        if (log_kq) s -= log_kq[targets[j]];
        if (bias) s += bias[targets[j]];
        float sp;
        float sig = skw2v_logistic(s, &sp);
        float g;
        if (j == 0) { loss += sp - s; g = (1.0f - sig) * alpha; }
        else { loss += sp; g = -sig * alpha; }
        /* d logit / d bias = 1: the bias takes the step g itself. */
        if (bias) bias[targets[j]] += g;
        if (j == 0) {
            SKW2V_SIMD
            for (int k = 0; k < dim; k++) { float r = row[k]; work[k] = g * r; row[k] = r + g * l1[k]; }
        } else {
            SKW2V_SIMD
            for (int k = 0; k < dim; k++) { float r = row[k]; work[k] += g * r; row[k] = r + g * l1[k]; }
        }
    }
    return loss;
}

SKW2V_MULTIVERSION
static double skw2v_update_targets(const float *restrict l1, float *restrict work,
                                   float *w_out, int dim, const int *targets, int n_targets,
                                   const float *log_kq, float *bias, float alpha) {
    /* Negative sampling gets its own inlined copy with the NCE branches folded
     * away, so adding the bias costs it nothing per target. */
    if (!log_kq && !bias)
        return skw2v_update_targets_impl(l1, work, w_out, dim, targets, n_targets, NULL, NULL,
                                         alpha);
    return skw2v_update_targets_impl(l1, work, w_out, dim, targets, n_targets, log_kq, bias,
                                     alpha);
}

/* y += a * x */
SKW2V_MULTIVERSION
static void skw2v_axpy(int n, float a, const float *restrict x, float *restrict y) {
    SKW2V_SIMD
    for (int k = 0; k < n; k++) y[k] += a * x[k];
}

/* y = a * y */
SKW2V_MULTIVERSION
static void skw2v_scale(int n, float a, float *y) {
    SKW2V_SIMD
    for (int k = 0; k < n; k++) y[k] *= a;
}

#endif
