"""Documents -> one row each: weighted means of word vectors through a sparse matrix."""

import numpy as np
import scipy.sparse as sp

SIF_A = 1e-3  # the "a" of smooth inverse frequency weights a / (a + p(w)) (Arora et al. 2017)


def word_weights(pooling, token_counts, idf):
    """Per-word weights (float32, shape (V,)) of a pooling scheme; None for the plain mean."""
    if pooling == "mean":
        return None
    if pooling == "tfidf":
        return np.asarray(idf, dtype=np.float32)
    if pooling == "sif":
        p = np.asarray(token_counts, dtype=np.float64)
        p = p / p.sum()
        return (SIF_A / (SIF_A + p)).astype(np.float32)
    raise ValueError(f"pooling must be 'mean', 'tfidf' or 'sif', got {pooling!r}")


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
