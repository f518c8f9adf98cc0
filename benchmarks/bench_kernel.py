"""Kernel words/s on PTB (+ Brown), straight through ``_core.train_epoch``.

Modes: per-pair skip-gram, window-batched skip-gram, shared negatives, CBOW;
thread counts and SIMD clones alternated within each repeat, so machine load
hits every configuration alike. Prints one line per run and the medians.

    python benchmarks/bench_kernel.py --modes pair batched cbow --threads 1 2 --repeats 3

``--private`` adds, per mode, a run of two threads that each train half the
chunks on their own copy of the weights (nothing shared): if it scales and
the shared two-thread run does not, rows bouncing between cores are the
cause. ``--prefetch read`` switches the per-pair kernel's row prefetch from
write intent to read intent (an experiment switch, _core._set_prefetch_mode).
``--other-build DIR`` also runs the kernel built in checkout DIR (its
skw2v/_core*.so, loaded beside this one), alternated run by run with this
build's, for before/after ratios under the same machine load.
"""

import argparse
import glob
import importlib.util
import os
import resource
import sys
import threading
import time
from collections import Counter, defaultdict

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from skw2v import _core  # noqa: E402
from skw2v._alias import alias_table, kernel_thresholds  # noqa: E402
from skw2v._corpus import chunk_layout  # noqa: E402
from skw2v._vocab import keep_probabilities, noise_distribution  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")
MODES = {  # architecture, shared_negatives, batch_window
    "pair": ("skipgram", False, False),
    "batched": ("skipgram", False, True),
    "shared": ("skipgram", True, False),
    "cbow": ("cbow", False, False),
}


