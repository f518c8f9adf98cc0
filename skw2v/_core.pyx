"""Training kernel: one epoch of word2vec (skip-gram or CBOW) with negative
sampling or NCE, over a corpus encoded once as flat token ids.

Only arrays and scalars come in. Python owns the vocabulary, seeds, the
learning-rate schedule and validation; nothing here touches a Python object
once the GIL is released.

Parallel layout: the corpus is cut into chunks of token positions (a chunk
may start or end inside a sentence, so no sentence length is capped).
``prange`` hands chunks to threads; each chunk reseeds the thread's RNG from
(epoch seed, chunk index), so the draws do not depend on the number of threads
or on scheduling. Rows of the two weight matrices are updated hogwild.
Loss and counts are written per chunk (float64) and summed by the caller:
a reduction whose result does not depend on which thread ran which chunk.

Arithmetic: the per-pair update is the fused loop of _sgns.h, compiled per
SIMD clone (baseline, x86-64-v3, x86-64-v4) and chosen at import by the CPU's
features (``simd_clone()``; ``SKW2V_SIMD`` forces one); builds with
SKW2V_USE_BLAS=1 call sdot/saxpy from scipy.linalg.cython_blas instead (benchmarks/RESULTS.md, section 5).

Skip-gram updates, per kept centre word:
- per pair: each (context, centre) pair is one update against its
  own k negatives, applied before the next pair (word2vec's order);
- ``shared_negatives``: the same sequential per-pair updates, with one set of
  negatives per centre word;
- ``batch_window`` (the estimator's default for skip-gram): one update per
  centre word with one set of negatives, every score taken from the output
  rows as they were at the start of the step, each context's input step
  against those rows plus the output steps of the contexts before it; the
  score block, gradients and both row updates as small matrix products
  (register-blocked micro-kernels per clone in _sgns_clone.h, in every
  build). It overrides ``shared_negatives``. CBOW already
  makes one update per centre word (its input is the context mean), so it is
  unchanged by either flag.
"""

from cython.parallel cimport parallel, prange
from libc.stdint cimport int64_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy, memset

from ._blas cimport _axpy, _dot
from ._random cimport alias_draw, bounded, hash64, rng_next, uniform24

cdef extern from *:
    """
    /* Read a flag another thread may set while the kernel runs. */
    static inline int skw2v_load_flag(const int *p) { return *(const volatile int *)p; }
    """
    int skw2v_load_flag(const int* p) noexcept nogil

cdef enum:
    SKIPGRAM = 0
    CBOW = 1

cdef enum:
    LOSS_NEGATIVE_SAMPLING = 0
    LOSS_NCE = 1

# Columns of chunk_stats.
cdef enum:
    STAT_LOSS = 0       # sum of per-positive losses
    STAT_POSITIVES = 1  # number of positive (center, context) examples
    STAT_WORDS = 2      # number of centre words kept by subsampling
    N_STAT_COLUMNS = 3

ARCHITECTURES = {"skipgram": SKIPGRAM, "cbow": CBOW}
LOSSES = {"negative_sampling": LOSS_NEGATIVE_SAMPLING, "nce": LOSS_NCE}
N_STATS = N_STAT_COLUMNS

# Per-thread layout of the RNG keys derived from the epoch seed.
cdef uint64_t SUBSAMPLE_KEY = 0x5851F42D4C957F2DULL


cdef extern from "_sgns.h":
    int SKW2V_N_CLONES
    const char* skw2v_clone_names[]
    const char* skw2v_fused_isa[]
    int skw2v_active_clone
    int skw2v_clone_usable(int i) noexcept nogil
    int skw2v_simd_select(int i) noexcept nogil
    void skw2v_init_tables() noexcept nogil
    float skw2v_logistic(float f, float* softplus) noexcept nogil
    float skw2v_positive_loss(float f, float softplus) noexcept nogil
    double skw2v_update_targets(const float* l1, float* work, float* w_out, int dim,
                                const int* targets, int n_targets, const float* log_kq,
                                float* bias, float alpha) noexcept nogil
    void skw2v_prefetch_targets(const float* w_out, int dim, const int* targets,
                                int n_targets) noexcept nogil
    int skw2v_prefetch_mode
    ctypedef struct skw2v_window_scratch:
        int dp
        const unsigned char* frozen
        float* y
        float* g
        float* corr
        float* dbias
    int SKW2V_ROW_PAD
    int SKW2V_TARGET_PAD
    int64_t skw2v_window_scratch_floats(int dim, int64_t max_contexts,
                                        int max_targets) noexcept nogil
    void skw2v_window_scratch_init(skw2v_window_scratch* s, float* mem, float** rows, int dim,
                                   int64_t max_contexts, int max_targets) noexcept nogil
    int skw2v_window_scratch_rows(int max_targets) noexcept nogil
    double skw2v_update_window(float* w_in, float* w_out, int dim, const int* contexts,
                               int n_contexts, const int* targets, int n_targets,
                               const float* log_kq, float* bias, float alpha,
                               const skw2v_window_scratch* scratch) noexcept nogil
    void skw2v_axpy(int n, float a, const float* x, float* y) noexcept nogil
    void skw2v_scale(int n, float a, float* y) noexcept nogil
    double skw2v_cbow_step(float* w_in, float* w_out, int dim, const int* contexts, int m,
                           const unsigned char* frozen, const int* targets, int n_targets,
                           const float* log_kq, float* bias, float alpha, float* neu1,
                           float* work) noexcept nogil

cdef extern from *:
    """
    #ifndef SKW2V_USE_BLAS
    #define SKW2V_USE_BLAS 0
    #endif
    """
    int SKW2V_USE_BLAS  # 1: level-1 BLAS from SciPy instead of the fused loops of _sgns.h


