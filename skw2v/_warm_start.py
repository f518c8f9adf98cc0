"""``init_vectors``: start a fit from vectors learned elsewhere (warm start)."""

import os
import warnings
from collections.abc import Mapping

import numpy as np

from ._persist import ZIP_MAGIC, read_model
from ._word2vec_format import read_word2vec

_KINDS = ("init_vectors must be a fitted Word2VecNS, a KeyedVectors-like object (with "
          "index_to_key and vectors), a {word: vector} mapping, a model or word2vec file "
          "path, or None")


def _is_model(init):
    """A skw2v model, fitted (its fitted attributes) or not (an estimator's get_params)."""
    return hasattr(init, "index_to_token_") or (hasattr(init, "get_params")
                                                and hasattr(init, "fit"))


def check_init_vectors(init):
    """Reject an ``init_vectors`` of a kind that can never work, without reading it."""
    ok = (init is None or isinstance(init, (str, os.PathLike, Mapping)) or _is_model(init)
          or (hasattr(init, "index_to_key") and hasattr(init, "vectors")))
    if not ok:
        raise TypeError(f"{_KINDS}; got {init!r} of type {type(init).__name__}")


def _source(init):
    """``(words, input vectors, output vectors or None, NCE output bias or None,
    subwords or None)`` from any accepted source; ``subwords`` is ``(own rows,
    n-gram rows, min_n, max_n)`` of a source trained with subwords (a skw2v
    model with ``max_n > 0``, a fastText ``.bin`` with ``maxn > 0``)."""
    if isinstance(init, (str, os.PathLike)):
        with open(init, "rb") as f:
            is_model = f.read(4) == ZIP_MAGIC
        if not is_model:
            from ._fasttext_format import fasttext_source, is_fasttext_bin

            if is_fasttext_bin(init):  # a fastText .bin: its whole-word vectors
                return fasttext_source(init)
            words, vectors = read_word2vec(init)
            return words, vectors, None, None, None
        params, fitted = read_model(init)
        return _model_source(params, fitted)
    if _is_model(init):
        if not hasattr(init, "vectors_"):
            raise ValueError(
                "init_vectors is an unfitted Word2VecNS; fit it first. (clone(), and so "
                "GridSearchCV and cross_val_score, replace an estimator given as a "
                "parameter by an unfitted copy: pass the path of a saved model instead.)"
            )
        return _model_source(
            {name: getattr(init, name, None) for name in ("loss", "min_n", "max_n")},
            {name: getattr(init, name, None)
             for name in ("index_to_token_", "vectors_", "output_vectors_", "output_bias_",
                          "own_vectors_", "ngram_vectors_")})
    if hasattr(init, "index_to_key") and hasattr(init, "vectors"):  # gensim KeyedVectors
        return list(init.index_to_key), init.vectors, None, None, None
    if isinstance(init, Mapping):
        words = list(init)
        if not words:
            raise ValueError("init_vectors is an empty mapping")
        try:
            vectors = np.stack([np.asarray(init[w], dtype=np.float32) for w in words])
        except ValueError:
            raise ValueError("init_vectors maps words to vectors of different sizes") from None
        return words, vectors, None, None, None
    raise TypeError(f"{_KINDS}; got {type(init).__name__}")


def _model_source(params, fitted):
    # Only a bias an NCE fit learned belongs with its output vectors: all zeros
    # is the placeholder of negative sampling, of imported vectors and of
    # models saved before the bias existed (a learned one starts at log p(w)).
    bias = fitted.get("output_bias_")
    if params.get("loss") != "nce" or bias is None or not np.any(bias):
        bias = None
    subwords = None
    if fitted.get("ngram_vectors_") is not None and fitted.get("own_vectors_") is not None:
        subwords = (fitted["own_vectors_"], fitted["ngram_vectors_"], params.get("min_n"),
                    params.get("max_n"))
    return (fitted["index_to_token_"].tolist(), fitted["vectors_"],
            fitted.get("output_vectors_"), bias, subwords)


def apply_init_vectors(init, tokens, w_in, w_out, output_bias=None):
    """Copy the rows of ``init`` for the words of ``tokens`` into ``w_in`` (and ``w_out``;
    and ``output_bias`` when given and ``init`` is a model trained with NCE).

    Returns how many rows were initialized.
    """
    if init is None:
        return 0
    words, vectors, outputs, bias, _ = _source(init)
    vectors = np.asarray(vectors)
    dim = w_in.shape[1]
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        size = vectors.shape[1] if vectors.ndim == 2 else vectors.shape
        raise ValueError(
            f"init_vectors has vectors of size {size} but vector_size={dim}; "
            f"set vector_size={size}" if vectors.ndim == 2 else
            f"init_vectors must hold one vector per word, got an array of shape {size}"
        )
    if not np.isfinite(vectors).all():
        raise ValueError("init_vectors holds non-finite values")
    where = {w: i for i, w in enumerate(words)}
    pairs = [(row, where[t]) for row, t in enumerate(tokens) if t in where]
    if not pairs:
        warnings.warn("init_vectors shares no word with the vocabulary: every vector "
                      "starts at random", UserWarning, stacklevel=4)
        return 0
    dst, src = (np.array(p, dtype=np.int64) for p in zip(*pairs))
    w_in[dst] = vectors[src]
    if outputs is not None:
        w_out[dst] = np.asarray(outputs, dtype=np.float32)[src]
    if output_bias is not None and bias is not None:
        output_bias[dst] = np.asarray(bias, dtype=np.float32)[src]
    return len(dst)


def apply_init_ngrams(init, tokens, w_in, *, min_n, max_n, bucket):
    """Warm start of a subword model's n-gram rows: when ``init`` was trained with
    subwords of the same ``min_n``, ``max_n`` and ``bucket``, copy its n-gram rows
    into ``w_in[len(tokens):]`` and the own rows of the words it has into theirs
    (so those words' whole-word vectors are its own, bitwise). In place, after
    ``apply_init_vectors``.

    Returns whether the rows were copied. False for a source without n-gram rows
    (word2vec files, mappings, models with ``max_n=0``): the caller then matches
    the own rows to the whole-word vectors. A source whose n-grams differ warns,
    naming the parameters, and leaves the n-gram rows random (its n-gram rows
    hash other strings into other rows: copying them would be noise).
    """
    if init is None:
        return False
    words, _, _, _, subwords = _source(init)
    if subwords is None:
        return False
    own, ngrams, src_min, src_max = subwords
    differ = [f"{name}={theirs!r} (this model: {ours!r})" for name, theirs, ours in
              (("min_n", src_min, min_n), ("max_n", src_max, max_n),
               ("bucket", len(ngrams), bucket)) if theirs != ours]
    if differ:
        warnings.warn(
            "init_vectors was trained with other subwords: " + ", ".join(differ) +
            "; only its whole-word vectors are used and the n-gram rows start at random. "
            "Set the same min_n, max_n and bucket to start from its n-gram rows too.",
            UserWarning, stacklevel=8)  # the caller of Word2VecNS.fit (through its wrappers)
        return False
    n_vocab = len(tokens)
    w_in[n_vocab:] = ngrams
    where = {w: i for i, w in enumerate(words)}
    pairs = [(row, where[t]) for row, t in enumerate(tokens) if t in where]
    if pairs:
        dst, src = (np.array(p, dtype=np.int64) for p in zip(*pairs))
        w_in[dst] = np.asarray(own, dtype=np.float32)[src]
    return True
