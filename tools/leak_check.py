"""Check that repeated fits do not leak: resident memory (RSS) stays flat.

    python tools/leak_check.py                 # 100 fits, exit 1 on growth
    python tools/leak_check.py --fits 30 --tolerance-mb 16

Each round fits a fresh estimator (both architectures, both losses, one and
two threads in turn), transforms, queries most_similar and drops the model.
After ``--warmup`` rounds (allocator pools, OpenMP threads and imports settle)
RSS is read from /proc/self/statm after every round; the growth from the end
of the warm-up to the end must stay under the tolerance. A round allocates a
few MB (weights, corpus, per-thread kernel buffers), so a per-fit leak of any
of them shows up as 10 MB or more over 30 fits. Run from the repository root.
"""

import argparse
import gc
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from skw2v import Word2VecNS

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def corpus(seed, n_docs=400, n_words=2000, length=25):
    """10,000 tokens, every one of the 2,000 words present: (V, 128) float32
    weights are 1 MB each, the kernel's per-thread buffers ~120 KB per epoch."""
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i}" for i in range(n_words)], dtype=object)
    ids = np.concatenate([np.arange(n_words), rng.zipf(1.3, n_docs * length - n_words) % n_words])
    return [words[d].tolist() for d in ids.reshape(n_docs, length)]


CONFIGS = [
    {"architecture": "skipgram", "loss": "negative_sampling", "n_jobs": 1},
    {"architecture": "cbow", "loss": "nce", "n_jobs": 2},
    {"architecture": "skipgram", "loss": "nce", "n_jobs": 2, "pooling": "tfidf"},
    {"architecture": "cbow", "loss": "negative_sampling", "n_jobs": 1, "pooling": "sif"},
]


def one_round(i, docs):
    model = Word2VecNS(vector_size=128, window=3, sample_size=3, min_count=1, epochs=2,
                       random_state=i, **CONFIGS[i % len(CONFIGS)])
    model.fit(docs)
    out = model.transform(docs)
    assert np.isfinite(out).all()
    model.most_similar(model.index_to_token_[0], topn=5)
    if hasattr(model, "score"):
        model.score(docs[:20])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fits", type=int, default=100, help="measured rounds")
    parser.add_argument("--warmup", type=int, default=10, help="rounds before measuring")
    parser.add_argument("--tolerance-mb", type=float, default=8.0,
                        help="allowed RSS growth over the measured rounds")
    args = parser.parse_args(argv)

    docs = corpus(0)
    for i in range(args.warmup):
        one_round(i, docs)
    gc.collect()
    start = rss_bytes()
    samples = []
    for i in range(args.fits):
        one_round(args.warmup + i, docs)
        gc.collect()
        samples.append(rss_bytes())
    growth = (samples[-1] - start) / 2**20
    peak = (max(samples) - start) / 2**20
    # Least-squares slope over the second half: a steady leak, not one step.
    half = np.asarray(samples[len(samples) // 2:], dtype=np.float64) / 2**20
    slope = np.polyfit(np.arange(len(half)), half, 1)[0] if len(half) > 1 else 0.0
    print(f"fits: {args.fits} (after {args.warmup} warm-up), "
          f"RSS start {start / 2**20:.1f} MB, end {samples[-1] / 2**20:.1f} MB")
    print(f"RSS growth {growth:+.2f} MB (peak {peak:+.2f} MB, "
          f"second-half slope {slope * 1024:+.1f} KB/fit); tolerance {args.tolerance_mb} MB")
    ok = growth <= args.tolerance_mb
    print("OK: no leak detected" if ok else "FAIL: RSS grows with repeated fits")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
