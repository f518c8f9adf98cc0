"""Word2VecNS in a Pipeline tuned by GridSearchCV (the README example), and bare.

The synthetic versions always run; the AG News version runs when
../shared/data/ag_news_test.csv is present (a subset, to stay fast).
"""

from pathlib import Path

import numpy as np
import pytest
from _corpora import labelled_topic_docs
from joblib import cpu_count
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skw2v import Word2VecNS

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
AG_NEWS = DATA / "ag_news_test.csv"


def topic_corpus(n_docs=150, seed=0):
    """Three topics, each with its own words, mixed with shared filler words."""
    return labelled_topic_docs(n_docs, seed, topic_words=15, topic_picks=6,
                               filler=[f"f{i}" for i in range(20)], filler_picks=10)


def _training_threads(estimator, X, y=None):
    """A 'scorer' that reports how many threads the fitted Word2VecNS used."""
    return estimator.named_steps["w2v"].n_threads_


def _grid_search(docs, labels, w2v, grid):
    search = GridSearchCV(
        Pipeline([("w2v", w2v), ("clf", LogisticRegression(max_iter=1000))]),
        grid,
        cv=3,
        n_jobs=2,
        scoring={"accuracy": "accuracy", "threads": _training_threads},
        refit="accuracy",
        error_score="raise",
    )
    return search.fit(docs, labels)


def test_grid_search_pipeline_synthetic():
    docs, labels = topic_corpus()
    grid = {"w2v__sample_size": [2, 5], "w2v__power": [0.0, 0.75]}
    # No subsampling: in a corpus of 2,400 tokens it would drop most words.
    w2v = Word2VecNS(vector_size=16, window=4, min_count=1, subsample=0, epochs=10,
                     random_state=0)
    search = _grid_search(docs, labels, w2v, grid)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_params_["w2v__sample_size"] in (2, 5)
    assert search.best_params_["w2v__power"] in (0.0, 0.75)
    assert search.best_score_ > 0.8  # chance is 1/3
    assert search.best_estimator_.predict(docs[:5]).shape == (5,)
    # The parallel search runs 2 workers: each fit must not take all cores.
    threads = search.cv_results_["mean_test_threads"]
    assert np.all(threads <= max(1, cpu_count() // 2))


def test_grid_search_bare_word2vec_uses_score():
    docs, _ = topic_corpus(n_docs=90)
    search = GridSearchCV(
        Word2VecNS(vector_size=8, window=3, min_count=1, epochs=5, n_jobs=1, random_state=0),
        {"sample_size": [1, 5], "power": [0.0, 0.75]},
        cv=3,
        error_score="raise",
    ).fit(docs)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores)) and np.all(scores < 0)
    assert len(set(scores.round(6))) == 4  # the grid points are told apart
    best = search.best_estimator_
    assert search.best_score_ == scores.max()
    assert best.get_params()["sample_size"] == search.best_params_["sample_size"]


def load_ag_news(every=1):
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(AG_NEWS)
    frame = frame.iloc[::every]
    text = frame["title"].fillna("") + " " + frame["description"].fillna("")
    return text, frame["label"].to_numpy()


@pytest.mark.data
@pytest.mark.skipif(not AG_NEWS.exists(), reason="../shared/data/ag_news_test.csv is absent")
def test_grid_search_pipeline_ag_news():
    text, labels = load_ag_news(every=10)  # 760 documents, all four classes
    grid = {"w2v__sample_size": [3, 10], "w2v__power": [0.5, 0.75]}
    # Settings that learn something from 500 short documents in a few epochs
    # (benchmarks/bench_agnews.py has the full-data figures).
    w2v = Word2VecNS(vector_size=24, min_count=2, subsample=0, epochs=5, learning_rate=0.05,
                     random_state=0)
    search = _grid_search(text, labels, w2v, grid)
    assert search.best_score_ > 0.35  # chance is 0.25; about 0.42 with one thread per fit
    assert search.best_estimator_.score(text, labels) > search.best_score_ - 0.1