# The kernel's arguments, grouped by what they describe (all read-only in the
# kernel but Model's arrays and Scratch).
cdef struct Corpus:
    const int* tokens               # (N,) token ids
    const int64_t* sentence_offsets # (S+1,) sentence s is tokens[off[s]:off[s+1]]
    const float* keep_prob          # (V,) subsampling keep probability
    uint64_t subsample_key          # subsampling draws hash (key + position)

cdef struct Noise:
    const uint32_t* alias_threshold # (V,) alias table of the noise distribution
    const int* alias_index          # (V,)
    uint32_t n_vocab
    int sample_size                 # negatives per positive (per centre when batched)
    const float* log_kq             # (V,) NCE logit correction log(k q(w)); NULL: NS

cdef struct Model:
    float* w_in                     # (V, dim) IN/OUT input vectors
    float* w_out                    # (V, dim) IN/OUT output vectors
    float* bias                     # (V,) IN/OUT NCE output bias; NULL: none
    int dim
    const unsigned char* frozen     # (V,) IN non-zero: that input row is never written
                                    # (freeze_init_vectors); NULL: none. Subwords: the
                                    # words' own rows only (n-gram rows always train).
    const int64_t* sub_indptr       # (V+1,) IN subwords: word w's input rows are
    const int* sub_ids              #   sub_ids[sub_indptr[w]:sub_indptr[w+1]]; NULL: none
    int n_words                     # V (w_in then has V + bucket rows)

cdef struct Schedule:
    double lr_start                 # learning rate at progress 0
    double lr_end                   # at progress_total, and a floor
    int64_t progress_offset         # progress (positions) before this epoch
    int64_t progress_total

cdef struct Mode:
    int architecture                # SKIPGRAM or CBOW
    int window                      # maximum radius
    bint shrink_windows             # radius drawn in [1, window]
    bint shared_negatives           # skip-gram per pair: one negative set per centre
    bint batch_window               # skip-gram: the window-batched update

cdef struct Scratch:
    int* buf                        # kept tokens of a chunk piece plus both margins
    int64_t* buf_pos                # corpus position of each kept centre
    int* back                       # left margin, gathered backwards
    int* targets                    # (k+1,) positive then negatives
    int* next_targets               # (k+1,) the next pair's, drawn ahead
    float* work                     # (dim,) gradient w.r.t. the input
    float* neu1                     # (dim,) CBOW mean of the context
    int* contexts                   # (2 margin,) batched and CBOW: the window's inputs
    skw2v_window_scratch window     # batched: packed rows and score block, laid out over
    float* window_mem               #   this memory
    float** window_rows             #   and these row pointers
    float* sub_grad                 # subwords: (dim,) the centre's summed input gradient

skw2v_init_tables()
USES_BLAS = bool(SKW2V_USE_BLAS)

# SIMD clones of the fused kernels, in order of preference (see _sgns.h).
SIMD_CLONES = tuple(skw2v_clone_names[i].decode() for i in range(SKW2V_N_CLONES))
# The instruction set of each clone's per-pair skip-gram and CBOW kernels (the
# x86-64-v4 clone runs them as AVX2 code: measured faster, see _sgns.h).
SIMD_FUSED_ISA = tuple(skw2v_fused_isa[i].decode() for i in range(SKW2V_N_CLONES))


def _set_prefetch_mode(int mode):
    """EXPERIMENT: 0 no prefetch, 1 for read, 2 for write (default)."""
    global skw2v_prefetch_mode
    skw2v_prefetch_mode = mode


def usable_simd_clones():
    """Names of the clones this build has and the running CPU can execute."""
    return tuple(name for i, name in enumerate(SIMD_CLONES) if skw2v_clone_usable(i))


def simd_clone():
    """Name of the clone the kernel runs now."""
    return SIMD_CLONES[skw2v_active_clone]


def select_simd(name=None):
    """Run the kernel with clone ``name`` ("baseline", "x86-64-v3", "x86-64-v4"),
    or with the best one the CPU supports when ``name`` is None or "best".
    Returns the name of the clone now active. For benchmarks and tests; not
    thread-safe while a fit runs."""
    if name is None or name == "best":
        return SIMD_CLONES[skw2v_simd_select(-1)]
    if name not in SIMD_CLONES:
        raise ValueError(f"SKW2V_SIMD / select_simd: unknown clone {name!r}; "
                         f"choose one of {SIMD_CLONES} or 'best'")
    if skw2v_simd_select(SIMD_CLONES.index(name)) < 0:
        raise ValueError(f"SKW2V_SIMD / select_simd: clone {name!r} cannot run on this CPU "
                         f"(usable here: {usable_simd_clones()})")
    return name


def _select_simd_from_environment():
    import os
    import warnings
    forced = os.environ.get("SKW2V_SIMD", "").strip()
    if forced:
        try:
            return select_simd(forced)
        except ValueError as exc:
            warnings.warn(f"{exc}; using the best clone instead", RuntimeWarning, stacklevel=2)
    return select_simd(None)


_select_simd_from_environment()


