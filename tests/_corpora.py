"""Small synthetic corpora shared by several test modules."""

import numpy as np


def tiny_docs(n_docs=200, vocab=40, length=12, seed=0):
    """n_docs token lists of `length` words drawn uniformly from w0..w{vocab-1}."""
    rng = np.random.default_rng(seed)
    return [[f"w{i}" for i in rng.integers(vocab, size=length)] for _ in range(n_docs)]
