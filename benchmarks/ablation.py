"""Which kernel technique buys what: one row per SIMD clone and update mode.

Rows of this checkout (built in place): every SIMD clone the CPU can run
(forced through ``SKW2V_SIMD``) x every skip-gram update mode this skw2v has
(pairwise, ``shared_negatives``, ``batch_window`` when the estimator has that
parameter), plus CBOW per clone. For each row:

- instructions per positive pair under callgrind (``callgrind_kernel.py``,
  load-independent; all rows of an architecture in one valgrind process).
  valgrind emulates its own CPU: a clone it cannot run (x86-64-v4: AVX-512
  under valgrind 3.19) gets no count, and the table says so;
- words per CPU-second of one epoch on PTB at n_jobs=1, each measurement in a
  fresh process with ``SKW2V_SIMD`` set, rows interleaved (A B C ... A B C ...)
  so machine noise hits all alike; the process checks that the clone asked
  for is the one that ran.

``--history`` adds the earlier kernels (commits of this repository built in
temporary copies). Those builds predate the feature dispatch: their
``target_clones("arch=haswell")`` is dispatched by CPU model, so on AMD
processors they run their default (SSE2) clone, while under valgrind 3.19,
whose emulated CPU reports itself as an Intel Haswell
(``__builtin_cpu_is("haswell")`` is 1 there, checked), they run the haswell
clone: for those rows the instruction count and the speed on AMD come from
different clones.

    python benchmarks/ablation.py [--repeats 3] [--no-callgrind | --no-speed] [--history]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _results import add_out_argument

import _common as C
import callgrind_kernel

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

# Skip-gram update modes: label, estimator parameters (batch_window only where it exists).
MODES = [
    ("pairwise", {"batch_window": False}),
    ("shared negatives", {"shared_negatives": True}),
    ("batch_window", {"batch_window": True}),
]

HISTORY = [
    # label, commit, extra build env, estimator parameters
    ("BLAS sdot/saxpy, exact expf/log1pf", "02f84db", {}, {}),
    ("BLAS sdot/saxpy, table sigmoid", "9fa09d6", {"SKW2V_USE_BLAS": "1"}, {}),
    ("fused SIMD update + table", "9fa09d6", {}, {}),
    ("+ next context's negatives prefetched", "5769fe2", {}, {}),
]

# One epoch on a corpus file at n_jobs=1, CPU seconds of the epoch only.
# argv: source tree, corpus, architecture, JSON of estimator parameters, clone asked for.
TIMER = r"""
import json, sys, time, numpy as np
sys.path.insert(0, sys.argv[1])
from skw2v import _core
from skw2v._estimator import Word2VecNS
from skw2v._corpus import encode_new, remap
from skw2v._vocab import select_vocabulary
from skw2v._training import run_epoch
clone = getattr(_core, "simd_clone", lambda: "pre-dispatch build")()
if sys.argv[5] != "-" and clone != sys.argv[5]:
    sys.exit(f"asked for clone {sys.argv[5]} but {clone} runs")
docs = [l.split() for l in open(sys.argv[2])]
mode = json.loads(sys.argv[4])
have = Word2VecNS().get_params()
flags = {k: v for k, v in mode.items() if k not in have}  # options only the kernel has yet
if flags:
    import functools
    _core.train_epoch = functools.partial(_core.train_epoch, **flags)
est = Word2VecNS(n_jobs=1, random_state=0, architecture=sys.argv[3],
                 **{k: v for k, v in mode.items() if k in have})
raw = encode_new(docs, est._analyzer())
counts = np.bincount(raw.tokens)
kept = select_vocabulary(raw.types, counts, 5, None)
lookup = np.full(len(raw.types), -1, np.int32); lookup[kept] = np.arange(len(kept))
corpus = remap(raw, lookup); est.token_counts_ = counts[kept]
try:
    from skw2v._plan import plan_for
    plan = plan_for(corpus, est.token_counts_, est.get_params())
except ImportError:  # commits before skw2v._plan
    try:
        plan = est._plan(corpus, est.token_counts_)
    except TypeError:  # kernels before 28ec66f: _plan(corpus) read token_counts_
        plan = est._plan(corpus)
rng = np.random.default_rng(0)
w_in = (rng.random((len(kept), 100), dtype=np.float32) - 0.5) / 100
w_out = np.zeros_like(w_in)
t0 = time.process_time()
r = run_epoch(plan, w_in, w_out, lr_start=0.025, lr_end=1e-4, progress_offset=0,
              progress_total=plan.n_tokens, seed=1, n_threads=1)
