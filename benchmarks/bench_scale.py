"""Corpora larger than memory (issue 16): peak RSS, front-end throughput, end to end.

Generates Zipf corpora (1M word types, benchmarks/make_zipf_corpus.py) of the
given sizes as .txt and .txt.gz under benchmarks/_data (reused when present),
then, each measurement in a fresh subprocess:

1. peak RSS of ``Word2VecNS(skip-gram, epochs=1, n_jobs=THREADS).fit(Path)``
   per size and format, with ``max_vocab_size`` fixed so that the model is
   the same size at every corpus size (what must not grow is the rest);
2. front-end throughput: the counting pass + the encoding pass of the
   compiled reader (tokens / (count s + encode s)) at 1 and 2 workers;
3. end to end on one size: skw2v ``fit`` (vocabulary + encoding + 5 epochs)
   against gensim's ``Word2Vec(corpus_file=...)`` (``build_vocab`` + ``train``),
   both skip-gram with THREADS threads and the same parameters.

It prints the tables and the pass/fail of each acceptance target of issue 16.

    python benchmarks/bench_scale.py                      # 20M and 100M tokens (< 15 min)
    python benchmarks/bench_scale.py --sizes 20M 100M 400M
    python benchmarks/bench_scale.py --sizes 2M           # a quick check of the script
    python benchmarks/bench_scale.py --sizes 20M 100M 400M --parts rss --rss-parallel 3
    python benchmarks/bench_scale.py --sizes 20M --parts front --front-repeats 3
    python benchmarks/bench_scale.py --sizes 20M --parts front --front-repeats 3 \
        --front-baseline ../main   # main's code too, its runs alternating with these
    sudo python benchmarks/bench_scale.py --sizes 20M --parts front --front-realtime

On a busy machine the wall times are noisy: RSS does not depend on the load
(``--rss-parallel``, ``--rss-window 1 --rss-negatives 1`` shorten those runs
without changing the memory). The front-end table also gives the CPU path,
which a busy machine distorts less but in favour of 2 workers (threads that
seldom run side by side do not slow each other down: main's counting pass
gave 1.7-1.8x by CPU path on a busy machine, 1.4-1.5x on an idle one);
``--front-realtime`` runs each pass ahead of every other process instead
(SCHED_FIFO, root), which gives the idle machine's figures.

The JSON goes to ``--out`` (default benchmarks/results/bench_scale/<commit>.json).
"""

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _results import add_out_argument, write_json  # noqa: E402

ROOT = HERE.parent
DEFAULT_DIR = HERE / "_data"

CHILD_FIT = r"""
import json, pathlib, resource, sys, threading, time
sys.path.insert(0, sys.argv[1])
import skw2v
args = json.loads(sys.argv[2])


def status():
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem"):
                out[key] = int(value.split()[0]) / 1024
    return out


# Resident memory split (Linux): RssAnon is the process's own memory (heap,
# arrays), RssFile its file-backed pages (shared libraries, the memory-mapped
# cache), VmHWM the kernel's exact peak of their sum. The split is sampled.
peak = {"RssAnon": 0.0, "RssFile": 0.0, "at_peak": {}}
done = threading.Event()


def sample():
    while True:
        s = status()
        for key in ("RssAnon", "RssFile"):
            peak[key] = max(peak[key], s[key])
        if s["VmRSS"] >= peak["at_peak"].get("VmRSS", 0):
            peak["at_peak"] = s
        if done.wait(0.01):
            return


base = status()
sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
t = time.perf_counter()
m = skw2v.Word2VecNS(architecture="skipgram", vector_size=args["dim"], epochs=args["epochs"],
                     min_count=5, max_vocab_size=args["max_vocab"], n_jobs=args["threads"],
                     window=args.get("window", 5), sample_size=args.get("negatives", 5),
                     random_state=0).fit(pathlib.Path(args["path"]))
seconds = time.perf_counter() - t
done.set()
sampler.join()
end = status()
print(json.dumps({"peak_rss_mb": end["VmHWM"],
                  "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "max_rss_anon_mb": peak["RssAnon"], "max_rss_file_mb": peak["RssFile"],
                  "sampled_peak": peak["at_peak"], "after_import": base,
                  "rss_after_import_mb": base["VmRSS"], "seconds": seconds,
                  "train_seconds": m.train_seconds_, "vocab": len(m.vocabulary_),
                  "model_mb": (m.vectors_.nbytes + m.output_vectors_.nbytes) / 2**20}))
"""

