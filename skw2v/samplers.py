"""Samplers of classes (words) for sampled losses.

- :class:`AliasSampler`: any discrete distribution, Walker/Vose alias tables,
  O(1) per draw; the same tables and the same draws as the training kernel
  (chainer's ``WalkerAlias``).
- :class:`UnigramSampler`: alias sampler over ``counts ** power``, optionally
  excluding each row's target from its negatives and drawing without
  replacement (the "deep learning from scratch" ``UnigramSampler``).
- :class:`LogUniformSampler`: the Zipfian distribution over ranks,
  ``P(k) = (log(k + 2) - log(k + 1)) / log(range_max + 1)``, with TensorFlow's
  candidate-sampler semantics (``log_uniform_candidate_sampler``).

Every sampler draws on the CPU from 64-bit seeds taken from ``random_state``
(None, an int, a ``numpy.random.RandomState`` or a ``numpy.random.Generator``),
so a fixed ``random_state`` gives the same classes on every machine, whatever
the number of threads.

Draws without replacement are *successive sampling*: a class is drawn with
probability proportional to ``P`` among the classes not yet taken, the law of
``numpy.random.Generator.choice(replace=False, p=P)`` and of TensorFlow's
``unique=True`` (which rejects repeats). Rejection is used while it is cheap;
when the classes still allowed hold less than 1/64 of the probability, the
row is finished by an exact exponential race instead, so no input makes the
sampler spin.
"""

from numbers import Integral, Real

import numpy as np

from ._alias import alias_table, kernel_thresholds
from ._core import sample_alias
from ._losses import DISTRIBUTIONS, draw_rows
from ._threads import effective_n_threads
from ._vocab import log_uniform_probability

__all__ = ["AliasSampler", "LogUniformSampler", "UnigramSampler"]

_SEED_BOUND = 2**63  # seeds are drawn in [0, 2**63)
_PARALLEL_DRAWS = 1 << 17  # rows are drawn by several threads above this many classes
_FALLBACK_KEYS = 1 << 22  # keys per block of the exact fallback


def check_random_state(random_state):
    """Return a ``RandomState`` or ``Generator`` for ``random_state``.

    None gives NumPy's global ``RandomState`` (as scikit-learn does), an int a
    new ``RandomState(random_state)``; generator instances are used as given.
    """
    if random_state is None:
        return np.random.mtrand._rand
    if isinstance(random_state, (np.random.RandomState, np.random.Generator)):
        return random_state
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        if not 0 <= random_state < 2**32:
            raise ValueError(f"random_state must be in [0, 2**32), got {random_state!r}")
        return np.random.RandomState(int(random_state))
    raise TypeError(
        "random_state must be None, an int, a numpy RandomState or a numpy Generator, "
        f"got {type(random_state).__name__}"
    )


def draw_seed(random_state):
    """A 63-bit seed for the compiled samplers, drawn from ``random_state``."""
    rs = check_random_state(random_state)
    if isinstance(rs, np.random.Generator):
        return int(rs.integers(0, _SEED_BOUND, dtype=np.int64))
    return int(rs.randint(0, _SEED_BOUND, dtype=np.int64))


