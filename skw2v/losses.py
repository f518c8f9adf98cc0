"""Sampled logistic losses with forward and backward passes.

- :class:`NegativeSampling` / :func:`negative_sampling`: chainer's
  ``F.negative_sampling``. Row i of a batch gets ``samples[i, 0] = t[i]`` and
  ``sample_size`` negatives ``samples[i, 1:]`` from a sampler; its loss is
  ``sum_j softplus(-s_j * x_i . W[samples[i, j]])`` with ``s_0 = +1`` and
  ``s_j = -1`` for the negatives (a negative equal to the target still counts
  as a negative, as in chainer).
- :class:`NCELoss` / :func:`nce_loss`: noise-contrastive estimation, as
  TensorFlow's ``tf.nn.nce_loss`` and numpy-ml's ``NCELoss``: the same loss
  on logits ``x_i . W[k] + b[k] - log(E[count of k])``, where the expected
  count of class k among the negatives is ``sample_size * q(k)`` for
  i.i.d. draws from the noise distribution q (or the expected counts a
  candidate sampler reports). The correction uses the *log* of the expected
  count: subtracting ``k * q`` itself, or ``log q`` without ``log k``, is a
  classic mistake that biases the model. ``subtract_log_q=False`` drops the
  correction (plain negative sampling, with a bias).

Rows whose label equals ``ignore_label`` have zero loss and zero gradient.
``reduce="sum"`` returns the sum over rows (chainer's default), ``"mean"`` the
mean over the rows not ignored, ``"no"`` one loss per row.

NumPy arrays run in the compiled kernel (``skw2v._losses``: no GIL, OpenMP
over rows for large batches, float32 or float64); CuPy arrays run on the GPU
and give CuPy arrays back. CuPy is imported only when CuPy arrays come in.
Negatives are drawn on the CPU by the sampler (a fixed ``random_state`` gives
the same negatives on both paths) and copied to the device.
"""

from numbers import Integral

import numpy as np

from ._cuda import _losses as _cuda_losses
from ._losses import sampled_logistic_backward, sampled_logistic_forward
from ._threads import effective_n_threads
from .samplers import check_random_state

__all__ = ["NCELoss", "NegativeSampling", "nce_loss", "negative_sampling"]

_REDUCE = ("sum", "mean", "no")
_PARALLEL_WORK = 1 << 21  # n * (sample_size + 1) * d above which rows go to threads


def _module_of(a):
    return type(a).__module__.split(".")[0]


def _array_module(arrays):
    """numpy or cupy, after checking all the arrays live on the same side."""
    names = {name: _module_of(a) == "cupy" for name, a in arrays.items() if a is not None}
    if not any(names.values()):
        return np
    if not all(names.values()):
        on_cpu = [name for name, gpu in names.items() if not gpu]
        raise TypeError(
            f"mix of CuPy and NumPy inputs: {', '.join(on_cpu)} must be CuPy arrays too "
            "(move them with cupy.asarray)"
        )
    import cupy

    return cupy


def _to_host(a):
    return a.get() if _module_of(a) == "cupy" else np.asarray(a)


def _check_float_matrix(xp, a, name, dtype=None):
    a = xp.asarray(a)
    if a.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must be float32 or float64, got dtype {a.dtype}")
    if dtype is not None and a.dtype != dtype:
        raise TypeError(f"{name} has dtype {a.dtype} but x has dtype {dtype}: use one dtype")
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {a.shape}")
    return xp.ascontiguousarray(a)


def _check_sampler(sampler, need_q):
    if need_q:
        if not (hasattr(sampler, "log_probability") and hasattr(sampler, "sample_negatives")):
            raise TypeError(
                "sampler must provide sample_negatives() and log_probability() "
                "(a skw2v.samplers sampler) for the NCE correction, got "
                f"{type(sampler).__name__}; or pass subtract_log_q=False"
            )
    elif not (hasattr(sampler, "sample_negatives") or callable(sampler)):
        raise TypeError(
            "sampler must be a skw2v.samplers sampler or a callable shape -> int array, "
            f"got {type(sampler).__name__}"
        )


