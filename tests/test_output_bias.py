"""``output_bias_``: the learned per-word output bias of ``loss="nce"``.

The kernel's bias update is checked against float64 references in
test_kernel_step.py and against ``NCELoss`` in test_losses.py; here, the
estimator's side: initial value, training, partial_fit, pickling and score
(warm starts with a bias: test_warm_start.py).
"""

import pickle

import numpy as np
import pytest

from _corpora import zipf_pair_docs

from skw2v import Word2VecNS
from skw2v._vocab import keep_probabilities
from skw2v._weights import initial_output_bias
from skw2v.word2vec_format import export_word2vec, import_word2vec


DOCS = zipf_pair_docs()
PARAMS = {"vector_size": 8, "min_count": 1, "epochs": 2, "n_jobs": 1, "random_state": 0, "window": 2}


@pytest.fixture(scope="module")
def nce():
    return Word2VecNS(loss="nce", **PARAMS).fit(DOCS)


def test_negative_sampling_has_a_zero_bias():
    model = Word2VecNS(**PARAMS).fit(DOCS)
    assert model.output_bias_.dtype == np.float32
    np.testing.assert_array_equal(model.output_bias_, np.zeros(len(model.vocabulary_)))


def test_nce_bias_starts_at_the_log_frequency_of_the_targets(nce):
    counts = nce.token_counts_
    kept = counts * keep_probabilities(counts, nce.subsample)
    start = initial_output_bias(counts, nce.loss, nce.subsample)
    assert start.dtype == np.float32 and start.shape == counts.shape
    np.testing.assert_allclose(start, np.log(kept / kept.sum()), rtol=1e-6)
    np.testing.assert_allclose(np.exp(start.astype(np.float64)).sum(), 1.0, rtol=1e-5)


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_nce_trains_the_bias(architecture):
    model = Word2VecNS(loss="nce", architecture=architecture, **PARAMS).fit(DOCS)
    start = initial_output_bias(model.token_counts_, model.loss, model.subsample)
    assert model.output_bias_.shape == (len(model.vocabulary_),)
    moved = np.abs(model.output_bias_ - start)
    assert np.isfinite(model.output_bias_).all() and moved.max() > 1e-3
    # Still mostly the word's log-frequency: the vectors carry the context part.
    assert np.corrcoef(model.output_bias_, np.log(model.token_counts_))[0, 1] > 0.9


def test_nce_is_reproducible_with_one_thread(nce):
    again = Word2VecNS(loss="nce", **PARAMS).fit(DOCS)
    np.testing.assert_array_equal(again.output_bias_, nce.output_bias_)
    np.testing.assert_array_equal(again.vectors_, nce.vectors_)


def test_partial_fit_continues_the_bias(nce):
    before = pickle.loads(pickle.dumps(nce))
    model = pickle.loads(pickle.dumps(nce))
    model.partial_fit(DOCS[:300])
    assert not np.array_equal(model.output_bias_, before.output_bias_)
    np.testing.assert_array_equal(nce.output_bias_, before.output_bias_)  # a copy was trained
    ns = Word2VecNS(**PARAMS).fit(DOCS).partial_fit(DOCS[:300])
    np.testing.assert_array_equal(ns.output_bias_, 0.0)


def test_pickle_keeps_the_bias_and_old_pickles_get_zeros(nce):
    loaded = pickle.loads(pickle.dumps(nce))
    np.testing.assert_array_equal(loaded.output_bias_, nce.output_bias_)
    assert loaded.score(DOCS[:50]) == nce.score(DOCS[:50])
    state = nce.__getstate__()
    del state["output_bias_"]  # as pickled before the bias existed
    old = Word2VecNS.__new__(Word2VecNS)
    old.__setstate__(state)
    np.testing.assert_array_equal(old.output_bias_, np.zeros(len(nce.vocabulary_)))
    assert old.output_bias_.dtype == np.float32


def test_score_uses_the_bias(nce):
    # The bias is part of an NCE model's logits: dropping it gives a worse
    # held-out likelihood.
    without = pickle.loads(pickle.dumps(nce))
    without.output_bias_ = np.zeros_like(nce.output_bias_)
    assert nce.score(DOCS[:200]) > without.score(DOCS[:200]) + 0.01


def test_imported_vectors_have_a_zero_bias(nce, tmp_path):
    export_word2vec(nce, tmp_path / "v.txt", binary=False)
    model = import_word2vec(tmp_path / "v.txt", loss="nce", n_jobs=1, random_state=0)
    np.testing.assert_array_equal(model.output_bias_, np.zeros(len(nce.vocabulary_)))
    assert model.output_bias_.dtype == np.float32
    assert np.isfinite(model.score(DOCS[:50]))  # the format has no bias: score uses zeros


def _log_frequency_start(model):
    return initial_output_bias(model.token_counts_, "nce", Word2VecNS().subsample)


def test_partial_fit_after_switching_to_nce_starts_the_bias_like_fit():
    model = Word2VecNS(**PARAMS).fit(DOCS)
    model.set_params(loss="nce", learning_rate=1e-12, min_learning_rate=1e-12)
    model.partial_fit(DOCS)
    np.testing.assert_allclose(model.output_bias_, _log_frequency_start(model), atol=1e-6)
