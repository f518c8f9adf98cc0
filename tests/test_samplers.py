"""Samplers: exact distributions (chi-square), draws shared with the training
kernel, TensorFlow's expected counts, reproducibility, bad input."""

import numpy as np
import pytest
from scipy import stats
from skw2v._core import sample_alias
from threadpoolctl import threadpool_limits

from skw2v._alias import alias_table, kernel_thresholds
from skw2v.samplers import (
    AliasSampler,
    LogUniformSampler,
    UnigramSampler,
    check_random_state,
    draw_seed,
)

P_VALUE = 1e-3  # draws use fixed seeds, so these tests are deterministic


def chi2_pvalue(observed, expected):
    """Chi-square p-value; cells expected < 5 are pooled into one.

    Cells of probability 0 must be empty and are left out.
    """
    observed = np.asarray(observed, dtype=np.float64).ravel()
    expected = np.asarray(expected, dtype=np.float64).ravel()
    assert not observed[expected == 0].any(), "a class of probability 0 was drawn"
    observed, expected = observed[expected > 0], expected[expected > 0]
    expected = expected * observed.sum() / expected.sum()
    small = expected < 5
    if small.any():
        observed = np.append(observed[~small], observed[small].sum())
        expected = np.append(expected[~small], expected[small].sum())
    return stats.chisquare(observed, expected).pvalue


def pair_probabilities(p):
    """P(first = a, second = b) of successive sampling without replacement."""
    p = np.asarray(p, dtype=np.float64) / np.sum(p)
    joint = p[:, None] * p[None, :] / (1.0 - p[:, None])
    np.fill_diagonal(joint, 0.0)
    return joint


def pair_counts(rows, n_classes):
    counts = np.zeros((n_classes, n_classes))
    np.add.at(counts, (rows[:, 0], rows[:, 1]), 1)
    return counts


ZIPF = 1.0 / np.arange(1, 41) ** 1.1
SKEWED = np.array([0.985, 0.005, 0.004, 0.003, 0.002, 0.001])  # forces the exact fallback


# ---------------------------------------------------------------- AliasSampler
def test_alias_sampler_exposes_the_kernel_tables():
    s = AliasSampler(ZIPF)
    accept, alias = alias_table(ZIPF)
    np.testing.assert_array_equal(s.accept, accept)
    np.testing.assert_array_equal(s.alias, alias)
    np.testing.assert_allclose(s.probabilities, ZIPF / ZIPF.sum())
    assert s.n_classes == len(ZIPF)
    # The tables reproduce the distribution exactly (Walker's identity).
    mass = s.accept / s.n_classes
    np.add.at(mass, s.alias, (1.0 - s.accept) / s.n_classes)
    np.testing.assert_allclose(mass, s.probabilities, atol=1e-15)


def test_alias_sample_is_the_kernel_stream():
    s = AliasSampler(ZIPF)
    got = s.sample((30, 7), random_state=np.random.RandomState(5))
    seed = draw_seed(np.random.RandomState(5))
    want = np.empty(30 * 7, dtype=np.int32)
    sample_alias(kernel_thresholds(s.accept), s.alias, seed, want)
    assert got.dtype == np.int32 and got.shape == (30, 7)
    np.testing.assert_array_equal(got.ravel(), want)


def test_alias_with_replacement_chi_square():
    s = AliasSampler(ZIPF)
    draws = s.sample(200_000, random_state=0)
    counts = np.bincount(draws, minlength=len(ZIPF))
    assert chi2_pvalue(counts, s.probabilities) > P_VALUE


@pytest.mark.parametrize("p", [ZIPF[:6], SKEWED], ids=["zipf", "skewed-fallback"])
def test_alias_without_replacement_is_successive_sampling(p):
    s = AliasSampler(p)
    rows = s.sample((40_000, 3), random_state=1, replace=False)
    assert all(len(set(r)) == 3 for r in rows[:2000])
    assert chi2_pvalue(np.bincount(rows[:, 0], minlength=len(p)), p) > P_VALUE
    assert chi2_pvalue(pair_counts(rows, len(p)), pair_probabilities(p)) > P_VALUE


def test_alias_full_permutations():
    p = SKEWED
    rows = AliasSampler(p).sample((5000, len(p)), random_state=2, replace=False)
    np.testing.assert_array_equal(np.sort(rows, axis=1), np.tile(np.arange(len(p)), (5000, 1)))


def test_zero_probability_classes_are_never_drawn():
    p = np.array([0.0, 3.0, 0.0, 1.0, 0.0])
    s = AliasSampler(p)
    assert set(np.unique(s.sample(5000, random_state=0))) == {1, 3}
    rows = s.sample((200, 2), random_state=0, replace=False)
    assert set(np.unique(rows)) == {1, 3}
    with pytest.raises(ValueError, match="only 2 classes"):
        s.sample((2, 3), replace=False)


