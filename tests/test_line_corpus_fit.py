"""fit, partial_fit, transform and score on files: the same results as on the lines in
memory, one row per line, and no cache left behind after success, failure or Ctrl-C."""

import errno
import gzip
import lzma
import os
import threading

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import skw2v
from skw2v import _corpus_cache
from skw2v._line_corpus import LineCorpus

PARAMS = dict(vector_size=8, window=3, min_count=2, epochs=2, n_jobs=1, random_state=0)


def _docs(seed=0, n=300):
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i}" for i in range(60)] + ["ünï", "日本", "Cap"], dtype=object)
    return [words[rng.zipf(1.4, rng.integers(0, 12)) % len(words)].tolist() for _ in range(n)]


def _write(path, docs):
    text = "".join(" ".join(d) + "\n" for d in docs)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    elif path.suffix == ".xz":
        with lzma.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _same_model(a, b):
    assert a.vocabulary_ == b.vocabulary_
    np.testing.assert_array_equal(a.token_counts_, b.token_counts_)
    np.testing.assert_array_equal(a.idf_, b.idf_)
    np.testing.assert_array_equal(a.vectors_, b.vectors_)
    np.testing.assert_array_equal(a.output_vectors_, b.output_vectors_)
    np.testing.assert_array_equal(a.loss_history_, b.loss_history_)


def test_files_fit_bitwise_like_the_lines_in_memory(tmp_path):
    docs = [_docs(0), _docs(1), _docs(2)]
    (tmp_path / "shards").mkdir()
    paths = [_write(tmp_path / "shards" / name, d)
             for name, d in zip(["a.txt", "b.txt.gz", "c.txt.xz"], docs)]
    everything = [doc for d in docs for doc in d]
    ref = skw2v.Word2VecNS(**PARAMS).fit(everything)
    for X in (LineCorpus(paths), LineCorpus(tmp_path / "shards"),
              LineCorpus(str(tmp_path / "shards" / "*"))):
        _same_model(skw2v.Word2VecNS(**PARAMS).fit(X), ref)
    # two reading threads read the same corpus (training at 2 threads is hogwild)
    model = skw2v.Word2VecNS(**{**PARAMS, "n_jobs": 2}).fit(LineCorpus(paths))
    assert model.vocabulary_ == ref.vocabulary_
    np.testing.assert_array_equal(model.token_counts_, ref.token_counts_)
    np.testing.assert_array_equal(model.idf_, ref.idf_)


def test_transform_score_and_partial_fit_on_a_path(tmp_path):
    docs = _docs(3)
    path = _write(tmp_path / "c.txt", docs)
    ref = skw2v.Word2VecNS(**PARAMS).fit(docs)
    model = skw2v.Word2VecNS(**PARAMS).fit(path)
    rows = model.transform(path)
    assert rows.shape == (len(docs), 8)  # one row per line, empty lines included
    np.testing.assert_array_equal(rows, ref.transform(docs))
    np.testing.assert_array_equal(model.fit_transform(path), rows)
    assert model.score(path) == ref.score(docs)
    new = _write(tmp_path / "new.txt.gz", _docs(4))
    model.partial_fit(new)
    ref.partial_fit(_docs(4))
    _same_model(model, ref)


def test_split_false_goes_through_the_estimators_tokenization(tmp_path):
    lines = ["The Cat, the DOG.", "a cat; a dog!", "", "THE end"] * 30
    path = tmp_path / "raw.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    params = {**PARAMS, "min_count": 1}
    ref = skw2v.Word2VecNS(**params).fit([line + "\n" for line in lines])
    model = skw2v.Word2VecNS(**params).fit(LineCorpus(path, split=False))
    _same_model(model, ref)
    assert "the" in model.vocabulary_ and "The" not in model.vocabulary_
    assert model.transform(LineCorpus(path, split=False)).shape == (len(lines), 8)


