"""Vocabulary pruning and the per-word tables derived from counts."""

import numpy as np


def select_vocabulary(types, counts, min_count, max_vocab_size):
    """Order by (count descending, token ascending); keep count >= min_count, top-K.

    Returns the provisional ids kept, in final row order. Never uses ``hash()``,
    so the order is identical across processes and platforms.
    """
    counts = np.asarray(counts, dtype=np.int64)
    candidates = np.flatnonzero(counts >= min_count)
    order = sorted(candidates.tolist(), key=lambda i: (-counts[i], types[i]))
    if max_vocab_size is not None:
        order = order[:max_vocab_size]
    return np.asarray(order, dtype=np.int64)


def keep_probabilities(counts, subsample):
    """word2vec's subsampling: P(keep w) = (sqrt(f/t) + 1) * t / f, capped at 1.

    With f the count of w and t = subsample * total count (the formula of
    word2vec.c and gensim). ``subsample=0`` keeps every word.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if subsample == 0:
        return np.ones(len(counts), dtype=np.float32)
    t = subsample * counts.sum()
    p = (np.sqrt(counts / t) + 1.0) * t / counts
    return np.minimum(p, 1.0).astype(np.float32)


def noise_distribution(counts, power):
    """Unigram noise: counts**power normalised (power 0 = uniform)."""
    logw = power * np.log(np.asarray(counts, dtype=np.float64))
    logw -= logw.max()
    w = np.exp(logw)
    return w / w.sum()


def document_frequency(tokens, offsets, n_vocab):
    """Number of documents containing each word (for tf-idf pooling)."""
    from ._corpus import sentence_blocks

    df = np.zeros(n_vocab, dtype=np.int64)
    for first, last in sentence_blocks(offsets):
        a, b = offsets[first], offsets[last]
        if a == b:
            continue
        doc = np.repeat(np.arange(last - first, dtype=np.int64), np.diff(offsets[first:last + 1]))
        # Distinct (document, word) pairs by sorting: np.unique's hash path is
        # far slower on int64 keys here.
        keys = np.sort(doc * n_vocab + tokens[a:b])
        distinct = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
        df += np.bincount(distinct % n_vocab, minlength=n_vocab)
    return df
