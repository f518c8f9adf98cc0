"""Command line: ``skw2v COMMAND ...`` (also ``python -m skw2v COMMAND ...``).

Every MODEL argument is a file in skw2v's safe format (``Word2VecNS.save``):
it is written atomically and never runs code when read; pickles are refused.
User errors (a missing file, an unknown word, a bad option or parameter
value) print one line ``skw2v: error: ...`` and exit with status 1
(2 for a bad command line); they never print a traceback.
"""

import argparse
import gzip
import os
import re
import sys

from ._version import __version__

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


class CommandError(Exception):
    """A user error: printed as one line, exit status 1."""


# ------------------------------------------------------------------ helpers
QUOTE_LIMIT = 80  # characters of any user input an error message quotes
ZIP_MAGIC = b"PK\x03\x04"


def _quote(text, limit=QUOTE_LIMIT):
    """``repr(text)``, shortened to about ``limit`` characters."""
    text = os.fspath(text) if isinstance(text, os.PathLike) else text
    quoted = repr(text)
    if len(quoted) <= limit:
        return quoted
    return quoted[:limit - 4] + "..." + quoted[-1]


def _load(path):
    from ._estimator import load
    from ._persist import ModelFileError

    try:
        return load(path)
    except ModelFileError:
        kind = _file_kind(path)
        if kind == "word2vec":
            raise CommandError(
                f"{_quote(path)} holds word2vec-format vectors, not a skw2v model; "
                f"convert it first: skw2v import {_arg(path, 'VECTORS')} -o MODEL") from None
        if kind == "text":
            raise CommandError(
                f"{_quote(path)} is a text file, not a skw2v model; to train a model on "
                f"it: skw2v train {_arg(path, 'CORPUS')} -o MODEL") from None
        if kind == "pickle":
            raise CommandError(f"{_quote(path)} is not a skw2v model file: it is a pickle, "
                               "and pickles are never loaded (they can run code)") from None
        if kind != "model":
            raise CommandError(f"{_quote(path)} is not a skw2v model file (those are written "
                               "by skw2v train and skw2v import)") from None
        raise  # a damaged model file: the loader says what is wrong


def _arg(path, placeholder):
    """``path`` as a shell argument in a suggested command, or a placeholder if unwieldy."""
    text = os.fspath(path)
    ok = len(text) <= 40 and all(c.isalnum() or c in "._-/+" for c in text)
    return text if ok else placeholder


