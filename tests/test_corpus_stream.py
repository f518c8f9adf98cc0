"""Streaming input (files, paths) and block-wise remapping in bounded memory."""

import gzip
import pathlib

import numpy as np
import pytest

import skw2v
from skw2v import _corpus
from skw2v._corpus import encode_new, make_analyzer, remap
from skw2v._documents import LineCorpus
from skw2v._vocab import document_frequency


def _random_corpus(rng, n_docs=300, n_types=50):
    docs = []
    for _ in range(n_docs):
        n = int(rng.integers(0, 30))  # includes empty documents
        docs.append([f"w{int(t)}" for t in rng.integers(0, n_types, size=n)])
    return docs


@pytest.mark.parametrize("block_tokens", [1, 7, 64, 10**6])
def test_blockwise_remap_and_df_match_whole(monkeypatch, block_tokens):
    rng = np.random.default_rng(0)
    docs = _random_corpus(rng)
    raw = encode_new(docs, make_analyzer())
    lookup = np.where(rng.random(len(raw.types)) < 0.6,
                      np.arange(len(raw.types)), -1).astype(np.int32)
    # reference without blocks
    ids = lookup[raw.tokens]
    keep = ids >= 0
    per_doc = [int(keep[a:b].sum()) for a, b in zip(raw.offsets[:-1], raw.offsets[1:])]
    ref_offsets = np.concatenate([[0], np.cumsum(per_doc)])
    ref_tokens = ids[keep]

    monkeypatch.setattr(_corpus, "BLOCK_TOKENS", block_tokens)
    out = remap(encode_new(docs, make_analyzer()), lookup)
    np.testing.assert_array_equal(out.tokens, ref_tokens)
    np.testing.assert_array_equal(out.offsets, ref_offsets)

    n_vocab = int(lookup.max()) + 1
    ref_df = np.zeros(n_vocab, dtype=np.int64)
    for a, b in zip(ref_offsets[:-1], ref_offsets[1:]):
        for t in set(ref_tokens[a:b].tolist()):
            ref_df[t] += 1
    np.testing.assert_array_equal(document_frequency(out.tokens, out.offsets, n_vocab), ref_df)


@pytest.mark.parametrize("suffix", [".txt", ".txt.gz"])
def test_line_corpus_and_path_fit_like_lists(tmp_path, suffix):
    rng = np.random.default_rng(1)
    docs = [d for d in _random_corpus(rng, n_docs=200, n_types=30) if d]
    path = tmp_path / f"corpus{suffix}"
    text = "\n".join(" ".join(d) for d in docs) + "\n"
    if suffix.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    params = dict(vector_size=8, min_count=1, epochs=2, n_jobs=1, random_state=0)
    ref = skw2v.Word2VecNS(**params).fit(docs)
    for X in (pathlib.Path(path), LineCorpus(path)):
        est = skw2v.Word2VecNS(**params).fit(X)
        assert est.vocabulary_ == ref.vocabulary_
        np.testing.assert_array_equal(est.vectors_, ref.vectors_)
    # a LineCorpus can be read again (re-iterable)
    corpus = LineCorpus(path)
    assert list(corpus) == list(corpus) == docs