class _SampledLogistic:
    """Shared forward/backward of negative sampling and NCE."""

    def __init__(self, sampler, sample_size, reduce, ignore_label, random_state, n_jobs):
        if not isinstance(sample_size, Integral) or isinstance(sample_size, bool) \
                or sample_size < 1:
            raise ValueError(f"sample_size must be an integer >= 1, got {sample_size!r}")
        if reduce not in _REDUCE:
            raise ValueError(f"reduce must be one of {_REDUCE}, got {reduce!r}")
        if not isinstance(ignore_label, Integral) or isinstance(ignore_label, bool):
            raise TypeError(f"ignore_label must be an int, got {ignore_label!r}")
        if n_jobs is not None and (not isinstance(n_jobs, Integral) or n_jobs == 0):
            raise ValueError(f"n_jobs must be None or a non-zero int, got {n_jobs!r}")
        self.sampler = sampler
        self.sample_size = int(sample_size)
        self.reduce = reduce
        self.ignore_label = int(ignore_label)
        self.random_state = random_state
        self.n_jobs = n_jobs
        self._rng = check_random_state(random_state)
        self._saved = None
        self.samples = None

    # ------------------------------------------------------------ drawing
    def _draw(self, t_host, active):
        labels = np.where(active, t_host, -1)
        if hasattr(self.sampler, "sample_negatives"):
            neg = self.sampler.sample_negatives(labels, self.sample_size, self._rng)
        else:
            neg = _to_host(self.sampler((len(t_host), self.sample_size)))
        neg = np.asarray(neg)
        if neg.shape != (len(t_host), self.sample_size) or neg.dtype.kind not in "iu":
            raise ValueError(
                f"the sampler returned {neg.dtype} of shape {neg.shape}, expected integers "
                f"of shape {(len(t_host), self.sample_size)}"
            )
        return np.concatenate([t_host[:, None].astype(np.int64), neg.astype(np.int64)], axis=1)

    def _check_samples(self, samples, t_host, active):
        s = _to_host(samples)
        if s.dtype.kind not in "iu":
            raise TypeError(f"samples must be an integer array, got dtype {s.dtype}")
        want = (len(t_host), self.sample_size + 1)
        if s.shape != want:
            raise ValueError(
                f"samples must have shape {want} (column 0 the labels t, then sample_size "
                f"negatives), got {s.shape}"
            )
        s = s.astype(np.int64)
        if np.any(s[active, 0] != t_host[active]):
            raise ValueError("samples[:, 0] must equal t on the rows not ignored")
        return s

    # ------------------------------------------------------------ passes
    def _forward(self, x, t, W, b, samples, shared, need_q, subtract_log_q, remove_hits):
        xp = _array_module({"x": x, "t": t, "W": W, "b": b})
        x = _check_float_matrix(xp, x, "x")
        W = _check_float_matrix(xp, W, "W", x.dtype)
        if W.shape[1] != x.shape[1]:
            raise ValueError(f"W has {W.shape[1]} columns but x has {x.shape[1]}")
        n, V = x.shape[0], W.shape[0]
        if b is not None:
            b = xp.ascontiguousarray(xp.asarray(b))
            if b.dtype != x.dtype:
                raise TypeError(f"b has dtype {b.dtype} but x has dtype {x.dtype}: use one dtype")
            if b.shape != (V,):
                raise ValueError(f"b must have shape ({V},) (one bias per row of W), got {b.shape}")
        t_host = _to_host(t)
        if t_host.dtype.kind not in "iu" and t_host.size:
            raise TypeError(f"t must be an integer array, got dtype {t_host.dtype}")
        t_host = t_host.astype(np.int64)
        if t_host.shape != (n,):
            raise ValueError(
                f"t must have shape ({n},) (one label per row of x), got {t_host.shape}"
            )
        active = t_host != self.ignore_label
        bad = active & ((t_host < 0) | (t_host >= V))
        if bad.any():
            raise ValueError(
                f"t must lie in [0, {V}) or equal ignore_label={self.ignore_label}, "
                f"got {t_host[bad][0]}"
            )
        correction = None
        if shared is not None:
            s_host, correction = self._shared_samples(shared, t_host, active, V, subtract_log_q)
        elif samples is None:
            s_host = self._draw(t_host, active)
        else:
            s_host = self._check_samples(samples, t_host, active)
        neg = s_host[active, 1:]
        if neg.size and (neg.min() < 0 or neg.max() >= V):
            raise ValueError(
                f"negative samples must lie in [0, {V}), got {neg[(neg < 0) | (neg >= V)][0]}"
            )
        if need_q and subtract_log_q and correction is None:
            safe = np.where(active[:, None], s_host, 0)
            correction = np.log(self.sample_size) + self.sampler.log_probability(safe)
        self.samples = s_host if shared is None else shared

        samples_dev = xp.asarray(s_host)
        active_dev = xp.asarray(active.astype(np.uint8))
        corr_dev = None if correction is None else xp.asarray(correction.astype(x.dtype))
        if xp is np:
            row_loss = np.empty(n, dtype=np.float64)
            coef = np.empty(s_host.shape, dtype=x.dtype)
            empty = np.empty(0, dtype=x.dtype)
            sampled_logistic_forward(
                x, W, empty if b is None else b, samples_dev,
                np.empty((0, 0), dtype=x.dtype) if corr_dev is None else corr_dev,
                active_dev, remove_hits, self._threads(x, s_host), row_loss, coef,
            )
        else:
            row_loss, coef = _cuda_losses.forward(xp, x, W, b, samples_dev, corr_dev,
                                                  active_dev, remove_hits)
        n_active = int(active.sum())
        self._saved = (xp, x, W, b is not None, samples_dev, coef, active_dev, n_active)
        if self.reduce == "no":
            return row_loss.astype(x.dtype)
        total = row_loss.sum()
        if self.reduce == "mean":
            total = total / max(n_active, 1)
        return total.astype(x.dtype) if xp is not np else x.dtype.type(total)

    def _shared_samples(self, shared, t_host, active, V, subtract_log_q):
        raise TypeError("samples must be an integer array of shape (n, sample_size + 1)")

    def _backward(self, gloss):
        if self._saved is None:
            raise RuntimeError("backward() needs a forward() first")
        xp, x, W, with_bias, samples, coef, active, n_active = self._saved
        n = x.shape[0]
        if self.reduce == "no":
            g = xp.asarray(gloss, dtype=x.dtype)
            if g.ndim != 0 and g.shape != (n,):
                raise ValueError(f"with reduce='no', gloss must have shape ({n},), got {g.shape}")
        else:
            g = xp.asarray(gloss, dtype=np.float64)
            if g.ndim != 0:
                raise ValueError(
                    f"with reduce={self.reduce!r}, gloss must be a scalar, got shape {g.shape}"
                )
            if self.reduce == "mean":
                g = g / max(n_active, 1)
        g = xp.ascontiguousarray(xp.broadcast_to(g.astype(x.dtype), (n,)))
        if xp is np:
            gx = np.empty_like(x)
            gW = np.zeros_like(W)
            gb = np.zeros(W.shape[0], dtype=x.dtype) if with_bias else np.empty(0, x.dtype)
            sampled_logistic_backward(x, W, samples, coef, active, g,
                                      self._threads(x, samples), gx, gW, gb)
            return gx, gW, (gb if with_bias else None)
        return _cuda_losses.backward(xp, x, W, samples, coef, active, g, with_bias)

    def _threads(self, x, samples):
        work = samples.shape[0] * samples.shape[1] * max(1, x.shape[1])
        if work < _PARALLEL_WORK:
            return 1
        return max(1, min(effective_n_threads(self.n_jobs), samples.shape[0]))


