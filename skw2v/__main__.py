"""Command line: ``skw2v COMMAND ...`` (also ``python -m skw2v COMMAND ...``).

Every MODEL argument is a file in skw2v's safe format (``Word2VecNS.save``):
it is written atomically and never runs code when read; pickles are refused.
User errors (a missing file, an unknown word, a bad option or parameter
value) print one line ``skw2v: error: ...`` and exit with status 1
(2 for a bad command line); they never print a traceback.
"""

import argparse
import gzip
import io
import os
import sys

from ._version import __version__

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


class CommandError(Exception):
    """A user error: printed as one line, exit status 1."""


# ------------------------------------------------------------------ helpers
def _load(path):
    from ._estimator import load

    return load(path)


def _lookup(model, word):
    """The vocabulary word for ``word``, lowercased if the model lowercases."""
    if word in model.vocabulary_:
        return word
    if model.lowercase and word.lower() in model.vocabulary_:
        return word.lower()
    raise CommandError(f"word {word!r} is not in the model's vocabulary "
                       f"({len(model.vocabulary_):,} words)")


def _open_corpus(path):
    """An iterator over the non-blank lines of a text file (.gz ok) or of stdin (``-``)."""
    if path == "-":
        stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")
    else:
        if os.path.isdir(path):
            raise CommandError(f"corpus {path!r} is a folder, not a text file")
        raw = open(path, "rb")  # noqa: SIM115 - closed by the line iterator
        if raw.read(2) == b"\x1f\x8b":
            raw.seek(0)
            raw = gzip.GzipFile(fileobj=raw, mode="rb")
        else:
            raw.seek(0)
        stream = io.TextIOWrapper(raw, encoding="utf-8")

    def lines():
        with stream:
            for line in _decoded(stream, path):
                if line.strip():
                    yield line

    return lines()


def _decoded(stream, path):
    try:
        yield from stream
    except UnicodeDecodeError as exc:
        raise CommandError(f"corpus {path!r} is not UTF-8 text ({exc.reason} at byte "
                           f"{exc.start} of a block)") from None
    except (OSError, EOFError) as exc:  # e.g. a damaged .gz
        raise CommandError(f"cannot read corpus {path!r}: {exc}") from None


def _print_pairs(pairs):
    for word, score in pairs:
        print(f"{word}\t{score:.4f}")


# ------------------------------------------------------------------ commands
def cmd_demo(args):
    from ._demo import run_demo

    run_demo(epochs=args.epochs, n_jobs=args.n_jobs, out_dir=args.out_dir,
             plots=not args.no_plots)


# Estimator parameters offered by `train`: (name, type or choices, help).
TRAIN_OPTIONS = (
    ("vector_size", int, "dimension of the word vectors"),
    ("window", int, "maximum distance between centre and context word"),
    ("sample_size", int, "negative words per positive example"),
    ("power", float, "exponent of the unigram noise distribution"),
    ("min_count", int, "drop words seen fewer times"),
    ("max_vocab_size", int, "keep at most this many words"),
    ("subsample", float, "frequent-word subsampling threshold (0 disables)"),
    ("epochs", int, "passes over the corpus"),
    ("learning_rate", float, "initial learning rate"),
    ("min_learning_rate", float, "final learning rate"),
    ("architecture", ("skipgram", "cbow"), "skip-gram or CBOW"),
    ("loss", ("negative_sampling", "nce"), "negative sampling or noise-contrastive estimation"),
    ("noise", ("unigram", "log_uniform"), "noise distribution"),
    ("token_pattern", str, r"regex of a token (e.g. '\S+' keeps whitespace-separated tokens)"),
    ("pooling", ("mean", "tfidf", "sif"), "how transform pools word vectors"),
    ("n_jobs", int, "training threads (default: all cores)"),
    ("random_state", int, "seed (with --n-jobs 1: bitwise reproducible)"),
)


def _train_params(args):
    params = {name: getattr(args, name) for name, _, _ in TRAIN_OPTIONS
              if getattr(args, name) is not None}
    if args.no_shrink_windows:
        params["shrink_windows"] = False
    if args.no_lowercase:
        params["lowercase"] = False
    params["verbose"] = 0 if args.quiet else 1
    return params


