"""A growing vocabulary (partial_fit with update_vocabulary=True)."""

import numpy as np

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
