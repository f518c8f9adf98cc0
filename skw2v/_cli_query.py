"""Command-line pieces for the queries: ``skw2v query MODEL`` (interactive
neighbours and analogies, fastText's ``nn`` / ``analogies``) and the
``--vectors input|output|both`` choice of ``skw2v export``.

Kept apart from ``__main__`` so the command-line module only registers them.
"""

import copy
import sys

QUERY_HELP = ("one query a line: WORD for its neighbours; A B C for the analogy "
              "A : B :: C : ? (closest to B - A + C); an empty line or end of input stops")


def add_query_parser(sub, positive_int):
    """Register ``query`` on the subcommand parser ``sub``."""
    p = sub.add_parser("query", help="answer neighbour and analogy queries from standard input",
                       description="Load MODEL once, then read standard input line by line: "
                       + QUERY_HELP + ". Answers are 'word<TAB>cosine' lines followed by an "
                       "empty line; an unknown word prints an error on standard error and "
                       "the next line is read.")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("-n", "--topn", type=positive_int, default=10, help="how many (default: 10)")
    p.add_argument("--restrict-vocab", type=positive_int, default=None,
                   help="search only the N most frequent words (default: all)")
    p.set_defaults(run=cmd_query)
    return p


def cmd_query(args, stdin=None, stdout=None, stderr=None):
    from ._estimator import load

    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    model = load(args.model)
    interactive = hasattr(stdin, "isatty") and stdin.isatty()
    if interactive:
        print(f"{len(model.vocabulary_):,} words; {QUERY_HELP}", file=stderr)
    while True:
        if interactive:
            print("query> ", end="", file=stderr, flush=True)
        line = stdin.readline()
        words = line.split()
        if not words:
            return
        try:
            if len(words) == 1:
                answer = model.most_similar(words[0], topn=args.topn,
                                            restrict_vocab=args.restrict_vocab)
            elif len(words) == 3:
                answer = model.analogy(*words, topn=args.topn,
                                       restrict_vocab=args.restrict_vocab)
            else:
                raise ValueError(f"expected 1 word (neighbours) or 3 words (analogy), got "
                                 f"{len(words)}: {line.strip()!r}")
        except (KeyError, ValueError) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            print(f"skw2v: error: {message}", file=stderr, flush=True)
            continue
        for word, score in answer:
            print(f"{word}\t{score:.4f}", file=stdout)
        print(file=stdout, flush=True)


def add_vectors_option(export_parser):
    """Add ``--vectors {input,output,both}`` to the ``export`` parser."""
    export_parser.add_argument(
        "--vectors", choices=("input", "output", "both"), default="input",
        help="input (word) vectors, output (context) vectors, or both: each row the input "
             "vector followed by the output vector, 2 x vector_size numbers (default: input)")
    export_parser.set_defaults(run=cmd_export_vectors)


def cmd_export_vectors(args):
    import numpy as np

    from ._estimator import load
    from .word2vec_format import export_word2vec

    model = load(args.model)
    chosen = getattr(args, "vectors", "input")
    if chosen != "input":
        # a shallow copy whose vectors_ are the matrix to write; the model is untouched
        view = copy.copy(model)
        view.vectors_ = (model.output_vectors_ if chosen == "output"
                         else np.hstack([model.vectors_, model.output_vectors_]))
        model = view
    export_word2vec(model, args.output, binary=args.format == "binary")
    kind = "" if chosen == "input" else f" ({chosen} vectors)"
    print(f"wrote {len(model.vocabulary_):,} vectors of size {model.vectors_.shape[1]} "
          f"to {args.output} ({args.format}){kind}")
