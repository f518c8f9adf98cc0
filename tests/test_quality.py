"""Rank-threshold quality checks on synthetic corpora with planted structure
(the style of gensim's model_sanity): they hold for hogwild runs too, where
exact vectors cannot be compared."""

import numpy as np
import pytest
from skw2v._openmp_helpers import openmp_enabled

from skw2v import Word2VecNS

PARAMS = {"vector_size": 24, "window": 4, "min_count": 1, "epochs": 4, "random_state": 0}
N_JOBS = [1, pytest.param(2, marks=pytest.mark.skipif(not openmp_enabled(),
                                                      reason="built without OpenMP"))]


@pytest.fixture(scope="module")
def fitted(topic_corpus):
    """Fits on the topic corpus, cached per parameter set for this module."""
    cache = {}

    def fit(**params):
        key = tuple(sorted(params.items()))
        if key not in cache:
            cache[key] = Word2VecNS(**{**PARAMS, **params}).fit(topic_corpus[0])
        return cache[key]

    return fit


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
@pytest.mark.parametrize("n_jobs", N_JOBS)
def test_topic_words_are_nearest_to_their_topic(fitted, topic_corpus, topic_score,
                                                architecture, n_jobs):
    _, topic_of = topic_corpus
    est = fitted(architecture=architecture, n_jobs=n_jobs)
    precision, nearest = topic_score(est.vectors_, est.index_to_token_, topic_of)
    assert precision >= 0.9, precision
    assert nearest >= 0.95, nearest
    # The public lookup agrees: most words' top neighbours share their topic.
    hits = [
        np.mean([topic_of.get(t) == topic_of[w] for t, _ in est.most_similar(w, topn=3)])
        for w in topic_of
    ]
    assert np.mean(hits) >= 0.9, np.mean(hits)


@pytest.mark.parametrize("loss", ["negative_sampling", "nce"])
def test_nce_loss_learns_topics_too(fitted, topic_corpus, topic_score, loss):
    est = fitted(architecture="skipgram", n_jobs=1, loss=loss)
    precision, _ = topic_score(est.vectors_, est.index_to_token_, topic_corpus[1])
    assert precision >= 0.9, precision


def test_untrained_vectors_fail_the_thresholds(fitted, topic_corpus, topic_score):
    # The control: a learning rate too small to move the vectors scores near
    # chance (m / V ~ 0.1), so the thresholds above measure training.
    est = fitted(architecture="skipgram", n_jobs=1, learning_rate=1e-6, min_learning_rate=1e-7,
                 subsample=0.0)
    precision, nearest = topic_score(est.vectors_, est.index_to_token_, topic_corpus[1])
    assert precision < 0.5 and nearest < 0.5, (precision, nearest)


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
@pytest.mark.parametrize("loss", ["negative_sampling", "nce"])
@pytest.mark.parametrize("n_jobs", N_JOBS)
def test_loss_decreases_over_epochs(fitted, architecture, loss, n_jobs):
    est = fitted(architecture=architecture, n_jobs=n_jobs, loss=loss)
    history = est.loss_history_
    assert history.shape == (PARAMS["epochs"],) and history.dtype == np.float64
    assert np.all(np.isfinite(history)) and np.all(history > 0)
    assert history[0] > 1.3 * history[-1], history
    # Never a real step up (a little noise allowed once learning has flattened).
    assert np.all(np.diff(history) < 0.02 * history[0]), history


def test_untrained_loss_stays_at_chance(fitted):
    # With w_out = 0 every logit is 0, so each positive costs log 2 and so does
    # each negative that is not the positive itself (those are skipped):
    # (1 + k (1 - E[q(centre)])) log 2. Without learning it cannot fall.
    est = fitted(architecture="skipgram", n_jobs=1, learning_rate=1e-6, min_learning_rate=1e-7,
                 subsample=0.0)
    counts = est.token_counts_.astype(np.float64)
    q = counts**est.power / (counts**est.power).sum()
    skipped = (counts / counts.sum()) @ q  # centres of positive pairs ~ token frequencies
    chance = (1 + est.sample_size * (1 - skipped)) * np.log(2.0)
    np.testing.assert_allclose(est.loss_history_, chance, rtol=1e-3)


def synonym_corpus(n_groups=8, n_synonyms=4, n_context=6, n_sentences=3000, seed=0):
    """Second-order structure: each group's synonyms never meet one another,
    but all appear amid the same group-specific context words."""
    rs = np.random.default_rng(seed)
    synonyms = [[f"g{g}s{k}" for k in range(n_synonyms)] for g in range(n_groups)]
    context = [[f"g{g}c{k}" for k in range(n_context)] for g in range(n_groups)]
    sentences = []
    for _ in range(n_sentences):
        g = rs.integers(n_groups)
        sent = [context[g][i] for i in rs.integers(n_context, size=6)]
        sent.insert(3, synonyms[g][rs.integers(n_synonyms)])
        sentences.append(sent)
    return sentences, {w: g for g, words in enumerate(synonyms) for w in words}


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
@pytest.mark.parametrize("n_jobs", N_JOBS)
def test_words_sharing_contexts_are_neighbours(topic_score, architecture, n_jobs):
    sentences, group_of = synonym_corpus()
    est = Word2VecNS(**{**PARAMS, "window": 3}, architecture=architecture,
                     n_jobs=n_jobs).fit(sentences)
    words = list(group_of)
    vectors = np.array([est.get_vector(w) for w in words])
    # Ranked among the synonyms of all groups: own-group synonyms come first.
    precision, nearest = topic_score(vectors, words, group_of)
    assert precision >= 0.9 and nearest >= 0.95, (precision, nearest)


@pytest.mark.parametrize("n_jobs", N_JOBS)
def test_shared_negatives_learn_topics_too(fitted, topic_corpus, topic_score, n_jobs):
    est = fitted(architecture="skipgram", n_jobs=n_jobs, shared_negatives=True)
    precision, nearest = topic_score(est.vectors_, est.index_to_token_, topic_corpus[1])
    assert precision >= 0.9 and nearest >= 0.95, (precision, nearest)
    # It is a different sampling scheme, not a no-op: the vectors differ.
    plain = fitted(architecture="skipgram", n_jobs=n_jobs)
    assert not np.allclose(est.vectors_, plain.vectors_)


def test_device_auto_falls_back_to_cpu_without_gpu(topic_corpus):
    from skw2v._cuda import gpu_available

    if gpu_available():
        pytest.skip("a GPU is present")
    est = Word2VecNS(**PARAMS, n_jobs=1, device="auto").fit(topic_corpus[0][:200])
    assert est.device_ == "cpu"
    assert isinstance(est.vectors_, np.ndarray)
    with pytest.raises(ValueError, match="device='cuda' was requested"):
        Word2VecNS(**PARAMS, device="cuda").fit(topic_corpus[0][:200])
