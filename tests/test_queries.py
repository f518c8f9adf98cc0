"""Word-vector queries: same answers as gensim 4.4's KeyedVectors on the same vectors,
batched queries, the unit-vector cache, lookups normalised like training text, bad input."""

import pickle

import numpy as np
import pytest

from skw2v import Word2VecNS
from skw2v._queries import _UNIT_CACHE
from skw2v.word2vec_format import model_from_vectors

N_WORDS, DIM = 400, 16
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")


def _words(n):
    return [f"w{i}" for i in range(n)]


@pytest.fixture(scope="module")
def vectors():
    rs = np.random.default_rng(0)
    v = rs.standard_normal((N_WORDS, DIM)).astype(np.float32)
    v[7] *= 5.0  # unequal norms, so normalising matters
    v[9] *= 0.01
    return v


@pytest.fixture(scope="module")
def model(vectors):
    return model_from_vectors(_words(N_WORDS), vectors)


@pytest.fixture(scope="module")
def kv(vectors):
    models = pytest.importorskip("gensim.models")
    kv = models.KeyedVectors(DIM)
    kv.add_vectors(_words(N_WORDS), vectors)
    return kv


def assert_same(ours, theirs, tol=1e-5):
    assert [t for t, _ in ours] == [t for t, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=tol)


