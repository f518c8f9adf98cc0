"""Bad input, all of it: bad parameters, documents, tokens, callbacks and files each
raise ValueError/TypeError naming the problem, before any work is done."""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from _corpora import one_shot, random_docs, small_model, tiny_docs

from skw2v import Word2VecNS
from skw2v._documents import LineCorpus

DOCS = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"] * 4


class NeverRead:
    """An iterable of documents that fails the test if it is read."""

    def __iter__(self):
        raise AssertionError("X was read before the parameters were validated")


# (parameter, bad value): a wrong type or a value out of range, for every parameter.
BAD_PARAMS = [
    ("vector_size", 0), ("vector_size", -3), ("vector_size", 2.5), ("vector_size", "10"),
    ("vector_size", True),
    ("window", 0), ("window", 1.0), ("window", None), ("window", False),
    ("sample_size", 0), ("sample_size", "5"), ("sample_size", 5.0),
    ("power", float("nan")), ("power", float("inf")), ("power", "0.75"), ("power", None),
    ("min_count", 0), ("min_count", 1.5), ("min_count", True),
    ("max_vocab_size", 0), ("max_vocab_size", 2.0), ("max_vocab_size", True),
    ("subsample", -1e-3), ("subsample", float("inf")), ("subsample", "high"),
    ("epochs", -1), ("epochs", 1.5), ("epochs", True),  # 0: the pretrained-only featurizer
    ("learning_rate", 0), ("learning_rate", -0.1), ("learning_rate", float("nan")),
    ("learning_rate", "fast"),
    ("min_learning_rate", -1e-4), ("min_learning_rate", 1.0), ("min_learning_rate", None),
    ("architecture", "sg"), ("architecture", 1),
    ("shrink_windows", "yes"), ("shrink_windows", None),
    ("loss", "hinge"), ("loss", None),
    ("noise", "zipf"), ("noise", 0.75),
    ("lowercase", "yes"), ("lowercase", None),
    ("token_pattern", 5), ("token_pattern", None), ("token_pattern", "("),
    ("token_pattern", r"(\w)(\w)"),
    ("tokenizer", "split"), ("tokenizer", 3),
    ("pooling", "maximum"), ("pooling", None),
    ("sif_components", -1), ("sif_components", 1.5), ("sif_components", "1"),
    ("sif_components", True), ("sif_components", None),
    ("n_jobs", 0), ("n_jobs", 1.5), ("n_jobs", "2"), ("n_jobs", True),
    ("random_state", -1), ("random_state", "seed"), ("random_state", 1.5),
    ("device", "gpu"), ("device", "cuda"), ("device", None),
    ("verbose", -1), ("verbose", "loud"),
    ("callbacks", "log"), ("callbacks", [1]), ("callbacks", print),
    ("init_vectors", 5), ("init_vectors", [0.5, 1.0]),
    ("shared_negatives", "yes"), ("shared_negatives", None),
    ("batch_window", "yes"), ("batch_window", None),
    ("update_vocabulary", "yes"), ("update_vocabulary", None),
    ("freeze_init_vectors", "yes"), ("freeze_init_vectors", 2),
    ("min_n", 0), ("min_n", 2.0), ("min_n", True),
    ("max_n", -1), ("max_n", 3.5), ("max_n", True), ("max_n", 2),  # 2 < min_n=3
    ("bucket", 0), ("bucket", 2**31), ("bucket", "big"), ("bucket", False),
]


def _value_pattern(value):
    return re.escape(repr(value))


def test_bad_param_table_covers_every_parameter():
    assert {name for name, _ in BAD_PARAMS} == set(Word2VecNS().get_params())


@pytest.mark.parametrize("method", ["fit", "fit_transform", "partial_fit"])
@pytest.mark.parametrize(("name", "value"), BAD_PARAMS)
def test_bad_parameter_raises_before_reading_X(name, value, method):
    est = Word2VecNS(**{name: value})
    with pytest.raises((ValueError, TypeError), match=rf"{name}.*{_value_pattern(value)}"):
        getattr(est, method)(NeverRead())


