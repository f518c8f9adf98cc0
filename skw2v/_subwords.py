"""Character n-gram subwords, fastText's way (Bojanowski et al. 2017).

A word w is written ``"<" + w + ">"``; its subwords are the character n-grams
of that string for ``min_n <= n <= max_n`` (n counted in Unicode code points,
as fastText counts UTF-8 characters), a lone ``"<"`` or ``">"`` excepted. An
n-gram is hashed with 32-bit FNV-1a over its UTF-8 bytes and lands in row
``V + hash % bucket`` of the input matrix (V words, then ``bucket`` n-gram
rows: the layout of a fastText ``.bin`` input matrix, so its files load).

fastText hashes each byte as a C ``char``, signed on x86: a byte >= 0x80 is
sign-extended to 32 bits before the XOR (0xC3 -> 0xFFFFFFC3). We do the same
so that multi-byte words map to fastText's buckets.

The input representation of word i is the mean of the rows of its CSR table
entry ``ids[indptr[i]:indptr[i+1]]``: its own row i first, then its n-gram
rows (repeats kept, as fastText keeps them).
"""

import numpy as np

FNV_OFFSET = np.uint32(2166136261)
FNV_PRIME = np.uint32(16777619)


def enabled(params):
    """Whether a ``Word2VecNS`` with parameters ``params`` trains subwords."""
    return params.get("max_n", 0) > 0


def word_ngrams(word, min_n, max_n):
    """The n-grams of ``"<" + word + ">"`` in fastText's order (by start, then length)."""
    s = "<" + word + ">"
    out = []
    for i in range(len(s)):
        for n in range(min_n, max_n + 1):
            if i + n > len(s):
                break
            if n == 1 and (i == 0 or i + 1 == len(s)):
                continue  # "<" or ">" alone carries nothing
            out.append(s[i:i + n])
    return out


def hash_strings(strings):
    """FNV-1a 32-bit hash (signed-char bytes, see above) of each string: uint32 array."""
    encoded = [s.encode("utf-8", "surrogatepass") for s in strings]
    n = len(encoded)
    h = np.full(n, FNV_OFFSET, dtype=np.uint32)
    if n == 0:
        return h
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=n)
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    with np.errstate(over="ignore"):
        for t in range(int(lengths.max(initial=0))):
            active = np.flatnonzero(lengths > t)
            byte = data[starts[active] + t].astype(np.int8).astype(np.int32).view(np.uint32)
            h[active] = (h[active] ^ byte) * FNV_PRIME
    return h


def ngram_buckets(word, min_n, max_n, bucket):
    """Bucket ids (int64, in [0, bucket)) of the n-grams of ``word``."""
    return hash_strings(word_ngrams(word, min_n, max_n)).astype(np.int64) % bucket


def subword_table(words, min_n, max_n, bucket):
    """The CSR table of a vocabulary: ``(indptr int64 (V+1,), ids int32)``.

    Word i's input rows are ``ids[indptr[i]:indptr[i+1]]``: i itself, then
    ``V + b`` for the bucket b of each of its n-grams.
    """
    words = list(words)
    n_vocab = len(words)
    if n_vocab + bucket > np.iinfo(np.int32).max:
        raise ValueError(f"bucket={bucket} plus {n_vocab} words exceeds 2**31 - 1 input rows")
    grams = [word_ngrams(w, min_n, max_n) for w in words]
    counts = np.fromiter((1 + len(g) for g in grams), dtype=np.int64, count=n_vocab)
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    flat = [s for g in grams for s in g]
    hashed = (hash_strings(flat).astype(np.int64) % bucket + n_vocab).astype(np.int32)
    ids = np.empty(indptr[-1], dtype=np.int32)
    own = indptr[:-1]
    ids[own] = np.arange(n_vocab, dtype=np.int32)
    mask = np.ones(len(ids), dtype=bool)
    mask[own] = False
    ids[mask] = hashed
    return indptr, ids


def word_vectors(input_matrix, indptr, ids):
    """Whole-word vectors (float32 (V, d)): the mean of each word's rows (fastText's
    ``get_word_vector`` for a vocabulary word)."""
    n_vocab = len(indptr) - 1
    counts = np.diff(indptr)
    rows = np.repeat(np.arange(n_vocab), counts)
    out = np.zeros((n_vocab, input_matrix.shape[1]), dtype=np.float64)
    np.add.at(out, rows, input_matrix[ids].astype(np.float64))
    return (out / counts[:, None]).astype(np.float32)


def oov_vectors(words, ngram_vectors, min_n, max_n):
    """Vectors of words outside the vocabulary: the mean of their n-gram rows.

    Returns ``(vectors float32 (k, d), found bool (len(words),))``: a word with
    no n-gram (shorter than ``min_n - 2`` characters) has no vector.
    """
    bucket, dim = ngram_vectors.shape
    grams = [word_ngrams(w, min_n, max_n) for w in words]
    found = np.array([len(g) > 0 for g in grams], dtype=bool)
    out = np.zeros((int(found.sum()), dim), dtype=np.float32)
    for k, g in enumerate(g for g in grams if g):
        rows = hash_strings(g).astype(np.int64) % bucket
        out[k] = ngram_vectors[rows].astype(np.float64).mean(axis=0)
    return out, found