# -------------------------------------------------------------- UnigramSampler
def test_unigram_probabilities():
    counts = np.array([100, 10, 1, 0, 50])
    s = UnigramSampler(counts, power=0.75)
    want = np.where(counts > 0, counts.astype(float) ** 0.75, 0.0)
    np.testing.assert_allclose(s.probabilities, want / want.sum())
    uniform = UnigramSampler(counts, power=0.0).probabilities
    np.testing.assert_allclose(uniform, [0.25, 0.25, 0.25, 0.0, 0.25])
    # Huge powers do not overflow (computed in log space).
    assert np.isfinite(UnigramSampler([1e300, 1.0], power=5.0).probabilities).all()


def test_unigram_negatives_with_replacement_chi_square():
    counts = np.arange(1, 21) ** 2
    s = UnigramSampler(counts)
    neg = s.sample_negatives(np.zeros(40_000, dtype=int), 5, random_state=3)
    assert neg.shape == (40_000, 5)
    assert chi2_pvalue(np.bincount(neg.ravel(), minlength=20), s.probabilities) > P_VALUE


@pytest.mark.parametrize("counts", [np.arange(1, 9) ** 2, [985, 5, 4, 3, 2, 1]],
                         ids=["power", "skewed-fallback"])
def test_unigram_excluding_target_with_replacement(counts):
    s = UnigramSampler(counts, exclude_target=True)
    targets = np.zeros(30_000, dtype=int)  # the target holds most of the mass
    neg = s.sample_negatives(targets, 4, random_state=4)
    assert not np.any(neg == 0)
    want = s.probabilities.copy()
    want[0] = 0
    assert chi2_pvalue(np.bincount(neg.ravel(), minlength=len(want)), want) > P_VALUE


@pytest.mark.parametrize("counts", [np.arange(1, 7) ** 2, [985, 5, 4, 3, 2, 1]],
                         ids=["power", "skewed-fallback"])
def test_unigram_dl_from_scratch_sampler(counts):
    """exclude_target=True, replace=False: p[target] = 0, renormalise, choice(replace=False)."""
    s = UnigramSampler(counts, power=0.75, exclude_target=True, replace=False)
    n = 30_000
    targets = np.zeros(n, dtype=int)
    neg = s.sample_negatives(targets, 2, random_state=5)
    assert not np.any(neg == 0) and np.all(neg[:, 0] != neg[:, 1])
    p = s.probabilities.copy()
    p[0] = 0
    p /= p.sum()
    joint = p[:, None] * p[None, :] / (1.0 - p[:, None])
    np.fill_diagonal(joint, 0.0)
    assert chi2_pvalue(pair_counts(neg, len(p)), joint) > P_VALUE


def test_unigram_mixed_targets_never_return_own_target():
    s = UnigramSampler(np.arange(1, 31), exclude_target=True, replace=False)
    targets = np.arange(3000) % 30
    targets[::7] = -1  # ignored rows: nothing excluded
    neg = s.sample_negatives(targets, 10, random_state=6)
    assert not np.any(neg == targets[:, None])
    assert all(len(set(r)) == 10 for r in neg)


def test_unigram_defaults_can_be_overridden_per_call():
    s = UnigramSampler([5, 5, 5], exclude_target=True)
    neg = s.sample_negatives([1] * 500, 2, random_state=0, exclude_target=False)
    assert np.any(neg == 1)
    assert not np.any(s.sample_negatives([1] * 500, 2, random_state=0) == 1)


def test_unigram_capacity_errors():
    s = UnigramSampler([3, 0, 2], exclude_target=True, replace=False)
    with pytest.raises(ValueError, match="besides the target"):
        s.sample_negatives([0, 2], 2)
    s.sample_negatives([1, 1], 2, random_state=0)  # target of probability 0: two left
    only = UnigramSampler([4, 0], exclude_target=True)
    with pytest.raises(ValueError, match="holds all the probability"):
        only.sample_negatives([0], 1)


# ----------------------------------------------------------- LogUniformSampler
def test_log_uniform_probabilities():
    s = LogUniformSampler(1000)
    k = np.arange(1000)
    p = s.probabilities
    np.testing.assert_allclose(p, (np.log(k + 2) - np.log(k + 1)) / np.log(1001))
    assert p.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(s.log_probability([0, 10, 999]), np.log(p[[0, 10, 999]]))
    np.testing.assert_allclose(s.probability([[3, 4]]), p[[[3, 4]]])


