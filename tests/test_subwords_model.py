"""Word2VecNS with subwords (min_n / max_n / bucket): unseen words get n-gram
vectors in queries and transform, persistence, export, the parameter rules
and the memory check."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import skw2v
from skw2v import Word2VecNS
from skw2v._subwords import hash_strings, subword_table, word_ngrams, word_vectors
from skw2v.word2vec_format import read_word2vec

# Stem families, each with its own context words: a family's forms share
# contexts and n-grams; "walking" is never in the corpus.
FAMILIES = {
    "walk": (["walked", "walks", "walker"], ["park", "road", "feet", "path"]),
    "cook": (["cooked", "cooks", "cooker"], ["kitchen", "food", "pan", "oven"]),
    "paint": (["painted", "paints", "painter"], ["canvas", "brush", "colour", "wall"]),
    "swim": (["swims", "swimmer", "swimming"], ["pool", "water", "lake", "wet"]),
}


def planted_docs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    stems = list(FAMILIES)
    docs = []
    for _ in range(n):
        forms, context = FAMILIES[stems[rng.integers(len(stems))]]
        words = list(rng.choice(context, 4)) + [forms[rng.integers(len(forms))]]
        rng.shuffle(words)
        docs.append(" ".join(words))
    return docs


SMALL = dict(vector_size=24, min_count=1, epochs=8, n_jobs=1, random_state=0, window=3,
             subsample=0, max_n=5, bucket=5000)


@pytest.fixture(scope="module")
def planted():
    return Word2VecNS(**SMALL).fit(planted_docs())


def test_unseen_word_is_near_its_morphological_relatives(planted):
    assert "walking" not in planted.vocabulary_
    vector = planted.get_vector("walking")
    assert vector.shape == (24,) and np.isfinite(vector).all() and np.any(vector)
    # its only evidence is its n-grams, shared with its relatives: it lands in their
    # family (forms and context words), and every relative outranks every other word
    for unseen, stem in (("walking", "walk"), ("painting", "paint"), ("cooking", "cook")):
        forms, context = FAMILIES[stem]
        ranked = [w for w, _ in planted.most_similar(unseen, topn=40)]
        family = set(forms) | set(context)
        assert set(ranked[:len(family)]) == family, (unseen, ranked[:8])
        others = [w for w in planted.index_to_token_ if w not in family]
        assert min(planted.similarity(unseen, f) for f in forms) > max(
            planted.similarity(unseen, o) for o in others)


def test_vectors_are_means_of_own_and_ngram_rows(planted):
    words = planted.index_to_token_.tolist()
    indptr, ids = subword_table(words, 3, 5, 5000)
    matrix = np.concatenate([planted.own_vectors_, planted.ngram_vectors_])
    assert_allclose(planted.vectors_, word_vectors(matrix, indptr, ids), rtol=1e-6)
    grams = word_ngrams("walking", 3, 5)
    rows = hash_strings(grams).astype(np.int64) % 5000
    assert_allclose(planted.get_vector("walking"),
                    planted.ngram_vectors_[rows].astype(np.float64).mean(0), rtol=1e-5)
    assert_allclose(np.linalg.norm(planted.get_vector("walking", norm=True)), 1.0, rtol=1e-5)


def test_transform_uses_ngram_vectors_of_unseen_words(planted, tmp_path):
    out = planted.transform(["walking", "walked walking", "zz", "ab"])
    path = tmp_path / "docs.txt"
    path.write_text("walking\nwalked walking\nzz\nab\n", encoding="utf-8")
    assert_array_equal(planted.transform(path), out)  # a file reads as the list does
    assert_allclose(out[0], planted.get_vector("walking"), rtol=1e-5)
    assert_allclose(out[1], (planted.get_vector("walked") + planted.get_vector("walking")) / 2,
                    rtol=1e-5, atol=1e-7)
    # "<zz>" has n-grams of 3 and 4 characters: a vector; so does every word here
    assert np.any(out[2])
    strict = Word2VecNS(**{**SMALL, "min_n": 5, "epochs": 1}).fit(planted_docs(40))
    row = strict.transform(["ab", "ab walked"])  # "<ab>" has no 5-gram: skipped
    assert_array_equal(row[0], 0)
    assert_allclose(row[1], strict.get_vector("walked"), rtol=1e-6)
    with pytest.raises(KeyError):
        strict.get_vector("ab")


@pytest.mark.parametrize("pooling", ["tfidf", "sif"])
def test_weighted_pooling_with_unseen_words(planted, pooling):
    model = pickle.loads(pickle.dumps(planted))
    # (sif without its common-component removal: one word's row stays along its vector)
    model.set_params(pooling=pooling, sif_components=0)
    out = model.transform(["walking", "walking walked"])
    assert np.isfinite(out).all()
    assert_allclose(out[0] / np.linalg.norm(out[0]),
                    model.get_vector("walking", norm=True), rtol=1e-5)


def test_save_load_and_pickle_keep_subwords(planted, tmp_path):
    path = tmp_path / "m.skw2v"
    planted.save(path)
    for loaded in (skw2v.load(path), pickle.loads(pickle.dumps(planted))):
        assert_array_equal(loaded.ngram_vectors_, planted.ngram_vectors_)
        assert_array_equal(loaded.own_vectors_, planted.own_vectors_)
        assert_array_equal(loaded.vectors_, planted.vectors_)
        assert_array_equal(loaded.transform(["walking park"]),
                           planted.transform(["walking park"]))


def test_partial_fit_continues_subwords(planted):
    model = pickle.loads(pickle.dumps(planted))
    before = model.ngram_vectors_.copy()
    model.partial_fit(planted_docs(30, seed=1))
    assert model.ngram_vectors_.shape == before.shape and not np.array_equal(
        model.ngram_vectors_, before)
    assert len(model.loss_history_) == len(planted.loss_history_) + SMALL["epochs"]
    model.set_params(bucket=100)
    with pytest.raises(ValueError, match="bucket=100 do not match"):
        model.partial_fit(planted_docs(5))


def test_word2vec_export_and_ngram_table(planted, tmp_path):
    from skw2v.__main__ import main

    path = tmp_path / "m.skw2v"
    planted.save(path)
    out, grams = tmp_path / "w.txt", tmp_path / "g.txt"
    assert main(["export", str(path), str(out), "--subwords", str(grams)]) == 0
    words, vectors = read_word2vec(out)
    assert words == planted.index_to_token_.tolist()
    assert_array_equal(vectors, planted.vectors_)  # whole-word vectors
    names, table = read_word2vec(grams)
    assert "<wa" in names and "ked>" in names
    k = names.index("<wa")
    assert_array_equal(table[k], planted.ngram_vectors_[int(hash_strings(["<wa"])[0]) % 5000])
    plain = Word2VecNS(vector_size=4, min_count=1, epochs=1, n_jobs=1).fit(planted_docs(10))
    plain.save(tmp_path / "p.skw2v")
    assert main(["export", str(tmp_path / "p.skw2v"), str(out), "--subwords",
                 str(grams)]) != 0


def test_fit_is_reproducible_and_off_by_default():
    docs = planted_docs(60)
    a = Word2VecNS(**SMALL, architecture="cbow", loss="nce").fit(docs)
    b = Word2VecNS(**SMALL, architecture="cbow", loss="nce").fit(docs)
    assert_array_equal(a.vectors_, b.vectors_)
    assert_array_equal(a.ngram_vectors_, b.ngram_vectors_)
    off = Word2VecNS(**{**SMALL, "max_n": 0}).fit(docs)
    assert not hasattr(off, "ngram_vectors_") and Word2VecNS().max_n == 0
    plain = {k: v for k, v in SMALL.items() if k not in ("max_n", "bucket")}
    assert_array_equal(off.vectors_, Word2VecNS(**plain).fit(docs).vectors_)
    with pytest.raises(KeyError):
        off.get_vector("walking")


@pytest.mark.parametrize(("extra", "match"), [
    ({"batch_window": True}, "batch_window=True"),
    ({"update_vocabulary": True}, "update_vocabulary=True"),
    ({"min_n": 4, "max_n": 3}, "max_n=3 must be >= min_n=4"),
])
def test_unsupported_combinations_are_refused(extra, match):
    with pytest.raises(ValueError, match=match):
        Word2VecNS(**{**SMALL, **extra}).fit(planted_docs(5))


def test_memory_check_counts_the_buckets(monkeypatch):
    import skw2v._memory as memory

    # enough for the words (2 x 30 x 24 x 4 bytes), not for 5000 buckets of 24 floats
    monkeypatch.setattr(memory, "available_memory", lambda: 100_000)
    with pytest.raises(ValueError, match=r"5,000 n-gram buckets.*lower bucket"):
        Word2VecNS(**SMALL).fit(planted_docs(20))
    Word2VecNS(**{**SMALL, "bucket": 50, "epochs": 1}).fit(planted_docs(20))


def test_init_vectors_and_frozen_rows_with_subwords():
    docs = planted_docs(40)
    rng = np.random.default_rng(1)
    init = {w: rng.standard_normal(24).astype(np.float32) for w in ("walked", "cooks", "pan")}
    featurizer = Word2VecNS(**{**SMALL, "epochs": 0, "init_vectors": init}).fit(docs)
    known = [w for w in init if w in featurizer.vocabulary_]
    assert len(known) >= 2
    for w in known:  # the whole-word vector is the init vector
        assert_allclose(featurizer.get_vector(w), init[w], rtol=1e-4, atol=1e-5)
    frozen = Word2VecNS(**{**SMALL, "epochs": 2, "init_vectors": init,
                           "freeze_init_vectors": True}).fit(docs)
    # (same vocabulary and starting rows, one epoch fewer)
    start = Word2VecNS(**{**SMALL, "epochs": 1, "init_vectors": init,
                          "freeze_init_vectors": True}).fit(docs)
    rows = [frozen.vocabulary_[w] for w in init if w in frozen.vocabulary_]
    assert_array_equal(frozen.own_vectors_[rows], start.own_vectors_[rows])  # own rows locked
    other = [r for r in range(len(frozen.own_vectors_)) if r not in rows]
    assert not np.allclose(frozen.own_vectors_[other], start.own_vectors_[other])


def test_cli_trains_subwords(tmp_path):
    from skw2v.__main__ import main

    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(planted_docs(60)) + "\n", encoding="utf-8")
    model_path = tmp_path / "m.skw2v"
    assert main(["train", str(corpus), "-o", str(model_path), "--vector-size", "8",
                 "--min-count", "1", "--epochs", "1", "--n-jobs", "1", "--max-n", "4",
                 "--bucket", "300", "--quiet"]) == 0
    model = skw2v.load(model_path)
    assert (model.min_n, model.max_n, model.bucket) == (3, 4, 300)
    assert model.ngram_vectors_.shape == (300, 8)
    assert main(["train", str(corpus), "-o", str(model_path), "--max-n", "2",
                 "--quiet"]) != 0  # 2 < --min-n 3
