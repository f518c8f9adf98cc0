"""Shared fixtures: data directory, small synthetic corpora (built by _corpora), GPU
auto-skip."""

from pathlib import Path

import numpy as np
import pytest
from _corpora import make_topic_corpus, topic_scores

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


@pytest.fixture(scope="session")
def topic_score():
    """``_corpora.topic_scores`` as a fixture."""
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
