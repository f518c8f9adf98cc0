"""Word2VecNS as a transformer: inputs, pooling, score, partial_fit, threads, pickling."""

import os
import pickle
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from _corpora import labelled_topic_docs
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils import get_tags
from threadpoolctl import threadpool_info, threadpool_limits

import skw2v
from skw2v import Word2VecNS, _training
from skw2v._estimator import InconsistentVersionWarning
from skw2v._threads import _cpu_count, effective_n_threads

ROOT = Path(__file__).resolve().parents[1]


def topic_corpus(n_docs=90, seed=0):
    """Documents mixing one of three topics' words with shared filler words."""
    return labelled_topic_docs(n_docs, seed, topic_words=10, topic_picks=8,
                               filler=["the", "a", "of", "and", "to", "in"], filler_picks=4)


DOCS, LABELS = topic_corpus()
SMALL = {"vector_size": 8, "window": 3, "min_count": 1, "epochs": 2, "n_jobs": 1,
         "random_state": 0}


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


# -------------------------------------------------------------------- pooling
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
    est = Word2VecNS(**{**SMALL, "pooling": pooling}).fit(DOCS)
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


# ---------------------------------------------------------------------- score
def _reference_score(est, docs):
    """log p(c | w) by explicit loops over pairs and a float64 full softmax."""
    vin, vout = est.vectors_.astype(np.float64), est.output_vectors_.astype(np.float64)
    counts = est.token_counts_.astype(np.float64)
    q = counts**est.power / (counts**est.power).sum()
    t = est.subsample * counts.sum()
    keep = np.minimum((np.sqrt(counts / t) + 1) * t / counts, 1.0) if est.subsample else 1.0
    prior = np.log(q) - np.log(keep)
    total, n = 0.0, 0
    for doc in docs:
        ids = [est.vocabulary_[tok] for tok in doc.lower().split() if tok in est.vocabulary_]
        for i, w in enumerate(ids):
            logits = vout @ vin[w] + prior
            log_z = np.log(np.exp(logits - logits.max()).sum()) + logits.max()
            for j in range(max(0, i - est.window), min(len(ids), i + est.window + 1)):
                if j != i:
                    total += logits[ids[j]] - log_z
                    n += 1
    return total / n


@pytest.mark.parametrize("params", [{}, {"power": 0.0, "sample_size": 2},
                                    {"subsample": 0.0, "power": 1.0}, {"subsample": 0.05}])
def test_score_matches_reference(params):
    est = Word2VecNS(**{**SMALL, **params}).fit(DOCS)
    docs = DOCS[:20] + ["zebra t1w2 the zebra t1w3", "t2w1"]
    assert est.score(docs) == pytest.approx(_reference_score(est, docs), rel=1e-5)


def test_score_prefers_trained_vectors():
    train, held_out = DOCS[:60], DOCS[60:]
    trained = Word2VecNS(**{**SMALL, "epochs": 20, "subsample": 0}).fit(train)
    untrained = Word2VecNS(**{**SMALL, "epochs": 1, "learning_rate": 1e-6,
                              "min_learning_rate": 0, "subsample": 0}).fit(train)
    s_trained, s_untrained = trained.score(held_out), untrained.score(held_out)
    assert s_trained < 0 and s_untrained < 0
    # Untrained output vectors are ~0: the prediction is the noise distribution q.
    q = trained.token_counts_**0.75 / (trained.token_counts_**0.75).sum()
    assert s_untrained == pytest.approx(_pairs_mean_log(trained, held_out, q), abs=1e-3)
    assert s_trained > s_untrained + 0.3


def _pairs_mean_log(est, docs, q):
    total, n = 0.0, 0
    for doc in docs:
        ids = [est.vocabulary_[t] for t in doc.split() if t in est.vocabulary_]
        for i in range(len(ids)):
            for j in range(max(0, i - est.window), min(len(ids), i + est.window + 1)):
                if j != i:
                    total += np.log(q[ids[j]])
                    n += 1
    return total / n


def test_nce_score_has_no_noise_prior():
    est = Word2VecNS(**{**SMALL, "loss": "nce", "subsample": 0}).fit(DOCS)
    power_changed = Word2VecNS(**{**SMALL, "loss": "nce", "subsample": 0}).fit(DOCS)
    power_changed.set_params(power=0.0)  # the NCE score ignores q: same value
    assert est.score(DOCS) == pytest.approx(power_changed.score(DOCS), rel=1e-12)


# ---------------------------------------------------------------- partial_fit
def test_partial_fit_on_unfitted_is_fit(model):
    est = Word2VecNS(**SMALL).partial_fit(DOCS)
    np.testing.assert_array_equal(est.vectors_, model.vectors_)
    np.testing.assert_array_equal(est.output_vectors_, model.output_vectors_)


def test_partial_fit_continues_with_fixed_vocabulary(model):
    est = Word2VecNS(**SMALL).fit(DOCS[:45])
    vocab, counts, idf = dict(est.vocabulary_), est.token_counts_.copy(), est.idf_.copy()
    before = est.vectors_.copy()
    est.partial_fit(DOCS[45:] + ["brand new words only here"])
    assert est.vocabulary_ == vocab and "brand" not in est.vocabulary_
    np.testing.assert_array_equal(est.token_counts_, counts)
    np.testing.assert_array_equal(est.idf_, idf)
    assert len(est.loss_history_) == 2 * SMALL["epochs"]
    assert not np.array_equal(est.vectors_, before)
    # Reproducible call sequence with n_jobs=1, and each call draws new seeds.
    twin = Word2VecNS(**SMALL).fit(DOCS[:45]).partial_fit(DOCS[45:] + ["brand new words"])
    np.testing.assert_array_equal(twin.vectors_, est.vectors_)
    a = Word2VecNS(**SMALL).fit(DOCS).partial_fit(DOCS)
    b = Word2VecNS(**SMALL).fit(DOCS).partial_fit(DOCS).partial_fit(DOCS)
    assert not np.array_equal(a.vectors_, b.vectors_)


def test_partial_fit_learning_rate_schedule(monkeypatch):
    est = Word2VecNS(**{**SMALL, "epochs": 3, "learning_rate": 0.05,
                        "min_learning_rate": 0.001}).fit(DOCS)
    calls = []
    real = _training.run_epoch

    def spy(plan, w_in, w_out, **kw):
        calls.append((kw["lr_start"], kw["lr_end"], kw["progress_offset"],
                      kw["progress_total"], plan.n_tokens))
        return real(plan, w_in, w_out, **kw)

    monkeypatch.setattr("skw2v._training.run_epoch", spy)
    est.partial_fit(DOCS[:10])
    n = calls[0][4]
    assert n == sum(len(d.split()) for d in DOCS[:10])
    # Each call decays learning_rate -> min_learning_rate over its own epochs.
    assert calls == [(0.05, 0.001, e * n, 3 * n, n) for e in range(3)]


def test_partial_fit_zero_learning_rate_keeps_vectors(model):
    est = Word2VecNS(**SMALL).fit(DOCS)
    est.set_params(learning_rate=1e-30, min_learning_rate=0.0)
    est.partial_fit(DOCS)
    np.testing.assert_allclose(est.vectors_, model.vectors_, atol=1e-12)


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


def _run_python(code, env=None):
    full_env = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                         env=full_env, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_omp_num_threads_is_respected():
    out = _run_python("""
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


# ------------------------------------------------------------------- pickling
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
    out = _run_python(f"""
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
