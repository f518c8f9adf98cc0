"""The window-batched skip-gram update (``train_epoch(..., batch_window=True)``)
against a float64 NumPy reference of the same semantics, for every SIMD clone
the CPU can run.

Semantics (shared with the CUDA kernel), per kept centre word w with its
learning rate alpha and radius b: the contexts are the window's kept tokens
but the centre, in order (none: nothing is drawn or trained); the targets are
w then sample_size noise draws, each kept if != w. Context c after context:
its scores use the output rows Y (and biases) as they were at the start of
the step and its input row as it is at its turn, s = Y x_c (NCE: - log k q +
bias), g_c = alpha (label - sigmoid(s)); its input step is taken against the
output rows plus the output steps of the contexts before it,
w_in[c] += g_c (Y + sum_{c'<c} g_c' x_c'^T); the output steps sum_c g_c x_c^T
and bias steps sum_c g_c are added at the end, a repeated id getting each
of its deltas.

Draws are either forced (an alias table that always returns one word, as in
test_kernel_step.py) or real: the chunk RNG (SplitMix64 from hash64(seed +
chunk)) is replayed here in Python, radius draws included.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from skw2v._openmp_helpers import openmp_enabled

from skw2v import Word2VecNS, _core
from skw2v._alias import alias_table, kernel_thresholds
from skw2v._corpus import chunk_layout

SKIPGRAM = _core.ARCHITECTURES["skipgram"]
LOSS = _core.LOSSES
MASK = (1 << 64) - 1


# ---------------------------------------------------------- the chunk RNG
def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def hash64(key):
    return mix64((key * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & MASK)


class ChunkRNG:
    """The kernel's per-chunk SplitMix64 stream and its two uses."""

    def __init__(self, seed, chunk):
        self.state = hash64((seed + chunk) & MASK)

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        return mix64(self.state)

    def bounded(self, n):
        return ((self.next() >> 32) * n) >> 32

    def alias(self, threshold, alias):
        r = self.next()
        i = ((r & 0xFFFFFFFF) * len(threshold)) >> 32
        return i if (r >> 32) < int(threshold[i]) else int(alias[i])


# ------------------------------------------------------------ the reference
def softplus(x):
    return np.logaddexp(0.0, x)


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def reference_step(w_in, w_out, contexts, targets, alpha, log_kq=None, bias=None):
    """One centre's batched step in float64, in place; returns its loss.

    Context after context: each score from the output rows (and biases) at
    the start of the step and the input row as it is at its turn; the input
    step against the output rows plus the output steps of the contexts before
    it; the output and bias steps added at the end.
    """
    Y = w_out[targets].copy()
    corr = np.zeros(len(targets))
    if log_kq is not None:
        corr -= log_kq[targets]
    if bias is not None:
        corr += bias[targets]
    labels = np.zeros(len(targets))
    labels[0] = 1.0
    d_out, d_bias, loss = np.zeros_like(Y), np.zeros(len(targets)), 0.0
    for c in contexts:
        x = w_in[c].copy()
        s = Y @ x + corr
        g = alpha * (labels - sigmoid(s))
        loss += softplus(-s[0]) + softplus(s[1:]).sum()
        w_in[c] += g @ (Y + d_out)
        d_out += np.outer(g, x)
        d_bias += g
    np.add.at(w_out, targets, d_out)
    if bias is not None:
        np.add.at(bias, targets, d_bias)
    return loss


def reference_epoch(tokens, offsets, bounds, w_in, w_out, *, window, shrink_windows,
                    sample_size, draw_negative, seed=0, log_kq=None, bias=None,
                    lr_start=0.1, lr_end=0.01, progress_total=None):
    """Batched skip-gram over the centre positions of each chunk, in float64.

    ``draw_negative(rng)`` returns one noise word from the chunk RNG. No
    subsampling. Returns (loss, positives, words) summed over the chunks.
    """
    progress_total = progress_total or len(tokens)
    loss = positives = words = 0.0
    for c in range(len(bounds) - 1):
        rng = ChunkRNG(seed, c)
        for p in range(bounds[c], bounds[c + 1]):
            s = np.searchsorted(offsets, p, side="right") - 1
            begin, end = offsets[s], offsets[s + 1]
            alpha = max(lr_start - (lr_start - lr_end) * p / progress_total, lr_end)
            b = 1 + rng.bounded(window) if shrink_windows else window
            contexts = [tokens[q] for q in range(max(begin, p - b), min(end, p + b + 1))
                        if q != p]
            words += 1
            if not contexts:
                continue  # nothing drawn
            centre = tokens[p]
            targets = [centre]
            for _ in range(sample_size):
                z = draw_negative(rng)
                if z != centre:
                    targets.append(z)
            loss += reference_step(w_in, w_out, np.array(contexts), np.array(targets), alpha,
                                   log_kq, bias)
            positives += len(contexts)
    return loss, positives, words


