"""Bad input to the file reader: a clear error naming the file (and line), and no
cache or thread left behind."""

import errno
import gzip
import os
import threading

import numpy as np
import pytest

from skw2v import _corpus_cache, _file_passes as lc
from skw2v._line_corpus import LineCorpus


def _reader_threads():
    return [t for t in threading.enumerate() if t.name.startswith(("skw2v-read", "skw2v-pages"))]


def _encode(corpus, **kwargs):
    counts = lc.count_tokens(corpus, n_jobs=2, **kwargs)
    vocab = lc.select_vocabulary_from_counts(counts, 1, None)
    return lc.encode_files(corpus, vocab.table, len(vocab.types), n_jobs=2, **kwargs)


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_invalid_utf8_names_file_and_line(tmp_path, suffix, n_jobs):
    good = "".join(f"line {i} ok\r\n" for i in range(40)).encode()
    raw = good + b"fine \xff\xfebad token\nmore\n"
    path = tmp_path / f"bad.txt{suffix}"
    if suffix:
        with gzip.open(path, "wb") as f:
            f.write(raw)
    else:
        path.write_bytes(raw)
    with pytest.raises(ValueError) as info:
        lc.count_tokens(LineCorpus(path), n_jobs=n_jobs, range_bytes=64, block_bytes=32)
    msg = str(info.value)
    assert repr(str(path)) in msg and "line 41" in msg and "invalid UTF-8" in msg
    assert "\\xff\\xfebad" in msg and "errors='replace'" in msg
    assert not _reader_threads()


def test_python_decoding_error_names_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"a b\nc d\n\xff e\n")
    corpus = LineCorpus(path, split=False)
    with pytest.raises(ValueError, match=r"bad.txt'.*line 3.*errors='replace'"):
        lc.count_tokens(corpus, n_jobs=1)
    with pytest.raises(ValueError, match=r"bad.txt'.*line 3"):
        list(LineCorpus(path))


def test_missing_file_among_several(tmp_path):
    (tmp_path / "a.txt").write_text("a b\n")
    (tmp_path / "c.txt").write_text("c d\n")
    with pytest.raises(ValueError, match="'.*b.txt' does not exist"):
        LineCorpus([tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "c.txt"])
    with pytest.raises(ValueError, match="glob '.*nothing\\*' matches no file"):
        LineCorpus(str(tmp_path / "nothing*"))
    # removed after the LineCorpus was made: the read names it
    corpus = LineCorpus([tmp_path / "a.txt", tmp_path / "c.txt"])
    os.remove(tmp_path / "c.txt")
    with pytest.raises(ValueError, match="c.txt' cannot be read"):
        lc.count_tokens(corpus, n_jobs=2)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_empty_file(tmp_path, suffix):
    (tmp_path / "ok.txt").write_text("a b\n")
    empty = tmp_path / f"empty.txt{suffix}"
    if suffix:
        with gzip.open(empty, "wb"):
            pass
    else:
        empty.write_bytes(b"")
    corpus = LineCorpus([tmp_path / "ok.txt", empty], cache_dir=tmp_path)
    with pytest.raises(ValueError, match=f"corpus file '.*empty.txt{suffix}' is empty"):
        _encode(corpus)
    assert sorted(os.listdir(tmp_path)) == sorted(["ok.txt", empty.name])


def test_damaged_compressed_file(tmp_path):
    path = tmp_path / "cut.txt.gz"
    data = gzip.compress(b"word " * 100_000)
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.txt.gz' cannot be read"):
        lc.count_tokens(LineCorpus(path), n_jobs=1)