def split_input_matrix(input_matrix, n_vocab):
    """(own word rows, n-gram rows) of a (V + bucket, d) input matrix (views)."""
    return input_matrix[:n_vocab], input_matrix[n_vocab:]


def subword_attributes(w_in, table):
    """The fitted attributes of a subword input matrix ``w_in`` (V + bucket, d)."""
    indptr, ids = table
    own, ngrams = split_input_matrix(w_in, len(indptr) - 1)
    return {"vectors_": word_vectors(w_in, indptr, ids), "own_vectors_": own,
            "ngram_vectors_": ngrams}


def table_for(params, index_to_token):
    """The CSR table of a ``Word2VecNS``'s vocabulary, or None without subwords."""
    if not enabled(params):
        return None
    return subword_table(index_to_token, params["min_n"], params["max_n"], params["bucket"])


def check_continuation(params, fitted):
    """partial_fit must keep the subword layout of the fitted model."""
    ngrams = fitted.get("ngram_vectors_")
    if enabled(params) != (ngrams is not None) or (
            ngrams is not None and len(ngrams) != params["bucket"]):
        raise ValueError(
            f"max_n={params['max_n']!r}, bucket={params['bucket']!r} do not match the fitted "
            f"model ({'no subwords' if ngrams is None else f'{len(ngrams)} n-gram buckets'}); "
            "partial_fit cannot change the subwords, call fit to start over")


def has_subwords(estimator):
    """Whether a fitted estimator carries n-gram vectors."""
    return getattr(estimator, "ngram_vectors_", None) is not None


def oov_vector(estimator, token):
    """The n-gram vector of a token outside the vocabulary (lowercased as training
    tokens were when ``lowercase``), or None when it has no n-gram."""
    if getattr(estimator, "lowercase", False):
        token = token.lower()
    vectors, found = oov_vectors([token], estimator.ngram_vectors_, estimator.min_n,
                                 estimator.max_n)
    return vectors[0] if found[0] else None


def encode_with_ngrams(X, analyze, vocabulary, ngram_vectors, min_n, max_n):
    """Encode documents X keeping the unseen words that have n-grams.

    Returns ``(corpus, oov)``: an ``EncodedCorpus`` whose ids >= V index the
    rows of ``oov`` (float32 (k, d), the n-gram vectors of the unseen words,
    in order of first appearance). Words without an n-gram are dropped, as
    ``transform`` drops unknown words without subwords.
    """
    from array import array

    from ._corpus import EncodedCorpus, _a_document
    from ._documents import check_tokens, check_X, iter_documents

    n_vocab = len(vocabulary)
    unseen, ids, offsets = {}, array("i"), array("q", [0])
    for doc in iter_documents(check_X(X)):
        toks = check_tokens(analyze(doc), _a_document)
        for t in toks:
            row = vocabulary.get(t)
            if row is None:
                row = unseen.get(t)
                if row is None:
                    row = n_vocab + len(unseen) if word_ngrams(t, min_n, max_n) else -1
                    unseen[t] = row
            if row >= 0:
                ids.append(row)
        offsets.append(len(ids))
    words = [t for t, row in unseen.items() if row >= 0]
    vectors, _ = oov_vectors(words, ngram_vectors, min_n, max_n)
    tokens = np.frombuffer(ids, dtype=np.int32) if len(ids) else np.zeros(0, np.int32)
    return EncodedCorpus(tokens, np.frombuffer(offsets, dtype=np.int64).copy(), None), vectors


def pooling_tables(estimator, oov):
    """(vectors, token_counts, idf) extended by the rows of unseen words ``oov``:
    count 0 (SIF weight 1) and the largest idf of the vocabulary."""
    if oov is None or len(oov) == 0:
        return estimator.vectors_, estimator.token_counts_, estimator.idf_
    k = len(oov)
    return (np.concatenate([estimator.vectors_, oov]),
            np.concatenate([estimator.token_counts_, np.zeros(k, dtype=np.int64)]),
            np.concatenate([estimator.idf_, np.full(k, estimator.idf_.max())]))


def export_ngrams(model, path, *, binary=False):
    """Write the n-gram table of a fitted subword model in the word2vec format: one
    line per distinct n-gram of the vocabulary words (the n-gram, e.g. ``<wa``, and
    its bucket row). Returns the number of n-grams written."""
    from ._word2vec_format import write_word2vec

    if not has_subwords(model):
        raise ValueError("this model has no subwords (it was trained with max_n=0); "
                         "there is no n-gram table to export")
    grams = sorted({g for w in model.index_to_token_.tolist()
                    for g in word_ngrams(w, model.min_n, model.max_n)})
    rows = hash_strings(grams).astype(np.int64) % len(model.ngram_vectors_)
    write_word2vec(path, grams, model.ngram_vectors_[rows], binary=binary)
    return len(grams)


def match_init_vectors(w_in, table, words, pretrained):
    """Set the own row of each word of ``pretrained`` (a set) so that its mean with
    the word's n-gram rows, its whole-word vector, is the vector it was started
    from (``w_in[word]`` as ``init_vectors`` set it). In place."""
    indptr, ids = table
    for i, word in enumerate(words):
        if word not in pretrained:
            continue
        rows = ids[indptr[i] + 1:indptr[i + 1]]
        if len(rows):
            target = w_in[i].astype(np.float64)
            w_in[i] = (len(rows) + 1) * target - w_in[rows].astype(np.float64).sum(axis=0)
