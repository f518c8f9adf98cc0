// skw2v GPU training kernels: one epoch slice of word2vec (skip-gram or CBOW)
// with negative sampling or NCE, compiled at run time by NVRTC through
// cupy.RawModule. No header is included: NVRTC ships none of the host C/C++
// headers, and everything used here (expf, log1pf, fabsf, float4, warp
// shuffles and votes, atomics) is built into the device compiler.
//
// Semantics follow skw2v/_core.pyx, draw for draw where it can:
//   * subsampling keeps corpus position j when keep_prob[w] >= 1 or
//     uniform24(hash64(subsample_key + j)) < keep_prob[w] -- the CPU's hash,
//     so for one epoch seed the GPU keeps exactly the tokens the CPU keeps;
//   * windows run over the kept tokens of one sentence, radius drawn
//     uniformly in [1, window] when shrinking;
//   * the learning rate is linear in the corpus position of the centre word;
//   * skip-gram, per pair (batch_window = 0): each context word's input
//     vector predicts the centre word against its own sample_size negatives,
//     pair after pair, each pair seeing the rows the previous one left;
//   * skip-gram, window-batched (batch_window = 1): one set of negatives per
//     centre word, every score taken from the output rows as they were at the
//     start of the centre's step, each context's input step against those
//     rows plus the output steps of the contexts before it (the semantics
//     shared with the CPU kernel's batch_window, spelled out at
//     skw2v_centre_batched);
//   * CBOW: the mean of the context vectors predicts the centre word and
//     every context word receives the full error;
//   * negatives come from the Walker/Vose alias table; one equal to the
//     positive is skipped (its draw is still consumed); NCE subtracts
//     log(k q(w)) from every logit.
// Only the random stream differs from the CPU: each centre word owns a
// SplitMix64 stream seeded by hash64(rng_key + position), so the draws do not
// depend on the launch geometry or on which warp trains which centre. The
// stream is counter-based (draw n is mix64(seed + n * gamma)), so lane l
// computes draw l of a batch of negatives directly, all in one step.
//
// Parallel layout: one warp per centre word. Warps are persistent: the grid
// is sized to what fits on the device at once, and each warp takes work
// items of `piece` consecutive centres (kept coordinates) from an atomic
// counter until none is left. Lane l holds the vector elements
// [(l + 32 r) * VEC, +VEC) for r < R in registers, so a row is read with
// VEC-wide loads coalesced across the warp, and a dot product is a butterfly
// shuffle reduction that leaves the same bits in every lane (branches on it
// never diverge). The rows of all targets of a step are loaded together, so
// their latencies overlap. Rows change by atomic addition of deltas (float4
// atomics on sm_90, scalar ones elsewhere): concurrent warps lose no update,
// and no row is read back just to be written. Every warp adds its statistics
// into its own float64 slot.
//
// Compile-time variant (set with -D by the host driver):
//   SKW2V_VEC        1 or 4  floats per load (4 needs dim % 4 == 0)
//   SKW2V_R          >= 1    loads per lane and row: dim <= 32 * VEC * R
//   SKW2V_PATH       0, 1, 2 skip-gram per pair, skip-gram window-batched, CBOW
//                            (one path per module keeps the register count of
//                            each down; the kernel traps on a mismatch)
//   SKW2V_T          >= 1    target slots: 1 + sample_size at most
//   SKW2V_THREADS            block size the driver launches (__launch_bounds__)
//   SKW2V_MIN_BLOCKS >= 0    blocks per SM asked of the register allocator (0: none)
//   SKW2V_ATOMIC     0 or 1  1: atomic adds; 0: plain read-add-write (hogwild)

#ifndef SKW2V_VEC
#define SKW2V_VEC 4
#endif
#ifndef SKW2V_R
#define SKW2V_R 1
#endif
#ifndef SKW2V_PATH
#define SKW2V_PATH 0
#endif
#ifndef SKW2V_T
#define SKW2V_T 6
#endif
#ifndef SKW2V_THREADS
#define SKW2V_THREADS 256
#endif
#ifndef SKW2V_MIN_BLOCKS
#define SKW2V_MIN_BLOCKS 0
#endif
#ifndef SKW2V_ATOMIC
#define SKW2V_ATOMIC 1
#endif
// float4 atomicAdd exists on compute capability 9.0 and later only.
#ifndef SKW2V_VECTOR_ATOMICS
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define SKW2V_VECTOR_ATOMICS 1
#else
#define SKW2V_VECTOR_ATOMICS 0
#endif
#endif

