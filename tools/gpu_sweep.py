"""GPU speed sweep on pre-generated token ids: no text, no tokenisation.

For each vocabulary size, training path (skip-gram per pair, skip-gram
window-batched, CBOW) and launch geometry (threads per block, the
``__launch_bounds__`` blocks-per-SM hint), trains one warm-up epoch and one
timed epoch of a Zipf(1) corpus at d=100, window 5, 5 negatives, subsampling
1e-3, and records words/s (corpus positions per second), the mean loss, the
grid and the kernel's registers and occupancy. One row per path also runs
with plain (non-atomic) row updates, to price the atomics. With ``--ptxas``
(and nvcc on PATH), ptxas's register/spill report for sm_75, sm_80 and sm_90
of every module is added.

    python tools/gpu_sweep.py OUT.json [--tokens N] [--vocab V ...] [--emulate] [--ptxas]

``--emulate`` runs the CUDA emulator of tests/_cuda_emulator.py on the CPU
(tiny sizes; a dry run of the script, not a measurement).
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skw2v import _core  # noqa: E402
from skw2v._alias import alias_table, kernel_thresholds  # noqa: E402
from skw2v._cuda import _train as gt  # noqa: E402
from skw2v._vocab import keep_probabilities, noise_distribution  # noqa: E402

DIM, WINDOW, NEGATIVES, SUBSAMPLE = 100, 5, 5, 1e-3
PATHS = (("skipgram", False), ("skipgram", True), ("cbow", False))
# (threads per block, __launch_bounds__ min blocks per SM); the first is the default at d=100
GEOMETRIES = ((256, 2), (256, 0), (256, 3), (128, 4))


def zipf_plan(n_tokens, n_vocab, rng, sentence_length=20):
    """A plan-like object (the attributes GpuTrainer reads) over Zipf(1) ids;
    set its ``architecture`` before use."""
    cdf = np.cumsum(1.0 / np.arange(1, n_vocab + 1))
    cdf /= cdf[-1]
    tokens = np.minimum(np.searchsorted(cdf, rng.random(n_tokens)), n_vocab - 1).astype(np.int32)
    offsets = np.arange(0, n_tokens + sentence_length, sentence_length, dtype=np.int64)
    offsets[-1] = n_tokens
    offsets = np.unique(offsets)
    counts = np.bincount(tokens, minlength=n_vocab).astype(np.int64) + 1
    q = noise_distribution(counts, 0.75)
    accept, alias = alias_table(q)
    return SimpleNamespace(
        tokens=tokens, offsets=offsets, keep_prob=keep_probabilities(counts, SUBSAMPLE),
        alias_threshold=kernel_thresholds(accept), alias_index=alias,
        noise_log_kq=np.log(NEGATIVES * q).astype(np.float32),
        architecture=None, loss=_core.LOSSES["negative_sampling"],
        window=WINDOW, shrink_windows=True, sample_size=NEGATIVES, n_tokens=n_tokens,
    )


def ptxas_report(options, arch):
    """(registers, spill bytes) of skw2v_train from nvcc -Xptxas -v, or None."""
    if shutil.which("nvcc") is None:
        return None
    src = Path(gt.__file__).with_name("sgns.cu")
    cmd = ["nvcc", "-cubin", f"-arch={arch}", "-Xptxas", "-v", *options, "-o", "/dev/null",
           str(src)]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return {"error": proc.stderr[-400:]}
    part = proc.stderr.split("Compiling entry function 'skw2v_train'")[1]
    part = part.split("Compiling entry function")[0]
    regs = int(re.search(r"Used (\d+) registers", part).group(1))
    spill = sum(int(x) for x in re.findall(r"(\d+) bytes spill", part))
    return {"registers": regs, "spill_bytes": spill}


def make_backend(emulate):
    if not emulate:
        return None  # CuPy on the current device
    sys.path.insert(0, str(ROOT / "tests"))
    import tempfile

    from _cuda_emulator import EmulatedBackend

    build = Path(tempfile.gettempdir()) / "skw2v_cuda_emulator"
    build.mkdir(exist_ok=True)
    return EmulatedBackend(build, max_blocks=2)


def release_pool(emulate):
    if not emulate:
        import cupy

        cupy.get_default_memory_pool().free_all_blocks()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--tokens", type=int, default=10_000_000)
    ap.add_argument("--vocab", type=int, nargs="+", default=[17_262, 1_000_000])
    ap.add_argument("--emulate", action="store_true")
    ap.add_argument("--ptxas", action="store_true",
                    help="add nvcc's register/spill report per arch (CPU time; skip on the GPU)")
    args = ap.parse_args(argv)
    geometries = GEOMETRIES[:1] if args.emulate else GEOMETRIES
    rng = np.random.default_rng(0)
    rows, kernels, backend = [], {}, make_backend(args.emulate)
    t_start = time.perf_counter()
    print(f"{'V':>9} {'path':<17}{'thr':>4}{'minb':>5}{'atom':>5}{'grid':>6}{'regs':>5}"
          f"{'Mw/s':>8}{'loss':>8}", flush=True)
    def save(**extra):  # after every row: a timeout still leaves the rows so far
        args.out.write_text(json.dumps(dict(
            emulated=args.emulate, tokens=args.tokens, dim=DIM, window=WINDOW,
            negatives=NEGATIVES, rows=rows, seconds=time.perf_counter() - t_start, **extra),
            indent=1))

    for n_vocab in args.vocab:
        w_in = ((rng.random((n_vocab, DIM), dtype=np.float32) - 0.5) / DIM).astype(np.float32)
        w_out = np.zeros_like(w_in)
        plan = zipf_plan(args.tokens, n_vocab, rng)
        for arch, batch in PATHS:
            plan.architecture = _core.ARCHITECTURES[arch]
            name = arch + ("-batched" if batch else "")
            configs = [(t, m, True) for t, m in geometries] + [(*geometries[0], False)]
            for threads, min_blocks, atomic in configs:
                if not atomic and n_vocab != args.vocab[0]:
                    continue
                trainer = gt.GpuTrainer(plan, w_in, w_out, backend=backend, batch_window=batch,
                                        threads_per_block=threads, min_blocks_per_sm=min_blocks,
                                        atomic=atomic)
                try:
                    n = plan.n_tokens
                    kw = dict(lr_start=0.025, lr_end=1e-4, progress_total=2 * n)
                    trainer.run_epoch(progress_offset=0, seed=1, **kw)  # compile, warm up
                    res = trainer.run_epoch(progress_offset=n, seed=2, **kw)
                    attrs = {}
                    if hasattr(trainer._b, "kernel_attributes"):
                        attrs = trainer._b.kernel_attributes(trainer.options, "skw2v_train")
                    row = dict(V=n_vocab, path=name, threads=threads, min_blocks=min_blocks,
                               atomic=atomic, grid=trainer.max_blocks,
                               blocks_per_sm=getattr(trainer, "blocks_per_sm", None),
                               words_per_s=n / res.seconds, seconds=res.seconds,
                               mean_loss=res.mean_loss, finite=trainer.all_finite(), **attrs)
                    kernels.setdefault(" ".join(trainer.options), None)
                finally:
                    trainer.close()
                    release_pool(args.emulate)
                rows.append(row)
                save()
                print(f"{n_vocab:>9} {name:<17}{threads:>4}{min_blocks:>5}{int(atomic):>5}"
                      f"{row['grid']:>6}{row.get('num_regs', '-'):>5}"
                      f"{row['words_per_s'] / 1e6:>8.2f}{row['mean_loss']:>8.4f}", flush=True)
    ptxas = {}
    for options in kernels if args.ptxas else ():
        opts = tuple(options.split())
        ptxas[options] = {arch: ptxas_report(opts, arch) for arch in ("sm_75", "sm_80", "sm_90")}
    best = {}
    for r in rows:
        key = f"V={r['V']} {r['path']}"
        if r["atomic"] and r["words_per_s"] > best.get(key, {}).get("words_per_s", 0):
            best[key] = r
    print("best geometry per vocabulary and path:")
    for key, r in best.items():
        print(f"  {key:<32} {r['words_per_s'] / 1e6:8.2f} Mwords/s  threads={r['threads']} "
              f"min_blocks={r['min_blocks']} grid={r['grid']} regs={r.get('num_regs', '-')}")
    for options, per_arch in ptxas.items():
        path = re.search(r"SKW2V_PATH=(\d)", options).group(1)
        mb = re.search(r"SKW2V_MIN_BLOCKS=(\d+)", options).group(1)
        thr = re.search(r"SKW2V_THREADS=(\d+)", options).group(1)
        atomic = re.search(r"SKW2V_ATOMIC=(\d)", options).group(1)
        print(f"  ptxas path={path} threads={thr} min_blocks={mb} atomic={atomic}: " + ", ".join(
            f"{a} {v['registers']} regs {v['spill_bytes']} B spill" if v and "registers" in v
            else f"{a} {v}" for a, v in per_arch.items()))
    save(ptxas=ptxas)
    return rows


if __name__ == "__main__":
    main()