def cmd_train(args):
    from ._estimator import Word2VecNS

    model = Word2VecNS(**_train_params(args))
    model._validate_params()  # report a bad option before reading the corpus
    model._more_validate_params()
    out_dir = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(out_dir):
        raise CommandError(f"cannot write {args.output!r}: folder {out_dir!r} does not exist")
    model.fit(_open_corpus(args.corpus))
    words = int(model.token_counts_.sum())
    print(f"vocabulary: {len(model.vocabulary_):,} words, {words:,} tokens kept; "
          f"{model.n_threads_} thread(s)")
    for epoch, loss in enumerate(model.loss_history_, 1):
        print(f"epoch {epoch:3d}  loss {loss:.4f}")
    speed = model.epochs * words / model.train_seconds_ if model.train_seconds_ else 0.0
    print(f"training: {model.train_seconds_:.1f} s, {speed:,.0f} words/s")
    model.save(args.output)
    print(f"saved {args.output}")


def cmd_similar(args):
    if args.topn < 1:
        raise CommandError(f"-n must be a positive integer, got {args.topn}")
    model = _load(args.model)
    _print_pairs(model.most_similar(_lookup(model, args.word), topn=args.topn))


def analogy(model, a, b, c, topn=5):
    """3CosAdd: the words closest to b - a + c (unit vectors), leaving out a, b and c."""
    import numpy as np

    rows = [model.vocabulary_[w] for w in (a, b, c)]
    unit = model.vectors_[rows] / (np.linalg.norm(model.vectors_[rows], axis=1,
                                                  keepdims=True) + 1e-30)
    query = unit[1] - unit[0] + unit[2]
    found = model.most_similar(query, topn=topn + 3)
    return [(w, s) for w, s in found if w not in (a, b, c)][:topn]


def cmd_analogy(args):
    if args.topn < 1:
        raise CommandError(f"-n must be a positive integer, got {args.topn}")
    model = _load(args.model)
    words = [_lookup(model, w) for w in (args.a, args.b, args.c)]
    _print_pairs(analogy(model, *words, topn=args.topn))


def _number(x):
    """A float from a float, a (statistic, p-value) pair or a SciPy result."""
    if hasattr(x, "statistic"):
        return float(x.statistic)
    if isinstance(x, tuple):
        return float(x[0])
    return float(x)


def cmd_evaluate(args):
    if args.pairs is None and args.analogies is None:
        raise CommandError("nothing to evaluate: give --pairs FILE and/or --analogies FILE")
    for path in (args.pairs, args.analogies):
        if path is not None and not os.path.isfile(path):
            raise CommandError(f"no such file: {path!r}")
    model = _load(args.model)
    try:
        from . import evaluation
    except ImportError:
        raise CommandError("the evaluation helpers (skw2v.evaluation) are not available "
                           "in this installation") from None
    if args.pairs is not None:
        pearson, spearman, oov = evaluation.evaluate_word_pairs(model, args.pairs)
        print(f"word pairs {args.pairs}: pearson {_number(pearson):.4f}  "
              f"spearman {_number(spearman):.4f}  oov_ratio {float(oov):.4g}")
    if args.analogies is not None:
        accuracy = evaluation.evaluate_analogies(model, args.analogies,
                                                 restrict_vocab=args.restrict_vocab)
        print(f"analogies {args.analogies}: accuracy {_number(accuracy):.4f} "
              f"(restrict_vocab={args.restrict_vocab})")


def cmd_export(args):
    from .word2vec_format import export_word2vec

    model = _load(args.model)
    export_word2vec(model, args.output, binary=args.format == "binary")
    print(f"wrote {len(model.vocabulary_):,} vectors of size {model.vectors_.shape[1]} "
          f"to {args.output} ({args.format})")


def cmd_import(args):
    from .word2vec_format import import_word2vec

    binary = {"auto": None, "text": False, "binary": True}[args.format]
    model = import_word2vec(args.vectors, binary=binary, limit=args.limit)
    model.save(args.output)
    print(f"imported {len(model.vocabulary_):,} vectors of size {model.vectors_.shape[1]}; "
          f"saved {args.output}")


