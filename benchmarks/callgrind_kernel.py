"""Instructions per trained word of the training kernel, under callgrind.

Timings on a shared 2-core machine are noisy; instruction counts are not.
Runs one epoch of ``_core.train_epoch`` (n_jobs=1) on a fixed synthetic
corpus and prints instructions per corpus position and per trained pair.

    python benchmarks/callgrind_kernel.py            # runs itself under valgrind
    python benchmarks/callgrind_kernel.py --arch cbow
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

# Measure the checkout this script sits in (built in place), or the one given
# by SKW2V_SRC (used by ablation.py), not an installed copy.
sys.path.insert(0, os.environ.get("SKW2V_SRC")
                or os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

KERNEL_SYMBOL = "__pyx_pw_5skw2v_5_core_1train_epoch"


def synthetic_corpus(n_tokens, n_types, seed=0):
    """Zipf(1.0)-distributed ids in sentences of 5-40 tokens (deterministic)."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n_types + 1)
    p /= p.sum()
    tokens = rng.choice(n_types, size=n_tokens, p=p).astype(np.int32)
    lengths = rng.integers(5, 41, size=n_tokens // 5)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    offsets = offsets[offsets < n_tokens]
    offsets = np.append(offsets, n_tokens).astype(np.int64)
    counts = np.bincount(tokens, minlength=n_types).astype(np.int64)
    return tokens, offsets, np.maximum(counts, 1)


def run_kernel(args):
    from skw2v._corpus import EncodedCorpus
    from skw2v._estimator import Word2VecNS
    from skw2v._plan import plan_for

    tokens, offsets, counts = synthetic_corpus(args.tokens, args.types)
    est = Word2VecNS(architecture=args.arch, vector_size=args.dim, sample_size=args.negative,
                     subsample=1e-3, random_state=0, n_jobs=1)
    plan = plan_for(EncodedCorpus(tokens, offsets, None), counts, est.get_params())
    if args.shared_negatives:
        plan.shared_negatives = True
    from skw2v._training import run_epoch

    rng = np.random.default_rng(0)
    w_in = ((rng.random((args.types, args.dim), dtype=np.float32) - 0.5) / args.dim)
    w_out = np.zeros_like(w_in)
    res = run_epoch(plan, w_in, w_out, lr_start=0.025, lr_end=1e-4, progress_offset=0,
                    progress_total=len(tokens), seed=1, n_threads=1)
    print(f"POSITIVES {res.positives:.0f} WORDS {res.words:.0f} TOKENS {len(tokens)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="skipgram", choices=["skipgram", "cbow"])
    ap.add_argument("--tokens", type=int, default=100_000)
    ap.add_argument("--types", type=int, default=20_000)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--negative", type=int, default=5)
    ap.add_argument("--shared-negatives", action="store_true",
                    help="skip-gram: one set of negatives per centre word")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        run_kernel(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
               "--collect-atstart=no", f"--toggle-collect={KERNEL_SYMBOL}",
               sys.executable, __file__, "--inner"] + sys.argv[1:]
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        m = re.search(r"POSITIVES (\d+) WORDS (\d+) TOKENS (\d+)", proc.stdout)
        if proc.returncode != 0 or m is None:
            sys.exit(proc.stdout + proc.stderr)
        positives, words, tokens = map(int, m.groups())
        ir = None
        with open(out) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    ir = int(line.split()[1])
        print(f"arch={args.arch} dim={args.dim} negative={args.negative} "
              f"shared_negatives={args.shared_negatives} "
              f"tokens={tokens} kept_words={words} positives={positives}")
        print(f"instructions: {ir:,}  per corpus token: {ir / tokens:,.0f}  "
              f"per positive pair: {ir / max(positives, 1):,.0f}")


if __name__ == "__main__":
    main()
