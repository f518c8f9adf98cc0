"""Walker/Vose alias tables and the kernel's alias draws."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import chisquare

from skw2v import _core
from skw2v._alias import alias_table, kernel_thresholds
from skw2v._vocab import noise_distribution

MASK64 = (1 << 64) - 1


def _zipf(n, s):
    p = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** s
    return p / p.sum()


DISTRIBUTIONS = {
    "uniform": np.full(37, 1.0 / 37),
    "zipf_skewed": _zipf(500, 2.0),
    "with_zeros": np.array([0.0, 0.3, 0.0, 0.05, 0.25, 0.0, 0.4, 0.0]),
    "one_hot": np.eye(6)[4],
    "unigram_pow": noise_distribution(np.array([1000, 500, 20, 7, 7, 3, 1, 1]), 0.75),
    "random": np.random.default_rng(3).dirichlet(np.full(200, 0.3)),
}


def reconstruct(accept, alias):
    """Probability of each word implied by an alias table (float64)."""
    n = len(accept)
    p = accept.copy()
    np.add.at(p, alias, 1.0 - accept)
    return p / n


# ---------------------------------------------------------------- the table
@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_alias_table_invariants(name):
    p = DISTRIBUTIONS[name]
    accept, alias = alias_table(p)
    assert accept.dtype == np.float64 and alias.dtype == np.int32
    assert accept.shape == alias.shape == p.shape
    assert np.all((accept >= 0) & (accept <= 1))
    assert np.all((alias >= 0) & (alias < len(p)))
    # A column that keeps itself must be full; otherwise its mass would be lost.
    self_alias = alias == np.arange(len(p))
    assert_array_equal(accept[self_alias], 1.0)
    assert_allclose(reconstruct(accept, alias), p, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_zero_probability_words_have_no_mass(name):
    p = DISTRIBUTIONS[name]
    accept, alias = alias_table(p)
    zero = np.flatnonzero(p == 0)
    assert_array_equal(accept[zero], 0.0)
    assert not np.isin(alias[accept < 1], zero).any()


def test_alias_table_normalises_unnormalised_weights():
    w = np.array([3.0, 1.0, 0.0, 4.0])
    accept, alias = alias_table(w)
    assert_allclose(reconstruct(accept, alias), w / w.sum(), rtol=1e-12)


@pytest.mark.parametrize(
    "bad", [np.array([]), np.array([0.0, 0.0]), np.array([0.5, -0.1]),
            np.array([np.nan, 1.0]), np.ones((2, 2))]
)
def test_alias_table_rejects_bad_input(bad):
    with pytest.raises(ValueError, match="probabilities"):
        alias_table(bad)


def test_kernel_thresholds_match_acceptance():
    accept = np.array([0.0, 0.25, 0.5, 1.0 - 2.0**-40, 1.0])
    thr = kernel_thresholds(accept)
    assert thr.dtype == np.uint32
    # Column kept when a uniform u32 < thr: P = thr / 2**32, off by < 2**-32.
    assert_allclose(thr / 2.0**32, accept, atol=2.0**-32)
    assert thr[0] == 0 and thr[-1] == 2**32 - 1


# ----------------------------------------------------- a pure-Python reference
def splitmix64(state):
    """SplitMix64 (Steele, Lea & Flood 2014), as documented in _random.pxd."""
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


def alias_draw(r, threshold, alias):
    """Low 32 bits pick the column, high 32 bits accept it (_random.pxd)."""
    n = len(threshold)
    i = ((r & 0xFFFFFFFF) * n) >> 32
    return i if (r >> 32) < int(threshold[i]) else int(alias[i])


def reference_sample(threshold, alias, seed, n):
    state, out = seed & MASK64, []
    for _ in range(n):
        state, r = splitmix64(state)
        out.append(alias_draw(r, threshold, alias))
    return np.array(out, dtype=np.int32)


def kernel_sample(p, seed, n):
    accept, alias = alias_table(p)
    thr = kernel_thresholds(accept)
    out = np.empty(n, dtype=np.int32)
    _core.sample_alias(thr, alias, seed, out)
    return out, thr, alias


def test_splitmix64_reference_known_values():
    # Published SplitMix64 outputs from state 0 (e.g. the reference in Vigna's
    # xoshiro seeding code): pins the Python reference itself.
    state, outs = 0, []
    for _ in range(3):
        state, r = splitmix64(state)
        outs.append(r)
    assert outs == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**63 + 7, 2**64 - 1])
@pytest.mark.parametrize("name", ["uniform", "zipf_skewed", "with_zeros", "random"])
def test_sample_alias_matches_python_reference(name, seed):
    draws, thr, alias = kernel_sample(DISTRIBUTIONS[name], seed, 2000)
    assert_array_equal(draws, reference_sample(thr, alias, seed, 2000))


def test_sample_alias_stream_continues():
    # Two halves of a stream are not the full stream restarted: the draws of
    # n from seed s are a prefix of the draws of 2n from s.
    p = DISTRIBUTIONS["random"]
    full, _, _ = kernel_sample(p, 99, 400)
    head, _, _ = kernel_sample(p, 99, 200)
    assert_array_equal(full[:200], head)
    other, _, _ = kernel_sample(p, 100, 200)
    assert not np.array_equal(head, other)


# ------------------------------------------------------ empirical frequencies
@pytest.mark.parametrize("name", ["uniform", "zipf_skewed", "with_zeros", "unigram_pow",
                                  "random"])
def test_sample_alias_frequencies_chisquare(name):
    p = DISTRIBUTIONS[name]
    n = 1_000_000
    draws, _, _ = kernel_sample(p, 2024, n)
    counts = np.bincount(draws, minlength=len(p))
    assert counts.sum() == n
    assert counts[p == 0].sum() == 0, "a zero-probability word was drawn"
    expected = n * p
    # Pool the rarest words into one bin so every expected count is >= 5.
    order = np.argsort(expected)
    cum = np.cumsum(expected[order])
    small = order[: np.searchsorted(cum, 5.0) + 1] if expected.min() < 5 else order[:0]
    big = np.setdiff1d(np.flatnonzero(p > 0), small)
    obs = np.append(counts[big], counts[small].sum())
    exp = np.append(expected[big], expected[small].sum())
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    stat, pvalue = chisquare(obs, exp)
    assert pvalue > 1e-3, (name, stat, pvalue)


def test_chisquare_detects_a_wrong_distribution():
    # The frequency test has power: draws from one Zipf law fail against a
    # slightly different one.
    n = 1_000_000
    draws, _, _ = kernel_sample(_zipf(50, 1.0), 7, n)
    counts = np.bincount(draws, minlength=50)
    _, pvalue = chisquare(counts, n * _zipf(50, 1.02))
    assert pvalue < 1e-6


def test_one_hot_distribution_always_draws_its_word():
    draws, _, _ = kernel_sample(DISTRIBUTIONS["one_hot"], 5, 10_000)
    assert_array_equal(draws, 4)


def test_sample_alias_rejects_bad_tables():
    thr = np.zeros(3, dtype=np.uint32)
    out = np.empty(5, dtype=np.int32)
    with pytest.raises(ValueError, match="alias_index"):
        _core.sample_alias(thr, np.array([0, 1, 3], dtype=np.int32), 0, out)
    with pytest.raises(ValueError, match="same length"):
        _core.sample_alias(thr, np.array([0, 1], dtype=np.int32), 0, out)