def test_log_uniform_with_replacement_chi_square():
    s = LogUniformSampler(30)
    sampled, _, expected = s.sample_candidates(200_000, unique=False, random_state=7)
    assert sampled.dtype == np.int64 and sampled.min() >= 0 and sampled.max() < 30
    assert chi2_pvalue(np.bincount(sampled, minlength=30), s.probabilities) > P_VALUE
    np.testing.assert_allclose(expected, 200_000 * s.probabilities[sampled])
    neg = s.sample_negatives(np.zeros(20_000, dtype=int), 5, random_state=8)
    assert chi2_pvalue(np.bincount(neg.ravel(), minlength=30), s.probabilities) > P_VALUE


def test_log_uniform_huge_range_draws_stay_in_range():
    s = LogUniformSampler(2**40)
    sampled, _, counts = s.sample_candidates(10_000, unique=False, random_state=0)
    assert sampled.min() >= 0 and sampled.max() < 2**40
    assert np.isfinite(counts).all() and (counts > 0).all()
    # P(k < 9) = log(10) / log(2**40 + 1)
    assert np.mean(sampled < 9) == pytest.approx(np.log(10) / np.log(2**40 + 1), abs=0.02)


@pytest.mark.parametrize("sampler", [AliasSampler(np.arange(1.0, 21.0)), LogUniformSampler(20)],
                         ids=["alias", "log_uniform"])
def test_sample_means_the_same_on_every_sampler(sampler):
    """sample(shape, random_state, replace): i.i.d. draws of that shape, or rows of
    distinct classes along the last axis with replace=False."""
    draws = sampler.sample((50_000, 2), random_state=3)
    assert draws.shape == (50_000, 2) and draws.min() >= 0 and draws.max() < 20
    np.testing.assert_array_equal(draws, sampler.sample((50_000, 2), random_state=3))
    assert chi2_pvalue(np.bincount(draws.ravel(), minlength=20), sampler.probabilities) > P_VALUE
    assert sampler.sample((), random_state=0).shape == ()
    rows = sampler.sample((30_000, 3), random_state=4, replace=False)
    assert rows.shape == (30_000, 3)
    assert np.all(np.sort(rows, axis=1)[:, 1:] != np.sort(rows, axis=1)[:, :-1])
    p = sampler.probabilities
    assert chi2_pvalue(np.bincount(rows[:, 0], minlength=20), p) > P_VALUE
    assert chi2_pvalue(pair_counts(rows, 20), pair_probabilities(p)) > P_VALUE
    with pytest.raises(ValueError, match="only 20 classes"):
        sampler.sample((2, 21), replace=False)


@pytest.mark.parametrize("range_max", [12, 4], ids=["rejection", "fallback"])
def test_log_uniform_unique_is_successive_sampling(range_max):
    s = LogUniformSampler(range_max)
    rows = s.sample_negatives(np.full(30_000, -1), 3, random_state=9, replace=False)
    assert np.all(np.sort(rows, axis=1)[:, 1:] != np.sort(rows, axis=1)[:, :-1])
    p = s.probabilities
    assert chi2_pvalue(np.bincount(rows[:, 0], minlength=range_max), p) > P_VALUE
    assert chi2_pvalue(pair_counts(rows, range_max), pair_probabilities(p)) > P_VALUE


def test_log_uniform_expected_counts_follow_the_formula():
    s = LogUniformSampler(50)
    p = s.probabilities
    true = np.array([[0], [3], [49]])
    sampled, true_count, sampled_count = s.sample_candidates(10, unique=True,
                                                             true_classes=true, random_state=11)
    assert len(np.unique(sampled)) == 10 and true_count.shape == (3, 1)
    # One number of tries explains every count: 1 - (1 - p)**num_tries.
    tries = np.log1p(-sampled_count) / np.log1p(-p[sampled])
    num_tries = tries[0]
    np.testing.assert_allclose(tries, num_tries, rtol=1e-9)
    assert num_tries >= 10 and num_tries == pytest.approx(round(num_tries), abs=1e-6)
    np.testing.assert_allclose(true_count[:, 0], -np.expm1(num_tries * np.log1p(-p[[0, 3, 49]])))
    _, true_count, sampled_count = s.sample_candidates(10, unique=False, true_classes=true,
                                                       random_state=1)
    np.testing.assert_allclose(true_count[:, 0], 10 * p[[0, 3, 49]])


def _tf_num_tries(p, m, rng, runs, length=400):
    """TensorFlow's procedure: draw with replacement until m distinct classes."""
    draws = rng.choice(len(p), size=(runs, length), p=p)
    seen = np.maximum.accumulate(np.eye(len(p), dtype=np.int8)[draws], axis=1)
    n_distinct = seen.sum(axis=2)
    assert (n_distinct[:, -1] >= m).all()
    return np.argmax(n_distinct >= m, axis=1) + 1


@pytest.mark.parametrize("range_max,m,length", [(40, 8, 100), (6, 6, 400)],
                         ids=["rejection", "fallback"])
