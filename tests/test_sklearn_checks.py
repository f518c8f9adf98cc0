"""scikit-learn conformance.

``check_estimator`` skips string-input estimators entirely, so the data-free
API checks are called one by one, and the checks that need data are
rewritten here with text documents (same assertions as sklearn's versions).
"""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.utils import estimator_checks as ec
from sklearn.utils.validation import check_is_fitted

from skw2v import Word2VecNS

ESTIMATORS = [
    Word2VecNS(),
    Word2VecNS(architecture="cbow", loss="nce", pooling="tfidf", n_jobs=1, random_state=0),
    Word2VecNS(noise="log_uniform", pooling="sif", tokenizer=str.split, max_vocab_size=10,
               random_state=np.random.RandomState(1)),
    Word2VecNS(pooling="mean_max", sif_components=2, n_jobs=1, random_state=0),
]
IDS = ["default", "cbow-nce-tfidf", "loguniform-sif-tokenizer", "mean_max"]

# Checks that need no data (or fail on parameters before any data is read).
DATA_FREE_CHECKS = [
    ec.check_estimator_cloneable,
    ec.check_estimator_repr,
    ec.check_no_attributes_set_in_init,
    ec.check_parameters_default_constructible,
    ec.check_get_params_invariance,
    ec.check_set_params,
    ec.check_do_not_raise_errors_in_init_or_set_params,
    ec.check_estimator_tags_renamed,
    ec.check_valid_tag_types,
    ec.check_mixin_order,
    ec.check_param_validation,  # every parameter, fit / fit_transform / partial_fit
    ec.check_transformers_unfitted,
    ec.check_get_feature_names_out_error,
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
@pytest.mark.parametrize("check", DATA_FREE_CHECKS, ids=lambda c: c.__name__)
def test_sklearn_data_free_check(estimator, check):
    check(type(estimator).__name__, clone(estimator))


# ---------------------------------------------------------------- text data
DOCS = [
    "the quick brown fox jumps over the lazy dog",
    "a lazy dog sleeps in the sun",
    "the fox and the dog are friends",
    "quick thinking saves the day",
    "the sun rises over the hills",
] * 6
SMALL = {"vector_size": 6, "window": 2, "min_count": 1, "epochs": 2, "n_jobs": 1,
         "random_state": 0}


def _text_estimators():
    # An int random_state: fitting draws from a RandomState instance, which changes it.
    return [clone(e).set_params(vector_size=6, min_count=1, epochs=2, random_state=0)
            for e in ESTIMATORS]


def _fitted_attributes(est):
    return {k: v for k, v in vars(est).items() if k.endswith("_") and not k.startswith("__")}


@pytest.mark.parametrize("estimator", _text_estimators(), ids=IDS)
def test_fit_returns_self_and_marks_fitted(estimator):
    est = clone(estimator)
    with pytest.raises(Exception, match="not fitted"):
        check_is_fitted(est)
    assert est.fit(DOCS) is est
    check_is_fitted(est)
    assert est.partial_fit(DOCS) is est


@pytest.mark.parametrize("estimator", _text_estimators(), ids=IDS)
def test_fit_does_not_change_or_add_params(estimator):
    # sklearn's check_estimators_overwrite_params and check_dont_overwrite_parameters.
    est = clone(estimator)
    before = {k: joblib.hash(v) for k, v in est.get_params().items()}
    public_before = set(vars(est))
    est.fit(DOCS)
    assert {k: joblib.hash(v) for k, v in est.get_params().items()} == before
    added = set(vars(est)) - public_before
    assert added and all(k.endswith("_") or k.startswith("_") for k in added)
    assert not [k for k in added if k.startswith("_") and not k.startswith("__")]


@pytest.mark.parametrize("estimator", _text_estimators(), ids=IDS)
def test_transform_and_score_leave_dict_unchanged(estimator):
    est = clone(estimator).fit(DOCS)
    before = {k: joblib.hash(v) for k, v in vars(est).items()}
    est.transform(DOCS)
    est.score(DOCS)
    est.get_feature_names_out()
    assert {k: joblib.hash(v) for k, v in vars(est).items()} == before


def test_fit_idempotent_and_deterministic_with_one_thread():
    est = Word2VecNS(**SMALL)
    first = est.fit(DOCS).transform(DOCS).copy()
    vectors = est.vectors_.copy()
    # Refit on other data then on the same data: nothing carries over.
    est.fit(DOCS[:7] + ["completely different words here"] * 3)
    np.testing.assert_array_equal(est.fit(DOCS).transform(DOCS), first)
    np.testing.assert_array_equal(est.vectors_, vectors)
    np.testing.assert_array_equal(clone(est).fit(DOCS).vectors_, vectors)
    other_seed = Word2VecNS(**{**SMALL, "random_state": 1}).fit(DOCS)
    assert not np.array_equal(other_seed.vectors_, vectors)


def test_clone_and_params_round_trip():
    est = Word2VecNS(**SMALL, pooling="sif", tokenizer=str.split).fit(DOCS)
    cloned = clone(est)
    assert cloned.get_params() == est.get_params()
    assert not hasattr(cloned, "vectors_")
    params = est.get_params()
    fresh = Word2VecNS().set_params(**params)
    assert fresh.get_params() == params
    assert repr(fresh) == repr(est)


def test_fit_and_score_accept_y():
    # check_fit_score_takes_y / check_requires_y_none, with text.
    est = Word2VecNS(**SMALL)
    y = np.arange(len(DOCS)) % 2
    est.fit(DOCS, y)
    est.fit(DOCS, None)
    assert est.fit_transform(DOCS, y).shape == (len(DOCS), 6)
    assert np.isfinite(est.score(DOCS, y))
    est.partial_fit(DOCS, y)


def test_transform_is_per_document():
    # check_methods_subset_invariance and check_methods_sample_order_invariance.
    est = Word2VecNS(**SMALL).fit(DOCS)
    full = est.transform(DOCS)
    idx = np.random.default_rng(0).permutation(len(DOCS))
    np.testing.assert_array_equal(est.transform([DOCS[i] for i in idx]), full[idx])
    np.testing.assert_array_equal(est.transform(DOCS[3:9]), full[3:9])


def test_fit_transform_equals_fit_then_transform():
    # check_transformer_general, for every pooling.
    for pooling in ("mean", "tfidf", "sif", "max", "mean_max"):
        est = Word2VecNS(**SMALL, pooling=pooling)
        np.testing.assert_array_equal(est.fit_transform(DOCS), clone(est).fit(DOCS).transform(DOCS))


def test_pickle_check_text():
    # check_estimators_pickle: same transform and score after a round trip.
    est = Word2VecNS(**SMALL).fit(DOCS)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.transform(DOCS), est.transform(DOCS))
    assert loaded.score(DOCS) == est.score(DOCS)