def test_bad_parameter_after_fit_is_caught_by_partial_fit():
    est = Word2VecNS(vector_size=4, min_count=1, epochs=1, n_jobs=1, random_state=0).fit(DOCS)
    est.set_params(window=0)
    with pytest.raises(ValueError, match=r"'window' parameter.*Got 0"):
        est.partial_fit(DOCS)
    est.set_params(window=2, vector_size=5)
    with pytest.raises(ValueError, match=r"vector_size=5 differs.*4 dimensions"):
        est.partial_fit(DOCS)


def test_token_pattern_ignored_with_tokenizer_warns():
    with pytest.warns(UserWarning, match="token_pattern is not used"):
        Word2VecNS(tokenizer=str.split, token_pattern=r"\w+", min_count=1, epochs=1,
                   vector_size=4, n_jobs=1).fit(DOCS)


def _series(values):
    pd = pytest.importorskip("pandas")
    return pd.Series(values, index=[10 + i for i in range(len(values))], dtype=object)


def _dataframe():
    pd = pytest.importorskip("pandas")
    return pd.DataFrame({"text": DOCS, "label": [0] * len(DOCS)})


def _pd_na():
    pd = pytest.importorskip("pandas")
    return pd.Series(["a b", pd.NA], dtype=object)


# (X, exception, message pattern): bad containers and bad documents.
BAD_X = [
    ("the cat sat", ValueError, r"single str; wrap it in a list"),
    (b"the cat sat", ValueError, r"single bytes"),
    (None, ValueError, r"iterable of documents, got None"),
    (5, TypeError, r"iterable of documents, got int"),
    ({"a": "b c"}, TypeError, r"got a dict"),
    (np.array([["a", "b"], ["c", "d"]]), ValueError, r"1-D.*shape \(2, 2\).*tolist"),
    (_dataframe, ValueError, r"DataFrame with 2 column.*select the text column"),
    (sp.csr_matrix(np.eye(3)), TypeError, r"sparse matrix"),
    (["a b", None, "c"], ValueError, r"X\[1\] is None"),
    (["a b", float("nan")], ValueError, r"X\[1\] is a missing value"),
    (lambda: _series(["a b", None]), ValueError, r"X\[1\] is None"),
    (_pd_na, ValueError, r"X\[1\] is a missing value"),
    (["a b", 3], TypeError, r"X\[1\] is a number"),
    (["a b", b"c d"], TypeError, r"X\[1\] is bytes; decode"),
    (["a b", {"c"}], TypeError, r"X\[1\] has type set"),
    ([["a", "b"], ["c", 3]], TypeError, r"X\[1\] contains the non-string token 3 of type int"),
    ([["a", None]], TypeError, r"X\[0\] contains the non-string token None"),
    ([["a", ["b"]]], TypeError, r"X\[0\] contains the non-string token \['b'\]"),
    ([np.array([1, 2])], TypeError, r"X\[0\] contains the non-string token 1"),
]


def _materialise(X):
    return X() if callable(X) else X


@pytest.mark.parametrize(("X", "exc", "match"), BAD_X)
def test_bad_X_in_fit(X, exc, match):
    with pytest.raises(exc, match=match):
        Word2VecNS(min_count=1, epochs=1, vector_size=4, n_jobs=1).fit(_materialise(X))


@pytest.mark.parametrize("method", ["transform", "score", "partial_fit"])
@pytest.mark.parametrize(("X", "exc", "match"), BAD_X)
def test_bad_X_after_fit(X, exc, match, method, fitted):
    with pytest.raises(exc, match=match):
        getattr(fitted, method)(_materialise(X))


@pytest.fixture(scope="module")
def fitted():
    return Word2VecNS(vector_size=4, min_count=1, epochs=1, n_jobs=1, random_state=0).fit(DOCS)


