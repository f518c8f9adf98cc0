"""Negative-sampling and NCE losses: chainer/TensorFlow reference semantics,
finite-difference gradients, stability, both array paths, bad input; plus the
estimator's NCE kernel against the building blocks, and the docs' examples."""

import re
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit
from threadpoolctl import threadpool_limits

from skw2v import Word2VecNS, _core, _losses, losses
from skw2v._cuda import _losses as _cuda_losses
from skw2v._alias import alias_table, kernel_thresholds
from skw2v.losses import NCELoss, NegativeSampling, nce_loss, negative_sampling
from skw2v.samplers import AliasSampler, LogUniformSampler, UnigramSampler

REDUCES = ["sum", "mean", "no"]
DOCS = Path(__file__).resolve().parents[1] / "docs" / "building_blocks.md"


def make_problem(n=7, d=4, V=9, k=4, dtype=np.float64, seed=0, scale=1.0):
    """Random inputs with an ignored row and accidental hits in fixed samples."""
    rng = np.random.default_rng(seed)
    x = (scale * rng.normal(size=(n, d))).astype(dtype)
    W = (scale * rng.normal(size=(V, d))).astype(dtype)
    b = rng.normal(size=V).astype(dtype)
    t = rng.integers(0, V, n)
    t[1] = -1
    samples = rng.integers(0, V, (n, k + 1))
    samples[:, 0] = t
    samples[0, 2] = samples[0, 0]  # accidental hits
    samples[3, 1:3] = samples[3, 0]
    return x, t, W, b, samples


def reference(x, t, W, samples, reduce, gloss, b=None, correction=None, remove_hits=False,
              ignore_label=-1):
    """Plain NumPy sampled logistic loss (chainer's negative_sampling when b and
    correction are None) with its analytic gradients."""
    n, m = samples.shape
    active = t != ignore_label
    sign = np.where(np.arange(m) == 0, 1.0, -1.0)
    loss = np.zeros(n)
    dz = np.zeros((n, m))
    for i in np.flatnonzero(active):
        z = W[samples[i]] @ x[i]
        if b is not None:
            z = z + b[samples[i]]
        if correction is not None:
            z = z - correction[i]
        keep = np.ones(m, dtype=bool)
        if remove_hits:
            keep[1:] = samples[i, 1:] != samples[i, 0]
        loss[i] = np.sum(np.logaddexp(0.0, -sign * z)[keep])
        dz[i] = np.where(keep, -sign * expit(-sign * z), 0.0)
    if reduce == "no":
        g, out = np.broadcast_to(gloss, (n,)), loss
    elif reduce == "sum":
        g, out = np.full(n, gloss), loss.sum()
    else:
        g, out = np.full(n, gloss / max(active.sum(), 1)), loss.sum() / max(active.sum(), 1)
    dz = dz * g[:, None]
    gx = np.einsum("nm,nmd->nd", dz, W[np.where(active[:, None], samples, 0)])
    gW = np.zeros_like(W, dtype=np.float64)
    gb = np.zeros(len(W))
    for i in np.flatnonzero(active):
        np.add.at(gW, samples[i], dz[i][:, None] * x[i][None, :])
        np.add.at(gb, samples[i], dz[i])
    return out, gx, gW, gb


def fixed_sampler(V):
    return UnigramSampler(np.arange(1, V + 1))


# -------------------------------------------------------- chainer semantics
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduce", REDUCES)
def test_negative_sampling_matches_chainer_reference(dtype, reduce):
    x, t, W, _, samples = make_problem(n=40, d=16, V=30, k=5, dtype=dtype, seed=1)
    f = NegativeSampling(fixed_sampler(30), 5, reduce=reduce)
    loss = f.forward(x, t, W, samples=samples)
    gloss = np.linspace(0.5, 2.0, 40) if reduce == "no" else 1.7
    gx, gW = f.backward(gloss)
    want, wgx, wgW, _ = reference(x.astype(np.float64), t, W.astype(np.float64), samples,
                                  reduce, gloss)
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    assert np.asarray(loss).dtype == dtype and gx.dtype == dtype and gW.dtype == dtype
    np.testing.assert_allclose(loss, want, **tol)
    np.testing.assert_allclose(gx, wgx, **tol)
    np.testing.assert_allclose(gW, wgW, **tol)
    assert np.all(gx[1] == 0) and (reduce != "no" or loss[1] == 0)  # ignored row