class NegativeSampling(_SampledLogistic):
    """Negative-sampling loss with an explicit backward pass (chainer's semantics).

    Parameters
    ----------
    sampler : sampler or callable
        A ``skw2v.samplers`` sampler (its ``sample_negatives(labels, k, rng)`` is
        called, so ``UnigramSampler(exclude_target=True)`` keeps targets out of
        their own negatives), or a callable ``shape -> int array`` as chainer
        takes (e.g. ``AliasSampler(p).sample``).
    sample_size : int
        Negatives per row.
    reduce : {"sum", "mean", "no"}, default="sum"
    ignore_label : int, default=-1
        Rows with this label give zero loss and zero gradient.
    random_state : None, int, RandomState or Generator
        Source of the seeds of the negatives; an int makes a sequence of
        forward calls reproducible.
    n_jobs : int or None
        Threads for large batches (None: all cores available, see Word2VecNS).

    Attributes
    ----------
    samples : ndarray of shape (n, sample_size + 1)
        Classes used by the last forward: labels in column 0, then negatives.
    """

    def __init__(self, sampler, sample_size, reduce="sum", ignore_label=-1, *,
                 random_state=None, n_jobs=None):
        _check_sampler(sampler, need_q=False)
        super().__init__(sampler, sample_size, reduce, ignore_label, random_state, n_jobs)

    def forward(self, x, t, W, samples=None):
        """Loss of inputs ``x`` (n, d) with labels ``t`` (n,) and output weights ``W`` (V, d).

        ``samples`` (n, sample_size + 1), e.g. a previous ``self.samples``,
        fixes the classes instead of drawing them.
        """
        return self._forward(x, t, W, None, samples, None, False, False, False)

    __call__ = forward

    def backward(self, gloss=1.0):
        """Gradients ``(gx, gW)`` of ``gloss * loss`` (gloss of shape (n,) for reduce='no')."""
        gx, gW, _ = self._backward(gloss)
        return gx, gW


