"""Documents -> one row each: weighted means of word vectors through a sparse
matrix, element-wise maxima (SWEM, Shen et al. 2018), and SIF's common
component removal (Arora et al. 2017)."""

import numpy as np
import scipy.sparse as sp
from ._corpus_cache import drop_mapped_pages

SIF_A = 1e-3  # the "a" of smooth inverse frequency weights a / (a + p(w)) (Arora et al. 2017)
POOLINGS = ("mean", "tfidf", "sif", "max", "mean_max")
# Tokens per block of the max pooling and of the SIF second moment: bounds the
# (block, vector_size) scratch whatever the corpus size.
_BLOCK_TOKENS = 1 << 18


def word_weights(pooling, token_counts, idf):
    """Per-word weights (float32, shape (V,)) of a pooling scheme; None for the plain mean."""
    if pooling in ("mean", "max", "mean_max"):
        return None
    if pooling == "tfidf":
        return np.asarray(idf, dtype=np.float32)
    if pooling == "sif":
        p = np.asarray(token_counts, dtype=np.float64)
        p = p / p.sum()
        return (SIF_A / (SIF_A + p)).astype(np.float32)
    raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")


def pool(tokens, offsets, vectors, weights, normalise_by_weight):
    """Rows ``sum_t weights[w_t] * vectors[w_t] / norm`` for each document.

    ``tokens``/``offsets`` hold the in-vocabulary token ids of each document
    (CSR layout); ``weights`` is None for weight 1. The norm is the sum of
    the weights when ``normalise_by_weight`` (a weighted mean: tf-idf),
    otherwise the number of tokens (SIF's ``1/|s|`` and the plain mean).
    A document with no token gets a row of zeros.
    """
    n_docs, n_vocab = len(offsets) - 1, vectors.shape[0]
    tokens = np.asarray(tokens, dtype=np.int32)
    values = (np.ones(len(tokens), dtype=np.float32) if weights is None
              else weights[tokens])
    matrix = sp.csr_matrix((values, tokens, np.asarray(offsets, dtype=np.int64)),
                           shape=(n_docs, n_vocab))
    out = np.asarray(matrix @ vectors, dtype=np.float32)
    if normalise_by_weight:
        norm = np.asarray(matrix.sum(axis=1, dtype=np.float64)).ravel()
    else:
        norm = np.diff(offsets).astype(np.float64)
    nonzero = norm > 0
    out[nonzero] /= norm[nonzero, None].astype(np.float32)
    return out


def max_pool(tokens, offsets, vectors):
    """Rows ``max_t vectors[w_t]`` (element-wise) for each document; zeros for
    a document with no token. Works through blocks of tokens, so a document
    may span blocks and the scratch stays ``_BLOCK_TOKENS x vector_size``."""
    tokens = np.asarray(tokens)
    offsets = np.asarray(offsets, dtype=np.int64)
    n_docs, dim = len(offsets) - 1, vectors.shape[1]
    out = np.full((n_docs, dim), -np.inf, dtype=np.float32)
    for a in range(0, len(tokens), _BLOCK_TOKENS):
        b = min(a + _BLOCK_TOKENS, len(tokens))
        # documents with a token in [a, b): their parts in the block tile it
        first = np.searchsorted(offsets, a, side="right") - 1
        last = np.searchsorted(offsets, b, side="left")
        docs = np.arange(first, last)
        starts = np.maximum(offsets[docs], a)
        ends = np.minimum(offsets[docs + 1], b)
        keep = ends > starts  # (reduceat would give an empty segment a row)
        docs, starts = docs[keep], starts[keep]
        block = np.asarray(vectors[tokens[a:b]], dtype=np.float32)
        out[docs] = np.maximum(out[docs], np.maximum.reduceat(block, starts - a, axis=0))
    out[np.diff(offsets) == 0] = 0.0
    return out


