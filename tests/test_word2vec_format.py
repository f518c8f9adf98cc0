"""word2vec C text/binary formats: export, import, gensim interop (warm starts from
these files: test_warm_start.py)."""

import gzip
import struct

import numpy as np
import pytest
from _corpora import tiny_docs

import skw2v
from skw2v import Word2VecNS
from skw2v.word2vec_format import (
    export_word2vec,
    import_word2vec,
    model_from_vectors,
    read_word2vec,
)


@pytest.fixture(scope="module")
def docs():
    return tiny_docs()


@pytest.fixture(scope="module")
def model(docs):
    return Word2VecNS(vector_size=10, epochs=2, min_count=1, n_jobs=1, random_state=0).fit(docs)


def write_text(path, header, rows):
    path.write_text(header + "".join(rows), encoding="utf-8")


# --------------------------------------------------------------- export
@pytest.mark.parametrize("binary", [False, True])
def test_export_loads_in_gensim_with_same_vectors(model, tmp_path, binary):
    KeyedVectors = pytest.importorskip("gensim.models").KeyedVectors
    path = tmp_path / ("v.bin" if binary else "v.txt")
    export_word2vec(model, path, binary=binary)
    kv = KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert kv.index_to_key == model.index_to_token_.tolist()
    np.testing.assert_array_equal(kv.vectors, model.vectors_)  # 9 digits: exact float32


@pytest.mark.parametrize("suffix", ["v.txt", "v.bin", "v.txt.gz", "v.bin.gz"])
def test_export_import_round_trip(model, docs, tmp_path, suffix):
    path = tmp_path / suffix
    export_word2vec(model, path, binary=".bin" in suffix)
    if suffix.endswith(".gz"):
        assert path.read_bytes()[:2] == b"\x1f\x8b"
    for binary in (None, ".bin" in suffix):  # detected, then given
        imported = import_word2vec(path, binary=binary)
        assert imported.index_to_token_.tolist() == model.index_to_token_.tolist()
        np.testing.assert_array_equal(imported.vectors_, model.vectors_)
        np.testing.assert_array_equal(imported.transform(docs), model.transform(docs))
        assert imported.most_similar("w1", topn=4) == model.most_similar("w1", topn=4)


def test_binary_layout_is_word2vec_c(model, tmp_path):
    export_word2vec(model, tmp_path / "v.bin", binary=True)
    data = (tmp_path / "v.bin").read_bytes()
    n, d = len(model.vocabulary_), model.vector_size
    header = f"{n} {d}\n".encode()
    assert data.startswith(header)
    first = model.index_to_token_[0].encode() + b" "
    assert data[len(header):].startswith(first)
    start = len(header) + len(first)
    assert struct.unpack(f"<{d}f", data[start:start + 4 * d]) == tuple(
        model.vectors_[0].tolist())
    assert data[start + 4 * d:start + 4 * d + 1] == b"\n"


def test_export_refuses_words_with_whitespace(tmp_path):
    est = model_from_vectors(["ok", "new york"], np.ones((2, 3)))
    with pytest.raises(ValueError, match="'new york'.*whitespace"):
        export_word2vec(est, tmp_path / "v.txt")
    assert not (tmp_path / "v.txt").exists()
    with pytest.raises(TypeError, match="binary"):
        export_word2vec(model_from_vectors(["a"], np.ones((1, 2))), tmp_path / "v", binary="yes")


# --------------------------------------------------------------- import
@pytest.mark.parametrize("binary", [False, True])
def test_gensim_saved_vectors_import_and_transform(tmp_path, binary):
    KeyedVectors = pytest.importorskip("gensim.models").KeyedVectors
    rng = np.random.default_rng(3)
    words = ["king", "queen", "Paris", "naïve", "x"]
    kv = KeyedVectors(vector_size=6)
    kv.add_vectors(words, rng.normal(size=(5, 6)).astype(np.float32))
    path = tmp_path / "g.vec"
    kv.save_word2vec_format(str(path), binary=binary)
    est = import_word2vec(path)
    assert est.index_to_token_.tolist() == words
    np.testing.assert_array_equal(est.vectors_, kv.vectors)
    # "Paris" has an upper-case letter, so lowercase is off and it stays reachable.
    assert est.lowercase is False
    got = est.transform(["king queen", "Paris unknown", "nothing known"])
    np.testing.assert_allclose(got[0], kv.vectors[:2].mean(axis=0), rtol=1e-6)
    np.testing.assert_array_equal(got[1], kv.vectors[2])
    np.testing.assert_array_equal(got[2], np.zeros(6, np.float32))
    assert est.most_similar("king", topn=4)[0][0] == kv.most_similar("king", topn=4)[0][0]


def test_imported_model_unknowns_and_save_load(tmp_path):
    est = model_from_vectors(["a", "b", "c"], np.arange(6, dtype=np.float32).reshape(3, 2))
    np.testing.assert_array_equal(est.token_counts_, [1, 1, 1])
    np.testing.assert_array_equal(est.idf_, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(est.output_vectors_, np.zeros((3, 2)))
    assert est.loss_history_.shape == (0,)
    assert est.vector_size == 2 and est.min_count == 1 and est.lowercase is True
    docs = [["a", "b"], ["c", "c", "a"]]
    means = est.transform(docs)
    # Unknown counts: every word weighs the same (sif scales all rows by one constant).
    np.testing.assert_allclose(clone_fitted(est, pooling="tfidf").transform(docs), means,
                               rtol=1e-6)
    sif = clone_fitted(est, pooling="sif").transform(docs)
    ratio = sif / means
    np.testing.assert_allclose(ratio, ratio[0, 0], rtol=1e-5)
    est.save(tmp_path / "m")
    loaded = skw2v.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.transform(docs), means)


