"""Thread safety: a fitted estimator answers from many Python threads at once
exactly as it does sequentially, separate estimators train concurrently
without disturbing each other, and fit releases the GIL while it trains."""

import threading
import time

import numpy as np
import pytest
import skw2v._core as core

from skw2v import Word2VecNS

N_THREADS = 8


def corpus(n_docs, n_words=300, length=30, seed=0):
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i}" for i in range(n_words)], dtype=object)
    return [words[rng.zipf(1.3, length) % n_words].tolist() for _ in range(n_docs)]


@pytest.fixture(scope="module")
def docs():
    return corpus(400)


@pytest.fixture(scope="module")
def fitted(docs):
    return Word2VecNS(vector_size=32, window=3, min_count=1, epochs=2, n_jobs=1,
                      random_state=0).fit(docs)


def run_in_threads(task, n_threads=N_THREADS):
    """Run task(i) in n threads released together; return results by i."""
    barrier = threading.Barrier(n_threads)
    results, errors = [None] * n_threads, []

    def target(i):
        try:
            barrier.wait()
            results[i] = task(i)
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


@pytest.mark.parametrize("pooling", ["mean", "tfidf", "sif"])
def test_transform_from_threads_matches_sequential(fitted, docs, pooling):
    model = fitted.set_params(pooling=pooling)
    batches = [docs[i::N_THREADS] for i in range(N_THREADS)]
    expected = [model.transform(b) for b in batches]
    for _ in range(3):
        got = run_in_threads(lambda i: model.transform(batches[i]))
        for e, g in zip(expected, got):
            np.testing.assert_array_equal(g, e)
    fitted.set_params(pooling="mean")


def test_most_similar_from_threads_matches_sequential(fitted):
    queries = list(fitted.index_to_token_[: 4 * N_THREADS])
    vector = fitted.vectors_[5] + 0.1
    expected = [fitted.most_similar(q, topn=7) for q in queries]
    expected_vec = fitted.most_similar(vector, topn=7)

    def task(i):
        mine = queries[i::N_THREADS]
        return [fitted.most_similar(q, topn=7) for q in mine], fitted.most_similar(vector, topn=7)

    for _ in range(3):
        got = run_in_threads(task)
        for i, (lists, from_vector) in enumerate(got):
            assert lists == expected[i::N_THREADS]
            assert from_vector == expected_vec


def test_score_from_threads_matches_sequential(fitted, docs):
    if not hasattr(fitted, "score"):
        pytest.skip("Word2VecNS.score is not available in this version")
    batches = [docs[i::N_THREADS][:10] for i in range(N_THREADS)]
    expected = [fitted.score(b) for b in batches]
    got = run_in_threads(lambda i: fitted.score(batches[i]))
    assert got == expected


def test_separate_fits_in_threads_match_sequential():
    """The kernel keeps no global state: concurrent fits (n_jobs=1 each) give
    bitwise the vectors of the same fits run one after the other."""
    corpora = [corpus(60, n_words=50, seed=s) for s in range(4)]

    def fit(i):
        return Word2VecNS(vector_size=16, window=3, min_count=1, epochs=2, n_jobs=1,
                          random_state=i, architecture=["skipgram", "cbow"][i % 2],
                          loss=["negative_sampling", "nce"][i // 2]).fit(corpora[i])

    expected = [fit(i) for i in range(4)]
    got = run_in_threads(fit, n_threads=4)
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(g.vectors_, e.vectors_)
        np.testing.assert_array_equal(g.loss_history_, e.loss_history_)


def test_fit_releases_the_gil(monkeypatch):
    """A pure-Python thread keeps running while the kernel trains.

    If the kernel held the GIL, the ticker would stall for the whole epoch.
    """
    spans = []
    train_epoch = core.train_epoch

    def timed_train_epoch(*args, **kwargs):
        start = time.perf_counter()
        try:
            return train_epoch(*args, **kwargs)
        finally:
            spans.append((start, time.perf_counter()))

    monkeypatch.setattr(core, "train_epoch", timed_train_epoch)

    ticks, stop = [], threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            sum(range(200))  # some bytecode between ticks

    # Large enough for a measurable epoch with the fastest SIMD clone.
    docs = corpus(4000, n_words=2000, length=100, seed=1)
    thread = threading.Thread(target=ticker)
    thread.start()
    try:
        Word2VecNS(vector_size=100, window=5, min_count=1, epochs=1, n_jobs=1,
                   subsample=0, random_state=0).fit(docs)
    finally:
        stop.set()
        thread.join()

    (start, end), = spans
    duration = end - start
    assert duration > 0.2, "epoch too short to tell"
    inside = np.array([start] + [t for t in ticks if start <= t <= end] + [end])
    longest_stall = np.diff(inside).max()
    assert longest_stall < 0.5 * duration, (longest_stall, duration)
    assert len(inside) > 100