def test_forward_draws_chainer_layout():
    x, t, W, _, _ = make_problem(n=50, d=3, V=12, k=3)
    f = NegativeSampling(UnigramSampler(np.arange(1, 13)), 3, random_state=0)
    f.forward(x, t, W)
    assert f.samples.shape == (50, 4)
    np.testing.assert_array_equal(f.samples[:, 0], t)
    assert f.samples[:, 1:].min() >= 0 and f.samples[:, 1:].max() < 12
    # The same seed gives the same negatives; passing them back gives the same loss.
    g = NegativeSampling(UnigramSampler(np.arange(1, 13)), 3, random_state=0)
    assert g.forward(x, t, W) == f.forward(x, t, W, samples=f.samples)
    np.testing.assert_array_equal(g.samples, f.samples)


def test_sampler_options_reach_the_negatives():
    x, t, W, _, _ = make_problem(n=300, d=3, V=6, k=4, seed=2)
    f = NegativeSampling(UnigramSampler(np.ones(6), exclude_target=True, replace=False), 4,
                         random_state=1)
    f.forward(x, t, W)
    neg = f.samples[t >= 0, 1:]
    assert not np.any(neg == t[t >= 0, None])
    assert all(len(set(r)) == 4 for r in neg)


def test_chainer_style_callable_sampler():
    x, t, W, _, _ = make_problem(n=10, d=3, V=5, k=2)
    sampler = AliasSampler(np.ones(5))
    loss, samples = negative_sampling(x, t, W, sampler.sample, 2, return_samples=True)
    want = reference(x, t, W, samples, "sum", 1.0)[0]
    assert loss == pytest.approx(want)


# ------------------------------------------------------------ NCE semantics
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("remove_hits", [False, True])
def test_nce_matches_reference(dtype, remove_hits):
    x, t, W, b, samples = make_problem(n=30, d=8, V=20, k=6, dtype=dtype, seed=3)
    sampler = LogUniformSampler(20)
    f = NCELoss(sampler, 6, remove_accidental_hits=remove_hits, reduce="no")
    loss = f.forward(x, t, W, b, samples=samples)
    gloss = np.linspace(1.0, 2.0, 30)
    gx, gW, gb = f.backward(gloss)
    safe = np.where(t[:, None] >= 0, samples, 0)
    correction = np.log(6 * sampler.probability(safe))  # log(k q), not k q
    want = reference(x.astype(float), t, W.astype(float), samples, "no", gloss,
                     b=b.astype(float), correction=correction, remove_hits=remove_hits)
    tol = dict(rtol=3e-5, atol=3e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    for got, exp in zip((loss, gx, gW, gb), want):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, exp, **tol)


def test_nce_without_correction_is_negative_sampling():
    x, t, W, _, samples = make_problem(seed=4)
    sampler = fixed_sampler(len(W))
    nce = NCELoss(sampler, samples.shape[1] - 1, subtract_log_q=False)
    ns = NegativeSampling(sampler, samples.shape[1] - 1)
    assert nce.forward(x, t, W, samples=samples) == ns.forward(x, t, W, samples=samples)
    gx, gW, gb = nce.backward()
    assert gb is None
    for a, c in zip((gx, gW), ns.backward()):
        np.testing.assert_array_equal(a, c)
    # subtract_log_q=False needs no probabilities: a bare callable works.
    nce_loss(x, t, W, AliasSampler(np.ones(len(W))).sample, 3, subtract_log_q=False)


