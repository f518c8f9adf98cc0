"""The training kernel against a float64 NumPy reference, with every random
draw forced, and the loss gradient against finite differences.

Forcing the draws: ``keep_prob = 1`` (no subsampling), ``shrink_windows=False``
(every window has radius ``window``), and an alias table that always returns
one word ``z`` (all thresholds 0, every alias ``z``), so every negative is
``z``; a negative equal to the positive must be skipped.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skw2v import _core
from skw2v._corpus import chunk_layout

ARCH = _core.ARCHITECTURES
LOSS = _core.LOSSES


def softplus(x):
    return np.logaddexp(0.0, x)


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


# ------------------------------------------------------------ the reference
def reference_targets(l1, target, w_out, sample_size, negative, log_kq, alpha, bias=None):
    """word2vec's update of one input representation ``l1`` (float64, in place
    on w_out and on the NCE output bias); returns (work, loss). Rows are
    updated one draw at a time."""
    work = np.zeros_like(l1)
    loss = 0.0
    for j in range(sample_size + 1):
        t = target if j == 0 else negative
        if j > 0 and t == target:
            continue
        label = 1.0 if j == 0 else 0.0
        f = l1 @ w_out[t]
        if log_kq is not None:
            f -= log_kq[t]
        if bias is not None:
            f += bias[t]
        loss += softplus(-f) if label else softplus(f)
        g = (label - sigmoid(f)) * alpha
        work += g * w_out[t]
        w_out[t] += g * l1
        if bias is not None:
            bias[t] += g  # d logit / d bias = 1
    return work, loss


def reference_epoch(tokens, offsets, positions, w_in, w_out, *, architecture, window,
                    sample_size, negative, log_kq, lr_start, lr_end, progress_offset,
                    progress_total, bias=None):
    """Train the centre ``positions`` (in order) in float64, in place.

    Returns (loss, positives, words) as the kernel's chunk_stats sum them.
    """
    loss = positives = words = 0.0
    sentence = np.searchsorted(offsets, positions, side="right") - 1
    for p, s in zip(positions, sentence):
        begin, end = offsets[s], offsets[s + 1]
        centre = tokens[p]
        alpha = lr_start - (lr_start - lr_end) * (progress_offset + p) / progress_total
        alpha = max(alpha, lr_end)
        context = [q for q in range(max(begin, p - window), min(end, p + window + 1)) if q != p]
        words += 1
        if architecture == "skipgram":
            for q in context:
                l1 = w_in[tokens[q]].copy()
                work, pair_loss = reference_targets(l1, centre, w_out, sample_size, negative,
                                                    log_kq, alpha, bias)
                w_in[tokens[q]] += work
                loss += pair_loss
                positives += 1
        elif context:
            l1 = w_in[tokens[context]].mean(axis=0)
            work, pair_loss = reference_targets(l1, centre, w_out, sample_size, negative,
                                                log_kq, alpha, bias)
            for q in context:  # every context word gets the full error of the mean
                w_in[tokens[q]] += work
            loss += pair_loss
            positives += 1
    return loss, positives, words


# -------------------------------------------------------- calling the kernel
def run_kernel(tokens, offsets, w_in, w_out, *, architecture, loss="negative_sampling",
               window, sample_size, negative, log_kq=None, lr_start=0.1, lr_end=0.01,
               progress_offset=0, progress_total=None, chunk_tokens=None, bounds=None,
               n_threads=1, seed=0, keep=None, output_bias=None):
    """One kernel epoch with forced draws, in place on float32 w_in/w_out
    (and on the NCE ``output_bias`` when given).

    Returns the per-chunk stats (C, 3) and the chunk bounds used.
    """
    tokens = np.asarray(tokens, dtype=np.int32)
    offsets = np.asarray(offsets, dtype=np.int64)
    n_vocab = w_in.shape[0]
    if bounds is None:
        bounds, first = chunk_layout(offsets, len(tokens), chunk_tokens or max(len(tokens), 1))
    else:
        bounds = np.asarray(bounds, dtype=np.int64)
        first = (np.searchsorted(offsets, bounds[:-1], side="right") - 1).astype(np.int64)
    keep = np.ones(n_vocab, dtype=np.float32) if keep is None else np.asarray(keep, np.float32)
    thr = np.zeros(n_vocab, dtype=np.uint32)
    alias = np.full(n_vocab, negative, dtype=np.int32)
    kq = np.zeros(n_vocab, np.float32) if log_kq is None else np.asarray(log_kq, np.float32)
    stats = np.zeros((len(bounds) - 1, _core.N_STATS), dtype=np.float64)
    done = np.zeros(len(bounds) - 1, dtype=np.uint8)
    stop = np.zeros(1, dtype=np.int32)
    skipped = _core.train_epoch(
        tokens, offsets, bounds, first, keep, thr, alias, kq, w_in, w_out,
        ARCH[architecture], LOSS[loss], window, False, sample_size,
        lr_start, lr_end, progress_offset, progress_total or len(tokens), seed, n_threads,
        stats, done, stop, False, output_bias,
    )
    assert skipped == 0
    assert_array_equal(done, 1)
    return stats, bounds


def weights(n_vocab, dim, seed=0, scale=0.5):
    rs = np.random.default_rng(seed)
    w_in = (rs.standard_normal((n_vocab, dim)) * scale).astype(np.float32)
    w_out = (rs.standard_normal((n_vocab, dim)) * scale).astype(np.float32)
    return w_in, w_out


# Five sentences, one empty, one of a single word, repeated words, all V=6 used.
TOKENS = [0, 1, 2, 3, 1, 4, 0, 2, 5, 5, 1, 0, 3, 4, 3]
OFFSETS = [0, 5, 7, 7, 14, 15]
N_VOCAB, DIM = 6, 7


def compare_with_reference(architecture, loss, sample_size, negative, window=2,
                           progress_offset=0, progress_total=None, lr=(0.1, 0.01),
                           log_kq=None, chunk_tokens=None, bias=None):
    w_in, w_out = weights(N_VOCAB, DIM)
    r_in, r_out = w_in.astype(np.float64), w_out.astype(np.float64)
    k_bias = None if bias is None else np.array(bias, dtype=np.float32)
    r_bias = None if bias is None else k_bias.astype(np.float64)
    stats, _ = run_kernel(TOKENS, OFFSETS, w_in, w_out, architecture=architecture, loss=loss,
                          window=window, sample_size=sample_size, negative=negative,
                          log_kq=log_kq, lr_start=lr[0], lr_end=lr[1],
                          progress_offset=progress_offset, progress_total=progress_total,
                          chunk_tokens=chunk_tokens, output_bias=k_bias)
    ref = reference_epoch(
        np.array(TOKENS), np.array(OFFSETS), np.arange(len(TOKENS)), r_in, r_out,
        architecture=architecture, window=window, sample_size=sample_size, negative=negative,
        log_kq=None if loss == "negative_sampling" else np.asarray(log_kq, np.float64),
        lr_start=lr[0], lr_end=lr[1], progress_offset=progress_offset,
        progress_total=progress_total or len(TOKENS), bias=r_bias,
    )
    # The updates themselves are O(0.01-0.1); float32 rounding is ~1e-7.
    assert_allclose(w_in, r_in, rtol=2e-5, atol=2e-6)
    assert_allclose(w_out, r_out, rtol=2e-5, atol=2e-6)
    if bias is not None:
        assert not np.allclose(k_bias, bias)  # trained
        assert_allclose(k_bias, r_bias, rtol=2e-5, atol=2e-6)
    total = stats.sum(axis=0)
    assert_allclose(total[0], ref[0], rtol=1e-5)
    assert total[1] == ref[1] and total[2] == ref[2]
    return w_in, w_out, total


LOG_KQ = np.log(3 * np.array([0.3, 0.05, 0.2, 0.1, 0.15, 0.2]))
BIAS = np.array([-1.2, -2.9, -1.6, -2.3, -1.9, -1.6])  # an NCE output bias, ~log p(w)


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
@pytest.mark.parametrize("loss", ["negative_sampling", "nce", "nce_bias"])
@pytest.mark.parametrize("sample_size", [0, 1, 3])
@pytest.mark.parametrize("negative", [5, 1])
def test_epoch_matches_numpy_reference(architecture, loss, sample_size, negative):
    # Word 5 and word 1 are centres too, so both "negative differs from the
    # positive" and "negative equals the positive (skipped)" occur; a
    # repeated negative sees the bias its previous draw left.
    compare_with_reference(architecture, loss.removesuffix("_bias"), sample_size, negative,
                           log_kq=LOG_KQ if loss != "negative_sampling" else None,
                           bias=BIAS if loss == "nce_bias" else None)


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
@pytest.mark.parametrize("window", [1, 3, 20])
def test_window_sizes_match_reference(architecture, window):
    compare_with_reference(architecture, "negative_sampling", 2, 3, window=window)


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
@pytest.mark.parametrize("progress_offset,progress_total", [(0, 14), (14, 42), (30, 40),
                                                            (100, 50)])
def test_learning_rate_schedule_matches_reference(architecture, progress_offset,
                                                  progress_total):
    # (30, 40) and (100, 50) run into the floor lr_end partway or everywhere.
    compare_with_reference(architecture, "negative_sampling", 2, 3, lr=(0.5, 0.02),
                           progress_offset=progress_offset, progress_total=progress_total)


def test_positive_and_word_counts():
    # Skip-gram pairs = sum over centres of in-sentence neighbours within the window.
    _, _, sg = compare_with_reference("skipgram", "negative_sampling", 1, 5, window=2)
    pairs = sum(min(p, 2) + min(n - 1 - p, 2) for n in (5, 2, 7, 1) for p in range(n))
    assert sg[1] == pairs and sg[2] == len(TOKENS)
    # CBOW: one positive per centre with any context; the lone word has none.
    _, _, cb = compare_with_reference("cbow", "negative_sampling", 1, 5, window=2)
    assert cb[1] == len(TOKENS) - 1 and cb[2] == len(TOKENS)


def test_reference_detects_a_wrong_learning_rate():
    # The comparison has teeth: a kernel run at another learning rate fails it.
    w_in, w_out = weights(N_VOCAB, DIM)
    r_in, r_out = w_in.astype(np.float64), w_out.astype(np.float64)
    run_kernel(TOKENS, OFFSETS, w_in, w_out, architecture="skipgram", window=2,
               sample_size=2, negative=3, lr_start=0.1, lr_end=0.01)
    reference_epoch(np.array(TOKENS), np.array(OFFSETS), np.arange(len(TOKENS)), r_in, r_out,
                    architecture="skipgram", window=2, sample_size=2, negative=3, log_kq=None,
                    lr_start=0.1, lr_end=0.1, progress_offset=0, progress_total=len(TOKENS))
    assert not np.allclose(w_in, r_in, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
@pytest.mark.parametrize("window", [1, 2, 4])
def test_chunk_cuts_inside_sentences_see_the_same_windows(architecture, window):
    # Every chunk size from 1 to the corpus length cuts sentences in other
    # places; with the draws forced, each must train exactly like one chunk.
    base_in, base_out = weights(N_VOCAB, DIM, seed=1)
    w_in, w_out = base_in.copy(), base_out.copy()
    whole, _ = run_kernel(TOKENS, OFFSETS, w_in, w_out, architecture=architecture,
                          window=window, sample_size=2, negative=4)
    for chunk_tokens in range(1, len(TOKENS) + 1):
        c_in, c_out = base_in.copy(), base_out.copy()
        stats, bounds = run_kernel(TOKENS, OFFSETS, c_in, c_out, architecture=architecture,
                                   window=window, sample_size=2, negative=4,
                                   chunk_tokens=chunk_tokens)
        assert len(bounds) - 1 == -(-len(TOKENS) // chunk_tokens)
        assert_array_equal(c_in, w_in, err_msg=f"chunk_tokens={chunk_tokens}")
        assert_array_equal(c_out, w_out, err_msg=f"chunk_tokens={chunk_tokens}")
        assert_allclose(stats.sum(axis=0), whole.sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_chunk_cuts_keep_subsampling_decisions(architecture):
    # Subsampling is decided per corpus position, so a token dropped as a
    # centre in one chunk is dropped from the next chunk's window margin too:
    # every chunking trains alike, with the same number of kept words.
    keep = np.array([0.3, 0.5, 1.0, 0.6, 0.4, 0.8], dtype=np.float32)
    tokens = np.random.default_rng(3).integers(0, N_VOCAB, 60)
    offsets = [0, 17, 17, 40, 41, 60]
    base_in, base_out = weights(N_VOCAB, DIM, seed=4)
    results = []
    for chunk_tokens in (60, 1, 2, 5, 7, 13, 59):
        w_in, w_out = base_in.copy(), base_out.copy()
        stats, _ = run_kernel(tokens, offsets, w_in, w_out, architecture=architecture, window=3,
                              sample_size=2, negative=1, keep=keep, chunk_tokens=chunk_tokens,
                              seed=11)
        results.append((w_in, w_out, stats.sum(axis=0)))
    kept_words = results[0][2][2]
    assert 0 < kept_words < 50  # some, not all, positions kept
    for w_in, w_out, total in results[1:]:
        assert_array_equal(w_in, results[0][0])
        assert_array_equal(w_out, results[0][1])
        assert total[2] == kept_words and total[1] == results[0][2][1]


def test_partial_chunk_bounds_train_only_their_positions():
    # Chunks need not cover the corpus: only positions inside them are centres.
    w_in, w_out = weights(N_VOCAB, DIM, seed=2)
    r_in, r_out = w_in.astype(np.float64), w_out.astype(np.float64)
    stats, _ = run_kernel(TOKENS, OFFSETS, w_in, w_out, architecture="skipgram", window=2,
                          sample_size=1, negative=2, bounds=[3, 6, 9])
    ref = reference_epoch(np.array(TOKENS), np.array(OFFSETS), np.arange(3, 9), r_in, r_out,
                          architecture="skipgram", window=2, sample_size=1, negative=2,
                          log_kq=None, lr_start=0.1, lr_end=0.01, progress_offset=0,
                          progress_total=len(TOKENS))
    assert_allclose(w_in, r_in, rtol=2e-5, atol=2e-6)
    assert_allclose(w_out, r_out, rtol=2e-5, atol=2e-6)
    assert stats.sum(axis=0)[2] == ref[2] == 6


# ------------------------------------------------------------ the gradient
def pair_loss(x, w_pos, w_negs, c_pos=0.0, c_negs=None, b_pos=0.0, b_negs=None):
    """softplus(-(x.w_pos + b_pos - c_pos)) + sum softplus(x.w_neg + b_neg - c_neg)
    (NCE: c = log k q, b the learned output bias)."""
    c_negs = np.zeros(len(w_negs)) if c_negs is None else c_negs
    b_negs = np.zeros(len(w_negs)) if b_negs is None else b_negs
    return (softplus(-(x @ w_pos + b_pos - c_pos))
            + softplus(w_negs @ x + b_negs - c_negs).sum())


def _logit_gradients(x, w_pos, w_negs, c_pos, c_negs, b_pos, b_negs):
    c_negs = np.zeros(len(w_negs)) if c_negs is None else c_negs
    b_negs = np.zeros(len(w_negs)) if b_negs is None else b_negs
    return (sigmoid(x @ w_pos + b_pos - c_pos) - 1.0,
            sigmoid(w_negs @ x + b_negs - c_negs))


def pair_gradient(x, w_pos, w_negs, c_pos=0.0, c_negs=None, b_pos=0.0, b_negs=None):
    """Analytic gradient of pair_loss: (d/dx, d/dw_pos, d/dw_negs)."""
    g_pos, g_neg = _logit_gradients(x, w_pos, w_negs, c_pos, c_negs, b_pos, b_negs)
    return g_pos * w_pos + g_neg @ w_negs, g_pos * x, np.outer(g_neg, x)


def pair_bias_gradient(x, w_pos, w_negs, c_pos=0.0, c_negs=None, b_pos=0.0, b_negs=None):
    """Analytic gradient of pair_loss w.r.t. the biases: (d/db_pos, d/db_negs)."""
    return _logit_gradients(x, w_pos, w_negs, c_pos, c_negs, b_pos, b_negs)


def numerical_gradient(fun, x, eps=1e-3):
    """4th-order central differences, one coordinate at a time (float64)."""
    grad = np.zeros_like(x)
    def at(i, h):
        y = x.copy()
        y[i] += h
        return fun(y)

    for i in np.ndindex(x.shape):
        grad[i] = (-at(i, 2 * eps) + 8 * at(i, eps) - 8 * at(i, -eps) + at(i, -2 * eps)) / (12 * eps)
    return grad


@pytest.mark.parametrize("nce", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_analytic_gradient_matches_finite_differences(nce, seed):
    rs = np.random.default_rng(seed)
    d, k = 6, 4
    x, w_pos, w_negs = rs.normal(size=d), rs.normal(size=d), rs.normal(size=(k, d))
    c_pos, c_negs = (rs.normal(), rs.normal(size=k)) if nce else (0.0, None)
    b_pos, b_negs = (rs.normal(), rs.normal(size=k)) if nce else (0.0, None)
    extra = (c_pos, c_negs, b_pos, b_negs)
    gx, gpos, gnegs = pair_gradient(x, w_pos, w_negs, *extra)
    assert_allclose(gx, numerical_gradient(lambda v: pair_loss(v, w_pos, w_negs, *extra), x),
                    rtol=1e-7, atol=1e-9)
    assert_allclose(gpos, numerical_gradient(lambda v: pair_loss(x, v, w_negs, *extra), w_pos),
                    rtol=1e-7, atol=1e-9)
    assert_allclose(gnegs, numerical_gradient(lambda v: pair_loss(x, w_pos, v, *extra), w_negs),
                    rtol=1e-7, atol=1e-9)
    if nce:
        gb_pos, gb_negs = pair_bias_gradient(x, w_pos, w_negs, *extra)
        assert_allclose(gb_pos, numerical_gradient(
            lambda b: pair_loss(x, w_pos, w_negs, c_pos, c_negs, b[0], b_negs),
            np.array([b_pos]))[0], rtol=1e-7, atol=1e-9)
        assert_allclose(gb_negs, numerical_gradient(
            lambda b: pair_loss(x, w_pos, w_negs, c_pos, c_negs, b_pos, b), b_negs),
            rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("loss", ["negative_sampling", "nce", "nce_bias"])
def test_skipgram_single_step_is_minus_lr_gradient(loss):
    # Sentence [c, x], only position 0 trained: context x predicts centre c
    # against one negative z.
    c, x, z = 0, 1, 2
    w_in, w_out = weights(3, DIM, seed=5)
    before_in, before_out = w_in.astype(np.float64), w_out.astype(np.float64)
    log_kq = np.array([0.4, -1.0, -0.7]) if loss != "negative_sampling" else None
    bias = np.array([-0.3, 0.8, 0.5], np.float32) if loss == "nce_bias" else None
    before_bias = None if bias is None else bias.astype(np.float64)
    lr = 0.05
    stats, _ = run_kernel([c, x], [0, 2], w_in, w_out, architecture="skipgram",
                          loss=loss.removesuffix("_bias"), window=1, sample_size=1, negative=z,
                          log_kq=log_kq, lr_start=lr, lr_end=0.0001, bounds=[0, 1],
                          output_bias=bias)
    c_pos, c_negs = (log_kq[c], log_kq[[z]]) if log_kq is not None else (0.0, None)
    b_pos, b_negs = (before_bias[c], before_bias[[z]]) if bias is not None else (0.0, None)
    args = (before_in[x], before_out[c], before_out[[z]], c_pos, c_negs, b_pos, b_negs)
    gx, gpos, gnegs = pair_gradient(*args)
    if bias is not None:
        gb_pos, gb_negs = pair_bias_gradient(*args)
        assert_allclose(bias[[c, z]] - before_bias[[c, z]], -lr * np.r_[gb_pos, gb_negs],
                        rtol=1e-4, atol=1e-7)
        assert bias[x] == np.float32(before_bias[x])  # not a target: untouched
    assert_allclose(w_in[x] - before_in[x], -lr * gx, rtol=1e-4, atol=1e-7)
    assert_allclose(w_out[c] - before_out[c], -lr * gpos, rtol=1e-4, atol=1e-7)
    assert_allclose(w_out[z] - before_out[z], -lr * gnegs[0], rtol=1e-4, atol=1e-7)
    assert_array_equal(w_in[[c, z]], before_in[[c, z]].astype(np.float32))
    assert_allclose(stats[0], [pair_loss(*args), 1, 1], rtol=1e-6)


@pytest.mark.parametrize("loss", ["negative_sampling", "nce"])
def test_cbow_single_step_is_minus_lr_gradient(loss):
    # Sentence [a, c, b], only position 1 trained: mean(a, b) predicts c
    # against one negative z. The mean's gradient goes, whole, to a and to b
    # (word2vec's convention: twice the true gradient of each context vector).
    a, c, b, z = 0, 1, 2, 3
    w_in, w_out = weights(4, DIM, seed=6)
    before_in, before_out = w_in.astype(np.float64), w_out.astype(np.float64)
    log_kq = np.array([0.1, 0.5, -0.3, -1.2]) if loss == "nce" else None
    lr = 0.05
    stats, _ = run_kernel([a, c, b], [0, 3], w_in, w_out, architecture="cbow", loss=loss,
                          window=1, sample_size=1, negative=z, log_kq=log_kq, lr_start=lr,
                          lr_end=0.0001, bounds=[1, 2])
    lr = lr - (lr - 0.0001) * 1 / 3  # the rate at position 1 of 3
    c_pos, c_negs = (log_kq[c], log_kq[[z]]) if loss == "nce" else (0.0, None)

    def loss_of_a(va):
        return pair_loss((va + before_in[b]) / 2, before_out[c], before_out[[z]], c_pos, c_negs)

    mean = (before_in[a] + before_in[b]) / 2
    gx, gpos, gnegs = pair_gradient(mean, before_out[c], before_out[[z]], c_pos, c_negs)
    assert_allclose(gx, 2 * numerical_gradient(loss_of_a, before_in[a]), rtol=1e-7)
    for w in (a, b):
        assert_allclose(w_in[w] - before_in[w], -lr * gx, rtol=1e-4, atol=1e-7)
    assert_allclose(w_out[c] - before_out[c], -lr * gpos, rtol=1e-4, atol=1e-7)
    assert_allclose(w_out[z] - before_out[z], -lr * gnegs[0], rtol=1e-4, atol=1e-7)
    assert_allclose(stats[0], [loss_of_a(before_in[a]), 1, 1], rtol=1e-6)


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_negative_equal_to_positive_is_skipped(architecture):
    # Noise one-hot on the centre word: every negative is the positive, so
    # only the positive term trains and enters the loss.
    c, x = 0, 1
    w_in, w_out = weights(2, DIM, seed=7)
    before_in, before_out = w_in.astype(np.float64), w_out.astype(np.float64)
    lr = 0.05
    stats, _ = run_kernel([c, x], [0, 2], w_in, w_out, architecture=architecture, window=1,
                          sample_size=5, negative=c, lr_start=lr, lr_end=0.0001, bounds=[0, 1])
    gx, gpos, _ = pair_gradient(before_in[x], before_out[c], np.zeros((0, DIM)))
    assert_allclose(w_in[x] - before_in[x], -lr * gx, rtol=1e-4, atol=1e-7)
    assert_allclose(w_out[c] - before_out[c], -lr * gpos, rtol=1e-4, atol=1e-7)
    assert_array_equal(w_out[x], before_out[x].astype(np.float32))
    assert_allclose(stats[0], [softplus(-(before_in[x] @ before_out[c])), 1, 1], rtol=1e-6)


def test_kernel_rejects_a_bad_output_bias():
    w_in, w_out = weights(3, 4)
    with pytest.raises(ValueError, match="output_bias must have one entry per row"):
        run_kernel([0, 1], [0, 2], w_in, w_out, architecture="skipgram", loss="nce", window=1,
                   sample_size=1, negative=2, output_bias=np.zeros(2, np.float32))
    with pytest.raises(ValueError, match="only trained with the NCE loss"):
        run_kernel([0, 1], [0, 2], w_in, w_out, architecture="skipgram", window=1,
                   sample_size=1, negative=2, output_bias=np.zeros(3, np.float32))


def test_kernel_rejects_inconsistent_layout():
    w_in, w_out = weights(3, 4)
    with pytest.raises(ValueError, match="token ids"):
        run_kernel([0, 3], [0, 2], w_in, w_out, architecture="skipgram", window=1,
                   sample_size=1, negative=0)
    with pytest.raises(ValueError, match="inconsistent"):
        run_kernel([0, 1], [0, 3], w_in, w_out, architecture="skipgram", window=1,
                   sample_size=1, negative=0)


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_nan_rows_give_a_nan_loss_not_a_table_read_out_of_bounds(architecture):
    # A NaN score once indexed the logistic table at (int)NaN; diverged rows
    # must show up as a NaN loss instead.
    w_in, w_out = weights(N_VOCAB, DIM)
    w_in[1] = np.nan
    stats, _ = run_kernel(TOKENS, OFFSETS, w_in, w_out, architecture=architecture,
                          window=2, sample_size=2, negative=5)
    assert np.isnan(stats[:, 0].sum())
    w_in, w_out = weights(N_VOCAB, DIM)
    stats, _ = run_kernel(TOKENS, OFFSETS, w_in, w_out, architecture=architecture,
                          window=2, sample_size=2, negative=5)
    assert np.isfinite(stats[:, 0]).all()
