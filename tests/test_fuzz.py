"""Property tests: random small corpora and parameters never crash the kernel,
and every output is finite and correctly shaped.

The only acceptable failure of fit is the documented ValueError for a corpus
with no usable token (empty, or every word below min_count).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skw2v import Word2VecNS

# A small alphabet so that words repeat (vocabularies of a few to ~40 words),
# with non-ASCII and astral-plane characters mixed in.
WORDS = [f"w{i}" for i in range(30)] + ["é", "ß", "ж", "λ", "中", "𝔘", "😀", "a-b", "_", "9"]

token_lists = st.lists(st.lists(st.sampled_from(WORDS), max_size=40), max_size=25)
strings = st.lists(
    st.lists(st.sampled_from(WORDS + [" ", "  ", ".", ",", "\n"]), max_size=40).map("".join),
    max_size=25,
)

params = st.fixed_dictionaries(
    {
        "vector_size": st.integers(1, 24),
        "window": st.integers(1, 6),
        "sample_size": st.integers(1, 6),
        "power": st.sampled_from([-0.5, 0.0, 0.75, 1.0, 2.0]),
        "min_count": st.integers(1, 3),
        "max_vocab_size": st.one_of(st.none(), st.integers(1, 20)),
        "subsample": st.sampled_from([0.0, 1e-5, 1e-3, 0.1]),
        "epochs": st.integers(1, 3),
        "learning_rate": st.sampled_from([0.001, 0.025, 0.1]),
        "architecture": st.sampled_from(["skipgram", "cbow"]),
        "shrink_windows": st.booleans(),
        "loss": st.sampled_from(["negative_sampling", "nce"]),
        "noise": st.sampled_from(["unigram", "log_uniform"]),
        "pooling": st.sampled_from(["mean", "tfidf", "sif"]),
        "n_jobs": st.sampled_from([1, 2]),
        "random_state": st.integers(0, 2**31 - 1),
    }
)

FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _kept_words(docs, model_params):
    """Vocabulary the estimator must keep for token-list documents."""
    counts = {}
    for doc in docs:
        for t in doc:
            counts[t] = counts.get(t, 0) + 1
    kept = [t for t, c in counts.items() if c >= model_params["min_count"]]
    if model_params["max_vocab_size"] is not None:
        kept = sorted(kept, key=lambda t: (-counts[t], t))[: model_params["max_vocab_size"]]
    return counts, set(kept)


def _check_fitted(model, docs, p):
    n_vocab = len(model.vocabulary_)
    d = p["vector_size"]
    assert model.vectors_.shape == model.output_vectors_.shape == (n_vocab, d)
    assert model.vectors_.dtype == np.float32
    assert np.isfinite(model.vectors_).all() and np.isfinite(model.output_vectors_).all()
    assert model.loss_history_.shape == (p["epochs"],)
    assert np.isfinite(model.loss_history_).all() and (model.loss_history_ >= 0).all()
    assert model.idf_.shape == model.token_counts_.shape == (n_vocab,)
    assert np.isfinite(model.idf_).all()
    out = model.transform(docs)
    assert out.shape == (len(docs), d) and out.dtype == np.float32
    assert np.isfinite(out).all()
    token = model.index_to_token_[0]
    sims = model.most_similar(token, topn=5)
    assert len(sims) == min(5, n_vocab - 1)
    assert all(t != token and -1.0001 <= s <= 1.0001 for t, s in sims)


@FUZZ
@given(docs=token_lists, p=params)
def test_fit_transform_token_lists(docs, p):
    counts, kept = _kept_words(docs, p)
    model = Word2VecNS(**p)
    if not kept:
        with pytest.raises(ValueError, match="no tokens|vocabulary is empty"):
            model.fit(docs)
        return
    model.fit(docs)
    assert set(model.vocabulary_) == kept
    assert [counts[t] for t in model.index_to_token_] == model.token_counts_.tolist()
    _check_fitted(model, docs, p)


@FUZZ
@given(docs=strings, p=params)
def test_fit_transform_strings(docs, p):
    model = Word2VecNS(**p)
    try:
        model.fit(docs)
    except ValueError as exc:
        assert "no tokens" in str(exc) or "vocabulary is empty" in str(exc)
        return
    _check_fitted(model, docs, p)


@settings(max_examples=25, deadline=None)
@given(docs=st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=40), min_size=1,
                     max_size=25),
       p=params)
def test_single_thread_fit_is_reproducible(docs, p):
    p = dict(p, min_count=1, max_vocab_size=None, n_jobs=1)
    a = Word2VecNS(**p).fit(docs)
    b = Word2VecNS(**p).fit(docs)
    np.testing.assert_array_equal(a.vectors_, b.vectors_)
    np.testing.assert_array_equal(a.loss_history_, b.loss_history_)