def _file_kind(path):
    """What a file holds, from its first bytes: "model" (a skw2v model), "pickle",
    "word2vec" (vectors, text or binary, .gz ok), "text" (no NUL byte; maybe not
    UTF-8), "binary" or None (unreadable)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
            if head[:2] == b"\x1f\x8b":
                f.seek(0)
                with gzip.GzipFile(fileobj=f) as gz:
                    head = gz.read(4096)
    except (OSError, EOFError):
        return None
    if head.startswith(ZIP_MAGIC):
        return "model"
    if head[:1] == b"\x80":
        return "pickle"
    first = head.split(b"\n", 1)[0].split()
    if len(first) == 2 and all(p.isdigit() for p in first) and b"\n" in head:
        return "word2vec"
    return "binary" if b"\x00" in head else "text"  # text, maybe not UTF-8


def _lookup(model, word):
    """The vocabulary word for ``word``, lowercased if the model lowercases."""
    if word in model.vocabulary_:
        return word
    if model.lowercase and word.lower() in model.vocabulary_:
        return word.lower()
    raise CommandError(f"word {_quote(word)} is not in the model's vocabulary "
                       f"({len(model.vocabulary_):,} words)")


class _CorpusLines:
    """The non-blank lines of a UTF-8 text file (.gz ok) or of stdin (``-``).

    Bytes are decoded a line at a time, so a decoding error names its line.
    Counts the lines with text (``n_text_lines``), so an empty corpus is told
    apart from one whose words were all dropped.
    """

    def __init__(self, path):
        self.path = path
        self.n_text_lines = 0
        if path == "-":
            self._raw = sys.stdin.buffer
            return
        if os.path.isdir(path):
            raise CommandError(f"the corpus {_quote(path)} is a folder, not a text file")
        if not os.path.exists(path):
            raise CommandError(f"the corpus file {_quote(path)} does not exist")
        kind = _file_kind(path)
        if kind in ("model", "pickle"):
            what = "a skw2v model" if kind == "model" else "a pickle"
            raise CommandError(f"the corpus file {_quote(path)} is {what}, not text; train "
                               "reads UTF-8 text, one sentence or document a line")
        raw = open(path, "rb")  # noqa: SIM115 - closed by __iter__
        if raw.read(2) == b"\x1f\x8b":
            raw.seek(0)
            raw = gzip.GzipFile(fileobj=raw, mode="rb")
        else:
            raw.seek(0)
        self._raw = raw

    def name(self):
        return "standard input" if self.path == "-" else f"the corpus file {_quote(self.path)}"

    def __iter__(self):
        number = 0
        try:
            with self._raw:
                for number, data in enumerate(self._raw, 1):
                    try:
                        text = data.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise CommandError(f"{self.name()} is not UTF-8 text: line {number}, "
                                           f"byte {exc.start + 1}: {exc.reason}") from None
                    # Universal newlines, as text mode reads them: a lone \r ends a line too.
                    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
                        if line.strip():
                            self.n_text_lines += 1
                            yield line
        except (OSError, EOFError) as exc:  # e.g. a damaged .gz
            where = f" after line {number}" if number else ""
            raise CommandError(f"cannot read {self.name()}{where}: "
                               f"{_error_message(exc)}") from None


def _check_utf8(path, what):
    """Name the first line of ``path`` that is not UTF-8."""
    with open(path, "rb") as f:
        for number, data in enumerate(f, 1):
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise CommandError(f"{what} {_quote(path)} is not UTF-8 text: line {number}, "
                                   f"byte {exc.start + 1}: {exc.reason}") from None


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
    ("subsample", float, "frequent-word subsampling threshold; 0 disables"),
    ("epochs", int, "passes over the corpus"),
    ("learning_rate", float, "initial learning rate"),
    ("min_learning_rate", float, "final learning rate"),
    ("architecture", ("skipgram", "cbow"), "skip-gram or CBOW"),
    ("loss", ("negative_sampling", "nce"), "negative sampling or noise-contrastive estimation"),
    ("noise", ("unigram", "log_uniform"), "noise distribution"),
    ("token_pattern", str, r"regex of a token, e.g. '\S+' for whitespace-separated tokens"),
    ("pooling", ("mean", "tfidf", "sif", "max", "mean_max"), "how transform pools word vectors"),
    ("sif_components", int, "common components removed by --pooling sif; 0 disables"),
    ("n_jobs", int, "training threads; -1 all cores, -2 all but one"),
    ("random_state", int, "seed; with --n-jobs 1 the result is bitwise reproducible"),
    ("min_n", int, "shortest character n-gram of the subwords"),
    ("max_n", int, "longest character n-gram of the subwords (fastText: 6); 0: no subwords"),
    ("bucket", int, "rows the subword n-grams are hashed into, each vector-size x 4 bytes"),
)
# How `--help` states a default that is None for the estimator.
DEFAULT_TEXT = {"max_vocab_size": "no limit", "n_jobs": "all cores",
                "random_state": "a new seed each run"}
_PARAMETER_ERROR = re.compile(r"The '(\w+)' parameter of \w+ must be (.*)\. Got (.*) instead\.")


def _flag(name):
    return "--" + name.replace("_", "-")


def _cli_words(message):
    """An estimator's error message in the command line's words: flags for parameters,
    "the corpus" for X."""
    match = _PARAMETER_ERROR.fullmatch(message.strip())
    if match:
        name, rule, got = match.groups()
        message = f"{_flag(name)} must be {rule.replace(' or None', '')}, got {got}"
    for name in sorted((n for n, _, _ in TRAIN_OPTIONS), key=len, reverse=True):
        message = re.sub(rf"(?<![-\w]){name}=", _flag(name) + " ", message)
        if "_" in name:  # an identifier, never an ordinary word of a message
            message = re.sub(rf"(?<![-\w]){name}\b", _flag(name), message)
    message = message.replace(" / tokenizer", "")  # the command line has no tokenizer
    return re.sub(r"\bX\b", "the corpus", message)


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
    try:  # report a bad option before reading the corpus
        model._validate_params()
        model._more_validate_params()
    except (ValueError, TypeError) as exc:
        raise CommandError(_cli_words(_error_message(exc))) from None
    out_dir = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(out_dir):
        raise CommandError(f"cannot write {_quote(args.output)}: its folder does not exist")
    if os.path.isdir(args.output):
        raise CommandError(f"cannot write {_quote(args.output)}: it is a folder")
    corpus = _CorpusLines(args.corpus)
    try:
        model.fit(corpus)
    except (ValueError, TypeError) as exc:
        if corpus.n_text_lines == 0:
            raise CommandError(f"{corpus.name()} has no text (no line with a word)") from None
        raise CommandError(_cli_words(_error_message(exc))) from None
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
    for flag, path in (("--pairs", args.pairs), ("--analogies", args.analogies)):
        if path is None:
            continue
        if not os.path.isfile(path):
            raise CommandError(f"no such file: {_quote(path)} ({flag})")
        kind = _file_kind(path)
        if kind in ("model", "pickle", "binary"):
            what = {"model": "a skw2v model", "pickle": "a pickle", "binary": "not text"}[kind]
            raise CommandError(f"{flag} {_quote(path)} is {what}; {flag} reads a UTF-8 text "
                               "file")
        _check_utf8(path, flag)
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


def cmd_export_with_subwords(args):
    from ._cli_query import cmd_export_vectors
    from ._subwords import export_ngrams

    if args.subwords is not None:  # checked before the vectors are written
        model = _load(args.model)
        if getattr(model, "ngram_vectors_", None) is None:
            raise CommandError(f"--subwords: {_quote(args.model)} has no subwords (it was "
                               "trained with max_n=0)")
    cmd_export_vectors(args)
    if args.subwords is not None:
        n = export_ngrams(model, args.subwords, binary=args.format == "binary")
        print(f"wrote {n:,} n-gram vectors to {args.subwords} ({args.format})")


def cmd_import(args):
    from .word2vec_format import import_word2vec

    kind = _file_kind(args.vectors) if os.path.isfile(args.vectors) else None
    if kind == "model":
        raise CommandError(f"{_quote(args.vectors)} is already a skw2v model: use it as it "
                           "is (similar, analogy, evaluate, export); import reads "
                           "word2vec-format vectors")
    if kind == "pickle":
        raise CommandError(f"{_quote(args.vectors)} is a pickle, not word2vec-format vectors "
                           "(skw2v never loads pickles: they can run code)")
    if kind == "text" and args.format != "binary":
        raise CommandError(
            f"{_quote(args.vectors)} is not word2vec-format vectors (first line: "
            f"'<words> <size>'); a text corpus? skw2v train "
            f"{_arg(args.vectors, 'CORPUS')} -o MODEL")
    binary = {"auto": None, "text": False, "binary": True}[args.format]
    try:
        model = import_word2vec(args.vectors, binary=binary, limit=args.limit)
    except ValueError as exc:
        raise CommandError(_error_message(exc).replace("'<n_words> <vector_size>'",
                                                       "'<words> <size>'")) from None
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
        raise argparse.ArgumentTypeError(f"expected an integer, got {_quote(text)}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _nonzero_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {_quote(text)}") from None
    if value == 0:
        raise argparse.ArgumentTypeError("expected a positive number of threads, or -1 for "
                                         "all cores, -2 for all but one, ...; got 0")
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
    p.add_argument("--n-jobs", type=_nonzero_int, default=None,
                   help="training threads; -1 all cores, -2 all but one (default: all cores; "
                   "1 prints the same every run)")
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
        if name == "n_jobs":
            spec["type"] = _nonzero_int
        default = DEFAULT_TEXT.get(name, defaults[name])
        p.add_argument("--" + name.replace("_", "-"), default=None,
                       help=f"{text} (default: {default})", **spec)
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

    from ._cli_query import add_query_parser, add_vectors_option

    add_vectors_option(sub.choices["export"])
    sub.choices["export"].add_argument(
        "--subwords", metavar="NGRAMS_OUT", default=None,
        help="also write the n-gram table of a subword model (max_n > 0) to NGRAMS_OUT, in "
             "the same format: each distinct n-gram of the vocabulary and its vector")
    sub.choices["export"].set_defaults(run=cmd_export_with_subwords)
    add_query_parser(sub, _positive_int)
    return parser


_QUOTED = re.compile(r"b?'(?:[^'\\]|\\.)*'" + r'|b?"(?:[^"\\]|\\.)*"')
MESSAGE_LIMIT = 200 - len("skw2v: error: ")


def _error_message(exc):
    """One line for the user: quoted input cut to about 80 characters, the whole line
    (with "skw2v: error: ") at most 200."""
    if isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    elif isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        text = f"{exc.strerror}: {_quote(exc.filename)}"
    else:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = _QUOTED.sub(lambda m: m.group(0) if len(m.group(0)) <= QUOTE_LIMIT
                       else m.group(0)[:QUOTE_LIMIT - 4] + "..." + m.group(0)[-1], text)
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT - 3] + "..."


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
