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

from ._corpus import remap
from ._memory import check_model_fits
from ._pretrained import frozen_mask, pretrained_words, preload
from ._vocab import build_vocabulary, check_corpus_size, document_frequency
from ._warm_start import apply_init_vectors
from ._weights import continued_weights, initial_output_bias


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


def fit_vocabulary(raw, min_count, max_vocab_size, allowed=None, with_pending=False):
    """The vocabulary stage of a fit (``_vocab.vocabulary_of``), with two options.

    ``allowed`` (a set, or None): only these words may enter the vocabulary
    (the pretrained-only featurizer keeps the words ``init_vectors`` has).
    ``with_pending``: also return the counts of the words left out, for a
    later ``partial_fit(update_vocabulary=True)`` (else None).

    Returns ``(corpus of vocabulary ids, index_to_token, token_counts, pending)``.
    """
    check_corpus_size(raw.n_documents, len(raw.tokens))
    counts = np.bincount(raw.tokens, minlength=len(raw.types)).astype(np.int64)
    eligible = counts
    if allowed is not None:
        mask = np.fromiter((t in allowed for t in raw.types), dtype=bool, count=len(raw.types))
        if not mask.any():
            raise ValueError(
                f"init_vectors has none of the {len(raw.types)} distinct token(s) of X; with "
                "epochs=0 the vocabulary is the words of X that init_vectors has")
        eligible = np.where(mask, counts, 0)
    kept, index_to_token, token_counts = build_vocabulary(raw.types, eligible, min_count,
                                                          max_vocab_size)
    pending = pending_counts(raw.types, counts, kept) if with_pending else None
    lookup = np.full(len(raw.types), -1, dtype=np.int32)
    lookup[kept] = np.arange(len(kept), dtype=np.int32)
    return remap(raw, lookup), index_to_token, token_counts, pending


def grow_model(fitted, pending, raw, rs, params):
    """The vocabulary stage of ``partial_fit(update_vocabulary=True)``.

    ``fitted``: the estimator's fitted attributes; ``pending``: its pending
    counts; ``raw``: the batch as an ``EncodedCorpus`` of provisional ids
    (consumed); ``rs``: the RandomState the new rows are drawn from;
    ``params``: ``get_params()``. New rows start as in ``fit`` (uniform
    input vectors, zero output vectors, NCE bias at the log-frequency, then
    ``init_vectors``, frozen when ``freeze_init_vectors``).

    Returns ``(corpus, attributes, weights, pending)``: the batch in row ids,
    the vocabulary-side fitted attributes to publish, the weights to train
    (copies) and the new pending counts.
    """
    counts = np.bincount(raw.tokens, minlength=len(raw.types)).astype(np.int64)
    growth = grow_vocabulary(fitted["vocabulary_"], fitted["token_counts_"], pending or {},
                             raw.types, counts, params["min_count"], params["max_vocab_size"])
    corpus = remap(raw, growth.lookup)
    n_old, n_new = len(fitted["token_counts_"]), len(growth.new_tokens)
    loss, subsample, dim = params["loss"], params["subsample"], params["vector_size"]
    w_in, w_out, bias = continued_weights(fitted, loss, subsample)
    frozen = fitted.get("frozen_rows_")
    if params["freeze_init_vectors"] and frozen is None:
        frozen = np.zeros(n_old, dtype=np.uint8)
    attributes = {"token_counts_": growth.token_counts}
    if n_new:
        check_model_fits(n_old + n_new, dim)
        init = preload(params["init_vectors"])
        gen = np.random.default_rng(rs.randint(np.iinfo(np.int32).max))
        new_in = (2.0 * gen.random((n_new, dim), dtype=np.float32) - 1.0) / dim
        new_out = np.zeros((n_new, dim), dtype=np.float32)
        new_bias = initial_output_bias(growth.token_counts, loss, subsample)[n_old:]
        apply_init_vectors(init, growth.new_tokens, new_in, new_out,
                           new_bias if loss == "nce" else None)
        w_in, w_out = np.vstack([w_in, new_in]), np.vstack([w_out, new_out])
        bias = np.concatenate([bias, new_bias])
        if frozen is not None:
            frozen = np.concatenate([frozen, frozen_mask(growth.new_tokens,
                                                         pretrained_words(init))])
        # idf of a new word: over the documents of the batch that added it
        df = document_frequency(corpus.tokens, corpus.offsets, n_old + n_new)[n_old:]
        new_idf = np.log((1.0 + corpus.n_documents) / (1.0 + df)) + 1.0
        vocabulary = dict(fitted["vocabulary_"])
        vocabulary.update((t, n_old + i) for i, t in enumerate(growth.new_tokens))
        attributes.update({
            "index_to_token_": np.concatenate([fitted["index_to_token_"],
                                               np.array(growth.new_tokens, dtype=object)]),
            "vocabulary_": vocabulary,
            "idf_": np.concatenate([fitted["idf_"], new_idf]),
        })
    if frozen is not None and params["freeze_init_vectors"]:
        attributes["frozen_rows_"] = frozen
    return corpus, attributes, (w_in, w_out, bias), growth.pending
