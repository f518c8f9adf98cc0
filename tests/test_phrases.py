"""Phrases: same phrases and scores as gensim's Phrases, bounded counting, pipelines, bad input."""

import pickle
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skw2v import LineCorpus, Phrases, Word2VecNS
from skw2v.phrases import count_words_and_pairs

from _corpora import labelled_topic_docs

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def collocation_corpus(n_docs=600, seed=0):
    """Zipf-ish random words with planted collocations ("new york", "san francisco",
    and "new york city" for trigrams)."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(300)]
    p = 1.0 / np.arange(1, len(vocab) + 1)
    p /= p.sum()
    planted = [["new", "york"], ["san", "francisco"], ["new", "york", "city"], ["ice", "cream"]]
    docs = []
    for _ in range(n_docs):
        doc = [vocab[i] for i in rng.choice(len(vocab), size=rng.integers(5, 25), p=p)]
        for _ in range(rng.integers(0, 3)):
            at = rng.integers(0, len(doc) + 1)
            doc[at:at] = planted[rng.integers(len(planted))]
        docs.append(doc)
    return docs


def gensim_phrases(docs, **params):
    models = pytest.importorskip("gensim.models")
    return models.Phrases(docs, **params)


def assert_same_as_gensim(ours, theirs, docs):
    expected = theirs.export_phrases()
    found = ours.export_phrases()
    assert set(found) == set(expected)
    for phrase, score in expected.items():
        assert found[phrase] == pytest.approx(score, rel=1e-12)
    assert ours.transform(docs) == [theirs[doc] for doc in docs]


@pytest.mark.parametrize("scoring, threshold", [("default", 1.0), ("default", 10.0),
                                                ("npmi", 0.3), ("npmi", -0.5)])
@pytest.mark.parametrize("min_count", [1, 5])
def test_same_phrases_and_scores_as_gensim(scoring, threshold, min_count):
    docs = collocation_corpus()
    ours = Phrases(min_count=min_count, threshold=threshold, scoring=scoring).fit(docs)
    theirs = gensim_phrases(docs, min_count=min_count, threshold=threshold, scoring=scoring)
    assert ours.phrases_, "the corpus should have phrases at these settings"
    assert_same_as_gensim(ours, theirs, docs)
    assert ours.n_words_ == theirs.corpus_word_count
    assert ours.n_entries_ == len(theirs.vocab)


def test_planted_phrases_found_and_joined():
    docs = collocation_corpus()
    phrases = Phrases(min_count=5, threshold=10.0).fit(docs)
    assert {("new", "york"), ("san", "francisco"), ("ice", "cream")} <= set(phrases.phrases_)
    assert phrases.transform([["i", "ate", "ice", "cream", "in", "new", "york"]]) == [
        ["i", "ate", "ice_cream", "in", "new_york"]]
    # strings go through the same tokenization as Word2VecNS (lowercased)
    assert phrases.transform(["Ice Cream in NEW YORK!"]) == [["ice_cream", "in", "new_york"]]
    assert Phrases(min_count=5, delimiter=" ").fit(docs).transform([["new", "york"]]) == [
        ["new york"]]


def test_two_layers_find_trigrams():
    docs = collocation_corpus()
    pipe = Pipeline([("bigrams", Phrases(min_count=5, threshold=5.0)),
                     ("trigrams", Phrases(min_count=5, threshold=5.0))])
    out = pipe.fit_transform(docs)
    assert ("new_york", "city") in pipe["trigrams"].phrases_
    assert any("new_york_city" in doc for doc in out)
    assert pipe.transform([["new", "york", "city", "w1"]]) == [["new_york_city", "w1"]]


def test_fit_transform_reads_a_generator_once():
    docs = collocation_corpus(200)
    expected = Phrases(min_count=3, threshold=2.0).fit(docs).transform(docs)
    assert Phrases(min_count=3, threshold=2.0).fit_transform(iter(docs)) == expected
    assert Phrases(min_count=3, threshold=2.0).fit(iter(docs)).transform(docs) == expected


def test_files_read_as_word2vecns_reads_them(tmp_path):
    docs = collocation_corpus(200)
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(" ".join(d) for d in docs) + "\n", encoding="utf-8")
    expected = Phrases(min_count=3, threshold=2.0).fit(docs)
    for source in (path, LineCorpus(path)):
        got = Phrases(min_count=3, threshold=2.0).fit(source)
        assert got.phrases_ == expected.phrases_
        assert got.transform(source) == expected.transform(docs)


def _write_lines(path, docs, newline="\n"):
    path.write_bytes(newline.join(" ".join(d) for d in docs).encode("utf-8") + b"\n")
    return path


@pytest.mark.parametrize("scoring, threshold", [("default", 2.0), ("npmi", 0.2)])
def test_files_use_the_compiled_reader_and_find_the_list_phrases(tmp_path, monkeypatch,
                                                                   scoring, threshold):
    import gzip

    import skw2v._file_passes as fp
    from skw2v import phrases as ph

    docs = collocation_corpus(400)
    docs[5] = []  # an empty line: a document without tokens
    docs[6] = ["new", "york"] * 3
    expected = Phrases(min_count=3, threshold=threshold, scoring=scoring).fit(docs)
    plain = _write_lines(tmp_path / "c.txt", docs)
    crlf = _write_lines(tmp_path / "crlf.txt", docs, newline="\r\n")
    packed = tmp_path / "c.txt.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    calls = []
    real = fp.read_partition
    monkeypatch.setattr(fp, "read_partition", lambda spec: calls.append(spec) or real(spec))
    for source in (plain, LineCorpus(crlf), LineCorpus(packed), LineCorpus([plain, plain])):
        got = Phrases(min_count=3, threshold=threshold, scoring=scoring).fit(source)
        if isinstance(source, LineCorpus) and len(source.paths) == 2:
            twice = Phrases(min_count=3, threshold=threshold, scoring=scoring).fit(docs + docs)
            assert got.phrases_ == twice.phrases_ and got.n_words_ == twice.n_words_
            continue
        assert got.phrases_ == expected.phrases_
        assert (got.n_words_, got.n_entries_, got.min_reduce_) == (
            expected.n_words_, expected.n_entries_, expected.min_reduce_)
    assert len(calls) >= 4  # the compiled reader read them
    # many small byte ranges: pairs are counted within lines, across range cuts too
    words, pairs, n_words, _ = ph.count_file_words_and_pairs(LineCorpus(plain), 10**9,
                                                             range_bytes=300)
    ref_words, ref_pairs, ref_n, _ = ph.count_words_and_pairs(docs, 10**9)
    assert (words, pairs, n_words) == (ref_words, ref_pairs, ref_n)
    assert len(calls) > 20
    # fit_transform on a file: the joined documents
    got = Phrases(min_count=3, threshold=threshold, scoring=scoring).fit_transform(plain)
    assert got == expected.transform(docs)


def test_files_counted_within_the_cap(tmp_path):
    from skw2v import phrases as ph

    rng = np.random.default_rng(0)
    docs = [[f"r{i}" for i in rng.integers(0, 50_000, size=20)] + ["new", "york"]
            for _ in range(3000)]
    path = _write_lines(tmp_path / "rare.txt", docs)
    cap = 2000
    words, pairs, n_words, min_reduce = ph.count_file_words_and_pairs(
        LineCorpus(path), cap, range_bytes=20_000)
    assert len(words) + len(pairs) <= cap and min_reduce > 1
    assert words["new"] == 3000 and pairs[("new", "york")] == 3000
    assert n_words == 3000 * 22
    phrases = Phrases(min_count=5, threshold=0.1, max_vocab_size=cap).fit(path)
    assert phrases.n_entries_ <= cap and ("new", "york") in phrases.phrases_


def test_pickle_and_clone():
    docs = collocation_corpus(200)
    phrases = Phrases(min_count=3, threshold=2.0).fit(docs)
    again = pickle.loads(pickle.dumps(phrases))
    assert again.transform(docs) == phrases.transform(docs)
    assert again.get_params() == phrases.get_params()
    assert not hasattr(clone(phrases), "phrases_")


# -------------------------------------------------------------- bounded counter
def test_counter_stays_within_its_cap():
    rng = np.random.default_rng(0)
    # many distinct rare pairs plus one frequent pair that must survive pruning
    docs = [[f"r{i}" for i in rng.integers(0, 50_000, size=20)] + ["new", "york"]
            for _ in range(3000)]
    cap = 2000
    words, pairs, n_words, min_reduce = count_words_and_pairs(iter(docs), cap)
    assert len(words) + len(pairs) <= cap
    assert min_reduce > 1
    assert words["new"] == 3000 and pairs[("new", "york")] == 3000  # frequent: exact
    assert n_words == 3000 * 22
    phrases = Phrases(min_count=5, threshold=0.1, max_vocab_size=cap).fit(docs)
    assert phrases.min_reduce_ == min_reduce and phrases.n_entries_ <= cap
    assert ("new", "york") in phrases.phrases_
    # one long document is checked slice by slice, not only at its end
    long_doc = [f"long{i % 7000}" for i in range(40_000)]
    words, pairs, n_words, min_reduce = count_words_and_pairs([long_doc], cap)
    assert len(words) + len(pairs) <= cap and n_words == 40_000 and min_reduce > 1


def test_capped_counting_uses_bounded_memory():
    rng = np.random.default_rng(1)
    docs = [[f"r{i}" for i in rng.integers(0, 100_000, size=30)] for _ in range(4000)]

    def peak(cap):
        tracemalloc.start()
        count_words_and_pairs(iter(docs), cap)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    unbounded, bounded = peak(10**9), peak(5000)
    assert bounded < unbounded / 5, (bounded, unbounded)


# ------------------------------------------------------------------ pipelines
def test_pipeline_with_word2vec_and_classifier_under_grid_search():
    docs, labels = labelled_topic_docs(150, 0, topic_words=6, topic_picks=8,
                                       filler=[f"f{i}" for i in range(6)], filler_picks=4)
    pipe = Pipeline([
        ("phrases", Phrases(min_count=3)),
        ("w2v", Word2VecNS(vector_size=8, min_count=1, epochs=3, n_jobs=1, random_state=0)),
        ("clf", LogisticRegression(max_iter=500)),
    ])
    search = GridSearchCV(pipe, {"phrases__threshold": [5.0, 1e6]}, cv=2)
    search.fit(docs, labels)
    assert search.best_score_ > 0.8
    assert search.best_estimator_.predict(docs[:6]).shape == (6,)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("params, error, match", [
    ({"min_count": 0}, ValueError, "min_count"),
    ({"min_count": True}, ValueError, "min_count"),
    ({"min_count": 2.5}, ValueError, "min_count"),
    ({"threshold": 0.0}, ValueError, "threshold must be positive"),
    ({"threshold": float("nan")}, ValueError, "threshold"),
    ({"threshold": "10"}, ValueError, "threshold"),
    ({"scoring": "npmi", "threshold": 2.0}, ValueError, r"threshold must be in \[-1, 1\]"),
    ({"scoring": "pmi"}, ValueError, "scoring"),
    ({"delimiter": ""}, ValueError, "delimiter"),
    ({"delimiter": 1}, ValueError, "delimiter"),
    ({"max_vocab_size": 0}, ValueError, "max_vocab_size"),
    ({"max_vocab_size": None}, ValueError, "max_vocab_size"),
    ({"token_pattern": "("}, ValueError, "token_pattern"),
    ({"tokenizer": "split"}, ValueError, "tokenizer"),
    ({"lowercase": "yes"}, ValueError, "lowercase"),
])
def test_bad_parameters(params, error, match):
    with pytest.raises(error, match=match):
        Phrases(**params).fit([["a", "b"]])


@pytest.mark.parametrize("X, error, match", [
    ("new york", ValueError, "single str"),
    (None, ValueError, "got None"),
    ([["a", 1]], TypeError, "non-string token"),
    ([None], ValueError, "None"),
    ([[]], ValueError, "no tokens"),
    (np.zeros((2, 2)), ValueError, "1-D"),
])
def test_bad_documents(X, error, match):
    with pytest.raises(error, match=match):
        Phrases().fit(X)


def test_transform_needs_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Phrases().transform([["a"]])


# -------------------------------------------------------------- PTB + Brown
@pytest.mark.data
def test_same_phrases_as_gensim_on_ptb_and_brown():
    models = pytest.importorskip("gensim.models")
    files = [DATA / "ptb.train.txt", DATA / "brown.txt"]
    if not all(f.is_file() for f in files):
        pytest.skip("../shared/data with ptb.train.txt and brown.txt is absent")
    docs = [line.split() for f in files for line in open(f, encoding="utf-8") if line.split()]
    theirs = models.Phrases(docs, min_count=5, threshold=10.0)
    sample = docs[::20]
    for scoring, threshold in (("default", 10.0), ("npmi", 0.5)):
        ours = Phrases(min_count=5, threshold=threshold, scoring=scoring).fit(docs)
        theirs.scoring = {"default": models.phrases.original_scorer,
                          "npmi": models.phrases.npmi_scorer}[scoring]
        theirs.threshold = threshold
        assert len(ours.phrases_) > 1000
        assert_same_as_gensim(ours, theirs, sample)


# ------------------------------------------------------------ sklearn checks
@pytest.mark.parametrize("check", [
    "check_estimator_cloneable", "check_estimator_repr", "check_no_attributes_set_in_init",
    "check_parameters_default_constructible", "check_get_params_invariance",
    "check_set_params", "check_do_not_raise_errors_in_init_or_set_params",
    "check_valid_tag_types", "check_mixin_order", "check_param_validation",
    "check_transformers_unfitted",
])
def test_sklearn_data_free_checks(check):
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, check)("Phrases", Phrases(scoring="npmi", threshold=0.5))


@pytest.mark.data
def test_files_give_the_list_phrases_on_ptb_and_brown():
    files = [DATA / "ptb.train.txt", DATA / "brown.txt"]
    if not all(f.is_file() for f in files):
        pytest.skip("../shared/data with ptb.train.txt and brown.txt is absent")
    docs = [line.split() for f in files for line in open(f, encoding="utf-8")]
    for scoring, threshold in (("default", 10.0), ("npmi", 0.5)):
        from_list = Phrases(min_count=5, threshold=threshold, scoring=scoring).fit(docs)
        from_files = Phrases(min_count=5, threshold=threshold, scoring=scoring).fit(
            LineCorpus(files))
        assert len(from_files.phrases_) > 1000
        assert from_files.phrases_ == from_list.phrases_
        assert from_files.n_entries_ == from_list.n_entries_
