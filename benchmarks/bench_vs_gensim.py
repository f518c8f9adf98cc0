"""skw2v vs gensim on the same corpus and settings, alternating in one run.

Speed (default): skip-gram and CBOW at each thread count, skw2v / gensim in
memory / gensim from a corpus file, run in turn (A B C A B C ...) ``--repeats``
times; medians of words/sec (raw corpus tokens x epochs / training seconds;
whole-fit figures include building the vocabulary) and skw2v's ratios.

Quality (``--quality``): WS353 and SimLex-999 Spearman, analogy accuracy
(top 30k words) for skw2v and gensim at 2 threads over ``--seeds`` seeds each,
mean ± sd, plus the speeds of those runs.

    python benchmarks/bench_vs_gensim.py --repeats 3
    python benchmarks/bench_vs_gensim.py --quality --no-speed --seeds 3
"""

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import _common as C
from _results import add_out_argument

IMPLS = ("skw2v", "gensim", "gensim-file")
ARCHS = {"sg": True, "cbow": False}


def speed(sentences, files, archs, threads_list, impls, repeats, epochs):
    words = C.n_tokens(sentences) * epochs
    records = []
    for arch in archs:
        for threads in threads_list:
            for rep in range(repeats):
                for impl in impls:
                    run = C.train_impl(impl, sentences, files, ARCHS[arch], threads, rep, epochs)
                    if run is None:  # fastText's "Encountered NaN" on every attempt
                        print(f"  {arch:4s} threads={threads} {impl:12s} rep {rep}: failed")
                        continue
                    rec = {"arch": arch, "threads": threads, "impl": impl, "repeat": rep,
                           "train_seconds": run.train_seconds, "fit_seconds": run.fit_seconds,
                           "words_per_sec": words / run.train_seconds,
                           "fit_words_per_sec": words / run.fit_seconds}
                    records.append(rec)
                    print(f"  {arch:4s} threads={threads} {impl:12s} rep {rep}: "
                          f"{rec['words_per_sec']:>10,.0f} words/s training, "
                          f"{rec['fit_words_per_sec']:>10,.0f} whole fit", flush=True)
    return records


def speed_table(records):
    """Median words/s per (arch, threads, impl) and skw2v's ratios to each gensim mode."""
    rows, summary = [], []
    keys = sorted({(r["arch"], r["threads"]) for r in records}, key=lambda k: (k[0] != "sg", k[1]))
    for arch, threads in keys:
        sel = [r for r in records if r["arch"] == arch and r["threads"] == threads]
        med = {impl: C.median([r["words_per_sec"] for r in sel if r["impl"] == impl])
               for impl in dict.fromkeys(r["impl"] for r in sel)}
        fit = {impl: C.median([r["fit_words_per_sec"] for r in sel if r["impl"] == impl])
               for impl in med}
        gensim_modes = [i for i in med if i.startswith("gensim")]
        best = max(gensim_modes, key=med.get) if gensim_modes else None
        for impl, value in med.items():
            ratio = med["skw2v"] / value if "skw2v" in med else float("nan")
            fit_ratio = fit["skw2v"] / fit[impl] if "skw2v" in fit else float("nan")
            rows.append([arch, threads, impl, f"{value:,.0f}", f"{fit[impl]:,.0f}",
                         "" if impl == "skw2v" else f"{ratio:.2f}",
                         "" if impl == "skw2v" else f"{fit_ratio:.2f}",
                         sum(1 for r in sel if r["impl"] == impl)])
        summary.append({"arch": arch, "threads": threads, "median_words_per_sec": med,
                        "median_fit_words_per_sec": fit, "best_gensim": best,
                        "ratio_vs_best_gensim": (med["skw2v"] / med[best]
                                                 if best and "skw2v" in med else None)})
    header = ["arch", "threads", "implementation", "words/s (training)", "words/s (whole fit)",
              "skw2v / this (training)", "skw2v / this (whole fit)", "runs"]
    return C.markdown_table(header, rows), summary


