"""Sampled logistic losses on CuPy arrays (the GPU path of ``skw2v.losses``).

Written only with array operations that NumPy and CuPy share, so the very
same functions run on NumPy arrays: that is how the CPU test suite checks
this path against the Cython kernels where no GPU is present. On the GPU the
logits are batched matrix products (cuBLAS), the logistic terms fused
element-wise expressions, and the weight gradient a ``cupyx.scatter_add``
(atomic adds, so its float sums are not bitwise reproducible).

Same contract as ``_losses.sampled_logistic_forward`` / ``_backward``.
"""

import numpy as np

# Rows are processed in blocks so the gathered (rows, m, d) weights stay small.
_BLOCK_ELEMENTS = 1 << 24


def _blocks(n, m, d):
    rows = max(1, _BLOCK_ELEMENTS // max(1, m * d))
    for start in range(0, n, rows):
        yield slice(start, min(n, start + rows))


def _scatter_add(xp, a, index, values):
    """a[index] += values, adding repeated indices."""
    if xp is np:
        np.add.at(a, index, values)
    else:
        import cupyx

        cupyx.scatter_add(a, index, values)


def forward(xp, x, W, bias, samples, correction, active, remove_hits):
    """Return (row_loss float64 (n,), coef (n, m) of x's dtype)."""
    n, m = samples.shape
    d = x.shape[1]
    row_loss = xp.zeros(n, dtype=xp.float64)
    coef = xp.zeros((n, m), dtype=x.dtype)
    is_true = xp.arange(m)[None, :] == 0
    for sl in _blocks(n, m, d):
        act = active[sl].astype(bool)
        k = xp.where(act[:, None], samples[sl], 0)  # ignored rows: any valid index
        z = xp.matmul(W[k], x[sl][:, :, None])[:, :, 0]
        if bias is not None:
            z = z + bias[k]
        if correction is not None:
            z = z - correction[sl]
        keep = act[:, None]
        if remove_hits:
            keep = keep & (is_true | (k != k[:, :1]))
        e = xp.exp(-xp.abs(z))
        log1pe = xp.log1p(e)
        loss = xp.where(is_true, xp.maximum(-z, 0) + log1pe, xp.maximum(z, 0) + log1pe)
        big, small = 1 / (1 + e), e / (1 + e)
        sig_z = xp.where(z >= 0, big, small)
        sig_minus_z = xp.where(z >= 0, small, big)
        c = xp.where(is_true, -sig_minus_z, sig_z)
        row_loss[sl] = xp.where(keep, loss, 0).sum(axis=1, dtype=xp.float64)
        coef[sl] = xp.where(keep, c, 0)
    return row_loss, coef


def backward(xp, x, W, samples, coef, active, gloss, with_bias):
    """Return (gx, gW, gbias or None) with the dtype of x."""
    n, m = samples.shape
    d = x.shape[1]
    gx = xp.zeros_like(x)
    gW = xp.zeros_like(W)
    gb = xp.zeros(W.shape[0], dtype=x.dtype) if with_bias else None
    for sl in _blocks(n, m, d):
        act = active[sl].astype(bool)
        k = xp.where(act[:, None], samples[sl], 0)
        g = coef[sl] * gloss[sl][:, None]
        g = xp.where(act[:, None], g, 0).astype(x.dtype)
        gx[sl] = xp.matmul(g[:, None, :], W[k])[:, 0, :]
        rows = xp.nonzero(act)[0]
        if len(rows) == 0:
            continue
        ka, ga = k[rows], g[rows]
        _scatter_add(xp, gW, ka.ravel(), (ga[:, :, None] * x[sl][rows][:, None, :]).reshape(-1, d))
        if with_bias:
            _scatter_add(xp, gb, ka.ravel(), ga.ravel())
    return gx, gW, gb
