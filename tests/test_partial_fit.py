"""partial_fit: continuing training with the vocabulary fixed."""

import numpy as np
import pytest
from _corpora import SMALL, small_labelled_docs

from skw2v import Word2VecNS, _training

DOCS, LABELS = small_labelled_docs()


@pytest.fixture(scope="module")
def model():
    return Word2VecNS(**SMALL).fit(DOCS)


def test_partial_fit_on_unfitted_is_fit(model):
    est = Word2VecNS(**SMALL).partial_fit(DOCS)
    np.testing.assert_array_equal(est.vectors_, model.vectors_)
    np.testing.assert_array_equal(est.output_vectors_, model.output_vectors_)


def test_partial_fit_continues_with_fixed_vocabulary(model):
    est = Word2VecNS(**SMALL).fit(DOCS[:45])
    vocab, counts, idf = dict(est.vocabulary_), est.token_counts_.copy(), est.idf_.copy()
    before = est.vectors_.copy()
    est.partial_fit(DOCS[45:] + ["brand new words only here"])
    assert est.vocabulary_ == vocab and "brand" not in est.vocabulary_
    np.testing.assert_array_equal(est.token_counts_, counts)
    np.testing.assert_array_equal(est.idf_, idf)
    assert len(est.loss_history_) == 2 * SMALL["epochs"]
    assert not np.array_equal(est.vectors_, before)
    # Reproducible call sequence with n_jobs=1, and each call draws new seeds.
    twin = Word2VecNS(**SMALL).fit(DOCS[:45]).partial_fit(DOCS[45:] + ["brand new words"])
    np.testing.assert_array_equal(twin.vectors_, est.vectors_)
    a = Word2VecNS(**SMALL).fit(DOCS).partial_fit(DOCS)
    b = Word2VecNS(**SMALL).fit(DOCS).partial_fit(DOCS).partial_fit(DOCS)
    assert not np.array_equal(a.vectors_, b.vectors_)


def test_partial_fit_learning_rate_schedule(monkeypatch):
    est = Word2VecNS(**{**SMALL, "epochs": 3, "learning_rate": 0.05,
                        "min_learning_rate": 0.001}).fit(DOCS)
    calls = []
    real = _training.run_epoch

    def spy(plan, w_in, w_out, **kw):
        calls.append((kw["lr_start"], kw["lr_end"], kw["progress_offset"],
                      kw["progress_total"], plan.n_tokens))
        return real(plan, w_in, w_out, **kw)

    monkeypatch.setattr("skw2v._training.run_epoch", spy)
    est.partial_fit(DOCS[:10])
    n = calls[0][4]
    assert n == sum(len(d.split()) for d in DOCS[:10])
    # Each call decays learning_rate -> min_learning_rate over its own epochs.
    assert calls == [(0.05, 0.001, e * n, 3 * n, n) for e in range(3)]


def test_partial_fit_zero_learning_rate_keeps_vectors(model):
    est = Word2VecNS(**SMALL).fit(DOCS)
    est.set_params(learning_rate=1e-30, min_learning_rate=0.0)
    est.partial_fit(DOCS)
    np.testing.assert_allclose(est.vectors_, model.vectors_, atol=1e-12)