cdef inline double _update_targets_blas(
    const float* l1, float* work, float* w_out, int dim, const int* targets,
    int n_targets, const float* log_kq, float* bias, float alpha,
) noexcept nogil:
    """Same contract as skw2v_update_targets, through sdot/saxpy."""
    cdef double loss = 0.0
    cdef int j
    cdef float f, g, sig, sp
    cdef float* row
    memset(work, 0, dim * sizeof(float))
    for j in range(n_targets):
        row = w_out + <int64_t> targets[j] * dim
        f = _dot(dim, l1, row)
        if log_kq != NULL:
            f = f - log_kq[targets[j]]
        if bias != NULL:
            f = f + bias[targets[j]]
        sig = skw2v_logistic(f, &sp)
        if j == 0:
            loss += skw2v_positive_loss(f, sp)
            g = (1.0 - sig) * alpha
        else:
            loss += sp
            g = -sig * alpha
        if bias != NULL:
            bias[targets[j]] += g
        _axpy(dim, g, row, work)
        _axpy(dim, g, l1, row)
    return loss


cdef inline int _draw_targets(
    int target,               # IN positive output word
    const Noise* noise,
    uint64_t* rng,            # IN/OUT thread RNG state
    int* targets,             # OUT (sample_size + 1,) positive, then the negatives
) noexcept nogil:
    """Fill targets with the positive and its negatives; return how many.

    A negative equal to the positive is skipped (word2vec does the same).
    """
    cdef int j, t, n = 1
    targets[0] = target
    for j in range(noise.sample_size):
        t = alias_draw(rng_next(rng), noise.alias_threshold, noise.alias_index, noise.n_vocab)
        if t != target:
            targets[n] = t
            n += 1
    return n


cdef inline int _draw_ahead(
    int target,               # IN the next centre word
    const Noise* noise,
    const Mode* mode,
    uint64_t* rng,            # IN/OUT thread RNG state
    int* radius,              # OUT the next centre's window radius
    int* targets,             # OUT (sample_size + 1,) its positive, then its negatives
    const float* w_out,       # IN output vectors (their rows are prefetched)
    int dim,
) noexcept nogil:
    """Draw the next centre's radius and targets now, in the RNG order of
    drawing them at its turn, and prefetch its output rows, so that they load
    during the current step; return how many targets."""
    cdef int n
    if mode.shrink_windows:
        radius[0] = 1 + <int> bounded(rng_next(rng), <uint32_t> mode.window)
    else:
        radius[0] = mode.window
    n = _draw_targets(target, noise, rng, targets)
    skw2v_prefetch_targets(w_out, dim, targets, n)
    return n


cdef inline double _update_targets(
    const float* l1, float* work, float* w_out, int dim, const int* targets,
    int n_targets, const float* log_kq, float* bias, float alpha,
) noexcept nogil:
    """l1 against targets[:n_targets] (see skw2v_update_targets); returns the loss."""
    if SKW2V_USE_BLAS:
        return _update_targets_blas(l1, work, w_out, dim, targets, n_targets, log_kq, bias,
                                    alpha)
    return skw2v_update_targets(l1, work, w_out, dim, targets, n_targets, log_kq, bias, alpha)


cdef inline void _add(int dim, const float* x, float* y) noexcept nogil:
    # y += x
    if SKW2V_USE_BLAS:
        _axpy(dim, 1.0, x, y)
    else:
        skw2v_axpy(dim, 1.0, x, y)


cdef inline void _subword_mean(
    const Model* model, int word,
    float* out,                   # OUT (dim,) mean of the word's input rows
) noexcept nogil:
    cdef int64_t r, lo = model.sub_indptr[word], hi = model.sub_indptr[word + 1]
    cdef int dim = model.dim
    memcpy(out, model.w_in + <int64_t> model.sub_ids[lo] * dim, dim * sizeof(float))
    for r in range(lo + 1, hi):
        _add(dim, model.w_in + <int64_t> model.sub_ids[r] * dim, out)
    if hi - lo > 1:
        skw2v_scale(dim, <float> (1.0 / <double> (hi - lo)), out)


cdef inline void _subword_scatter(
    const Model* model, int word,
    const float* work,            # IN (dim,) added in full to each of the word's rows
) noexcept nogil:
    # fastText's sg/cbow: every row of the mean gets the whole gradient of the mean.
    cdef int64_t r
    cdef int row
    for r in range(model.sub_indptr[word], model.sub_indptr[word + 1]):
        row = model.sub_ids[r]
        if model.frozen != NULL and row < model.n_words and model.frozen[row]:
            continue
        _add(model.dim, work, model.w_in + <int64_t> row * model.dim)


