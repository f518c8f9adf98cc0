"""Small synthetic corpora shared by several test modules."""

import numpy as np


def tiny_docs(n_docs=200, vocab=40, length=12, seed=0):
    """n_docs token lists of `length` words drawn uniformly from w0..w{vocab-1}."""
    rng = np.random.default_rng(seed)
    return [[f"w{i}" for i in rng.integers(vocab, size=length)] for _ in range(n_docs)]


def random_docs(n_docs=60, n_words=40, length=12, seed=0):
    """n_docs token lists of `length` words drawn uniformly from w0..w{n_words-1}."""
    rng = np.random.default_rng(seed)
    return [[f"w{i}" for i in rng.integers(0, n_words, length)] for _ in range(n_docs)]


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


def make_topic_corpus(n_topics=5, words_per_topic=8, n_filler=4, n_sentences=1500,
                      sentence_length=12, filler_rate=0.25, seed=0):
    """Sentences that each draw words from one topic, plus shared filler words.

    Topic words co-occur only with their own topic (and the filler), so a
    working word2vec puts each topic word's nearest neighbours in its topic.
    Returns ``(sentences, topic_of)`` with ``topic_of`` mapping each topic
    word to its topic index.
    """
    rs = np.random.default_rng(seed)
    topics = [[f"t{t}w{i}" for i in range(words_per_topic)] for t in range(n_topics)]
    filler = [f"filler{i}" for i in range(n_filler)]
    sentences = []
    for _ in range(n_sentences):
        words = topics[rs.integers(n_topics)]
        sent = [
            filler[rs.integers(n_filler)] if rs.random() < filler_rate
            else words[rs.integers(words_per_topic)]
            for _ in range(sentence_length)
        ]
        sentences.append(sent)
    topic_of = {w: t for t, words in enumerate(topics) for w in words}
    return sentences, topic_of


def topic_scores(vectors, tokens, topic_of):
    """How well vectors recover planted topics, by cosine rank.

    For each topic word: the share of its ``m`` nearest words (m = topic size
    - 1, itself excluded, filler words counted as misses) in its own topic,
    and whether its single nearest word is in its topic. Returns the means
    ``(precision_at_m, nearest_in_topic)``; both are 1 for perfect vectors and
    about m / V for random ones.
    """
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    labels = np.array([topic_of.get(t, -1) for t in tokens])
    rows = np.flatnonzero(labels >= 0)
    m = int(np.bincount(labels[rows]).min()) - 1
    top = np.argsort(-sims[rows], axis=1, kind="stable")[:, :m]
    same = labels[top] == labels[rows, None]
    return float(same.mean()), float(same[:, 0].mean())


# Parameters of the small, fast fits that the API tests share.
SMALL = {"vector_size": 8, "window": 3, "min_count": 1, "epochs": 2, "n_jobs": 1,
         "random_state": 0}


def small_labelled_docs(n_docs=90, seed=0):
    """Documents mixing one of three topics' words with shared filler words, and
    their topic labels (the corpus of the estimator API tests)."""
    return labelled_topic_docs(n_docs, seed, topic_words=10, topic_picks=8,
                               filler=["the", "a", "of", "and", "to", "in"], filler_picks=4)


def zipf_pair_docs(n=1500, seed=0):
    """Zipf-distributed words, each with a partner: frequencies span ~2 decades."""
    rng = np.random.default_rng(seed)
    return [[f"w{i}", f"p{i}", f"w{j}"] for i, j in rng.zipf(1.4, (n, 2)) if i < 50 and j < 50]


def small_model(**params):
    """An unfitted Word2VecNS small and fast enough for input-handling tests."""
    from skw2v import Word2VecNS

    defaults = {"vector_size": 8, "window": 2, "sample_size": 2, "min_count": 1, "epochs": 1,
                "n_jobs": 1, "random_state": 0}
    defaults.update(params)
    return Word2VecNS(**defaults)


def one_shot(docs):
    """The documents as a generator: X that can be read only once."""
    yield from docs
