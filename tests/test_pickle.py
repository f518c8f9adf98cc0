"""Pickling: plain state, version warning, identical transforms in a fresh process."""

import pickle
import warnings

import numpy as np
import pytest
from _corpora import SMALL, small_labelled_docs
from _subprocess import run_python

import skw2v
from skw2v import Word2VecNS
from skw2v._estimator import InconsistentVersionWarning

DOCS, LABELS = small_labelled_docs()


@pytest.fixture(scope="module")
def model():
    return Word2VecNS(**SMALL).fit(DOCS)


def _plain(obj):
    if isinstance(obj, np.ndarray):
        return obj.dtype != object or all(type(x) is str for x in obj)
    if isinstance(obj, dict):
        return all(_plain(k) and _plain(v) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return all(_plain(x) for x in obj)
    return obj is None or type(obj) in (bool, int, float, str)


def test_pickle_round_trip(model):
    blob = pickle.dumps(model)
    state = model.__getstate__()
    assert state["_skw2v_version"] == skw2v.__version__
    assert all(_plain(v) for v in state.values()), {k: type(v) for k, v in state.items()}
    # Only the model: two (V, d) float32 matrices dominate; no corpus is stored.
    n_vocab, dim = model.vectors_.shape
    assert len(blob) < 2 * n_vocab * dim * 4 + 60 * n_vocab + 4000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = pickle.loads(blob)
    assert loaded.vocabulary_ == model.vocabulary_
    assert loaded.get_params() == model.get_params()
    for name in ("vectors_", "output_vectors_", "idf_", "token_counts_", "loss_history_"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(model, name))
    np.testing.assert_array_equal(loaded.transform(DOCS), model.transform(DOCS))
    assert loaded.score(DOCS) == model.score(DOCS)
    loaded.partial_fit(DOCS[:10])  # still trainable


def test_unpickle_other_version_warns(model):
    state = model.__getstate__()
    state["_skw2v_version"] = "0.0.1"
    est = Word2VecNS.__new__(Word2VecNS)
    with pytest.warns(InconsistentVersionWarning, match=r"from skw2v version 0.0.1 when "
                      rf"using version {skw2v.__version__}"):
        est.__setstate__(state)
    np.testing.assert_array_equal(est.transform(DOCS[:3]), model.transform(DOCS[:3]))


def test_pickle_identical_in_fresh_process(model, tmp_path):
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(model))
    np.save(tmp_path / "expected.npy", model.transform(DOCS))
    (tmp_path / "docs.txt").write_text("\n".join(DOCS))
    out = run_python(f"""
        import pickle, warnings
        import numpy as np
        warnings.simplefilter("error")
        model = pickle.loads(open({str(tmp_path / "model.pkl")!r}, "rb").read())
        docs = open({str(tmp_path / "docs.txt")!r}).read().split("\\n")
        got = model.transform(docs)
        expected = np.load({str(tmp_path / "expected.npy")!r})
        print(got.dtype, np.array_equal(got, expected))
    """)
    assert out.split() == ["float32", "True"]