def test_log_uniform_num_tries_distribution(range_max, m, length):
    """The tries behind the counts match a plain simulation of rejection sampling."""
    s = LogUniformSampler(range_max)
    p = s.probabilities
    rs = np.random.RandomState(12)
    ours = []
    for _ in range(3000):
        sampled, _, count = s.sample_candidates(m, unique=True, random_state=rs)
        ours.append(np.log1p(-count[-1]) / np.log1p(-p[sampled[-1]]))
    rng = np.random.default_rng(13)
    ref = _tf_num_tries(p, m, rng, 3000, length)
    se = np.sqrt(np.var(ours) / len(ours) + np.var(ref) / len(ref))
    assert abs(np.mean(ours) - np.mean(ref)) < 4 * se
    assert min(ours) > m - 1e-6


def test_log_uniform_unique_expected_counts_vs_empirical_inclusion():
    """1 - (1 - p)**num_tries approximates how often each class is included
    (TensorFlow's approximation: within 0.03 here); num_sampled * p would be off by 0.8."""
    s = LogUniformSampler(50)
    rs = np.random.RandomState(14)
    included = np.zeros(50)
    expected = np.zeros(50)
    classes = np.arange(50)
    n = 4000
    for _ in range(n):
        sampled, true_count, _ = s.sample_candidates(10, unique=True, true_classes=classes,
                                                     random_state=rs)
        included[sampled] += 1
        expected += true_count
    included /= n
    expected /= n
    assert np.abs(included - expected).max() < 0.03
    assert np.abs(included - 10 * s.probabilities).max() > 0.5
    assert expected.max() <= 1.0


# ------------------------------------------------------ reproducibility, errors
def test_random_state_forms_and_reproducibility():
    s = UnigramSampler(np.arange(1, 100))
    a = s.sample_negatives(np.arange(50), 5, random_state=3)
    np.testing.assert_array_equal(a, s.sample_negatives(np.arange(50), 5, random_state=3))
    g1 = s.sample((4, 4), random_state=np.random.default_rng(0))
    g2 = s.sample((4, 4), random_state=np.random.default_rng(0))
    np.testing.assert_array_equal(g1, g2)
    assert isinstance(check_random_state(None), np.random.RandomState)


def test_row_draws_do_not_depend_on_the_thread_count():
    s = UnigramSampler(np.arange(1, 2001), exclude_target=True, replace=False)
    targets = np.arange(20_000) % 2000
    many = s.sample_negatives(targets, 8, random_state=0)  # large enough to use threads
    with threadpool_limits(limits=1, user_api="openmp"):
        one = s.sample_negatives(targets, 8, random_state=0)
    np.testing.assert_array_equal(many, one)


@pytest.mark.parametrize(
    "make,exc,match",
    [
        (lambda: AliasSampler([0.5, -0.1]), ValueError, "non-negative"),
        (lambda: AliasSampler([[0.5, 0.5]]), ValueError, "1-D"),
        (lambda: AliasSampler([0.0, 0.0]), ValueError, "all be zero"),
        (lambda: AliasSampler([np.nan, 1.0]), ValueError, "finite"),
        (lambda: UnigramSampler([1, -2]), ValueError, "counts"),
        (lambda: UnigramSampler(["a", "b"]), TypeError, "counts"),
        (lambda: UnigramSampler([0, 0]), ValueError, "counts must not all be zero"),
        (lambda: UnigramSampler([1, 2], power=float("nan")), ValueError, "power"),
        (lambda: UnigramSampler([1, 2], exclude_target="yes"), TypeError, "exclude_target"),
        (lambda: LogUniformSampler(0), ValueError, "range_max"),
        (lambda: LogUniformSampler(2.5), ValueError, "range_max"),
    ],
)
def test_bad_constructor_arguments(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_bad_sampling_arguments():
    a = AliasSampler([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="shape"):
        a.sample((2, -1))
    with pytest.raises(TypeError, match="shape"):
        a.sample("3")
    with pytest.raises(ValueError, match="only 3 classes"):
        a.sample((2, 4), replace=False)
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 3\), got 3"):
        a.sample_negatives([0, 3], 2)
    with pytest.raises(TypeError, match="targets"):
        a.sample_negatives([0.5], 2)
    with pytest.raises(ValueError, match="sample_size"):
        a.sample_negatives([0], -1)
    with pytest.raises(TypeError, match="random_state"):
        a.sample(3, random_state="seed")
    s = LogUniformSampler(5)
    with pytest.raises(ValueError, match="cannot draw 6 distinct"):
        s.sample_candidates(6, unique=True)
    with pytest.raises(ValueError, match="num_sampled"):
        s.sample_candidates(0)
    with pytest.raises(ValueError, match="true_classes"):
        s.sample_candidates(2, true_classes=[5])
    with pytest.raises(TypeError, match="unique"):
        s.sample_candidates(2, unique="yes")
    with pytest.raises(ValueError, match="classes"):
        s.log_probability([-1])
