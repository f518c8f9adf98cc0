"""Batched most_similar against a loop of gensim's most_similar, side by side.

10,000 one-word queries (top 10 neighbours) over a 200,000-word vocabulary
of random d=100 vectors: skw2v answers them with
``most_similar(queries=words)`` (one matrix product per block of queries
plus the compiled per-row top-k of skw2v/_topk.pyx); gensim 4.4 with one ``KeyedVectors.most_similar`` call
per word. The two sides alternate in rounds of 1,000 queries, so both
see the same load on a shared machine. The first 200 answers of both are
checked equal. The
target of issue 18 is a ratio of at least 10.

    python benchmarks/bench_queries.py                       # the full comparison
    python benchmarks/bench_queries.py --gensim-queries 1000 # time gensim on 1,000, scale up
    python benchmarks/bench_queries.py --out benchmarks/results/bench_queries/<commit>.json
"""

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)

from _common import machine, print_machine  # noqa: E402
from _results import add_out_argument, write_json  # noqa: E402

from skw2v import _topk  # noqa: E402
from skw2v.word2vec_format import model_from_vectors  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vocab", type=int, default=200_000)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--queries", type=int, default=10_000)
    ap.add_argument("--topn", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=10,
                    help="alternate the two sides in this many rounds")
    ap.add_argument("--gensim-queries", type=int, default=None,
                    help="time gensim on this many of the queries and scale its time up "
                         "(default: all of them)")
    add_out_argument(ap)
    args = ap.parse_args()
    info = machine()
    print_machine(info)
    print(f"top-k kernel: {_topk.__file__}")
    from gensim.models import KeyedVectors

    rs = np.random.default_rng(0)
    vectors = rs.standard_normal((args.vocab, args.dim)).astype(np.float32)
    words = [f"w{i}" for i in range(args.vocab)]
    queries = [words[i] for i in rs.integers(0, args.vocab, size=args.queries)]
    model = model_from_vectors(words, vectors)
    kv = KeyedVectors(args.dim)
    kv.add_vectors(words, vectors)
    kv.fill_norms()
    model._unit_vectors()  # both sides start with their norms computed

    load_before = os.getloadavg()[0]
    # Interleaved rounds, so both sides see the same load on a shared machine.
    n_gensim = min(args.gensim_queries or args.queries, args.queries)
    rounds = max(1, min(args.rounds, n_gensim))
    pairs, n_timed, ours_s, gensim_s = [], 0, 0.0, 0.0
    for r in range(rounds):
        mine = queries[r * args.queries // rounds:(r + 1) * args.queries // rounds]
        t = time.perf_counter()
        ours = model.most_similar(queries=mine, topn=args.topn)
        ours_s += time.perf_counter() - t
        t = time.perf_counter()
        theirs = [kv.most_similar(q, topn=args.topn) for q in mine[:n_gensim // rounds]]
        gensim_s += time.perf_counter() - t
        n_timed += len(theirs)
        pairs += list(zip(ours, theirs))
    gensim_s *= args.queries / n_timed
    n_gensim = n_timed

    for a, b in pairs[:200]:
        assert [w for w, _ in a] == [w for w, _ in b], (a, b)
        assert np.allclose([s for _, s in a], [s for _, s in b], atol=1e-5)

    print(f"{args.queries:,} most_similar queries (top {args.topn}), vocabulary "
          f"{args.vocab:,}, d={args.dim}, {os.cpu_count()} CPU(s), "
          f"BLAS threads {os.environ.get('OPENBLAS_NUM_THREADS', 'default')}, "
          f"load average before/after {load_before:.1f}/{os.getloadavg()[0]:.1f}")
    print(f"  skw2v most_similar(queries=...)  {ours_s:8.2f} s  "
          f"({args.queries / ours_s:,.0f} queries/s)")
    scaled = "" if n_gensim == args.queries else f" (timed on {n_gensim:,}, scaled)"
    print(f"  gensim most_similar loop         {gensim_s:8.2f} s  "
          f"({args.queries / gensim_s:,.0f} queries/s){scaled}")
    print(f"  ratio {gensim_s / ours_s:.1f}x (target >= 10x); first 200 answers identical")
    write_json({"benchmark": "bench_queries", "args": {k: v for k, v in vars(args).items()
                                                        if k != "out"},
                "machine": info, "topk_kernel": _topk.__file__,
                "load_average_before": load_before, "load_average_after": os.getloadavg()[0],
                "skw2v_s": ours_s, "gensim_s": gensim_s, "gensim_queries_timed": n_gensim,
                "ratio": gensim_s / ours_s, "answers_checked_equal": min(200, len(pairs))},
               args.out)


if __name__ == "__main__":
    main()