cdef double _subword_step(
    const Model* model, const Noise* noise, const Mode* mode, Scratch* sc,
    const int* buf,               # IN kept tokens; buf[i] is the centre
    int i, int lo, int hi,        # IN centre and window [lo, hi)
    float alpha,
    uint64_t* rng,                # IN/OUT chunk RNG
    double* positives,            # IN/OUT positive examples so far
) noexcept nogil:
    """One centre word with subword inputs; returns the loss.

    Skip-gram, fastText's direction: the centre's input (the mean of its rows)
    predicts each context word in turn against its own negatives
    (shared_negatives does not apply: the positive changes; a negative equal to
    it is skipped), the output rows updated pair after pair; the window's
    summed input gradient is then added to each of the centre's rows. fastText
    writes and re-reads the rows after every pair; here they are gathered and
    written once per centre, and the mean takes each pair's step in between
    (exactly fastText's mean when the word's rows are distinct; only the
    centre's own row can be frozen, and then it stays out of the step). CBOW: the mean over the
    context words of their input means predicts the centre.
    """
    cdef int dim = model.dim, k, nt = 0, cw = hi - lo - 1, w = buf[i]
    cdef double loss = 0.0
    cdef int64_t r, rlo, rhi
    cdef float inv, moving
    if cw <= 0:
        return 0.0
    if mode.architecture == CBOW:
        memset(sc.neu1, 0, dim * sizeof(float))
        for k in range(lo, hi):
            if k != i:
                rlo = model.sub_indptr[buf[k]]
                rhi = model.sub_indptr[buf[k] + 1]
                inv = <float> (1.0 / <double> (rhi - rlo))
                for r in range(rlo, rhi):
                    skw2v_axpy(dim, inv, model.w_in + <int64_t> model.sub_ids[r] * dim, sc.neu1)
        skw2v_scale(dim, 1.0 / cw, sc.neu1)
        nt = _draw_targets(w, noise, rng, sc.targets)
        loss += _update_targets(sc.neu1, sc.work, model.w_out, dim, sc.targets, nt,
                                noise.log_kq, model.bias, alpha)
        for k in range(lo, hi):
            if k != i:
                _subword_scatter(model, buf[k], sc.work)
        positives[0] += 1.0
        return loss
    _subword_mean(model, w, sc.neu1)
    memset(sc.sub_grad, 0, dim * sizeof(float))
    rlo = model.sub_indptr[w]
    rhi = model.sub_indptr[w + 1]
    moving = 1.0
    if model.frozen != NULL and w < model.n_words and model.frozen[w]:
        moving = <float> (<double> (rhi - rlo - 1) / <double> (rhi - rlo))
    for k in range(lo, hi):
        if k == i:
            continue
        nt = _draw_targets(buf[k], noise, rng, sc.targets)
        loss += _update_targets(sc.neu1, sc.work, model.w_out, dim, sc.targets, nt,
                                noise.log_kq, model.bias, alpha)
        _add(dim, sc.work, sc.sub_grad)
        # the rows are written once per window, but the next pair reads their mean as
        # fastText does after writing them: each moving row has moved by the work
        skw2v_axpy(dim, moving, sc.work, sc.neu1)
        positives[0] += 1.0
    _subword_scatter(model, w, sc.sub_grad)
    return loss


cdef inline bint _kept(const float* keep_prob, int word, uint64_t key,
                       int64_t position) noexcept nogil:
    cdef float p = keep_prob[word]
    return p >= 1.0 or uniform24(hash64(key + <uint64_t> position)) < p


