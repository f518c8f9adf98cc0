// skw2v GPU training kernels: one epoch slice of word2vec (skip-gram or CBOW)
// with negative sampling or NCE, compiled at run time by NVRTC through
// cupy.RawModule. No header is included: NVRTC ships none of the host C/C++
// headers, and everything used here (expf, log1pf, fabsf, float4, warp
// shuffles) is built into the device compiler.
//
// Semantics follow skw2v/_core.pyx exactly, draw for draw where it can:
//   * subsampling keeps corpus position j when keep_prob[w] >= 1 or
//     uniform24(hash64(subsample_key + j)) < keep_prob[w] -- the CPU's hash,
//     so for one epoch seed the GPU keeps exactly the tokens the CPU keeps;
//   * windows run over the kept tokens of one sentence, radius drawn
//     uniformly in [1, window] when shrinking;
//   * the learning rate is linear in the corpus position of the centre word;
//   * skip-gram: each context word's input vector predicts the centre word;
//     CBOW: the mean of the context vectors predicts it and every context
//     word receives the full error;
//   * negatives come from the Walker/Vose alias table; one equal to the
//     positive is skipped (its draw is still consumed); NCE subtracts
//     log(k q(w)) from every logit.
// Only the random stream differs from the CPU: each centre word owns a
// SplitMix64 stream seeded by hash64(rng_key + position), so the draws do not
// depend on the launch geometry or on which warp trains which centre.
//
// Parallel layout: one warp per work item of `piece` consecutive centre words
// (in kept coordinates), grid-stride over work items. Lane l holds the vector
// elements [(l + 32 r) * VEC, +VEC) for r < R in registers, so a row is read
// with VEC-wide loads coalesced across the warp, and a dot product is a
// butterfly shuffle reduction that leaves the same bits in every lane (branches
// on it never diverge). Rows are updated hogwild; no atomics anywhere: every
// warp adds its statistics into its own float64 slot.
//
// Compile-time variant (set with -D by the host driver):
//   SKW2V_VEC  1 or 4  floats per load (4 needs dim % 4 == 0)
//   SKW2V_R    >= 1    loads per lane and row: dim <= 32 * VEC * R

#ifndef SKW2V_VEC
#define SKW2V_VEC 4
#endif
#ifndef SKW2V_R
#define SKW2V_R 1
#endif
#ifndef SKW2V_THREADS
#define SKW2V_THREADS 256  // largest block the driver launches
#endif

#define SKW2V_WARP 32
#define SKW2V_FULL_MASK 0xffffffffu

