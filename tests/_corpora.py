"""Small synthetic corpora shared by several test modules."""

import numpy as np


def tiny_docs(n_docs=200, vocab=40, length=12, seed=0):
    """n_docs token lists of `length` words drawn uniformly from w0..w{vocab-1}."""
    rng = np.random.default_rng(seed)
    return [[f"w{i}" for i in rng.integers(vocab, size=length)] for _ in range(n_docs)]


def labelled_topic_docs(n_docs, seed, *, topic_words, topic_picks, filler, filler_picks):
    """Space-joined documents of 3 topics (document j has topic j % 3, its label):
    ``topic_picks`` of the topic's ``topic_words`` words t{k}w{i} and
    ``filler_picks`` words of ``filler`` shared by all topics, shuffled."""
    rng = np.random.default_rng(seed)
    topics = [[f"t{k}w{i}" for i in range(topic_words)] for k in range(3)]
    docs, labels = [], []
    for j in range(n_docs):
        k = j % 3
        words = list(rng.choice(topics[k], topic_picks)) + list(rng.choice(filler, filler_picks))
        rng.shuffle(words)
        docs.append(" ".join(words))
        labels.append(k)
    return docs, np.array(labels)