class NCELoss(_SampledLogistic):
    """Noise-contrastive estimation loss with an explicit backward pass.

    Logits are ``x_i . W[k] + b[k] - log(expected count of k)``, the expected
    count being ``sample_size * q(k)`` for negatives drawn i.i.d. from the
    sampler's distribution q; the loss is the logistic loss of the true class
    against the negatives, as for :class:`NegativeSampling`.

    Parameters
    ----------
    sampler : skw2v.samplers sampler
        The noise distribution q (``log_probability``) and its draws
        (``sample_negatives``).
    sample_size : int
        Negatives per row.
    subtract_log_q : bool, default=True
        False leaves the logits uncorrected: negative sampling with a bias.
    remove_accidental_hits : bool, default=False
        A negative equal to the row's label contributes nothing (TensorFlow's
        option; the ``Word2VecNS`` kernel always does this).
    reduce, ignore_label, random_state, n_jobs
        As for :class:`NegativeSampling`.

    Notes
    -----
    The correction ``log(sample_size * q)`` is exact for i.i.d. draws: use a
    sampler with ``exclude_target=False`` and ``replace=True`` (the defaults),
    and ``remove_accidental_hits`` to keep a label out of its own negatives.
    """

    def __init__(self, sampler, sample_size, *, subtract_log_q=True,
                 remove_accidental_hits=False, reduce="sum", ignore_label=-1,
                 random_state=None, n_jobs=None):
        for name, value in (("subtract_log_q", subtract_log_q),
                            ("remove_accidental_hits", remove_accidental_hits)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{name} must be a bool, got {value!r}")
        _check_sampler(sampler, need_q=bool(subtract_log_q))
        super().__init__(sampler, sample_size, reduce, ignore_label, random_state, n_jobs)
        self.subtract_log_q = bool(subtract_log_q)
        self.remove_accidental_hits = bool(remove_accidental_hits)

    def forward(self, x, t, W, b=None, samples=None):
        """Loss of inputs ``x`` (n, d), labels ``t`` (n,), weights ``W`` (V, d), biases ``b`` (V,).

        ``samples`` fixes the classes: either an array (n, sample_size + 1)
        (labels, then per-row negatives; corrected by ``log(sample_size * q)``)
        or the triple ``(sampled, true_expected_count, sampled_expected_count)``
        of a candidate sampler (``LogUniformSampler.sample``,
        ``sample_candidates``): ``sample_size`` negatives shared by the whole
        batch, corrected by the log of the expected counts given, as
        TensorFlow's ``nce_loss`` does.
        """
        shared = samples if isinstance(samples, tuple) else None
        return self._forward(x, t, W, b, None if shared else samples, shared, True,
                             self.subtract_log_q, self.remove_accidental_hits)

    __call__ = forward

    def backward(self, gloss=1.0):
        """Gradients ``(gx, gW, gb)`` (gb None when forward had no ``b``)."""
        return self._backward(gloss)

    def _shared_samples(self, shared, t_host, active, V, subtract_log_q):
        if len(shared) != 3:
            raise ValueError(
                "samples as a tuple must be (sampled, true_expected_count, "
                f"sampled_expected_count), got {len(shared)} items"
            )
        sampled, true_count, sampled_count = (_to_host(a) if a is not None else None
                                              for a in shared)
        n, k = len(t_host), self.sample_size
        if sampled.dtype.kind not in "iu" or sampled.shape != (k,):
            raise ValueError(
                f"sampled must be {k} integers (sample_size), got {sampled.dtype} "
                f"of shape {sampled.shape}"
            )
        s = np.empty((n, k + 1), dtype=np.int64)
        s[:, 0] = t_host
        s[:, 1:] = sampled[None, :]
        if not subtract_log_q:
            return s, None
        if true_count is None or sampled_count is None:
            raise ValueError("subtract_log_q=True needs both expected counts in samples")
        true_count = np.asarray(true_count, dtype=np.float64).reshape(-1)
        sampled_count = np.asarray(sampled_count, dtype=np.float64)
        if true_count.shape != (n,) or sampled_count.shape != (k,):
            raise ValueError(
                f"expected counts must have shapes ({n},) or ({n}, 1) and ({k},), got "
                f"{np.shape(shared[1])} and {np.shape(shared[2])}"
            )
        with np.errstate(divide="ignore"):
            corr = np.empty((n, k + 1))
            corr[:, 0] = np.log(true_count)
            corr[:, 1:] = np.log(sampled_count)[None, :]
        corr[~active, 0] = 0.0
        return s, corr


def negative_sampling(x, t, W, sampler, sample_size, reduce="sum", ignore_label=-1, *,
                      samples=None, return_samples=False, random_state=None, n_jobs=None):
    """Functional form of :class:`NegativeSampling` (loss only).

    Returns the loss, or ``(loss, samples)`` with ``return_samples=True``.
    """
    f = NegativeSampling(sampler, sample_size, reduce, ignore_label,
                         random_state=random_state, n_jobs=n_jobs)
    loss = f.forward(x, t, W, samples=samples)
    return (loss, f.samples) if return_samples else loss


def nce_loss(x, t, W, sampler, sample_size, b=None, *, subtract_log_q=True,
             remove_accidental_hits=False, reduce="sum", ignore_label=-1, samples=None,
             return_samples=False, random_state=None, n_jobs=None):
    """Functional form of :class:`NCELoss` (loss only).

    Returns the loss, or ``(loss, samples)`` with ``return_samples=True``.
    """
    f = NCELoss(sampler, sample_size, subtract_log_q=subtract_log_q,
                remove_accidental_hits=remove_accidental_hits, reduce=reduce,
                ignore_label=ignore_label, random_state=random_state, n_jobs=n_jobs)
    loss = f.forward(x, t, W, b, samples=samples)
    return (loss, f.samples) if return_samples else loss