@pytest.mark.parametrize(
    ("X", "kwargs", "match"),
    [
        ([], {}, r"X is empty: it has no documents"),
        (iter([]), {}, r"X is empty"),
        (["", "  ", "!?"], {}, r"no tokens: 3 document\(s\), all empty after tokenization"),
        ([[], []], {}, r"no tokens: 2 document\(s\)"),
        (["a b c", "d e a"], {"min_count": 5},
         (r"vocabulary is empty: X has 5 distinct token\(s\), the most frequent seen "
          r"2 time\(s\), and min_count=5 removed them all")),
    ],
)
def test_empty_corpus_or_vocabulary(X, kwargs, match):
    with pytest.raises(ValueError, match=match):
        Word2VecNS(**{"epochs": 1, "vector_size": 4, **kwargs}).fit(X)


@pytest.mark.parametrize(
    ("tokenizer", "exc", "match"),
    [
        (lambda s: s, TypeError, r"tokenizer must return a list of strings; .*returned str"),
        (lambda s: 3, TypeError, r"tokenizer must return a list.*returned int"),
        (lambda s: [1, 2], TypeError, r"tokenizer returned .* non-string token 1"),
    ],
)
def test_bad_tokenizer_output(tokenizer, exc, match):
    with pytest.raises(exc, match=match):
        Word2VecNS(tokenizer=tokenizer, min_count=1, epochs=1).fit(DOCS)


def test_tokenizer_may_return_any_iterable_of_str():
    est = Word2VecNS(tokenizer=lambda s: iter(s.split()), min_count=1, epochs=1,
                     vector_size=4, n_jobs=1).fit(DOCS)
    assert "cat" in est.vocabulary_


def test_partial_fit_empty_or_all_oov(fitted):
    with pytest.raises(ValueError, match="X is empty"):
        fitted.partial_fit([])
    before = fitted.vectors_.copy()
    history = fitted.loss_history_.copy()
    with pytest.warns(UserWarning, match=r"none of the 2 document\(s\).*unchanged"):
        fitted.partial_fit(["zebra yak", "quokka"])
    np.testing.assert_array_equal(fitted.vectors_, before)
    np.testing.assert_array_equal(fitted.loss_history_, history)


def test_score_without_pairs(fitted):
    with pytest.raises(ValueError, match=r"no two in-vocabulary tokens within window=5"):
        fitted.score(["cat", "zebra dog", ""])


def test_lookup_errors(fitted):
    with pytest.raises(KeyError, match="'zebra' is not in the vocabulary"):
        fitted.get_vector("zebra")
    with pytest.raises(ValueError, match="topn must be a positive integer, got 0"):
        fitted.most_similar("cat", topn=0)
    with pytest.raises(ValueError, match=r"query vector must have shape \(4,\), got \(3,\)"):
        fitted.most_similar(np.zeros(3))


def test_no_warning_on_good_input():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Word2VecNS(vector_size=4, min_count=1, epochs=1, n_jobs=1).fit(DOCS).transform(DOCS)


# ----------------------------------------------- bad X: every message in full
@pytest.fixture(scope="module")
def small_fitted():
    return small_model(epochs=2).fit(random_docs())


