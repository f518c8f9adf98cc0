"""A growing vocabulary (partial_fit with update_vocabulary=True)."""

import pickle

import numpy as np
import pytest
from conftest import make_topic_corpus, topic_scores

from skw2v import Word2VecNS, load
from skw2v._growth import grow_vocabulary, pending_counts


def test_grow_vocabulary_counts_and_new_rows():
    vocabulary = {"a": 0, "b": 1}
    counts = np.array([10, 7], dtype=np.int64)
    pending = {"c": 2, "d": 4}
    g = grow_vocabulary(vocabulary, counts, pending, ["b", "c", "e", "d", "f"],
                        np.array([3, 1, 5, 1, 2]), min_count=3, max_vocab_size=None)
    # c reaches 3, d 5, e 5 (new in this batch), f stays pending with 2
    assert g.new_tokens == ["d", "e", "c"]  # by count, then token
    assert g.token_counts.tolist() == [10, 10, 5, 5, 3]
    assert g.lookup.tolist() == [1, 4, 3, 2, -1]
    assert g.pending == {"f": 2}
    assert pending == {"c": 2, "d": 4}  # the caller's dict is not modified
    capped = grow_vocabulary(vocabulary, counts, pending, ["c", "d", "e"], np.array([1, 1, 5]),
                             min_count=3, max_vocab_size=3)
    assert capped.new_tokens == ["d"] and capped.pending == {"c": 3, "e": 5}
    assert capped.lookup.tolist() == [-1, 2, -1]


def test_pending_counts_after_fit():
    assert pending_counts(["x", "y", "z"], np.array([5, 1, 2]), [0]) == {"y": 1, "z": 2}


# ------------------------------------------------------------- estimator level
PARAMS = {"vector_size": 24, "window": 4, "min_count": 1, "epochs": 4, "random_state": 0,
          "n_jobs": 1}


def _halves():
    """Topics 0-3 in the first half; the second holds topics 4-7 (new words) and more 0-3."""
    sentences, topic_of = make_topic_corpus(n_topics=8, words_per_topic=10, n_filler=6,
                                            n_sentences=4000, filler_rate=0.3)
    topic = [next(topic_of[w] for w in s if w in topic_of) for s in sentences]
    old = [s for s, t in zip(sentences, topic) if t < 4]
    new = [s for s, t in zip(sentences, topic) if t >= 4]
    return old[:1200], old[1200:] + new, topic_of


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_partial_fit_learns_new_words_and_keeps_old_ones(architecture):
    first, second, topic_of = _halves()
    est = Word2VecNS(**PARAMS, architecture=architecture, update_vocabulary=True).fit(first)
    n_old = len(est.vocabulary_)
    assert not any(f"t{t}w0" in est.vocabulary_ for t in range(4, 8))
    est.partial_fit(second)
    assert len(est.vocabulary_) == n_old + 40  # topics 4-7: 4 x 10 new words
    assert est.vectors_.shape == (n_old + 40, 24) and est.transform(second[:3]).shape == (3, 24)
    added = est.index_to_token_[n_old:].tolist()
    assert added == sorted(added, key=lambda t: (-est.token_counts_[est.vocabulary_[t]], t))
    tokens = est.index_to_token_
    for group in (range(4), range(4, 8)):  # old words, then new words
        topics = {w: t - group[0] for w, t in topic_of.items() if t in group}
        precision, nearest = topic_scores(est.vectors_, tokens, topics)
        assert precision >= 0.9 and nearest >= 0.95, (list(group), precision, nearest)


def test_counts_and_noise_follow_the_batches():
    est = Word2VecNS(vector_size=8, min_count=3, epochs=1, n_jobs=1, random_state=0,
                     subsample=0, update_vocabulary=True)
    est.fit([["a", "b", "a", "c"]] * 3 + [["rare", "a"]])
    assert "rare" not in est.vocabulary_ and est.token_counts_.tolist() == [7, 3, 3]
    before = est.vectors_.copy()
    est.partial_fit([["rare", "b"], ["rare", "new"]])  # rare: 1 + 2 = 3 reaches min_count
    assert est.index_to_token_.tolist() == ["a", "b", "c", "rare"]
    assert est.token_counts_.tolist() == [7, 4, 3, 3]
    assert est.pending_counts_ == {"new": 1}
    assert est.vectors_.shape == (4, 8) and est.output_vectors_.shape == (4, 8)
    assert est.idf_.shape == (4,) and est.output_bias_.shape == (4,)
    assert not np.array_equal(est.vectors_[:3], before)  # old rows train too
    # the new row started as fit starts rows: small uniform input, zero output before training
    assert np.abs(est.vectors_[3]).max() < 1.0
    est.partial_fit([["new", "new"]])  # 1 + 2
    assert est.vocabulary_["new"] == 4
    # without the flag partial_fit keeps the vocabulary and counts
    est.set_params(update_vocabulary=False).partial_fit([["zzz"] * 5 + ["a"]])
    assert "zzz" not in est.vocabulary_ and est.token_counts_.tolist()[0] == 7 + 0


def test_max_vocab_size_caps_growth_and_pending_survives_pickle():
    est = Word2VecNS(vector_size=4, min_count=2, max_vocab_size=3, epochs=1, n_jobs=1,
                     random_state=0, update_vocabulary=True).fit([["a", "a", "b", "b", "c"]])
    est = pickle.loads(pickle.dumps(est))
    assert est.pending_counts_ == {"c": 1}
    est.partial_fit([["c", "d", "d", "a"]])
    assert est.index_to_token_.tolist() == ["a", "b", "c"]  # d also reached 2: no room
    assert est.pending_counts_ == {"d": 2}


def test_growth_with_nce_and_a_batch_of_unknown_words(tmp_path):
    est = Word2VecNS(vector_size=8, min_count=2, epochs=1, n_jobs=1, random_state=0,
                     loss="nce", update_vocabulary=True).fit([["a", "b", "a", "b", "x"]] * 4)
    with pytest.warns(UserWarning, match="none of the 1 document"):
        est.partial_fit([["y"]])  # nothing to train on, but y's count is kept
    assert est.pending_counts_ == {"y": 1}
    est.partial_fit([["y", "a", "q"]])
    assert "y" in est.vocabulary_ and np.isfinite(est.output_bias_).all()
    est.save(tmp_path / "m.skw2v")
    loaded = load(tmp_path / "m.skw2v")
    assert loaded.update_vocabulary is True
    assert loaded.index_to_token_.tolist() == est.index_to_token_.tolist()
    assert loaded.pending_counts_ == est.pending_counts_ == {"q": 1}
    loaded.partial_fit([["q", "a"]])  # the pending count came back with the file
    assert "q" in loaded.vocabulary_


def test_update_vocabulary_is_validated():
    with pytest.raises(ValueError, match="update_vocabulary"):
        Word2VecNS(update_vocabulary="yes").fit([["a"]])


def test_growth_from_files(tmp_path):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("a b a c\n" * 3 + "rare a\n", encoding="utf-8")
    second.write_text("rare b\nrare new\n", encoding="utf-8")
    est = Word2VecNS(vector_size=4, min_count=3, epochs=1, n_jobs=1, random_state=0,
                     update_vocabulary=True).fit(first)
    assert est.pending_counts_ == {"rare": 1}
    est.partial_fit(second)
    assert est.index_to_token_.tolist() == ["a", "b", "c", "rare"]
    assert est.pending_counts_ == {"new": 1}