def clone_fitted(est, **params):
    return model_from_vectors(est.index_to_token_.tolist(), est.vectors_, **params)


def test_import_params_are_validated(tmp_path):
    with pytest.raises(ValueError, match="pooling"):
        model_from_vectors(["a"], np.ones((1, 2)), pooling="median")
    with pytest.raises(ValueError, match="vector_size=5 does not match"):
        model_from_vectors(["a"], np.ones((1, 2)), vector_size=5)
    est = model_from_vectors(["A"], np.ones((1, 2)), lowercase=True, pooling="sif")
    assert est.lowercase is True and est.pooling == "sif"


def test_text_format_variants(tmp_path):
    # word2vec.c writes a trailing space; Windows tools write \r\n; words may hold no-break
    # spaces; fastText's .vec has the same layout.
    path = tmp_path / "v.txt"
    write_text(path, "3 2\n", ["a 1 2 \n", "b\u00a0c -1.5e-3 4\r\n", "d 0.25 1"])
    words, vectors = read_word2vec(path)
    assert words == ["a", "b\u00a0c", "d"]
    np.testing.assert_array_equal(vectors, np.array([[1, 2], [-1.5e-3, 4], [0.25, 1]],
                                                    dtype=np.float32))
    assert read_word2vec(path, limit=2)[0] == ["a", "b\u00a0c"]


def test_duplicate_words_keep_first(tmp_path):
    path = tmp_path / "v.txt"
    write_text(path, "3 1\n", ["a 1\n", "b 2\n", "a 3\n"])
    with pytest.warns(UserWarning, match="1 duplicate"):
        words, vectors = read_word2vec(path)
    assert words == ["a", "b"]
    np.testing.assert_array_equal(vectors[:, 0], [1, 2])


@pytest.mark.parametrize("header, rows, match", [
    ("", [], "first line"),
    ("3\n", ["a 1\n"], "first line"),
    ("x 2\n", ["a 1 2\n"], "first line"),
    ("0 2\n", [], "announces 0 words"),
    ("2 2\n", ["a 1 2\n"], "ends after 1"),
    ("1 2\n", ["a 1\n"], "row 1 \\('a'\\) has 1 values, expected 2"),
    ("1 2\n", ["a 1 2 3\n"], "row 1 \\('a'\\) has 3 values"),
    ("1 2\n", ["a 1 zz\n"], "not a number"),
    ("1 2\n", ["a 1 nan\n"], "non-finite"),
    ("1 2\n", [" 1 2\n"], "row 1 starts with a space"),
])
def test_bad_text_files(tmp_path, header, rows, match):
    path = tmp_path / "bad.txt"
    write_text(path, header, rows)
    with pytest.raises(ValueError, match=match):
        read_word2vec(path, binary=False)


def test_bad_binary_files(tmp_path, model):
    export_word2vec(model, tmp_path / "v.bin", binary=True)
    data = (tmp_path / "v.bin").read_bytes()
    for cut, match in ((len(data) - 5, "truncated"), (len(data) - 4 * 10 - 8, "truncated"),
                       (len(data) - 1 - 4 * 10 - len(model.index_to_token_[-1]) - 1,
                        "ends after")):
        (tmp_path / "cut.bin").write_bytes(data[:cut])
        with pytest.raises(ValueError, match=match):
            read_word2vec(tmp_path / "cut.bin", binary=True)
    (tmp_path / "latin.bin").write_bytes(b"1 1\n\xe9t\xe9 " + struct.pack("<f", 1.0))
    with pytest.raises(ValueError, match="not valid utf-8"):
        read_word2vec(tmp_path / "latin.bin", binary=True)
    words, _ = read_word2vec(tmp_path / "latin.bin", binary=True, unicode_errors="replace")
    assert words == ["\ufffdt\ufffd"]
    with pytest.raises(ValueError, match="non-finite"):
        (tmp_path / "inf.bin").write_bytes(b"1 1\na " + struct.pack("<f", np.inf))
        read_word2vec(tmp_path / "inf.bin")


def test_damaged_gzip_and_bad_arguments(tmp_path, model):
    export_word2vec(model, tmp_path / "v.txt.gz")
    data = (tmp_path / "v.txt.gz").read_bytes()
    (tmp_path / "cut.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cannot be read|ends after"):
        read_word2vec(tmp_path / "cut.gz")
    with pytest.raises(FileNotFoundError):
        read_word2vec(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="limit"):
        read_word2vec(tmp_path / "v.txt.gz", limit=0)
    with pytest.raises(TypeError, match="binary"):
        read_word2vec(tmp_path / "v.txt.gz", binary="auto")


def test_gzip_detected_by_content(tmp_path, model):
    path = tmp_path / "vectors-no-suffix"
    export_word2vec(model, tmp_path / "v.txt")
    path.write_bytes(gzip.compress((tmp_path / "v.txt").read_bytes()))
    np.testing.assert_array_equal(read_word2vec(path)[1], model.vectors_)


# ----------------------------------------------------------- warm start


def test_imported_model_continues_with_partial_fit(model, docs, tmp_path):
    path = tmp_path / "vectors.txt"
    export_word2vec(model, path)
    imported = import_word2vec(path, n_jobs=1, random_state=0)
    before = imported.vectors_.copy()
    imported.partial_fit(docs)
    assert imported.train_seconds_ > 0 and len(imported.loss_history_) == imported.epochs
    assert not np.array_equal(imported.vectors_, before)
    assert np.isfinite(imported.vectors_).all()


def test_import_refuses_what_fit_refuses(model, tmp_path):
    path = tmp_path / "vectors.txt"
    export_word2vec(model, path)
    with pytest.raises(ValueError, match="n_jobs=0"):
        import_word2vec(path, n_jobs=0)