def test_readonly_memmap_input(tmp_path):
    # check_readonly_memmap_input: a read-only object array of strings and a
    # read-only memory-mapped fitted model (joblib) work.
    X = np.array(DOCS, dtype=object)
    X.setflags(write=False)
    est = Word2VecNS(**SMALL).fit(X)
    joblib.dump(est, tmp_path / "model.joblib")
    mapped = joblib.load(tmp_path / "model.joblib", mmap_mode="r")
    assert not mapped.vectors_.flags.writeable
    np.testing.assert_array_equal(mapped.transform(X), est.transform(DOCS))
    mapped.partial_fit(X)  # trains copies of the read-only arrays
    assert mapped.vectors_.flags.writeable


def test_pipeline_consistency():
    from sklearn.linear_model import LogisticRegression

    y = np.arange(len(DOCS)) % 2
    pipe = make_pipeline(Word2VecNS(**SMALL), LogisticRegression())
    pipe.fit(DOCS, y)
    est = Word2VecNS(**SMALL).fit(DOCS)
    np.testing.assert_array_equal(pipe[0].transform(DOCS), est.transform(DOCS))
    clf = LogisticRegression().fit(est.transform(DOCS), y)
    np.testing.assert_array_equal(pipe.predict(DOCS), clf.predict(est.transform(DOCS)))


def test_empty_data_messages():
    # check_estimators_empty_data_messages, with text.
    with pytest.raises(ValueError, match="X is empty"):
        Word2VecNS(**SMALL).fit([])
    est = Word2VecNS(**SMALL).fit(DOCS)
    assert est.transform([]).shape == (0, 6)
