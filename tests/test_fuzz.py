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
        with pytest.raises(ValueError, match="no tokens|vocabulary is empty|X is empty"):
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
        assert any(m in str(exc) for m in ("no tokens", "vocabulary is empty", "X is empty"))
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


# ------------------------------------------------------------- the kernel
def _kernel_inputs_valid(tokens, offsets, bounds, first, alias, n_vocab):
    """The consistency the kernel needs to stay in bounds (its documented contract)."""
    n, n_sent, n_chunks = len(tokens), len(offsets) - 1, len(bounds) - 1
    if n_sent < 1 or n_chunks < 1 or len(first) != n_chunks:
        return False
    if offsets[0] != 0 or offsets[-1] != n or np.any(np.diff(offsets) < 0):
        return False
    if bounds[0] < 0 or bounds[-1] > n or np.any(np.diff(bounds) < 0):
        return False
    for c in range(n_chunks):
        if bounds[c + 1] > bounds[c] and not (
                0 <= first[c] < n_sent and offsets[first[c]] <= bounds[c]):
            return False
    return bool(np.all((tokens >= 0) & (tokens < n_vocab))
                and np.all((alias >= 0) & (alias < n_vocab)))


@st.composite
def kernel_case(draw):
    n_vocab = draw(st.integers(1, 6))
    n = draw(st.integers(0, 80))
    tokens = np.array(draw(st.lists(st.integers(0, n_vocab - 1), min_size=n, max_size=n)),
                      dtype=np.int32)
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=6)))
    offsets = np.array([0] + cuts + [n], dtype=np.int64)
    chunk = draw(st.integers(1, 30))
    bounds = np.arange(0, n + chunk, chunk, dtype=np.int64)
    bounds[-1] = n
    if len(bounds) < 2:
        bounds = np.array([0, n], dtype=np.int64)
    first = np.clip(np.searchsorted(offsets, bounds[:-1], side="right") - 1, 0,
                    len(offsets) - 2).astype(np.int64)
    alias = np.arange(n_vocab, dtype=np.int32)[::-1].copy()
    # Corrupt one array in one place, or nothing.
    target = draw(st.sampled_from(["none", "tokens", "offsets", "bounds", "first", "alias"]))
    arrays = {"tokens": tokens, "offsets": offsets, "bounds": bounds, "first": first, "alias": alias}
    arr = arrays[target] if target != "none" else None
    if arr is not None and len(arr):
        i = draw(st.integers(0, len(arr) - 1))
        arr[i] = draw(st.integers(-3, max(n, n_vocab, len(offsets)) + 3))
    return n_vocab, arrays, draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(
        st.sampled_from([0, 1])), draw(st.integers(0, 3))


@settings(max_examples=150, deadline=None)
@given(case=kernel_case())
def test_kernel_trains_or_rejects_any_arrays(case):
    """train_epoch validates its arrays before the parallel region: random,
    possibly inconsistent inputs either train (finite weights) or raise
    ValueError. Under tools/sanitize.sh this also proves no out-of-bounds access."""
    n_vocab, a, window, n_threads, architecture, sample_size = case
    from skw2v import _core

    dim = 3
    rng = np.random.default_rng(0)
    w_in = rng.random((n_vocab, dim), dtype=np.float32) - 0.5
    w_out = np.zeros((n_vocab, dim), dtype=np.float32)
    n_chunks = len(a["bounds"]) - 1
    stats = np.zeros((n_chunks, _core.N_STATS))
    done = np.zeros(n_chunks, dtype=np.uint8)
    thr = np.full(n_vocab, 2**31, dtype=np.uint32)
    valid = _kernel_inputs_valid(a["tokens"], a["offsets"], a["bounds"], a["first"],
                                 a["alias"], n_vocab)
    args = (a["tokens"], a["offsets"], a["bounds"], a["first"],
            np.full(n_vocab, 0.9, np.float32), thr, a["alias"], np.zeros(n_vocab, np.float32),
            w_in, w_out, architecture, 1, window, True, sample_size, 0.05, 1e-4, 0,
            max(len(a["tokens"]), 1), 3, n_threads, stats, done, np.zeros(1, np.int32))
    if not valid:
        with pytest.raises(ValueError):
            _core.train_epoch(*args)
        return
    skipped = _core.train_epoch(*args)
    assert skipped == 0
    assert np.isfinite(w_in).all() and np.isfinite(w_out).all() and np.isfinite(stats).all()
    if len(a["tokens"]):
        assert done.all()
