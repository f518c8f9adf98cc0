"""Which kernel technique buys what: build past versions side by side and compare.

Each variant is a commit of this repository (plus build flags). For each one
the script builds the extension in a temporary copy, counts instructions per
positive pair with callgrind (load-independent), and times one skip-gram
epoch on PTB (n_jobs=1, CPU seconds of the process, variants interleaved
A B C ... A B C ... so machine noise hits all of them alike).

    python benchmarks/ablation.py [--repeats 3] [--no-callgrind]
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _results import add_out_argument, write_json

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

VARIANTS = [
    # label, commit, extra build env, run-time option
    ("BLAS sdot/saxpy, exact expf/log1pf", "02f84db", {}, {}),
    ("BLAS sdot/saxpy, table sigmoid", "9fa09d6", {"SKW2V_USE_BLAS": "1"}, {}),
    ("fused SIMD update + table", "9fa09d6", {}, {}),
    ("+ next context's negatives prefetched", "5769fe2", {}, {}),
    ("+ 4-accumulator dot (current default)", "HEAD", {}, {}),
    ("+ shared negatives per window (option)", "HEAD", {}, {"shared_negatives": True}),
]

TIMER = r"""
import sys, time, numpy as np
sys.path.insert(0, sys.argv[1])
from skw2v._estimator import Word2VecNS
from skw2v._corpus import encode_new, remap
from skw2v._vocab import select_vocabulary
from skw2v._training import run_epoch
docs = [l.split() for l in open(sys.argv[2])]
est = Word2VecNS(n_jobs=1, random_state=0)
raw = encode_new(docs, est._analyzer())
counts = np.bincount(raw.tokens)
kept = select_vocabulary(raw.types, counts, 5, None)
lookup = np.full(len(raw.types), -1, np.int32); lookup[kept] = np.arange(len(kept))
corpus = remap(raw, lookup); est.token_counts_ = counts[kept]
try:
    from skw2v._plan import plan_for
    plan = plan_for(corpus, est.token_counts_, est.get_params())
except ImportError:  # commits before skw2v._plan
    plan = est._plan(corpus, est.token_counts_)
if sys.argv[3] == "shared":
    plan.shared_negatives = True
rng = np.random.default_rng(0)
w_in = (rng.random((len(kept), 100), dtype=np.float32) - 0.5) / 100
w_out = np.zeros_like(w_in)
t0 = time.process_time()
r = run_epoch(plan, w_in, w_out, lr_start=0.025, lr_end=1e-4, progress_offset=0,
              progress_total=plan.n_tokens, seed=1, n_threads=1)
print(sum(map(len, docs)) / (time.process_time() - t0))
"""


def build(commit, env, dest):
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", commit],
                         capture_output=True, text=True, check=True).stdout.strip()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=dest,
                   env=dict(os.environ, **env), capture_output=True, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-callgrind", action="store_true")
    add_out_argument(ap)
    args = ap.parse_args()
    corpus = DATA / "ptb.train.txt"
    with tempfile.TemporaryDirectory() as tmp:
        dirs = {}
        for label, commit, env, _ in VARIANTS:
            key = (commit, tuple(sorted(env.items())))
            if key not in dirs:
                d = Path(tmp) / f"v{len(dirs)}"
                d.mkdir()
                print(f"building {commit} {env or ''}", file=sys.stderr)
                build(commit, env, d)
                dirs[key] = d
        srcs = [dirs[(c, tuple(sorted(e.items())))] for _, c, e, _ in VARIANTS]
        instr = {}
        if not args.no_callgrind:
            for (label, _, _, opt), src in zip(VARIANTS, srcs):
                cmd = [sys.executable, str(ROOT / "benchmarks" / "callgrind_kernel.py"),
                       "--tokens", "30000"] + (["--shared-negatives"] if opt else [])
                out = subprocess.run(cmd, capture_output=True, text=True,
                                     env=dict(os.environ, SKW2V_SRC=str(src))).stdout
                instr[label] = int(out.split("per positive pair:")[1].split()[0].replace(",", ""))
        speed = {label: [] for label, *_ in VARIANTS}
        for _ in range(args.repeats):
            for (label, _, _, opt), src in zip(VARIANTS, srcs):
                out = subprocess.run([sys.executable, "-c", TIMER, str(src), str(corpus),
                                      "shared" if opt else "-"],
                                     capture_output=True, text=True, check=True,
                                     env=dict(os.environ, OMP_NUM_THREADS="1"))
                speed[label].append(float(out.stdout.strip()))
    base = np.median(speed[VARIANTS[0][0]])
    print("| variant | instructions / positive pair | words/CPU-s (median) | vs first |")
    print("|---|---:|---:|---:|")
    for label, *_ in VARIANTS:
        med = np.median(speed[label])
        ins = f"{instr[label]:,}" if label in instr else "-"
        print(f"| {label} | {ins} | {med:,.0f} | {med / base:.2f}x |")
    write_json({"instructions": instr, "speed": speed}, args.out)


if __name__ == "__main__":
    main()