def _check_count(value, name, minimum=0):
    if not isinstance(value, Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_shape(shape):
    if isinstance(shape, Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"shape must be an int or a tuple of ints, got {shape!r}") from None
    for s in shape:
        if not isinstance(s, Integral) or isinstance(s, bool):
            raise TypeError(f"shape must be an int or a tuple of ints, got {shape!r}")
        if s < 0:
            raise ValueError(f"shape must hold non-negative integers, got {shape!r}")
    return tuple(int(s) for s in shape)


def _check_classes(classes, n_classes, name, allow_negative=False):
    """Integer array of classes in [0, n_classes) (negative = none, if allowed)."""
    arr = np.asarray(classes)
    if arr.dtype == object or not (arr.dtype.kind in "iu" or arr.size == 0):
        raise TypeError(f"{name} must be an array of integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    bad = arr >= n_classes if allow_negative else (arr < 0) | (arr >= n_classes)
    if bad.any():
        raise ValueError(
            f"{name} must lie in [0, {n_classes}), got {int(arr[bad].ravel()[0])}"
        )
    return arr


def _readonly(a):
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


class _Sampler:
    """Row-wise drawing shared by the samplers (subclasses give the distribution)."""

    n_classes: int

    # -- distribution, provided by subclasses
    def _kernel_args(self):
        raise NotImplementedError

    def _dense_probabilities(self):
        raise NotImplementedError

    def _probability(self, classes):
        raise NotImplementedError

    def _n_positive(self):
        raise NotImplementedError

    # -- public
    def probability(self, classes):
        """P(k) of each class in ``classes`` (float64, same shape)."""
        return self._probability(_check_classes(classes, self.n_classes, "classes"))

    def log_probability(self, classes):
        """log P(k) of each class (float64; -inf for a class of probability 0)."""
        p = self.probability(classes)
        with np.errstate(divide="ignore"):
            return np.log(p)

    def sample(self, shape, random_state=None, replace=True):
        """Draw an array of classes of the given shape (int32 for alias samplers,
        int64 for the log-uniform one).

        ``replace=False`` makes the entries along the last axis distinct
        (successive sampling). The same signature and meaning on every
        sampler; TensorFlow's ``(num_sampled, unique)`` call is
        :meth:`sample_candidates`.
        """
        shape = _check_shape(shape)
        if not replace and len(shape) == 0:
            raise ValueError("replace=False needs a shape with at least one axis")
        m = shape[-1] if shape else 1
        n = int(np.prod(shape[:-1], dtype=np.int64)) if shape else 1
        seed = draw_seed(random_state)
        if not replace:
            self._check_capacity(None, m, False)
        out, _ = self._draw_rows(n, m, None, replace, seed)
        return out.astype(self._dtype).reshape(shape)

    def sample_negatives(self, targets, sample_size, random_state=None, *,
                         exclude_target=False, replace=True):
        """Draw ``sample_size`` classes for each target.

        Parameters
        ----------
        targets : array of int, shape (n,)
            Row i excludes ``targets[i]`` when ``exclude_target``; a negative
            target (an ignored row) excludes nothing.
        sample_size : int
            Classes per row.
        random_state : None, int, RandomState or Generator
        exclude_target : bool, default=False
            Never return a row's own target: the draws follow P conditioned on
            ``k != targets[i]``.
        replace : bool, default=True
            False makes the classes of a row distinct (successive sampling).

        Returns
        -------
        ndarray of shape (n, sample_size)
        """
        for name, value in (("exclude_target", exclude_target), ("replace", replace)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{name} must be a bool, got {value!r}")
        t = _check_classes(targets, self.n_classes, "targets", allow_negative=True)
        if t.ndim != 1:
            raise ValueError(f"targets must be 1-D, got shape {t.shape}")
        k = _check_count(sample_size, "sample_size")
        seed = draw_seed(random_state)
        self._check_capacity(t if exclude_target else None, k, replace)
        out, _ = self._draw_rows(len(t), k, t if exclude_target else None, replace, seed)
        return out.astype(self._dtype, copy=False)

    def sample_candidates(self, num_sampled, unique=True, true_classes=None, random_state=None):
        """One set of candidates for a whole batch, as TensorFlow's candidate samplers.

        Returns ``(sampled, true_expected_count, sampled_expected_count)``:
        ``sampled`` holds ``num_sampled`` classes (int64), distinct when
        ``unique``. The expected counts, used by NCE/sampled softmax to
        correct the logits, are the expected number of times each class
        appears in ``sampled`` under the sampling procedure: ``num_sampled * P``
        with replacement; with ``unique=True``, where ``num_tries`` draws with
        replacement were needed to collect ``num_sampled`` distinct classes,
        ``1 - (1 - P) ** num_tries``, the probability that a class shows up in
        ``num_tries`` draws (TensorFlow's formula; it approximates the
        inclusion probability, it is not exact). One difference: when no draw
        was rejected (``num_tries == num_sampled``) TensorFlow reports
        ``num_sampled * P``, which can exceed 1; here the formula is the same
        for every outcome, so the counts never exceed 1 with ``unique=True``.
        ``true_expected_count`` has the shape of ``true_classes`` (None when
        ``true_classes`` is None).
        """
        m = _check_count(num_sampled, "num_sampled", 1)
        if not isinstance(unique, (bool, np.bool_)):
            raise TypeError(f"unique must be a bool, got {unique!r}")
        true = None
        if true_classes is not None:
            true = _check_classes(true_classes, self.n_classes, "true_classes")
        seed = draw_seed(random_state)
        self._check_capacity(None, m, not unique)
        out, tries = self._draw_rows(1, m, None, not unique, seed)
        sampled = out[0]
        num_tries = float(tries[0]) if unique else float(m)
        sampled_count = self._expected_count(self._probability(sampled), unique, num_tries)
        true_count = None
        if true is not None:
            true_count = self._expected_count(self._probability(true), unique, num_tries)
        return sampled, true_count, sampled_count

    # -- helpers
    @staticmethod
    def _expected_count(p, unique, num_tries):
        if not unique:
            return p * num_tries
        return -np.expm1(num_tries * np.log1p(-p))

    def _check_capacity(self, targets, m, replace):
        n_pos = self._n_positive()
        if targets is not None:
            valid = targets[targets >= 0]
            own = self._probability(valid) > 0 if len(valid) else np.zeros(0, dtype=bool)
        if replace:
            if targets is not None and m > 0 and n_pos == 1 and own.any():
                raise ValueError(
                    "exclude_target=True but the target holds all the probability: "
                    "no other class can be drawn"
                )
            return
        cap = n_pos - (1 if targets is not None and own.any() else 0)
        if m > cap:
            raise ValueError(
                f"cannot draw {m} distinct classes without replacement: only {cap} "
                "classes have non-zero probability"
                + (" besides the target" if targets is not None else "")
            )

    def _draw_rows(self, n, m, targets, replace, seed):
        kind, thr, alias, probs, range_max = self._kernel_args()
        out = np.empty((n, m), dtype=np.int64)
        filled = np.empty(n, dtype=np.int64)
        tries = np.empty(n, dtype=np.float64)
        t = np.empty(0, dtype=np.int64) if targets is None else np.ascontiguousarray(targets)
        n_threads = effective_n_threads(None) if n * m >= _PARALLEL_DRAWS and n > 1 else 1
        draw_rows(kind, thr, alias, probs, range_max, t, bool(replace), seed,
                  n_threads, out, filled, tries)
        short = np.flatnonzero(filled < m)
        if len(short):
            _finish_rows(self._dense_probabilities(), None if targets is None else t, out,
                         filled, tries, short, replace, seed)
        return out, tries


def _finish_rows(p, targets, out, filled, tries, short, replace, seed):
    """Complete, exactly, the rows rejection left short (allowed mass below 1/64).

    With replacement (only a class holding more than 63/64 of the mass as the
    excluded target sends rows here): draw from P without that class.
    Without replacement: an exponential race over the classes still allowed,
    key ``E / P_k`` with ``E ~ Exp(1)``, whose increasing order is successive
    sampling; the draws rejection would have needed are added to ``tries``
    (one geometric variable per pick, in the mass still free before it).
    Vectorised over rows, in blocks of about 4M keys.
    """
    rng = np.random.default_rng([seed, 0x5EED])
    n_classes, m = len(p), out.shape[1]
    tgt = np.full(len(short), -1, dtype=np.int64) if targets is None else targets[short]
    if replace:
        for target in np.unique(tgt):
            rows = short[tgt == target]
            q = p.copy()
            if target >= 0:
                q[target] = 0.0
            out[rows] = rng.choice(n_classes, size=(len(rows), m), p=q / q.sum())
            tries[rows] = m
        return
    block = max(1, _FALLBACK_KEYS // n_classes)
    for b in range(0, len(short), block):
        rows, t = short[b:b + block], tgt[b:b + block]
        c, f = len(rows), filled[rows]
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential((c, n_classes)) / p  # P = 0: never first
        done = np.arange(m)[None, :] < f[:, None]
        keys[np.repeat(np.arange(c), f), out[rows][done]] = np.inf
        has = t >= 0
        keys[np.flatnonzero(has), t[has]] = np.inf
        width = m - int(f.min())
        order = np.argsort(keys, axis=1, kind="stable")[:, :width]
        valid = np.arange(width)[None, :] < (m - f)[:, None]
        row_of = np.repeat(np.arange(c), m - f)
        out[rows[row_of], (f[:, None] + np.arange(width)[None, :])[valid]] = order[valid]
        keys[row_of, order[valid]] = np.inf
        rest = np.where(np.isfinite(keys), p, 0.0).sum(axis=1)
        picked = np.where(valid, p[order], 0.0)
        free_before = rest[:, None] + np.cumsum(picked[:, ::-1], axis=1)[:, ::-1]
        with np.errstate(divide="ignore"):
            rate = -np.log1p(-np.minimum(free_before, 1.0))
            draws = np.maximum(1.0, np.ceil(rng.standard_exponential((c, width)) / rate))
        tries[rows] += np.where(valid, draws, 0.0).sum(axis=1)


class AliasSampler(_Sampler):
    """Draw classes from a discrete distribution in O(1) (Walker/Vose alias method).

    Parameters
    ----------
    probabilities : array-like of shape (n_classes,)
        Non-negative weights (normalised here).

    Attributes
    ----------
    probabilities : ndarray of float64
        The normalised distribution.
    accept, alias : ndarray of float64, ndarray of int32
        Alias tables: column i keeps i with probability ``accept[i]``, else
        gives ``alias[i]``. The training kernel uses the same tables.
    n_classes : int
    """

    _dtype = np.int32

    def __init__(self, probabilities):
        accept, alias = alias_table(probabilities)  # validates
        p = np.asarray(probabilities, dtype=np.float64)
        self.probabilities = _readonly(p / p.sum())
        self.accept = _readonly(accept)
        self.alias = _readonly(alias)
        self.n_classes = len(p)
        self._threshold = kernel_thresholds(accept)
        self._positive = int(np.count_nonzero(self.probabilities))

    def __repr__(self):
        return f"{type(self).__name__}(n_classes={self.n_classes})"

    def sample(self, shape, random_state=None, replace=True):
        """Draw an int32 array of classes of the given shape.

        With ``replace=True`` the draws are those of the training kernel: one
        SplitMix64 stream seeded from ``random_state``, one alias draw per
        entry. ``replace=False`` makes the entries along the last axis
        distinct (successive sampling).
        """
        if not replace:
            return super().sample(shape, random_state, replace)
        shape = _check_shape(shape)
        seed = draw_seed(random_state)
        out = np.empty(int(np.prod(shape, dtype=np.int64)), dtype=np.int32)
        sample_alias(self._threshold, self.alias, seed, out)
        return out.reshape(shape)

    def sample_negatives(self, targets, sample_size, random_state=None, *,
                         exclude_target=False, replace=True):
        if replace and not exclude_target:
            # chainer's semantics: plain draws; also the kernel's stream.
            t = _check_classes(targets, self.n_classes, "targets", allow_negative=True)
            if t.ndim != 1:
                raise ValueError(f"targets must be 1-D, got shape {t.shape}")
            k = _check_count(sample_size, "sample_size")
            return self.sample((len(t), k), random_state)
        return super().sample_negatives(targets, sample_size, random_state,
                                        exclude_target=exclude_target, replace=replace)

    sample_negatives.__doc__ = _Sampler.sample_negatives.__doc__

    def _kernel_args(self):
        return (DISTRIBUTIONS["alias"], self._threshold, self.alias, self.probabilities,
                self.n_classes)

    def _dense_probabilities(self):
        return self.probabilities

    def _probability(self, classes):
        return self.probabilities[classes]

    def _n_positive(self):
        return self._positive


class UnigramSampler(AliasSampler):
    """Negatives from the unigram distribution raised to ``power`` (word2vec's 0.75).

    Parameters
    ----------
    counts : array-like of shape (n_classes,)
        Non-negative counts (or frequencies). A class of count 0 is never
        drawn, whatever ``power``.
    power : float, default=0.75
        ``P(k)`` is proportional to ``counts[k] ** power``; 0 gives uniform noise
        over the classes seen.
    exclude_target : bool, default=False
        Default of :meth:`sample_negatives`: never give a row its own target,
        as the sampler of "Deep Learning from Scratch 2" does.
    replace : bool, default=True
        Default of :meth:`sample_negatives`; that sampler draws without
        replacement (``exclude_target=True, replace=False``).
    """

    def __init__(self, counts, power=0.75, exclude_target=False, replace=True):
        c = np.asarray(counts)
        if c.dtype == object or c.dtype.kind not in "iuf":
            raise TypeError(f"counts must be a numeric array, got dtype {c.dtype}")
        c = c.astype(np.float64)
        if c.ndim != 1 or len(c) == 0:
            raise ValueError(f"counts must be a non-empty 1-D array, got shape {c.shape}")
        if not np.all(np.isfinite(c)) or np.any(c < 0):
            raise ValueError("counts must be finite and non-negative")
        if not np.any(c > 0):
            raise ValueError("counts must not all be zero")
        if not isinstance(power, Real) or isinstance(power, bool) or not np.isfinite(power):
            raise ValueError(f"power must be a finite real number, got {power!r}")
        for name, value in (("exclude_target", exclude_target), ("replace", replace)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{name} must be a bool, got {value!r}")
        seen = c > 0
        logw = float(power) * np.log(c[seen])
        w = np.zeros(len(c))
        w[seen] = np.exp(logw - logw.max())  # in log space: no overflow for any power
        super().__init__(w)
        self.counts = _readonly(c)
        self.power = float(power)
        self.exclude_target = bool(exclude_target)
        self.replace = bool(replace)

    def __repr__(self):
        return (f"UnigramSampler(n_classes={self.n_classes}, power={self.power}, "
                f"exclude_target={self.exclude_target}, replace={self.replace})")

    def sample_negatives(self, targets, sample_size, random_state=None, *,
                         exclude_target=None, replace=None):
        """As :meth:`AliasSampler.sample_negatives`; ``exclude_target`` and
        ``replace`` default to the values given to the constructor."""
        return super().sample_negatives(
            targets, sample_size, random_state,
            exclude_target=self.exclude_target if exclude_target is None else exclude_target,
            replace=self.replace if replace is None else replace,
        )


class LogUniformSampler(_Sampler):
    """Zipfian (log-uniform) classes: ``P(k) = log((k + 2) / (k + 1)) / log(range_max + 1)``.

    Suited to classes sorted by decreasing frequency (a vocabulary in rank
    order), as TensorFlow's ``log_uniform_candidate_sampler`` (whose call is
    :meth:`sample_candidates`). Draws cost O(1) and need no table:
    ``k = floor(exp(u * log(range_max + 1))) - 1``.

    Parameters
    ----------
    range_max : int
        Number of classes; draws lie in ``[0, range_max)``.
    """

    _dtype = np.int64

    def __init__(self, range_max):
        self.range_max = _check_count(range_max, "range_max", 1)
        if self.range_max >= 2**53:
            raise ValueError(f"range_max must be < 2**53, got {range_max!r}")
        self.n_classes = self.range_max

    def __repr__(self):
        return f"LogUniformSampler(range_max={self.range_max})"

    @property
    def probabilities(self):
        """P(k) for every class (float64 array of length ``range_max``)."""
        return self._dense_probabilities()

    def log_probability(self, classes):
        return np.log(self.probability(classes))

    def _kernel_args(self):
        empty = np.empty(0, dtype=np.uint32)
        return (DISTRIBUTIONS["log_uniform"], empty, np.empty(0, dtype=np.int32),
                np.empty(0, dtype=np.float64), self.range_max)

    def _dense_probabilities(self):
        return self._probability(np.arange(self.range_max))

    def _probability(self, classes):
        return log_uniform_probability(classes, self.range_max)

    def _n_positive(self):
        return self.range_max

