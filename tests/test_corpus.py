"""Corpus encoding (flat ids + offsets), remapping and the chunk layout."""

from itertools import pairwise

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from skw2v._corpus import (
    chunk_layout,
    encode_known,
    encode_new,
    make_analyzer,
    remap,
)
from skw2v._documents import check_X


def decode(corpus, types):
    return [
        [types[i] for i in corpus.tokens[a:b]]
        for a, b in pairwise(corpus.offsets)
    ]


def test_encode_round_trip(tiny_corpus):
    analyze = make_analyzer()
    raw = encode_new(tiny_corpus, analyze)
    assert raw.tokens.dtype == np.int32 and raw.offsets.dtype == np.int64
    assert raw.n_documents == len(tiny_corpus)
    assert decode(raw, raw.types) == [list(analyze(d)) for d in tiny_corpus]
    # Provisional ids follow first appearance, one per distinct token.
    assert raw.types[:4] == ["the", "cat", "sat", "on"]
    assert len(set(raw.types)) == len(raw.types)
    assert raw.tokens.max() == len(raw.types) - 1


def test_offsets_and_empty_documents():
    docs = ["", "a b", [], "c", "", ""]
    raw = encode_new(docs, make_analyzer())
    assert_array_equal(raw.offsets, [0, 0, 2, 2, 3, 3, 3])
    assert len(raw.tokens) == 3


def test_all_empty_corpus():
    raw = encode_new(["", []], make_analyzer())
    assert raw.tokens.dtype == np.int32 and len(raw.tokens) == 0
    assert_array_equal(raw.offsets, [0, 0, 0])


def test_generator_is_read_once():
    raw = encode_new((d for d in ["x y", "y z"]), make_analyzer())
    assert decode(raw, raw.types) == [["x", "y"], ["y", "z"]]


def test_analyzer_lowercases_strings_only():
    analyze = make_analyzer()
    assert analyze("The CAT, sat!") == ["the", "cat", "sat"]
    assert analyze(["The", "CAT"]) == ["The", "CAT"]
    assert make_analyzer(lowercase=False)("The CAT") == ["The", "CAT"]
    assert make_analyzer(tokenizer=str.split)("a,b c") == ["a,b", "c"]


@pytest.mark.parametrize("doc,exc", [(None, ValueError), (3.5, TypeError), ({"a": 1}, TypeError)])
def test_bad_documents_rejected(doc, exc):
    with pytest.raises(exc):
        encode_new(["ok", doc], make_analyzer())


def test_non_string_tokens_rejected():
    with pytest.raises(TypeError, match="tokens must be strings"):
        encode_new([["a", 3]], make_analyzer())


@pytest.mark.parametrize("X,exc", [(None, ValueError), ("one string", ValueError),
                                   ({"a": 1}, TypeError), (5, TypeError),
                                   (np.array([["a"]]), ValueError)])
def test_check_documents_rejects_non_corpora(X, exc):
    with pytest.raises(exc, match="X"):
        check_X(X)


def test_encode_known_drops_oov():
    vocab = {"cat": 0, "dog": 1, "the": 2}
    enc = encode_known(["the cat", "a bird", ["dog", "cat", "emu"], ""], make_analyzer(), vocab)
    assert_array_equal(enc.tokens, [2, 0, 1, 0])
    assert_array_equal(enc.offsets, [0, 2, 2, 4, 4])


@pytest.mark.parametrize("seed", range(4))
def test_remap_drops_ids_and_keeps_documents(seed):
    rs = np.random.default_rng(seed)
    docs = [[f"w{rs.integers(12)}" for _ in range(rs.integers(0, 9))] for _ in range(30)]
    raw = encode_new(docs, make_analyzer())
    n_types = len(raw.types)
    keep = rs.random(n_types) < 0.5
    lookup = np.full(n_types, -1, dtype=np.int32)
    lookup[keep] = rs.permutation(keep.sum()).astype(np.int32)
    new = remap(raw, lookup)
    assert new.tokens.dtype == np.int32 and new.offsets.dtype == np.int64
    new_types = [None] * int(keep.sum())
    for old, row in enumerate(lookup):
        if row >= 0:
            new_types[row] = raw.types[old]
    expected = [[t for t in d if keep[raw.types.index(t)]] for d in docs]
    assert decode(new, new_types) == expected
    assert new.n_documents == len(docs)


def test_remap_empty_corpus():
    raw = encode_new(["", ""], make_analyzer())
    new = remap(raw, np.zeros(0, dtype=np.int32))
    assert len(new.tokens) == 0
    assert_array_equal(new.offsets, [0, 0, 0])


def sentence_of(offsets, position):
    """The sentence whose positions include ``position`` (brute force)."""
    hits = [s for s in range(len(offsets) - 1) if offsets[s] <= position < offsets[s + 1]]
    assert len(hits) == 1
    return hits[0]


LAYOUT_CASES = [
    [0, 5],
    [0, 3, 3, 3, 7, 7, 12],
    [0, 0, 0, 4, 4, 9, 9],
    [0, 1, 2, 3, 4],
    [0, 10, 10],
]


@pytest.mark.parametrize("offsets", LAYOUT_CASES)
@pytest.mark.parametrize("chunk_tokens", [1, 2, 3, 4, 5, 100])
def test_chunk_layout_covers_each_position_once(offsets, chunk_tokens):
    offsets = np.asarray(offsets, dtype=np.int64)
    n = int(offsets[-1])
    bounds, first = chunk_layout(offsets, n, chunk_tokens)
    assert bounds.dtype == np.int64 and first.dtype == np.int64
    assert bounds[0] == 0 and bounds[-1] == n
    assert len(first) == len(bounds) - 1
    sizes = np.diff(bounds)
    assert np.all(sizes >= 1) and np.all(sizes <= chunk_tokens)
    covered = np.concatenate([np.arange(a, b) for a, b in pairwise(bounds)])
    assert_array_equal(covered, np.arange(n))
    for c, start in enumerate(bounds[:-1]):
        assert first[c] == sentence_of(offsets, start)


def test_chunk_layout_random_corpora():
    rs = np.random.default_rng(1)
    for _ in range(50):
        lengths = rs.integers(0, 6, size=rs.integers(1, 15))
        lengths[rs.integers(len(lengths))] += 1  # at least one token
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        n = int(offsets[-1])
        bounds, first = chunk_layout(offsets, n, int(rs.integers(1, 8)))
        assert_array_equal(np.diff(bounds).sum(), n)
        assert all(first[c] == sentence_of(offsets, b) for c, b in enumerate(bounds[:-1]))


def test_chunk_layout_empty_corpus():
    bounds, first = chunk_layout(np.array([0, 0], dtype=np.int64), 0, 10)
    assert_array_equal(bounds, [0, 0])
    assert_array_equal(first, [0])


@pytest.mark.parametrize("bad", [0, -1, 2.5, None])
def test_chunk_layout_rejects_bad_chunk_size(bad):
    with pytest.raises(ValueError, match="chunk_tokens"):
        chunk_layout(np.array([0, 3], dtype=np.int64), 3, bad)
