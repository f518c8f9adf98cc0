"""Reading fastText's binary model files (``.bin``, format version 12).

Layout (little-endian; from fastText's published format, as documented by the
readers that load it):

* int32 magic 793712314, int32 version 12;
* the arguments: int32 dim, ws, epoch, minCount, neg, wordNgrams, loss, model,
  bucket, minn, maxn, lrUpdateRate, then float64 t;
* the dictionary: int32 size, nwords, nlabels, int64 ntokens, pruneidx_size;
  ``size`` entries of (NUL-terminated UTF-8 word, int64 count, int8 type:
  0 word, 1 label); ``pruneidx_size`` pairs of int32 (pruned models only);
* uint8 quantised input flag, then the input matrix: int64 rows, int64 cols,
  float32 data (rows = nwords + bucket: the words' own rows, then the n-gram
  buckets, the layout of skw2v's subword input matrix);
* uint8 quantised output flag, then the output matrix likewise.

A ``.vec`` file is word2vec text and is read by ``_word2vec_format``.
"""

import struct

import numpy as np

FASTTEXT_MAGIC = 793712314
FASTTEXT_VERSION = 12
_ARG_NAMES = ("dim", "ws", "epoch", "min_count", "neg", "word_ngrams", "loss", "model",
              "bucket", "minn", "maxn", "lr_update_rate")
LOSS_NS = 2  # fastText's loss enum: 1 hs, 2 ns, 3 softmax, 4 ova
EOS = "</s>"  # fastText's end-of-sentence token: no n-grams


def is_fasttext_bin(path):
    """Whether ``path`` starts with the fastText binary magic number."""
    with open(path, "rb") as f:
        head = f.read(4)
    return len(head) == 4 and struct.unpack("<i", head)[0] == FASTTEXT_MAGIC


def _fail(path, why):
    raise ValueError(f"{str(path)!r} is not a readable fastText .bin model: {why}")


class _Reader:
    def __init__(self, f, path):
        self.f, self.path = f, path

    def take(self, fmt):
        size = struct.calcsize(fmt)
        data = self.f.read(size)
        if len(data) != size:
            _fail(self.path, "the file is truncated")
        return struct.unpack(fmt, data)

    def word(self, limit=1 << 16):
        out = bytearray()
        while True:
            c = self.f.read(1)
            if not c:
                _fail(self.path, "the file is truncated inside the dictionary")
            if c == b"\0":
                return out.decode("utf-8", "surrogateescape")
            out += c
            if len(out) > limit:
                _fail(self.path, "a dictionary word is not terminated")

    def matrix(self, what):
        (quantised,) = self.take("<B")
        if quantised:
            _fail(self.path, f"its {what} matrix is quantised (.ftz); only plain models load")
        rows, cols = self.take("<qq")
        if rows < 0 or cols < 1:
            _fail(self.path, f"its {what} matrix has shape ({rows}, {cols})")
        data = np.fromfile(self.f, dtype="<f4", count=rows * cols)
        if data.size != rows * cols:
            _fail(self.path, f"its {what} matrix is truncated")
        return data.reshape(rows, cols).astype(np.float32, copy=False)


def read_fasttext_bin(path):
    """A fastText ``.bin`` model as a dict: ``args`` (dim, minn, maxn, bucket,
    loss, model, ...), ``words`` and ``counts`` (the nwords words), ``input``
    (float32 (nwords + bucket, dim)) and ``output`` (float32 (rows, dim))."""
    with open(path, "rb") as f:
        r = _Reader(f, path)
        magic, version = r.take("<ii")
        if magic != FASTTEXT_MAGIC:
            _fail(path, "it does not start with the fastText magic number")
        if version != FASTTEXT_VERSION:
            _fail(path, f"format version {version} (this reader knows {FASTTEXT_VERSION})")
        args = dict(zip(_ARG_NAMES, r.take("<12i")))
        (args["t"],) = r.take("<d")
        size, nwords, nlabels, _ntokens, prune = r.take("<iiiqq")
        if not (0 <= nwords <= size and 0 <= nlabels and prune >= -1):
            _fail(path, f"its dictionary header is inconsistent (size {size}, nwords {nwords})")
        words, counts = [], []
        for _ in range(size):
            word = r.word()
            count, kind = r.take("<qb")
            if kind == 0:
                words.append(word)
                counts.append(count)
        if len(words) != nwords:
            _fail(path, f"its dictionary holds {len(words)} words, the header says {nwords}")
        if prune > 0:
            r.take(f"<{2 * prune}i")
        inputs = r.matrix("input")
        outputs = r.matrix("output")
    if inputs.shape != (nwords + args["bucket"], args["dim"]) and prune <= 0:
        _fail(path, f"its input matrix has shape {inputs.shape}, expected "
                    f"({nwords + args['bucket']}, {args['dim']})")
    return {"args": args, "words": words, "counts": np.asarray(counts, dtype=np.int64),
            "input": inputs, "output": outputs}


def fasttext_word_vectors(model):
    """The whole-word vectors of a read ``.bin`` model (fastText's get_word_vector
    for each vocabulary word: the mean of its own row and its n-gram rows)."""
    from ._subwords import subword_table, word_vectors

    args, words = model["args"], model["words"]
    n_vocab = len(words)
    if args["maxn"] <= 0 or args["bucket"] <= 0:
        return model["input"][:n_vocab].copy()
    indptr, ids = subword_table(words, args["minn"], args["maxn"], args["bucket"])
    vectors = word_vectors(model["input"], indptr, ids)
    for i, w in enumerate(words):
        if w == EOS:
            vectors[i] = model["input"][i]
    return vectors


def fasttext_source(path):
    """``(words, input vectors, output vectors or None, None, subwords or None)``
    of a ``.bin`` file, as ``init_vectors`` reads sources; output rows only when
    they are word rows (negative sampling); ``subwords`` (own rows, n-gram rows,
    minn, maxn) when it has n-grams."""
    model = read_fasttext_bin(path)
    args, words = model["args"], model["words"]
    out = model["output"]
    outputs = out if args["loss"] == LOSS_NS and len(out) == len(words) else None
    vectors = fasttext_word_vectors(model)
    subwords = None
    if args["maxn"] > 0 and args["bucket"] > 0:
        subwords = (_own_rows(model, vectors), model["input"][len(words):],
                    max(args["minn"], 1), args["maxn"])
    return words, vectors, outputs, None, subwords


def _own_rows(model, vectors):
    """The own rows of a ``.bin``'s words as skw2v's layout needs them: fastText's,
    except for its end-of-sentence token, whose vector is its own row alone in
    fastText but the mean with its n-gram rows in skw2v (set so that the mean
    is fastText's vector)."""
    from ._subwords import ngram_buckets

    args, words = model["args"], model["words"]
    n_vocab = len(words)
    own = model["input"][:n_vocab]
    if EOS in words:
        i = words.index(EOS)
        rows = n_vocab + ngram_buckets(EOS, max(args["minn"], 1), args["maxn"], args["bucket"])
        own = own.copy()
        own[i] = ((len(rows) + 1) * vectors[i].astype(np.float64)
                  - model["input"][rows].astype(np.float64).sum(axis=0))
    return own
