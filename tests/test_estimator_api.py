"""Word2VecNS as a scikit-learn transformer: inputs, n_jobs and threads, tags, not fitted.

Pooling, score, partial_fit and pickling have their own files (test_pooling.py,
test_score.py, test_partial_fit.py, test_pickle.py).
"""

import numpy as np
import pytest
from _corpora import SMALL, small_labelled_docs
from _subprocess import run_python
from sklearn.exceptions import NotFittedError
from sklearn.utils import get_tags
from threadpoolctl import threadpool_info, threadpool_limits

from skw2v import Word2VecNS, _training
from skw2v._threads import _cpu_count, effective_n_threads

DOCS, LABELS = small_labelled_docs()


@pytest.fixture(scope="module")
def model():
    return Word2VecNS(**SMALL).fit(DOCS)


# --------------------------------------------------------------------- inputs
def _containers():
    pd = pytest.importorskip("pandas")
    return {
        "list": lambda: list(DOCS),
        "tuple": lambda: tuple(DOCS),
        "object array": lambda: np.array(DOCS, dtype=object),
        "str array": lambda: np.array(DOCS),
        "series": lambda: pd.Series(DOCS, index=np.arange(len(DOCS)) * 7),
        "generator": lambda: (d for d in DOCS),
        "token lists": lambda: [d.split() for d in DOCS],
        "token arrays": lambda: [np.array(d.split()) for d in DOCS],
        "token tuples": lambda: [tuple(d.split()) for d in DOCS],
    }


@pytest.mark.parametrize("kind", ["list", "tuple", "object array", "str array", "series",
                                  "generator", "token lists", "token arrays", "token tuples"])
def test_containers_give_identical_models(kind, model):
    make = _containers()[kind]
    est = Word2VecNS(**SMALL).fit(make())
    assert all(type(t) is str for t in est.index_to_token_)
    assert est.vocabulary_ == model.vocabulary_
    np.testing.assert_array_equal(est.vectors_, model.vectors_)
    np.testing.assert_array_equal(est.transform(make()), model.transform(DOCS))
    np.testing.assert_array_equal(est.fit_transform(make()), model.transform(DOCS))


def test_read_only_inputs(model):
    X = np.array(DOCS, dtype=object)
    X.flags.writeable = False
    tokens = [np.array(d.split()) for d in DOCS]
    for t in tokens:
        t.flags.writeable = False
    est = Word2VecNS(**SMALL).fit(X)
    np.testing.assert_array_equal(est.vectors_, model.vectors_)
    np.testing.assert_array_equal(est.transform(X), model.transform(DOCS))
    np.testing.assert_array_equal(est.transform(tokens), model.transform(DOCS))
    assert np.isfinite(est.score(X))
    est.partial_fit(X)


def test_tokenization_parameters():
    docs = ["The cat, the CAT!", "I saw a cat-dog."] * 3
    est = Word2VecNS(min_count=1, epochs=1, vector_size=4, n_jobs=1).fit(docs)
    # Default pattern: runs of word characters, one-letter words kept, punctuation dropped.
    assert set(est.vocabulary_) == {"the", "cat", "i", "saw", "a", "dog"}
    est = Word2VecNS(lowercase=False, min_count=1, epochs=1, vector_size=4, n_jobs=1).fit(docs)
    assert {"The", "the", "CAT", "I"} <= set(est.vocabulary_)
    est = Word2VecNS(token_pattern=r"[a-z]{3,}", min_count=1, epochs=1, vector_size=4,
                     n_jobs=1).fit(docs)
    assert set(est.vocabulary_) == {"the", "cat", "saw", "dog"}
    est = Word2VecNS(tokenizer=str.split, min_count=1, epochs=1, vector_size=4,
                     n_jobs=1).fit(docs)
    assert {"cat,", "cat!", "cat-dog."} <= set(est.vocabulary_)
    # Token lists are used as given: not lowercased, not split.
    est = Word2VecNS(min_count=1, epochs=1, vector_size=4, n_jobs=1).fit([["New York", "Is"]] * 3)
    assert set(est.vocabulary_) == {"New York", "Is"}


# -------------------------------------------------------------------- threads
def test_n_jobs_resolution():
    cpus = _cpu_count()
    assert effective_n_threads(1) == 1
    assert effective_n_threads(3) == 3
    assert effective_n_threads(-1) == cpus
    assert effective_n_threads(-cpus - 5) == 1
    assert 1 <= effective_n_threads(None) <= cpus
    with threadpool_limits(limits=1, user_api="openmp"):
        assert effective_n_threads(None) == 1
        assert Word2VecNS(**{**SMALL, "n_jobs": None}).fit(DOCS).n_threads_ == 1


def test_negative_n_jobs_respects_threadpool_limits():
    with threadpool_limits(limits=1, user_api="openmp"):
        assert effective_n_threads(-1) == 1


def test_omp_num_threads_is_respected():
    out = run_python("""
        from skw2v import Word2VecNS
        from skw2v._threads import effective_n_threads
        est = Word2VecNS(vector_size=4, min_count=1, epochs=1).fit(["a b c d"] * 5)
        print(effective_n_threads(None), est.n_threads_)
    """, env={"OMP_NUM_THREADS": "1"})
    assert out.split() == ["1", "1"]


def test_blas_limited_to_one_thread_during_training(monkeypatch):
    seen = []
    real = _training._core.train_epoch

    def spy(**kwargs):
        seen.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        return real(**kwargs)

    monkeypatch.setattr(_training._core, "train_epoch", spy)
    Word2VecNS(**{**SMALL, "n_jobs": 2}).fit(DOCS)
    assert seen and set(seen) == {1}


def test_tags():
    tags = get_tags(Word2VecNS())
    assert tags.input_tags.string and not tags.input_tags.two_d_array
    assert tags.non_deterministic
    assert get_tags(Word2VecNS(n_jobs=2)).non_deterministic
    assert not get_tags(Word2VecNS(n_jobs=1)).non_deterministic
    assert not tags.target_tags.required and tags.requires_fit


@pytest.mark.parametrize("method", ["transform", "score", "get_feature_names_out",
                                    "get_vector", "similarity", "most_similar"])
def test_not_fitted(method):
    args = {"transform": (DOCS,), "score": (DOCS,), "get_feature_names_out": (),
            "get_vector": ("the",), "similarity": ("the", "a"), "most_similar": ("the",)}
    with pytest.raises(NotFittedError):
        getattr(Word2VecNS(), method)(*args[method])
