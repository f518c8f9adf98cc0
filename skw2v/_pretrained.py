"""Pretrained rows: frozen ``init_vectors`` rows (``freeze_init_vectors=True``) and the
pretrained-only featurizer (``init_vectors=..., epochs=0``).

``init_vectors`` given as a path is read once per fit (``preload``), since the
vocabulary, the warm start and the frozen rows all need its words.
"""

import os
from collections.abc import Mapping

import numpy as np

from ._warm_start import _source


class _Preloaded:
    """An ``init_vectors`` file read into memory, in the shape of a fitted model
    (``_warm_start`` takes it as one)."""

    def __init__(self, words, vectors, outputs, bias, subwords):
        self.index_to_token_ = np.array(words, dtype=object)
        self.vectors_ = vectors
        self.output_vectors_ = outputs
        self.output_bias_ = bias
        self.loss = "nce" if bias is not None else None
        # a subword source's rows (see _warm_start.apply_init_ngrams)
        self.own_vectors_, self.ngram_vectors_, self.min_n, self.max_n = (
            subwords if subwords is not None else (None, None, None, None))


def preload(init):
    """``init`` with a path replaced by its content (other kinds are in memory already)."""
    if isinstance(init, (str, os.PathLike)):
        return _Preloaded(*_source(init))
    return init


def pretrained_words(init):
    """The words ``init`` (preloaded, or any in-memory kind) has vectors for, as a set."""
    if init is None:
        return set()
    if hasattr(init, "index_to_token_"):
        return set(init.index_to_token_.tolist())
    if hasattr(init, "index_to_key"):
        return set(init.index_to_key)
    if isinstance(init, Mapping):
        return set(init)
    return set(_source(init)[0])


def frozen_mask(tokens, words):
    """uint8 (len(tokens),): 1 for the tokens found in ``words``."""
    return np.fromiter((t in words for t in tokens), dtype=np.uint8, count=len(tokens))
