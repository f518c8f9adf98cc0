"""skw2v vs gensim, word2vec.c and pWord2Vec (and optionally fastText) on one corpus.

All implementations train on the same text (default: PTB train + Brown from
../shared/data) with the same settings (d=100, window 5, 5 negatives,
min_count 5, subsample 1e-3, 5 epochs), in turn (A B C D A B C D ...),
``--repeats`` times, skip-gram and CBOW at each ``--threads``; the table gives
median training words/s (raw corpus tokens x epochs / seconds) and skw2v's
ratio to each, then issue 15's targets, pass or fail: skip-gram >= 4x gensim
at 1 and at 2 threads and faster than pWord2Vec, CBOW >= 3x gensim (against
the fastest gensim mode run).

Peers: word2vec.c is the executable PyPI ``word2vec`` builds
(``pip install word2vec``; or $SKW2V_WORD2VEC_C); pWord2Vec (Intel,
Apache-2.0, skip-gram only) is built from ../shared/peers/pWord2Vec in a
temporary folder, its MKL sgemm mapped to the OpenBLAS SciPy ships, with the
C++ compiler found (skipped with a message if there is none); fastText
(``fasttext``, minn=maxn=0) only with ``--impls ... fasttext``.

Timing: skw2v ``train_seconds_`` and gensim ``train()``; word2vec.c and
pWord2Vec are the wall time of their process given a ready vocabulary
(``-read-vocab``; pWord2Vec's own figure, its training loop only, is printed
beside it); fastText is ``train_unsupervised`` (vocabulary pass included).

Every skw2v figure is printed with its code path (SIMD clone, n_threads_,
update mode, BLAS, build flags), and pWord2Vec's with its compiler, flags and
linked BLAS; the script stops if skw2v does not run the best SIMD clone the
CPU supports, unless ``--simd`` forces one. ``--skw2v-variants`` runs skw2v's
skip-gram update modes side by side (batch_window only where the estimator
has that parameter). ``--evaluate`` trains each once more and scores WS353,
SimLex-999 and analogies.

    python benchmarks/bench_vs_peers.py                          # PTB + Brown, 3 repeats
    python benchmarks/bench_vs_peers.py --skw2v-variants batch_window pairwise --evaluate
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
from bench_vs_gensim import (ARCHS, add_skw2v_arguments, describe_run, expand_impls, impls_for,
                             print_code_paths, speed, speed_table)

PEERS = ("skw2v", "gensim", "gensim-file", "word2vec.c", "pword2vec", "fasttext")
DEFAULT_IMPLS = ("skw2v", "gensim", "word2vec.c", "pword2vec")

# Issue 15's targets: (arch, peer, minimum ratio skw2v / peer)
TARGETS = (("sg", "gensim", 4.0), ("sg", "pword2vec", 1.0), ("cbow", "gensim", 3.0))


def available_impls(wanted, tmp):
    """The implementations of ``wanted`` that can run, their extra files, and why
    the others cannot."""
    impls, files, missing, peers = [], {}, {}, {}
    for impl in wanted:
        if impl == "word2vec.c":
            exe = C.word2vec_c_binary()
            if not exe:
                missing[impl] = ("no word2vec.c executable (pip install word2vec builds it; "
                                 "or set SKW2V_WORD2VEC_C)")
                continue
            peers[impl] = {"executable": exe, "package": _package_version("word2vec"),
                           "flags": "those of its builder (PyPI word2vec 0.11: -Ofast "
                                    "-march=native -funroll-loops; WORD2VEC_CFLAGS overrides)"}
        elif impl == "pword2vec":
            exe, info = C.build_pword2vec(Path(tmp) / "pWord2Vec")
            if exe is None:
                missing[impl] = info["skipped"]
                continue
            files["pword2vec"] = exe
            peers[impl] = info
        elif impl == "fasttext" and not C.has_module("fasttext"):
            missing[impl] = "fasttext not installed (pip install fasttext)"
            continue
        impls.append(impl)
    return impls, files, missing, peers


def _package_version(name):
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{name} {version(name)}"
    except PackageNotFoundError:
        return None


def print_peers(peers):
    for impl, info in peers.items():
        print(f"{impl} code path: " + "; ".join(f"{k}: {v}" for k, v in info.items() if v))


def check_targets(summary, records):
    """Issue 15's targets for skw2v's default settings: rows and pass/fail.

    pWord2Vec is judged by its own training-loop figure where it printed one
    (skw2v's figure excludes setup too), else by its process time.
    """
    rows, results = [], []
    for s in summary:
        med, ours = dict(s["median_words_per_sec"]), s["ours"]
        own = [r["self_reported_words_per_sec"] for r in records
               if r["impl"] == "pword2vec" and r["arch"] == s["arch"]
               and r["threads"] == s["threads"] and r.get("self_reported_words_per_sec")]
        if own:
            med["pword2vec"] = max(med.get("pword2vec", 0), C.median(own))
        for arch, peer, minimum in TARGETS:
            if s["arch"] != arch:
                continue
            if peer == "gensim":
                peer = s["best_gensim"]
            if peer is None or peer not in med or ours not in med:
                rows.append([arch, s["threads"], f"{ours} / {peer or 'gensim'} >= {minimum:g}",
                             "not measured", ""])
                continue
            ratio = med[ours] / med[peer]
            ok = ratio >= minimum if minimum != 1.0 else ratio > 1.0
            rel = ">=" if minimum != 1.0 else ">"
            results.append({"arch": arch, "threads": s["threads"], "ours": ours, "peer": peer,
                            "minimum": minimum, "ratio": ratio, "pass": ok})
            rows.append([arch, s["threads"], f"{ours} / {peer} {rel} {minimum:g}",
                         f"{ratio:.2f}", "pass" if ok else "**FAIL**"])
    table = C.markdown_table(["arch", "threads", "target", "measured", "verdict"], rows)
    return table, results


def run_speed(args):
    C.force_simd(args.simd)
    info = C.machine()
    C.print_machine(info)
    wanted = expand_impls(args.impls, args.skw2v_variants)
    if args.corpus is None:
        sentences = C.ptb_brown()
        corpus_name = "ptb.train.txt + brown.txt"
    else:
        start = time.perf_counter()
        sentences = C.read_sentences(args.corpus)
        corpus_name = str(args.corpus)
        print(f"(read into lists in {time.perf_counter() - start:.1f} s, not counted)")
    if args.max_sentences:
        sentences = sentences[:args.max_sentences]
        corpus_name += f" (first {args.max_sentences:,} sentences)"
    n = C.n_tokens(sentences)
    print(f"corpus {corpus_name}: {n:,} tokens, {len(sentences):,} sentences; settings "
          f"{C.SETTINGS} (epochs={args.epochs})")
    with tempfile.TemporaryDirectory() as tmp:
        impls, files, missing, peers = available_impls(wanted, tmp)
        for name, why in missing.items():
            print(f"skipping {name}: {why}")
        if "pword2vec" in impls and "sg" not in args.archs:
            print("pword2vec: skip-gram only, not run (no sg in --archs)")
        elif "pword2vec" in impls and "cbow" in args.archs:
            print("pword2vec: skip-gram only (HogBatch); CBOW rows leave it out")
        print_peers(peers)
        # Everyone reads the same text: the file given, or the lists written back out.
        files["corpus"] = (args.corpus if args.corpus is not None and not args.max_sentences
                           else C.write_sentences(sentences, Path(tmp) / "corpus.txt"))
        files["w2v_vocab"] = C.write_word2vec_vocab(sentences, Path(tmp) / "vocab.txt",
                                                    C.SETTINGS["min_count"])
        print(f"order of the runs in each (arch, threads) group: "
              f"{' '.join(impls)} (x {args.repeats})", flush=True)
        records = speed(sentences, files, args.archs, args.threads, impls, args.repeats,
                        args.epochs)
        evaluations = []
        if args.evaluate:
            print(f"\nquality: one more run of each at {args.threads[-1]} thread(s), seed 0")
            for arch in args.archs:
                for impl in impls_for(arch, impls):
                    run = C.train_impl(impl, sentences, files, ARCHS[arch], args.threads[-1],
                                       0, args.epochs)
                    if run is None:
                        continue
                    scores = C.evaluate(run)
                    evaluations.append({"arch": arch, "impl": impl, **scores,
                                        "code_path": getattr(run, "code_path", None)})
                    print(f"  {arch:4s} {impl:22s}: WS353 {scores['ws353']:.3f} SimLex "
                          f"{scores['simlex']:.3f} analogy {scores['analogy']:.3f}"
                          f"{describe_run(run)}", flush=True)
    if C.FASTTEXT_FAILURES:
        print(f"fastText aborted with 'Encountered NaN' {len(C.FASTTEXT_FAILURES)} time(s); "
              "those attempts were retried")
    table, summary = speed_table(records)
    print("\n## Speed vs peers\n\n" + table + "\n")
    code_paths = print_code_paths(records)
    selfrep = [r for r in records if r.get("self_reported_words_per_sec")]
    if selfrep:
        for arch, threads in dict.fromkeys((r["arch"], r["threads"]) for r in selfrep):
            vals = [r["self_reported_words_per_sec"] for r in selfrep
                    if r["arch"] == arch and r["threads"] == threads]
            print(f"pword2vec {arch} threads={threads}: its own figure, training loop only "
                  f"(no vocabulary, noise table or loading), in raw corpus words/s: median "
                  f"{C.median(vals):,.0f} (the targets use it)")
        print()
    for s in summary:
        if s["ratio_vs_best_gensim"] is not None:
            print(f"{s['arch']} threads={s['threads']}: {s['ours']} / best gensim mode "
                  f"({s['best_gensim']}) = {s['ratio_vs_best_gensim']:.2f}")
    targets_table, targets = check_targets(summary, records)
    print("\n## Issue 15's targets (skw2v's default settings, training words/s medians)\n\n"
          + targets_table + "\n")
    out = {"machine": info, "corpus": corpus_name, "n_tokens": n,
           "settings": {**C.SETTINGS, "epochs": args.epochs}, "args": C.args_record(args),
           "skipped": missing, "peers": peers, "fasttext_nan_failures": C.FASTTEXT_FAILURES,
           "speed_records": records, "speed_summary": summary, "speed_table": table,
           "code_paths": code_paths, "targets": targets, "targets_table": targets_table,
           "evaluations": evaluations}
    if evaluations:
        rows = [[e["arch"], e["impl"], f"{e['ws353']:.3f}", f"{e['simlex']:.3f}",
                 f"{e['analogy']:.3f}"] for e in evaluations]
        out["evaluation_table"] = C.markdown_table(
            ["arch", "implementation", "WS353", "SimLex", "analogy"], rows)
        print("## Quality (one seed each)\n\n" + out["evaluation_table"] + "\n")
    C.save_json(out, args.out, args.label)
    return out


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
    p.add_argument("--corpus", type=Path, default=None,
                   help="text file, one sentence per line (default: PTB train + Brown)")
    p.add_argument("--archs", nargs="+", choices=list(ARCHS), default=list(ARCHS))
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--impls", nargs="+", choices=PEERS, default=list(DEFAULT_IMPLS),
                   help="implementations, run in this order (skw2v: every --skw2v-variants)")
    add_skw2v_arguments(p)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--epochs", type=int, default=C.SETTINGS["epochs"])
    p.add_argument("--max-sentences", type=int, default=None,
                   help="use only the first N sentences (dry runs)")
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
    if args.corpus is not None and not args.corpus.is_file():
        p.error(f"--corpus must be an existing file, got {args.corpus} "
                "(python benchmarks/make_zipf_corpus.py writes one)")
    args.label = "ptb_brown" if args.corpus is None else args.corpus.stem
    return run_speed(args)


if __name__ == "__main__":
    main()