static_assert(SKW2V_VEC == 1 || SKW2V_VEC == 4, "SKW2V_VEC must be 1 or 4");
static_assert(SKW2V_R >= 1, "SKW2V_R must be >= 1");

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
    *state += 0x9E3779B97F4A7C15ULL;
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
__device__ __forceinline__ int skw2v_alias_draw(skw2v_u64 r, const skw2v_u32* __restrict__ thr,
                                                const int* __restrict__ alias, skw2v_u32 n) {
    const skw2v_u32 i = (skw2v_u32)(((r & 0xFFFFFFFFULL) * (skw2v_u64)n) >> 32);
    return (skw2v_u32)(r >> 32) < thr[i] ? (int)i : alias[i];
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

__device__ __forceinline__ void skw2v_frag_store(float* row, const skw2v_frag& a, int dim, int lane) {
#pragma unroll
    for (int r = 0; r < SKW2V_R; ++r) {
        const int e = skw2v_frag_elem(lane, r);
        if (e < dim) {
#if SKW2V_VEC == 4
            float4 q;
            q.x = a.v[r][0];
            q.y = a.v[r][1];
            q.z = a.v[r][2];
            q.w = a.v[r][3];
            *reinterpret_cast<float4*>(row + e) = q;
#else
            row[e] = a.v[r][0];
#endif
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

// ------------------------------------------------------------- training --

// Next negative after draw number *j (1-based, up to sample_size), skipping
// draws equal to the positive as the CPU does; -1 when none is left.
__device__ __forceinline__ int skw2v_next_negative(int* j, int sample_size, int target,
                                                   skw2v_u64* rng, const skw2v_u32* __restrict__ thr,
                                                   const int* __restrict__ alias, skw2v_u32 n_vocab) {
    while (*j < sample_size) {
        *j += 1;
        const int t = skw2v_alias_draw(skw2v_next(rng), thr, alias, n_vocab);
        if (t != target) return t;
    }
    return -1;
}

// One positive (target) and sample_size negatives against the input
// representation l1; the gradient for l1 (times alpha) is added to work.
// With use_bias (NCE), bias[t] is added to the logit and takes the step g;
// only lane 0 reads and writes it (broadcast by a shuffle), so a repeated
// negative sees its own last update, as on the CPU.
// Rows are processed in draw order, as on the CPU; the next row is loaded
// before the current one is finished so that its latency overlaps the
// reduction. Returns the loss.
__device__ __forceinline__ double skw2v_update_targets(
    const skw2v_frag& l1, skw2v_frag& work, int target, float* w_out, int dim, int lane,
    int sample_size, const skw2v_u32* __restrict__ alias_thr, const int* __restrict__ alias_idx,
    skw2v_u32 n_vocab, const float* __restrict__ log_kq, int use_nce, float* bias, int use_bias,
    float alpha, skw2v_u64* rng) {
    double loss = 0.0;
    int j = 0;
    int t = target;
    float label = 1.0f;
    skw2v_frag row, next;
    skw2v_frag_load(row, w_out + (skw2v_i64)t * dim, dim, lane);
    while (t >= 0) {
        const int t_next = skw2v_next_negative(&j, sample_size, target, rng, alias_thr, alias_idx,
                                               n_vocab);
        if (t_next >= 0) skw2v_frag_load(next, w_out + (skw2v_i64)t_next * dim, dim, lane);
        float f = skw2v_warp_sum(skw2v_frag_dot(l1, row));
        if (use_nce) f -= log_kq[t];
        if (use_bias) f += __shfl_sync(SKW2V_FULL_MASK, lane == 0 ? bias[t] : 0.0f, 0);
        const float g = skw2v_logistic_grad(f, label, &loss) * alpha;
        if (use_bias && lane == 0) bias[t] += g;
        skw2v_frag_axpy(work, g, row);      // gradient for l1 from the row before its update
        skw2v_frag_axpy(row, g, l1);
        skw2v_frag_store(w_out + (skw2v_i64)t * dim, row, dim, lane);
        // `next` was read before this store: if it is the same row, take the
        // updated values (each lane owns the same elements of every row).
        if (t_next == t) next = row;
        row = next;
        t = t_next;
        label = 0.0f;
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

// Flag the corpus positions kept by subsampling (flags[j] = 0 or 1).
extern "C" __global__ void __launch_bounds__(SKW2V_THREADS) skw2v_keep_flags(
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
extern "C" __global__ void __launch_bounds__(SKW2V_THREADS) skw2v_train(
    const int* __restrict__ tokens,            // IN (N,) token ids in [0, V)
    const skw2v_i64* __restrict__ kept_pos,    // IN (K,) corpus position of each kept index
    int identity,                              // 1: nothing dropped, kept_pos is not read
    const skw2v_i64* __restrict__ sent_off,    // IN (S+1,) sentence offsets, kept coordinates
    skw2v_i64 n_sentences,                     // S
    skw2v_i64 k_begin,                         // first centre (kept index)
    skw2v_i64 k_end,                           // one past the last centre
    int piece,                                 // centres per warp work item (>= 1)
    const skw2v_u32* __restrict__ alias_thr,   // IN (V,) alias acceptance thresholds
    const int* __restrict__ alias_idx,         // IN (V,) alias words
    skw2v_u32 n_vocab,                         // V
    const float* __restrict__ log_kq,          // IN (V,) log(k q(w)), read when use_nce
    int use_nce,                               // 1: NCE, 0: negative sampling
    float* bias,                               // IN/OUT (V,) NCE output bias, hogwild
    int use_bias,                              // 1: add and train bias (NCE only)
    float* w_in,                               // IN/OUT (V, dim) input vectors, hogwild
    float* w_out,                              // IN/OUT (V, dim) output vectors, hogwild
    int dim,                                   // vector size, <= 32 * VEC * R
    int architecture,                          // 0 skip-gram, 1 CBOW
    int window,                                // maximum radius (>= 1)
    int shrink,                                // 1: radius uniform in [1, window]
    int sample_size,                           // negatives per positive
    double lr_start,                           // learning rate at progress 0
    double lr_end,                             // at progress_total, and a floor
    skw2v_i64 progress_offset,                 // progress before this epoch (positions)
    skw2v_i64 progress_total,                  // progress at which lr reaches lr_end
    skw2v_u64 rng_key,                         // per-epoch key of the centre streams
    double* __restrict__ stats)                // IN/OUT (warps, 3) loss, positives, words
{
    const int lane = (int)(threadIdx.x & (SKW2V_WARP - 1));
    const skw2v_i64 warp = ((skw2v_i64)blockIdx.x * blockDim.x + threadIdx.x) / SKW2V_WARP;
    const skw2v_i64 n_warps = ((skw2v_i64)gridDim.x * blockDim.x) / SKW2V_WARP;
    const double lr_delta = lr_start - lr_end;
    // Windows that fit in a warp are fetched once per centre, one slot a lane.
    const bool warp_window = 2 * window + 1 <= SKW2V_WARP;
    double loss = 0.0, positives = 0.0, words = 0.0;
    skw2v_frag l1, work, row;

    for (skw2v_i64 c0 = k_begin + warp * (skw2v_i64)piece; c0 < k_end; c0 += n_warps * (skw2v_i64)piece) {
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

            if (architecture == 0) {
                for (skw2v_i64 k = lo; k < hi; ++k) {
                    if (k == i) continue;
                    float* l1p = w_in + (skw2v_i64)SKW2V_CONTEXT(k) * dim;
                    skw2v_frag_load(l1, l1p, dim, lane);
                    skw2v_frag_zero(work);
                    loss += skw2v_update_targets(l1, work, w, w_out, dim, lane, sample_size,
                                                 alias_thr, alias_idx, n_vocab, log_kq, use_nce,
                                                 bias, use_bias, alpha, &rng);
                    // Re-read: other warps may have moved this row meanwhile.
                    skw2v_frag_load(row, l1p, dim, lane);
                    skw2v_frag_axpy(row, 1.0f, work);
                    skw2v_frag_store(l1p, row, dim, lane);
                    positives += 1.0;
                }
            } else {
                const int cw = (int)(hi - lo - 1);
                if (cw <= 0) continue;
                skw2v_frag_zero(l1);
                for (skw2v_i64 k = lo; k < hi; ++k) {
                    if (k == i) continue;
                    skw2v_frag_load(row, w_in + (skw2v_i64)SKW2V_CONTEXT(k) * dim, dim, lane);
                    skw2v_frag_axpy(l1, 1.0f, row);
                }
                skw2v_frag_scale(l1, (float)(1.0 / (double)cw));
                skw2v_frag_zero(work);
                loss += skw2v_update_targets(l1, work, w, w_out, dim, lane, sample_size, alias_thr,
                                             alias_idx, n_vocab, log_kq, use_nce, bias, use_bias, alpha,
                                             &rng);
                // word2vec's convention: every context word gets the full error of the mean.
                for (skw2v_i64 k = lo; k < hi; ++k) {
                    if (k == i) continue;
                    float* p = w_in + (skw2v_i64)SKW2V_CONTEXT(k) * dim;
                    skw2v_frag_load(row, p, dim, lane);
                    skw2v_frag_axpy(row, 1.0f, work);
                    skw2v_frag_store(p, row, dim, lane);
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
