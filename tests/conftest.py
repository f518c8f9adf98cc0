"""Shared fixtures: data directory, small synthetic corpora, GPU auto-skip."""

from pathlib import Path

import numpy as np
import pytest

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def pytest_collection_modifyitems(config, items):
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if not gpu_items:
        return
    from skw2v._cuda import gpu_unavailable_reason

    reason = gpu_unavailable_reason()  # the package's own probe, run once
    if reason is None:
        return
    skip = pytest.mark.skip(reason=f"gpu test skipped: {reason}")
    for item in gpu_items:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def data_dir():
    """``../shared/data`` next to the repository; skips when it is absent."""
    if not DATA_DIR.is_dir():
        pytest.skip(f"data directory {DATA_DIR.resolve()} is absent")
    return DATA_DIR.resolve()


@pytest.fixture
def rng():
    return np.random.default_rng(0)


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


@pytest.fixture(scope="session")
def topic_score():
    """``topic_scores`` as a fixture, so test modules need not import conftest."""
    return topic_scores


@pytest.fixture(scope="session")
def topic_corpus():
    """24,000 tokens (3 chunks of training work): 8 planted topics of 10 words
    and 6 filler words."""
    return make_topic_corpus(n_topics=8, words_per_topic=10, n_filler=6, n_sentences=2000,
                             filler_rate=0.3)


@pytest.fixture
def tiny_corpus():
    """A few short documents, strings and token lists mixed, one empty."""
    return [
        "the cat sat on the mat",
        ["the", "dog", "sat", "on", "the", "log"],
        "",
        "a cat and a dog",
        ["the", "end"],
    ]