def common_components(tokens, offsets, vectors, weights, n_components):
    """The first ``n_components`` right singular vectors of the matrix X of SIF
    document rows (``pool(..., weights, False)``), not centred, as Arora et
    al. remove them: float32, shape (n_components, vector_size), unit rows
    sorted by singular value, each signed so its largest-magnitude entry is
    positive; a row of zeros where X has no more rank (removing it is a no-op).

    Found as the top eigenvectors of ``X.T @ X`` (float64), accumulated over
    blocks of documents, so X is never held whole.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    dim = vectors.shape[1]
    moment = np.zeros((dim, dim), dtype=np.float64)
    n_docs, doc = len(offsets) - 1, 0
    while doc < n_docs:
        # at least one document per block, about _BLOCK_TOKENS tokens
        stop = max(doc + 1, int(np.searchsorted(offsets, offsets[doc] + _BLOCK_TOKENS,
                                                side="right")) - 1)
        stop = min(stop, n_docs)
        sub = offsets[doc:stop + 1]
        rows = pool(tokens[sub[0]:sub[-1]], sub - sub[0], vectors, weights,
                    normalise_by_weight=False).astype(np.float64)
        moment += rows.T @ rows
        doc = stop
        # a corpus cache's pages read by this block leave the resident set
        # (fit on files: without this, all of the cache was resident at the end)
        drop_mapped_pages(tokens)
        drop_mapped_pages(offsets)
    eigenvalues, eigenvectors = np.linalg.eigh(moment)  # ascending
    order = np.argsort(eigenvalues)[::-1][:n_components]
    components = eigenvectors[:, order].T.copy()
    # X's rank ends where eigenvalues reach the rounding of X.T @ X (float64)
    rank_tol = max(eigenvalues[-1], 0.0) * dim * np.finfo(np.float64).eps * 100
    components[eigenvalues[order] <= rank_tol] = 0.0
    signs = np.sign(components[np.arange(len(components)),
                               np.abs(components).argmax(axis=1)])
    components *= np.where(signs == 0, 1.0, signs)[:, None]
    return components.astype(np.float32)


def fitted_components(n_components, learned):
    """The first ``n_components`` rows of the ``learned`` components (None: none
    learned), or ValueError when fit learned fewer."""
    if n_components == 0:
        return None
    if learned is None or len(learned) < n_components:
        have = 0 if learned is None else len(learned)
        raise ValueError(
            f"sif_components={n_components!r} but this model learned {have} common "
            "component(s) (fit learns sif_components of them; skw2v.dask.fit and imported "
            "vectors learn none): refit with this setting, or set sif_components to at "
            f"most {have} (0: no removal)")
    return learned[:n_components]


def remove_components(rows, components):
    """``rows - rows @ U.T @ U`` for the (orthonormal or zero) rows U of ``components``."""
    if len(components) == 0:
        return rows
    return rows - (rows @ components.T) @ components


def pool_documents(tokens, offsets, vectors, pooling, token_counts, idf, components=None):
    """The rows ``transform`` returns for ``pooling`` (float32): mean, tfidf and sif
    (with ``components`` removed when given) have vector_size columns, max as
    many, mean_max twice as many (the mean's, then the max's)."""
    if pooling == "max":
        return max_pool(tokens, offsets, vectors)
    weights = word_weights(pooling, token_counts, idf)
    out = pool(tokens, offsets, vectors, weights, normalise_by_weight=pooling == "tfidf")
    if pooling == "mean_max":
        return np.hstack([out, max_pool(tokens, offsets, vectors)])
    if pooling == "sif" and components is not None:
        out = remove_components(out, components)
    return out


def feature_names(pooling, dim, prefix="word2vecns"):
    """Column names of ``pool_documents``: ``word2vecns0..`` for the weighted means,
    ``word2vecns_max0..`` for max, ``word2vecns_mean0.., word2vecns_max0..`` for mean_max."""
    if pooling == "max":
        return [f"{prefix}_max{i}" for i in range(dim)]
    if pooling == "mean_max":
        return [f"{prefix}_mean{i}" for i in range(dim)] + [f"{prefix}_max{i}" for i in range(dim)]
    return [f"{prefix}{i}" for i in range(dim)]
