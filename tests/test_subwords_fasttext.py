"""fastText model files: a .bin written from the published layout reads back
(whole-word vectors, n-gram rows, init_vectors); with the fasttext package
installed, its own .bin files give its own word and unseen-word vectors."""

import struct

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skw2v import Word2VecNS
from skw2v._fasttext_format import is_fasttext_bin, read_fasttext_bin
from skw2v._fasttext_import import import_fasttext
from skw2v._subwords import hash_strings, word_ngrams


def write_bin(path, words, counts, inputs, outputs, *, minn=3, maxn=6, bucket=None,
              loss=2, model=2, labels=(), version=12):
    """A fastText .bin from its layout (args, dictionary, two plain matrices)."""
    dim = inputs.shape[1]
    bucket = inputs.shape[0] - len(words) if bucket is None else bucket
    with open(path, "wb") as f:
        f.write(struct.pack("<ii", 793712314, version))
        f.write(struct.pack("<12i", dim, 5, 5, 1, 5, 1, loss, model, bucket, minn, maxn, 100))
        f.write(struct.pack("<d", 1e-4))
        entries = [(w, c, 0) for w, c in zip(words, counts)] + [(lab, 1, 1) for lab in labels]
        f.write(struct.pack("<iiiqq", len(entries), len(words), len(labels), sum(counts), -1))
        for w, c, kind in entries:
            f.write(w.encode() + b"\0" + struct.pack("<qb", c, kind))
        for m in (inputs, outputs):
            f.write(struct.pack("<Bqq", 0, *m.shape))
            f.write(np.ascontiguousarray(m, dtype="<f4").tobytes())


WORDS = ["walked", "walks", "naïve", "</s>"]


def _synthetic(tmp_path, **kw):
    rng = np.random.default_rng(0)
    bucket = 50
    inputs = rng.standard_normal((len(WORDS) + bucket, 6)).astype(np.float32)
    outputs = rng.standard_normal((len(WORDS), 6)).astype(np.float32)
    path = tmp_path / "m.bin"
    write_bin(path, WORDS, [9, 7, 3, 20], inputs, outputs, minn=3, maxn=5, **kw)
    return path, inputs, outputs


def test_read_synthetic_bin(tmp_path):
    path, inputs, outputs = _synthetic(tmp_path)
    assert is_fasttext_bin(path)
    model = read_fasttext_bin(path)
    assert model["words"] == WORDS and model["args"]["bucket"] == 50
    assert model["args"]["minn"] == 3 and model["args"]["maxn"] == 5 and model["args"]["dim"] == 6
    assert_array_equal(model["input"], inputs)
    est = import_fasttext(path)
    assert (est.min_n, est.max_n, est.bucket) == (3, 5, 50)
    rows = [0] + [4 + int(h) % 50 for h in hash_strings(word_ngrams("walked", 3, 5))]
    assert_allclose(est.get_vector("walked"), inputs[rows].astype(np.float64).mean(0), rtol=1e-5)
    assert_allclose(est.get_vector("</s>"), inputs[3])  # the EOS token has no n-grams
    unseen = [4 + int(h) % 50 for h in hash_strings(word_ngrams("walking", 3, 5))]
    assert_allclose(est.get_vector("walking"), inputs[unseen].astype(np.float64).mean(0),
                    rtol=1e-5)
    assert_array_equal(est.output_vectors_, outputs)
    assert_array_equal(est.token_counts_, [9, 7, 3, 20])


def test_bin_as_init_vectors(tmp_path):
    path, _, _ = _synthetic(tmp_path)
    est = import_fasttext(path)
    docs = ["walked walks naïve"] * 20
    warm = Word2VecNS(vector_size=6, min_count=1, epochs=0, n_jobs=1, init_vectors=str(path),
                      lowercase=False).fit(docs)
    for w in ("walked", "walks", "naïve"):
        assert_allclose(warm.get_vector(w), est.get_vector(w), rtol=1e-6)


@pytest.mark.parametrize(("change", "match"), [
    ({"version": 11}, "format version 11"),
    ({"bucket": 49}, "input matrix has shape"),
])
def test_bad_bin_files(tmp_path, change, match):
    path, _, _ = _synthetic(tmp_path, **change)
    with pytest.raises(ValueError, match=match):
        read_fasttext_bin(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError):
        read_fasttext_bin(path)


def test_the_fasttext_package_agrees(tmp_path):
    fasttext = pytest.importorskip("fasttext")
    corpus = tmp_path / "c.txt"
    rng = np.random.default_rng(0)
    vocab = ["walked", "walks", "walker", "talked", "talks", "naïve", "café", "日本語", "über"]
    corpus.write_text("\n".join(" ".join(rng.choice(vocab, 8)) for _ in range(300)),
                      encoding="utf-8")
    # fastText 0.9.3 from PyPI aborts some runs with "Encountered NaN" (it takes no seed)
    for lr, threads in [(0.01, 1), (0.05, 2), (0.02, 1), (0.01, 2), (0.05, 1)] * 2:
        try:
            ft = fasttext.train_unsupervised(str(corpus), model="skipgram", dim=8, minn=2,
                                             maxn=5, bucket=1000, epoch=1, minCount=1, lr=lr,
                                             thread=threads, verbose=0)
        except RuntimeError as exc:
            if "NaN" not in str(exc):
                raise
            continue
        # ... and others diverge without the message (rows ~1e18, where float32
        # sums in another order differ by more than the tolerance): retried too
        if np.abs(ft.get_input_matrix()).max() < 1e3:
            break
    else:
        pytest.skip("fastText diverged (NaN or rows beyond 1e3) on every attempt")
    ft.save_model(str(tmp_path / "ft.bin"))
    est = import_fasttext(tmp_path / "ft.bin")
    for w in ft.words:
        assert_allclose(est.get_vector(w), ft.get_word_vector(w), rtol=1e-5, atol=1e-7)
    for w in ("walking", "naïveté", "日本", "überall", "xyz"):  # unseen, multi-byte n-grams
        assert_allclose(est.get_vector(w), ft.get_word_vector(w), rtol=1e-5, atol=1e-7)
