"""Threads: n_jobs=1 reproducibility, hogwild quality, draws independent of
the thread count, long documents split over chunks, OpenMP reported."""

import io

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from skw2v._openmp_helpers import openmp_enabled

import skw2v
from skw2v import Word2VecNS, _core
from skw2v._alias import alias_table, kernel_thresholds
from skw2v._corpus import EncodedCorpus
from skw2v._plan import CHUNK_TOKENS, make_plan
from skw2v._training import run_epoch
from skw2v._vocab import keep_probabilities, noise_distribution

FAST = {"vector_size": 24, "window": 4, "min_count": 1, "epochs": 4}


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_n_jobs_1_is_bitwise_reproducible(topic_corpus, architecture):
    sentences, _ = topic_corpus
    fits = [
        Word2VecNS(**FAST, architecture=architecture, n_jobs=1, random_state=7).fit(sentences)
        for _ in range(2)
    ]
    assert fits[0].n_threads_ == 1
    assert_array_equal(fits[0].vectors_, fits[1].vectors_)
    assert_array_equal(fits[0].output_vectors_, fits[1].output_vectors_)
    assert_array_equal(fits[0].loss_history_, fits[1].loss_history_)
    # A RandomState instance seeded alike gives the same model.
    again = Word2VecNS(**FAST, architecture=architecture, n_jobs=1,
                       random_state=np.random.RandomState(7)).fit(sentences)
    assert_array_equal(again.vectors_, fits[0].vectors_)


def test_different_seeds_differ(topic_corpus):
    sentences, _ = topic_corpus
    a, b = (Word2VecNS(**FAST, n_jobs=1, random_state=s).fit(sentences) for s in (0, 1))
    assert a.index_to_token_.tolist() == b.index_to_token_.tolist()
    assert not np.array_equal(a.vectors_, b.vectors_)
    assert not np.array_equal(a.output_vectors_, b.output_vectors_)
    assert not np.array_equal(a.loss_history_, b.loss_history_)


def test_single_chunk_corpus_is_identical_for_any_n_jobs(tiny_corpus):
    # Threads are capped at the number of chunks: one chunk, one thread.
    a, b = (Word2VecNS(vector_size=8, min_count=1, epochs=3, n_jobs=n, random_state=3)
            .fit(tiny_corpus) for n in (1, 2))
    assert_array_equal(a.vectors_, b.vectors_)
    assert_array_equal(a.loss_history_, b.loss_history_)


@pytest.mark.skipif(not openmp_enabled(), reason="built without OpenMP")
@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_two_threads_same_vocabulary_similar_quality(topic_corpus, topic_score, architecture):
    sentences, topic_of = topic_corpus
    assert sum(map(len, sentences)) > 2 * CHUNK_TOKENS  # several chunks to share out
    one, two = (Word2VecNS(**FAST, architecture=architecture, n_jobs=n, random_state=0)
                .fit(sentences) for n in (1, 2))
    assert two.n_threads_ == 2
    assert two.index_to_token_.tolist() == one.index_to_token_.tolist()
    assert_array_equal(two.token_counts_, one.token_counts_)
    for est in (one, two):
        precision, nearest = topic_score(est.vectors_, est.index_to_token_, topic_of)
        assert precision >= 0.9 and nearest >= 0.95, (est.n_threads_, precision, nearest)
    # Hogwild changes the order of updates, not how well the loss goes down.
    np.testing.assert_allclose(two.loss_history_, one.loss_history_, rtol=0.05)


