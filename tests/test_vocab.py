"""Vocabulary: order, pruning, determinism, subsampling, noise, document frequency."""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skw2v import Word2VecNS
from skw2v._corpus import encode_new, make_analyzer
from skw2v._vocab import (
    document_frequency,
    keep_probabilities,
    noise_distribution,
    select_vocabulary,
)

REPO = Path(__file__).resolve().parents[1]


def vocab_of(docs, min_count=1, max_vocab_size=None):
    raw = encode_new(docs, make_analyzer())
    counts = np.bincount(raw.tokens, minlength=len(raw.types))
    kept = select_vocabulary(raw.types, counts, min_count, max_vocab_size)
    return [raw.types[i] for i in kept], counts[kept].tolist()


def reference_vocab(docs, min_count=1, max_vocab_size=None):
    counts = Counter(t for d in docs for t in d)
    items = sorted((-c, t) for t, c in counts.items() if c >= min_count)
    items = items[:max_vocab_size] if max_vocab_size is not None else items
    return [t for _, t in items], [-c for c, _ in items]


def random_docs(seed, n_docs=40, n_types=30):
    rs = np.random.default_rng(seed)
    types = [f"w{i:02d}" for i in range(n_types)]
    # Zipf-ish counts with many ties at the low end.
    weights = 1.0 / np.arange(1, n_types + 1)
    weights /= weights.sum()
    return [list(rs.choice(types, size=rs.integers(0, 12), p=weights)) for _ in range(n_docs)]


# -------------------------------------------------------------------- order
def test_order_count_descending_then_token():
    docs = [["b", "a", "c", "b", "d", "c", "e"], ["a", "e", "z"]]
    tokens, counts = vocab_of(docs)
    # a, b, c, e: 2 each (ties by token); d, z: 1 each.
    assert tokens == ["a", "b", "c", "e", "d", "z"]
    assert counts == [2, 2, 2, 2, 1, 1]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("min_count,max_vocab_size", [(1, None), (2, None), (3, 7), (1, 1),
                                                      (100, None), (2, 1000)])
def test_selection_matches_reference(seed, min_count, max_vocab_size):
    docs = random_docs(seed)
    assert vocab_of(docs, min_count, max_vocab_size) == reference_vocab(
        docs, min_count, max_vocab_size
    )


def test_min_count_keeps_exactly_the_words_seen_often_enough():
    docs = [["x"] * 5 + ["y"] * 4 + ["z"] * 6]
    tokens, counts = vocab_of(docs, min_count=5)
    assert tokens == ["z", "x"] and counts == [6, 5]


def test_max_vocab_size_ties_at_the_cut_broken_by_token():
    docs = [["q", "q", "q", "d", "d", "c", "c", "b", "b", "a"]]
    tokens, _ = vocab_of(docs, max_vocab_size=3)
    assert tokens == ["q", "b", "c"]  # b, c, d tie at 2: the first two by token


def test_max_vocab_size_applies_after_min_count():
    docs = [["a"] * 3 + ["b"] * 2 + ["c"]]
    assert vocab_of(docs, min_count=2, max_vocab_size=5)[0] == ["a", "b"]
    assert vocab_of(docs, min_count=1, max_vocab_size=2)[0] == ["a", "b"]


def test_order_independent_of_first_appearance():
    docs = random_docs(11)
    rs = np.random.default_rng(0)
    shuffled = [list(rs.permutation(d)) for d in docs]
    shuffled = [shuffled[i] for i in rs.permutation(len(shuffled))]
    assert vocab_of(docs) == vocab_of(shuffled)
    assert vocab_of(docs, 2, 10) == vocab_of(shuffled, 2, 10)


def test_estimator_vocabulary_attributes():
    docs = [["b", "a", "c", "b", "d", "c"], ["a", "e", "b"]]
    rev = [list(reversed(d)) for d in reversed(docs)]
    fits = [
        Word2VecNS(vector_size=4, min_count=2, epochs=1, n_jobs=1, random_state=0).fit(d)
        for d in (docs, rev)
    ]
    for est in fits:
        assert est.index_to_token_.tolist() == ["b", "a", "c"]
        assert est.token_counts_.dtype == np.int64
        assert est.token_counts_.tolist() == [3, 2, 2]
        assert est.vocabulary_ == {"b": 0, "a": 1, "c": 2}
        assert est.vectors_.shape == est.output_vectors_.shape == (3, 4)

    capped = Word2VecNS(vector_size=4, min_count=1, max_vocab_size=2, epochs=1, n_jobs=1,
                        random_state=0).fit(docs)
    assert capped.index_to_token_.tolist() == ["b", "a"]


