"""Word-vector queries named as gensim's ``KeyedVectors`` ones, so code ports with few edits.

Everything works on unit-normalised rows, computed once per fitted state and
kept outside the estimator (a weak-keyed table), so they are never pickled,
saved or cloned, and a refit (new arrays) invalidates them by itself.
Nearest neighbours of many queries are matrix products plus a compiled
per-row top-k (skw2v/_topk.pyx), never a Python loop over the vocabulary.
"""

import difflib
import weakref
from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from ._topk import top_k_products, top_k_rows

# Scores of one block of queries stay below this many float32 entries (128 MB);
# the buffer is reused from block to block (fresh pages cost more than the product).
_BLOCK_ENTRIES = 1 << 25
# From this many queries on, products and top-k run fused in cache-sized tiles
# (about 1.5x faster at 10,000 queries x 200,000 words); below it, the blocked
# BLAS product uses every thread on fewer rows.
_FUSED_MIN_QUERIES = 32
_COSMUL_EPS = 1e-6  # keeps the 3CosMul ratio finite (Levy & Goldberg 2014, and gensim)

_UNIT_CACHE = weakref.WeakKeyDictionary()


def unit_rows(vectors):
    """Rows scaled to unit length (float32); all-zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, np.finfo(np.float32).tiny)


def _unit(vector):
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else vector


def _close_matches(token, vocabulary):
    if not isinstance(token, str):
        return []
    return difflib.get_close_matches(token, vocabulary.keys(), n=3, cutoff=0.75)


def unknown_tokens_error(unknown, vocabulary):
    """KeyError naming every unknown token, with close vocabulary matches when there are any."""
    parts = []
    for token in unknown:
        close = _close_matches(token, vocabulary)
        hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
        parts.append(f"{token!r}{hint}")
    if len(unknown) == 1:
        message = f"token {parts[0]} is not in the vocabulary"
    else:
        message = f"tokens {', '.join(parts)} are not in the vocabulary"
    return KeyError(f"{message} ({len(vocabulary):,} words)")


def _check_topn(topn, allow_none=True):
    if topn is None and allow_none:
        return None
    if isinstance(topn, bool) or not isinstance(topn, Integral) or topn < 1:
        raise ValueError(f"topn must be a positive integer, got {topn!r}"
                         + (" (None returns every score)" if allow_none else ""))
    return int(topn)


def _check_restrict_vocab(restrict_vocab, n_vocab):
    if restrict_vocab is None:
        return n_vocab
    if (isinstance(restrict_vocab, bool) or not isinstance(restrict_vocab, Integral)
            or restrict_vocab < 1):
        raise ValueError(f"restrict_vocab must be None or a positive integer, "
                         f"got {restrict_vocab!r}")
    return min(int(restrict_vocab), n_vocab)


def _as_list(value):
    """gensim's convention: one token or one vector stands for a list of one;
    a 2-D array is a list of row vectors."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, np.ndarray):
        return [value] if value.ndim == 1 else list(value)
    return list(value)


def top_k(scores, k):
    """Column indices and values of the ``k`` largest entries of each row of
    ``scores`` (2-D float32), best first, ties by column.

    A compiled threshold scan with a bounded heap per row (rows in parallel):
    numpy's ``argpartition`` of each row cost about a quarter of the matrix
    product that made the scores. Slots beyond a row's scores above -inf hold
    -inf.
    """
    scores = np.ascontiguousarray(scores, dtype=np.float32)
    k = min(k, scores.shape[1])
    values = np.empty((scores.shape[0], k), dtype=np.float32)
    columns = np.empty((scores.shape[0], k), dtype=np.int64)
    top_k_rows(scores, values, columns)
    return columns, values


class _Query:
    """One neighbour query: a combined query vector and the rows it leaves out."""

    __slots__ = ("vector", "exclude")

    def __init__(self, vector, exclude):
        self.vector = vector
        self.exclude = exclude