# -------------------------------------------------------- calling the kernel
def run_kernel(tokens, offsets, w_in, w_out, *, window, sample_size, threshold, alias,
               bounds=None, chunk_tokens=None, shrink_windows=False, loss="negative_sampling",
               log_kq=None, output_bias=None, lr_start=0.1, lr_end=0.01, seed=0, n_threads=1,
               progress_total=None, batch_window=True):
    tokens = np.asarray(tokens, dtype=np.int32)
    offsets = np.asarray(offsets, dtype=np.int64)
    n_vocab = w_in.shape[0]
    if bounds is None:
        bounds, first = chunk_layout(offsets, len(tokens), chunk_tokens or len(tokens))
    else:
        bounds = np.asarray(bounds, dtype=np.int64)
        first = (np.searchsorted(offsets, bounds[:-1], side="right") - 1).astype(np.int64)
    kq = np.zeros(n_vocab, np.float32) if log_kq is None else np.asarray(log_kq, np.float32)
    stats = np.zeros((len(bounds) - 1, _core.N_STATS))
    done = np.zeros(len(bounds) - 1, np.uint8)
    skipped = _core.train_epoch(
        tokens, offsets, bounds, first, np.ones(n_vocab, np.float32), threshold, alias, kq,
        w_in, w_out, SKIPGRAM, LOSS[loss], window, shrink_windows, sample_size, lr_start,
        lr_end, 0, progress_total or len(tokens), seed, n_threads, stats, done,
        np.zeros(1, np.int32), output_bias=output_bias, batch_window=batch_window)
    assert skipped == 0 and done.all()
    return stats.sum(axis=0), bounds


def forced(n_vocab, z):
    """An alias table that always draws word z."""
    return np.zeros(n_vocab, np.uint32), np.full(n_vocab, z, np.int32)


def weights(n_vocab, dim, seed=0, scale=0.5):
    rs = np.random.default_rng(seed)
    return ((rs.standard_normal((n_vocab, dim)) * scale).astype(np.float32),
            (rs.standard_normal((n_vocab, dim)) * scale).astype(np.float32))


@pytest.fixture(params=_core.usable_simd_clones())
def clone(request):
    before = _core.simd_clone()
    _core.select_simd(request.param)
    yield request.param
    _core.select_simd(before)


LOSSES = ["negative_sampling", "nce", "nce_bias"]


def loss_arrays(loss, n_vocab, seed=0):
    rs = np.random.default_rng(seed + 100)
    log_kq = np.log(3 * rs.dirichlet(np.ones(n_vocab))) if loss != "negative_sampling" else None
    bias = rs.normal(-2.0, 0.5, n_vocab).astype(np.float32) if loss == "nce_bias" else None
    return log_kq, bias


def check(tokens, offsets, *, dim, window, sample_size, loss, threshold, alias, draw_negative,
          shrink_windows=False, bounds=None, chunk_tokens=None, seed=0, n_vocab=None,
          tol=2e-5):
    n_vocab = n_vocab or int(max(tokens)) + 1
    w_in, w_out = weights(n_vocab, dim, seed=seed)
    r_in, r_out = w_in.astype(np.float64), w_out.astype(np.float64)
    log_kq, bias = loss_arrays(loss, n_vocab, seed)
    r_bias = None if bias is None else bias.astype(np.float64)
    kernel_loss = loss.removesuffix("_bias")
    total, bounds = run_kernel(tokens, offsets, w_in, w_out, window=window,
                               sample_size=sample_size, threshold=threshold, alias=alias,
                               bounds=bounds, chunk_tokens=chunk_tokens,
                               shrink_windows=shrink_windows, loss=kernel_loss, log_kq=log_kq,
                               output_bias=bias, seed=seed)
    ref = reference_epoch(np.asarray(tokens), np.asarray(offsets), bounds, r_in, r_out,
                          window=window, shrink_windows=shrink_windows,
                          sample_size=sample_size, draw_negative=draw_negative, seed=seed,
                          log_kq=log_kq, bias=r_bias, progress_total=len(tokens))
    assert not np.allclose(w_in, weights(n_vocab, dim, seed=seed)[0])  # it trained
    assert_allclose(w_in, r_in, rtol=tol, atol=tol / 10)
    assert_allclose(w_out, r_out, rtol=tol, atol=tol / 10)
    if bias is not None:
        assert_allclose(bias, r_bias, rtol=tol, atol=tol / 10)
    assert_allclose(total[0], ref[0], rtol=1e-5)
    assert total[1] == ref[1] and total[2] == ref[2]
    return total