# (X, exception type, regex the message must match). Each message names X or
# the offending document/token and what was given.
BAD_X_MESSAGES = [
    pytest.param("the cat sat", ValueError, r"got a single str; wrap it in a list", id="bare-str"),
    pytest.param(b"the cat sat", ValueError, r"got a single bytes", id="bare-bytes"),
    pytest.param(None, ValueError, r"X must be an iterable of documents, got None", id="None"),
    pytest.param({"a": "b c"}, TypeError, r"X must be an iterable of documents, got a dict",
                 id="dict"),
    pytest.param(42, TypeError, r"iterable of documents, got int", id="int"),
    pytest.param(3.5, TypeError, r"iterable of documents, got float", id="float"),
    pytest.param(float("nan"), TypeError, r"iterable of documents, got float", id="nan-as-X"),
    pytest.param(np.array("a b c"), ValueError, r"1-D iterable of documents, got an array of shape \(\)", id="0d-array"),
    pytest.param(np.array([["a", "b"], ["c", "d"]]), ValueError, r"1-D iterable.*shape \(2, 2\)",
                 id="2d-array"),
    pytest.param(sp.csr_matrix(np.eye(3)), TypeError, r"got a sparse matrix",
                 id="sparse-matrix"),
    pytest.param(["a b", None], ValueError, r"X\[1\] is None", id="None-doc"),
    pytest.param(["a b", float("nan")], ValueError, r"X\[1\] is a missing value \(nan\)",
                 id="nan-doc"),
    pytest.param(["a b", np.float64("nan")], ValueError, r"X\[1\] is a missing value",
                 id="np-nan-doc"),
    pytest.param(["a b", 7], TypeError, r"X\[1\] is a number \(7\)",
                 id="int-doc"),
    pytest.param(["a b", b"c d"], TypeError, r"X\[1\] is bytes; decode",
                 id="bytes-doc"),
    pytest.param([["a", 1]], TypeError, r"tokens must be strings.* 1 of type int",
                 id="int-token"),
    pytest.param([["a", float("nan")]], TypeError, r"tokens must be strings.*nan of type float",
                 id="nan-token"),
    pytest.param([["a", None]], TypeError, r"tokens must be strings.*None of type NoneType",
                 id="None-token"),
    pytest.param([[b"a", b"b"]], TypeError, r"tokens must be strings.*b'a' of type bytes",
                 id="bytes-token"),
    pytest.param([[["a", "b"], ["c"]]], TypeError, r"tokens must be strings.*of type list",
                 id="nested-list-token"),
    pytest.param([[{"a": 1}]], TypeError, r"tokens must be strings.*of type dict",
                 id="dict-token"),
]


@pytest.mark.parametrize("X, exc, match", BAD_X_MESSAGES)
def test_fit_rejects_bad_X(X, exc, match):
    with pytest.raises(exc, match=match):
        small_model().fit(X)


@pytest.mark.parametrize("X, exc, match", BAD_X_MESSAGES)
def test_transform_rejects_bad_X(small_fitted, X, exc, match):
    # Non-string tokens are errors in transform too, not silently skipped as unknown.
    with pytest.raises(exc, match=match):
        small_fitted.transform(X)


def test_dataframe_is_rejected_not_iterated_by_column_name():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"text": ["a b c", "b c d"]})
    with pytest.raises(ValueError, match=r"one column of documents, got a DataFrame"):
        small_model().fit(df)
    # The column itself (a Series) is the intended input and works.
    model = small_model().fit(df["text"])
    assert set(model.vocabulary_) == {"a", "b", "c", "d"}


@pytest.mark.parametrize(
    "X",
    [
        pytest.param([], id="empty-list"),
        pytest.param(np.array([], dtype=object), id="empty-array"),
        pytest.param(one_shot([]), id="empty-generator"),
    ],
)
def test_empty_corpus(X):
    with pytest.raises(ValueError, match=r"X is empty: it has no documents"):
        small_model().fit(X)


def test_all_documents_empty():
    with pytest.raises(ValueError, match=r"X has no tokens: 4 document\(s\), all empty"):
        small_model().fit(["", "   ", [], "!!! ..."])


def test_vocabulary_emptied_by_min_count():
    with pytest.raises(ValueError, match=r"vocabulary is empty.*3 distinct.*min_count=5"):
        small_model(min_count=5).fit(["a b c", "a"])


# -------------------------------------------------------- callbacks, files
CALLBACK_PARAMS = {"vector_size": 8, "epochs": 3, "min_count": 1, "n_jobs": 1, "random_state": 0}


def test_bad_callbacks():
    docs = tiny_docs()
    calls = []
    with pytest.raises(TypeError, match="callbacks must be a list of callables.*'print' of type str is not callable"):
        Word2VecNS(**CALLBACK_PARAMS, callbacks=[calls.append, "print"]).fit(docs)
    assert calls == []  # refused before training, not after an epoch
    with pytest.raises(ValueError, match="callbacks"):
        Word2VecNS(**CALLBACK_PARAMS, callbacks=print).fit(docs)

    def stop(est, info):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        Word2VecNS(**CALLBACK_PARAMS, callbacks=[stop]).fit(docs)


def test_line_corpus_missing_file(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        LineCorpus(tmp_path / "nope.txt")


def test_bare_string_suggests_path():
    with pytest.raises(ValueError, match="pathlib.Path"):
        Word2VecNS().fit("a b c")
