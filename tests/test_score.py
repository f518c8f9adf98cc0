"""score: the held-out log-likelihood against a reference, and what it prefers."""

import numpy as np
import pytest
from _corpora import SMALL, small_labelled_docs

from skw2v import Word2VecNS

DOCS, LABELS = small_labelled_docs()


@pytest.fixture(scope="module")
def model():
    return Word2VecNS(**SMALL).fit(DOCS)


def _reference_score(est, docs):
    """log p(c | w) by explicit loops over pairs and a float64 full softmax."""
    vin, vout = est.vectors_.astype(np.float64), est.output_vectors_.astype(np.float64)
    counts = est.token_counts_.astype(np.float64)
    q = counts**est.power / (counts**est.power).sum()
    t = est.subsample * counts.sum()
    keep = np.minimum((np.sqrt(counts / t) + 1) * t / counts, 1.0) if est.subsample else 1.0
    prior = np.log(q) - np.log(keep)
    total, n = 0.0, 0
    for doc in docs:
        ids = [est.vocabulary_[tok] for tok in doc.lower().split() if tok in est.vocabulary_]
        for i, w in enumerate(ids):
            logits = vout @ vin[w] + prior
            log_z = np.log(np.exp(logits - logits.max()).sum()) + logits.max()
            for j in range(max(0, i - est.window), min(len(ids), i + est.window + 1)):
                if j != i:
                    total += logits[ids[j]] - log_z
                    n += 1
    return total / n


@pytest.mark.parametrize("params", [{}, {"power": 0.0, "sample_size": 2},
                                    {"subsample": 0.0, "power": 1.0}, {"subsample": 0.05}])
def test_score_matches_reference(params):
    est = Word2VecNS(**{**SMALL, **params}).fit(DOCS)
    docs = DOCS[:20] + ["zebra t1w2 the zebra t1w3", "t2w1"]
    assert est.score(docs) == pytest.approx(_reference_score(est, docs), rel=1e-5)


def test_score_prefers_trained_vectors():
    train, held_out = DOCS[:60], DOCS[60:]
    trained = Word2VecNS(**{**SMALL, "epochs": 20, "subsample": 0}).fit(train)
    untrained = Word2VecNS(**{**SMALL, "epochs": 1, "learning_rate": 1e-6,
                              "min_learning_rate": 0, "subsample": 0}).fit(train)
    s_trained, s_untrained = trained.score(held_out), untrained.score(held_out)
    assert s_trained < 0 and s_untrained < 0
    # Untrained output vectors are ~0: the prediction is the noise distribution q.
    q = trained.token_counts_**0.75 / (trained.token_counts_**0.75).sum()
    assert s_untrained == pytest.approx(_pairs_mean_log(trained, held_out, q), abs=1e-3)
    assert s_trained > s_untrained + 0.3


def _pairs_mean_log(est, docs, q):
    total, n = 0.0, 0
    for doc in docs:
        ids = [est.vocabulary_[t] for t in doc.split() if t in est.vocabulary_]
        for i in range(len(ids)):
            for j in range(max(0, i - est.window), min(len(ids), i + est.window + 1)):
                if j != i:
                    total += np.log(q[ids[j]])
                    n += 1
    return total / n


def test_nce_score_has_no_noise_prior():
    est = Word2VecNS(**{**SMALL, "loss": "nce", "subsample": 0}).fit(DOCS)
    power_changed = Word2VecNS(**{**SMALL, "loss": "nce", "subsample": 0}).fit(DOCS)
    power_changed.set_params(power=0.0)  # the NCE score ignores q: same value
    assert est.score(DOCS) == pytest.approx(power_changed.score(DOCS), rel=1e-12)