# ------------------------------------------------------------ gensim parity
QUERIES = [
    dict(positive="w3"),
    dict(positive=["w3"], negative=["w7"]),
    dict(positive=["w1", "w2"], negative=["w9"]),
    dict(positive=["w5", "w6", "w7"]),
    dict(negative=["w11"]),
    dict(positive=["w1", "w2"], negative=["w3", "w4"], restrict_vocab=50),
    dict(positive=["w100"], restrict_vocab=60),  # the query word lies outside the range
    dict(positive=["w3", "w3"], topn=5),  # a repeated word
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("topn", [1, 10, 399, 1000])
def test_most_similar_matches_gensim(model, kv, query, topn):
    query = {"topn": topn, **query}
    assert_same(model.most_similar(**query), kv.most_similar(**query))


def test_most_similar_with_vectors_matches_gensim(model, kv, vectors):
    rs = np.random.default_rng(1)
    v, u = rs.standard_normal((2, DIM)).astype(np.float32) * 3.0
    for query in (dict(positive=v), dict(positive=[v, "w2"], negative=["w4"]),
                  dict(positive=["w1"], negative=[u, "w5"], restrict_vocab=100),
                  dict(positive=np.stack([v, u]))):
        assert_same(model.most_similar(**query), kv.most_similar(**query))
    assert_same(model.similar_by_vector(v, topn=7), kv.similar_by_vector(v, topn=7))
    assert_same(model.similar_by_vector(v, topn=7, restrict_vocab=30),
                kv.similar_by_vector(v, topn=7, restrict_vocab=30))
    assert_same(model.similar_by_word("w8", topn=4), kv.similar_by_word("w8", topn=4))
    # the old one-argument calls keep working
    assert_same(model.most_similar("w8", 4), kv.most_similar("w8", topn=4))
    assert_same(model.most_similar(vectors[8], 4), kv.most_similar(vectors[8], topn=4))


def test_all_scores_with_topn_none(model, kv):
    np.testing.assert_allclose(model.most_similar(["w1"], ["w2"], topn=None),
                               kv.most_similar(["w1"], ["w2"], topn=None), atol=1e-5)
    np.testing.assert_allclose(
        model.most_similar_cosmul(["w1", "w5"], ["w2"], topn=None),
        kv.most_similar_cosmul(["w1", "w5"], ["w2"], topn=None), rtol=1e-5)


@pytest.mark.parametrize("query", [
    dict(positive=["w1", "w2"], negative=["w3"]),
    dict(positive="w5"),
    dict(positive=["w5", "w9"], negative=["w7", "w8"], topn=20),
])
def test_most_similar_cosmul_matches_gensim(model, kv, query):
    assert_same(model.most_similar_cosmul(**query), kv.most_similar_cosmul(**query))


def test_most_similar_cosmul_restrict_vocab(model, kv):
    # gensim 4.4 takes restrict_vocab here but searches every word; the
    # expected answer is its full ranking cut to the first 80 words.
    full = kv.most_similar_cosmul(["w1", "w2"], ["w3"], topn=N_WORDS)
    expected = [(t, s) for t, s in full if int(t[1:]) < 80][:6]
    assert_same(model.most_similar_cosmul(["w1", "w2"], ["w3"], topn=6, restrict_vocab=80),
                expected)


def test_cosmul_with_a_vector_matches_gensim(model, kv):
    v = np.random.default_rng(2).standard_normal(DIM).astype(np.float32)
    assert_same(model.most_similar_cosmul([v, "w2"], ["w3"], topn=5),
                kv.most_similar_cosmul([v, "w2"], ["w3"], topn=5))


def test_doesnt_match_and_n_similarity_match_gensim(model, kv):
    rs = np.random.default_rng(3)
    for _ in range(20):
        words = [f"w{i}" for i in rs.choice(N_WORDS, size=rs.integers(2, 7), replace=False)]
        assert model.doesnt_match(words) == kv.doesnt_match(words)
        half = len(words) // 2
        assert model.n_similarity(words[:half], words[half:]) == pytest.approx(
            float(kv.n_similarity(words[:half], words[half:])), abs=1e-5)
    assert model.similarity("w1", "w7") == pytest.approx(float(kv.similarity("w1", "w7")),
                                                         abs=1e-6)
    np.testing.assert_allclose(model.get_vector("w7", norm=True),
                               kv.get_vector("w7", norm=True), atol=1e-6)


def test_analogy_is_3cosadd_as_gensim(model, kv):
    assert_same(model.analogy("w1", "w2", "w3", topn=5),
                kv.most_similar(positive=["w2", "w3"], negative=["w1"], topn=5))
    batch = model.analogy(["w1", "w4"], ["w2", "w5"], ["w3", "w6"], topn=5,
                          restrict_vocab=90)
    for (a, b, c), got in zip([("w1", "w2", "w3"), ("w4", "w5", "w6")], batch):
        assert_same(got, kv.most_similar(positive=[b, c], negative=[a], topn=5,
                                          restrict_vocab=90))


def test_a_fitted_model_exported_to_gensim_answers_alike(tmp_path):
    """A trained model written in the word2vec binary format and loaded by
    gensim: single and batched (fused path) queries, analogies, restrict_vocab."""
    models = pytest.importorskip("gensim.models")
    from skw2v.word2vec_format import export_word2vec

    rs = np.random.default_rng(4)
    docs = [[f"t{i}" for i in rs.integers(0, 120, size=12)] for _ in range(400)]
    est = Word2VecNS(vector_size=12, min_count=1, epochs=2, n_jobs=1, random_state=0).fit(docs)
    path = tmp_path / "v.bin"
    export_word2vec(est, path, binary=True)
    kv = models.KeyedVectors.load_word2vec_format(str(path), binary=True)
    words = list(est.index_to_token_[:60])
    for restrict in (None, 70):
        batched = est.most_similar(queries=words, topn=8, restrict_vocab=restrict)
        for word, got in zip(words, batched):
            assert_same(got, kv.most_similar(word, topn=8, restrict_vocab=restrict))
    a, b, c = words[:40], words[10:50], words[20:60]
    for got, x, y, z in zip(est.analogy(a, b, c, topn=5), a, b, c):
        assert_same(got, kv.most_similar(positive=[y, z], negative=[x], topn=5))
    assert_same(est.most_similar(positive=[words[1], words[2]], negative=[words[3]], topn=6,
                                 restrict_vocab=50),
                kv.most_similar(positive=[words[1], words[2]], negative=[words[3]], topn=6,
                                restrict_vocab=50))


# ---------------------------------------------------------------- batching
def test_batched_queries_equal_single_calls(model, monkeypatch):
    import skw2v._queries as q

    words = [f"w{i}" for i in range(0, 300, 7)]
    single = [model.most_similar(w, topn=6, restrict_vocab=200) for w in words]
    monkeypatch.setattr(q, "_BLOCK_ENTRIES", 1000)  # several blocks of a few queries
    batched = model.most_similar(queries=words, topn=6, restrict_vocab=200)
    assert len(batched) == len(words)
    for got, expected in zip(batched, single):
        assert_same(got, expected, tol=1e-6)
    v = model.vectors_[5] + 0.3
    mixed = model.most_similar(queries=["w3", v, {"positive": ["w1", "w2"], "negative": "w3"}],
                               topn=4)
    assert_same(mixed[0], model.most_similar("w3", topn=4), tol=1e-6)
    assert_same(mixed[1], model.most_similar(v, topn=4), tol=1e-6)
    assert_same(mixed[2], model.most_similar(["w1", "w2"], ["w3"], topn=4), tol=1e-6)
    as_matrix = model.most_similar(queries=np.stack([v, v]), topn=4)
    assert_same(as_matrix[1], mixed[1], tol=1e-6)
    assert model.most_similar(queries=[]) == []


def _reference_top(scores, k):
    """Best k per row by score, ties by column, -inf slots dropped: the rule of both kernels."""
    order = np.lexsort((np.broadcast_to(np.arange(scores.shape[1]), scores.shape), -scores),
                       axis=1)[:, :k]
    return order, np.take_along_axis(scores, order, axis=1)


def _assert_same_top(columns, values, expected_columns, expected_values):
    finite = expected_values > -np.inf
    np.testing.assert_array_equal(values > -np.inf, finite)
    np.testing.assert_array_equal(columns[finite], expected_columns[finite])
    np.testing.assert_array_equal(values[finite], expected_values[finite])


@pytest.mark.parametrize("k", [1, 3, 40, 97])
def test_top_k_rows_orders_ties_by_column(k):
    from skw2v._topk import top_k_rows

    rs = np.random.default_rng(k)
    scores = rs.integers(0, 4, size=(9, 97)).astype(np.float32)  # many ties
    scores[rs.random(scores.shape) < 0.3] = -np.inf  # left-out rows
    scores[2] = -np.inf  # a row with nothing to return
    values = np.empty((9, k), dtype=np.float32)
    columns = np.empty((9, k), dtype=np.int64)
    top_k_rows(scores, values, columns)
    _assert_same_top(columns, values, *_reference_top(scores, k))


@pytest.mark.parametrize("k", [1, 5, 1300])
def test_top_k_products_tiles_match_full_product(k):
    from skw2v._topk import top_k_products

    # Small integers: exact products with many ties, over several tiles of
    # queries (256) and of candidates (1024).
    rs = np.random.default_rng(k)
    candidates = rs.integers(-2, 3, size=(2500, 3)).astype(np.float32)
    queries = rs.integers(-2, 3, size=(300, 3)).astype(np.float32)
    sizes = rs.integers(0, 4, size=300)
    ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    rows = rs.integers(0, 2600, size=ptr[-1]).astype(np.int64)  # some beyond the candidates
    scores = queries @ candidates.T
    for i in range(300):
        excluded = rows[ptr[i]:ptr[i + 1]]
        scores[i, excluded[excluded < 2500]] = -np.inf
    values = np.empty((300, k), dtype=np.float32)
    columns = np.empty((300, k), dtype=np.int64)
    top_k_products(queries, candidates, ptr, rows, values, columns)
    _assert_same_top(columns, values, *_reference_top(scores, k))


def test_top_k_kernels_reject_bad_shapes():
    from skw2v._topk import top_k_products, top_k_rows

    scores = np.zeros((2, 5), dtype=np.float32)
    with pytest.raises(ValueError, match="k must be"):
        top_k_rows(scores, np.empty((2, 6), np.float32), np.empty((2, 6), np.int64))
    with pytest.raises(ValueError, match="values and columns"):
        top_k_rows(scores, np.empty((3, 2), np.float32), np.empty((2, 2), np.int64))
    q, c = np.zeros((2, 3), np.float32), np.zeros((5, 3), np.float32)
    out = np.empty((2, 2), np.float32), np.empty((2, 2), np.int64)
    with pytest.raises(ValueError, match="exclude_ptr"):
        top_k_products(q, c, np.zeros(2, np.int64), np.zeros(0, np.int64), *out)
    with pytest.raises(ValueError, match="exclude_ptr"):
        top_k_products(q, c, np.array([0, 2, 1], np.int64), np.zeros(2, np.int64), *out)
    with pytest.raises(ValueError, match="same number of columns"):
        top_k_products(q, np.zeros((5, 4), np.float32), np.zeros(3, np.int64),
                       np.zeros(0, np.int64), *out)


def test_fused_and_blocked_paths_agree(model, monkeypatch):
    import skw2v._queries as q

    v = model.vectors_[11] - 0.2
    queries = ([f"w{i}" for i in range(0, 400, 9)] + [v, {"positive": ["w1", "w2"],
                                                          "negative": ["w3"]}]) * 2
    for kwargs in [dict(topn=7), dict(topn=5, restrict_vocab=120), dict(topn=N_WORDS + 5)]:
        monkeypatch.setattr(q, "_FUSED_MIN_QUERIES", 1)
        fused = model.most_similar(queries=queries, **kwargs)
        monkeypatch.setattr(q, "_FUSED_MIN_QUERIES", 10 ** 9)
        blocked = model.most_similar(queries=queries, **kwargs)
        assert len(fused) == len(blocked) == len(queries)
        for a, b in zip(fused, blocked):
            assert_same(a, b, tol=1e-6)
    assert len(fused[0]) == N_WORDS - 1  # every word but the query's own


# ------------------------------------------------------------------- cache
def test_unit_vectors_cached_and_invalidated_by_fit_and_partial_fit():
    docs = [f"a b c d e f g {'h' if i % 2 else 'i'}" for i in range(60)]
    est = Word2VecNS(vector_size=8, min_count=1, epochs=1, n_jobs=1, random_state=0).fit(docs)
    first = est._unit_vectors()
    assert est._unit_vectors() is first  # computed once
    est.partial_fit(docs)
    second = est._unit_vectors()
    assert second is not first
    np.testing.assert_allclose(second, est.vectors_ / np.linalg.norm(est.vectors_, axis=1,
                                                                     keepdims=True), rtol=1e-6)
    before = est.most_similar("a", topn=3)
    est.set_params(random_state=1).fit(docs)
    assert est._unit_vectors() is not second
    assert est.most_similar("a", topn=3) != before
    # never pickled, saved or part of the estimator's state
    assert not any(isinstance(v, np.ndarray) and v is second for v in vars(est).values())
    clone = pickle.loads(pickle.dumps(est))
    assert clone not in _UNIT_CACHE
    assert clone.most_similar("a", topn=3) == est.most_similar("a", topn=3)


def test_callbacks_see_fresh_neighbours_each_epoch():
    docs = [f"a b c d e f g {'h' if i % 2 else 'i'}" for i in range(60)]
    seen = []

    def callback(est, info):
        seen.append((est._unit_vectors().copy(), est.vectors_.copy()))

    Word2VecNS(vector_size=8, min_count=1, epochs=3, n_jobs=1, random_state=0,
               callbacks=[callback]).fit(docs)
    for unit, vectors in seen:
        np.testing.assert_allclose(unit * np.linalg.norm(vectors, axis=1, keepdims=True),
                                   vectors, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------- normalised lookups
def test_string_queries_normalised_like_training_text():
    docs = ["The Film was a good film", "a film about the sea"] * 30
    est = Word2VecNS(vector_size=8, min_count=1, epochs=1, n_jobs=1, random_state=0).fit(docs)
    assert "Film" not in est.vocabulary_
    assert est.most_similar("Film", topn=3) == est.most_similar("film", topn=3)
    assert est.similarity("FILM", "Sea") == est.similarity("film", "sea")
    np.testing.assert_array_equal(est.get_vector("Film"), est.get_vector("film"))
    # Token lists are trained as given: an exact match wins, and no lowercasing
    # happens without lowercase=True.
    cased = Word2VecNS(vector_size=8, min_count=1, epochs=1, n_jobs=1, lowercase=False,
                       random_state=0).fit([["Film", "film", "sea"]] * 30)
    assert cased.most_similar("Film", topn=1)[0][0] == "film"
    with pytest.raises(KeyError, match="'FILM'"):
        cased.most_similar("FILM")


# --------------------------------------------------------------- bad input
def test_unknown_tokens_named_with_close_matches(model):
    with pytest.raises(KeyError) as info:
        model.most_similar(["w1", "w1x", "zzz"], negative=["qq"])
    message = str(info.value)
    assert "'w1x' (did you mean 'w1'" in message
    assert "'zzz'" in message and "'qq'" in message and "are not in the vocabulary" in message
    for call in (lambda: model.doesnt_match(["w1", "nope"]),
                 lambda: model.n_similarity(["w1"], ["nope"]),
                 lambda: model.analogy("w1", "w2", "nope"),
                 lambda: model.most_similar_cosmul(["nope"]),
                 lambda: model.most_similar(queries=["w1", "nope"]),
                 lambda: model.similarity("w1", "nope")):
        with pytest.raises(KeyError, match="'nope'"):
            call()


@pytest.mark.parametrize("call, error, match", [
    (lambda m: m.most_similar("w1", topn=0), ValueError, "topn must be a positive integer"),
    (lambda m: m.most_similar("w1", topn=2.5), ValueError, "topn"),
    (lambda m: m.most_similar(queries=["w1"], topn=None), ValueError, "topn"),
    (lambda m: m.most_similar("w1", restrict_vocab=0), ValueError, "restrict_vocab"),
    (lambda m: m.most_similar("w1", restrict_vocab="10"), ValueError, "restrict_vocab"),
    (lambda m: m.most_similar(), ValueError, "positive or negative"),
    (lambda m: m.most_similar([], []), ValueError, "positive or negative"),
    (lambda m: m.most_similar([3]), TypeError, "positive"),
    (lambda m: m.most_similar([("w1", 2.0)]), TypeError, "weight"),
    (lambda m: m.most_similar(np.zeros(3)), ValueError, r"shape \(16,\), got \(3,\)"),
    (lambda m: m.most_similar(np.full(16, np.nan)), ValueError, "non-finite"),
    (lambda m: m.most_similar("w1", queries=["w2"]), ValueError, "queries"),
    (lambda m: m.most_similar(queries="w1"), TypeError, "queries"),
    (lambda m: m.most_similar(queries=[{"pos": ["w1"]}]), ValueError, "'positive'"),
    (lambda m: m.most_similar(queries=np.zeros((2, 3))), ValueError, "columns"),
    (lambda m: m.most_similar_cosmul(negative=["w1"]), ValueError, "positive"),
    (lambda m: m.doesnt_match([]), ValueError, "words is empty"),
    (lambda m: m.doesnt_match("w1 w2"), TypeError, "words"),
    (lambda m: m.n_similarity([], ["w1"]), ValueError, "ws1 is empty"),
    (lambda m: m.n_similarity(["w1"], "w2"), TypeError, "ws2"),
    (lambda m: m.analogy(["w1"], ["w2", "w3"], ["w4"]), ValueError, "same length"),
    (lambda m: m.analogy(["w1"], "w2", ["w4"]), TypeError, "b"),
    (lambda m: m.similar_by_word(3), TypeError, "word"),
    (lambda m: m.similar_by_vector("w1"), TypeError, "vector"),
])
def test_bad_input(model, call, error, match):
    with pytest.raises(error, match=match):
        call(model)


def test_unfitted_raises():
    from sklearn.exceptions import NotFittedError

    for name, args in [("most_similar_cosmul", ("a",)), ("doesnt_match", (["a", "b"],)),
                       ("n_similarity", (["a"], ["b"])), ("analogy", ("a", "b", "c")),
                       ("similar_by_vector", (np.zeros(3),)), ("similar_by_word", ("a",))]:
        with pytest.raises(NotFittedError):
            getattr(Word2VecNS(), name)(*args)


def test_zero_vector_rows_and_queries():
    words = ["a", "b", "c", "d"]
    v = np.array([[1, 0], [0, 0], [0, 1], [1, 1]], dtype=np.float32)
    est = model_from_vectors(words, v)
    assert est.most_similar("a", topn=3)[0] == ("d", pytest.approx(np.sqrt(0.5)))
    assert [s for _, s in est.most_similar("b", topn=3)] == [0.0, 0.0, 0.0]
    assert est.most_similar("a", topn=10, restrict_vocab=2) == [("b", 0.0)]