cdef void _train_chunk(
    const Corpus* corpus, const Noise* noise, const Model* model, const Schedule* schedule,
    const Mode* mode, Scratch* scratch,
    int64_t start, int64_t end,   # IN centre positions [start, end)
    int64_t sentence,             # IN sentence holding position start
    uint64_t rng,                 # IN the chunk's RNG state
    double* stats,                # OUT (N_STAT_COLUMNS,) the chunk's loss and counts
) noexcept nogil:
    """Train the centre positions [start, end) of the corpus.

    For each sentence piece in the chunk, the kept tokens are gathered in buf
    with up to `window` kept tokens of margin on each side (taken from the
    same sentence), so windows see exactly what a whole-sentence pass sees.
    """
    cdef const int* tokens = corpus.tokens
    cdef const int64_t* sentence_offsets = corpus.sentence_offsets
    cdef const float* keep_prob = corpus.keep_prob
    cdef uint64_t subsample_key = corpus.subsample_key
    cdef const float* log_kq = noise.log_kq
    cdef float* bias = model.bias
    cdef float* w_in = model.w_in
    cdef float* w_out = model.w_out
    cdef int dim = model.dim
    cdef const unsigned char* frozen = model.frozen
    cdef int window = mode.window
    cdef bint shared_negatives = mode.shared_negatives
    cdef bint batched = mode.batch_window and mode.architecture == SKIPGRAM
    cdef int* buf = scratch.buf
    cdef int64_t* buf_pos = scratch.buf_pos
    cdef int* back = scratch.back
    cdef int* targets = scratch.targets
    cdef int* next_targets = scratch.next_targets
    cdef int* contexts = scratch.contexts
    cdef float* work = scratch.work
    cdef float* neu1 = scratch.neu1
    cdef double lr_start = schedule.lr_start, lr_end = schedule.lr_end
    cdef int64_t progress_offset = schedule.progress_offset
    cdef int64_t progress_total = schedule.progress_total
    cdef int64_t pos = start, s = sentence, s_begin, s_end, seg_end, j
    cdef int n, nb, nf, k, k_next, i, c0, c1, b, lo, hi, w, cw, m, nt = 0, nt_next = 0
    cdef int b_ahead = 0, nt_ahead = 0
    cdef bint prefetched, ahead = False
    cdef int* swap
    cdef double loss = 0.0, positives = 0.0, words = 0.0, lr_delta = lr_start - lr_end
    cdef float alpha
    cdef float* l1
    while pos < end:
        while sentence_offsets[s + 1] <= pos:
            s += 1
        s_begin = sentence_offsets[s]
        s_end = sentence_offsets[s + 1]
        seg_end = end if end < s_end else s_end

        nb = 0
        j = pos - 1
        while j >= s_begin and nb < window:
            if _kept(keep_prob, tokens[j], subsample_key, j):
                back[nb] = tokens[j]
                nb += 1
            j -= 1
        for k in range(nb):
            buf[k] = back[nb - 1 - k]
        n = nb
        c0 = n
        for j in range(pos, seg_end):
            if _kept(keep_prob, tokens[j], subsample_key, j):
                buf[n] = tokens[j]
                buf_pos[n - c0] = j
                n += 1
        c1 = n
        nf = 0
        j = seg_end
        while j < s_end and nf < window:
            if _kept(keep_prob, tokens[j], subsample_key, j):
                buf[n] = tokens[j]
                n += 1
                nf += 1
            j += 1

        for i in range(c0, c1):
            w = buf[i]
            alpha = <float> (lr_start - lr_delta * <double> (progress_offset + buf_pos[i - c0])
                             / <double> progress_total)
            if alpha < lr_end:
                alpha = <float> lr_end
            if ahead:  # drawn with the previous centre (batched skip-gram, CBOW)
                b = b_ahead
            elif mode.shrink_windows:
                b = 1 + <int> bounded(rng_next(&rng), <uint32_t> window)
            else:
                b = window
            # int64: window may be as large as INT_MAX
            lo = <int> (i - <int64_t> b if i - <int64_t> b > 0 else 0)
            hi = <int> (i + <int64_t> b + 1 if i + <int64_t> b + 1 < n else n)
            words += 1.0
            if model.sub_indptr != NULL:
                loss += _subword_step(model, noise, mode, scratch, buf, i, lo, hi, alpha, &rng,
                                      &positives)
                continue
            if batched:
                # One step for the whole window (brief: "the window-batched
                # skip-gram update"): every score from the output rows at its start.
                m = 0
                for k in range(lo, hi):
                    if k != i:
                        contexts[m] = buf[k]
                        m += 1
                if ahead:
                    swap = targets
                    targets = next_targets
                    next_targets = swap
                    nt = nt_ahead
                elif m > 0:
                    nt = _draw_targets(w, noise, &rng, targets)
                ahead = i + 1 < c1
                if ahead:  # buf[i] is in its window, so it has contexts and draws.
                    nt_ahead = _draw_ahead(buf[i + 1], noise, mode, &rng, &b_ahead,
                                           next_targets, w_out, dim)
                if m == 0:
                    continue
                # (SKW2V_USE_BLAS builds too: sgemm measured 2.8x slower here, RESULTS 0)
                loss += skw2v_update_window(w_in, w_out, dim, contexts, m, targets, nt,
                                            log_kq, bias, alpha, &scratch.window)
                positives += m
            elif mode.architecture == SKIPGRAM:
                # word2vec's order: the context word's input vector predicts the centre.
                if shared_negatives:
                    # One set of negatives for the whole window (Ji et al. 2016): the
                    # rows stay in cache across the window's contexts.
                    nt = _draw_targets(w, noise, &rng, targets)
                    skw2v_prefetch_targets(w_out, dim, targets, nt)
                # Negatives of the next context are drawn (and their rows prefetched)
                # before the current update: same RNG order, fewer cache stalls.
                k = lo if lo != i else lo + 1
                if not shared_negatives and k < hi:
                    nt = _draw_targets(w, noise, &rng, targets)
                    skw2v_prefetch_targets(w_out, dim, targets, nt)
                while k < hi:
                    k_next = k + 1 if k + 1 != i else k + 2
                    prefetched = not shared_negatives and k_next < hi
                    if prefetched:
                        nt_next = _draw_targets(w, noise, &rng, next_targets)
                        skw2v_prefetch_targets(w_out, dim, next_targets, nt_next)
                    l1 = w_in + <int64_t> buf[k] * dim
                    loss += _update_targets(l1, work, w_out, dim, targets, nt, log_kq, bias,
                                           alpha)
                    if frozen == NULL or not frozen[buf[k]]:
                        _add(dim, work, l1)
                    positives += 1.0
                    if prefetched:
                        swap = targets
                        targets = next_targets
                        next_targets = swap
                        nt = nt_next
                    k = k_next
            elif not SKW2V_USE_BLAS:
                # CBOW: one call for the whole step (mean, targets, gradient back).
                m = 0
                for k in range(lo, hi):
                    if k != i:
                        contexts[m] = buf[k]
                        m += 1
                if ahead and m > 0:
                    swap = targets
                    targets = next_targets
                    next_targets = swap
                    nt = nt_ahead
                elif m > 0:
                    nt = _draw_targets(w, noise, &rng, targets)
                ahead = m > 0 and i + 1 < c1
                if ahead:  # buf[i] is in its window, so it has contexts and draws.
                    nt_ahead = _draw_ahead(buf[i + 1], noise, mode, &rng, &b_ahead,
                                           next_targets, w_out, dim)
                if m == 0:
                    continue
                loss += skw2v_cbow_step(w_in, w_out, dim, contexts, m, frozen, targets, nt,
                                        log_kq, bias, alpha, neu1, work)
                positives += 1.0
            else:
                cw = hi - lo - 1
                if cw <= 0:
                    continue
                memset(neu1, 0, dim * sizeof(float))
                for k in range(lo, hi):
                    if k != i:
                        _add(dim, w_in + <int64_t> buf[k] * dim, neu1)
                skw2v_scale(dim, 1.0 / cw, neu1)
                nt = _draw_targets(w, noise, &rng, targets)
                loss += _update_targets(neu1, work, w_out, dim, targets, nt, log_kq, bias, alpha)
                # word2vec's convention: each context word gets the full error of the mean.
                for k in range(lo, hi):
                    if k != i and (frozen == NULL or not frozen[buf[k]]):
                        _add(dim, work, w_in + <int64_t> buf[k] * dim)
                positives += 1.0
        pos = seg_end
    stats[STAT_LOSS] = loss
    stats[STAT_POSITIVES] = positives
    stats[STAT_WORDS] = words


def _check_subword_table(
    const int64_t[::1] indptr,    # IN (V+1,)
    const int[::1] ids,           # IN (indptr[V],)
    int64_t n_rows,               # rows of w_in
    int64_t n_words,              # V
):
    """ValueError unless every word has >= 1 input row, all in [0, n_rows)."""
    cdef int64_t w, r
    if indptr is None or ids is None:
        raise ValueError("subword_indptr and subword_ids must be given together")
    if indptr.shape[0] != n_words + 1 or indptr[0] != 0 or indptr[n_words] != ids.shape[0]:
        raise ValueError(f"subword_indptr must have {n_words + 1} entries from 0 to "
                         f"len(subword_ids)")
    for w in range(n_words):
        if indptr[w + 1] <= indptr[w]:
            raise ValueError("every word needs at least one input row in the subword table")
    with nogil:
        for r in range(ids.shape[0]):
            if ids[r] < 0 or ids[r] >= n_rows:
                with gil:
                    raise ValueError(f"subword_ids must lie in [0, {n_rows}) (rows of w_in)")