#if SKW2V_MIN_BLOCKS > 0
#define SKW2V_BOUNDS __launch_bounds__(SKW2V_THREADS, SKW2V_MIN_BLOCKS)
#else
#define SKW2V_BOUNDS __launch_bounds__(SKW2V_THREADS)
#endif

#define SKW2V_WARP 32
#define SKW2V_FULL_MASK 0xffffffffu
#define SKW2V_GAMMA 0x9E3779B97F4A7C15ULL

static_assert(SKW2V_VEC == 1 || SKW2V_VEC == 4, "SKW2V_VEC must be 1 or 4");
static_assert(SKW2V_R >= 1, "SKW2V_R must be >= 1");
static_assert(SKW2V_T >= 1, "SKW2V_T must be >= 1");
static_assert(SKW2V_PATH >= 0 && SKW2V_PATH <= 2, "SKW2V_PATH must be 0, 1 or 2");

typedef unsigned long long skw2v_u64;
typedef long long skw2v_i64;
typedef unsigned int skw2v_u32;

// ---------------------------------------------------------------- random --
// SplitMix64 (Steele, Lea & Flood, OOPSLA 2014): the same constants and
// derivations as skw2v/_random.pxd.

__device__ __forceinline__ skw2v_u64 skw2v_mix64(skw2v_u64 z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

__device__ __forceinline__ skw2v_u64 skw2v_next(skw2v_u64* state) {
    *state += SKW2V_GAMMA;
    return skw2v_mix64(*state);
}

__device__ __forceinline__ skw2v_u64 skw2v_hash64(skw2v_u64 key) {
    return skw2v_mix64(key * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL);
}

// Lemire's multiply-shift: uniform in [0, n) from the high 32 bits.
__device__ __forceinline__ skw2v_u32 skw2v_bounded(skw2v_u64 r, skw2v_u32 n) {
    return (skw2v_u32)(((r >> 32) * (skw2v_u64)n) >> 32);
}

// Uniform in [0, 1) with 24 random bits (exact in float32).
__device__ __forceinline__ float skw2v_uniform24(skw2v_u64 r) {
    return (float)(r >> 40) * (1.0f / 16777216.0f);
}

// Walker/Vose: the low 32 bits pick a column, the high 32 bits accept it.
// One 8-byte entry per column, threshold in the low half and alias word in
// the high half, so a draw costs one dependent load.
__device__ __forceinline__ int skw2v_alias_draw(skw2v_u64 r, const skw2v_u64* __restrict__ table,
                                                skw2v_u32 n) {
    const skw2v_u32 i = (skw2v_u32)(((r & 0xFFFFFFFFULL) * (skw2v_u64)n) >> 32);
    const skw2v_u64 e = table[i];
    return (skw2v_u32)(r >> 32) < (skw2v_u32)e ? (int)i : (int)(e >> 32);
}

__device__ __forceinline__ bool skw2v_kept(const float* __restrict__ keep_prob, int word,
                                           skw2v_u64 subsample_key, skw2v_i64 position) {
    const float p = keep_prob[word];
    return p >= 1.0f || skw2v_uniform24(skw2v_hash64(subsample_key + (skw2v_u64)position)) < p;
}

// ----------------------------------------------------------------- maths --

// label - sigmoid(f), adding -log P(label | f) to *loss; both from one
// expf(-|f|), so neither overflows nor takes log(0) (as _core.pyx).
__device__ __forceinline__ float skw2v_logistic_grad(float f, float label, double* loss) {
    const float e = expf(-fabsf(f));
    const float sig = f >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
    if (label > 0.0f) {
        *loss += (double)(f < 0.0f ? -f : 0.0f) + (double)log1pf(e);
    } else {
        *loss += (double)(f > 0.0f ? f : 0.0f) + (double)log1pf(e);
    }
    return label - sig;
}

// Butterfly sum: every lane ends with the same bits (each step adds the same
// two operands in both partner lanes, and float addition commutes).
__device__ __forceinline__ float skw2v_warp_sum(float v) {
#pragma unroll
    for (int m = SKW2V_WARP / 2; m > 0; m >>= 1) {
        v += __shfl_xor_sync(SKW2V_FULL_MASK, v, m);
    }
    return v;
}

// ------------------------------------------------------------- fragments --
// A lane's share of one row of `dim` floats, in registers.

struct skw2v_frag {
    float v[SKW2V_R][SKW2V_VEC];
};

__device__ __forceinline__ int skw2v_frag_elem(int lane, int r) {
    return (lane + SKW2V_WARP * r) * SKW2V_VEC;
}

__device__ __forceinline__ void skw2v_frag_zero(skw2v_frag& a) {
#pragma unroll
    for (int r = 0; r < SKW2V_R; ++r) {
#pragma unroll
        for (int k = 0; k < SKW2V_VEC; ++k) a.v[r][k] = 0.0f;
    }
}

// Elements past dim read as 0 and are never stored, so they add nothing.
__device__ __forceinline__ void skw2v_frag_load(skw2v_frag& a, const float* row, int dim, int lane) {
#pragma unroll
    for (int r = 0; r < SKW2V_R; ++r) {
        const int e = skw2v_frag_elem(lane, r);
        if (e < dim) {
#if SKW2V_VEC == 4
            const float4 q = *reinterpret_cast<const float4*>(row + e);
            a.v[r][0] = q.x;
            a.v[r][1] = q.y;
            a.v[r][2] = q.z;
            a.v[r][3] = q.w;
#else
            a.v[r][0] = row[e];
#endif
        } else {
#pragma unroll
            for (int k = 0; k < SKW2V_VEC; ++k) a.v[r][k] = 0.0f;
        }
    }
}

__device__ __forceinline__ float skw2v_frag_dot(const skw2v_frag& a, const skw2v_frag& b) {
    float s = 0.0f;
#pragma unroll
    for (int r = 0; r < SKW2V_R; ++r) {
#pragma unroll
        for (int k = 0; k < SKW2V_VEC; ++k) s += a.v[r][k] * b.v[r][k];
    }
    return s;
}

// y += g * x
__device__ __forceinline__ void skw2v_frag_axpy(skw2v_frag& y, float g, const skw2v_frag& x) {
#pragma unroll
    for (int r = 0; r < SKW2V_R; ++r) {
#pragma unroll
        for (int k = 0; k < SKW2V_VEC; ++k) y.v[r][k] += g * x.v[r][k];
    }
}

__device__ __forceinline__ void skw2v_frag_scale(skw2v_frag& y, float g) {
#pragma unroll
    for (int r = 0; r < SKW2V_R; ++r) {
#pragma unroll
        for (int k = 0; k < SKW2V_VEC; ++k) y.v[r][k] *= g;
    }
}

// --------------------------------------------------------------- updates --
// Row updates are additions of deltas. With SKW2V_ATOMIC they are atomic, so
// concurrent warps that hit one row (the frequent negatives) lose nothing;
// without, they are plain read-add-write sequences (hogwild).

__device__ __forceinline__ void skw2v_atomic_add(float* p, float v) {
#if SKW2V_ATOMIC
    atomicAdd(p, v);
#else
    *p += v;
#endif
}

// row += g * x (g = 1 adds x), elements past dim untouched.
__device__ __forceinline__ void skw2v_row_add(float* row, float g, const skw2v_frag& x, int dim,
                                              int lane) {
#pragma unroll
    for (int r = 0; r < SKW2V_R; ++r) {
        const int e = skw2v_frag_elem(lane, r);
        if (e < dim) {
#if SKW2V_ATOMIC && SKW2V_VEC == 4 && SKW2V_VECTOR_ATOMICS
            float4 q;
            q.x = g * x.v[r][0];
            q.y = g * x.v[r][1];
            q.z = g * x.v[r][2];
            q.w = g * x.v[r][3];
            atomicAdd(reinterpret_cast<float4*>(row + e), q);
#else
#pragma unroll
            for (int k = 0; k < SKW2V_VEC; ++k) skw2v_atomic_add(row + e + k, g * x.v[r][k]);
#endif
        }
    }
}

// ------------------------------------------------------------- training --

// Targets of one step: t[0] = the positive w, then the draws of sample_size
// negatives that differ from w, in draw order; returns their number n_t.
// Lane l computes draw l of each batch of 32 from the counter-based stream
// (the same values a draw-by-draw loop would get), and a ballot compacts the
// kept ones into the warp-uniform slots t[1..]. The stream advances past
// every draw, kept or not.
__device__ __forceinline__ int skw2v_draw_targets(int w, int sample_size, skw2v_u64* rng,
                                                  const skw2v_u64* __restrict__ table,
                                                  skw2v_u32 n_vocab, int lane,
                                                  int (&t)[SKW2V_T]) {
    t[0] = w;
#pragma unroll
    for (int j = 1; j < SKW2V_T; ++j) t[j] = -1;
    int n_t = 1;
    for (int base = 0; base < sample_size; base += SKW2V_WARP) {
        const int l = base + lane;
        int d = -1;
        if (l < sample_size) {
            d = skw2v_alias_draw(skw2v_mix64(*rng + (skw2v_u64)(l + 1) * SKW2V_GAMMA), table,
                                 n_vocab);
        }
        skw2v_u32 keep = __ballot_sync(SKW2V_FULL_MASK, d >= 0 && d != w);
#pragma unroll
        for (int j = 1; j < SKW2V_T; ++j) {
            if (j >= n_t && keep != 0u) {  // warp-uniform
                const int src = __ffs((int)keep) - 1;
                keep &= keep - 1u;
                t[j] = __shfl_sync(SKW2V_FULL_MASK, d, src);
                n_t = j + 1;
            }
        }
    }
    *rng += (skw2v_u64)sample_size * SKW2V_GAMMA;
    return n_t;
}

// Load the output rows of targets [first, n_t) together (their latencies overlap).
__device__ __forceinline__ void skw2v_load_targets(skw2v_frag (&rows)[SKW2V_T],
                                                   const int (&t)[SKW2V_T],
                                                   int first, int n_t, const float* w_out, int dim,
                                                   int lane) {
#pragma unroll
    for (int j = 0; j < SKW2V_T; ++j) {
        if (j >= first && j < n_t) {
            skw2v_frag_load(rows[j], w_out + (skw2v_i64)t[j] * dim, dim, lane);
        }
    }
}

// One positive (t[0]) and the negatives t[1..n_t) against the input
// representation l1, in order, as the CPU does: g[j] receives target j's step
// (its row delta is g[j] * l1, applied by the caller) and work the gradient
// for l1. rows[] hold the targets' rows as loaded; after target j's update its
// row is copied into the later slots of the same word, so a repeated negative
// sees its earlier update exactly as on the CPU. With use_bias (NCE) lane 0
// reads and steps bias[t] at once (broadcast by a shuffle).
__device__ __forceinline__ double skw2v_sequential_targets(
    const skw2v_frag& l1, skw2v_frag& work, skw2v_frag (&rows)[SKW2V_T], float (&g)[SKW2V_T],
    const int (&t)[SKW2V_T], int n_t, const float* __restrict__ log_kq, int use_nce, float* bias,
    int use_bias, float alpha, int lane) {
    double loss = 0.0;
#pragma unroll
    for (int j = 0; j < SKW2V_T; ++j) {
        g[j] = 0.0f;
        if (j < n_t) {
            float f = skw2v_warp_sum(skw2v_frag_dot(l1, rows[j]));
            if (use_nce) f -= log_kq[t[j]];
            if (use_bias) f += __shfl_sync(SKW2V_FULL_MASK, lane == 0 ? bias[t[j]] : 0.0f, 0);
            g[j] = skw2v_logistic_grad(f, j == 0 ? 1.0f : 0.0f, &loss) * alpha;
            if (use_bias && lane == 0) skw2v_atomic_add(bias + t[j], g[j]);
            skw2v_frag_axpy(work, g[j], rows[j]);  // from the row before its update
            skw2v_frag_axpy(rows[j], g[j], l1);
#pragma unroll
            for (int m = j + 1; m < SKW2V_T; ++m) {
                if (t[m] == t[j]) rows[m] = rows[j];
            }
        }
    }
    return loss;
}

// Largest s in [0, n_sentences) with off[s] <= k (off[0] = 0 <= k < off[n]).
__device__ __forceinline__ skw2v_i64 skw2v_find_sentence(const skw2v_i64* __restrict__ off,
                                                         skw2v_i64 n_sentences, skw2v_i64 k) {
    skw2v_i64 lo = 0, hi = n_sentences;
    while (hi - lo > 1) {
        const skw2v_i64 mid = lo + (hi - lo) / 2;
        if (off[mid] <= k) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return lo;
}

// Token at kept index k.
__device__ __forceinline__ int skw2v_token_at(const int* __restrict__ tokens,
                                              const skw2v_i64* __restrict__ kept_pos, int identity,
                                              skw2v_i64 k) {
    return tokens[identity ? k : kept_pos[k]];
}

// The window-batched skip-gram step of centre i (word w) over the contexts
// at kept indices [lo, hi) \ {i} (m of them, m >= 1), context after context:
//   1. targets t_0 = w, then the sample_size draws that differ from w;
//   2. s[c,j] = w_in[c_c] . w_out[t_j] (NCE: - log_kq[t_j] + bias[t_j]), the
//      output rows and biases as they were at the start of the step, the input
//      row as it is at context c's turn (a repeated word sees its earlier step);
//   3. g[c,j] = alpha (label_j - sigmoid(s[c,j])), label_0 = 1, others 0;
//      loss += softplus(-s) for j = 0, softplus(s) for j > 0;
//   4. w_in[c_c] += sum_j g[c,j] (w_out[t_j] + d_out[j]), d_out[j] the output
//      steps of the contexts before c (as the per-pair update sees them);
//      then d_out[j] += g[c,j] w_in[c_c];
//   5. at the end w_out[t_j] += d_out[j], bias[t_j] += sum_c g[c,j] (a
//      repeated id gets each delta).
// The target rows and their deltas stay in registers across the window: each
// target row is read and written once per centre. Returns the loss.
__device__ __forceinline__ double skw2v_centre_batched(
    int w, skw2v_i64 i, skw2v_i64 lo, skw2v_i64 hi, const int* __restrict__ tokens,
    const skw2v_i64* __restrict__ kept_pos, int identity, int sample_size, skw2v_u64* rng,
    const skw2v_u64* __restrict__ alias_table, skw2v_u32 n_vocab, const float* __restrict__ log_kq,
    int use_nce, float* bias, int use_bias, float* w_in, float* w_out, int dim, float alpha,
    int lane, const unsigned char* __restrict__ frozen, int use_frozen) {
    int t[SKW2V_T];
    const int n_t = skw2v_draw_targets(w, sample_size, rng, alias_table, n_vocab, lane, t);
    skw2v_frag rows[SKW2V_T], d_out[SKW2V_T];
    float offset[SKW2V_T], d_bias[SKW2V_T];
    skw2v_load_targets(rows, t, 0, n_t, w_out, dim, lane);
#pragma unroll
    for (int j = 0; j < SKW2V_T; ++j) {
        offset[j] = 0.0f;
        d_bias[j] = 0.0f;
        skw2v_frag_zero(d_out[j]);
        if (j < n_t) {
            if (use_nce) offset[j] -= log_kq[t[j]];
            // Lane 0 alone writes the bias: it reads it too, and broadcasts.
            if (use_bias) {
                offset[j] += __shfl_sync(SKW2V_FULL_MASK, lane == 0 ? bias[t[j]] : 0.0f, 0);
            }
        }
    }
    double loss = 0.0;
    skw2v_frag x, d_in;
    for (skw2v_i64 base = lo; base < hi; base += SKW2V_WARP) {
        // Lane l looks up the word at context position base + l; the warp then
        // takes the positions in order.
        const skw2v_i64 k = base + lane;
        const bool valid = k < hi && k != i;
        const int id = valid ? skw2v_token_at(tokens, kept_pos, identity, k) : -1;
        skw2v_u32 todo = __ballot_sync(SKW2V_FULL_MASK, valid);
        while (todo != 0u) {  // warp-uniform
            const int src = __ffs((int)todo) - 1;
            todo &= todo - 1u;
            const int c = __shfl_sync(SKW2V_FULL_MASK, id, src);
            float* x_row = w_in + (skw2v_i64)c * dim;
            // Each lane reads back only the elements it added itself (same
            // layout), so a repeated word sees this warp's earlier step.
            skw2v_frag_load(x, x_row, dim, lane);
            skw2v_frag_zero(d_in);
#pragma unroll
            for (int j = 0; j < SKW2V_T; ++j) {
                if (j < n_t) {
                    const float f = skw2v_warp_sum(skw2v_frag_dot(x, rows[j])) + offset[j];
                    const float gj = skw2v_logistic_grad(f, j == 0 ? 1.0f : 0.0f, &loss) * alpha;
                    skw2v_frag_axpy(d_in, gj, rows[j]);
                    skw2v_frag_axpy(d_in, gj, d_out[j]);  // before this context's own step
                    skw2v_frag_axpy(d_out[j], gj, x);
                    d_bias[j] += gj;
                }
            }
            if (!use_frozen || !frozen[c]) skw2v_row_add(x_row, 1.0f, d_in, dim, lane);
        }
    }
#pragma unroll
    for (int j = 0; j < SKW2V_T; ++j) {
        if (j < n_t) {
            skw2v_row_add(w_out + (skw2v_i64)t[j] * dim, 1.0f, d_out[j], dim, lane);
            if (use_bias && lane == 0) skw2v_atomic_add(bias + t[j], d_bias[j]);
        }
    }
    return loss;
}

// ------------------------------------------------------------- subwords --
// With subwords (fastText, see skw2v/_subwords.py) word c's input is the mean
// of its rows ids[indptr[c]:indptr[c+1]] of w_in (its own row, then its n-gram
// rows), and each of those rows takes the whole delta of the mean. Without,
// the input is row c. Sums run in the CPU kernel's order (first row, then
// each further row added, then one scale by 1/n).

__device__ __forceinline__ void skw2v_input_load(skw2v_frag& x, const float* w_in, int c,
                                                 int use_subwords,
                                                 const skw2v_i64* __restrict__ sub_indptr,
                                                 const int* __restrict__ sub_ids, int dim,
                                                 int lane) {
    if (!use_subwords) {
        skw2v_frag_load(x, w_in + (skw2v_i64)c * dim, dim, lane);
        return;
    }
    const skw2v_i64 lo = sub_indptr[c], hi = sub_indptr[c + 1];
    skw2v_frag_load(x, w_in + (skw2v_i64)sub_ids[lo] * dim, dim, lane);
    skw2v_frag row;
    for (skw2v_i64 r = lo + 1; r < hi; ++r) {
        skw2v_frag_load(row, w_in + (skw2v_i64)sub_ids[r] * dim, dim, lane);
        skw2v_frag_axpy(x, 1.0f, row);
    }
    if (hi - lo > 1) skw2v_frag_scale(x, (float)(1.0 / (double)(hi - lo)));
}

// The input rows of word c += g * d.
__device__ __forceinline__ void skw2v_input_add(float* w_in, int c, float g, const skw2v_frag& d,
                                                int use_subwords,
                                                const skw2v_i64* __restrict__ sub_indptr,
                                                const int* __restrict__ sub_ids, int dim,
                                                int lane) {
    if (!use_subwords) {
        skw2v_row_add(w_in + (skw2v_i64)c * dim, g, d, dim, lane);
        return;
    }
    for (skw2v_i64 r = sub_indptr[c]; r < sub_indptr[c + 1]; ++r) {
        skw2v_row_add(w_in + (skw2v_i64)sub_ids[r] * dim, g, d, dim, lane);
    }
}

// Flag the corpus positions kept by subsampling (flags[j] = 0 or 1).
extern "C" __global__ void SKW2V_BOUNDS skw2v_keep_flags(
    const int* __restrict__ tokens,       // IN (N,) token ids
    const float* __restrict__ keep_prob,  // IN (V,) subsampling keep probability
    skw2v_i64 n_tokens,                   // N
    skw2v_u64 subsample_key,              // hash64(seed ^ SUBSAMPLE_KEY), as on the CPU
    unsigned char* __restrict__ flags)    // OUT (N,)
{
    const skw2v_i64 stride = (skw2v_i64)gridDim.x * blockDim.x;
    for (skw2v_i64 j = (skw2v_i64)blockIdx.x * blockDim.x + threadIdx.x; j < n_tokens; j += stride) {
        flags[j] = skw2v_kept(keep_prob, tokens[j], subsample_key, j) ? 1 : 0;
    }
}

// Train the centre words at kept indices [k_begin, k_end).
//
// "Kept coordinates" index the tokens that survived subsampling, in corpus
// order: kept index k is corpus position kept_pos[k] (or k itself when
// `identity`), and sentence s holds kept indices [sent_off[s], sent_off[s+1]).
extern "C" __global__ void SKW2V_BOUNDS skw2v_train(
    const int* __restrict__ tokens,            // IN (N,) token ids in [0, V)
    const skw2v_i64* __restrict__ kept_pos,    // IN (K,) corpus position of each kept index
    int identity,                              // 1: nothing dropped, kept_pos is not read
    const skw2v_i64* __restrict__ sent_off,    // IN (S+1,) sentence offsets, kept coordinates
    skw2v_i64 n_sentences,                     // S
    skw2v_i64 k_begin,                         // first centre (kept index)
    skw2v_i64 k_end,                           // one past the last centre
    int piece,                                 // centres per work item (>= 1)
    skw2v_u64* work_counter,                   // IN/OUT (1,) next work item; 0 at launch
    const skw2v_u64* __restrict__ alias_table, // IN (V,) alias threshold | alias word << 32
    skw2v_u32 n_vocab,                         // V
    const float* __restrict__ log_kq,          // IN (V,) log(k q(w)), read when use_nce
    int use_nce,                               // 1: NCE, 0: negative sampling
    float* bias,                               // IN/OUT (V,) NCE output bias
    int use_bias,                              // 1: add and train bias (NCE only)
    float* w_in,                               // IN/OUT (V, dim) input vectors
    float* w_out,                              // IN/OUT (V, dim) output vectors
    const unsigned char* __restrict__ frozen,  // IN (V,) non-zero: that input row is never
    int use_frozen,                            //   written (freeze_init_vectors), read when 1
    int dim,                                   // vector size, <= 32 * VEC * R
    int architecture,                          // 0 skip-gram, 1 CBOW
    int batch_window,                          // skip-gram: 1 window-batched, 0 per pair
    int window,                                // maximum radius (>= 1)
    int shrink,                                // 1: radius uniform in [1, window]
    int sample_size,                           // negatives per positive, <= SKW2V_T - 1
    double lr_start,                           // learning rate at progress 0
    double lr_end,                             // at progress_total, and a floor
    skw2v_i64 progress_offset,                 // progress before this epoch (positions)
    skw2v_i64 progress_total,                  // progress at which lr reaches lr_end
    skw2v_u64 rng_key,                         // per-epoch key of the centre streams
    double* __restrict__ stats,                // IN/OUT (warps, 3) loss, positives, words
    const skw2v_i64* __restrict__ sub_indptr,  // IN (V+1,) subwords: word c's input rows are
    const int* __restrict__ sub_ids,           // IN   sub_ids[sub_indptr[c]:sub_indptr[c+1]]
    int use_subwords)                          // 1: subword inputs (w_in has V + bucket rows)
{
    // A module built for another path, or too few target slots: fail loudly.
    if (architecture != (SKW2V_PATH == 2 ? 1 : 0) ||
        (architecture == 0 && batch_window != (SKW2V_PATH == 1)) ||
        (use_subwords && SKW2V_PATH == 1) || sample_size < 0 ||
        sample_size > SKW2V_T - 1) {
        __trap();
    }
    const int lane = (int)(threadIdx.x & (SKW2V_WARP - 1));
    const skw2v_i64 warp = ((skw2v_i64)blockIdx.x * blockDim.x + threadIdx.x) / SKW2V_WARP;
    const double lr_delta = lr_start - lr_end;
    // Windows that fit in a warp are fetched once per centre, one slot a lane.
    // Compared as window <= 15, not 2 * window + 1 <= 32: window may be INT_MAX.
    const bool warp_window = window <= (SKW2V_WARP - 1) / 2;
    double loss = 0.0, positives = 0.0, words = 0.0;
    int t[SKW2V_T];
    float g[SKW2V_T];
    skw2v_frag rows[SKW2V_T];
    skw2v_frag l1, work, d_centre;

    for (;;) {
        skw2v_u64 item = 0;
        if (lane == 0) item = atomicAdd(work_counter, 1ULL);
        item = __shfl_sync(SKW2V_FULL_MASK, item, 0);
        if (item >= (skw2v_u64)(k_end - k_begin)) break;  // also guards the product below
        const skw2v_i64 c0 = k_begin + (skw2v_i64)item * piece;
        if (c0 >= k_end) break;
        const skw2v_i64 c1 = k_end - c0 < (skw2v_i64)piece ? k_end : c0 + piece;
        skw2v_i64 s = skw2v_find_sentence(sent_off, n_sentences, c0);
        for (skw2v_i64 i = c0; i < c1; ++i) {
            while (sent_off[s + 1] <= i) ++s;
            const skw2v_i64 sb = sent_off[s];
            const skw2v_i64 se = sent_off[s + 1];
            const skw2v_i64 pos = identity ? i : kept_pos[i];
            const int w = tokens[pos];
            skw2v_u64 rng = skw2v_hash64(rng_key + (skw2v_u64)pos);
            float alpha = (float)(lr_start - lr_delta * (double)(progress_offset + pos) /
                                                 (double)progress_total);
            if (alpha < lr_end) alpha = (float)lr_end;
            const int b = shrink ? 1 + (int)skw2v_bounded(skw2v_next(&rng), (skw2v_u32)window)
                                 : window;
            const skw2v_i64 lo = i - b > sb ? i - b : sb;
            const skw2v_i64 hi = i + b + 1 < se ? i + b + 1 : se;
            words += 1.0;
            if (hi - lo <= 1) continue;  // no context: no draws, no update

            if (SKW2V_PATH == 1) {
                loss += skw2v_centre_batched(w, i, lo, hi, tokens, kept_pos, identity,
                                             sample_size, &rng, alias_table, n_vocab, log_kq,
                                             use_nce, bias, use_bias, w_in, w_out, dim, alpha,
                                             lane, frozen, use_frozen);
                positives += (double)(hi - lo - 1);
                continue;
            }

            int slot = -1;
            if (warp_window) {
                const skw2v_i64 q = i - window + lane;
                if (lane <= 2 * window && q >= sb && q < se) {
                    slot = skw2v_token_at(tokens, kept_pos, identity, q);
                }
            }
#define SKW2V_CONTEXT(k)                                                              \
    (warp_window ? __shfl_sync(SKW2V_FULL_MASK, slot, (int)((k) - i + window))        \
                 : skw2v_token_at(tokens, kept_pos, identity, (k)))

            if (SKW2V_PATH == 0 && use_subwords) {
                // Subwords, fastText's direction (as _core.pyx's _subword_step): the
                // centre's mean input predicts each context word against its own
                // negatives and takes each pair's step; the summed input gradient goes
                // to each of the centre's rows at the end of the window.
                skw2v_input_load(l1, w_in, w, 1, sub_indptr, sub_ids, dim, lane);
                skw2v_frag_zero(d_centre);
                for (skw2v_i64 k = lo; k < hi; ++k) {
                    if (k == i) continue;
                    const int n_t = skw2v_draw_targets(SKW2V_CONTEXT(k), sample_size, &rng,
                                                       alias_table, n_vocab, lane, t);
                    skw2v_load_targets(rows, t, 0, n_t, w_out, dim, lane);
                    skw2v_frag_zero(work);
                    loss += skw2v_sequential_targets(l1, work, rows, g, t, n_t, log_kq, use_nce,
                                                     bias, use_bias, alpha, lane);
#pragma unroll
                    for (int j = 0; j < SKW2V_T; ++j) {
                        if (j < n_t) skw2v_row_add(w_out + (skw2v_i64)t[j] * dim, g[j], l1, dim, lane);
                    }
                    skw2v_frag_axpy(d_centre, 1.0f, work);
                    skw2v_frag_axpy(l1, 1.0f, work);  // the mean the rows will have (CPU's note)
                    positives += 1.0;
                }
                skw2v_input_add(w_in, w, 1.0f, d_centre, 1, sub_indptr, sub_ids, dim, lane);
            } else if (SKW2V_PATH == 0) {
                // The centre's output row (slot 0) stays in registers across
                // the window; its delta is added once at the end. Negatives never
                // equal the centre word, so no other slot aliases it.
                skw2v_frag_load(rows[0], w_out + (skw2v_i64)w * dim, dim, lane);
                skw2v_frag_zero(d_centre);
                for (skw2v_i64 k = lo; k < hi; ++k) {
                    if (k == i) continue;
                    float* l1p = w_in + (skw2v_i64)SKW2V_CONTEXT(k) * dim;
                    const int n_t = skw2v_draw_targets(w, sample_size, &rng, alias_table, n_vocab,
                                                       lane, t);
                    skw2v_frag_load(l1, l1p, dim, lane);
                    skw2v_load_targets(rows, t, 1, n_t, w_out, dim, lane);
                    skw2v_frag_zero(work);
                    loss += skw2v_sequential_targets(l1, work, rows, g, t, n_t, log_kq, use_nce,
                                                     bias, use_bias, alpha, lane);
                    skw2v_frag_axpy(d_centre, g[0], l1);
#pragma unroll
                    for (int j = 1; j < SKW2V_T; ++j) {
                        if (j < n_t) {
                            skw2v_row_add(w_out + (skw2v_i64)t[j] * dim, g[j], l1, dim, lane);
                        }
                    }
                    if (!use_frozen || !frozen[(l1p - w_in) / dim]) {  // the context's row
                        skw2v_row_add(l1p, 1.0f, work, dim, lane);
                    }
                    positives += 1.0;
                }
                skw2v_row_add(w_out + (skw2v_i64)w * dim, 1.0f, d_centre, dim, lane);
            } else {
                const int n_t = skw2v_draw_targets(w, sample_size, &rng, alias_table, n_vocab,
                                                   lane, t);
                skw2v_load_targets(rows, t, 0, n_t, w_out, dim, lane);
                skw2v_frag_zero(l1);
                for (skw2v_i64 k = lo; k < hi; ++k) {
                    if (k == i) continue;
                    skw2v_input_load(work, w_in, SKW2V_CONTEXT(k), use_subwords, sub_indptr,
                                     sub_ids, dim, lane);
                    skw2v_frag_axpy(l1, 1.0f, work);
                }
                skw2v_frag_scale(l1, (float)(1.0 / (double)(hi - lo - 1)));
                skw2v_frag_zero(work);
                loss += skw2v_sequential_targets(l1, work, rows, g, t, n_t, log_kq, use_nce, bias,
                                                 use_bias, alpha, lane);
#pragma unroll
                for (int j = 0; j < SKW2V_T; ++j) {
                    if (j < n_t) skw2v_row_add(w_out + (skw2v_i64)t[j] * dim, g[j], l1, dim, lane);
                }
                // word2vec's convention: every context word gets the full error of the mean.
                for (skw2v_i64 k = lo; k < hi; ++k) {
                    if (k == i || (use_frozen && frozen[SKW2V_CONTEXT(k)])) continue;
                    skw2v_input_add(w_in, SKW2V_CONTEXT(k), 1.0f, work, use_subwords, sub_indptr,
                                    sub_ids, dim, lane);
                }
                positives += 1.0;
            }
#undef SKW2V_CONTEXT
        }
    }
    if (lane == 0) {
        stats[3 * warp + 0] += loss;
        stats[3 * warp + 1] += positives;
        stats[3 * warp + 2] += words;
    }
}