def quality(sentences, archs, threads, seeds, epochs, impls=("skw2v", "gensim")):
    words = C.n_tokens(sentences) * epochs
    records = []
    for arch in archs:
        for seed in seeds:
            for impl in impls:
                run = C.train_impl(impl, sentences, {}, ARCHS[arch], threads, seed, epochs)
                start = time.perf_counter()
                scores = C.evaluate(run)
                eval_seconds = time.perf_counter() - start
                rec = {"arch": arch, "impl": impl, "seed": seed, "threads": threads,
                       "train_seconds": run.train_seconds, "fit_seconds": run.fit_seconds,
                       "words_per_sec": words / run.train_seconds,
                       "fit_words_per_sec": words / run.fit_seconds,
                       "vocab_size": len(run.tokens), "eval_seconds": eval_seconds, **scores}
                records.append(rec)
                print(f"  {arch:4s} seed {seed} {impl:14s}: WS353 {scores['ws353']:.3f}  "
                      f"SimLex {scores['simlex']:.3f}  analogy {scores['analogy']:.3f}  "
                      f"({rec['words_per_sec']:,.0f} words/s, eval {eval_seconds:.1f} s)",
                      flush=True)
    return records


def quality_table(records, ours="skw2v", ref="gensim"):
    """Mean ± sd of ``ours`` and ``ref`` and whether ours >= ref - 1 sd."""
    rows, verdicts = [], []
    for arch in dict.fromkeys(r["arch"] for r in records):
        by = {impl: [r for r in records if r["arch"] == arch and r["impl"] == impl]
              for impl in (ours, ref)}
        for metric in ("ws353", "simlex", "analogy"):
            x = [r[metric] for r in by[ours]]
            y = [r[metric] for r in by[ref]]
            m_ours, sd_ours = C.mean_sd(x)
            m_ref, sd_ref = C.mean_sd(y)
            # Welch standard error of the difference of means: how far apart
            # the means may drift from seed noise alone.
            se = (sd_ours ** 2 / max(len(x), 1) + sd_ref ** 2 / max(len(y), 1)) ** 0.5
            ok = _within_one_sd(x, y)
            verdicts.append({"arch": arch, "metric": metric, "skw2v_mean": m_ours,
                             "gensim_mean": m_ref, "gensim_sd": sd_ref, "within_1sd_or_better": ok})
            rows.append([arch, metric, C.fmt_mean_sd(x), C.fmt_mean_sd(y),
                         f"{m_ours - m_ref:+.3f} ± {se:.3f}", "yes" if ok else "**no**"])
        speeds = {impl: C.median([r["words_per_sec"] for r in by[impl]]) for impl in by}
        rows.append([arch, "words/s (median)", f"{speeds[ours]:,.0f}",
                     f"{speeds[ref]:,.0f}", f"x{speeds[ours] / speeds[ref]:.2f}", ""])
        rows.append([arch, "runs", len(by[ours]), len(by[ref]), "", ""])
    header = ["arch", "metric", f"{ours} mean ± sd", f"{ref} mean ± sd", "difference ± SE",
              f"{ours} ≥ {ref} − 1 sd"]
    return C.markdown_table(header, rows), verdicts


def _within_one_sd(x, y):
    """Issue 2's criterion: mean(x) >= mean(y) - sd(y)."""
    m_ref, sd_ref = C.mean_sd(y)
    return C.mean_sd(x)[0] >= m_ref - sd_ref


