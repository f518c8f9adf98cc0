"""The vocabulary stage of a fit: pruning counted tokens, and the per-word
tables derived from the counts (subsampling, noise, idf)."""

import numpy as np

from ._corpus import remap, sentence_blocks


def check_corpus_size(n_documents, n_tokens, name="X"):
    """The errors of fitting on no documents or on documents without a token."""
    if n_documents == 0:
        raise ValueError(f"{name} is empty: it has no documents; fit needs at least one "
                         "document with tokens")
    if n_tokens == 0:
        raise ValueError(
            f"{name} has no tokens: {n_documents} document(s), all empty after "
            "tokenization (check token_pattern / tokenizer)"
        )


def build_vocabulary(types, counts, min_count, max_vocab_size, name="X"):
    """Prune counted tokens into the fitted vocabulary.

    ``types[i]`` is provisional token i and ``counts[i]`` its count. Returns
    ``(kept, index_to_token, token_counts)``: the provisional ids kept in row
    order (see ``select_vocabulary``), the tokens by row (an object array of
    str) and their counts. Raises ValueError, naming the input ``name``, when
    ``min_count`` removes every token.
    """
    counts = np.asarray(counts, dtype=np.int64)
    kept = select_vocabulary(types, counts, min_count, max_vocab_size)
    if len(kept) == 0:
        raise ValueError(
            f"the vocabulary is empty: {name} has {len(types)} distinct token(s), "
            f"the most frequent seen {int(counts.max())} time(s), and "
            f"min_count={min_count} removed them all; lower min_count"
        )
    # str() turns NumPy string scalars from array inputs into plain str.
    index_to_token = np.array([str(types[i]) for i in kept], dtype=object)
    return kept, index_to_token, counts[kept]


def vocabulary_of(raw, min_count, max_vocab_size):
    """The vocabulary stage of a fit on ``raw`` (an ``EncodedCorpus`` of provisional
    ids, consumed): ``(corpus of vocabulary ids, index_to_token, token_counts)``."""
    check_corpus_size(raw.n_documents, len(raw.tokens))
    counts = np.bincount(raw.tokens, minlength=len(raw.types)).astype(np.int64)
    kept, index_to_token, token_counts = build_vocabulary(raw.types, counts, min_count,
                                                          max_vocab_size)
    lookup = np.full(len(raw.types), -1, dtype=np.int32)
    lookup[kept] = np.arange(len(kept), dtype=np.int32)
    return remap(raw, lookup), index_to_token, token_counts


def vocabulary_attributes(index_to_token, token_counts, df, n_documents):
    """The vocabulary-side fitted attributes of a model: tokens by row, the token ->
    row dict, counts and the smoothed idf (as scikit-learn's TfidfTransformer) from
    the document frequencies ``df`` over ``n_documents``."""
    return {
        "index_to_token_": index_to_token,
        "vocabulary_": {t: r for r, t in enumerate(index_to_token.tolist())},
        "token_counts_": token_counts,
        "idf_": np.log((1.0 + n_documents) / (1.0 + df)) + 1.0,
    }


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


def log_uniform_probability(classes, n_classes):
    """The log-uniform (Zipfian) distribution over ``n_classes`` ranks, as TensorFlow's
    log-uniform candidate sampler: ``P(k) = log((k + 2) / (k + 1)) / log(n + 1)``
    (float64). The one Python home of the formula; ``_losses.pyx`` draws from it."""
    k = np.asarray(classes, dtype=np.float64)
    return np.log1p(1.0 / (k + 1.0)) / np.log(n_classes + 1.0)


def log_uniform_distribution(n_classes):
    """Zipfian noise over frequency ranks (``log_uniform_probability``), renormalised
    to sum 1 in float64."""
    q = log_uniform_probability(np.arange(n_classes), n_classes)
    return q / q.sum()


def noise_probabilities(counts, kind, power):
    """Noise probabilities q (float64, sum 1) over a vocabulary sorted by frequency:
    ``kind="unigram"`` is ``counts ** power`` normalised, ``"log_uniform"`` is
    Zipfian over the ranks."""
    if kind == "unigram":
        return noise_distribution(counts, power)
    if kind == "log_uniform":
        return log_uniform_distribution(len(counts))
    raise ValueError(f"noise must be 'unigram' or 'log_uniform', got {kind!r}")


def document_frequency(tokens, offsets, n_vocab):
    """Number of documents containing each word (for tf-idf pooling)."""
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