print(json.dumps({"words_per_cpu_second": sum(map(len, docs)) / (time.process_time() - t0),
                  "clone": clone}))
"""

# The same through the public API, for a tree whose internals moved: the fit's
# training seconds (wall time; n_jobs=1).
TIMER_PUBLIC = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from skw2v import _core
from skw2v import Word2VecNS
clone = getattr(_core, "simd_clone", lambda: "pre-dispatch build")()
if sys.argv[5] != "-" and clone != sys.argv[5]:
    sys.exit(f"asked for clone {sys.argv[5]} but {clone} runs")
docs = [l.split() for l in open(sys.argv[2])]
est = Word2VecNS(n_jobs=1, random_state=0, epochs=1, architecture=sys.argv[3],
                 **json.loads(sys.argv[4])).fit(docs)
print(json.dumps({"words_per_cpu_second": sum(map(len, docs)) / est.train_seconds_,
                  "clone": clone, "timer": "train_seconds_ (wall)"}))
"""


class Row:
    def __init__(self, arch, label, clone, params, src, history=False):
        self.arch, self.label, self.clone, self.params = arch, label, clone, params
        self.src, self.history = src, history
        self.instructions = None  # per positive pair
        self.note = ""
        self.speed = []
        self.clone_ran = None


def build(commit, env, dest):
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", commit],
                         capture_output=True, text=True, check=True).stdout.strip()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=dest,
                   env=dict(os.environ, **env), capture_output=True, check=True)


def current_rows(archs):
    """Rows of this checkout: clones x modes (skip-gram), clones (CBOW)."""
    from skw2v import Word2VecNS, _core

    have = set(Word2VecNS().get_params()) | set(C.kernel_parameters())
    rows, missing = [], []
    for arch in archs:
        for clone in _core.usable_simd_clones():
            if arch == "cbow":
                rows.append(Row(arch, "CBOW", clone, {}, ROOT))
                continue
            for label, params in MODES:
                absent = [k for k in params if k not in have]
                if label == "pairwise" and absent:
                    # before batch_window existed, pairwise was the only update
                    label, params, absent = "pairwise (no batch_window parameter)", {}, []
                if absent:
                    missing.append(f"{label} (no {absent[0]!r} parameter in this skw2v)")
                    continue
                rows.append(Row(arch, label, clone, params, ROOT))
    return rows, sorted(set(missing))


def count_instructions(rows, tokens):
    """callgrind per positive pair for each row, one valgrind process per
    (source tree, architecture)."""
    groups = {}
    for row in rows:
        groups.setdefault((str(row.src), row.arch), []).append(row)
    for (src, arch), group in groups.items():
        configs = [{"clone": None if r.history else r.clone, "mode": r.params} for r in group]
        print(f"callgrind: {len(group)} {arch} row(s) of {src}", file=sys.stderr, flush=True)
        os.environ["SKW2V_SRC"] = src
        try:
            results = callgrind_kernel.measure_many(configs, ["--arch", arch,
                                                              "--tokens", str(tokens)])
        finally:
            os.environ.pop("SKW2V_SRC", None)
        for row, res in zip(group, results):
            if "skipped" in res:
                row.note = res["skipped"]
            else:
                row.instructions = res["per_pair"]