def criterion_pass_rates(records, ours="skw2v", ref="gensim", k=3, draws=20000):
    """How often issue 2's criterion (ours >= ref - 1 sd, k seeds each) holds
    for random k-seed subsets of the pooled runs, and for ref against itself.

    The self-comparison calibrates the criterion: it is the pass rate of an
    implementation that is, by construction, equal to the reference.
    """
    rng = random.Random(0)
    metrics = ("ws353", "simlex", "analogy")
    rows = []
    for arch in dict.fromkeys(r["arch"] for r in records):
        runs = {impl: [r for r in records if r["arch"] == arch and r["impl"] == impl]
                for impl in (ours, ref)}
        n = min(len(runs[ours]), len(runs[ref]))
        if n < 2 * k:
            continue
        for label, a_impl in ((f"{ours} vs {ref}", ours), (f"{ref} vs {ref}", ref)):
            passed = dict.fromkeys(metrics + ("all three",), 0)
            for _ in range(draws):
                # disjoint positions, so ref vs ref never compares a run with itself
                picks = rng.sample(range(n), 2 * k)
                a = [runs[a_impl][i] for i in picks[:k]]
                b = [runs[ref][i] for i in picks[k:]]
                ok = [_within_one_sd([r[m] for r in a], [r[m] for r in b]) for m in metrics]
                for m, good in zip(metrics, ok):
                    passed[m] += good
                passed["all three"] += all(ok)
            rows.append([arch, label] + [f"{passed[m] / draws:.2f}" for m in passed])
    header = ["arch", "comparison", *metrics, "all three"]
    return C.markdown_table(header, rows) if rows else ""


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, default=None,
                   help="text file, one sentence per line (default: PTB train + Brown)")
    p.add_argument("--archs", nargs="+", choices=list(ARCHS), default=list(ARCHS))
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--impls", nargs="+", choices=IMPLS, default=list(IMPLS))
    p.add_argument("--repeats", type=int, default=3, help="speed runs per implementation")
    p.add_argument("--epochs", type=int, default=C.SETTINGS["epochs"])
    p.add_argument("--quality", action="store_true", help="also run the quality comparison")
    p.add_argument("--no-speed", action="store_true", help="skip the speed comparison")
    p.add_argument("--seeds", type=int, default=3, help="seeds per implementation (quality)")
    p.add_argument("--first-seed", type=int, default=0, help="seeds are first-seed, first-seed+1, ...")
    p.add_argument("--quality-impls", nargs="+", default=["skw2v", "gensim"],
                   choices=["skw2v", "gensim", "gensim-w2vinit"],
                   help="experiment: gensim-w2vinit starts gensim from word2vec.c's initial "
                        "scale uniform(-0.5, 0.5) / d")
    p.add_argument("--merge", nargs="*", default=[], metavar="JSON",
                   help="quality JSON files whose runs join this table, relative to "
                        "benchmarks/results/ (e.g. bench_vs_gensim/<commit>-quality.json)")
    p.add_argument("--quality-threads", type=int, default=2)
    add_out_argument(p)
    args = p.parse_args(argv)

    info = C.machine()
    C.print_machine(info)
    if args.corpus is None:
        sentences = C.ptb_brown()
        corpus_name = "ptb.train.txt + brown.txt"
    else:
        sentences = C.read_sentences(args.corpus)
        corpus_name = str(args.corpus)
    print(f"corpus: {corpus_name}: {C.n_tokens(sentences):,} tokens, "
          f"{len(sentences):,} sentences; settings {C.SETTINGS} (epochs={args.epochs})")
    out = {"machine": info, "corpus": corpus_name, "n_tokens": C.n_tokens(sentences),
           "settings": {**C.SETTINGS, "epochs": args.epochs}, "args": vars(args)}
    out["args"]["corpus"] = str(args.corpus)

    if not args.no_speed:
        with tempfile.TemporaryDirectory() as tmp:
            corpus_file = C.write_sentences(sentences, Path(tmp) / "corpus.txt")
            records = speed(sentences, {"corpus": corpus_file}, args.archs, args.threads, args.impls,
                            args.repeats, args.epochs)
        table, summary = speed_table(records)
        print("\n## Speed\n\n" + table + "\n")
        out.update(speed_records=records, speed_summary=summary, speed_table=table)
    if args.quality:
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        records = quality(sentences, args.archs, args.quality_threads, seeds, args.epochs,
                          args.quality_impls)
        out["quality_records"] = records
        for name in args.merge:
            with open(C.RESULTS / name) as f:
                records = records + json.load(f)["quality_records"]
        table, verdicts = quality_table(records)
        print("\n## Quality\n\n" + table + "\n")
        rates = criterion_pass_rates(records)
        if rates:
            print("How often the criterion holds for 3 random seeds of each (from these runs):\n\n"
                  + rates + "\n")
            out["criterion_pass_rates"] = rates
        for variant in ("gensim-w2vinit",):
            if variant in args.quality_impls:
                print(quality_table(records, ours=variant)[0] + "\n")
        out.update(quality_verdicts=verdicts, quality_table=table, merged=args.merge)
    C.save_json(out, args.out)


if __name__ == "__main__":
    main()
