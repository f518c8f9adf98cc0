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


# ------------------------------------------- SIF common components, max, mean_max
def _words(est, doc):
    return [est.vocabulary_[t] for t in doc.lower().split() if t in est.vocabulary_]


def _reference_max(est, docs):
    rows = []
    for doc in docs:
        ids = _words(est, doc)
        rows.append(est.vectors_[ids].max(axis=0) if ids else np.zeros(est.vector_size))
    return np.array(rows)


@pytest.mark.parametrize("k", [1, 3])
def test_sif_removal_matches_svd_reference(model, k):
    est = Word2VecNS(**{**SMALL, "pooling": "sif", "sif_components": k}).fit(DOCS)
    np.testing.assert_array_equal(est.vectors_, model.vectors_)  # learned after training
    # Arora et al.: X = SIF rows of the training documents, not centred; its first k
    # right singular vectors are removed from every row.
    X = _reference_pool(est, DOCS, "sif")
    _, s, vt = np.linalg.svd(X, full_matrices=False)
    assert est.sif_components_.shape == (k, 8) and est.sif_components_.dtype == np.float32
    signs = np.sign(np.sum(est.sif_components_ * vt[:k], axis=1))
    np.testing.assert_allclose(est.sif_components_, signs[:, None] * vt[:k], atol=2e-5)
    # each row signed so that its largest-magnitude entry is positive
    top = np.abs(est.sif_components_).argmax(axis=1)
    assert (est.sif_components_[np.arange(k), top] > 0).all()
    docs = DOCS[:7] + ["", "zebra quokka", "t0w1 zebra t0w1 the"]
    ref = _reference_pool(est, docs, "sif")
    expected = ref - ref @ vt[:k].T @ vt[:k]
    out = est.transform(docs)
    assert out.dtype == np.float32 and out.shape == (len(docs), 8)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-6 * np.abs(ref).max())
    assert not out[7].any() and not out[8].any()  # empty and all-OOV: still zero rows
    # The removal is what it says: the rows are orthogonal to the components.
    np.testing.assert_allclose(out @ vt[:k].T, 0, atol=1e-5 * np.abs(ref).max())
    np.testing.assert_array_equal(est.fit_transform(DOCS), est.transform(DOCS))


def test_sif_components_zero_and_prefix(model):
    est0 = Word2VecNS(**{**SMALL, "pooling": "sif", "sif_components": 0}).fit(DOCS)
    assert not hasattr(est0, "sif_components_")
    np.testing.assert_allclose(est0.transform(DOCS), _reference_pool(est0, DOCS, "sif"),
                               rtol=2e-5, atol=1e-7)
    # Components are nested: a model fit with 3 transforms with 1 as a model fit with 1.
    est3 = Word2VecNS(**{**SMALL, "pooling": "sif", "sif_components": 3}).fit(DOCS)
    est1 = Word2VecNS(**{**SMALL, "pooling": "sif", "sif_components": 1}).fit(DOCS)
    np.testing.assert_array_equal(est3.sif_components_[:1], est1.sif_components_)
    np.testing.assert_array_equal(est3.set_params(sif_components=1).transform(DOCS),
                                  est1.transform(DOCS))
    # ... and asking for more than fit learned fails, before reading X.
    with pytest.raises(ValueError, match=r"sif_components=2 but this model learned 1"):
        est1.set_params(sif_components=2).transform(iter([1]))
    est1.set_params(sif_components=1)
    # Every fit learns them whatever the pooling, so pooling can be switched after fit.
    np.testing.assert_array_equal(model.sif_components_, est1.sif_components_)
    np.testing.assert_array_equal(model.set_params(pooling="sif").transform(DOCS),
                                  est1.transform(DOCS))
    model.set_params(pooling="mean")


def test_sif_components_beyond_rank_are_zero():
    # Three distinct training documents span at most 3 of the 8 dimensions: the other
    # components are zero rows, and the training documents lose all their SIF signal.
    docs = ["a b c d", "c d e f", "a e f g h"] * 5
    est = Word2VecNS(**{**SMALL, "pooling": "sif", "sif_components": 8}).fit(docs)
    norms = np.linalg.norm(est.sif_components_, axis=1)
    np.testing.assert_allclose(norms[:3], 1, rtol=1e-5)
    np.testing.assert_array_equal(norms[3:], 0)
    assert np.abs(est.transform(docs)).max() < 1e-5 * np.abs(
        Word2VecNS(**{**SMALL, "pooling": "sif", "sif_components": 0}).fit(docs)
        .transform(docs)).max()


def test_sif_components_blocks_and_partial_fit(monkeypatch):
    import skw2v._pooling as pooling_module

    est = Word2VecNS(**{**SMALL, "pooling": "sif", "sif_components": 2}).fit(DOCS)
    # Blocks of 5 tokens: the second moment is accumulated over many blocks, documents
    # longer than a block included; same components, same transform.
    monkeypatch.setattr(pooling_module, "_BLOCK_TOKENS", 5)
    small_blocks = Word2VecNS(**{**SMALL, "pooling": "sif", "sif_components": 2}).fit(DOCS)
    np.testing.assert_allclose(small_blocks.sif_components_, est.sif_components_, atol=1e-6)
    # partial_fit trains on, and keeps the components learned by fit (documented).
    learned = est.sif_components_.copy()
    vectors = est.vectors_.copy()
    est.partial_fit(DOCS[:3])
    assert not np.array_equal(est.vectors_, vectors)
    np.testing.assert_array_equal(est.sif_components_, learned)