def test_nce_with_shared_candidates_uses_the_expected_counts():
    """TensorFlow's nce_loss: one candidate set per batch, logits minus log(expected count)."""
    x, t, W, b, _ = make_problem(n=12, d=5, V=40, seed=5)
    t[1] = 7
    sampler = LogUniformSampler(40)
    cand = sampler.sample_candidates(6, unique=True, true_classes=t, random_state=0)
    loss, used = nce_loss(x, t, W, sampler, 6, b, samples=cand, reduce="no",
                          remove_accidental_hits=True, return_samples=True)
    assert used is cand
    sampled, true_count, sampled_count = cand
    samples = np.column_stack([t, np.tile(sampled, (12, 1))])
    correction = np.log(np.column_stack([true_count, np.tile(sampled_count, (12, 1))]))
    want = reference(x, t, W, samples, "no", 1.0, b=b, correction=correction, remove_hits=True)
    np.testing.assert_allclose(loss, want[0], rtol=1e-12)


def test_stable_at_extreme_logits():
    x, t, W, _, samples = make_problem(n=6, d=3, V=9, seed=6, scale=300.0)
    for f in (NegativeSampling(fixed_sampler(9), 4, reduce="no"),
              NCELoss(LogUniformSampler(9), 4, reduce="no")):
        with np.errstate(all="raise"):
            loss = f.forward(x, t, W, samples=samples)
            grads = [g for g in f.backward(np.ones(6)) if g is not None]
        ref = reference(x, t, W, samples, "no", 1.0)[0]
        if isinstance(f, NegativeSampling):
            np.testing.assert_allclose(loss, ref, rtol=1e-12)
        assert np.isfinite(loss).all() and all(np.isfinite(g).all() for g in grads)
    # A class of noise probability 0 makes its logit +inf: loss 0, gradient 0, no NaN.
    sampler = UnigramSampler([0, 1, 1])
    f = NCELoss(sampler, 1, reduce="no")
    x1, W1 = np.ones((1, 2)), np.ones((3, 2))
    loss = f.forward(x1, np.array([0]), W1, samples=np.array([[0, 1]]))
    gx, gW, _ = f.backward(np.ones(1))
    assert np.isfinite(loss).all() and np.isfinite(gx).all() and np.isfinite(gW).all()


# ------------------------------------------------------- finite differences
def numerical_gradient(fun, a, eps=1e-6):
    g = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        old = a[idx]
        a[idx] = old + eps
        plus = fun()
        a[idx] = old - eps
        minus = fun()
        a[idx] = old
        g[idx] = (plus - minus) / (2 * eps)
    return g