def time_rows(rows, corpus, repeats):
    for _ in range(repeats):
        for row in rows:
            env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
            env.pop("SKW2V_SIMD", None)
            if not row.history:
                env["SKW2V_SIMD"] = row.clone
            args = [str(row.src), str(corpus), row.arch, json.dumps(row.params),
                    "-" if row.history else row.clone]
            out = subprocess.run([sys.executable, "-c", TIMER, *args], capture_output=True,
                                 text=True, env=env)
            if out.returncode != 0 and "ImportError" in out.stderr + out.stdout:
                out = subprocess.run([sys.executable, "-c", TIMER_PUBLIC, *args],
                                     capture_output=True, text=True, env=env)
            if out.returncode != 0:
                sys.exit(f"timing {row.label} ({row.clone}) failed:\n{out.stderr[-3000:]}")
            res = json.loads(out.stdout.strip().splitlines()[-1])
            row.speed.append(res["words_per_cpu_second"])
            row.clone_ran = res["clone"]
            print(f"  {row.arch:8s} {row.label:40s} {row.clone_ran:18s} "
                  f"{res['words_per_cpu_second']:>12,.0f} words/CPU-s", file=sys.stderr,
                  flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--archs", nargs="+", default=["skipgram", "cbow"],
                    choices=["skipgram", "cbow"])
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--no-speed", action="store_true",
                    help="instruction counts only (load-independent: any time)")
    ap.add_argument("--callgrind-tokens", type=int, default=30000)
    ap.add_argument("--history", action="store_true",
                    help="also build and measure the earlier kernels (skip-gram; minutes)")
    ap.add_argument("--corpus", type=Path, default=DATA / "ptb.train.txt")
    add_out_argument(ap)
    args = ap.parse_args()
    from skw2v import _core

    info = C.machine()
    C.print_machine(info)
    rows, missing = current_rows(args.archs)
    for m in missing:
        print(f"no row for {m}")
    native = _core.usable_simd_clones()
    with tempfile.TemporaryDirectory() as tmp:
        history = []
        if args.history and "skipgram" in args.archs:
            dirs = {}
            for label, commit, env, params in HISTORY:
                key = (commit, tuple(sorted(env.items())))
                if key not in dirs:
                    d = Path(tmp) / f"v{len(dirs)}"
                    d.mkdir()
                    print(f"building {commit} {env or ''}", file=sys.stderr, flush=True)
                    build(commit, env, d)
                    dirs[key] = d
                history.append(Row("skipgram", f"{label} ({commit})", "pre-dispatch", params,
                                   dirs[key], history=True))
            rows = history + rows
        if not args.no_callgrind:
            count_instructions(rows, args.callgrind_tokens)
        if not args.no_speed:
            time_rows(rows, args.corpus, args.repeats)
    base = {arch: next((np.median(r.speed) for r in rows
                        if r.arch == arch and not r.history and r.clone == "baseline"
                        and r.label.startswith(("pairwise", "CBOW")) and r.speed), None)
            for arch in args.archs}
    lines = ["| arch | variant | SIMD clone (ran) | instructions / positive pair | "
             "words/CPU-s (median) | vs baseline clone, same arch |",
             "|---|---|---|---:|---:|---:|"]
    for r in rows:
        med = float(np.median(r.speed)) if r.speed else float("nan")
        ins = f"{r.instructions:,.0f}" if r.instructions else (
            "n/a (valgrind cannot run this clone)" if "not usable" in r.note else
            ("-" if args.no_callgrind else f"n/a ({r.note})" if r.note else "n/a"))
        clone = (r.clone_ran or r.clone) if not r.history else (
            "pre-dispatch: default (SSE2) clone natively on AMD, haswell clone under valgrind"
            if info.get("cpu_vendor") == "AuthenticAMD"
            else "pre-dispatch (arch=haswell by CPU model; haswell under valgrind)")
        rel = f"{med / base[r.arch]:.2f}x" if base.get(r.arch) and r.speed else "-"
        speed = f"{med:,.0f}" if r.speed else "-"
        lines.append(f"| {r.arch} | {r.label} | {clone} | {ins} | {speed} | {rel} |")
    table = "\n".join(lines)
    print("\n" + table + "\n")
    if "x86-64-v4" in native:
        v4 = [r for r in rows if r.clone == "x86-64-v4" and not r.history]
        figures = ", ".join(f"{r.arch} {r.label} {np.median(r.speed):,.0f} words/CPU-s"
                            for r in v4 if r.speed) or "speed not measured (--no-speed)"
        print(f"This CPU has AVX-512: the x86-64-v4 rows are the AVX-512 clone's figures "
              f"({figures}); "
              f"instructions per pair for it: "
              + ("none, valgrind's emulated CPU has no AVX-512"
                 if any("not usable" in r.note for r in v4) else "see the table"))
    else:
        print(f"This CPU has no AVX-512 (usable clones: {', '.join(native)}): no x86-64-v4 row; "
              "its figure needs a machine with AVX-512")
    out = {"machine": info, "native_clones": list(native), "missing_modes": missing,
           "rows": [{"arch": r.arch, "variant": r.label, "clone": r.clone,
                     "clone_ran": r.clone_ran, "params": r.params, "history": r.history,
                     "instructions_per_pair": r.instructions, "note": r.note,
                     "words_per_cpu_second": r.speed} for r in rows],
           "table": table}
    C.save_json(out, args.out)


if __name__ == "__main__":
    main()
