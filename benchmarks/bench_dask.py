"""skw2v.dask.fit vs Word2VecNS.fit on PTB + Brown: quality, throughput, communication.

    python benchmarks/bench_dask.py [--epochs 5] [--merges scaled weighted mean sum] [--seed 0]
        [--workers 1 2] [--syncs 1 4] [--no-single] [--whole-files] [--out PATH]

Skip-gram, d=100, window 5, 5 negatives, min_count 5, subsample 1e-3, the
same epochs everywhere. Runs, in one process, alternating nothing (each fit
is long enough): the single-machine fit (n_jobs = all usable cores), then
skw2v.dask.fit on a LocalCluster with 1 worker (all cores) and with 2 worker
processes (one core each), for each merge rule. The dask fits read the two
text files themselves (a list of paths: the workers open them), the
single-machine fit the same lines split on whitespace, so the corpora are
identical.

Printed per run: WordSim-353 and SimLex-999 Spearman, analogy accuracy
(benchmarks/_common.evaluate), throughput (raw corpus tokens x epochs /
training wall seconds, communication included for dask), and for dask per
epoch: bytes broadcast (model x workers), bytes gathered (changed rows,
deltas and weights), the slowest worker's kernel seconds and the rest of the
epoch's wall time (scatter, transfers, row diffing, merge): their ratio is
the communication/computation ratio. Results go to --out, by default
benchmarks/results/bench_dask/<short commit>.json.
"""

import argparse
import statistics
import time

from _common import (
    DATA,
    Run,
    evaluate,
    machine,
    markdown_table,
    n_tokens,
    print_machine,
    ptb_brown,
    save_json,
)
from _results import add_out_argument

SETTINGS = dict(vector_size=100, window=5, sample_size=5, min_count=5, subsample=1e-3,
                architecture="skipgram")


def single_fit(sentences, epochs, seed, cores):
    from skw2v import Word2VecNS

    model = Word2VecNS(epochs=epochs, random_state=seed, n_jobs=cores, **SETTINGS)
    start = time.perf_counter()
    model.fit(sentences)
    wall = time.perf_counter() - start
    return model, wall, None


def dask_fit(paths, epochs, seed, n_workers, merge, syncs=1, whole_files=False):
    import dask.bag as db
    from distributed import Client, LocalCluster

    import skw2v.dask
    from skw2v import Word2VecNS

    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster) as client:
        model = Word2VecNS(epochs=epochs, random_state=seed, **SETTINGS)
        start = time.perf_counter()
        # whole_files: one partition per file (PTB on one worker, Brown on the other),
        # the case of a corpus stored by source across a cluster
        docs = (db.read_text([str(p) for p in paths], blocksize=None).map(str.split)
                if whole_files else [str(p) for p in paths])
        model, stats = skw2v.dask.fit(model, docs, client, merge=merge,
                                      syncs_per_epoch=syncs, return_stats=True)
        wall = time.perf_counter() - start
    return model, wall, stats


def summarise(name, model, wall, stats, raw_tokens, epochs):
    run = Run(name, model.train_seconds_, wall, model.vectors_, model.index_to_token_)
    q = evaluate(run)
    row = {"run": name, "ws353": q["ws353"], "simlex": q["simlex"], "analogy": q["analogy"],
           "train_seconds": model.train_seconds_, "fit_seconds": wall,
           "words_per_second": raw_tokens * epochs / model.train_seconds_,
           "n_threads": int(model.n_threads_), "final_loss": float(model.loss_history_[-1]),
           "vocab": len(model.index_to_token_)}
    if stats is not None:
        ep = stats["epochs"]
        compute = [e["kernel_seconds"] for e in ep]
        other = [e["wall_seconds"] - c for e, c in zip(ep, compute)]
        row.update(
            scatter_mb=statistics.fmean(e["scatter_bytes"] for e in ep) / 1e6,
            gather_mb=statistics.fmean(e["gather_bytes"] for e in ep) / 1e6,
            compute_s=statistics.fmean(compute), other_s=statistics.fmean(other),
            merge_s=statistics.fmean(e["merge_seconds"] for e in ep),
            comm_ratio=sum(other) / sum(compute),
            setup_s=stats["setup_seconds"], n_partitions=stats["n_partitions"],
            tokens_per_worker=list(stats["tokens_per_worker"].values()),
        )
    print(f"{name}: WS353 {row['ws353']:.3f} SimLex {row['simlex']:.3f} analogy "
          f"{row['analogy']:.3f}, {row['words_per_second']:,.0f} words/s "
          f"(train {row['train_seconds']:.1f} s, fit {wall:.1f} s)"
          + (f", per epoch {row['scatter_mb']:.1f} MB out + {row['gather_mb']:.1f} MB back, "
             f"compute {row['compute_s']:.2f} s, other {row['other_s']:.2f} s, "
             f"ratio {row['comm_ratio']:.3f}" if stats is not None else ""), flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--merges", nargs="+", default=["scaled", "weighted", "mean", "sum"])
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--syncs", nargs="+", type=int, default=[1],
                        help="syncs_per_epoch values tried with several workers")
    parser.add_argument("--no-single", action="store_true")
    parser.add_argument("--whole-files", action="store_true",
                        help="one partition per file instead of blocks of both files")
    add_out_argument(parser)
    args = parser.parse_args()

    info = machine()
    print_machine(info)
    cores = info["usable_cpus"]
    sentences = ptb_brown()
    raw = n_tokens(sentences)
    paths = [DATA / "ptb.train.txt", DATA / "brown.txt"]
    print(f"PTB + Brown: {len(sentences):,} sentences, {raw:,} tokens; {args.epochs} epochs; "
          f"{cores} usable cores", flush=True)

    rows = []
    if not args.no_single:
        rows.append(summarise(f"single machine ({cores} threads)",
                              *single_fit(sentences, args.epochs, args.seed, cores), raw,
                              args.epochs))
    for n_workers in args.workers:
        # One worker has nothing to merge: the rule and the syncs do not matter there.
        configs = ([(args.merges[0], 1)] if n_workers == 1 else
                   [(m, k) for k in args.syncs for m in args.merges])
        for merge, syncs in configs:
            name = (f"dask {n_workers} worker{'s' * (n_workers > 1)}, merge={merge}"
                    + (f", syncs={syncs}" if syncs > 1 else "")
                    + (", one file per worker" if args.whole_files else ""))
            rows.append(summarise(name, *dask_fit(paths, args.epochs, args.seed, n_workers,
                                                  merge, syncs, args.whole_files),
                                  raw, args.epochs))

    print()
    print(markdown_table(
        ["run", "WS353", "SimLex", "analogy", "words/s", "train s"],
        [[r["run"], f"{r['ws353']:.3f}", f"{r['simlex']:.3f}", f"{r['analogy']:.3f}",
          f"{r['words_per_second']:,.0f}", f"{r['train_seconds']:.1f}"] for r in rows]))
    print()
    print(markdown_table(
        ["run", "partitions", "MB out / epoch", "MB back / epoch", "kernel s / epoch",
         "other s / epoch", "merge s / epoch", "other / kernel"],
        [[r["run"], r["n_partitions"], f"{r['scatter_mb']:.1f}", f"{r['gather_mb']:.1f}",
          f"{r['compute_s']:.2f}", f"{r['other_s']:.2f}", f"{r['merge_s']:.3f}",
          f"{r['comm_ratio']:.3f}"] for r in rows if "comm_ratio" in r]))
    save_json({"machine": info, "epochs": args.epochs, "seed": args.seed, "raw_tokens": raw,
               "rows": rows}, args.out)


if __name__ == "__main__":
    main()
