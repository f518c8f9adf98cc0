/* Fused negative-sampling updates for the training kernel.
 *
 * At d ~ 100 a BLAS level-1 call costs about as much in call and dispatch
 * overhead as in arithmetic, and the two saxpy of an update read the output
 * row twice. Here one loop computes the dot product and one loop applies both
 * updates. On x86-64 with GCC or clang the kernels (_sgns_clone.h) are
 * compiled three times: the portable baseline, x86-64-v3 (AVX2 + FMA) and
 * x86-64-v4 (AVX-512), and skw2v_simd_select picks one at import by what the
 * CPU supports (cpuid feature bits, so AMD and Intel alike; GCC's
 * target_clones("arch=haswell") dispatches by CPU model and never picked the
 * AVX2 code on AMD). Wheels stay portable without -march=native. Elsewhere
 * (aarch64: NEON is its baseline) the code is plain C that the compiler
 * vectorises for its baseline; SKW2V_USE_BLAS makes the kernel call SciPy's
 * BLAS instead (see _core.pyx).
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
#include <stddef.h>
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

/* softplus(-f) = softplus(f) - f, the loss of a positive: 0 from the table's
 * upper limit on, so that a logit of +inf (an NCE positive with noise
 * probability 0: log k q = -inf) costs 0, not inf - inf. Bitwise the same as
 * softplus(f) - f for every finite f (there it is f - f = 0). */
SKW2V_INLINE float skw2v_positive_loss(float f, float softplus) {
    return f >= SKW2V_TABLE_MAX ? 0.0f : softplus - f;
}

/* sigmoid(f) and softplus(f) = -log sigmoid(-f) */
SKW2V_INLINE float skw2v_logistic(float f, float *softplus) {
    if (f >= SKW2V_TABLE_MAX) { *softplus = f; return 1.0f; }
    if (!(f > -SKW2V_TABLE_MAX)) {
        /* NaN (diverged rows) falls here too: it must not index the table. */
        *softplus = f == f ? 0.0f : f;
        return f == f ? 0.0f : f;
    }
    float u = (f + SKW2V_TABLE_MAX) * SKW2V_TABLE_STEPS_PER_UNIT;
    int i = (int)u;
    float frac = u - (float)i;
    const float *t = skw2v_logistic_table + 2 * i;
    float s0 = t[0], p0 = t[1], s1 = t[2], p1 = t[3];
    *softplus = p0 + frac * (p1 - p0);
    return s0 + frac * (s1 - s0);
}

#if defined(_OPENMP) || defined(SKW2V_OPENMP_SIMD)
#define SKW2V_SIMD _Pragma("omp simd")
#else
#define SKW2V_SIMD
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SKW2V_VECTOR_EXTENSIONS 1
#endif