class QueryMixin:
    """Neighbour, analogy and similarity queries on the fitted ``vectors_``.

    Needs ``vectors_``, ``vocabulary_``, ``index_to_token_`` and ``lowercase``.
    String queries are normalised as training text was: a token not in the
    vocabulary is looked up lowercased when ``lowercase=True`` (token lists
    are trained as given, so the exact token is tried first).
    """

    # ------------------------------------------------------------ internals
    def _unit_vectors(self):
        """Unit-normalised ``vectors_`` (float32), computed once per fitted state.

        The cache entry remembers the ``vectors_`` and ``loss_history_`` arrays
        it was computed from (weakly): ``fit`` and ``partial_fit`` replace both
        (and a callback's mid-training view gets a new ``loss_history_`` each
        epoch), so a stale entry is never used. Writing into ``vectors_`` in
        place is not detected.
        """
        vectors = self.vectors_
        history = getattr(self, "loss_history_", None)
        entry = _UNIT_CACHE.get(self)
        if entry is not None:
            vectors_ref, history_ref, unit = entry
            if vectors_ref() is vectors and (history_ref() if history_ref else None) is history:
                return unit
        unit = unit_rows(vectors)
        _UNIT_CACHE[self] = (weakref.ref(vectors),
                             weakref.ref(history) if history is not None else None, unit)
        return unit

    def _find_row(self, token):
        """Row of a string token (exact, then lowercased if ``lowercase``), or None."""
        vocabulary = self.vocabulary_
        row = vocabulary.get(token)
        if row is None and getattr(self, "lowercase", False):
            row = vocabulary.get(token.lower())
        return row

    def _rows(self, tokens, name):
        """Rows of string tokens; one KeyError naming every unknown token."""
        rows, unknown = [], []
        for token in tokens:
            if not isinstance(token, str):
                raise TypeError(f"{name} must hold string tokens, got {token!r} of type "
                                f"{type(token).__name__}")
            row = self._find_row(token)
            if row is None:
                if token not in unknown:
                    unknown.append(token)
            else:
                rows.append(row)
        if unknown:
            raise unknown_tokens_error(unknown, self.vocabulary_)
        return rows

    def _row(self, token):
        check_is_fitted(self)
        if not isinstance(token, str):
            raise KeyError(f"token {token!r} is not in the vocabulary (tokens are strings)")
        return self._rows([token], "token")[0]

    def _check_vector(self, value, name):
        dim = self.vectors_.shape[1]
        try:
            vector = np.asarray(value, dtype=np.float32)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must hold tokens or vectors of shape ({dim},), got "
                            f"{type(value).__name__}") from None
        if vector.shape != (dim,):
            raise ValueError(f"a query vector must have shape ({dim},), got {vector.shape} "
                             f"(in {name})")
        if not np.isfinite(vector).all():
            raise ValueError(f"a query vector in {name} has non-finite values")
        return vector

    def _terms(self, items, name):
        """Check query items (tokens or vectors of shape (d,)).

        Returns ``(terms, tokens)``: ("token", str) / ("vector", ndarray) pairs
        in order, and the tokens among them (looked up by the caller at once).
        """
        terms, tokens = [], []
        for item in items:
            if isinstance(item, str):
                tokens.append(item)
                terms.append(("token", item))
            elif isinstance(item, (np.ndarray, list, tuple)) and not (
                    isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
                terms.append(("vector", self._check_vector(item, name)))
            else:
                raise TypeError(
                    f"{name} must hold string tokens or vectors of shape "
                    f"({self.vectors_.shape[1]},), got {item!r} of type {type(item).__name__}"
                    + ("; (token, weight) pairs are not supported" if isinstance(item, tuple)
                       else "")
                )
        return terms, tokens

    def _combined_query(self, positive, negative, unit):
        """gensim's query of ``most_similar``: the weighted mean of unit token
        vectors and raw given vectors (weights +1 / -1, divided by their
        count), normalised; plus the rows of the given tokens."""
        pos_terms, pos_tokens = self._terms(_as_list(positive), "positive")
        neg_terms, neg_tokens = self._terms(_as_list(negative), "negative")
        if not pos_terms and not neg_terms:
            raise ValueError("most_similar needs at least one token or vector in positive "
                             "or negative, got none")
        rows = self._rows(pos_tokens + neg_tokens, "positive/negative")
        row_of = dict(zip(pos_tokens + neg_tokens, rows))
        mean = np.zeros(unit.shape[1], dtype=np.float32)
        for sign, terms in ((1.0, pos_terms), (-1.0, neg_terms)):
            for kind, value in terms:
                mean += sign * (unit[row_of[value]] if kind == "token" else value)
        mean /= len(pos_terms) + len(neg_terms)
        return _Query(_unit(mean), np.asarray(sorted(set(rows)), dtype=np.int64))

    def _parse_queries(self, queries, unit):
        """The ``queries=`` argument of most_similar -> list of _Query."""
        if isinstance(queries, np.ndarray) and queries.ndim == 2:
            vectors = np.asarray(queries, dtype=np.float32)
            if vectors.shape[1] != unit.shape[1]:
                raise ValueError(f"queries must have {unit.shape[1]} columns, got shape "
                                 f"{vectors.shape}")
            if not np.isfinite(vectors).all():
                raise ValueError("queries has non-finite values")
            empty = np.zeros(0, dtype=np.int64)
            return [_Query(_unit(v), empty) for v in vectors], None
        if isinstance(queries, str) or not hasattr(queries, "__iter__"):
            raise TypeError("queries must be a list of queries (tokens, vectors or "
                            f"dicts with 'positive'/'negative'), got {type(queries).__name__}")
        queries = list(queries)
        if queries and all(isinstance(q, str) for q in queries):
            # The common case (one word per query): all lookups and rows at once.
            rows = np.asarray(self._rows(queries, "queries"), dtype=np.int64)
            return None, rows
        parsed = []
        for q in queries:
            if isinstance(q, dict):
                unexpected = set(q) - {"positive", "negative"}
                if unexpected:
                    raise ValueError(f"a query dict takes the keys 'positive' and 'negative', "
                                     f"got {sorted(map(str, unexpected))}")
                parsed.append(self._combined_query(q.get("positive"), q.get("negative"), unit))
            else:
                parsed.append(self._combined_query(q, None, unit))
        return parsed, None

    def _top(self, unit, query_matrix, exclude, topn, limit):
        """Best ``topn`` rows among the first ``limit`` for each query row.

        ``exclude`` is a list of row arrays (or one row per query as an int
        array). Returns a list of lists of (token, score).
        """
        n_queries = len(query_matrix)
        if n_queries >= _FUSED_MIN_QUERIES:
            best, best_scores = self._top_fused(unit[:limit], query_matrix, exclude, topn)
        else:
            best, best_scores = self._top_blocks(unit[:limit], query_matrix, exclude, topn)
        tokens = self.index_to_token_
        results = []
        for i in range(n_queries):
            keep = best_scores[i] > -np.inf
            results.append([(tokens[r], float(s))
                            for r, s in zip(best[i][keep].tolist(), best_scores[i][keep].tolist())])
        return results

    @staticmethod
    def _top_fused(candidates, query_matrix, exclude, topn):
        """Many queries: products and top-k in cache-sized tiles (skw2v/_topk.pyx),
        with the threads split over blocks of queries and BLAS kept to one
        thread inside each."""
        n_queries = len(query_matrix)
        if isinstance(exclude, np.ndarray):
            ptr = np.arange(n_queries + 1, dtype=np.int64)
            rows = np.ascontiguousarray(exclude, dtype=np.int64)
        else:
            sizes = np.fromiter((len(r) for r in exclude), dtype=np.int64, count=n_queries)
            ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
            rows = (np.concatenate(exclude).astype(np.int64) if ptr[-1]
                    else np.zeros(0, dtype=np.int64))
        k = min(topn, len(candidates))
        values = np.empty((n_queries, k), dtype=np.float32)
        columns = np.empty((n_queries, k), dtype=np.int64)
        with threadpool_limits(limits=1, user_api="blas"):
            top_k_products(np.ascontiguousarray(query_matrix, dtype=np.float32),
                           np.ascontiguousarray(candidates), ptr, rows, values, columns)
        return columns, values

    @staticmethod
    def _top_blocks(candidates, query_matrix, exclude, topn):
        """A few queries: one (multi-threaded) BLAS product per block, then top_k."""
        n_queries, limit = len(query_matrix), len(candidates)
        block = max(1, min(n_queries, _BLOCK_ENTRIES // max(limit, 1)))
        if n_queries > 1:
            buffer = np.empty((block, limit), dtype=np.float32)
        best, best_scores = [], []
        for start in range(0, n_queries, block):
            q = query_matrix[start:start + block]
            if len(q) == 1:
                scores = (candidates @ q[0])[None, :]  # matrix-vector: same as a single call
            else:
                scores = np.matmul(q, candidates.T, out=buffer[:len(q)])
            local = np.arange(len(q))
            if isinstance(exclude, np.ndarray):
                rows = exclude[start:start + block]
                inside = rows < limit
                scores[local[inside], rows[inside]] = -np.inf
            else:
                for i, rows in enumerate(exclude[start:start + block]):
                    scores[i, rows[rows < limit]] = -np.inf
            cols, vals = top_k(scores, topn)
            best.append(cols)
            best_scores.append(vals)
        return np.concatenate(best), np.concatenate(best_scores)

    # -------------------------------------------------------------- lookups
    def get_vector(self, token, norm=False):
        """The vector of ``token`` (a copy, float32), of unit length if ``norm``;
        KeyError if unknown."""
        check_is_fitted(self)
        row = self._row(token)
        return (self._unit_vectors() if norm else self.vectors_)[row].copy()

    def similarity(self, a, b):
        """Cosine similarity of two vocabulary words."""
        check_is_fitted(self)
        rows = self._rows([a, b], "similarity")
        unit = self._unit_vectors()
        return float(np.dot(unit[rows[0]], unit[rows[1]]))

    def n_similarity(self, ws1, ws2):
        """Cosine similarity of the mean vectors of two lists of words (gensim's ``n_similarity``).

        The means are of the raw (not normalised) vectors.
        """
        check_is_fitted(self)
        means = []
        for name, words in (("ws1", ws1), ("ws2", ws2)):
            if isinstance(words, str) or not hasattr(words, "__len__"):
                raise TypeError(f"{name} must be a list of tokens, got {type(words).__name__}")
            if len(words) == 0:
                raise ValueError(f"{name} is empty; n_similarity needs at least one token in "
                                 "each list")
            means.append(self.vectors_[self._rows(words, name)].mean(axis=0))
        return float(np.dot(_unit(means[0]), _unit(means[1])))

    # ----------------------------------------------------------- neighbours
    def most_similar(self, positive=None, negative=None, topn=10, restrict_vocab=None, *,
                     queries=None):
        """The ``topn`` words closest by cosine, as gensim's ``most_similar``.

        Parameters
        ----------
        positive, negative : token, vector or list of tokens and vectors
            The query is the mean of the unit vectors of the tokens and of the
            given vectors (used as they are), positive ones added and negative
            ones subtracted, divided by their number. One token or one vector
            may be given bare, so ``most_similar("king")`` and
            ``most_similar(vector)`` work. Tokens of the query are left out of
            the answer. A string not in the vocabulary is looked up
            lowercased when the model lowercases.
        topn : int or None, default=10
            Number of words returned; None returns the cosine with every word
            (an array over the first ``restrict_vocab`` rows, nothing left out).
        restrict_vocab : int or None, default=None
            Search only the first (most frequent) ``restrict_vocab`` words.
        queries : list, keyword-only
            Many queries at once: each a token, a vector, or a dict with
            ``positive`` / ``negative`` lists (or a 2-D array of query vectors).
            Answered by one matrix product per block of queries; returns one
            result list per query. ``positive`` and ``negative`` must be None.

        Returns
        -------
        list of (str, float), or a list of such lists for ``queries``

        Raises
        ------
        KeyError naming every unknown token (with close matches when there are any).
        """
        check_is_fitted(self)
        if isinstance(negative, Integral) and not isinstance(negative, bool):
            # skw2v's earlier signature most_similar(token_or_vector, topn): an int
            # is never a negative term, so it is the topn of such a call.
            negative, topn = None, negative
        topn = _check_topn(topn, allow_none=queries is None)
        unit = self._unit_vectors()
        limit = _check_restrict_vocab(restrict_vocab, len(unit))
        if queries is not None:
            if positive is not None or negative is not None:
                raise ValueError("give either queries= or positive/negative, not both")
            parsed, rows = self._parse_queries(queries, unit)
            if rows is not None:
                return self._top(unit, unit[rows], rows, topn, limit)
            if not parsed:
                return []
            matrix = np.stack([q.vector for q in parsed])
            return self._top(unit, matrix, [q.exclude for q in parsed], topn, limit)
        query = self._combined_query(positive, negative, unit)
        if topn is None:
            return unit[:limit] @ query.vector
        return self._top(unit, query.vector[None, :], [query.exclude], topn, limit)[0]

    def similar_by_vector(self, vector, topn=10, restrict_vocab=None):
        """The words closest to ``vector`` (nothing left out)."""
        check_is_fitted(self)
        return self.most_similar(positive=[self._check_vector(vector, "vector")], topn=topn,
                                 restrict_vocab=restrict_vocab)

    def similar_by_word(self, word, topn=10, restrict_vocab=None):
        """The words closest to ``word`` (``word`` itself left out)."""
        if not isinstance(word, str):
            raise TypeError(f"word must be a string token, got {type(word).__name__}")
        return self.most_similar(positive=[word], topn=topn, restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """3CosMul neighbours (Levy & Goldberg 2014), as gensim's ``most_similar_cosmul``.

        Score of word w: ``prod_p c(w, p) / (prod_n c(w, n) + 1e-6)`` with
        ``c = (1 + cos) / 2`` in [0, 1]; token terms use unit vectors, given
        vectors are used as they are. Tokens of the query are left out.
        Unlike gensim 4.4, which accepts ``restrict_vocab`` but searches every
        word, ``restrict_vocab`` limits the search here.
        """
        check_is_fitted(self)
        topn = _check_topn(topn)
        unit = self._unit_vectors()
        limit = _check_restrict_vocab(restrict_vocab, len(unit))
        pos_terms, pos_tokens = self._terms(_as_list(positive), "positive")
        neg_terms, neg_tokens = self._terms(_as_list(negative), "negative")
        if not pos_terms:
            raise ValueError("most_similar_cosmul needs at least one token or vector in "
                             "positive, got none")
        rows = self._rows(pos_tokens + neg_tokens, "positive/negative")
        row_of = dict(zip(pos_tokens + neg_tokens, rows))

        def matrix(terms):
            return np.stack([unit[row_of[v]] if kind == "token" else v for kind, v in terms])

        shifted = (1.0 + unit[:limit] @ matrix(pos_terms).T) / 2.0
        scores = np.prod(shifted, axis=1)
        if neg_terms:
            scores = scores / (np.prod((1.0 + unit[:limit] @ matrix(neg_terms).T) / 2.0, axis=1)
                               + _COSMUL_EPS)
        if topn is None:
            return scores
        exclude = np.asarray(sorted(set(rows)), dtype=np.int64)
        scores = scores.astype(np.float32, copy=False)
        scores[exclude[exclude < limit]] = -np.inf
        k = min(topn, limit)
        best = np.argpartition(-scores, k - 1)[:k] if k < limit else np.arange(limit)
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.index_to_token_[r], float(scores[r])) for r in best.tolist()
                if scores[r] > -np.inf]

    def analogy(self, a, b, c, topn=10, restrict_vocab=None):
        """3CosAdd: the words ``d`` with ``a : b :: c : d``, closest to ``b - a + c``.

        Same answer as ``most_similar(positive=[b, c], negative=[a])`` (a, b and c
        left out). Lists of equal length for a, b and c answer many analogies
        at once (one matrix product) and return one result list per analogy.
        """
        check_is_fitted(self)
        if all(isinstance(x, str) for x in (a, b, c)):
            return self.most_similar(positive=[b, c], negative=[a], topn=topn,
                                     restrict_vocab=restrict_vocab)
        lists = []
        for name, value in (("a", a), ("b", b), ("c", c)):
            if isinstance(value, str) or not hasattr(value, "__len__"):
                raise TypeError(f"analogy takes three tokens or three lists of tokens; "
                                f"{name} is {type(value).__name__}")
            lists.append(list(value))
        if not len(lists[0]) == len(lists[1]) == len(lists[2]):
            raise ValueError(f"a, b and c must have the same length, got "
                             f"{len(lists[0])}, {len(lists[1])} and {len(lists[2])}")
        topn = _check_topn(topn, allow_none=False)
        unit = self._unit_vectors()
        limit = _check_restrict_vocab(restrict_vocab, len(unit))
        if not lists[0]:
            return []
        rows = [np.asarray(self._rows(words, name), dtype=np.int64)
                for words, name in zip(lists, ("a", "b", "c"))]
        target = (unit[rows[1]] + unit[rows[2]] - unit[rows[0]]) / 3.0
        norms = np.linalg.norm(target, axis=1, keepdims=True)
        target = np.where(norms > 0, target / np.where(norms > 0, norms, 1.0), 0.0)
        exclude = [np.unique(r) for r in np.stack(rows, axis=1)]
        return self._top(unit, target.astype(np.float32), exclude, topn, limit)

    def doesnt_match(self, words):
        """The word of ``words`` furthest from the mean of their unit vectors
        (gensim's ``doesnt_match``; here an unknown word raises KeyError)."""
        check_is_fitted(self)
        if isinstance(words, str) or not hasattr(words, "__len__"):
            raise TypeError(f"words must be a list of tokens, got {type(words).__name__}")
        if len(words) == 0:
            raise ValueError("words is empty; doesnt_match needs at least one token")
        rows = self._rows(words, "words")
        vectors = self._unit_vectors()[rows]
        cosines = vectors @ _unit(vectors.mean(axis=0))
        # Lowest cosine; ties go to the smallest word, as in gensim's sort.
        return min(zip(cosines.tolist(), list(words)))[1]
