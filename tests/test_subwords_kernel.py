"""The kernel's subword input path (fastText's sg/cbow): one epoch against a
float64 NumPy reference with every draw forced (as tests/test_kernel_step.py),
the update of an n-gram row against finite differences of the loss, and
reproducibility."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skw2v import _core
from skw2v._corpus import chunk_layout
from skw2v._subwords import subword_table

from test_kernel_step import reference_targets, softplus

WORDS = ["walk", "walked", "walks", "talk", "talked", "a"]
TOKENS = [0, 1, 2, 3, 1, 4, 0, 2, 5, 5, 1, 0, 3, 4, 3]
OFFSETS = [0, 5, 7, 7, 14, 15]
N_VOCAB, DIM, BUCKET = 6, 7, 13


def table(min_n=3, max_n=4, bucket=BUCKET):
    return subword_table(WORDS, min_n, max_n, bucket)


def start_weights(seed=0, bucket=BUCKET):
    rs = np.random.default_rng(seed)
    w_in = (rs.standard_normal((N_VOCAB + bucket, DIM)) * 0.5).astype(np.float32)
    w_out = (rs.standard_normal((N_VOCAB, DIM)) * 0.5).astype(np.float32)
    return w_in, w_out


def run(w_in, w_out, indptr, ids, *, architecture, loss="negative_sampling", window=2,
        sample_size=2, negative=5, log_kq=None, output_bias=None, bounds=None, n_threads=1,
        chunk_tokens=None, shared_negatives=False, seed=0, tokens=TOKENS, offsets=OFFSETS,
        frozen_rows=None):
    tokens = np.asarray(tokens, dtype=np.int32)
    offsets = np.asarray(offsets, dtype=np.int64)
    if bounds is None:
        bounds, first = chunk_layout(offsets, len(tokens), chunk_tokens or len(tokens))
    else:
        bounds = np.asarray(bounds, dtype=np.int64)
        first = (np.searchsorted(offsets, bounds[:-1], side="right") - 1).astype(np.int64)
    v = w_out.shape[0]
    kq = np.zeros(v, np.float32) if log_kq is None else np.asarray(log_kq, np.float32)
    stats = np.zeros((len(bounds) - 1, _core.N_STATS))
    done = np.zeros(len(bounds) - 1, np.uint8)
    _core.train_epoch(
        tokens=tokens, sentence_offsets=offsets, chunk_bounds=bounds, chunk_sentence=first,
        keep_prob=np.ones(v, np.float32), alias_threshold=np.zeros(v, np.uint32),
        alias_index=np.full(v, negative, np.int32), noise_log_kq=kq, w_in=w_in, w_out=w_out,
        architecture=_core.ARCHITECTURES[architecture], loss=_core.LOSSES[loss],
        window=window, shrink_windows=False, sample_size=sample_size, lr_start=0.1,
        lr_end=0.01, progress_offset=0, progress_total=len(tokens), seed=seed,
        n_threads=n_threads, chunk_stats=stats, chunk_done=done,
        stop_flag=np.zeros(1, np.int32), shared_negatives=shared_negatives,
        output_bias=output_bias, subword_indptr=indptr, subword_ids=ids,
        frozen_rows=frozen_rows)
    assert_array_equal(done, 1)
    return stats.sum(axis=0)


def reference(w_in, w_out, indptr, ids, *, architecture, window, sample_size, negative,
              log_kq=None, bias=None, frozen=()):
    """float64, in place: input of a word = mean of its rows; each row gets the full work
    (a frozen word's own row none)."""
    rows = [[r for r in ids[indptr[w]:indptr[w + 1]]] for w in range(N_VOCAB)]
    moving = [rows[w] if w not in frozen else rows[w][1:] for w in range(N_VOCAB)]
    tokens, offsets = np.asarray(TOKENS), np.asarray(OFFSETS)
    loss = positives = words = 0.0
    n = len(tokens)
    for p in range(n):
        s = np.searchsorted(offsets, p, side="right") - 1
        begin, end = offsets[s], offsets[s + 1]
        alpha = max(0.1 - 0.09 * p / n, 0.01)
        context = [q for q in range(max(begin, p - window), min(end, p + window + 1)) if q != p]
        words += 1
        if architecture == "skipgram":  # fastText's direction and order: the mean of the
            # centre's rows takes each pair's work (fastText's mean when they are distinct)
            l1 = w_in[rows[tokens[p]]].mean(axis=0)
            total = np.zeros_like(l1)
            for q in context:
                work, pl = reference_targets(l1, tokens[q], w_out, sample_size, negative,
                                             log_kq, alpha, bias)
                total += work
                l1 = l1 + work * len(moving[tokens[p]]) / len(rows[tokens[p]])
                loss += pl
                positives += 1
            for r in moving[tokens[p]]:
                w_in[r] += total
        elif context:
            l1 = np.mean([w_in[rows[tokens[q]]].mean(axis=0) for q in context], axis=0)
            work, pl = reference_targets(l1, tokens[p], w_out, sample_size, negative, log_kq,
                                         alpha, bias)
            for q in context:
                for r in moving[tokens[q]]:
                    w_in[r] += work
            loss += pl
            positives += 1
    return np.array([loss, positives, words])


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
@pytest.mark.parametrize("loss", ["negative_sampling", "nce"])
@pytest.mark.parametrize("frozen", [(), (1, 3)])  # own rows of "walked", "talk" locked
def test_epoch_matches_float64_reference(architecture, loss, frozen):
    indptr, ids = table()
    assert (np.diff(indptr) > 2).any()  # words with several n-grams
    w_in, w_out = start_weights()
    r_in, r_out = w_in.astype(np.float64), w_out.astype(np.float64)
    log_kq = bias = r_bias = None
    if loss == "nce":
        log_kq = np.linspace(-1.0, 0.5, N_VOCAB)
        bias = np.linspace(0.2, -0.3, N_VOCAB).astype(np.float32)
        r_bias = bias.astype(np.float64)
    locked = np.zeros(N_VOCAB, np.uint8)
    locked[list(frozen)] = 1
    stats = run(w_in, w_out, indptr, ids, architecture=architecture, loss=loss,
                log_kq=log_kq, output_bias=bias, frozen_rows=locked if frozen else None)
    ref = reference(r_in, r_out, indptr, ids, architecture=architecture, window=2,
                    sample_size=2, negative=5, log_kq=log_kq, bias=r_bias, frozen=frozen)
    if frozen:
        assert_array_equal(w_in[list(frozen)], start_weights()[0][list(frozen)])
    assert not np.allclose(r_in, start_weights()[0])  # the n-gram rows moved
    assert_allclose(w_in, r_in, rtol=2e-4, atol=2e-5)
    assert_allclose(w_out, r_out, rtol=2e-4, atol=2e-5)
    assert_allclose(stats, ref, rtol=2e-5)
    if bias is not None:
        assert_allclose(bias, r_bias, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("loss", ["negative_sampling", "nce"])
def test_ngram_row_update_is_n_times_the_loss_gradient(loss):
    """One pair (centre "walked" as the input, context "walk", one negative): the
    n-gram row b moves by -alpha * n_rows * dL/db, fastText's full gradient of the mean."""
    indptr, ids = table()
    word, centre, neg = 1, 0, 5  # the input word, the predicted word, the negative
    rows = ids[indptr[word]:indptr[word + 1]]
    b = rows[2]
    w_in, w_out = start_weights(seed=3)
    log_kq = np.linspace(-1.0, 0.5, N_VOCAB) if loss == "nce" else None
    bias = np.linspace(0.2, -0.3, N_VOCAB).astype(np.float32) if loss == "nce" else None
    x0, u0 = w_in.astype(np.float64), w_out.astype(np.float64)
    b0 = None if bias is None else bias.astype(np.float64)

    def pair_loss(row_b):
        x = x0.copy()
        x[b] = row_b
        h = x[rows].mean(axis=0)
        f_pos, f_neg = h @ u0[centre], h @ u0[neg]
        if log_kq is not None:
            f_pos += b0[centre] - log_kq[centre]
            f_neg += b0[neg] - log_kq[neg]
        return softplus(-f_pos) + softplus(f_neg)

    eps = 1e-6
    grad = np.array([(pair_loss(x0[b] + eps * e) - pair_loss(x0[b] - eps * e)) / (2 * eps)
                     for e in np.eye(DIM)])
    # centre position 0 only ("walked"): its one context (window 1) is position 1
    run(w_in, w_out, indptr, ids, architecture="skipgram", loss=loss, window=1,
        sample_size=1, negative=neg, log_kq=log_kq, output_bias=bias, tokens=[word, centre],
        offsets=[0, 2], bounds=[0, 1])
    alpha = 0.1
    assert_allclose(w_in[b] - x0[b], -alpha * len(rows) * grad, rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_one_thread_is_bitwise_reproducible(architecture):
    indptr, ids = table()
    results = []
    for _ in range(2):
        w_in, w_out = start_weights()
        run(w_in, w_out, indptr, ids, architecture=architecture, n_threads=1, chunk_tokens=4,
            shared_negatives=True)
        results.append((w_in, w_out))
    assert_array_equal(results[0][0], results[1][0])
    assert_array_equal(results[0][1], results[1][1])


def test_bad_tables_are_refused():
    indptr, ids = table()
    w_in, w_out = start_weights()
    with pytest.raises(ValueError, match="subword_ids must lie"):
        run(w_in, w_out, indptr, np.where(ids > 8, 10_000, ids).astype(np.int32),
            architecture="skipgram")
    with pytest.raises(ValueError, match="subword_indptr must have"):
        run(w_in, w_out, indptr[:-1].copy(), ids, architecture="skipgram")
    with pytest.raises(ValueError, match="given together"):
        run(w_in, w_out, indptr, None, architecture="skipgram")
