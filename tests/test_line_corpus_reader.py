"""The compiled file reader counts and encodes exactly what Python's str.split() sees.

Counts must equal collections.Counter over ``line.split()`` of the decoded
lines, for 1, 2 and 4 threads, plain and compressed files, with multi-byte
UTF-8 (including Unicode spaces), \\r\\n and lone \\r line ends, and byte
ranges so small that lines cross their boundaries.
"""

import bz2
import collections
import gzip
import io
import lzma
import os

import numpy as np
import pytest

from skw2v import _file_passes as lc
from skw2v._line_corpus import LineCorpus
from skw2v import _reader

WORDS = ["the", "a", "über", "naïve", "日本語", "emoji😀", "x\u00a0y", "tab\tsep", "z",
         "long" * 30, "\u3000wide", "e\u2003m", "nb\u202fsp", "ctl\x1csep", "ok"]
COMPRESSIONS = {"": None, ".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def _text(seed=0, n_lines=400):
    rng = np.random.default_rng(seed)
    ends = ["\n", "\n", "\n", "\r\n", "\r"]
    parts = []
    for _ in range(n_lines):
        words = rng.choice(WORDS, rng.integers(0, 9)).tolist()
        sep = ["  ", " ", "\t", " \u00a0 "][rng.integers(0, 4)]
        parts.append(sep.join(words) + ends[rng.integers(0, len(ends))])
    parts.append("last line without newline")
    return "".join(parts)


def _write(path, text, suffix):
    data = text.encode("utf-8")
    opener = COMPRESSIONS[suffix]
    if opener is None:
        path.write_bytes(data)
    else:
        with opener(path, "wb") as f:
            f.write(data)
    return path


def _python_lines(text):
    return list(io.StringIO(text, newline=None))


def _entries(counts):
    keys, values, _ = counts.table.entries()
    return {k.decode("utf-8"): v for k, v in zip(keys, values.tolist())}


@pytest.mark.parametrize("suffix", list(COMPRESSIONS))
@pytest.mark.parametrize("n_jobs", [1, 2, 4])
def test_counts_equal_counter(tmp_path, suffix, n_jobs):
    text = _text()
    path = _write(tmp_path / f"c.txt{suffix}", text, suffix)
    lines = _python_lines(text)
    expected = collections.Counter(w for line in lines for w in line.split())
    corpus = LineCorpus(path)
    # tiny ranges and blocks: many lines cross the range and block boundaries
    for range_bytes, block_bytes in [(None, None), (7, 16), (101, 64)]:
        counts = lc.count_tokens(corpus, n_jobs=n_jobs, range_bytes=range_bytes,
                                 block_bytes=block_bytes)
        assert _entries(counts) == dict(expected)
        assert counts.n_tokens == sum(expected.values())
        assert counts.n_documents == len(lines)
        assert counts.error == 0


def test_ranges_start_at_line_starts(tmp_path):
    text = "ab\r\ncd\r\ref\n\ngh"
    path = _write(tmp_path / "r.txt", text, "")
    pieces = lc.plan_pieces(LineCorpus(path), 1, range_bytes=1)
    starts = [p.start for p in pieces]
    # every \r\n is one terminator: no range starts between \r and \n
    assert starts == [0, 4, 7, 8, 11, 12]
    assert [p.end for p in pieces] == starts[1:] + [len(text)]


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("n_jobs", [1, 2, 4])
def test_encoding_equals_python(tmp_path, suffix, n_jobs):
    text = _text(seed=1)
    path = _write(tmp_path / f"e.txt{suffix}", text, suffix)
    corpus = LineCorpus(path, cache_dir=tmp_path)
    counts = lc.count_tokens(corpus, n_jobs=n_jobs, range_bytes=13, block_bytes=32)
    vocab = lc.select_vocabulary_from_counts(counts, min_count=3, max_vocab_size=None)
    index = {t: i for i, t in enumerate(vocab.types)}
    docs = [[index[w] for w in line.split() if w in index] for line in _python_lines(text)]
    encoded = lc.encode_files(corpus, vocab.table, len(vocab.types), n_jobs=n_jobs,
                              range_bytes=13, block_bytes=32)
    try:
        np.testing.assert_array_equal(encoded.tokens, [i for d in docs for i in d])
        np.testing.assert_array_equal(encoded.offsets, np.cumsum([0] + [len(d) for d in docs]))
        df = np.zeros(len(index), dtype=np.int64)
        for d in docs:
            df[list(set(d))] += 1
        np.testing.assert_array_equal(encoded.df, df)
        assert encoded.n_seen == counts.n_tokens
        assert not encoded.tokens.flags.writeable
    finally:
        encoded.close()
    assert os.listdir(tmp_path) == [path.name]


def test_vocabulary_order_like_fit_on_lists(tmp_path):
    from skw2v._vocab import select_vocabulary

    text = _text(seed=2)
    path = _write(tmp_path / "v.txt", text, "")
    counts = lc.count_tokens(LineCorpus(path), n_jobs=2, range_bytes=50)
    vocab = lc.select_vocabulary_from_counts(counts, min_count=2, max_vocab_size=5)
    expected = collections.Counter(w for line in _python_lines(text) for w in line.split())
    types = list(expected)
    kept = select_vocabulary(types, [expected[t] for t in types], 2, 5)
    assert vocab.types == [types[i] for i in kept]
    assert vocab.counts.tolist() == [expected[types[i]] for i in kept]


def test_several_files_directory_and_glob(tmp_path):
    (tmp_path / "d").mkdir()
    texts = [_text(seed=s, n_lines=50) for s in range(3)]
    _write(tmp_path / "d" / "p0.txt", texts[0], "")
    _write(tmp_path / "d" / "p1.txt.gz", texts[1], ".gz")
    _write(tmp_path / "d" / "p2.txt.xz", texts[2], ".xz")
    (tmp_path / "d" / ".p1.txt.swp").write_bytes(b"\xff not a shard")
    lines = [line for t in texts for line in _python_lines(t)]
    expected = collections.Counter(w for line in lines for w in line.split())
    for spec in (tmp_path / "d", str(tmp_path / "d" / "p*"),  # hidden files left out
                 [tmp_path / "d" / "p0.txt", str(tmp_path / "d" / "p1.txt.gz"),
                  tmp_path / "d" / "p2.txt.xz"]):
        corpus = LineCorpus(spec)
        assert len(corpus.paths) == 3
        counts = lc.count_tokens(corpus, n_jobs=2, range_bytes=64)
        assert _entries(counts) == dict(expected)
        assert counts.n_documents == len(lines)
        # iteration keeps LineCorpus's behaviour: each line's str.split()
        assert list(corpus) == [line.split() for line in lines]


def test_cap_bounds_the_error(tmp_path):
    rng = np.random.default_rng(0)
    ids = rng.zipf(1.3, 60_000) % 5000
    text = "\n".join(" ".join(f"w{i}" for i in ids[k:k + 20]) for k in range(0, len(ids), 20))
    path = _write(tmp_path / "z.txt", text, "")
    expected = collections.Counter(f"w{i}" for i in ids)
    n_tokens = len(ids)
    for n_jobs, max_types in [(1, 300), (2, 300), (4, 1000)]:
        corpus = LineCorpus(path, max_types=max_types)
        counts = lc.count_tokens(corpus, n_jobs=n_jobs, range_bytes=20_000)
        got = _entries(counts)
        error = counts.error
        assert counts.table.n_prunes > 0 and error > 0
        assert error <= 2 * n_tokens * n_jobs / max_types
        assert len(got) <= max_types
        for word, true in expected.items():
            c = got.get(word, 0)
            assert true - error <= c <= true, (word, true, c, error)
            if true > error:
                assert word in got
        assert counts.n_tokens == n_tokens  # the total stays exact
    # below the cap nothing is pruned and every count is exact
    counts = lc.count_tokens(LineCorpus(path, max_types=2 * len(expected)), n_jobs=1)
    assert counts.error == 0 and _entries(counts) == dict(expected)


def test_table_prune_step_directly():
    table = _reader.Table(4, True)
    data = b"a a a a b b b c c d e\n"
    buf = np.frombuffer(data + b"\0" * _reader.PAD, dtype=np.uint8)
    state = _reader.new_state()
    assert table.count(buf, len(data), True, state, True) == 0
    keys, counts, _ = table.entries()
    got = dict(zip(keys, counts.tolist()))
    # a:4 b:3 c:2 d:1 filled the table; inserting e subtracted the median (2)
    assert table.error == 2 and table.n_prunes == 1
    assert got == {b"a": 2, b"b": 1, b"e": 1}


@pytest.mark.parametrize("errors", ["replace", "ignore"])
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_invalid_utf8_replace_and_ignore(tmp_path, errors, n_jobs):
    raw = (b"ok \xff\xfebad ok\n\xc3 ok caf\xc3\xa9 \xe2\x82 caf\xc3\xa9\n"
           b"\xed\xa0\x80sur \xf0\x9f\x98\x80 \xff\n" + b"x \xfe\xfebad\r\n") * 3
    path = tmp_path / "bad.txt"
    path.write_bytes(raw)
    text = raw.decode("utf-8", errors)
    expected = collections.Counter(w for line in _python_lines(text) for w in line.split())
    corpus = LineCorpus(path, errors=errors)
    counts = lc.count_tokens(corpus, n_jobs=n_jobs, range_bytes=9)
    vocab = lc.select_vocabulary_from_counts(counts, min_count=1, max_vocab_size=None)
    assert dict(zip(vocab.types, vocab.counts.tolist())) == dict(expected)
    index = {t: i for i, t in enumerate(vocab.types)}
    encoded = lc.encode_files(corpus, vocab.table, len(index), n_jobs=n_jobs, range_bytes=9)
    try:
        docs = [[index[w] for w in line.split()] for line in _python_lines(text)]
        np.testing.assert_array_equal(encoded.tokens, [i for d in docs for i in d])
        np.testing.assert_array_equal(encoded.offsets, np.cumsum([0] + [len(d) for d in docs]))
    finally:
        encoded.close()


def test_split_false_uses_the_analyzer_in_batches(tmp_path, monkeypatch):
    from skw2v._corpus import make_analyzer

    monkeypatch.setattr(lc, "TEXT_BATCH_LINES", 7)
    text = _text(seed=3, n_lines=60)
    path = _write(tmp_path / "t.txt.bz2", text, ".bz2")
    analyze = make_analyzer(lowercase=True)
    lines = _python_lines(text)
    expected = collections.Counter(w for line in lines for w in analyze(line))
    corpus = LineCorpus(path, split=False)
    assert not corpus.compiled
    counts = lc.count_tokens(corpus, n_jobs=2, analyzer=analyze)
    vocab = lc.select_vocabulary_from_counts(counts, 1, None)
    assert dict(zip(vocab.types, vocab.counts.tolist())) == dict(expected)
    index = {t: i for i, t in enumerate(vocab.types)}
    encoded = lc.encode_files(corpus, index, len(index), n_jobs=2, analyzer=analyze)
    try:
        docs = [[index[w] for w in analyze(line)] for line in lines]
        np.testing.assert_array_equal(encoded.tokens, [i for d in docs for i in d])
        assert encoded.n_documents == len(lines)
    finally:
        encoded.close()


def test_other_encodings_are_decoded_in_python(tmp_path):
    text = "café naïve\nÀ la carte\n"
    path = tmp_path / "latin.txt"
    path.write_bytes(text.encode("latin-1"))
    corpus = LineCorpus(path, encoding="latin-1")
    assert not corpus.compiled
    counts = lc.count_tokens(corpus, n_jobs=1)
    vocab = lc.select_vocabulary_from_counts(counts, 1, None)
    assert sorted(vocab.types) == sorted(set(text.split()))


def test_progress_bars_show_tokens_per_second(tmp_path, capsys):
    path = _write(tmp_path / "p.txt", _text(seed=4), "")
    corpus = LineCorpus(path)
    counts = lc.count_tokens(corpus, n_jobs=2, verbose=1)
    vocab = lc.select_vocabulary_from_counts(counts, 1, None)
    lc.encode_files(corpus, vocab.table, len(vocab.types), n_jobs=2, verbose=1,
                    total_tokens=counts.n_tokens).close()
    err = capsys.readouterr().err
    assert "skw2v vocabulary" in err and "skw2v encoding" in err
    assert "tok/s" in err
    assert "100%" in err  # the encoding pass knows its total from the counting pass


def test_a_100_mb_line(tmp_path):
    # text8 is one 100 MB line: it is read with bounded buffers, not held whole.
    unit = b"alpha beta gamma delta "
    reps = (100 << 20) // len(unit) + 1
    path = tmp_path / "long.txt"
    with open(path, "wb") as f:
        f.write(b"first line\n")
        for _ in range(reps // 100_000 + 1):
            f.write(unit * 100_000)
        f.write(b"end\n")
    n_units = (reps // 100_000 + 1) * 100_000
    assert os.path.getsize(path) > 100 << 20
    corpus = LineCorpus(path)
    counts = lc.count_tokens(corpus, n_jobs=2)
    assert _entries(counts) == {"first": 1, "line": 1, "alpha": n_units, "beta": n_units,
                                "gamma": n_units, "delta": n_units, "end": 1}
    assert counts.n_documents == 2
    vocab = lc.select_vocabulary_from_counts(counts, 1, None)
    encoded = lc.encode_files(corpus, vocab.table, len(vocab.types), n_jobs=2)
    try:
        assert encoded.offsets.tolist() == [0, 2, 2 + 4 * n_units + 1]
    finally:
        encoded.close()


def test_chunk_layout_over_the_mapped_cache_in_slices(tmp_path, monkeypatch):
    # Planning reads the memory-mapped offsets in slices, dropping their pages
    # in between: the same layout as one search over an array in memory.
    from skw2v import _corpus, _corpus_cache

    rng = np.random.default_rng(3)
    lengths = rng.integers(0, 40, size=5000)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    cache = _corpus_cache.CorpusCache(tmp_path, source="test")
    try:
        cache.append(np.zeros(int(offsets[-1]), dtype=np.int32), offsets[1:])
        tokens, mapped = cache.finish()
        np.testing.assert_array_equal(mapped, offsets)
        expected = _corpus.chunk_layout(offsets.copy(), len(tokens), 7)
        monkeypatch.setattr(_corpus, "LAYOUT_SLICE", 5)
        bounds, first = _corpus.chunk_layout(mapped, len(tokens), 7)
        np.testing.assert_array_equal(bounds, expected[0])
        np.testing.assert_array_equal(first, expected[1])
        assert len(bounds) > 3 * 5
        np.testing.assert_array_equal(
            first, np.clip(np.searchsorted(offsets, bounds[:-1], side="right") - 1, 0,
                           len(offsets) - 2))
        _corpus_cache.drop_mapped_pages(mapped[10:])  # a view of the map: still readable
        np.testing.assert_array_equal(mapped, offsets)
        _corpus_cache.drop_mapped_pages(offsets)  # not mapped: nothing to do
    finally:
        cache.close()


@pytest.mark.parametrize("split", [True, False])  # compiled bytes / tokens from Python
@pytest.mark.parametrize("max_vocab_size", [None, 1, 4, 6, 9])  # cuts inside runs of ties
def test_vocabulary_ties_in_token_order_like_fit_on_lists(tmp_path, split, max_vocab_size):
    """Equal counts are ordered by token, code point by code point, also for
    multi-byte UTF-8 (its bytes sort as its code points)."""
    from skw2v._vocab import select_vocabulary

    words = ["zeta", "é", "e", "日本", "ab", "a", "\U0001f600", "ä", "b", "yy", "Z"]
    rng = np.random.default_rng(0)
    counts = [3, 3, 3, 3, 2, 2, 2, 5, 5, 1, 3]
    tokens = [w for w, c in zip(words, counts) for _ in range(c)]
    rng.shuffle(tokens)
    text = "\n".join(" ".join(tokens[i:i + 4]) for i in range(0, len(tokens), 4)) + "\n"
    path = _write(tmp_path / "ties.txt", text, "")
    corpus = LineCorpus(path, split=split)
    counts_found = lc.count_tokens(corpus, n_jobs=2, range_bytes=7,
                                   analyzer=None if split else str.split)
    vocab = lc.select_vocabulary_from_counts(counts_found, min_count=2,
                                             max_vocab_size=max_vocab_size)
    kept = select_vocabulary(words, counts, 2, max_vocab_size)
    assert vocab.types == [words[i] for i in kept]
    assert vocab.counts.tolist() == [counts[i] for i in kept]
    assert [vocab.table.get(w.encode())[1] for w in vocab.types] == list(range(len(kept)))
