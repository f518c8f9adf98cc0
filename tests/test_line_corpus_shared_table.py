"""The counting pass's shared table: one table split by hash into locked parts.

Whatever the number of parts and of threads counting into it at once, the
counts must equal collections.Counter (below the cap), the cap must hold
with its documented error bound per part, and an invalid token must be
reported at the first one of the file.
"""

import collections
import threading

import numpy as np
import pytest

from skw2v import _file_passes as lc
from skw2v import _reader
from skw2v._line_corpus import LineCorpus

WORDS = ["the", "a", "über", "naïve", "日本語", "emoji😀", "x\u00a0y", "z", "long" * 30,
         "\u3000wide", "e\u2003m", "ok"]


def _text(seed, n_lines, n_types=3000):
    """Multi-byte UTF-8, Unicode spaces, \\r\\n and \\r, and many types (a part's
    buffer fills up, SK_GROUP = 4096 tokens, within one block)."""
    rng = np.random.default_rng(seed)
    vocab = WORDS + [f"w{i}é" for i in range(n_types)]
    ends = ["\n", "\n", "\r\n", "\r"]
    lines = []
    for _ in range(n_lines):
        ids = rng.zipf(1.2, rng.integers(0, 25)) % len(vocab)
        lines.append(" ".join(vocab[i] for i in ids) + ends[rng.integers(0, len(ends))])
    return "".join(lines) + "last line"


def _expected(text):
    import io

    return collections.Counter(w for line in io.StringIO(text, newline=None) for w in line.split())


def _entries(table):
    keys, values, _ = table.entries()
    return {k.decode("utf-8"): v for k, v in zip(keys, values.tolist())}


def _buffer(data):
    return np.frombuffer(data + b"\0" * _reader.PAD, dtype=np.uint8)


@pytest.mark.parametrize("n_jobs,n_parts", [(1, 1), (1, 3), (2, 1), (2, 2), (2, 3), (4, 4),
                                            (4, 2), (2, 64)])  # 64: smaller buffers per part
def test_counts_equal_counter(tmp_path, n_jobs, n_parts):
    text = _text(0, 3000)
    path = tmp_path / "c.txt"
    path.write_bytes(text.encode("utf-8"))
    expected = _expected(text)
    # default ranges and blocks, then tiny ones that lines cross
    for range_bytes, block_bytes in [(None, None), (4099, 1 << 16), (97, 64)]:
        counts = lc.count_tokens(LineCorpus(path), n_jobs=n_jobs, n_parts=n_parts,
                                 range_bytes=range_bytes, block_bytes=block_bytes)
        assert counts.table.n_parts == n_parts
        assert _entries(counts.table) == dict(expected)
        assert counts.n_tokens == counts.table.total == sum(expected.values())
        assert counts.error == 0