def train_epoch(
    const int[::1] tokens,                  # IN (N,) token ids in [0, V)
    const int64_t[::1] sentence_offsets,    # IN (S+1,) sentence s is tokens[off[s]:off[s+1]]
    const int64_t[::1] chunk_bounds,        # IN (C+1,) chunk c trains positions [b[c], b[c+1])
    const int64_t[::1] chunk_sentence,      # IN (C,) sentence holding position b[c]
    const float[::1] keep_prob,             # IN (V,) subsampling keep probability
    const uint32_t[::1] alias_threshold,    # IN (V,) alias table: accept column if u32 < thr
    const int[::1] alias_index,             # IN (V,) alias table: otherwise take this word
    const float[::1] noise_log_kq,          # IN (V,) log(k q(w)) for NCE (unused for NS)
    float[:, ::1] w_in,                     # IN/OUT (V, d) input vectors
    float[:, ::1] w_out,                    # IN/OUT (V, d) output vectors
    int architecture,                       # 0 skip-gram, 1 CBOW
    int loss,                               # 0 negative sampling, 1 NCE
    int window,                             # maximum window radius (>= 1)
    bint shrink_windows,                    # draw the radius uniformly in [1, window]
    int sample_size,                        # negatives per positive
    double lr_start,                        # learning rate at progress 0
    double lr_end,                          # learning rate at progress_total (also a floor)
    int64_t progress_offset,                # progress (token positions) before this epoch
    int64_t progress_total,                 # progress at which lr reaches lr_end
    uint64_t seed,                          # epoch seed: chunk RNGs and subsampling derive from it
    int n_threads,                          # OpenMP threads (capped at the number of chunks)
    double[:, ::1] chunk_stats,             # OUT (C, 3) loss, positives, kept words per chunk
    unsigned char[::1] chunk_done,          # OUT (C,) set to 1 when a chunk finishes
    const int[::1] stop_flag,               # IN (1,) polled between chunks; non-zero stops early
    bint shared_negatives=False,            # skip-gram: one negative set per centre word
    float[::1] output_bias=None,            # IN/OUT (V,) NCE only: learned bias added to each
                                            # output word's logit; None: no bias
    bint batch_window=False,                # skip-gram: one update per centre word with one
                                            # negative set, every score from the output rows
                                            # at the start of the step, each input step also
                                            # seeing the earlier contexts' output steps
                                            # (overrides shared_negatives)
    const unsigned char[::1] frozen_rows=None,  # IN (V,) non-zero: that input row is never
                                            # updated (freeze_init_vectors); None: none
    const int64_t[::1] subword_indptr=None, # IN (V+1,) subwords: word w's input is the mean of
    const int[::1] subword_ids=None,        # IN rows subword_ids[indptr[w]:indptr[w+1]] of w_in
                                            # (V + bucket rows; w_out, per-word arrays: V);
                                            # each row gets the full gradient. None: off
    bint check_tokens=True,                 # False: the corpus is the caller's own encoding
                                            # (ids in [0, V), consistent offsets and chunk
                                            # sentences): neither is scanned, which on a
                                            # memory-mapped corpus would make it all resident
    int64_t max_sentence=-1,                # IN with check_tokens=False: the longest sentence
):
    """Train one epoch in place. Returns the number of chunks skipped by stop_flag."""
    cdef int64_t n_tokens = tokens.shape[0]
    cdef int64_t n_sentences = sentence_offsets.shape[0] - 1
    cdef int64_t n_chunks = chunk_bounds.shape[0] - 1
    cdef uint32_t n_vocab = <uint32_t> w_out.shape[0]
    cdef int dim = <int> w_in.shape[1]
    cdef int64_t c, i, max_chunk = 0, margin
    cdef int bad = 0, failed = 0, skipped = 0
    cdef int* failed_ptr = &failed
    cdef int* skipped_ptr = &skipped

    cdef bint subwords = subword_indptr is not None or subword_ids is not None
    if subwords:
        _check_subword_table(subword_indptr, subword_ids, w_in.shape[0], w_out.shape[0])
        if w_out.shape[1] != w_in.shape[1]:
            raise ValueError("w_in and w_out must have the same number of columns")
        if batch_window and architecture == SKIPGRAM:
            raise ValueError("subwords are not implemented by the window-batched update")
    elif w_out.shape[0] != w_in.shape[0] or w_out.shape[1] != w_in.shape[1]:
        raise ValueError("w_in and w_out must have the same shape")
    if w_in.shape[0] < 1 or dim < 1:
        raise ValueError("empty weight matrices")
    for arr_len in (keep_prob.shape[0], alias_threshold.shape[0], alias_index.shape[0],
                    noise_log_kq.shape[0]):
        if arr_len != w_out.shape[0]:
            raise ValueError("per-word arrays must have one entry per row of w_in")
    if n_sentences < 1 or n_chunks < 1 or chunk_sentence.shape[0] != n_chunks:
        raise ValueError("need at least one sentence and one chunk")
    if chunk_stats.shape[0] != n_chunks or chunk_stats.shape[1] != N_STATS:
        raise ValueError(f"chunk_stats must have shape ({n_chunks}, {N_STATS})")
    if chunk_done.shape[0] != n_chunks or stop_flag.shape[0] < 1:
        raise ValueError("chunk_done must have one entry per chunk; stop_flag one entry")
    if architecture not in (SKIPGRAM, CBOW) or loss not in (LOSS_NEGATIVE_SAMPLING, LOSS_NCE):
        raise ValueError("unknown architecture or loss")
    if output_bias is not None and output_bias.shape[0] != w_out.shape[0]:
        raise ValueError(f"output_bias must have one entry per row of w_in ({w_out.shape[0]}), "
                         f"got {output_bias.shape[0]}")
    if output_bias is not None and loss != LOSS_NCE:
        raise ValueError("output_bias is only trained with the NCE loss")
    if frozen_rows is not None and frozen_rows.shape[0] != w_out.shape[0]:
        raise ValueError(f"frozen_rows must have one entry per row of w_in ({w_out.shape[0]}), "
                         f"got {frozen_rows.shape[0]}")
    if window < 1 or sample_size < 0 or n_threads < 1 or progress_total < 1:
        raise ValueError("window, n_threads and progress_total must be >= 1, sample_size >= 0")

    if not check_tokens and max_sentence < 0:
        raise ValueError("check_tokens=False needs max_sentence")
    with nogil:
        if sentence_offsets[0] != 0 or sentence_offsets[n_sentences] != n_tokens:
            bad = 1
        if check_tokens:
            max_sentence = 0
            for i in range(n_sentences):
                if sentence_offsets[i + 1] < sentence_offsets[i]:
                    bad = 1
                if sentence_offsets[i + 1] - sentence_offsets[i] > max_sentence:
                    max_sentence = sentence_offsets[i + 1] - sentence_offsets[i]
        if chunk_bounds[0] < 0 or chunk_bounds[n_chunks] > n_tokens:
            bad = 1
        for c in range(n_chunks):
            if chunk_bounds[c + 1] < chunk_bounds[c]:
                bad = 1
            elif chunk_bounds[c + 1] > chunk_bounds[c]:
                if (chunk_sentence[c] < 0 or chunk_sentence[c] >= n_sentences
                        or (check_tokens  # one offsets page per chunk: all of them
                            and sentence_offsets[chunk_sentence[c]] > chunk_bounds[c])):
                    bad = 1
            if chunk_bounds[c + 1] - chunk_bounds[c] > max_chunk:
                max_chunk = chunk_bounds[c + 1] - chunk_bounds[c]
        if check_tokens:
            for i in range(n_tokens):
                if tokens[i] < 0 or <uint32_t> tokens[i] >= n_vocab:
                    bad = 2
        for i in range(n_vocab):
            if alias_index[i] < 0 or <uint32_t> alias_index[i] >= n_vocab:
                bad = 3
    if bad == 1:
        raise ValueError("inconsistent sentence_offsets / chunk_bounds / chunk_sentence")
    if bad == 2:
        raise ValueError("token ids must lie in [0, V)")
    if bad == 3:
        raise ValueError("alias_index entries must lie in [0, V)")
    if n_tokens == 0:
        return 0
    if n_threads > n_chunks:
        n_threads = <int> n_chunks
    # A margin never holds more than a sentence, so buffers stay small even
    # for a huge window.
    margin = window if window < max_sentence else max_sentence

    cdef Corpus corpus
    corpus.tokens = &tokens[0]
    corpus.sentence_offsets = &sentence_offsets[0]
    corpus.keep_prob = &keep_prob[0]
    corpus.subsample_key = hash64(seed ^ SUBSAMPLE_KEY)
    cdef Noise noise
    noise.alias_threshold = &alias_threshold[0]
    noise.alias_index = &alias_index[0]
    noise.n_vocab = n_vocab
    noise.sample_size = sample_size
    noise.log_kq = &noise_log_kq[0] if loss == LOSS_NCE else NULL
    cdef Model model
    model.w_in = &w_in[0, 0]
    model.w_out = &w_out[0, 0]
    model.bias = &output_bias[0] if output_bias is not None else NULL
    model.dim = dim
    model.frozen = &frozen_rows[0] if frozen_rows is not None else NULL
    model.sub_indptr = &subword_indptr[0] if subwords else NULL
    model.sub_ids = &subword_ids[0] if subwords else NULL
    model.n_words = <int> n_vocab
    cdef Schedule schedule
    schedule.lr_start = lr_start
    schedule.lr_end = lr_end
    schedule.progress_offset = progress_offset
    schedule.progress_total = progress_total
    cdef Mode mode
    mode.architecture = architecture
    mode.window = window
    mode.shrink_windows = shrink_windows
    mode.shared_negatives = shared_negatives
    mode.batch_window = batch_window
    cdef bint batched = batch_window and architecture == SKIPGRAM
    cdef int64_t window_floats = skw2v_window_scratch_floats(dim, 2 * margin, sample_size + 1)
    cdef int window_rows = skw2v_window_scratch_rows(sample_size + 1)
    cdef const int64_t* bounds = &chunk_bounds[0]
    cdef const int64_t* first_sentence = &chunk_sentence[0]
    cdef double* stats = &chunk_stats[0, 0]
    cdef unsigned char* done = &chunk_done[0]
    cdef const int* stop = &stop_flag[0]
    cdef Scratch* sc = NULL
    cdef bint ok

    with nogil, parallel(num_threads=n_threads):
        # Per-thread scratch; sc is assigned here, so private to each thread.
        sc = <Scratch*> calloc(1, sizeof(Scratch))
        ok = sc != NULL
        if ok:
            sc.buf = <int*> malloc((max_chunk + 2 * margin) * sizeof(int))
            sc.buf_pos = <int64_t*> malloc((max_chunk + 1) * sizeof(int64_t))
            sc.back = <int*> malloc((margin + 1) * sizeof(int))
            sc.targets = <int*> malloc((sample_size + 1) * sizeof(int))
            sc.next_targets = <int*> malloc((sample_size + 1) * sizeof(int))
            sc.work = <float*> malloc(dim * sizeof(float))
            sc.neu1 = <float*> malloc(dim * sizeof(float))
            ok = (sc.buf != NULL and sc.buf_pos != NULL and sc.back != NULL
                  and sc.targets != NULL and sc.next_targets != NULL and sc.work != NULL
                  and sc.neu1 != NULL)
        if ok and architecture == CBOW:
            sc.contexts = <int*> malloc((2 * margin + 1) * sizeof(int))
            ok = sc.contexts != NULL
        if ok and batched:
            sc.contexts = <int*> malloc((2 * margin + 1) * sizeof(int))
            sc.window_mem = <float*> malloc(window_floats * sizeof(float))
            sc.window_rows = <float**> malloc(window_rows * sizeof(float*))
            ok = sc.contexts != NULL and sc.window_mem != NULL and sc.window_rows != NULL
            if ok:
                skw2v_window_scratch_init(&sc.window, sc.window_mem, sc.window_rows, dim,
                                          2 * margin, sample_size + 1)
                sc.window.frozen = model.frozen
        if ok and subwords:
            sc.sub_grad = <float*> malloc(dim * sizeof(float))
            ok = sc.sub_grad != NULL
        try:
            for c in prange(n_chunks, schedule="dynamic"):
                if skw2v_load_flag(stop):
                    skipped_ptr[0] = 1
                    continue
                if not ok:
                    failed_ptr[0] = 1
                    continue
                _train_chunk(&corpus, &noise, &model, &schedule, &mode, sc,
                             bounds[c], bounds[c + 1], first_sentence[c],
                             hash64(seed + <uint64_t> c), stats + c * N_STAT_COLUMNS)
                done[c] = 1
        finally:
            if sc != NULL:
                free(sc.buf)
                free(sc.buf_pos)
                free(sc.back)
                free(sc.targets)
                free(sc.next_targets)
                free(sc.work)
                free(sc.neu1)
                free(sc.contexts)
                free(sc.window_mem)
                free(sc.window_rows)
                free(sc.sub_grad)
                free(sc)
    if failed:
        raise MemoryError("could not allocate per-thread scratch buffers")
    return skipped


