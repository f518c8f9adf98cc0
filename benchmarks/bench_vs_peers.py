"""skw2v vs gensim (in memory and corpus_file), word2vec.c and fastText on one corpus file.

All implementations train on the same file with the same settings (d=100,
window 5, 5 negatives, min_count 5, subsample 1e-3), in turn (A B C D E A B
...), ``--repeats`` times; the table gives median words/sec (raw corpus
tokens x epochs / seconds) and skw2v's ratio to each, and to gensim's best
mode. word2vec.c (PyPI ``word2vec`` builds it) and fastText (``fasttext``,
minn=maxn=0, no subword buckets) are used when installed.

Timing: skw2v ``train_seconds_`` and gensim ``train()``; word2vec.c is the
wall time of its process given a ready vocabulary (``-read-vocab``, so its
counting pass is excluded); fastText is the wall time of
``train_unsupervised`` (its vocabulary pass included: it has no way to
separate it). Whole-fit columns include the vocabulary for everyone.

``--memory FILE ...`` instead fits skw2v on each file in a fresh subprocess
and reports its peak RSS.

    python benchmarks/make_zipf_corpus.py --tokens 5000000
    python benchmarks/bench_vs_peers.py --corpus benchmarks/_data/zipf_5M.txt --repeats 2
    python benchmarks/bench_vs_peers.py --memory benchmarks/_data/zipf_5M.txt \\
        benchmarks/_data/zipf_20M.txt
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as C
from _results import add_out_argument
from bench_vs_gensim import ARCHS, speed, speed_table


def available_impls():
    impls = ["skw2v", "gensim", "gensim-file"]
    missing = {}
    if C.word2vec_c_binary():
        impls.append("word2vec.c")
    else:
        missing["word2vec.c"] = "no word2vec binary (pip install word2vec builds it)"
    if C.has_module("fasttext"):
        impls.append("fasttext")
    else:
        missing["fasttext"] = "fasttext not installed (pip install fasttext)"
    return impls, missing


def run_speed(args):
    info = C.machine()
    C.print_machine(info)
    impls, missing = available_impls()
    if args.impls:
        impls = [i for i in args.impls if i in impls]
    for name, why in missing.items():
        print(f"skipping {name}: {why}")
    start = time.perf_counter()
    sentences = C.read_sentences(args.corpus)
    read_seconds = time.perf_counter() - start
    n = C.n_tokens(sentences)
    print(f"corpus {args.corpus}: {n:,} tokens, {len(sentences):,} sentences "
          f"(read into lists in {read_seconds:.1f} s, not counted)")
    with tempfile.TemporaryDirectory() as tmp:
        files = {"corpus": args.corpus,
                 "w2v_vocab": C.write_word2vec_vocab(sentences, Path(tmp) / "vocab.txt",
                                                     C.SETTINGS["min_count"])}
        records = speed(sentences, files, args.archs, args.threads, impls, args.repeats,
                        args.epochs)
        evaluations = []
        if args.evaluate:
            for arch in args.archs:
                for impl in impls:
                    run = C.train_impl(impl, sentences, files, ARCHS[arch], args.threads[-1],
                                       0, args.epochs)
                    if run is None:
                        continue
                    scores = C.evaluate(run)
                    evaluations.append({"arch": arch, "impl": impl, **scores})
                    print(f"  {arch:4s} {impl:12s}: WS353 {scores['ws353']:.3f} SimLex "
                          f"{scores['simlex']:.3f} analogy {scores['analogy']:.3f}", flush=True)
    if C.FASTTEXT_FAILURES:
        print(f"fastText aborted with 'Encountered NaN' {len(C.FASTTEXT_FAILURES)} time(s); "
              "those attempts were retried")
    table, summary = speed_table(records)
    print("\n## Speed vs peers\n\n" + table + "\n")
    for s in summary:
        if s["ratio_vs_best_gensim"] is not None:
            print(f"{s['arch']} threads={s['threads']}: skw2v / best gensim mode "
                  f"({s['best_gensim']}) = {s['ratio_vs_best_gensim']:.2f}")
    out = {"machine": info, "corpus": str(args.corpus), "n_tokens": n,
           "settings": {**C.SETTINGS, "epochs": args.epochs}, "skipped": missing,
           "fasttext_nan_failures": C.FASTTEXT_FAILURES,
           "speed_records": records, "speed_summary": summary, "speed_table": table,
           "evaluations": evaluations}
    if evaluations:
        rows = [[e["arch"], e["impl"], f"{e['ws353']:.3f}", f"{e['simlex']:.3f}",
                 f"{e['analogy']:.3f}"] for e in evaluations]
        out["evaluation_table"] = C.markdown_table(
            ["arch", "implementation", "WS353", "SimLex", "analogy"], rows)
        print(out["evaluation_table"])
    C.save_json(out, args.out, args.label)


# ---------------------------------------------------------------- memory
def memory_child(path, arch, threads, epochs):
    """Runs in a fresh interpreter: read the file into lists, fit, report RSS."""
    import skw2v  # noqa: F401  (its imports count in the baseline, not in the fit)

    rss_imports = C.peak_rss_mb()
    sentences = C.read_sentences(path)
    n = C.n_tokens(sentences)
    rss_read = C.peak_rss_mb()
    run = C.train_skw2v(sentences, ARCHS[arch], threads, 0, epochs)
    vocab, dim = run.vectors.shape
    print(json.dumps({"file": str(path), "n_tokens": n, "vocab": vocab, "dim": dim,
                      "peak_rss_after_imports_mb": rss_imports,
                      "peak_rss_after_reading_mb": rss_read, "peak_rss_mb": C.peak_rss_mb(),
                      "fit_seconds": run.fit_seconds}))


def run_memory(args):
    rows, records = [], []
    for path in args.memory:
        cmd = [sys.executable, __file__, "--memory-child", str(path), "--archs", args.archs[0],
               "--threads", str(args.threads[-1]), "--epochs", str(args.epochs)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        rec = json.loads(out.strip().splitlines()[-1])
        model_mb = 2 * rec["vocab"] * rec["dim"] * 4 / 2**20
        corpus_mb = 4 * rec["n_tokens"] / 2**20
        rec["model_arrays_mb"] = model_mb
        rec["bound_mb"] = 2 * (model_mb + corpus_mb) + 100
        rec["fit_increment_mb"] = rec["peak_rss_mb"] - rec["peak_rss_after_reading_mb"]
        records.append(rec)
        rows.append([Path(path).name, f"{rec['n_tokens']:,}", f"{rec['vocab']:,}",
                     f"{model_mb:.0f}", f"{rec['peak_rss_after_reading_mb']:.0f}",
                     f"{rec['peak_rss_mb']:.0f}", f"{rec['fit_increment_mb']:.0f}",
                     f"{rec['bound_mb']:.0f}"])
        print(f"  {rows[-1]}", flush=True)
    table = C.markdown_table(
        ["file", "tokens", "vocabulary", "model arrays MB", "peak RSS after reading lists MB",
         "peak RSS MB", "fit increment MB", "bound 2 x (model + 4 B/token) + 100 MB"], rows)
    print("\n## Peak RSS of skw2v fit (token lists in memory)\n\n" + table + "\n")
    C.save_json({"machine": C.machine(), "arch": args.archs[0], "threads": args.threads[-1],
                 "epochs": args.epochs, "records": records, "table": table}, args.out, args.label)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, help="text file, one sentence per line")
    p.add_argument("--archs", nargs="+", choices=list(ARCHS), default=list(ARCHS))
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--impls", nargs="+", default=None,
                   help="subset of skw2v gensim gensim-file word2vec.c fasttext")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--epochs", type=int, default=C.SETTINGS["epochs"])
    p.add_argument("--evaluate", action="store_true",
                   help="also train once per implementation at the last thread count and "
                        "score WS353/SimLex/analogies (meaningful on natural text)")
    p.add_argument("--memory", nargs="+", type=Path, metavar="FILE",
                   help="peak RSS of skw2v fitting each file (first --archs, last --threads)")
    p.add_argument("--memory-child", type=Path, help=argparse.SUPPRESS)
    add_out_argument(p)
    args = p.parse_args(argv)
    if args.memory_child:
        return memory_child(args.memory_child, args.archs[0], args.threads[-1], args.epochs)
    if args.memory:
        for path in args.memory:
            if not path.is_file():
                p.error(f"--memory file {path} does not exist (make_zipf_corpus.py writes it)")
        args.label = "memory"
        return run_memory(args)
    if args.corpus is None or not args.corpus.is_file():
        p.error(f"--corpus must be an existing file, got {args.corpus} "
                "(python benchmarks/make_zipf_corpus.py writes one)")
    args.label = args.corpus.stem
    return run_speed(args)


if __name__ == "__main__":
    main()