def _check_gradients(f, x, t, W, b, samples, reduce):
    gloss = np.linspace(0.5, 1.5, len(x)) if reduce == "no" else 1.3
    args = (x, t, W) if b is None else (x, t, W, b)

    def objective():
        return float(np.sum(gloss * f.forward(*args, samples=samples)))

    objective()
    grads = f.backward(gloss)
    wrt = [x, W] + ([] if b is None else [b])
    for analytic, param in zip(grads, wrt):
        np.testing.assert_allclose(analytic, numerical_gradient(objective, param),
                                   rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("reduce", REDUCES)
def test_negative_sampling_finite_differences(reduce):
    x, t, W, _, samples = make_problem(seed=7)
    _check_gradients(NegativeSampling(fixed_sampler(len(W)), 4, reduce=reduce),
                     x, t, W, None, samples, reduce)


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("remove_hits", [False, True])
@pytest.mark.parametrize("sampler", ["unigram", "log_uniform"])
def test_nce_finite_differences(reduce, remove_hits, sampler):
    x, t, W, b, samples = make_problem(seed=8)
    s = fixed_sampler(len(W)) if sampler == "unigram" else LogUniformSampler(len(W))
    f = NCELoss(s, 4, reduce=reduce, remove_accidental_hits=remove_hits)
    _check_gradients(f, x, t, W, b, samples, reduce)


def test_nce_shared_candidates_finite_differences():
    x, t, W, b, _ = make_problem(seed=9)
    t[1] = 2
    cand = LogUniformSampler(len(W)).sample_candidates(4, unique=True, true_classes=t,
                                                       random_state=1)
    f = NCELoss(LogUniformSampler(len(W)), 4, remove_accidental_hits=True)
    _check_gradients(f, x, t, W, b, cand, "sum")


# ------------------------------------------------------------ array paths
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("with_extras", [False, True], ids=["plain", "bias-correction-hits"])
def test_array_path_matches_compiled_kernel(dtype, with_extras):
    """The CuPy code, run on NumPy arrays, agrees with the Cython kernel."""
    x, t, W, b, samples = make_problem(n=50, d=6, V=15, k=5, dtype=dtype, seed=10)
    active = (t >= 0).astype(np.uint8)
    corr = np.random.default_rng(0).normal(size=samples.shape).astype(dtype)
    bias, corr = (b, corr) if with_extras else (None, None)
    gloss = np.linspace(0.1, 1.0, 50).astype(dtype)
    n, m = samples.shape
    row_loss, coef = np.empty(n), np.empty((n, m), dtype=dtype)
    empty = np.empty(0, dtype=dtype)
    _losses.sampled_logistic_forward(
        x, W, empty if bias is None else bias, samples,
        np.empty((0, 0), dtype=dtype) if corr is None else corr, active, with_extras, 1,
        row_loss, coef)
    gx, gW = np.empty_like(x), np.zeros_like(W)
    gb = np.zeros(len(W), dtype=dtype) if with_extras else empty
    _losses.sampled_logistic_backward(x, W, samples, coef, active, gloss, 1, gx, gW, gb)

    a_loss, a_coef = _cuda_losses.forward(np, x, W, bias, samples, corr, active, with_extras)
    a_gx, a_gW, a_gb = _cuda_losses.backward(np, x, W, samples, a_coef, active, gloss,
                                             with_extras)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    assert a_coef.dtype == dtype and a_gx.dtype == dtype and a_gW.dtype == dtype
    np.testing.assert_allclose(a_loss, row_loss, **tol)
    np.testing.assert_allclose(a_coef, coef, **tol)
    np.testing.assert_allclose(a_gx, gx, **tol)
    np.testing.assert_allclose(a_gW, gW, **tol)
    if with_extras:
        np.testing.assert_allclose(a_gb, gb, **tol)
    else:
        assert a_gb is None


def test_threads_do_not_change_results():
    x, t, W, b, _ = make_problem(n=3000, d=128, V=500, k=5, dtype=np.float32, seed=11)
    assert 3000 * 6 * 128 >= losses._PARALLEL_WORK  # large enough for threads
    f = NCELoss(UnigramSampler(np.arange(1, 501)), 5, random_state=0, n_jobs=-1)
    loss = f.forward(x, t, W, b)
    grads = f.backward()
    with threadpool_limits(limits=1, user_api="openmp"):
        g = NCELoss(UnigramSampler(np.arange(1, 501)), 5, random_state=0, n_jobs=-1)
        assert g.forward(x, t, W, b) == loss
        for a, c in zip(grads, g.backward()):
            np.testing.assert_array_equal(a, c)


def test_read_only_inputs():
    x, t, W, b, samples = make_problem(seed=12)
    for a in (x, t, W, b, samples):
        a.flags.writeable = False
    f = NCELoss(fixed_sampler(len(W)), 4)
    f.forward(x, t, W, b, samples=samples)
    f.backward()


# ---------------------------------------------------------------- bad input
def test_bad_inputs_raise_clear_errors():
    x, t, W, b, samples = make_problem(seed=13)
    s = fixed_sampler(len(W))
    f = NegativeSampling(s, 4)
    with pytest.raises(RuntimeError, match="forward"):
        f.backward()
    with pytest.raises(ValueError, match=r"t must lie in \[0, 9\) or equal ignore_label=-1, got 9"):
        f.forward(x, np.where(t == -1, 9, t), W)
    with pytest.raises(ValueError, match="t must have shape"):
        f.forward(x, t[:-1], W)
    with pytest.raises(TypeError, match="t must be an integer"):
        f.forward(x, t.astype(float), W)
    with pytest.raises(ValueError, match="W has 3 columns but x has 4"):
        f.forward(x, t, W[:, :3])
    with pytest.raises(TypeError, match="W has dtype float32 but x has dtype float64"):
        f.forward(x, t, W.astype(np.float32))
    with pytest.raises(TypeError, match="float32 or float64"):
        f.forward(x.astype(np.float16), t, W)
    with pytest.raises(ValueError, match="x must be 2-D"):
        f.forward(x[0], t, W)
    with pytest.raises(ValueError, match=r"samples must have shape \(7, 5\)"):
        f.forward(x, t, W, samples=samples[:, :3])
    bad = samples.copy()
    bad[0, 0] = (bad[0, 0] + 1) % 9
    with pytest.raises(ValueError, match=r"samples\[:, 0\] must equal t"):
        f.forward(x, t, W, samples=bad)
    bad = samples.copy()
    bad[0, 1] = 99
    with pytest.raises(ValueError, match=r"negative samples must lie in \[0, 9\), got 99"):
        f.forward(x, t, W, samples=bad)
    f.forward(x, t, W, samples=samples)
    with pytest.raises(ValueError, match="gloss must be a scalar"):
        f.backward(np.ones(7))
    g = NegativeSampling(s, 4, reduce="no")
    g.forward(x, t, W, samples=samples)
    with pytest.raises(ValueError, match=r"gloss must have shape \(7,\)"):
        g.backward(np.ones(3))
    with pytest.raises(ValueError, match="reduce"):
        NegativeSampling(s, 4, reduce="mean_all")
    with pytest.raises(ValueError, match="sample_size"):
        NegativeSampling(s, 0)
    with pytest.raises(TypeError, match="sampler"):
        NegativeSampling(42, 3)
    with pytest.raises(TypeError, match="log_probability"):
        NCELoss(AliasSampler(np.ones(9)).sample, 3)
    with pytest.raises(TypeError, match="remove_accidental_hits"):
        NCELoss(s, 3, remove_accidental_hits="yes")
    n = NCELoss(s, 4)
    with pytest.raises(ValueError, match=r"b must have shape \(9,\)"):
        n.forward(x, t, W, b[:3])
    with pytest.raises(TypeError, match="b has dtype"):
        n.forward(x, t, W, b.astype(np.float32))
    with pytest.raises(ValueError, match="sampled must be 4 integers"):
        n.forward(x, t, W, b, samples=(np.arange(3), np.ones(7), np.ones(3)))
    with pytest.raises(ValueError, match="expected counts"):
        n.forward(x, t, W, b, samples=(np.arange(4), np.ones(6), np.ones(4)))


# --------------------------------------------------------------------- GPU
def _cupy():
    cupy = pytest.importorskip("cupy")
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device")
    except Exception as exc:  # CUDA driver missing or broken
        pytest.skip(f"no usable CUDA device: {exc}")
    return cupy


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", ["ns", "nce"])
def test_gpu_matches_cpu(dtype, loss):
    cupy = _cupy()
    x, t, W, b, samples = make_problem(n=2000, d=64, V=5000, k=8, dtype=dtype, seed=14)

    def make():
        if loss == "ns":
            return NegativeSampling(fixed_sampler(5000), 8, reduce="sum")
        return NCELoss(LogUniformSampler(5000), 8, remove_accidental_hits=True, reduce="sum")

    args = (x, t, W) if loss == "ns" else (x, t, W, b)
    cpu = make()
    want = cpu.forward(*args, samples=samples)
    wgrads = cpu.backward(0.5)
    gpu = make()
    got = gpu.forward(*(cupy.asarray(a) for a in args), samples=cupy.asarray(samples))
    grads = gpu.backward(0.5)
    assert isinstance(got, cupy.ndarray) and got.dtype == dtype
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(float(got), float(want), rtol=tol)
    for g, w in zip(grads, wgrads):
        if w is None:
            continue
        assert isinstance(g, cupy.ndarray) and g.dtype == dtype
        np.testing.assert_allclose(cupy.asnumpy(g), w, rtol=tol, atol=tol)


@pytest.mark.gpu
def test_gpu_draws_equal_cpu_draws_and_mixing_is_refused():
    cupy = _cupy()
    x, t, W, _, _ = make_problem(n=100, d=8, V=50, k=5, dtype=np.float32, seed=15)
    cpu = NegativeSampling(fixed_sampler(50), 5, random_state=3)
    gpu = NegativeSampling(fixed_sampler(50), 5, random_state=3)
    want = cpu.forward(x, t, W)
    got = gpu.forward(cupy.asarray(x), cupy.asarray(t), cupy.asarray(W))
    np.testing.assert_array_equal(gpu.samples, cpu.samples)
    assert float(got) == pytest.approx(float(want), rel=1e-5)
    with pytest.raises(TypeError, match="W must be CuPy"):
        gpu.forward(cupy.asarray(x), cupy.asarray(t), W)


# ------------------------------------------- the estimator's NCE kernel
@pytest.mark.parametrize("with_bias", [False, True])
def test_training_kernel_nce_step_matches_nce_loss(with_bias):
    """One skip-gram epoch over the sentence [a, b] with a fixed negative c is two
    sequential NCE steps; each must equal an SGD step of NCELoss (batch of 1),
    the kernel's output bias that of NCELoss's ``b``."""
    V, d, k, lr = 5, 6, 1, 0.1
    a, b_, c = 0, 1, 3
    rng = np.random.default_rng(16)
    w_in = rng.normal(size=(V, d)).astype(np.float32)
    w_out = rng.normal(size=(V, d)).astype(np.float32)
    q = np.array([0.4, 0.3, 0.1, 0.15, 0.05])
    log_kq = np.log(k * q).astype(np.float32)
    one_hot = np.zeros(V)
    one_hot[c] = 1.0  # the alias table always draws c
    accept, alias = alias_table(one_hot)

    bias = rng.normal(-1.5, 0.5, V).astype(np.float32) if with_bias else None
    bias0 = None if bias is None else bias.copy()

    ref_in, ref_out = w_in.astype(np.float64), w_out.astype(np.float64)
    ref_b = None if bias is None else bias.astype(np.float64)
    f = NCELoss(AliasSampler(q), k, remove_accidental_hits=True)
    for centre, context in ((a, b_), (b_, a)):  # word2vec: the context vector predicts the centre
        f.forward(ref_in[[context]], np.array([centre]), ref_out, ref_b,
                  samples=np.array([[centre, c]]))
        gx, gW, gb = f.backward()
        ref_out -= lr * gW
        ref_in[context] -= lr * gx[0]
        if with_bias:
            ref_b -= lr * gb

    stats = np.zeros((1, _core.N_STATS))
    _core.train_epoch(
        np.array([a, b_], dtype=np.int32), np.array([0, 2], dtype=np.int64),
        np.array([0, 2], dtype=np.int64), np.array([0], dtype=np.int64),
        np.ones(V, dtype=np.float32), kernel_thresholds(accept), alias, log_kq,
        w_in, w_out, _core.ARCHITECTURES["skipgram"], _core.LOSSES["nce"], 1, False, k,
        lr, lr, 0, 2, 0, 1, stats, np.zeros(1, dtype=np.uint8), np.zeros(1, dtype=np.int32),
        False, bias,
    )
    np.testing.assert_allclose(w_in, ref_in, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w_out, ref_out, rtol=1e-5, atol=1e-6)
    if with_bias:
        assert not np.allclose(ref_b, bias0)  # the step moved the bias
        np.testing.assert_allclose(bias, ref_b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("params", [{"loss": "nce"}, {"noise": "log_uniform"},
                                    {"loss": "nce", "noise": "log_uniform"}])
def test_estimator_nce_and_log_uniform_noise_train(params):
    rng = np.random.default_rng(17)
    # Two-word documents: a Zipf-distributed word and a partner of its own, so
    # the context carries information beyond word frequencies (which NCE's
    # output bias knows from the start: it starts at log p(w)).
    docs = [[f"w{i}", f"p{i}"] for i in rng.zipf(1.5, 3000) if i < 60]
    model = Word2VecNS(vector_size=16, min_count=1, epochs=3, n_jobs=1, random_state=0,
                       window=1, learning_rate=0.1, **params).fit(docs)
    assert np.isfinite(model.vectors_).all() and np.isfinite(model.loss_history_).all()
    assert model.loss_history_[-1] < model.loss_history_[0]


# -------------------------------------------------------------------- docs
def test_building_blocks_doc_examples_run():
    if not DOCS.exists():
        pytest.skip("docs/building_blocks.md is not in this checkout")
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)
    assert len(blocks) >= 2
    namespace = {"__name__": "doc_example"}
    for code in blocks:
        exec(compile(code, str(DOCS), "exec"), namespace)
