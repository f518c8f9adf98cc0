"""Subword n-grams: extraction, hashing and bucketing against references written
from the definitions (Bojanowski et al. 2017; FNV-1a as fastText computes it)."""

import numpy as np
import pytest

from skw2v._subwords import (hash_strings, ngram_buckets, oov_vectors, subword_table,
                             word_ngrams, word_vectors)


def fnv1a_reference(text):
    """32-bit FNV-1a over the UTF-8 bytes, each byte read as a signed char
    (sign-extended to 32 bits) as fastText does."""
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        signed = byte - 256 if byte >= 128 else byte
        h ^= signed & 0xFFFFFFFF
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def test_ngrams_of_a_word():
    assert word_ngrams("where", 3, 3) == ["<wh", "whe", "her", "ere", "re>"]
    assert word_ngrams("ab", 3, 6) == ["<ab", "<ab>", "ab>"]
    # n counts characters, not bytes; a lone boundary symbol is never an n-gram
    assert word_ngrams("é", 1, 2) == ["<é", "é", "é>"]
    assert word_ngrams("naïve", 3, 3) == ["<na", "naï", "aïv", "ïve", "ve>"]
    assert word_ngrams("a", 4, 6) == []


@pytest.mark.parametrize("text", ["", "a", "<wh", "where>", "naïve", "日本語", "<é>", "🙂x"])
def test_fnv1a_matches_the_definition(text):
    assert int(hash_strings([text])[0]) == fnv1a_reference(text)


def test_fnv1a_known_values():
    # FNV-1a test vectors (ASCII: the signed-char reading changes nothing)
    assert int(hash_strings([""])[0]) == 0x811C9DC5
    assert int(hash_strings(["a"])[0]) == 0xE40C292C
    assert int(hash_strings(["foobar"])[0]) == 0xBF9CF968
    # the bucket of "Adr" with fastText's default 2M buckets, as published
    assert int(ngram_buckets("Adr", 3, 3, 2_000_000)[0]) != 848830  # "<Ad" is not "Adr"
    assert int(hash_strings(["Adr"])[0]) % 2_000_000 == 848830
    # a multi-byte byte is sign-extended: differs from textbook FNV-1a
    textbook = 0x811C9DC5
    for byte in "é".encode():
        textbook = ((textbook ^ byte) * 0x01000193) & 0xFFFFFFFF
    assert int(hash_strings(["é"])[0]) != textbook


def test_table_layout_and_buckets():
    words = ["walked", "walks", "a", "naïve"]
    indptr, ids = subword_table(words, 3, 5, 97)
    assert indptr.dtype == np.int64 and ids.dtype == np.int32
    for i, w in enumerate(words):
        rows = ids[indptr[i]:indptr[i + 1]]
        assert rows[0] == i
        grams = word_ngrams(w, 3, 5)
        assert len(rows) == 1 + len(grams)
        expected = [len(words) + fnv1a_reference(g) % 97 for g in grams]
        assert rows[1:].tolist() == expected
        assert ((rows[1:] >= len(words)) & (rows[1:] < len(words) + 97)).all()


def test_word_and_oov_vectors_are_means():
    rng = np.random.default_rng(0)
    words = ["walked", "walks"]
    indptr, ids = subword_table(words, 3, 4, 11)
    matrix = rng.standard_normal((2 + 11, 5)).astype(np.float32)
    vec = word_vectors(matrix, indptr, ids)
    for i in range(2):
        np.testing.assert_allclose(vec[i], matrix[ids[indptr[i]:indptr[i + 1]]].mean(0),
                                   rtol=1e-6)
    out, found = oov_vectors(["walking", "x"], matrix[2:], 3, 4)
    assert found.tolist() == [True, True]
    rows = [fnv1a_reference(g) % 11 for g in word_ngrams("walking", 3, 4)]
    np.testing.assert_allclose(out[0], matrix[2:][rows].mean(0), rtol=1e-6)
    out, found = oov_vectors(["x"], matrix[2:], 4, 4)  # "<x>" has 3 characters
    assert found.tolist() == [False] and out.shape == (0, 5)
