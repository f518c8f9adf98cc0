"""``import_fasttext``: a fastText ``.bin`` model as a fitted ``Word2VecNS`` (kept
apart from ``_fasttext_format``, which the fit path imports, since it needs the
estimator)."""

from ._fasttext_format import LOSS_NS, fasttext_word_vectors, read_fasttext_bin


def import_fasttext(path, **params):
    """A fitted ``Word2VecNS`` from a fastText ``.bin`` model: its whole-word vectors,
    and with subwords (``maxn > 0``) its own and n-gram rows, so unseen words get
    fastText's vectors (same n-grams, same hash). ``params`` override the
    parameters read from the file (``min_n``, ``max_n``, ``bucket``,
    ``vector_size``, ``window``, ``sample_size``, ``architecture``)."""
    from .word2vec_format import model_from_vectors

    model = read_fasttext_bin(path)
    args, words = model["args"], model["words"]
    n = len(words)
    subwords = args["maxn"] > 0 and args["bucket"] > 0
    defaults = {"window": max(args["ws"], 1), "sample_size": max(args["neg"], 1),
                "architecture": "skipgram" if args["model"] == 2 else "cbow",
                "token_pattern": r"\S+"}
    if subwords:
        defaults.update(min_n=max(args["minn"], 1), max_n=args["maxn"], bucket=args["bucket"])
    estimator = model_from_vectors(words, fasttext_word_vectors(model), **{**defaults, **params})
    estimator.token_counts_ = model["counts"]
    if subwords:
        estimator.own_vectors_ = model["input"][:n].copy()
        estimator.ngram_vectors_ = model["input"][n:].copy()
    out = model["output"]
    if args["loss"] == LOSS_NS and out.shape == (n, args["dim"]):
        estimator.output_vectors_ = out.copy()
    return estimator
