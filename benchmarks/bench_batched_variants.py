"""Kernel words/s of the skip-gram update variants of issue 15, alternated.

Same corpus, schedule and call as ``bench_kernel.py`` (PTB + Brown, one epoch
straight through ``_core.train_epoch``, 1 thread by default), with the
window-batched update (the experiments' kernel options, ``window_block`` and
``window_exact``, were removed after commit fc92bbe; RESULTS.md section 0
gives their figures and the commands at that commit). Prints wall
words/s and CPU microseconds per word of every run, and per variant the median
and its ratio to the per-pair update of the same runs (the load on this
machine changes; the ratios within one alternated run are what to compare).

    python benchmarks/bench_batched_variants.py --repeats 5
"""

import argparse
import os
import resource
import sys
import time
from collections import defaultdict

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_kernel import DATA, load  # noqa: E402

from skw2v import _core  # noqa: E402
from skw2v._alias import alias_table, kernel_thresholds  # noqa: E402
from skw2v._corpus import chunk_layout  # noqa: E402
from skw2v._vocab import keep_probabilities, noise_distribution  # noqa: E402

VARIANTS = {  # train_epoch flags
    "pair": {"batch_window": False},
    "shared": {"shared_negatives": True},
    "batched": {"batch_window": True},
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--data-dir", default=DATA)
    ap.add_argument("--max-sentences", type=int, default=None)
    args = ap.parse_args()
    tokens, offsets, counts = load(["ptb.train.txt", "brown.txt"],
                                   max_sentences=args.max_sentences, data_dir=args.data_dir)
    bounds, first = chunk_layout(offsets, len(tokens), 10_000)
    keep = keep_probabilities(counts, 1e-3)
    accept, alias = alias_table(noise_distribution(counts, 0.75))
    thr = kernel_thresholds(accept)
    kq = np.zeros(len(counts), np.float32)
    w0 = (np.random.default_rng(0).random((len(counts), 100), dtype=np.float32) - 0.5) / 100
    print(f"{len(tokens)} tokens, V={len(counts)}, clone {_core.simd_clone()}, "
          f"{args.threads} thread(s), load average {os.getloadavg()}")
    wps, cpu = defaultdict(list), defaultdict(list)
    for rep in range(args.repeats):
        for name in args.variants:
            stats = np.zeros((len(bounds) - 1, _core.N_STATS))
            r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            _core.train_epoch(
                tokens, offsets, bounds, first, keep, thr, alias, kq, w0.copy(),
                np.zeros_like(w0), _core.ARCHITECTURES["skipgram"], 0, 5, True, 5, 0.025, 1e-4,
                0, len(tokens), rep + 1, args.threads, stats, np.zeros(len(bounds) - 1, np.uint8),
                np.zeros(1, np.int32), **VARIANTS[name])
            dt, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
            c = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
            wps[name].append(len(tokens) / dt)
            cpu[name].append(c / len(tokens) * 1e6)
            print(f"rep {rep} {name:8s} {len(tokens) / dt / 1e3:7.0f}k words/s "
                  f"{c / len(tokens) * 1e6:.3f} cpu-us/word loss/pair "
                  f"{stats[:, 0].sum() / stats[:, 1].sum():.4f}", flush=True)
    print(f"\nmedians (load average now {os.getloadavg()}):")
    base = "pair" if "pair" in args.variants else args.variants[0]
    for name in args.variants:
        w, c = np.median(wps[name]), np.median(cpu[name])
        print(f"{name:8s} {w / 1e3:7.0f}k words/s ({w / np.median(wps[base]):.2f}x {base})  "
              f"{c:.3f} cpu-us/word ({np.median(cpu[base]) / c:.2f}x)")


if __name__ == "__main__":
    main()
