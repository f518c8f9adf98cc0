"""A growing vocabulary: ``partial_fit`` with ``update_vocabulary=True``.

Counts accumulate over ``fit`` and every later batch: a word of the
vocabulary adds its batch count to ``token_counts_`` (so the noise
distribution and the subsampling follow the counts seen so far), and a word
outside it adds to a pending count; once the pending count reaches
``min_count`` the word gets a new row, appended after the existing ones
(most frequent first, ties by token), while ``max_vocab_size`` allows.
"""

from typing import NamedTuple

import numpy as np


class Growth(NamedTuple):
    lookup: np.ndarray  # int32 (n_types,): batch type id -> row, -1 for words still pending
    new_tokens: list  # words given new rows, in row order
    token_counts: np.ndarray  # int64 (V + len(new_tokens),): counts seen so far
    pending: dict  # word -> count seen so far, for words without a row


def pending_counts(types, counts, kept):
    """The pending counts ``fit`` leaves: words of ``types`` not in ``kept`` (their ids)."""
    pending = dict(zip(types, np.asarray(counts).tolist()))
    for i in np.asarray(kept).tolist():
        del pending[types[i]]
    return pending


def grow_vocabulary(vocabulary, token_counts, pending, types, counts, min_count,
                    max_vocab_size):
    """Add a batch's counts; give rows to the words whose counts reach ``min_count``.

    Parameters
    ----------
    vocabulary : dict, word -> row (rows 0 .. V-1)
    token_counts : int64 (V,), counts so far of the vocabulary's words
    pending : dict, word -> count so far of words without a row (not modified)
    types, counts : the batch's distinct words and their counts in it
    min_count, max_vocab_size : the estimator's parameters

    Returns
    -------
    Growth
    """
    n_rows = len(token_counts)
    lookup = np.full(len(types), -1, dtype=np.int32)
    updated = np.array(token_counts, dtype=np.int64, copy=True)
    pending = dict(pending)
    ready = []
    for i, (word, count) in enumerate(zip(types, np.asarray(counts).tolist())):
        row = vocabulary.get(word)
        if row is not None:
            lookup[i] = row
            updated[row] += count
        else:
            total = pending.get(word, 0) + count
            pending[word] = total
            if total >= min_count:
                ready.append(i)
    ready.sort(key=lambda i: (-pending[types[i]], types[i]))
    if max_vocab_size is not None:
        ready = ready[:max(0, max_vocab_size - n_rows)]
    new_tokens = [str(types[i]) for i in ready]
    new_counts = np.array([pending.pop(types[i]) for i in ready], dtype=np.int64)
    lookup[ready] = np.arange(n_rows, n_rows + len(ready), dtype=np.int32)
    return Growth(lookup, new_tokens, np.concatenate([updated, new_counts]), pending)
