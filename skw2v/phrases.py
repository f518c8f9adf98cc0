"""Phrases: learn collocations ("new york") and join them into single tokens ("new_york").

A scikit-learn transformer from documents to documents (token lists), to sit
before ``Word2VecNS`` in a ``Pipeline``; two in a row find trigrams. The
scores are those of word2vec's phrase tool (Mikolov et al. 2013) and NPMI
(Bouma 2009), with gensim's conventions, so a ``gensim.models.Phrases`` with
the same settings finds the same phrases with the same scores.
"""

import math
import re
from collections import Counter
from itertools import islice
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._corpus import DEFAULT_TOKEN_PATTERN, make_analyzer
from ._documents import check_X, checked_tokenizer, iter_documents
from ._line_corpus import LineCorpus

# Long documents are counted in slices of this many tokens, so the counter's
# size is checked against max_vocab_size at least this often.
_SLICE_TOKENS = 10_000
# Files are read by the compiled reader in byte ranges of at most this size
# (whole lines; a compressed file is one range): the ids of one range are in
# memory at a time, besides the capped counters.
_RANGE_BYTES = 16 << 20


class Phrases(TransformerMixin, BaseEstimator):
    """Join frequent collocations of documents into single tokens.

    ``fit`` counts every word and every pair of adjacent words; a pair
    ``(a, b)`` is a phrase when its score exceeds ``threshold``. ``transform``
    returns each document as a list of tokens, reading left to right and
    joining a phrase's two words with ``delimiter`` (a word joined to its left
    neighbour is not joined again to its right one).

    Parameters
    ----------
    min_count : int, default=5
        Pairs seen fewer times are never phrases (see the scores).
    threshold : float, default=10.0
        A pair is a phrase when its score is greater than this. Positive for
        ``scoring="default"``, in [-1, 1] for ``"npmi"``.
    scoring : {"default", "npmi"}, default="default"
        ``"default"``: word2vec's ``(count(a b) - min_count) / (count(a) count(b)) * n_entries``,
        ``n_entries`` the number of distinct words plus distinct pairs counted.
        ``"npmi"``: normalised pointwise mutual information
        ``log(p(a b) / (p(a) p(b))) / -log(p(a b))`` (probabilities are counts
        over the number of tokens), or -inf for pairs seen fewer than
        ``min_count`` times.
    delimiter : str, default="_"
        Joins the two words of a phrase.
    max_vocab_size : int, default=40_000_000
        Bound on the words and pairs counted at once (memory: roughly 150
        bytes each). When the count exceeds it, every entry seen fewer than
        m times is dropped, with m = 2, 3, ... rising at each pruning (word2vec's
        rule), so rare entries' counts are lower bounds afterwards. The check
        runs after each document, and on files after each byte range (16 MB
        of whole lines) the compiled reader reads.
    lowercase : bool, default=True
        Lowercase string documents before tokenizing (token lists are used as given).
    token_pattern : str, default=r"(?u)\\b\\w+\\b"
        Regular expression whose matches are the tokens of a string document.
    tokenizer : callable or None, default=None
        Overrides ``token_pattern``: ``tokenizer(doc) -> list of str``.

    Attributes
    ----------
    phrases_ : dict
        ``(a, b) -> score`` of every phrase found.
    n_words_ : int
        Tokens counted.
    n_entries_ : int
        Distinct words plus distinct pairs in the counter at the end of ``fit``
        (the ``n_entries`` of the default score).
    min_reduce_ : int
        1 if counting never pruned; otherwise entries seen fewer than
        ``min_reduce_`` times may have been dropped.

    Notes
    -----
    gensim keys its counter by joined strings, so a word that contains the
    delimiter ("a_b") shares its count with the pair ("a", "b"); here words
    and pairs are counted apart. The two agree whenever no input token
    contains the delimiter (e.g. on a first layer). gensim's pruning starts
    at m = 1 (a no-op) and prunes once per document; here it repeats until
    the counter is within ``max_vocab_size``, so the bound holds.
    ``connector_words`` (gensim's phrases across "of", "the") are not
    supported.

    Examples
    --------
    >>> from skw2v import Phrases
    >>> docs = ["I love New York", "new york is big", "a big city", "I love a city",
    ...         "the city is new", "New York is a city", "the old town",
    ...         "big old trees", "the sea is big", "I love the sea"] * 10
    >>> phrases = Phrases(min_count=5, threshold=0.5).fit(docs)
    >>> phrases.transform(["a New York city"])
    [['a', 'new_york', 'city']]
    """

    _parameter_constraints: dict = {
        "min_count": [Interval(Integral, 1, None, closed="left")],
        "threshold": [Interval(Real, None, None, closed="neither")],
        "scoring": [StrOptions({"default", "npmi"})],
        "delimiter": [str],
        "max_vocab_size": [Interval(Integral, 1, None, closed="left")],
        "lowercase": ["boolean"],
        "token_pattern": [str],
        "tokenizer": [callable, None],
    }

    def __init__(self, *, min_count=5, threshold=10.0, scoring="default", delimiter="_",
                 max_vocab_size=40_000_000, lowercase=True,
                 token_pattern=DEFAULT_TOKEN_PATTERN, tokenizer=None):
        self.min_count = min_count
        self.threshold = threshold
        self.scoring = scoring
        self.delimiter = delimiter
        self.max_vocab_size = max_vocab_size
        self.lowercase = lowercase
        self.token_pattern = token_pattern
        self.tokenizer = tokenizer

    def _more_validate_params(self):
        for name in ("min_count", "max_vocab_size"):
            if isinstance(getattr(self, name), bool):
                raise InvalidParameterError(
                    f"The {name!r} parameter of Phrases must be an int, not a bool. "
                    f"Got {getattr(self, name)!r} instead.")
        if not math.isfinite(self.threshold):
            raise ValueError(f"threshold must be finite, got {self.threshold!r}")
        if self.scoring == "default" and self.threshold <= 0:
            raise ValueError(f"threshold must be positive with scoring='default', got "
                             f"{self.threshold!r}")
        if self.scoring == "npmi" and not -1 <= self.threshold <= 1:
            raise ValueError(f"threshold must be in [-1, 1] with scoring='npmi', got "
                             f"{self.threshold!r}")
        if not self.delimiter:
            raise ValueError("delimiter must be a non-empty string, got ''")
        if self.tokenizer is None:
            try:
                groups = re.compile(self.token_pattern).groups
            except re.error as exc:
                raise ValueError(f"token_pattern={self.token_pattern!r} is not a valid "
                                 f"regular expression: {exc}") from None
            if groups > 1:
                raise ValueError(f"token_pattern={self.token_pattern!r} has {groups} capturing "
                                 "groups; use at most one")

    def _documents(self, X):
        """X as an iterator of token lists (X read once)."""
        analyze = make_analyzer(self.lowercase, self.token_pattern,
                                checked_tokenizer(self.tokenizer))
        for doc in iter_documents(check_X(X)):
            tokens = analyze(doc)
            yield tokens if isinstance(tokens, list) else list(tokens)

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Count words and adjacent pairs of X and keep the pairs that score above threshold.

        Parameters
        ----------
        X : iterable of str or of lists of str, or a path
            Documents, as ``Word2VecNS.fit`` takes them (a ``pathlib.Path`` or
            ``LineCorpus`` is streamed: one document per line, split on
            whitespace by the same compiled reader as ``Word2VecNS.fit``,
            range by range). Read once.
        y : ignored

        Returns
        -------
        self : Phrases
        """
        self._more_validate_params()
        X = check_X(X)
        if _compiled_files(X):
            self._fit_counts(*count_file_words_and_pairs(X, self.max_vocab_size))
        else:
            self._fit(self._documents(X))
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit, then transform X; X is read once (its token lists are kept),
        files twice (the compiled reader counts, then ``transform`` joins)."""
        self._more_validate_params()
        X = check_X(X)
        if _compiled_files(X):
            self._fit_counts(*count_file_words_and_pairs(X, self.max_vocab_size))
            return self.transform(X)
        documents = list(self._documents(X))
        self._fit(documents)
        return [self._join(tokens) for tokens in documents]

    def _fit(self, documents):
        return self._fit_counts(*count_words_and_pairs(documents, self.max_vocab_size))

    def _fit_counts(self, words, pairs, n_words, min_reduce):
        if n_words == 0:
            raise ValueError("X has no tokens: fit needs at least one document with tokens")
        self.n_words_ = n_words
        self.n_entries_ = len(words) + len(pairs)
        self.min_reduce_ = min_reduce
        self.phrases_ = self._score(words, pairs)
        return self

    def _score(self, words, pairs):
        """``{(a, b): score}`` of the pairs scoring above threshold."""
        # Pairs seen fewer than min_count times score <= 0 (default) or -inf (npmi).
        lowest = self.min_count + 1 if self.scoring == "default" else self.min_count
        candidates = [(pair, c) for pair, c in pairs.items() if c >= lowest]
        if not candidates:
            return {}
        count = np.array([c for _, c in candidates], dtype=np.float64)
        count_a = np.array([words[a] for (a, _), _ in candidates], dtype=np.float64)
        count_b = np.array([words[b] for (_, b), _ in candidates], dtype=np.float64)
        if self.scoring == "default":
            score = (count - self.min_count) / (count_a * count_b) * self.n_entries_
        else:
            n = float(self.n_words_)
            p_ab = count / n
            with np.errstate(divide="ignore"):
                score = np.log(p_ab / ((count_a / n) * (count_b / n))) / -np.log(p_ab)
        keep = np.flatnonzero(score > self.threshold)
        return {candidates[i][0]: float(score[i]) for i in keep.tolist()}

    # ------------------------------------------------------------ transform
    def _join(self, tokens):
        phrases, delimiter = self.phrases_, self.delimiter
        out, i, n = [], 0, len(tokens)
        while i < n:
            if i + 1 < n and (tokens[i], tokens[i + 1]) in phrases:
                out.append(tokens[i] + delimiter + tokens[i + 1])
                i += 2
            else:
                out.append(tokens[i])
                i += 1
        return out

    def transform(self, X):
        """Each document of X as a list of tokens with its phrases joined.

        Returns
        -------
        list of lists of str, one per document (empty documents give []).
        """
        check_is_fitted(self)
        return [self._join(tokens) for tokens in self._documents(X)]

    def export_phrases(self):
        """``{"a_b": score}`` for every phrase found (gensim's ``export_phrases``)."""
        check_is_fitted(self)
        return {a + self.delimiter + b: s for (a, b), s in self.phrases_.items()}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []
        return tags