_HASHSEED_SCRIPT = """
import hashlib, json, sys
import numpy as np
from skw2v import Word2VecNS
docs = [["w%d" % ((i * 7 + j * 3) % 23) for j in range(15)] for i in range(60)]
docs += [["tie_%s" % c for c in "zyxwvu"]] * 2
est = Word2VecNS(vector_size=8, min_count=2, epochs=2, n_jobs=1, random_state=5).fit(docs)
print(json.dumps({
    "tokens": est.index_to_token_.tolist(),
    "counts": est.token_counts_.tolist(),
    "vectors": hashlib.sha256(est.vectors_.tobytes()).hexdigest(),
    "set_order": list({"alpha", "beta", "gamma", "delta", "epsilon", "zeta"}),
}))
"""


def test_vocabulary_and_vectors_independent_of_pythonhashseed():
    # Both interpreters run at once: the import of scikit-learn dominates.
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _HASHSEED_SCRIPT], cwd=REPO, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONHASHSEED": hashseed, "PYTHONPATH": str(REPO),
                 "OMP_NUM_THREADS": "1"},
        )
        for hashseed in ("1", "2")
    ]
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    # The hash seeds really differ (set order of str changes), yet skw2v does not.
    assert out[0]["set_order"] != out[1]["set_order"]
    for key in ("tokens", "counts", "vectors"):
        assert out[0][key] == out[1][key], key
    assert out[0]["tokens"][-6:] == [f"tie_{c}" for c in "uvwxyz"]


# -------------------------------------------------------------- subsampling
@pytest.mark.parametrize("subsample", [1e-5, 1e-3, 0.05, 1.0])
def test_keep_probabilities_closed_form(subsample):
    counts = np.array([100_000, 20_000, 5_000, 900, 50, 7, 1], dtype=np.int64)
    keep = keep_probabilities(counts, subsample)
    assert keep.dtype == np.float32 and keep.shape == counts.shape
    total = counts.sum()
    for f, k in zip(counts, keep):
        t = subsample * total
        expected = min(1.0, (np.sqrt(f / t) + 1.0) * t / f)
        assert k == pytest.approx(expected, rel=1e-6)
    assert np.all((keep > 0) & (keep <= 1))
    assert np.all(np.diff(keep) >= 0)  # rarer words are kept at least as often


def test_keep_probabilities_values():
    # f = 10_000, total 1e6, subsample 1e-3: t = 1000, (sqrt(10) + 1) / 10.
    counts = np.array([10_000, 990_000])
    keep = keep_probabilities(counts, 1e-3)
    assert keep[0] == pytest.approx((np.sqrt(10.0) + 1.0) / 10.0, rel=1e-6)
    assert keep[1] == pytest.approx((np.sqrt(990.0) + 1.0) / 990.0, rel=1e-6)


def test_subsample_zero_keeps_everything():
    assert_array_equal(keep_probabilities(np.array([10**6, 3, 1]), 0), 1.0)


# -------------------------------------------------------------------- noise
@pytest.mark.parametrize("power", [0.75, 1.0, 0.5, 2.0, -0.5, -1.0])
def test_noise_distribution_is_counts_to_the_power(power):
    counts = np.array([5000, 1200, 40, 40, 9, 5])
    q = noise_distribution(counts, power)
    expected = counts.astype(np.float64) ** power
    assert_allclose(q, expected / expected.sum(), rtol=1e-12)
    assert q.sum() == pytest.approx(1.0, abs=1e-12)
    if power < 0:
        assert np.all(np.diff(q) >= 0)  # negative power favours rare words


def test_noise_distribution_power_zero_is_uniform():
    assert_allclose(noise_distribution(np.array([10**9, 50, 1, 7]), 0.0), 0.25, rtol=1e-15)


def test_noise_distribution_extreme_counts_stay_finite():
    # Large counts to a large power would overflow without normalising in logs.
    q = noise_distribution(np.array([10**12, 10**11, 1]), 40.0)
    assert np.all(np.isfinite(q)) and q.sum() == pytest.approx(1.0)
    assert q[0] == pytest.approx(1.0, abs=1e-30) and q[2] >= 0


# -------------------------------------------------------- document frequency
def test_document_frequency_matches_sets():
    docs = random_docs(4, n_docs=50)
    docs[3] = []
    raw = encode_new(docs, make_analyzer())
    df = document_frequency(raw.tokens, raw.offsets, len(raw.types))
    assert df.dtype == np.int64
    expected = Counter(t for d in docs for t in set(d))
    assert {raw.types[i]: int(v) for i, v in enumerate(df)} == dict(expected)


def test_document_frequency_edge_cases():
    assert_array_equal(document_frequency(np.zeros(0, np.int32),
                                          np.zeros(3, np.int64), 4), [0, 0, 0, 0])
    tokens = np.array([2, 2, 2, 0], dtype=np.int32)
    offsets = np.array([0, 0, 3, 3, 4], dtype=np.int64)
    assert_array_equal(document_frequency(tokens, offsets, 4), [1, 0, 1, 0])
