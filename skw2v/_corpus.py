"""Documents -> flat int32 token ids + int64 sentence offsets (CSR layout).

Documents come in checked (``_documents``). The corpus is read exactly
once: every token gets a provisional id in order of first appearance
(``defaultdict`` with ``__len__`` as factory, as scikit-learn's
CountVectorizer does), so a one-shot generator works too.
The vocabulary is pruned afterwards and the ids remapped with NumPy.
"""

import re
from array import array
from collections import defaultdict
from numbers import Integral

import numpy as np

from ._documents import bad_document, check_tokens

DEFAULT_TOKEN_PATTERN = r"(?u)\b\w+\b"


def _a_document():
    return "a document of X"


def make_analyzer(lowercase=True, token_pattern=DEFAULT_TOKEN_PATTERN, tokenizer=None):
    """Return ``doc -> list of tokens``.

    A string is lowercased (if ``lowercase``) then split by ``tokenizer`` or by
    ``re.findall(token_pattern)``. A list/tuple/ndarray of tokens is used as
    given (already tokenized text is not changed).
    """
    split = tokenizer if tokenizer is not None else re.compile(token_pattern).findall

    def analyze(doc):
        if isinstance(doc, str):
            return split(doc.lower() if lowercase else doc)
        if isinstance(doc, (list, tuple, np.ndarray)):
            return doc
        raise bad_document(doc, "a document of X")

    return analyze


class EncodedCorpus:
    """Token ids (int32), sentence offsets (int64) and the id -> token list."""

    def __init__(self, tokens, offsets, types):
        self.tokens = tokens
        self.offsets = offsets
        self.types = types

    @property
    def n_documents(self):
        return len(self.offsets) - 1


def encode_new(X, analyze):
    """One pass over X giving provisional ids for every distinct token."""
    index = defaultdict()
    index.default_factory = index.__len__
    ids = array("i")
    offsets = array("q", [0])
    for doc in X:
        toks = analyze(doc)
        try:
            ids.extend([index[t] for t in toks])
        except TypeError:  # an unhashable token, e.g. a nested list
            check_tokens(toks, _a_document)
            raise
        offsets.append(len(ids))
    types = list(index)
    bad = [t for t in types if not isinstance(t, str)]
    if bad:
        raise TypeError(
            f"tokens must be strings; found {len(bad)} non-string token(s) such as "
            f"{bad[0]!r} of type {type(bad[0]).__name__}"
        )
    return EncodedCorpus(
        np.frombuffer(ids, dtype=np.int32) if len(ids) else np.zeros(0, np.int32),
        np.frombuffer(offsets, dtype=np.int64).copy(),
        types,
    )


def encode_known(X, analyze, vocabulary):
    """Encode X with a fixed vocabulary; out-of-vocabulary tokens are dropped."""
    get = vocabulary.get
    ids = array("i")
    offsets = array("q", [0])
    for doc in X:
        toks = analyze(doc)
        if not hasattr(toks, "__len__"):  # a custom tokenizer may return an iterator
            toks = list(toks)
        try:
            found = [i for i in map(get, toks) if i is not None]
        except TypeError:  # an unhashable token, e.g. a nested list
            check_tokens(toks, _a_document)
            raise
        if len(found) < len(toks):
            # Only documents with unknown tokens pay for this check: a non-string
            # token must be an error, as in fit, not silently skipped as unknown.
            check_tokens(toks, _a_document)
        ids.extend(found)
        offsets.append(len(ids))
    return EncodedCorpus(
        np.frombuffer(ids, dtype=np.int32) if len(ids) else np.zeros(0, np.int32),
        np.frombuffer(offsets, dtype=np.int64).copy(),
        None,
    )


BLOCK_TOKENS = 1 << 20  # work in blocks: temporaries stay O(block), not O(corpus)


def sentence_blocks(offsets, block_tokens=None):
    """Yield (first, last) sentence ranges holding about ``block_tokens`` tokens."""
    block_tokens = block_tokens or BLOCK_TOKENS
    n_docs = len(offsets) - 1
    first = 0
    while first < n_docs:
        target = offsets[first] + block_tokens
        last = int(np.searchsorted(offsets, target, side="right")) - 1
        last = min(max(last, first + 1), n_docs)
        yield first, last
        first = last


def remap(corpus, lookup):
    """Apply ``lookup`` (provisional id -> final id, -1 = dropped) to a corpus.

    Compacts the token array in place, block by block, so the only extra
    memory is one block of temporaries.
    """
    tokens, offsets = corpus.tokens, corpus.offsets
    if len(tokens) == 0:
        return EncodedCorpus(tokens, offsets, None)
    if not tokens.flags.writeable:
        tokens = tokens.copy()
    new_offsets = np.empty_like(offsets)
    new_offsets[0] = 0
    write = 0
    for first, last in sentence_blocks(offsets):
        a, b = offsets[first], offsets[last]
        ids = lookup[tokens[a:b]]
        kept = ids >= 0
        n_kept = int(kept.sum())
        # write <= a always holds, so this never overwrites unread input.
        tokens[write:write + n_kept] = ids[kept]
        cum = np.concatenate([[0], np.cumsum(kept, dtype=np.int64)])
        new_offsets[first + 1:last + 1] = write + cum[offsets[first + 1:last + 1] - a]
        write += n_kept
    return EncodedCorpus(tokens[:write], new_offsets, None)


LAYOUT_SLICE = 2048  # chunk starts located per searchsorted call


def chunk_layout(offsets, n_tokens, chunk_tokens):
    """Cut positions [0, n_tokens) into chunks of ``chunk_tokens`` positions.

    Returns ``(bounds, first_sentence)``: chunk c covers positions
    ``bounds[c]:bounds[c+1]`` and starts inside sentence ``first_sentence[c]``.
    Chunks depend only on the corpus, so the random draws do not depend on
    ``n_jobs``.
    """
    if not isinstance(chunk_tokens, Integral) or chunk_tokens < 1:
        raise ValueError(f"chunk_tokens must be a positive integer, got {chunk_tokens!r}")
    bounds = np.arange(0, n_tokens + chunk_tokens, chunk_tokens, dtype=np.int64)
    bounds[-1] = n_tokens
    if len(bounds) >= 2 and bounds[-2] == n_tokens:
        bounds = bounds[:-1]
    if len(bounds) < 2:
        bounds = np.array([0, n_tokens], dtype=np.int64)
    # In slices: each chunk start reads about one page of a memory-mapped
    # offsets array, and those pages would otherwise stay resident (160 MB
    # for 20M sentences).
    from ._corpus_cache import drop_mapped_pages

    first = np.empty(len(bounds) - 1, dtype=np.int64)
    for a in range(0, len(first), LAYOUT_SLICE):
        b = min(a + LAYOUT_SLICE, len(first))
        first[a:b] = np.searchsorted(offsets, bounds[a:b], side="right") - 1
        drop_mapped_pages(offsets)
    first = np.clip(first, 0, len(offsets) - 2).astype(np.int64)
    return bounds, first


def longest_sentence(offsets, slice_len=1 << 20):
    """The length of the longest sentence, read in slices of a memory-mapped
    ``offsets`` with its pages dropped in between (see ``chunk_layout``)."""
    from ._corpus_cache import drop_mapped_pages

    longest = 0
    for a in range(0, len(offsets) - 1, slice_len):
        part = np.asarray(offsets[a:min(a + slice_len, len(offsets) - 1) + 1])
        longest = max(longest, int(np.diff(part).max(initial=0)))
        drop_mapped_pages(offsets)
    return longest