def test_errors_replace_reads_invalid_utf8_like_python(tmp_path):
    raw = b"ok caf\xc3\xa9 \xffbad ok\nok \xffbad caf\xc3\xa9\n" * 20
    path = tmp_path / "bad.txt"
    path.write_bytes(raw)
    docs = [line.split() for line in raw.decode("utf-8", "replace").splitlines()]
    ref = skw2v.Word2VecNS(**PARAMS).fit(docs)
    corpus = LineCorpus(path, errors="replace")
    model = skw2v.Word2VecNS(**PARAMS).fit(corpus)
    _same_model(model, ref)
    assert "\ufffdbad" in model.vocabulary_
    np.testing.assert_array_equal(model.transform(corpus), ref.transform(docs))
    with pytest.raises(ValueError, match="bad.txt', line 1: invalid UTF-8"):
        skw2v.Word2VecNS(**PARAMS).fit(path)
    # transform and score meet the same check (the unknown token is not skipped silently)
    fitted = skw2v.Word2VecNS(**PARAMS).fit(docs)
    for method in (fitted.transform, fitted.score):
        with pytest.raises(ValueError, match="bad.txt', line 1: invalid UTF-8"):
            method(path)


def _cache_dir(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    return cache


def test_the_cache_exists_during_training_and_is_removed_after(tmp_path):
    docs = _docs(5)
    path = _write(tmp_path / "c.txt", docs)
    cache = _cache_dir(tmp_path)
    seen = []

    def look(estimator, info):
        (folder,) = os.listdir(cache)
        size = os.path.getsize(cache / folder / "tokens.int32")
        seen.append(size // 4)

    model = skw2v.Word2VecNS(**PARAMS, callbacks=[look]).fit(LineCorpus(path, cache_dir=cache))
    assert seen == [int(model.token_counts_.sum())] * PARAMS["epochs"]
    assert os.listdir(cache) == []
    model.transform(LineCorpus(path, cache_dir=cache))
    model.score(LineCorpus(path, cache_dir=cache))
    assert os.listdir(cache) == []


def _assert_unfitted(model):
    with pytest.raises(NotFittedError):
        check_is_fitted(model)


def test_failures_leave_no_cache_and_an_unfitted_estimator(tmp_path, monkeypatch):
    path = _write(tmp_path / "c.txt", _docs(6))
    cache = _cache_dir(tmp_path)
    corpus = LineCorpus(path, cache_dir=cache)
    model = skw2v.Word2VecNS(**PARAMS).fit(corpus)

    # an error after encoding (in training): diverged learning rate
    with pytest.raises(ValueError, match="diverged"):
        model.set_params(learning_rate=1e30).fit(corpus)
    _assert_unfitted(model)
    assert os.listdir(cache) == []

    # Ctrl-C in the middle of training
    def interrupt(estimator, info):
        raise KeyboardInterrupt

    model = skw2v.Word2VecNS(**PARAMS, callbacks=[interrupt])
    with pytest.raises(KeyboardInterrupt):
        model.fit(corpus)
    _assert_unfitted(model)
    assert os.listdir(cache) == []

    # a full disk while the cache is written
    def full(f, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_corpus_cache, "_write", full)
    model = skw2v.Word2VecNS(**PARAMS)
    with pytest.raises(OSError, match="disk is full"):
        model.fit(corpus)
    _assert_unfitted(model)
    assert os.listdir(cache) == []
    assert not [t for t in threading.enumerate() if t.name.startswith("skw2v-")]


def test_bad_files_leave_no_cache_and_an_unfitted_estimator(tmp_path):
    good = _write(tmp_path / "good.txt", _docs(9))
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"w1 w2\nw3 \xff\xfe w1\n")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    gone = _write(tmp_path / "gone.txt", _docs(10))
    cache = _cache_dir(tmp_path)
    gone_corpus = LineCorpus([good, gone], cache_dir=cache)
    os.remove(gone)
    for corpus, match in [
        (LineCorpus([good, bad], cache_dir=cache), r"bad.txt', line 2: invalid UTF-8"),
        (LineCorpus([good, empty], cache_dir=cache), r"empty.txt' is empty"),
        (gone_corpus, r"gone.txt' cannot be read"),
    ]:
        model = skw2v.Word2VecNS(**PARAMS).fit(good)
        with pytest.raises(ValueError, match=match):
            model.fit(corpus)
        _assert_unfitted(model)
        assert os.listdir(cache) == []
    # transform reads with the fitted vocabulary, through the cache: removed too,
    # and the fitted model is kept
    model = skw2v.Word2VecNS(**PARAMS).fit(good)
    with pytest.raises(ValueError, match=r"bad.txt', line 2: invalid UTF-8"):
        model.transform(LineCorpus(bad, cache_dir=cache))
    assert os.listdir(cache) == []
    check_is_fitted(model)
    assert not [t for t in threading.enumerate() if t.name.startswith("skw2v-")]


def test_empty_vocabulary_and_empty_corpus(tmp_path):
    path = _write(tmp_path / "c.txt", [["a", "b"], ["c"]])
    with pytest.raises(ValueError, match="the vocabulary is empty: .*c.txt.*min_count=5"):
        skw2v.Word2VecNS(min_count=5).fit(path)
    blank = tmp_path / "blank.txt"
    blank.write_text("\n \n\t\n")
    with pytest.raises(ValueError, match="has no tokens: 3 document"):
        skw2v.Word2VecNS(min_count=1).fit(blank)


def test_the_cap_warns_with_its_bound(tmp_path):
    docs = [[f"w{i}" for i in range(k, k + 30)] for k in range(0, 3000, 30)] + _docs(7)
    path = _write(tmp_path / "c.txt", docs)
    with pytest.warns(UserWarning, match=r"max_types=100 .*up to [\d,]+ below"):
        skw2v.Word2VecNS(**{**PARAMS, "min_count": 1}).fit(LineCorpus(path, max_types=100))


def test_verbose_shows_both_passes_in_tokens_per_second(tmp_path, capsys):
    path = _write(tmp_path / "c.txt", _docs(8))
    skw2v.Word2VecNS(**PARAMS, verbose=1).fit(path)
    err = capsys.readouterr().err
    assert "skw2v vocabulary" in err and "skw2v encoding" in err and "tok/s" in err


def _is_mapped(array):
    import mmap

    base = array
    while base is not None:
        if isinstance(base, mmap.mmap):
            return True
        base = base.obj if isinstance(base, memoryview) else getattr(base, "base", None)
    return False


def test_training_on_the_cache_keeps_its_pages_out_of_the_resident_set(tmp_path, monkeypatch):
    """Fit on files: the kernel skips its scans of the ids and offsets (its own encoder
    wrote them; the plan passes the longest sentence, read in slices),
    and learning the SIF components drops the cache's pages block by block; either
    would otherwise page the whole cache into the resident set (peak RSS growing
    with the corpus)."""
    from skw2v import _pooling, _training

    path = _write(tmp_path / "c.txt", _docs(n=200))
    checks, dropped, longest = [], [], []
    train_epoch = _training._core.train_epoch

    def recording(*args, **kw):
        checks.append(kw.get("check_tokens", True))
        longest.append(kw.get("max_sentence", -1))
        return train_epoch(*args, **kw)

    drop = _pooling.drop_mapped_pages

    def recording_drop(array):
        dropped.append(_is_mapped(array))
        return drop(array)

    monkeypatch.setattr(_training._core, "train_epoch", recording)
    monkeypatch.setattr(_pooling, "drop_mapped_pages", recording_drop)
    kw = dict(vector_size=8, min_count=1, epochs=2, n_jobs=1, random_state=0)
    on_files = skw2v.Word2VecNS(**kw).fit(path)
    assert checks == [False, False]
    assert longest == [max(map(len, _docs(n=200)))] * 2  # the kernel's margin needs it
    assert dropped and all(dropped)  # the cache's maps, after every block
    checks.clear()
    on_lists = skw2v.Word2VecNS(**kw, tokenizer=str.split, lowercase=False).fit(
        [" ".join(d) for d in _docs(n=200)])
    assert checks == [True, True]  # ids from elsewhere are checked
    np.testing.assert_array_equal(on_files.index_to_token_, on_lists.index_to_token_)
