"""transform: the pooling schemes, the idf, feature names and set_output."""

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from _corpora import SMALL, small_labelled_docs

from skw2v import Word2VecNS

DOCS, LABELS = small_labelled_docs()


@pytest.fixture(scope="module")
def model():
    return Word2VecNS(**SMALL).fit(DOCS)


def _reference_pool(est, docs, pooling):
    p = est.token_counts_ / est.token_counts_.sum()
    rows = []
    for doc in docs:
        ids = [est.vocabulary_[t] for t in doc.lower().split() if t in est.vocabulary_]
        if not ids:
            rows.append(np.zeros(est.vector_size))
            continue
        vecs = est.vectors_[ids].astype(np.float64)
        if pooling == "mean":
            rows.append(vecs.mean(axis=0))
        elif pooling == "tfidf":
            w = est.idf_[ids]
            rows.append(w @ vecs / w.sum())
        else:
            w = 1e-3 / (1e-3 + p[ids])
            rows.append(w @ vecs / len(ids))
    return np.array(rows)


@pytest.mark.parametrize("pooling", ["mean", "tfidf", "sif"])
def test_pooling_matches_reference(model, pooling):
    # (sif without its common-component removal here: test_sif_removal_matches_svd_reference)
    est = Word2VecNS(**{**SMALL, "pooling": pooling, "sif_components": 0}).fit(DOCS)
    np.testing.assert_array_equal(est.vectors_, model.vectors_)  # pooling: transform only
    docs = DOCS[:5] + ["", "zebra quokka", "t0w1 zebra t0w1 the", " ".join(DOCS) * 200]
    out = est.transform(docs)
    assert out.dtype == np.float32 and out.shape == (len(docs), 8)
    expected = _reference_pool(est, docs, pooling)
    np.testing.assert_allclose(out[:-1], expected[:-1], rtol=2e-5, atol=1e-7)
    # No length cap: a 200k-token document is pooled whole (float32 sums over 2e5 terms).
    np.testing.assert_allclose(out[-1], expected[-1], rtol=0, atol=1e-3 * np.abs(expected).max())
    assert not out[5].any() and not out[6].any()  # empty and all-OOV documents: zero rows
    np.testing.assert_array_equal(est.fit_transform(DOCS), est.transform(DOCS))


def test_idf_matches_sklearn_tfidf(model):
    tfidf = TfidfVectorizer(token_pattern=r"(?u)\b\w+\b").fit(DOCS)
    expected = np.array([tfidf.idf_[tfidf.vocabulary_[t]] for t in model.index_to_token_])
    np.testing.assert_allclose(model.idf_, expected, rtol=1e-12)


def test_feature_names_and_set_output(model):
    pd = pytest.importorskip("pandas")
    names = model.get_feature_names_out()
    assert names.dtype == object and list(names) == [f"word2vecns{i}" for i in range(8)]
    X = pd.Series(DOCS[:6], index=[f"doc{i}" for i in range(6)])
    est = Word2VecNS(**SMALL).set_output(transform="pandas")
    frame = est.fit_transform(pd.Series(DOCS, index=np.arange(len(DOCS)) + 100))
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.index) == list(range(100, 100 + len(DOCS)))
    out = est.transform(X)
    assert list(out.columns) == list(names) and list(out.index) == list(X.index)
    np.testing.assert_array_equal(out.to_numpy(), model.transform(DOCS[:6]))
    assert isinstance(est.set_output(transform="default").transform(X), np.ndarray)