# ------------------------------------------------------------------ parser
class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line, instead of argparse's usage block followed by the error.
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def build_parser():
    from ._estimator import Word2VecNS

    defaults = Word2VecNS().get_params()
    parser = _Parser(
        prog="skw2v",
        description="Fast word2vec (skip-gram / CBOW with negative sampling) from the "
                    "command line. MODEL files are skw2v's safe format (never pickles).",
    )
    parser.add_argument("--version", action="version", version=f"skw2v {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)

    p = sub.add_parser("demo", help="train on the bundled corpus; show neighbours and pictures",
                       description="Train on U.S. presidential addresses (bundled, public "
                       "domain); print the loss per epoch, speed, neighbours and an analogy; "
                       "write a loss-curve and a word-map PNG when matplotlib is installed.")
    p.add_argument("--epochs", type=_positive_int, default=10, help="default: 10")
    p.add_argument("--n-jobs", type=int, default=None, help="training threads")
    p.add_argument("--out-dir", default=".", help="folder for the PNGs (default: current)")
    p.add_argument("--no-plots", action="store_true", help="write no pictures")
    p.set_defaults(run=cmd_demo)

    p = sub.add_parser("train", help="train a model on a text file",
                       description="Train on CORPUS, a UTF-8 text file with one sentence "
                       "(or document) per line, optionally gzip-compressed, or - for "
                       "standard input; save the model to MODEL (written atomically).")
    p.add_argument("corpus", metavar="CORPUS")
    p.add_argument("-o", "--output", metavar="MODEL", required=True, help="model file to write")
    for name, kind, text in TRAIN_OPTIONS:
        if isinstance(kind, tuple):
            spec = {"choices": kind, "metavar": "{" + ",".join(kind) + "}"}
        else:
            spec = {"type": kind, "metavar": kind.__name__.upper()}
        p.add_argument("--" + name.replace("_", "-"), default=None,
                       help=f"{text} (default: {defaults[name]})", **spec)
    p.add_argument("--no-shrink-windows", action="store_true",
                   help="always use the full window instead of a random radius")
    p.add_argument("--no-lowercase", action="store_true", help="keep letter case")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("similar", help="nearest neighbours of a word",
                       description="Print the N words closest to WORD by cosine, "
                       "one 'word<TAB>cosine' a line.")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("word", metavar="WORD")
    p.add_argument("-n", "--topn", type=int, default=10, help="how many (default: 10)")
    p.set_defaults(run=cmd_similar)

    p = sub.add_parser("analogy", help="A is to B as C is to ?",
                       description="Print the words closest to B - A + C (3CosAdd on unit "
                       "vectors, leaving out A, B and C), one 'word<TAB>cosine' a line.")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("a", metavar="A")
    p.add_argument("b", metavar="B")
    p.add_argument("c", metavar="C")
    p.add_argument("-n", "--topn", type=int, default=5, help="how many (default: 5)")
    p.set_defaults(run=cmd_analogy)

    p = sub.add_parser("evaluate", help="word-similarity and analogy scores",
                       description="Score MODEL on word pairs with human similarity "
                       "judgements (Pearson, Spearman, out-of-vocabulary ratio) and on "
                       "analogy questions (accuracy), with gensim's conventions.")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--pairs", metavar="FILE", help="e.g. wordsim353.tsv")
    p.add_argument("--analogies", metavar="FILE", help="e.g. questions-words.txt")
    p.add_argument("--restrict-vocab", type=_positive_int, default=30000,
                   help="analogies use the N most frequent words (default: 30000)")
    p.set_defaults(run=cmd_evaluate)

    p = sub.add_parser("export", help="write vectors in the word2vec C format",
                       description="Write MODEL's word vectors to OUT in the word2vec C "
                       "text or binary format (gensim's load_word2vec_format reads both); "
                       "OUT ending in .gz is compressed.")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("output", metavar="OUT")
    p.add_argument("--format", choices=("text", "binary"), default="text",
                   help="default: text")
    p.set_defaults(run=cmd_export)

    p = sub.add_parser("import", help="turn word2vec-format vectors into a model",
                       description="Read word2vec C-format vectors (text or binary, .gz ok; "
                       "from word2vec.c, gensim or fastText .vec) and save them as a MODEL "
                       "for similar/analogy/evaluate/export or warm starts. Counts and "
                       "output vectors are unknown in this format.")
    p.add_argument("vectors", metavar="VECTORS")
    p.add_argument("-o", "--output", metavar="MODEL", required=True, help="model file to write")
    p.add_argument("--format", choices=("auto", "text", "binary"), default="auto",
                   help="default: detect")
    p.add_argument("--limit", type=_positive_int, default=None,
                   help="read only the first N vectors")
    p.set_defaults(run=cmd_import)
    return parser


def _error_message(exc):
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {exc.filename!r}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def main(argv=None):
    """Run the command line; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version or a usage error (already printed)
        return exc.code
    try:
        args.run(args)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `skw2v similar ... | head -1`: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (CommandError, ValueError, KeyError, OSError, ImportError) as exc:
        sys.stdout.flush()
        print(f"skw2v: error: {_error_message(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("skw2v: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


if __name__ == "__main__":
    sys.exit(main())