# ------------------------------------------------------------- one window
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("dim", [1, 7, 100])
@pytest.mark.parametrize("sample_size", [0, 1, 5, 16])
def test_one_window_matches_reference(clone, loss, dim, sample_size):
    # Centre 2 (position 3) of one sentence, window 3: six contexts with the
    # word 4 twice, every negative the word 5 (a repeated target id).
    tokens, offsets = [0, 1, 4, 2, 3, 4, 6], [0, 7]
    thr, alias = forced(7, 5)
    total = check(tokens, offsets, dim=dim, window=3, sample_size=sample_size, loss=loss,
                  threshold=thr, alias=alias, draw_negative=lambda rng: 5, bounds=[3, 4])
    assert total[1] == 6 and total[2] == 1


@pytest.mark.parametrize("loss", LOSSES)
def test_negative_equal_to_centre_is_dropped(clone, loss):
    # Every draw is the centre word: only the positive column trains.
    tokens, offsets = [0, 1, 2, 3, 1], [0, 5]
    thr, alias = forced(4, 2)
    check(tokens, offsets, dim=9, window=2, sample_size=3, loss=loss, threshold=thr,
          alias=alias, draw_negative=lambda rng: 2, bounds=[2, 3])


@pytest.mark.parametrize("loss", LOSSES)
def test_window_wider_than_a_context_block(clone, loss):
    # 2 x 40 contexts: more than one block of packed input rows, and small
    # vocabulary so that inputs repeat across blocks.
    rs = np.random.default_rng(1)
    tokens = rs.integers(0, 12, 100)
    thr, alias = forced(12, 3)
    check(tokens, [0, 100], dim=20, window=40, sample_size=4, loss=loss, threshold=thr,
          alias=alias, draw_negative=lambda rng: 3, bounds=[45, 47], tol=5e-5)


# -------------------------------------------- sentences with real draws
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("shrink_windows", [False, True])
def test_sentences_with_real_draws_match_reference(clone, loss, shrink_windows):
    # Several sentences (one empty, one a lone word: its centre draws
    # nothing), cut into chunks of 9 positions with their own RNG streams.
    rs = np.random.default_rng(2)
    n_vocab = 15
    lengths = [8, 0, 1, 12, 5, 9]
    tokens = rs.integers(0, n_vocab, sum(lengths))
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    accept, alias = alias_table(rs.dirichlet(np.ones(n_vocab)))
    thr = kernel_thresholds(accept)
    check(tokens, offsets, dim=11, window=3, sample_size=4, loss=loss, threshold=thr,
          alias=alias, draw_negative=lambda rng: rng.alias(thr, alias),
          shrink_windows=shrink_windows, chunk_tokens=9, seed=7, n_vocab=n_vocab)