def build_alias_table(
    const double[::1] probabilities,   # IN (V,) non-negative, sums to 1
    double[::1] accept,                 # OUT (V,) probability of keeping column i
    int[::1] alias,                     # OUT (V,) word taken when column i is rejected
):
    """Vose's alias method (Vose 1991), O(V): draws then cost O(1).

    Full columns get ``accept[i] = 1`` and ``alias[i] = i``.
    """
    cdef int64_t n = probabilities.shape[0], i, s, l, n_small = 0, n_large = 0
    if accept.shape[0] != n or alias.shape[0] != n or n < 1:
        raise ValueError("accept and alias must have the length of probabilities (>= 1)")
    cdef int64_t* small = <int64_t*> malloc(n * sizeof(int64_t))
    cdef int64_t* large = <int64_t*> malloc(n * sizeof(int64_t))
    cdef double* scaled = <double*> malloc(n * sizeof(double))
    if small == NULL or large == NULL or scaled == NULL:
        free(small)
        free(large)
        free(scaled)
        raise MemoryError()
    with nogil:
        for i in range(n):
            scaled[i] = probabilities[i] * n
            alias[i] = <int> i
            if scaled[i] < 1.0:
                small[n_small] = i
                n_small += 1
            else:
                large[n_large] = i
                n_large += 1
        while n_small > 0 and n_large > 0:
            n_small -= 1
            s = small[n_small]
            l = large[n_large - 1]
            accept[s] = scaled[s]
            alias[s] = <int> l
            scaled[l] = (scaled[l] + scaled[s]) - 1.0
            if scaled[l] < 1.0:
                n_large -= 1
                small[n_small] = l
                n_small += 1
        # Leftovers are full columns up to rounding error.
        for i in range(n_large):
            accept[large[i]] = 1.0
            alias[large[i]] = <int> large[i]
        for i in range(n_small):
            accept[small[i]] = 1.0
            alias[small[i]] = <int> small[i]
    free(small)
    free(large)
    free(scaled)


def sample_alias(
    const uint32_t[::1] alias_threshold,  # IN (V,) as built by kernel_thresholds
    const int[::1] alias_index,           # IN (V,)
    uint64_t seed,                        # stream seed (SplitMix64 state)
    int[::1] out,                         # OUT (n,) draws
):
    """Draw ``len(out)`` words exactly as the training kernel draws negatives:
    successive SplitMix64 outputs from state ``seed``, one alias draw each."""
    cdef int64_t i, n = out.shape[0]
    cdef uint32_t v = <uint32_t> alias_threshold.shape[0]
    cdef uint64_t state = seed
    if alias_index.shape[0] != v or v < 1:
        raise ValueError("alias_threshold and alias_index must have the same length >= 1")
    for i in range(v):
        if alias_index[i] < 0 or <uint32_t> alias_index[i] >= v:
            raise ValueError("alias_index entries must lie in [0, V)")
    if n == 0:
        return
    cdef const uint32_t* thr = &alias_threshold[0]
    cdef const int* alias = &alias_index[0]
    with nogil:
        for i in range(n):
            out[i] = alias_draw(rng_next(&state), thr, alias, v)
