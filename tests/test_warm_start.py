"""Warm start (``init_vectors``): from a fitted model, a saved model, word2vec files,
gensim's KeyedVectors or a mapping; the NCE output bias travels only when learned."""

import numpy as np
import pytest
from _corpora import tiny_docs, zipf_pair_docs
from sklearn.base import clone

from skw2v import Word2VecNS
from skw2v._weights import initial_output_bias
from skw2v.word2vec_format import export_word2vec, import_word2vec


@pytest.fixture(scope="module")
def docs():
    return tiny_docs()


@pytest.fixture(scope="module")
def model(docs):
    return Word2VecNS(vector_size=10, epochs=2, min_count=1, n_jobs=1, random_state=0).fit(docs)


DOCS = zipf_pair_docs()
PARAMS = {"vector_size": 8, "min_count": 1, "epochs": 2, "n_jobs": 1, "random_state": 0, "window": 2}


@pytest.fixture(scope="module")
def nce_model():
    return Word2VecNS(loss="nce", **PARAMS).fit(DOCS)


def warm(init, docs, **params):
    """A fit that barely moves the vectors (tiny learning rate), started from ``init``."""
    base = {"vector_size": 10, "epochs": 1, "min_count": 1, "n_jobs": 1, "random_state": 7,
            "learning_rate": 1e-9, "min_learning_rate": 0.0, "init_vectors": init}
    return Word2VecNS(**{**base, **params}).fit(docs)


def test_init_vectors_from_fitted_model(model, docs):
    extra = docs + [["brand", "new", "words"]] * 3
    est = warm(model, extra)
    for word, row in model.vocabulary_.items():
        np.testing.assert_allclose(est.get_vector(word), model.vectors_[row], atol=1e-6)
        np.testing.assert_allclose(est.output_vectors_[est.vocabulary_[word]],
                                   model.output_vectors_[row], atol=1e-6)
    cold = warm(None, extra)
    # New words start at random, as without warm start.
    np.testing.assert_array_equal(est.get_vector("brand"), cold.get_vector("brand"))
    assert not np.allclose(cold.get_vector("w1"), model.get_vector("w1"), atol=1e-3)


def test_warm_start_continues_training(model, docs):
    est = Word2VecNS(vector_size=10, epochs=1, min_count=1, n_jobs=1, random_state=1,
                     learning_rate=0.01, init_vectors=model).fit(docs)
    cold = Word2VecNS(vector_size=10, epochs=1, min_count=1, n_jobs=1, random_state=1,
                      learning_rate=0.01).fit(docs)
    # Starting from trained vectors gives a lower loss than starting from scratch.
    assert est.loss_history_[0] < cold.loss_history_[0]


def test_init_vectors_sources(model, docs, tmp_path):
    mapping = {w: model.get_vector(w) for w in ["w1", "w2", "w3"]}
    est = warm(mapping, docs)
    np.testing.assert_allclose(est.get_vector("w2"), mapping["w2"], atol=1e-6)

    model.save(tmp_path / "m.skw2v")
    export_word2vec(model, tmp_path / "v.bin", binary=True)
    for path in (tmp_path / "m.skw2v", str(tmp_path / "v.bin")):
        est = warm(path, docs)
        np.testing.assert_allclose(est.vectors_[est.vocabulary_["w5"]], model.get_vector("w5"),
                                   atol=1e-6)

    # A path survives clone(), so warm starts work inside model selection.
    template = Word2VecNS(vector_size=10, epochs=1, min_count=1, n_jobs=1,
                          learning_rate=1e-9, min_learning_rate=0.0,
                          init_vectors=str(tmp_path / "m.skw2v"))
    est = clone(template).fit(docs)
    np.testing.assert_allclose(est.get_vector("w5"), model.get_vector("w5"), atol=1e-6)


def test_init_vectors_from_gensim_keyed_vectors(model, docs):
    KeyedVectors = pytest.importorskip("gensim.models").KeyedVectors
    kv = KeyedVectors(vector_size=10)
    kv.add_vectors(["w1", "w9", "absent"], np.ones((3, 10), np.float32) * [[1], [2], [3]])
    est = warm(kv, docs)
    np.testing.assert_allclose(est.get_vector("w9"), np.full(10, 2.0), atol=1e-6)


def test_init_vectors_errors(model, docs):
    with pytest.raises(ValueError, match="size 10 but vector_size=4; set vector_size=10"):
        warm(model, docs, vector_size=4)
    with pytest.raises(ValueError, match="unfitted Word2VecNS"):
        warm(clone(model), docs)
    with pytest.raises(TypeError, match="init_vectors must be"):
        warm(42, docs)
    with pytest.raises(ValueError, match="different sizes"):
        warm({"w1": [1.0, 2.0], "w2": [1.0]}, docs)
    with pytest.raises(ValueError, match="non-finite"):
        warm({"w1": [np.nan] * 10}, docs)
    with pytest.raises(FileNotFoundError):
        warm("/nonexistent/vectors.bin", docs)
    with pytest.warns(UserWarning, match="shares no word"):
        warm({"zzz": np.ones(10)}, docs)


# ------------------------------------------------ the NCE output bias
def test_warm_start_takes_the_bias_of_an_nce_model_only(nce_model):
    extra = DOCS + [["brand", "new", "words"]] * 3
    tiny = dict(PARAMS, learning_rate=1e-12, min_learning_rate=0.0)
    warm = Word2VecNS(loss="nce", init_vectors=nce_model, **tiny).fit(extra)
    for word, row in nce_model.vocabulary_.items():
        assert warm.output_bias_[warm.vocabulary_[word]] == pytest.approx(
            nce_model.output_bias_[row], abs=1e-6)
    fresh = initial_output_bias(warm.token_counts_, warm.loss, warm.subsample)
    assert warm.output_bias_[warm.vocabulary_["brand"]] == pytest.approx(
        fresh[warm.vocabulary_["brand"]], abs=1e-6)
    # A negative-sampling source has no bias to give: the fresh start is kept.
    ns = Word2VecNS(**PARAMS).fit(DOCS)
    warm_ns = Word2VecNS(loss="nce", init_vectors=ns, **tiny).fit(extra)
    np.testing.assert_allclose(warm_ns.output_bias_, fresh, atol=1e-6)


def test_warm_start_ignores_a_placeholder_zero_bias(nce_model, tmp_path):
    # Imported vectors declared NCE hold zeros, not a learned bias: the fit must
    # start its bias at the log-frequency, not copy the zeros.
    path = tmp_path / "v.txt"
    export_word2vec(nce_model, path)
    source = import_word2vec(path, loss="nce")
    assert not np.any(source.output_bias_)
    tiny = dict(PARAMS, learning_rate=1e-12, min_learning_rate=1e-12)
    model = Word2VecNS(loss="nce", init_vectors=source, **tiny).fit(DOCS)
    np.testing.assert_allclose(
        model.output_bias_,
        initial_output_bias(model.token_counts_, "nce", Word2VecNS().subsample), atol=1e-6)
    # ... while a learned bias is taken over
    model = Word2VecNS(loss="nce", init_vectors=nce_model, **tiny).fit(DOCS)
    np.testing.assert_allclose(model.output_bias_, nce_model.output_bias_, atol=1e-6)