CHILD_FRONT = r"""
import collections, json, os, subprocess, sys, threading, time
sys.path.insert(0, sys.argv[1])
from skw2v import _file_passes as lc
from skw2v._line_corpus import LineCorpus
args = json.loads(sys.argv[2])

# CPU seconds of each reading thread, and of the calling thread outside the
# pool (range planning, merging the counts, closing the cache): the busiest
# thread plus that serial part is the wall time on an idle machine, a figure
# that a busy machine does not distort.
pools = []
run_pieces = lc._run_pieces


def timed_run_pieces(pieces, work, n_jobs, progress):
    per_thread = collections.Counter()

    def timed(piece, stop):
        t = time.thread_time()
        try:
            return work(piece, stop)
        finally:
            per_thread[threading.get_ident()] += time.thread_time() - t

    t = time.thread_time()
    out = run_pieces(pieces, timed, n_jobs, progress)
    pools.append((max(per_thread.values(), default=0.0), time.thread_time() - t))
    return out


lc._run_pieces = timed_run_pieces


SPIN = "import os, sys; os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10)); " \
       "print(flush=True)\nwhile True: pass"


class realtime:
    # --front-realtime: the pass runs under SCHED_FIFO, its threads (created
    # inside, so they inherit it) ahead of every other process, as on an idle
    # machine. The CPUs the pass leaves free are held by spinning processes
    # (a loop in the cache): another job's memory traffic there would slow
    # the pass down, as it does not on an idle machine.

    def __enter__(self):
        self.spinners = []
        if args.get("realtime"):
            for _ in range(len(os.sched_getaffinity(0)) - args["workers"]):
                spinner = subprocess.Popen([sys.executable, "-c", SPIN], stdout=subprocess.PIPE)
                spinner.stdout.readline()  # it runs under SCHED_FIFO now
                self.spinners.append(spinner)
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))

    def __exit__(self, *exc):
        if args.get("realtime"):
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
            for spinner in self.spinners:
                spinner.kill()
                spinner.wait()


corpus = LineCorpus(args["path"])
with realtime():
    c0, t0 = time.thread_time(), time.perf_counter()
    counts = lc.count_tokens(corpus, n_jobs=args["workers"])
    c1, t1 = time.thread_time(), time.perf_counter()
vocab = lc.select_vocabulary_from_counts(counts, 5, None)
# times a counting thread waited for a busy part of the shared table
lock_waits = getattr(counts.table, "n_waits", None)
del counts.table
with realtime():
    c2, t2 = time.thread_time(), time.perf_counter()
    encoded = lc.encode_files(corpus, vocab.table, len(vocab.types), n_jobs=args["workers"])
    c3, t3 = time.thread_time(), time.perf_counter()
n = encoded.n_seen
kept, lines = len(encoded.tokens), encoded.n_documents
encoded.close()
(count_busiest, count_pool), (encode_busiest, encode_pool) = pools
print(json.dumps({"tokens": n, "count_s": t1 - t0, "vocab_s": t2 - t1, "encode_s": t3 - t2,
                  "count_cpu_path_s": count_busiest + (c1 - c0 - count_pool),
                  "encode_cpu_path_s": encode_busiest + (c3 - c2 - encode_pool),
                  "vocab": len(vocab.types), "kept_tokens": kept, "lines": lines,
                  "count_lock_waits": lock_waits}))
"""

CHILD_GENSIM = r"""
import json, logging, sys, time
from gensim.models import Word2Vec
args = json.loads(sys.argv[1])
t = time.perf_counter()
m = Word2Vec(corpus_file=args["path"], vector_size=args["dim"], window=5, min_count=5,
             sg=1, negative=5, sample=1e-3, workers=args["threads"], epochs=args["epochs"],
             seed=0)
print(json.dumps({"seconds": time.perf_counter() - t, "vocab": len(m.wv)}))
"""