def test_default_parts_one_per_thread(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(_text(1, 500).encode("utf-8"))
    for n_jobs in (1, 2, 4):
        counts = lc.count_tokens(LineCorpus(path), n_jobs=n_jobs, range_bytes=1000)
        assert counts.table.n_parts == n_jobs
    # fewer pieces than threads: one part per piece
    small = tmp_path / "s.txt"
    small.write_bytes(b"a b\n")
    assert lc.count_tokens(LineCorpus(small), n_jobs=4).table.n_parts == 1


@pytest.mark.parametrize("n_parts", [1, 2, 3])
def test_threads_counting_into_one_table_at_once(n_parts):
    """Threads that count the same bytes at once into one table: every count
    is the number of threads times the Counter's (no update lost)."""
    text = _text(2, 4000)
    data = text.encode("utf-8")
    buf = _buffer(data)
    expected = _expected(text)
    table = _reader.Table(0, True, n_parts)
    n_threads, repeats = 4, 3
    errors = []

    def work():
        try:
            for _ in range(repeats):
                state = _reader.new_state()
                assert table.count(buf, len(data), True, state, True) == 0
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    times = n_threads * repeats
    assert _entries(table) == {w: c * times for w, c in expected.items()}
    assert table.total == times * sum(expected.values())


@pytest.mark.parametrize("n_jobs", [1, 2, 4])
def test_cap_bound_per_part(tmp_path, n_jobs):
    rng = np.random.default_rng(3)
    ids = rng.zipf(1.3, 60_000) % 5000
    text = "\n".join(" ".join(f"w{i}" for i in ids[k:k + 20]) for k in range(0, len(ids), 20))
    path = tmp_path / "z.txt"
    path.write_text(text)
    expected = collections.Counter(f"w{i}" for i in ids)
    max_types = 400
    counts = lc.count_tokens(LineCorpus(path, max_types=max_types), n_jobs=n_jobs,
                             range_bytes=20_000)
    table = counts.table
    n_types, totals, errors = table.part_stats()
    got = _entries(table)
    assert table.n_prunes > 0 and counts.error == errors.max() > 0
    assert (n_types <= max_types // n_jobs).all() and len(got) <= max_types
    # each part's tokens: those of the words it holds (every word lives in one part)
    part_tokens = np.zeros(n_jobs, dtype=np.int64)
    for word, true in expected.items():
        part_tokens[table.part_of(word.encode())] += true
    np.testing.assert_array_equal(totals, part_tokens)
    assert (errors <= 2 * part_tokens * n_jobs / max_types).all()
    for word, true in expected.items():
        error = errors[table.part_of(word.encode())]
        assert true - error <= got.get(word, 0) <= true, (word, true, got.get(word), error)
        if true > error:
            assert word in got
    assert counts.n_tokens == len(ids)


def _bad_token(part, n_parts, tag):
    """An invalid UTF-8 token that falls into ``part``."""
    table = _reader.Table(0, True, n_parts)
    for i in range(1000):
        token = b"\xff" + tag + str(i).encode()
        if table.part_of(token) == part:
            return token
    raise AssertionError("no token found")  # pragma: no cover


@pytest.mark.parametrize("block_bytes", [None, 4096])
def test_first_invalid_token_named(tmp_path, block_bytes):
    """With a part per thread, tokens wait for their part: the error must
    still name the first invalid token of the file, not the first one added."""
    n_parts = 2
    later = _bad_token(0, n_parts, b"later")    # in the part added first
    first = _bad_token(1, n_parts, b"first")
    lines = [b"ok fine words"] * 5 + [b"a " + first + b" b"] + [b"more words"] * 3
    lines += [later + b" c"] + [b"tail"] * 3
    path = tmp_path / "bad.txt"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(ValueError, match=r"line 6: invalid UTF-8 in the token b'\\xfffirst"):
        lc.count_tokens(LineCorpus(path), n_jobs=1, n_parts=n_parts, block_bytes=block_bytes)


def test_table_in_parts_api():
    table = _reader.Table(0, True, 3)
    keys = [b"a", b"bb", b"ccc", b"a-much-longer-key", "é".encode()]
    table.add(keys, counts=[1, 2, 3, 4, 5])
    table.add([b"a"], counts=[10])
    assert table.n_types == 5 and table.total == 25
    assert table.get(b"a") == (11, 0) and table.get(b"zz") is None
    counts, invalid = table.counts()
    listed = dict(zip(table.keys(np.arange(table.n_types)), counts.tolist()))
    assert listed == {b"a": 11, b"bb": 2, b"ccc": 3, b"a-much-longer-key": 4, "é".encode(): 5}
    assert not invalid.any()
    assert table.part_stats()[0].sum() == 5
    with pytest.raises(IndexError):
        table.keys([5])
    with pytest.raises(ValueError, match="needs a table of one part"):
        table.encode(_buffer(b"a"), 1, True, _reader.new_state(), np.empty(1, np.int32),
                     np.empty(2, np.int64), np.zeros((1, 2), np.int64))
    with pytest.raises(ValueError, match="n_parts must be >= 1"):
        _reader.Table(0, True, 0)
    # the cap is split among the parts
    capped = _reader.Table(100, True, 4)
    assert capped.max_types == 100
    capped.set_max_types(40)
    assert capped.max_types == 40


def test_add_and_count_from_threads_at_once():
    """``add`` (the Python-tokenizer path) takes every part's lock: threads
    adding while others count lose nothing."""
    data = b"x y z x\n" * 5000
    buf = _buffer(data)
    table = _reader.Table(0, True, 2)

    def count():
        state = _reader.new_state()
        table.count(buf, len(data), True, state, True)

    def add():
        for _ in range(200):
            table.add([b"x", b"q"], counts=[1, 2])

    threads = [threading.Thread(target=f) for f in (count, add, count, add)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _entries(table) == {"x": 2 * 10000 + 400, "y": 10000, "z": 10000, "q": 800}
