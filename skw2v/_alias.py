"""Walker/Vose alias tables, in the form the training kernel reads."""

import numpy as np

from ._core import build_alias_table


def alias_table(probabilities):
    """Return ``(accept, alias)`` for a probability vector (float64, int32)."""
    p = np.ascontiguousarray(probabilities, dtype=np.float64)
    if p.ndim != 1 or len(p) == 0:
        raise ValueError(f"probabilities must be a non-empty 1-D array, got shape {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError("probabilities must be finite and non-negative")
    total = p.sum()
    if total <= 0:
        raise ValueError("probabilities must not all be zero")
    p = p / total
    accept = np.empty(len(p), dtype=np.float64)
    alias = np.empty(len(p), dtype=np.int32)
    build_alias_table(p, accept, alias)
    return accept, alias


def kernel_thresholds(accept):
    """Acceptance as 32-bit thresholds: column i kept when a uniform u32 < thr[i]."""
    thr = np.floor(np.asarray(accept, dtype=np.float64) * 2.0**32)
    return np.minimum(thr, 2.0**32 - 1).astype(np.uint32)
