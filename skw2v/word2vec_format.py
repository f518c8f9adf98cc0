"""Models from and to word vectors in the word2vec C formats (text and binary;
the formats themselves are read and written by ``skw2v._word2vec_format``).

``export_word2vec(model, path)`` writes a fitted ``Word2VecNS``;
``import_word2vec(path)`` reads such a file (from skw2v, gensim's
``KeyedVectors.save_word2vec_format``, word2vec.c or fastText's ``.vec``)
into a fitted ``Word2VecNS`` ready for ``transform`` and ``most_similar``,
or for ``init_vectors=`` (warm start). A ``.gz`` file is (de)compressed.

The formats hold only words and input vectors. An imported model therefore
knows no word counts (``token_counts_`` and ``idf_`` are all 1, so
``pooling="tfidf"`` gives the plain mean and ``"sif"`` the mean times a
constant; ``sif_components`` is 0, no documents to learn them from), no output vectors (``output_vectors_`` are zeros, as at the
start of a fit, and so is ``output_bias_``) and no training history
(``loss_history_`` is empty).
"""

import numpy as np

from ._estimator import Word2VecNS
from ._threads import effective_n_threads
from ._word2vec_format import read_word2vec, write_word2vec


def export_word2vec(model, path, *, binary=False):
    """Write the word vectors of a fitted ``Word2VecNS`` in the word2vec C format.

    Parameters
    ----------
    model : fitted Word2VecNS
    path : str or path-like
        Written atomically (temporary file + rename); gzip-compressed when it
        ends with ``.gz``.
    binary : bool, default=False
        Binary format (float32, exact and compact) instead of text. Text
        values are written with 9 significant digits, which read back to
        the same float32 values.
    """
    from sklearn.utils.validation import check_is_fitted

    if not isinstance(binary, bool):
        raise TypeError(f"binary must be True or False, got {binary!r}")
    check_is_fitted(model, "vectors_")
    write_word2vec(path, [str(t) for t in model.index_to_token_.tolist()], model.vectors_,
                   binary=binary)


def model_from_vectors(words, vectors, **params):
    """A fitted ``Word2VecNS`` holding the given word vectors (see the module notes)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(words) or vectors.shape[0] == 0:
        raise ValueError(f"vectors must have shape (len(words), vector_size) with at least "
                         f"one word, got {vectors.shape} for {len(words)} words")
    defaults = {
        "vector_size": vectors.shape[1],
        "min_count": 1,
        # No documents to learn SIF's common components from.
        "sif_components": 0,
        # Keep upper-case words reachable by transform() on raw strings.
        "lowercase": all(w == w.lower() for w in words),
    }
    given = params.get("vector_size", vectors.shape[1])
    if given != vectors.shape[1]:
        raise ValueError(f"vector_size={given!r} does not match the vectors' size "
                         f"{vectors.shape[1]}")
    n = len(words)
    return Word2VecNS._from_fitted({**defaults, **params}, {
        "index_to_token_": np.array(words, dtype=object),
        "vectors_": vectors,
        "output_vectors_": np.zeros_like(vectors),
        "output_bias_": np.zeros(n, dtype=np.float32),
        "token_counts_": np.ones(n, dtype=np.int64),
        "idf_": np.ones(n, dtype=np.float64),
        "loss_history_": np.zeros(0, dtype=np.float64),
        # the rest of what fit sets, so partial_fit can continue from these vectors
        "train_seconds_": 0.0,
        "n_threads_": effective_n_threads(params.get("n_jobs")),
        "device_": "cpu",
    }, check_fit_params=True)


def import_word2vec(path, *, binary=None, limit=None, encoding="utf-8",
                    unicode_errors="strict", **params):
    """Read word2vec C-format vectors into a fitted ``Word2VecNS``.

    Parameters
    ----------
    path : str or path-like
        Text or binary word2vec file, optionally gzip-compressed.
    binary : bool or None, default=None
        Format; None detects it.
    limit : int or None, default=None
        Read only the first ``limit`` words (the most frequent ones in files
        sorted by frequency, as word2vec.c and gensim write them).
    encoding, unicode_errors : str
        How words are decoded (as ``bytes.decode``).
    **params
        Parameters of the returned ``Word2VecNS`` (for ``transform`` and a
        later fit), e.g. ``pooling="mean"`` or ``token_pattern=r"\\S+"``.
        By default ``vector_size`` follows the file, ``min_count=1`` and
        ``lowercase`` is False when a word has upper-case letters.

    Returns
    -------
    Word2VecNS, fitted: counts, output vectors and loss history are unknown
    (see the module notes).
    """
    words, vectors = read_word2vec(path, binary=binary, limit=limit, encoding=encoding,
                                   unicode_errors=unicode_errors)
    return model_from_vectors(words, vectors, **params)


__all__ = ["export_word2vec", "import_word2vec", "model_from_vectors", "read_word2vec"]