static int skw2v_prefetch_mode = 2; /* EXPERIMENT: 0 none, 1 read, 2 write */
SKW2V_INLINE void skw2v_prefetch_row(const float *row, int dim) {
#if defined(__GNUC__) || defined(__clang__)
    const char *p = (const char *)row;
    if (skw2v_prefetch_mode == 2)
        for (int b = 0; b < dim * (int)sizeof(float); b += 64) __builtin_prefetch(p + b, 1, 3);
    else if (skw2v_prefetch_mode == 1)
        for (int b = 0; b < dim * (int)sizeof(float); b += 64) __builtin_prefetch(p + b, 0, 3);
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

/* Per-thread scratch of the window-batched skip-gram update (update_window).
 * Rows are packed with a stride dp (dim rounded up to SKW2V_ROW_PAD, zero
 * padded) so the micro-kernels run whole vectors; the target count is padded
 * to SKW2V_TARGET_PAD and a context block to SKW2V_CONTEXT_PAD with zero rows
 * whose gradients are zero and whose updates land in `sink`. */
#define SKW2V_ROW_PAD 16
#define SKW2V_TARGET_PAD 3
#define SKW2V_CONTEXT_PAD 2
#define SKW2V_CONTEXT_BLOCK 32 /* input rows packed at a time (a multiple of the pad) */
#define SKW2V_ROUND_UP(n, m) (((n) + (m) - 1) / (m) * (m))

typedef struct {
    int dp;        /* packed row stride */
    const unsigned char *frozen; /* (V,) non-zero: that input row is never written; NULL: none */
    float *y;      /* (nt_pad, dp) the output rows at the start of the step */
    float *x;      /* (SKW2V_CONTEXT_BLOCK, dp) one block of input rows */
    float *g;      /* (m_pad, nt_pad) scores, then alpha * (label - sigmoid) */
    float *corr;   /* (nt_pad) NCE logit correction bias - log k q, at the start */
    float *dbias;  /* (nt_pad) NCE bias gradient summed over the contexts */
    float *sink;   /* (dp) where updates of padding rows go */
    float **rows;  /* (max(SKW2V_CONTEXT_BLOCK, nt_pad)) rows a tile updates */
    float *yc;     /* (nt_pad, dp) the output rows plus the earlier blocks' output steps */
    float *l;      /* (SKW2V_CONTEXT_BLOCK, SKW2V_CONTEXT_BLOCK) G G^T, strictly lower part */
} skw2v_window_scratch;

/* Floats of one scratch for windows of up to max_contexts inputs and max_targets targets. */
static inline int64_t skw2v_window_scratch_floats(int dim, int64_t max_contexts, int max_targets) {
    int64_t dp = SKW2V_ROUND_UP(dim, SKW2V_ROW_PAD);
    int64_t ntp = SKW2V_ROUND_UP(max_targets, SKW2V_TARGET_PAD);
    int64_t mp = SKW2V_ROUND_UP(max_contexts, SKW2V_CONTEXT_BLOCK);
    return 2 * ntp * dp + SKW2V_CONTEXT_BLOCK * dp + mp * ntp + 2 * ntp + dp +
           SKW2V_CONTEXT_BLOCK * SKW2V_CONTEXT_BLOCK;
}

/* Lay scratch out over mem (skw2v_window_scratch_floats(...) floats) and
 * rows (max(SKW2V_CONTEXT_BLOCK, nt_pad) pointers). */
static inline void skw2v_window_scratch_init(skw2v_window_scratch *s, float *mem, float **rows,
                                             int dim, int64_t max_contexts, int max_targets) {
    int64_t dp = SKW2V_ROUND_UP(dim, SKW2V_ROW_PAD);
    int64_t ntp = SKW2V_ROUND_UP(max_targets, SKW2V_TARGET_PAD);
    int64_t mp = SKW2V_ROUND_UP(max_contexts, SKW2V_CONTEXT_BLOCK);
    s->dp = (int)dp;
    s->frozen = NULL;
    s->y = mem;
    s->x = s->y + ntp * dp;
    s->g = s->x + SKW2V_CONTEXT_BLOCK * dp;
    s->corr = s->g + mp * ntp;
    s->dbias = s->corr + ntp;
    s->sink = s->dbias + ntp;
    s->yc = s->sink + dp;
    s->l = s->yc + ntp * dp;
    s->rows = rows;
}

static inline int skw2v_window_scratch_rows(int max_targets) {
    int ntp = SKW2V_ROUND_UP(max_targets, SKW2V_TARGET_PAD);
    return ntp > SKW2V_CONTEXT_BLOCK ? ntp : SKW2V_CONTEXT_BLOCK;
}

/* The kernels one clone provides; see _sgns_clone.h for their contracts. */
typedef struct {
    double (*update_targets)(const float *l1, float *work, float *w_out, int dim,
                             const int *targets, int n_targets, const float *log_kq,
                             float *bias, float alpha);
    double (*update_window)(float *w_in, float *w_out, int dim, const int *contexts,
                            int n_contexts, const int *targets, int n_targets,
                            const float *log_kq, float *bias, float alpha,
                            const skw2v_window_scratch *scratch);
    void (*axpy)(int n, float a, const float *x, float *y);
    void (*scale)(int n, float a, float *y);
    double (*cbow_step)(float *w_in, float *w_out, int dim, const int *contexts, int m,
                        const unsigned char *frozen, const int *targets, int n_targets,
                        const float *log_kq, float *bias, float alpha, float *neu1,
                        float *work);
} skw2v_ops;

#define SKW2V_CLONE(name) skw2v_##name##_baseline
#define SKW2V_CLONE_ATTR
#define SKW2V_VW 8
#define SKW2V_BW 4 /* SSE2: 16 registers of 4 floats */
#define SKW2V_ROW_VW 4 /* 8-float vectors on SSE2 cost 3.6x the instructions of 4-float ones */
#include "_sgns_clone.h"
#undef SKW2V_CLONE
#undef SKW2V_CLONE_ATTR
#undef SKW2V_VW
#undef SKW2V_BW

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(SKW2V_NO_MULTIVERSION)
#define SKW2V_X86_CLONES 1
/* Only the features each clone's code may use; skw2v_cpu_supports checks the same list. */
#define SKW2V_CLONE(name) skw2v_##name##_x86_64_v3
#define SKW2V_CLONE_ATTR __attribute__((target("avx2,fma")))
#define SKW2V_VW 8
#define SKW2V_BW 8
#include "_sgns_clone.h"
#undef SKW2V_CLONE
#undef SKW2V_CLONE_ATTR
#undef SKW2V_VW
#undef SKW2V_BW

#define SKW2V_CLONE(name) skw2v_##name##_x86_64_v4
#if defined(__clang__)
#define SKW2V_CLONE_ATTR __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma"), min_vector_width(512)))
#else
#define SKW2V_CLONE_ATTR __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))
#endif
#define SKW2V_VW 8
/* 16-wide tiles measured slower at d = 100 (a 4-float tail in every row
 * tile) and no faster at d = 128 or 300 than 8-wide ones on Zen 5: the
 * window update is bound by loads, stores and the logistic, not by FMA width.
 * The clone still gains AVX-512VL's 32 vector registers and masked tails. */
#ifndef SKW2V_V4_BW
#define SKW2V_V4_BW 8
#endif
#define SKW2V_BW SKW2V_V4_BW
/* The fused per-pair and CBOW kernels (8-float vectors by design) are
 * compiled for AVX2 + FMA in this clone too. Compiled for AVX-512 (EVEX
 * encodings, 32 registers, the same 8-float loops), update_targets ran 8-10%
 * slower than the AVX2 build on Zen 5 (per-pair skip-gram 6-14%, CBOW 3-10%),
 * with 16-float or 8-float row loops, with xmm16-31 reserved and with loops
 * aligned to 64 bytes alike; the dot and the logistic alone measured equal.
 * So the AVX-512 clone only differs where AVX-512 was not measured slower:
 * the window-batched micro-kernels. (benchmarks/RESULTS.md, section 0.) */
#ifndef SKW2V_V4_FUSED_AVX2
#define SKW2V_V4_FUSED_AVX2 1 /* 0: build them for AVX-512, to measure again */
#endif
#if SKW2V_V4_FUSED_AVX2
#define SKW2V_FUSED_ATTR __attribute__((target("avx2,fma")))
#define SKW2V_V4_FUSED_ISA "x86-64-v3"
#else
#define SKW2V_V4_FUSED_ISA "x86-64-v4"
#endif
#include "_sgns_clone.h"
#undef SKW2V_CLONE
#undef SKW2V_CLONE_ATTR
#undef SKW2V_VW
#undef SKW2V_BW
#endif

/* Clones in order of preference; index 0 is always the baseline. */
#define SKW2V_N_CLONES 3
static const char *const skw2v_clone_names[SKW2V_N_CLONES] = {"baseline", "x86-64-v3",
                                                              "x86-64-v4"};
/* The instruction set each clone's fused per-pair / CBOW kernels were built for. */
#ifdef SKW2V_X86_CLONES
static const char *const skw2v_fused_isa[SKW2V_N_CLONES] = {"baseline", "x86-64-v3",
                                                            SKW2V_V4_FUSED_ISA};
#else
static const char *const skw2v_fused_isa[SKW2V_N_CLONES] = {"baseline", "x86-64-v3",
                                                            "x86-64-v4"};
#endif
static skw2v_ops skw2v_active = {0};
static int skw2v_active_clone = -1;

/* 1 if this build has clone i and the running CPU (and OS) can execute it. */
static int skw2v_clone_usable(int i) {
    if (i == 0) return 1;
#ifdef SKW2V_X86_CLONES
    __builtin_cpu_init();
    /* __builtin_cpu_supports also checks that the OS saves the AVX/AVX-512 state. */
    int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (i == 1) return v3;
    if (i == 2)
        return v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
#endif
    return 0;
}

/* Make clone i (or, for i < 0, the best usable one) the active kernels.
 * Returns the clone now active, or -1 if clone i is not usable here. */
static int skw2v_simd_select(int i) {
    if (i < 0) {
        for (i = SKW2V_N_CLONES - 1; i > 0 && !skw2v_clone_usable(i); i--) {}
    } else if (i >= SKW2V_N_CLONES || !skw2v_clone_usable(i)) {
        return -1;
    }
    switch (i) {
#ifdef SKW2V_X86_CLONES
        case 2: skw2v_active = skw2v_ops_x86_64_v4; break;
        case 1: skw2v_active = skw2v_ops_x86_64_v3; break;
#endif
        default: skw2v_active = skw2v_ops_baseline; break;
    }
    skw2v_active_clone = i;
    return i;
}

static inline double skw2v_update_targets(const float *l1, float *work, float *w_out, int dim,
                                          const int *targets, int n_targets,
                                          const float *log_kq, float *bias, float alpha) {
    return skw2v_active.update_targets(l1, work, w_out, dim, targets, n_targets, log_kq, bias,
                                       alpha);
}
static inline double skw2v_update_window(float *w_in, float *w_out, int dim, const int *contexts,
                                         int n_contexts, const int *targets, int n_targets,
                                         const float *log_kq, float *bias, float alpha,
                                         const skw2v_window_scratch *scratch) {
    return skw2v_active.update_window(w_in, w_out, dim, contexts, n_contexts, targets,
                                      n_targets, log_kq, bias, alpha, scratch);
}
static inline void skw2v_axpy(int n, float a, const float *x, float *y) {
    skw2v_active.axpy(n, a, x, y);
}
static inline void skw2v_scale(int n, float a, float *y) { skw2v_active.scale(n, a, y); }
static inline double skw2v_cbow_step(float *w_in, float *w_out, int dim, const int *contexts,
                                     int m, const unsigned char *frozen, const int *targets,
                                     int n_targets, const float *log_kq, float *bias,
                                     float alpha, float *neu1, float *work) {
    return skw2v_active.cbow_step(w_in, w_out, dim, contexts, m, frozen, targets, n_targets,
                                  log_kq, bias, alpha, neu1, work);
}

#endif