def test_reference_tells_batched_from_per_pair():
    # The comparison has teeth: the per-pair update of the same draws fails it.
    tokens, offsets = [0, 1, 4, 2, 3, 4, 6], [0, 7]
    thr, alias = forced(7, 5)
    w_in, w_out = weights(7, 8)
    r_in, r_out = w_in.astype(np.float64), w_out.astype(np.float64)
    run_kernel(tokens, offsets, w_in, w_out, window=3, sample_size=2, threshold=thr,
               alias=alias, bounds=[3, 4], batch_window=False, lr_start=0.5, lr_end=0.5)
    reference_epoch(np.array(tokens), np.array(offsets), [3, 4], r_in, r_out, window=3,
                    shrink_windows=False, sample_size=2, draw_negative=lambda rng: 5,
                    lr_start=0.5, lr_end=0.5)
    assert not np.allclose(w_out, r_out, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("window", [1, 2, 4])
def test_chunk_cuts_inside_sentences_see_the_same_windows(window):
    # Forced draws: every chunking trains exactly like one chunk.
    tokens = [0, 1, 2, 3, 1, 4, 0, 2, 5, 5, 1, 0, 3, 4, 3]
    offsets = [0, 5, 7, 7, 14, 15]
    thr, alias = forced(6, 4)
    base = weights(6, 7, seed=1)
    whole_in, whole_out = base[0].copy(), base[1].copy()
    whole, _ = run_kernel(tokens, offsets, whole_in, whole_out, window=window, sample_size=2,
                          threshold=thr, alias=alias)
    for chunk_tokens in range(1, len(tokens) + 1):
        w_in, w_out = base[0].copy(), base[1].copy()
        total, _ = run_kernel(tokens, offsets, w_in, w_out, window=window, sample_size=2,
                              threshold=thr, alias=alias, chunk_tokens=chunk_tokens)
        assert_array_equal(w_in, whole_in, err_msg=f"chunk_tokens={chunk_tokens}")
        assert_array_equal(w_out, whole_out, err_msg=f"chunk_tokens={chunk_tokens}")
        assert_allclose(total, whole, rtol=1e-12)


# ------------------------------------------------------------- threads
def zipf_epoch(n_threads, seed=3, n_vocab=300, n_tokens=30_000, dim=16, chunk_tokens=2_000):
    rs = np.random.default_rng(0)
    p = 1.0 / np.arange(1, n_vocab + 1)
    tokens = rs.choice(n_vocab, n_tokens, p=p / p.sum())
    offsets = np.arange(0, n_tokens + 1, 25)
    accept, alias = alias_table(p**0.75 / (p**0.75).sum())
    w_in = ((rs.random((n_vocab, dim), dtype=np.float32) - 0.5) / dim)
    w_out = np.zeros_like(w_in)
    total, _ = run_kernel(tokens, offsets, w_in, w_out, window=5, sample_size=5,
                          threshold=kernel_thresholds(accept), alias=alias,
                          chunk_tokens=chunk_tokens, shrink_windows=True, seed=seed,
                          n_threads=n_threads, lr_start=0.025, lr_end=1e-4)
    return w_in, w_out, total


def test_one_thread_is_bitwise_reproducible():
    a, b = zipf_epoch(1), zipf_epoch(1)
    for x, y in zip(a, b):
        assert_array_equal(x, y)
    assert not np.array_equal(a[0], zipf_epoch(1, seed=4)[0])


@pytest.mark.skipif(not openmp_enabled(), reason="built without OpenMP")
def test_draws_do_not_depend_on_the_thread_count():
    # Chunks over disjoint words and no negatives: nothing shared between
    # threads, so two threads reproduce one thread bit for bit.
    rs = np.random.default_rng(0)
    n_chunks, per_chunk, words_per_chunk, dim = 6, 300, 10, 8
    tokens = np.concatenate([rs.integers(0, words_per_chunk, per_chunk) + c * words_per_chunk
                             for c in range(n_chunks)])
    offsets = np.arange(0, len(tokens) + 1, per_chunk // 3)
    bounds = np.arange(0, len(tokens) + 1, per_chunk)
    n_vocab = n_chunks * words_per_chunk
    thr, alias = forced(n_vocab, 0)
    w0 = (rs.random((n_vocab, dim), dtype=np.float32) - 0.5) / dim
    results = []
    for n_threads in (1, 2):
        w_in, w_out = w0.copy(), w0[::-1].copy()
        total, _ = run_kernel(tokens, offsets, w_in, w_out, window=5, sample_size=0,
                              threshold=thr, alias=alias, bounds=bounds, shrink_windows=True,
                              seed=12345, n_threads=n_threads)
        results.append((w_in, w_out, total))
    for a, b in zip(*results):
        assert_array_equal(a, b)
    assert not np.array_equal(results[0][0], w0)


# ------------------------------------------------------------- quality
N_JOBS = [1, pytest.param(2, marks=pytest.mark.skipif(not openmp_enabled(),
                                                      reason="built without OpenMP"))]


@pytest.mark.parametrize("n_jobs", N_JOBS)
def test_batched_learns_planted_topics(monkeypatch, topic_corpus, topic_score, n_jobs):
    calls = []
    train_epoch = _core.train_epoch

    def spy(*args, **kwargs):
        calls.append(kwargs.get("batch_window"))
        return train_epoch(*args, **kwargs)

    monkeypatch.setattr(_core, "train_epoch", spy)
    sentences, topic_of = topic_corpus
    est = Word2VecNS(vector_size=24, window=4, min_count=1, epochs=4, random_state=0,
                     n_jobs=n_jobs, batch_window=True).fit(sentences)
    assert calls and all(calls)  # the batched kernel ran
    precision, nearest = topic_score(est.vectors_, est.index_to_token_, topic_of)
    assert precision >= 0.9 and nearest >= 0.95, (precision, nearest)
    history = est.loss_history_
    assert np.all(np.isfinite(history)) and history[0] > 1.3 * history[-1], history


def test_estimator_n_jobs_1_is_bitwise_reproducible(topic_corpus):
    sentences = topic_corpus[0][:500]
    fits = [Word2VecNS(vector_size=16, min_count=1, epochs=2, random_state=3, n_jobs=1,
                       batch_window=True).fit(sentences) for _ in range(2)]
    assert_array_equal(fits[0].vectors_, fits[1].vectors_)
    assert_array_equal(fits[0].output_vectors_, fits[1].output_vectors_)
    plain = Word2VecNS(vector_size=16, min_count=1, epochs=2, random_state=3,
                       n_jobs=1, batch_window=False).fit(sentences)
    assert not np.allclose(plain.vectors_, fits[0].vectors_)


@pytest.mark.parametrize("batch_window", [False, True])
def test_nce_positive_with_zero_noise_probability_costs_nothing(clone, batch_window):
    # log k q(w) = -inf for a centre the noise never draws: its logit is
    # +inf, sigmoid 1, loss softplus(-inf) = 0 (not inf - inf = nan), no update.
    tokens, offsets = [0, 1], [0, 2]
    thr, alias = forced(3, 2)
    log_kq = np.array([-np.inf, 0.5, -0.2])
    w_in, w_out = weights(3, 6)
    before_in, before_out = w_in.astype(np.float64), w_out.copy()
    total, _ = run_kernel(tokens, offsets, w_in, w_out, window=1, sample_size=1,
                          threshold=thr, alias=alias, bounds=[0, 1], loss="nce",
                          log_kq=log_kq, batch_window=batch_window)
    f = before_in[1] @ before_out[2] - log_kq[2]  # the one negative
    assert_allclose(total[0], softplus(f), rtol=1e-5)
    assert_array_equal(w_out[0], before_out[0])


def test_input_step_sees_the_earlier_contexts_output_steps():
    # The simultaneous update (every step from the rows at the start, the
    # semantics before issue 15's quality fix) is told apart from this one.
    tokens, offsets = [0, 1, 4, 2, 3, 6, 5], [0, 7]
    thr, alias = forced(7, 5)
    w_in, w_out = weights(7, 8)
    r_in, r_out = w_in.astype(np.float64), w_out.astype(np.float64)
    run_kernel(tokens, offsets, w_in, w_out, window=3, sample_size=2, threshold=thr,
               alias=alias, bounds=[3, 4], lr_start=0.5, lr_end=0.5)
    contexts, targets = np.array([0, 1, 4, 3, 6, 5]), np.array([2, 5, 5])
    X, Y = r_in[contexts], r_out[targets]
    G = 0.5 * (np.array([1.0, 0.0, 0.0]) - sigmoid(X @ Y.T))
    np.add.at(r_in, contexts, G @ Y)
    np.add.at(r_out, targets, G.T @ X)
    assert_allclose(w_out, r_out, rtol=2e-5, atol=2e-6)  # the output steps agree
    assert not np.allclose(w_in, r_in, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("params, batched", [
    ({}, True),                                              # the default: batched
    ({"batch_window": False}, False),                        # per pair, on request
    ({"shared_negatives": True}, False),                     # "auto" takes per pair
    ({"shared_negatives": True, "batch_window": True}, True),  # True overrides it
])
def test_auto_takes_the_batched_update_unless_asked_otherwise(monkeypatch, params, batched):
    calls = []
    train_epoch = _core.train_epoch

    def spy(*args, **kwargs):
        calls.append(kwargs.get("batch_window"))
        return train_epoch(*args, **kwargs)

    monkeypatch.setattr(_core, "train_epoch", spy)
    Word2VecNS(vector_size=4, min_count=1, epochs=1, n_jobs=1, **params).fit(
        [["a", "b", "c", "a"], ["b", "c"]])
    assert calls == [batched]


def test_auto_with_frozen_rows_takes_the_batched_update(monkeypatch):
    calls = []
    train_epoch = _core.train_epoch

    def spy(*args, **kwargs):
        calls.append((kwargs.get("batch_window"), kwargs.get("frozen_rows") is not None))
        return train_epoch(*args, **kwargs)

    sentences = [["a", "b", "c", "a"], ["b", "c"]]
    init = Word2VecNS(vector_size=4, min_count=1, epochs=1, n_jobs=1).fit(sentences)
    monkeypatch.setattr(_core, "train_epoch", spy)
    for batch_window in ("auto", True):
        calls.clear()
        model = Word2VecNS(vector_size=4, min_count=1, epochs=1, n_jobs=1, init_vectors=init,
                           freeze_init_vectors=True, batch_window=batch_window).fit(sentences)
        assert calls == [(True, True)]
        assert model.frozen_rows_.all()  # every row came from init_vectors
        np.testing.assert_array_equal(model.vectors_, init.vectors_)