def test_draws_do_not_depend_on_the_thread_count():
    # Chunks whose words (and so rows) are disjoint, no negatives: nothing is
    # shared between threads, so with random window shrinking and subsampling
    # on, two threads must reproduce one thread bit for bit.
    rs = np.random.default_rng(0)
    n_chunks, per_chunk, words_per_chunk, dim = 6, 300, 10, 8
    tokens = np.concatenate([
        rs.integers(0, words_per_chunk, per_chunk) + c * words_per_chunk
        for c in range(n_chunks)
    ]).astype(np.int32)
    offsets = np.arange(0, len(tokens) + 1, per_chunk // 3, dtype=np.int64)
    bounds = np.arange(0, len(tokens) + 1, per_chunk, dtype=np.int64)
    first = (bounds[:-1] // (per_chunk // 3)).astype(np.int64)
    n_vocab = n_chunks * words_per_chunk
    keep = keep_probabilities(np.bincount(tokens, minlength=n_vocab), 1e-3)
    assert keep.min() < 0.9  # subsampling really draws
    accept, alias = alias_table(np.full(n_vocab, 1.0 / n_vocab))
    w0 = (rs.random((n_vocab, dim), dtype=np.float32) - 0.5) / dim
    results = []
    for n_threads in (1, 2):
        w_in, w_out = w0.copy(), w0[::-1].copy()
        stats = np.zeros((n_chunks, _core.N_STATS))
        _core.train_epoch(tokens, offsets, bounds, first, keep, kernel_thresholds(accept), alias,
                          np.zeros(n_vocab, np.float32), w_in, w_out, _core.ARCHITECTURES["skipgram"],
                          _core.LOSSES["negative_sampling"], 5, True, 0, 0.05, 0.001, 0,
                          len(tokens), 12345, n_threads, stats, np.zeros(n_chunks, np.uint8),
                          np.zeros(1, np.int32))
        results.append((w_in, w_out, stats))
    for a, b in zip(*results):
        assert_array_equal(a, b)
    assert not np.array_equal(results[0][0], w0)


def test_epoch_loop_passes_one_schedule_over_all_epochs(monkeypatch, tiny_corpus):
    # The rate decays once over all epochs (progress counted in corpus
    # positions), and every epoch gets its own seed.
    calls = []
    train_epoch = _core.train_epoch

    def spy(**kw):
        calls.append(dict(lr_start=kw["lr_start"], lr_end=kw["lr_end"],
                          offset=kw["progress_offset"], total=kw["progress_total"],
                          seed=kw["seed"], n_threads=kw["n_threads"], n_tokens=len(kw["tokens"])))
        return train_epoch(**kw)

    monkeypatch.setattr(_core, "train_epoch", spy)
    est = Word2VecNS(vector_size=4, min_count=2, epochs=3, learning_rate=0.05,
                     min_learning_rate=0.001, n_jobs=1, random_state=0).fit(tiny_corpus)
    n = calls[0]["n_tokens"]
    assert n == est.token_counts_.sum() == 15  # "the" 5 times; cat, sat, on, dog, a twice
    assert [c["offset"] for c in calls] == [0, n, 2 * n]
    assert all(c["total"] == 3 * n and c["n_threads"] == 1 for c in calls)
    assert all(c["lr_start"] == 0.05 and c["lr_end"] == 0.001 for c in calls)
    assert len({c["seed"] for c in calls}) == 3


# ----------------------------------------------------- one very long document
N_LONG = 1_000_000


@pytest.fixture(scope="module")
def long_document():
    """One sentence of a million Zipf-distributed tokens over 2,000 words."""
    rs = np.random.default_rng(0)
    n_vocab = 2000
    p = 1.0 / np.arange(1, n_vocab + 1)
    tokens = rs.choice(n_vocab, size=N_LONG, p=p / p.sum()).astype(np.int32)
    counts = np.bincount(tokens, minlength=n_vocab)
    assert counts.min() > 0
    return EncodedCorpus(tokens, np.array([0, N_LONG], dtype=np.int64), None), counts


def long_plan(corpus, counts, subsample, window=2):
    return make_plan(corpus, keep_probabilities(counts, subsample),
                     noise_distribution(counts, 0.75), noise_log_kq=np.zeros(len(counts)),
                     window=window, shrink_windows=False, sample_size=1)


@pytest.mark.parametrize("n_threads", [1, 2])
def test_million_token_document_trains_every_position(long_document, n_threads):
    corpus, counts = long_document
    plan = long_plan(corpus, counts, subsample=0)
    assert plan.n_chunks == N_LONG // CHUNK_TOKENS  # one sentence, cut into chunks
    dim, epochs, window = 4, 2, plan.window
    w_in = np.full((len(counts), dim), 0.01, dtype=np.float32)
    w_out = np.zeros_like(w_in)
    words = positives = 0.0
    for epoch in range(epochs):
        res = run_epoch(plan, w_in, w_out, lr_start=0.025, lr_end=1e-4,
                        progress_offset=epoch * N_LONG, progress_total=epochs * N_LONG,
                        seed=epoch + 1, n_threads=n_threads)
        words += res.words
        positives += res.positives
        assert np.isfinite(res.loss) and res.loss > 0
    assert words == epochs * N_LONG
    # Full windows everywhere but the document's two ends.
    assert positives == epochs * (2 * window * N_LONG - window * (window + 1))


def test_million_token_document_subsampling_keeps_the_predicted_share(long_document):
    corpus, counts = long_document
    plan = long_plan(corpus, counts, subsample=1e-3)
    keep = plan.keep_prob.astype(np.float64)[corpus.tokens]
    expected, sd = keep.sum(), np.sqrt((keep * (1 - keep)).sum())
    assert expected < 0.8 * N_LONG  # subsampling drops a real share
    w_in = np.full((len(counts), 4), 0.01, dtype=np.float32)
    res = run_epoch(plan, w_in, np.zeros_like(w_in), lr_start=0.025, lr_end=1e-4,
                    progress_offset=0, progress_total=N_LONG, seed=99, n_threads=2)
    assert abs(res.words - expected) < 5 * sd, (res.words, expected, sd)


# -------------------------------------------------------------------- OpenMP
def test_show_config_reports_openmp():
    buf = io.StringIO()
    skw2v.show_config(file=buf)
    text = buf.getvalue()
    if openmp_enabled():
        assert "OpenMP: enabled" in text
    else:
        assert "OpenMP: DISABLED" in text
    from skw2v._config import config

    assert config()["openmp"] is openmp_enabled()