def parse_size(text):
    text = text.strip().upper()
    scale = {"K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9}.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in "KMGB" else text
    return int(float(number) * scale)


def corpus_files(n_tokens, label, n_types, data_dir):
    from make_zipf_corpus import generate

    txt = data_dir / f"zipf{n_types // 1000}k_{label}.txt"
    gz = txt.with_name(txt.name + ".gz")
    data_dir.mkdir(parents=True, exist_ok=True)
    if not txt.exists():
        t = time.perf_counter()
        tmp = txt.with_name(txt.name + ".part")
        generate(n_tokens, n_types, 0, tmp)
        tmp.rename(txt)
        print(f"# generated {txt.name} in {time.perf_counter() - t:.0f} s", flush=True)
    if not gz.exists():
        t = time.perf_counter()
        tmp = gz.with_name(gz.name + ".part")
        with open(txt, "rb") as src, gzip.open(tmp, "wb", compresslevel=1) as dst:
            shutil.copyfileobj(src, dst, 4 << 20)
        tmp.rename(gz)
        print(f"# compressed {gz.name} in {time.perf_counter() - t:.0f} s", flush=True)
    return txt, gz


def run_child(code, *args, timeout=3600):
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def on_paper(results, label, threads, n=10**9):
    """Time, disk and memory of a 1B-token fit, scaled from the measured rates."""
    front = next(r for r in results["front"]
                 if r["size"] == label and r["format"] == ".txt" and r["workers"] == threads)
    fit = next(r for r in results["rss"] if r["size"] == label and r["format"] == ".txt")
    scale = n / front["tokens"]
    count_s, encode_s = front["count_s"] * scale, front["encode_s"] * scale
    epoch_s = fit["train_seconds"] * scale
    disk = 4 * front["kept_tokens"] * scale + 8 * (front["lines"] * scale + 1)
    return [
        ("counting pass", f"{count_s / 60:.1f} min"),
        ("encoding pass", f"{encode_s / 60:.1f} min"),
        ("one training epoch", f"{epoch_s / 60:.1f} min"),
        ("5 epochs, whole fit", f"{(count_s + encode_s + 5 * epoch_s) / 3600:.2f} h"),
        ("cache on disk (4 B/token kept + 8 B/line)", f"{disk / 2**30:.1f} GiB"),
        ("peak RSS (flat in the corpus size; model of max_vocab_size words)",
         f"{fit['peak_rss_mb']:.0f} MB"),
    ]


def print_pass_scaling(front, repeats):
    """Each pass's 1- and 2-worker times (.txt) and their ratio, wall and CPU path."""
    print(f"\nPer pass, 1 -> 2 workers (.txt; each pass's best of {repeats}; lock waits: "
          "times a counting thread waited for a busy part of the shared table, per run)")
    print("| code | corpus | pass | 1 worker s | 2 workers s | ratio | CPU path 1 s "
          "| CPU path 2 s | ratio | lock waits (2 workers) |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---|")
    for code, label in dict.fromkeys((r["code"], r["size"]) for r in front):
        rows = {r["workers"]: r for r in front
                if r["code"] == code and r["size"] == label and r["format"] == ".txt"}
        if 1 not in rows or 2 not in rows:
            continue
        one, two = rows[1], rows[2]
        for name, keys in (("count", ["count"]), ("encode", ["encode"]),
                           ("count + encode", ["count", "encode"]),
                           # the serial vocabulary step between the passes, as fit runs it
                           ("count + vocabulary + encode", ["count", "vocab", "encode"])):
            wall = [sum(r[f"best_{k}_s"] for k in keys) for r in (one, two)]
            cpu = [sum(r.get(f"best_{k}_cpu_path_s", r[f"best_{k}_s"]) for k in keys)
                   for r in (one, two)]
            waits = ", ".join(str(w) for w in two["count_lock_waits_all"]) \
                if "count" in keys else ""
            print(f"| {code} | {label} | {name} | {wall[0]:.3f} | {wall[1]:.3f} "
                  f"| {wall[0] / wall[1]:.2f}x "
                  f"| {cpu[0]:.3f} | {cpu[1]:.3f} | {cpu[0] / cpu[1]:.2f}x | {waits} |",
                  flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", nargs="+", default=["20M", "100M"],
                   help="corpus sizes in tokens (e.g. 2M 20M 100M 400M)")
    p.add_argument("--types", type=int, default=1_000_000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--max-vocab", type=int, default=200_000,
                   help="max_vocab_size of the RSS runs: the same model at every size")
    p.add_argument("--e2e-size", default=None,
                   help="corpus size of the end-to-end comparison (default: the smallest)")
    p.add_argument("--e2e-epochs", type=int, default=5)
    p.add_argument("--no-gensim", action="store_true")
    p.add_argument("--rss-window", type=int, default=5,
                   help="window of the RSS runs (the memory does not depend on it; the time does)")
    p.add_argument("--rss-negatives", type=int, default=5,
                   help="negatives (sample_size) of the RSS runs, as --rss-window")
    p.add_argument("--parts", nargs="+", choices=("rss", "front", "e2e"),
                   default=["rss", "front", "e2e"], help="which measurements to run")
    p.add_argument("--front-sizes", nargs="+", default=None,
                   help="sizes of the front-end runs (default: every size)")
    p.add_argument("--front-repeats", type=int, default=1,
                   help="front-end runs per row; the fastest is kept")
    p.add_argument("--front-realtime", action="store_true",
                   help="run each front-end pass under SCHED_FIFO (Linux, root), the CPUs it "
                        "leaves free held by spinning processes: on a busy machine the pass "
                        "then runs as on an idle one; other processes wait for the second or "
                        "so of each pass")
    p.add_argument("--front-baseline", type=Path, default=None,
                   help="a built checkout (e.g. a worktree of main) whose front end is measured "
                        "too, its runs alternating with this code's (.txt only)")
    p.add_argument("--rss-parallel", type=int, default=1,
                   help="RSS runs at once (peak RSS does not depend on the load; times do)")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DIR)
    add_out_argument(p)
    args = p.parse_args(argv)

    sizes = [(parse_size(s), s.upper()) for s in args.sizes]
    sizes.sort()
    files = {label: corpus_files(n, label, args.types, args.data_dir) for n, label in sizes}
    results = {"rss": [], "front": [], "e2e": {}}

    sys.path.insert(0, str(ROOT))
    import skw2v
    from concurrent.futures import ThreadPoolExecutor

    skw2v.show_config()
    print(f"# load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    results["load_before"] = os.getloadavg()
    if "rss" in args.parts:
        print("\n## Peak RSS of fit (skip-gram, 1 epoch, "
              f"{args.threads} threads, max_vocab_size={args.max_vocab:,}, "
              f"window={args.rss_window}, sample_size={args.rss_negatives})", flush=True)
        print("VmHWM: the kernel's exact peak resident set; RssAnon / RssFile: the largest "
              "anonymous (heap, arrays) and file-backed (libraries, mapped cache) parts, "
              "sampled every 10 ms.")
        print("| corpus | format | vocab | model | peak RSS (VmHWM) | max RssAnon | max RssFile "
              "| 2 x model + 300 MB | fit s |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        jobs = [(n, label, path) for n, label in sizes for path in files[label]]

        def fit_rss(job):
            n, label, path = job
            r = run_child(CHILD_FIT, str(ROOT), json.dumps(dict(
                path=str(path), dim=args.dim, epochs=1, max_vocab=args.max_vocab,
                threads=args.threads, window=args.rss_window, negatives=args.rss_negatives)),
                timeout=6 * 3600)
            r.update(size=label, tokens=n, format="".join(path.suffixes))
            return r

        # the largest first, so that parallel runs end together; printed by size
        with ThreadPoolExecutor(max(1, args.rss_parallel)) as pool:
            futures = [pool.submit(fit_rss, job) for job in reversed(jobs)][::-1]
            for job, fut in zip(jobs, futures):
                r = fut.result()
                results["rss"].append(r)
                bound = 2 * r["model_mb"] + 300
                print(f"| {r['size']} | {r['format']} | {r['vocab']:,} | {r['model_mb']:.0f} MB "
                      f"| {r['peak_rss_mb']:.0f} MB | {r['max_rss_anon_mb']:.0f} MB "
                      f"| {r['max_rss_file_mb']:.0f} MB | {bound:.0f} MB | {r['seconds']:.1f} |",
                      flush=True)

    if "front" in args.parts:
        print("\n## Front end: counting + encoding passes (compiled reader, min_count=5; "
              f"best of {args.front_repeats}"
              f"{'; each pass under SCHED_FIFO' if args.front_realtime else ''})", flush=True)
        print("CPU path: CPU seconds of the busiest reading thread + the serial part "
              "(count + encode), the wall time of an idle machine.")
        print("| corpus | format | workers | count s | vocab s | encode s "
              "| tokens/s (count + encode) | per worker | CPU path s | tokens/s by CPU path |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        front_sizes = {s.upper() for s in (args.front_sizes or [label for _, label in sizes])}
        for n, label in sizes:
            if label not in front_sizes:
                continue
            configs = [("this", ROOT, files[label][0], 1), ("this", ROOT, files[label][0], 2),
                       ("this", ROOT, files[label][1], 2)]
            if args.front_baseline is not None:
                configs += [("baseline", args.front_baseline, files[label][0], w) for w in (1, 2)]
            # the configurations alternate, so that a change of load hits them all alike
            all_runs = {c: [] for c in configs}
            for _ in range(args.front_repeats):
                for code, root, path, workers in configs:
                    all_runs[code, root, path, workers].append(run_child(
                        CHILD_FRONT, str(root), json.dumps(dict(
                            path=str(path), workers=workers, realtime=args.front_realtime))))
            for (code, root, path, workers), runs in all_runs.items():
                r = dict(min(runs, key=lambda x: x["count_s"] + x["encode_s"]))
                rate = r["tokens"] / (r["count_s"] + r["encode_s"])
                path_s = min(x["count_cpu_path_s"] + x["encode_cpu_path_s"] for x in runs)
                r.update(code=code, root=str(root), size=label, format="".join(path.suffixes),
                         workers=workers,
                         rate=rate, cpu_path_s=path_s, cpu_path_rate=r["tokens"] / path_s,
                         all_runs=[(x["count_s"], x["encode_s"]) for x in runs])
                results["front"].append(r)
                # each pass's best run, for the per-pass scaling table
                for key in ("count_s", "vocab_s", "encode_s", "count_cpu_path_s",
                            "encode_cpu_path_s"):
                    r["best_" + key] = min(x[key] for x in runs)
                r["count_lock_waits_all"] = [x.get("count_lock_waits") for x in runs]
                print(f"| {label}{'' if code == 'this' else ' (baseline)'} | {r['format']} "
                      f"| {workers} | {r['count_s']:.2f} "
                      f"| {r['vocab_s']:.2f} | {r['encode_s']:.2f} | {rate / 1e6:.1f}M "
                      f"| {rate / workers / 1e6:.1f}M | {path_s:.2f} "
                      f"| {r['tokens'] / path_s / 1e6:.1f}M |", flush=True)
        print_pass_scaling(results["front"], args.front_repeats)

    e2e_label = (args.e2e_size or sizes[0][1]).upper()
    if e2e_label not in files:
        p.error(f"--e2e-size {e2e_label} is not among --sizes")
    if "e2e" in args.parts:
        e2e_tokens = dict((label, n) for n, label in sizes)[e2e_label]
        txt = files[e2e_label][0]
        print(f"\n## End to end on {e2e_label} tokens: vocabulary + encoding + "
              f"{args.e2e_epochs} epochs, skip-gram, {args.threads} threads", flush=True)
        print("| implementation | seconds | words/s | vocab |")
        print("|---|---:|---:|---:|")
        ours = run_child(CHILD_FIT, str(ROOT), json.dumps(dict(
            path=str(txt), dim=args.dim, epochs=args.e2e_epochs, max_vocab=None,
            threads=args.threads)))
        ours["words_per_s"] = e2e_tokens * args.e2e_epochs / ours["seconds"]
        results["e2e"]["skw2v"] = ours
        print(f"| skw2v fit(Path) | {ours['seconds']:.1f} | {ours['words_per_s']:,.0f} "
              f"| {ours['vocab']:,} |", flush=True)
        if not args.no_gensim:
            theirs = run_child(CHILD_GENSIM, json.dumps(dict(
                path=str(txt), dim=args.dim, epochs=args.e2e_epochs, threads=args.threads)))
            theirs["words_per_s"] = e2e_tokens * args.e2e_epochs / theirs["seconds"]
            results["e2e"]["gensim"] = theirs
            print(f"| gensim corpus_file | {theirs['seconds']:.1f} | "
                  f"{theirs['words_per_s']:,.0f} | {theirs['vocab']:,} |", flush=True)

    paper_size = next((label for _, label in reversed(sizes)
                       if any(r["size"] == label for r in results["front"])
                       and any(r["size"] == label for r in results["rss"])), None)
    if paper_size is not None:
        paper = on_paper(results, paper_size, args.threads)
        print(f"\n## A 1B-token run on paper (rates measured on {paper_size} .txt, "
              f"{args.threads} workers/threads, skip-gram, vector_size={args.dim})")
        if (args.rss_window, args.rss_negatives) != (5, 5):
            print(f"(the epoch time is that of window={args.rss_window}, "
                  f"sample_size={args.rss_negatives}, not of the defaults)")
        print("| quantity | estimate |")
        print("|---|---:|")
        for name, value in paper:
            print(f"| {name} | {value} |")
        results["on_paper"] = paper
    results["load_after"] = os.getloadavg()
    print(f"\n# load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")

    print("\n## Acceptance (issue 16)")
    checks = []
    for fmt in (".txt", ".txt.gz"):
        rows = [r for r in results["rss"] if r["format"] == fmt]
        if len(rows) >= 2:
            growth = rows[-1]["peak_rss_mb"] / rows[0]["peak_rss_mb"] - 1
            checks.append((f"peak RSS {fmt} {rows[0]['size']} -> {rows[-1]['size']}: "
                           f"{growth:+.1%} (target <= +10%)", growth <= 0.10))
    if results["rss"]:
        worst = max(results["rss"], key=lambda r: r["peak_rss_mb"] - 2 * r["model_mb"])
        checks.append((f"peak RSS <= 2 x model + 300 MB at every size (worst: {worst['size']} "
                       f"{worst['format']}, {worst['peak_rss_mb']:.0f} MB vs "
                       f"{2 * worst['model_mb'] + 300:.0f} MB)",
                       all(r["peak_rss_mb"] <= 2 * r["model_mb"] + 300 for r in results["rss"])))
    for label in dict.fromkeys(r["size"] for r in results["front"]):
        front = {r["workers"]: r for r in results["front"]
                 if r["code"] == "this" and r["size"] == label and r["format"] == ".txt"}
        one, two = front[1]["rate"], front[2]["rate"]
        checks.append((f"front end at 1 worker ({label} .txt): {one / 1e6:.1f}M tokens/s "
                       "(target >= 10M per core)", one >= 10e6))
        checks.append((f"front end 1 -> 2 workers ({label} .txt): {two / one:.2f}x "
                       "(target >= 1.7x)", two / one >= 1.7))
        with_vocab = [front[w]["tokens"] / (front[w]["best_count_s"] + front[w]["best_vocab_s"]
                                            + front[w]["best_encode_s"]) for w in (1, 2)]
        checks.append((f"front end with the serial vocabulary step, 1 -> 2 workers ({label} "
                       f".txt; each pass's best): {with_vocab[1] / with_vocab[0]:.2f}x "
                       "(target >= 1.7x)", with_vocab[1] / with_vocab[0] >= 1.7))
        by_cpu = front[2]["cpu_path_rate"] / front[1]["cpu_path_rate"]
        checks.append((f"front end 1 -> 2 workers by CPU path ({label} .txt): {by_cpu:.2f}x "
                       "(target >= 1.7x; what an idle machine gives)", by_cpu >= 1.7))
    if "gensim" in results["e2e"]:
        ratio = results["e2e"]["skw2v"]["words_per_s"] / results["e2e"]["gensim"]["words_per_s"]
        checks.append((f"end to end vs gensim corpus_file ({e2e_label}): {ratio:.2f}x "
                       "(target >= 3x)", ratio >= 3))
    for text, ok in checks:
        print(f"- {'PASS' if ok else 'FAIL'}: {text}")
    write_json(results, args.out)


if __name__ == "__main__":
    main()
