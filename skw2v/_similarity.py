"""Cosine look-ups over word vectors (``similarity`` and ``most_similar``)."""

import numpy as np


def cosine(u, v):
    return float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-30))


def nearest(vectors, query, topn, exclude=None):
    """Rows of ``vectors`` closest to ``query`` by cosine, best first, as a list of
    ``(row, cosine)``: at most ``topn``, row ``exclude`` (if not None) left out."""
    query = np.asarray(query, dtype=np.float32)
    if query.shape != (vectors.shape[1],):
        raise ValueError(f"a query vector must have shape ({vectors.shape[1]},), "
                         f"got {query.shape}")
    norms = np.linalg.norm(vectors, axis=1)
    sims = (vectors @ query) / (norms * np.linalg.norm(query) + 1e-30)
    if exclude is not None:
        sims[exclude] = -np.inf
    k = min(topn, len(sims) - (exclude is not None))
    if k <= 0:
        return []
    top = np.argpartition(-sims, k - 1)[:k]
    top = top[np.argsort(-sims[top], kind="stable")]
    return [(int(i), float(sims[i])) for i in top]
