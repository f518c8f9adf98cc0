/* Per-clone kernels of _sgns.h. Included once per SIMD clone, with
 *   SKW2V_CLONE(name)  the clone's function name (name_baseline, name_x86_64_v3, ...)
 *   SKW2V_CLONE_ATTR   its target attribute (empty for the baseline)
 *   SKW2V_VW           floats per explicit vector (8, or 16 for AVX-512)
 * Every helper is always_inline, so its body is compiled with the clone's
 * instruction set. No include guard on purpose.
 */

#ifdef SKW2V_VECTOR_EXTENSIONS
typedef float SKW2V_CLONE(vec) __attribute__((vector_size(4 * SKW2V_VW), aligned(4), may_alias));
#endif

/* Dot product with four independent accumulators: a single one would chain
 * every FMA on the previous (latency-bound at d ~ 100). */
SKW2V_INLINE SKW2V_CLONE_ATTR float SKW2V_CLONE(dot)(const float *a, const float *b, int n) {
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
SKW2V_INLINE SKW2V_CLONE_ATTR double SKW2V_CLONE(update_targets_impl)(
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

static SKW2V_CLONE_ATTR double SKW2V_CLONE(update_targets)(
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

/* y += a * x */
static SKW2V_CLONE_ATTR void SKW2V_CLONE(axpy)(int n, float a, const float *restrict x,
                                               float *restrict y) {
    SKW2V_SIMD
    for (int k = 0; k < n; k++) y[k] += a * x[k];
}

/* y = a * y */
static SKW2V_CLONE_ATTR void SKW2V_CLONE(scale)(int n, float a, float *y) {
    SKW2V_SIMD
    for (int k = 0; k < n; k++) y[k] *= a;
}

static const skw2v_ops SKW2V_CLONE(ops) = {
    SKW2V_CLONE(update_targets), SKW2V_CLONE(axpy), SKW2V_CLONE(scale),
};