@pytest.mark.parametrize("fail_at", [1, 3, 6])
def test_full_disk_while_writing_the_cache(tmp_path, monkeypatch, fail_at):
    path = tmp_path / "c.txt"
    path.write_text("".join(f"w{i % 50} w{i % 7} w{i % 3}\n" for i in range(3000)))
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    calls = []
    real_write = _corpus_cache._write

    def full_disk(f, data):
        calls.append(1)
        if len(calls) >= fail_at:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(f, data)

    monkeypatch.setattr(_corpus_cache, "_write", full_disk)
    corpus = LineCorpus(path, cache_dir=cache_dir)
    with pytest.raises(OSError, match="disk is full") as info:
        _encode(corpus, range_bytes=1000, block_bytes=256)
    msg = str(info.value)
    assert "cache" in msg and "c.txt" in msg and "cache_dir" in msg
    assert info.value.errno == errno.ENOSPC
    assert os.listdir(cache_dir) == []
    assert not _reader_threads()


def test_ctrl_c_during_encoding_removes_the_cache(tmp_path, monkeypatch):
    path = tmp_path / "c.txt"
    path.write_text("".join(f"w{i % 50} w{i % 7}\n" for i in range(20_000)))
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    corpus = LineCorpus(path, cache_dir=cache_dir)
    counts = lc.count_tokens(corpus, n_jobs=2)
    vocab = lc.select_vocabulary_from_counts(counts, 1, None)
    real_wait = lc.wait
    calls = []

    def interrupted_wait(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:  # the tasks are running
            raise KeyboardInterrupt
        return real_wait(*args, **kwargs)

    monkeypatch.setattr(lc, "wait", interrupted_wait)
    with pytest.raises(KeyboardInterrupt):
        lc.encode_files(corpus, vocab.table, len(vocab.types), n_jobs=2, range_bytes=512,
                        block_bytes=128)
    assert os.listdir(cache_dir) == []
    assert not _reader_threads()


def test_failure_in_a_worker_removes_the_cache(tmp_path, monkeypatch):
    path = tmp_path / "c.txt"
    path.write_text("a b c\n" * 1000)
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    corpus = LineCorpus(path, cache_dir=cache_dir)
    counts = lc.count_tokens(corpus, n_jobs=2)
    vocab = lc.select_vocabulary_from_counts(counts, 1, None)
    real_source = lc.Source

    class Failing(real_source):
        def readinto(self, view):
            if self.piece.seq == 2:
                raise MemoryError("simulated")
            return super().readinto(view)

    monkeypatch.setattr(lc, "Source", Failing)
    with pytest.raises(MemoryError, match="simulated"):
        lc.encode_files(corpus, vocab.table, len(vocab.types), n_jobs=2, range_bytes=500)
    assert os.listdir(cache_dir) == []


def test_cache_is_removed_when_closed_or_collected(tmp_path):
    cache = _corpus_cache.CorpusCache(tmp_path, source="test")
    cache.append(np.arange(5, dtype=np.int32), np.array([2, 5]))
    tokens, offsets = cache.finish()
    assert tokens.tolist() == [0, 1, 2, 3, 4] and offsets.tolist() == [0, 2, 5]
    with _corpus_cache.PageReleaser(cache, interval=0.001):
        assert tokens.sum() == 10  # pages come back after being dropped
    cache.close()
    assert os.listdir(tmp_path) == [] and cache.closed
    assert tokens.tolist() == [0, 1, 2, 3, 4]  # the map outlives the folder
    other = _corpus_cache.CorpusCache(tmp_path)
    del other
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("kwargs, match", [
    (dict(errors="bogus"), "errors must be one of"),
    (dict(max_types=1), "max_types must be an integer >= 2"),
    (dict(max_types=True), "max_types must be an integer >= 2"),
    (dict(encoding="no-such-codec"), "encoding='no-such-codec'"),
    (dict(cache_dir="/no/such/folder"), "cache_dir='/no/such/folder'"),
])
def test_bad_parameters(tmp_path, kwargs, match):
    (tmp_path / "a.txt").write_text("a\n")
    with pytest.raises(ValueError, match=match):
        LineCorpus(tmp_path / "a.txt", **kwargs)


def test_bad_paths(tmp_path):
    with pytest.raises(ValueError, match="at least one path"):
        LineCorpus([])
    with pytest.raises(TypeError, match="got 3 of type int"):
        LineCorpus([3])
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(ValueError, match="holds no file"):
        LineCorpus(tmp_path / "empty_dir")