@pytest.mark.parametrize("block", [None, 7])
def test_max_and_mean_max_match_numpy(model, monkeypatch, block):
    import skw2v._pooling as pooling_module

    if block:  # documents straddle the blocks of the max
        monkeypatch.setattr(pooling_module, "_BLOCK_TOKENS", block)
    docs = DOCS[:9] + ["", "zebra quokka", "t0w1 zebra t0w1 the", "zebra", " ".join(DOCS[:3])]
    est = Word2VecNS(**{**SMALL, "pooling": "max"})
    vars(est).update({k: v for k, v in vars(model).items() if k.endswith("_")})
    out = est.transform(docs)
    expected = _reference_max(model, docs)
    assert out.dtype == np.float32 and out.shape == (len(docs), 8)
    np.testing.assert_array_equal(out, expected)
    assert not out[9].any() and not out[10].any() and not out[12].any()
    both = est.set_params(pooling="mean_max").transform(docs)
    assert both.dtype == np.float32 and both.shape == (len(docs), 16)
    np.testing.assert_allclose(both[:, :8], _reference_pool(model, docs, "mean"),
                               rtol=2e-5, atol=1e-7)
    np.testing.assert_array_equal(both[:, 8:], expected)


def test_max_pooling_of_a_long_document(model):
    doc = " ".join(DOCS) * 300  # about 1.5e5 tokens: several blocks of one document
    est = Word2VecNS(**{**SMALL, "pooling": "max"})
    vars(est).update({k: v for k, v in vars(model).items() if k.endswith("_")})
    np.testing.assert_array_equal(est.transform([doc, "t0w1"]),
                                  _reference_max(model, [doc, "t0w1"]))


@pytest.mark.parametrize("pooling", ["max", "mean_max", "sif"])
def test_fit_transform_equals_transform_and_names(pooling):
    pd = pytest.importorskip("pandas")
    est = Word2VecNS(**{**SMALL, "pooling": pooling})
    out = est.fit_transform(DOCS)
    np.testing.assert_array_equal(out, est.transform(DOCS))
    names = list(est.get_feature_names_out())
    expected = {"max": [f"word2vecns_max{i}" for i in range(8)],
                "mean_max": [f"word2vecns_mean{i}" for i in range(8)]
                + [f"word2vecns_max{i}" for i in range(8)],
                "sif": [f"word2vecns{i}" for i in range(8)]}[pooling]
    assert names == expected and len(names) == out.shape[1]
    frame = est.set_output(transform="pandas").transform(DOCS[:4])
    assert list(frame.columns) == expected and isinstance(frame, pd.DataFrame)


@pytest.mark.parametrize("pooling", ["sif", "max", "mean_max"])
def test_pickle_and_save_load_round_trip(tmp_path, pooling):
    import pickle

    import skw2v

    est = Word2VecNS(**{**SMALL, "pooling": pooling, "sif_components": 2}).fit(DOCS)
    docs = DOCS[:5] + ["", "zebra t0w1"]
    est.save(tmp_path / "m")
    for copy in (pickle.loads(pickle.dumps(est)), skw2v.load(tmp_path / "m")):
        assert copy.pooling == pooling and copy.sif_components == 2
        np.testing.assert_array_equal(copy.sif_components_, est.sif_components_)
        np.testing.assert_array_equal(copy.transform(docs), est.transform(docs))
        assert list(copy.get_feature_names_out()) == list(est.get_feature_names_out())


def test_models_from_before_sif_components_transform_as_before(tmp_path):
    import skw2v
    from skw2v._fitted import fitted_attributes
    from skw2v._persist import save_model

    est = Word2VecNS(**{**SMALL, "pooling": "sif"}).fit(DOCS)
    before = _reference_pool(est, DOCS[:5], "sif")  # no removal then
    state = est.__getstate__()
    del state["sif_components"], state["sif_components_"]
    old = Word2VecNS.__new__(Word2VecNS)
    old.__setstate__(state)
    assert old.sif_components == 0
    np.testing.assert_allclose(old.transform(DOCS[:5]), before, rtol=2e-5, atol=1e-7)
    params = {k: v for k, v in est.get_params().items() if k != "sif_components"}
    fitted = {k: v for k, v in fitted_attributes(est).items() if k != "sif_components_"}
    save_model(tmp_path / "old", "Word2VecNS", params, fitted)
    loaded = skw2v.load(tmp_path / "old")
    assert loaded.sif_components == 0
    np.testing.assert_allclose(loaded.transform(DOCS[:5]), before, rtol=2e-5, atol=1e-7)


def test_sif_components_bad_values():
    with pytest.raises(ValueError, match=r"sif_components=9 exceeds vector_size=8"):
        Word2VecNS(**{**SMALL, "sif_components": 9}).fit(DOCS)
    from skw2v.word2vec_format import model_from_vectors

    imported = model_from_vectors(["a", "b"], np.eye(2), pooling="sif")
    assert imported.sif_components == 0  # no documents to learn them from
    w = 1e-3 / (1e-3 + 0.5)  # equal counts: every word weighs the same
    np.testing.assert_allclose(imported.transform(["a b"]), [[w / 2, w / 2]], rtol=1e-6)
    with pytest.raises(ValueError, match=r"sif_components=1 but this model learned 0"):
        imported.set_params(sif_components=1).transform(["a b"])