def load(files, min_count=5, max_sentences=None, data_dir=DATA):
    sentences = []
    for name in files:
        with open(os.path.join(data_dir, name), encoding="utf-8") as f:
            sentences += [line.lower().split() for line in f if line.strip()]
    sentences = sentences[:max_sentences]
    counts = Counter(w for s in sentences for w in s)
    vocab = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: -counts[w])
    index = {w: i for i, w in enumerate(vocab)}
    ids = [[index[w] for w in s if w in index] for s in sentences]
    tokens = np.fromiter((i for s in ids for i in s), dtype=np.int32)
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in ids])]).astype(np.int64)
    return tokens, offsets, np.bincount(tokens, minlength=len(vocab))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", nargs="+", default=["ptb.train.txt", "brown.txt"])
    ap.add_argument("--data-dir", default=DATA)
    ap.add_argument("--modes", nargs="+", default=["pair", "batched", "cbow"], choices=MODES)
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--clones", nargs="+", default=[_core.simd_clone()])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--negative", type=int, default=5)
    ap.add_argument("--chunk-tokens", type=int, default=10_000)
    ap.add_argument("--private", action="store_true",
                    help="also two threads on private weight copies (no sharing)")
    ap.add_argument("--prefetch", choices=["write", "read", "none"], default="write")
    ap.add_argument("--other-build", default=None, metavar="DIR",
                    help="also run the kernel built in checkout DIR, alternated with this one")
    ap.add_argument("--one-negative-word", action="store_true",
                    help="every negative is one mid-frequency word (its row stays in L1): "
                         "the time saved against the real noise is what loading distinct "
                         "negative rows costs, the most that sharing negatives could save")
    ap.add_argument("--max-sentences", type=int, default=None,
                    help="first sentences only (e.g. for a run under callgrind)")
    args = ap.parse_args()
    tokens, offsets, counts = load(args.data, max_sentences=args.max_sentences,
                                   data_dir=args.data_dir)
    bounds, first = chunk_layout(offsets, len(tokens), args.chunk_tokens)
    keep = keep_probabilities(counts, 1e-3)
    accept, alias = alias_table(noise_distribution(counts, 0.75))
    thr = kernel_thresholds(accept)
    if args.one_negative_word:
        thr = np.zeros_like(thr)
        alias = np.full_like(alias, len(counts) // 2)
    kq = np.zeros(len(counts), np.float32)
    rs = np.random.default_rng(0)
    w0 = (rs.random((len(counts), args.dim), dtype=np.float32) - 0.5) / args.dim
    print(f"{len(tokens)} tokens, V={len(counts)}, {len(bounds) - 1} chunks, d={args.dim}")
    _core._set_prefetch_mode({"none": 0, "read": 1, "write": 2}[args.prefetch])
    n_chunks = len(bounds) - 1
    half = n_chunks // 2
    halves = [(bounds[:half + 1], first[:half]), (bounds[half:], first[half:])]

    builds = [("", _core)]
    if args.other_build:
        so = glob.glob(os.path.join(args.other_build, "skw2v", "_core*.so"))
        if len(so) != 1:
            sys.exit(f"need one built skw2v/_core*.so in {args.other_build}, found {so}")
        # A name ending in "_core" finds its PyInit__core; loaded beside this build's.
        spec = importlib.util.spec_from_file_location("other_build._core", so[0])
        other = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(other)
        builds = [("this ", _core), ("other ", other)]
        print(f"other build: {so[0]}")

    def epoch(arch, shared, batched, b, f, w_in, w_out, n_threads, seed, core=_core):
        stats = np.zeros((len(b) - 1, core.N_STATS))
        core.train_epoch(
            tokens, offsets, b, f, keep, thr, alias, kq, w_in, w_out,
            _core.ARCHITECTURES[arch], 0, args.window, True, args.negative, 0.025,
            1e-4, 0, len(tokens), seed, n_threads, stats,
            np.zeros(len(b) - 1, np.uint8), np.zeros(1, np.int32),
            shared_negatives=shared, batch_window=batched)
        return stats

    def private(arch, shared, batched, seed, core=_core):
        # Each thread its half of the chunks and its own weights: no row is shared.
        out = [None, None]

        def run(k):
            out[k] = epoch(arch, shared, batched, *halves[k], w0.copy(), np.zeros_like(w0), 1,
                           seed, core)
        workers = [threading.Thread(target=run, args=(k,)) for k in (0, 1)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()
        return np.concatenate(out)

    threads = list(args.threads) + (["2p"] if args.private else [])
    results = defaultdict(list)
    cpu_us = defaultdict(list)
    for rep in range(args.repeats):
        for clone in args.clones:
            for mode in args.modes:
                arch, shared, batched = MODES[mode]
                for n_threads in threads:
                    # alternate which build goes first, so neither always runs warm
                    for label, core in builds if rep % 2 == 0 else builds[::-1]:
                        core.select_simd(clone)
                        _core.select_simd(clone)
                        r0 = resource.getrusage(resource.RUSAGE_SELF)
                        t0 = time.perf_counter()
                        if n_threads == "2p":
                            stats = private(arch, shared, batched, rep + 1, core)
                        else:
                            stats = epoch(arch, shared, batched, bounds, first, w0.copy(),
                                          np.zeros_like(w0), n_threads, rep + 1, core)
                        dt = time.perf_counter() - t0
                        r1 = resource.getrusage(resource.RUSAGE_SELF)
                        # CPU seconds of all threads: under machine load, the ratio of
                        # CPU time per word (2 threads / 1) shows what contention costs
                        # when the wall clock cannot.
                        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
                        wps = len(tokens) / dt
                        key = label + clone
                        results[key, mode, n_threads].append(wps)
                        cpu_us[key, mode, n_threads].append(cpu / len(tokens) * 1e6)
                        print(f"rep {rep} {key:10s} {mode:8s} threads {n_threads}: "
                              f"{wps / 1e3:8.0f}k words/s  {cpu / len(tokens) * 1e6:.3f} "
                              f"cpu-us/word  loss/pair {stats[:, 0].sum() / stats[:, 1].sum():.4f}"
                              f"  pairs {stats[:, 1].sum():.0f}  words {stats[:, 2].sum():.0f}",
                              flush=True)
    print("\nmedians: k words/s (wall), CPU us per word, and the last / first thread-count "
          "ratios of both (speed-up; CPU cost)")
    for clone in [label + c for c in args.clones for label, _ in builds]:
        for mode in args.modes:
            med = {t: np.median(results[clone, mode, t]) for t in threads}
            cpu = {t: np.median(cpu_us[clone, mode, t]) for t in threads}
            line = "  ".join(f"{t} thr {med[t] / 1e3:6.0f}k {cpu[t]:.3f}us" for t in threads)
            lo, hi = threads[0], threads[-1]
            ratio = (f"  speed-up {med[hi] / med[lo]:.2f}  cpu {cpu[hi] / cpu[lo]:.2f}"
                     if len(threads) > 1 else "")
            print(f"{clone:10s} {mode:8s} {line}{ratio}")
    if len(builds) > 1:
        print("\nother build / this build: median words/s (wall), median CPU us per word")
        for clone in args.clones:
            for mode in args.modes:
                for t in threads:
                    wall = (np.median(results["other " + clone, mode, t])
                            / np.median(results["this " + clone, mode, t]))
                    cpu = (np.median(cpu_us["other " + clone, mode, t])
                           / np.median(cpu_us["this " + clone, mode, t]))
                    print(f"{clone:10s} {mode:8s} {t} thr: speed {wall:.3f}  CPU/word {cpu:.3f}")


if __name__ == "__main__":
    main()