def _compiled_files(X):
    """True for files the compiled whitespace reader reads as Python's
    ``str.split()`` would (UTF-8, split, strict decoding)."""
    return isinstance(X, LineCorpus) and X.compiled and X.errors == "strict"


def _prune(words, pairs, max_vocab_size, min_reduce):
    """word2vec's rule: while the counters hold more than ``max_vocab_size``
    entries, drop those seen fewer than a floor rising from ``min_reduce + 1``."""
    while len(words) + len(pairs) > max_vocab_size:
        min_reduce += 1
        words = Counter({w: c for w, c in words.items() if c >= min_reduce})
        pairs = Counter({p: c for p, c in pairs.items() if c >= min_reduce})
    return words, pairs, min_reduce


def count_file_words_and_pairs(corpus, max_vocab_size, range_bytes=_RANGE_BYTES):
    """``count_words_and_pairs`` of a ``LineCorpus`` (one document per line, split
    on whitespace), read with the compiled reader of ``Word2VecNS.fit``.

    Each byte range of whole lines is read into ids (``read_partition``);
    its words and adjacent pairs within a line are counted with NumPy and
    added to the counters, which are then pruned to ``max_vocab_size`` as
    the list path prunes them after each document. Memory: the counters
    plus one range's ids.
    """
    from ._file_passes import file_partitions, read_partition

    words, pairs = Counter(), Counter()
    n_words, min_reduce = 0, 1
    for spec in file_partitions(corpus.paths, 1, max_bytes=range_bytes):
        ids, offsets, types = read_partition(spec)
        if len(ids) == 0:
            continue
        n_words += len(ids)
        n_types = len(types)
        names = np.array(types, dtype=object)
        counts = np.bincount(ids, minlength=n_types)
        seen = np.flatnonzero(counts)
        words.update(dict(zip(names[seen].tolist(), counts[seen].tolist())))
        # pairs (ids[j], ids[j + 1]) within a line: j + 1 is no line's start
        within = np.ones(len(ids) - 1, dtype=bool)
        starts = offsets[1:-1]
        starts = starts[(starts > 0) & (starts < len(ids))]
        within[starts - 1] = False
        keys = ids[:-1].astype(np.int64) * n_types + ids[1:]
        keys, counts = np.unique(keys[within], return_counts=True)
        pairs.update(dict(zip(zip(names[keys // n_types].tolist(),
                                  names[keys % n_types].tolist()), counts.tolist())))
        del ids, offsets, keys, counts, names
        words, pairs, min_reduce = _prune(words, pairs, max_vocab_size, min_reduce)
    return words, pairs, n_words, min_reduce


def count_words_and_pairs(documents, max_vocab_size):
    """Count tokens and adjacent token pairs of each document.

    Returns ``(words, pairs, n_words, min_reduce)``: two Counters (token ->
    count, (a, b) -> count), the number of tokens, and the pruning floor
    reached (1: nothing pruned). Whenever the two counters together hold more
    than ``max_vocab_size`` entries, entries with counts below a floor rising
    from 2 are dropped until they fit; the check runs after every document
    and every ``_SLICE_TOKENS`` tokens of a long one.
    """
    words, pairs = Counter(), Counter()
    n_words, min_reduce = 0, 1
    for tokens in documents:
        n_words += len(tokens)
        for start in range(0, len(tokens), _SLICE_TOKENS):
            if len(tokens) <= _SLICE_TOKENS:
                words.update(tokens)
                pairs.update(zip(tokens, islice(tokens, 1, None)))
            else:
                piece = tokens[start:start + _SLICE_TOKENS + 1]  # +1: the pair across the cut
                words.update(piece[:_SLICE_TOKENS])
                pairs.update(zip(piece, islice(piece, 1, None)))
            words, pairs, min_reduce = _prune(words, pairs, max_vocab_size, min_reduce)
    return words, pairs, n_words, min_reduce
