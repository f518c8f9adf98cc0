"""Command line: ``skw2v demo`` (also ``python -m skw2v demo``)."""

import argparse
import sys


def build_parser():
    parser = argparse.ArgumentParser(prog="skw2v", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="train on the bundled corpus and show neighbours")
    demo.add_argument("--epochs", type=int, default=10)
    demo.add_argument("--n-jobs", type=int, default=None)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from ._demo import run_demo

        run_demo(epochs=args.epochs, n_jobs=args.n_jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
