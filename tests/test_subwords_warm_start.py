"""Warm start of a subword model's n-gram rows (``init_vectors`` with ``max_n > 0``):
copied from a source with the same min_n / max_n / bucket (a fitted model, its
save file, a fastText .bin), a warning naming what differs otherwise, and
``freeze_init_vectors`` locking the own rows only."""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from test_subwords_fasttext import write_bin
from test_subwords_model import SMALL, planted_docs

from skw2v import Word2VecNS
from skw2v._fasttext_import import import_fasttext

# words the source never saw, in the families' contexts
NEW_DOCS = ["park road walking feet path", "kitchen food cooking pan oven",
            "canvas brush painting colour wall"] * 10


def vectors(model, words):
    return np.stack([model.get_vector(w) for w in words])


@pytest.fixture(scope="module")
def source():
    return Word2VecNS(**SMALL).fit(planted_docs())


def _kinds(source, tmp_path):
    path = tmp_path / "source.skw2v"
    source.save(path)
    return {"model": source, "path": str(path), "pickled": pickle.loads(pickle.dumps(source))}


@pytest.mark.parametrize("kind", ["model", "path", "pickled"])
def test_ngram_and_own_rows_are_copied(source, tmp_path, kind):
    init = _kinds(source, tmp_path)[kind]
    docs = planted_docs(50, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        featurizer = Word2VecNS(**{**SMALL, "epochs": 0, "init_vectors": init}).fit(docs)
    assert_array_equal(featurizer.ngram_vectors_, source.ngram_vectors_)
    rows = [source.vocabulary_[w] for w in featurizer.index_to_token_]
    assert_array_equal(featurizer.own_vectors_, source.own_vectors_[rows])
    assert_array_equal(featurizer.vectors_, source.vectors_[rows])
    # words outside both vocabularies get the source's n-gram vectors
    for w in ("walking", "cooking", "painting"):
        assert_array_equal(featurizer.get_vector(w), source.get_vector(w))
    assert_allclose(featurizer.transform(NEW_DOCS), source.transform(NEW_DOCS), rtol=1e-6)


def test_words_the_source_lacks_start_from_its_ngram_rows(source):
    # a learning rate so small that one epoch leaves every row where it started
    params = {**SMALL, "epochs": 1, "learning_rate": 1e-9, "min_learning_rate": 1e-12,
              "init_vectors": source}
    docs = planted_docs(100, seed=2) + NEW_DOCS
    warm = Word2VecNS(**params).fit(docs)
    assert "walking" in warm.vocabulary_ and "walking" not in source.vocabulary_
    assert_allclose(warm.ngram_vectors_, source.ngram_vectors_, atol=1e-7)
    known = [w for w in warm.index_to_token_ if w in source.vocabulary_]
    assert_allclose(vectors(warm, known), vectors(source, known), atol=1e-6)
    # the new word: its n-gram rows are the source's, its own row is random, so its
    # vector is near the source's n-gram vector of it and far from a cold start's
    cold = Word2VecNS(**{**params, "init_vectors": None}).fit(docs)
    near = np.linalg.norm(warm.get_vector("walking") - source.get_vector("walking"))
    far = np.linalg.norm(cold.get_vector("walking") - source.get_vector("walking"))
    assert near < far / 3


def test_first_epoch_loss_is_lower_than_with_random_ngram_rows(source):
    docs = planted_docs(200, seed=3) + NEW_DOCS
    params = {**SMALL, "epochs": 1, "init_vectors": source}
    copied = Word2VecNS(**params).fit(docs)
    with pytest.warns(UserWarning, match="bucket=5000"):
        whole_words_only = Word2VecNS(**{**params, "bucket": 4999}).fit(docs)
    cold = Word2VecNS(**{**params, "init_vectors": None}).fit(docs)
    assert copied.loss_history_[0] < whole_words_only.loss_history_[0]
    assert copied.loss_history_[0] < cold.loss_history_[0]


@pytest.mark.parametrize(("change", "named"), [
    ({"bucket": 4000}, r"bucket=5000 \(this model: 4000\)"),
    ({"min_n": 2}, r"min_n=3 \(this model: 2\)"),
    ({"max_n": 6}, r"max_n=5 \(this model: 6\)"),
])
def test_other_ngram_settings_warn_and_use_whole_words(source, change, named):
    docs = planted_docs(50, seed=1)
    with pytest.warns(UserWarning, match=named) as record:
        warm = Word2VecNS(**{**SMALL, **change, "epochs": 0, "init_vectors": source}).fit(docs)
    assert record[0].filename == __file__  # points at the call of fit
    assert not np.allclose(warm.ngram_vectors_[:100], source.ngram_vectors_[:100])
    # the whole-word vectors are the source's all the same
    assert_allclose(warm.vectors_, vectors(source, warm.index_to_token_),
                    rtol=1e-4, atol=1e-5)


def test_plain_model_from_subword_source_takes_whole_words_silently(source):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain = Word2VecNS(**{**SMALL, "max_n": 0, "epochs": 0,
                              "init_vectors": source}).fit(planted_docs(50, seed=1))
    assert_array_equal(plain.vectors_, vectors(source, plain.index_to_token_))


def test_frozen_own_rows_with_copied_ngram_rows(source):
    docs = planted_docs(100, seed=4)
    frozen = Word2VecNS(**{**SMALL, "epochs": 2, "init_vectors": source,
                           "freeze_init_vectors": True}).fit(docs)
    rows = [source.vocabulary_[w] for w in frozen.index_to_token_]
    assert frozen.frozen_rows_.all()
    assert_array_equal(frozen.own_vectors_, source.own_vectors_[rows])  # locked
    assert not np.allclose(frozen.ngram_vectors_, source.ngram_vectors_)  # trained


def test_fasttext_bin_rows_are_copied(tmp_path):
    words = ["walked", "walks", "naïve", "</s>"]
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((len(words) + 50, 6)).astype(np.float32)
    path = tmp_path / "m.bin"
    write_bin(path, words, [9, 7, 3, 20], inputs,
              rng.standard_normal((len(words), 6)).astype(np.float32), minn=3, maxn=5)
    reference = import_fasttext(path)
    docs = ["walked walks naïve </s>"] * 20
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warm = Word2VecNS(vector_size=6, min_count=1, epochs=0, n_jobs=1, lowercase=False,
                         token_pattern=r"\S+", min_n=3, max_n=5, bucket=50,
                         init_vectors=str(path)).fit(docs)
    assert_array_equal(warm.ngram_vectors_, inputs[4:])
    for w in ("walked", "walks", "naïve"):
        assert_array_equal(warm.own_vectors_[warm.vocabulary_[w]], inputs[words.index(w)])
    # fastText's vectors, "</s>" (no n-grams in fastText) and unseen words included
    for w in ("walked", "walks", "naïve", "</s>", "walking", "naïveté"):
        assert_allclose(warm.get_vector(w), reference.get_vector(w), rtol=1e-5, atol=1e-6)
    assert_allclose(warm.get_vector("</s>"), inputs[3], rtol=1e-5, atol=1e-6)
    with pytest.warns(UserWarning, match=r"bucket=50 \(this model: 60\)"):
        Word2VecNS(vector_size=6, min_count=1, epochs=0, n_jobs=1, lowercase=False,
                   min_n=3, max_n=5, bucket=60, init_vectors=str(path)).fit(docs)
