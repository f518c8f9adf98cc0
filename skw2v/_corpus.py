"""Documents -> flat int32 token ids + int64 sentence offsets (CSR layout).

The corpus is read exactly once: every token gets a provisional id in order
of first appearance (``defaultdict`` with ``__len__`` as factory, as
scikit-learn's CountVectorizer does), so a one-shot generator works too.
The vocabulary is pruned afterwards and the ids remapped with NumPy.
"""

import gzip
import math
import os
import re
from array import array
from collections import defaultdict
from numbers import Integral

import numpy as np

DEFAULT_TOKEN_PATTERN = r"(?u)\b\w+\b"


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
        if doc is None:
            raise ValueError("X contains None where a document was expected")
        if isinstance(doc, float) and math.isnan(doc):
            raise ValueError(
                "X contains NaN (a missing value) where a document was expected; "
                "drop or fill missing documents first"
            )
        raise TypeError(
            "each document must be a string or a list of string tokens, "
            f"got {type(doc).__name__}"
        )

    return analyze


class LineCorpus:
    """A text file as a re-iterable corpus: one document per line.

    ``path`` may end in ``.gz``. With ``split=True`` (default) each line is
    split on whitespace, like word2vec.c and gensim's LineSentence, and used
    as given; with ``split=False`` lines are yielded as strings and go
    through the estimator's tokenization. Lines are read one at a time, so a
    corpus larger than memory can be encoded (4 bytes per token are kept).
    """

    def __init__(self, path, *, split=True, encoding="utf-8"):
        self.path = os.fspath(path)
        self.split = split
        self.encoding = encoding
        if not os.path.isfile(self.path):
            raise ValueError(f"corpus file {self.path!r} does not exist or is not a file")

    def __iter__(self):
        opener = gzip.open if self.path.endswith(".gz") else open
        n_lines = 0
        with opener(self.path, "rt", encoding=self.encoding) as f:
            try:
                for line in f:
                    n_lines += 1
                    yield line.split() if self.split else line
            except UnicodeDecodeError as exc:
                # The failing block starts right after the last line read whole.
                line_no = n_lines + 1 + bytes(exc.object[:exc.start]).count(b"\n")
                raise ValueError(f"corpus file {self.path!r}, line {line_no}, is not "
                                 f"{self.encoding} text ({exc.reason})") from None

    def __repr__(self):
        return f"LineCorpus({self.path!r})"


def check_documents(X, name="X"):
    """Reject inputs that are not an iterable of documents, before reading them.

    A ``pathlib.Path`` (any ``os.PathLike``) is read as a :class:`LineCorpus`.
    """
    if isinstance(X, os.PathLike):
        return LineCorpus(X)
    if X is None:
        raise ValueError(f"{name} must be an iterable of documents, got None")
    if isinstance(X, (str, bytes)):
        raise ValueError(
            f"{name} must be an iterable of documents (strings or token lists), "
            f"got a single {type(X).__name__}; wrap it in a list: [{name}], or pass "
            "pathlib.Path(...) / skw2v.LineCorpus(...) to read a file"
        )
    if isinstance(X, dict):
        raise TypeError(f"{name} must be an iterable of documents, got a dict")
    # Any array-like with ndim: a DataFrame or a 2-D array would otherwise be
    # iterated by column label or row, silently training on the wrong text.
    ndim = getattr(X, "ndim", 1)
    if ndim != 1:
        raise ValueError(
            f"{name} must be one-dimensional (one document per entry), got "
            f"{type(X).__name__} with ndim={ndim} and shape {getattr(X, 'shape', None)}"
        )
    if not hasattr(X, "__iter__"):
        raise TypeError(f"{name} must be an iterable of documents, got {type(X).__name__}")
    return X


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
            _check_tokens(toks)
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
            _check_tokens(toks)
            raise
        if len(found) < len(toks):
            # Only documents with unknown tokens pay for this check: a non-string
            # token must be an error, as in fit, not silently skipped as unknown.
            _check_tokens(toks)
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


def _check_tokens(toks):
    for t in toks:
        if not isinstance(t, str):
            raise TypeError(
                f"tokens must be strings; found {t!r} of type {type(t).__name__} "
                "(a document is a string or a flat list of string tokens)"
            )


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
    first = np.searchsorted(offsets, bounds[:-1], side="right") - 1
    first = np.clip(first, 0, len(offsets) - 2).astype(np.int64)
    return bounds, first
