"""Instructions per trained word of the training kernel, under callgrind.

Timings on a shared 2-core machine are noisy; instruction counts are not.
Runs one epoch of the kernel (n_jobs=1) on a fixed synthetic corpus and
prints instructions per corpus position and per trained pair, and the SIMD
clone that ran (``SKW2V_SIMD`` forces one).

valgrind emulates a CPU of its own (3.19, installed here, has no AVX-512), so under it
the x86-64-v4 clone is not usable, and a run that asks for it stops with a
message instead of silently counting another clone.

    python benchmarks/callgrind_kernel.py            # runs itself under valgrind
    python benchmarks/callgrind_kernel.py --arch cbow
    SKW2V_SIMD=baseline python benchmarks/callgrind_kernel.py --batch-window
"""

import argparse
import functools
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

# Measure the checkout this script sits in (built in place), or the one given
# by SKW2V_SRC (used by ablation.py), not an installed copy.
SRC = os.environ.get("SKW2V_SRC") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, SRC)

from _common import kernel_parameters  # noqa: E402  (this script's folder)


def kernel_symbol():
    """The kernel entry's symbol. Cython numbers its wrappers by definition order
    (..._1train_epoch, ..._9train_epoch), so it is read from the built module's
    symbol table (plain bytes in the .so; callgrind's --dump-after takes no wildcard)."""
    src = os.environ.get("SKW2V_SRC") or SRC  # ablation.py sets it per tree
    for so in sorted(Path(src, "skw2v").glob("_core*.so")):
        found = set(re.findall(rb"__pyx_pw_5skw2v_5_core_\d+train_epoch", so.read_bytes()))
        if len(found) == 1:
            return found.pop().decode()
    sys.exit(f"cannot find the kernel entry __pyx_pw_..._train_epoch in {src}/skw2v/_core*.so "
             "(built? python setup.py build_ext --inplace)")


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


def mode_params(args):
    """Estimator parameters of the update mode asked for (batch_window only if it exists)."""
    params = {}
    if args.shared_negatives:
        params["shared_negatives"] = True
    if args.batch_window is not None:
        params["batch_window"] = args.batch_window
    return params


def run_kernel(args, configs):
    """Run one epoch per configuration ({"clone": name or None, "mode": params});
    print one RESULT line each. Under callgrind every kernel call is dumped apart."""
    from skw2v import Word2VecNS, _core

    tokens, offsets, counts = synthetic_corpus(args.tokens, args.types)
    have = set(Word2VecNS().get_params()) | set(kernel_parameters())
    for i, config in enumerate(configs):
        result = {"index": i, "requested": config}
        missing = [k for k in config["mode"] if k not in have]
        if missing:
            result["skipped"] = f"this skw2v has no parameter {missing[0]!r}"
        elif config["clone"] and config["clone"] not in _core.usable_simd_clones():
            result["skipped"] = (f"clone {config['clone']} not usable in this process "
                                 f"(usable: {', '.join(_core.usable_simd_clones())})")
        else:
            if config["clone"]:
                _core.select_simd(config["clone"])
            result.update(one_epoch(args, config["mode"], tokens, offsets, counts))
        print("RESULT " + json.dumps(result), flush=True)


def one_epoch(args, mode, tokens, offsets, counts):
    from skw2v import _core
    from skw2v._estimator import Word2VecNS

    have = Word2VecNS().get_params()
    params = {k: v for k, v in mode.items() if k in have}
    flags = {k: v for k, v in mode.items() if k not in have}  # kernel-only options
    est = Word2VecNS(architecture=args.arch, vector_size=args.dim, sample_size=args.negative,
                     subsample=1e-3, random_state=0, n_jobs=1, **params)
    mode = {k: v for k, v in est.get_params().items()
            if k in ("batch_window", "shared_negatives")}
    mode.update({k: f"{v} (kernel flag)" for k, v in flags.items()})
    if flags:
        _core.train_epoch = functools.partial(_core.train_epoch, **flags)
    try:
        return _one_epoch(args, est, mode, tokens, offsets, counts)
    finally:
        if flags:
            _core.train_epoch = _core.train_epoch.func


def _one_epoch(args, est, mode, tokens, offsets, counts):
    from skw2v import _core
    from skw2v._estimator import Word2VecNS

    try:  # the internal path gives the positive pairs; it may move (refactors)
        from skw2v._corpus import EncodedCorpus
        from skw2v._training import run_epoch

        plan = _plan(est, EncodedCorpus(tokens, offsets, None), counts)
    except (ImportError, AttributeError, TypeError) as exc:
        print(f"NOTE internal kernel path unavailable ({exc}); fitting through the "
              "estimator: instructions per token only", file=sys.stderr)
        docs = [[str(t) for t in tokens[a:b]] for a, b in zip(offsets[:-1], offsets[1:])]
        Word2VecNS(**{**est.get_params(), "epochs": 1, "min_count": 1}).fit(docs)
        return {"positives": None, "words": None, "tokens": len(tokens),
                "clone": _clone(_core), "mode": mode}
    rng = np.random.default_rng(0)
    w_in = ((rng.random((args.types, args.dim), dtype=np.float32) - 0.5) / args.dim)
    w_out = np.zeros_like(w_in)
    res = run_epoch(plan, w_in, w_out, lr_start=0.025, lr_end=1e-4, progress_offset=0,
                    progress_total=len(tokens), seed=1, n_threads=1)
    return {"positives": float(res.positives), "words": float(res.words),
            "tokens": len(tokens), "clone": _clone(_core), "mode": mode}


def _plan(est, corpus, counts):
    """The training plan of ``est`` over ``corpus``, in this tree's layout."""
    try:
        from skw2v._plan import plan_for
    except ImportError:  # commits before skw2v._plan
        est.token_counts_ = counts
        try:
            return est._plan(corpus, counts)
        except TypeError:  # kernels before 28ec66f: _plan(corpus) read token_counts_
            return est._plan(corpus)
    return plan_for(corpus, counts, est.get_params())


def _clone(core):
    return getattr(core, "simd_clone", lambda: "pre-dispatch build")()


def measure_many(configs, argv=()):
    """Count the kernel's instructions for each configuration in one valgrind process.

    ``configs``: [{"clone": "baseline" | ... | None (the best usable), "mode": {param: value}}].
    Returns one dict per configuration: counts, or "skipped" with the reason (e.g. a
    clone valgrind's emulated CPU cannot run: it has no AVX-512).
    """
    args = parse(list(argv))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        symbol = kernel_symbol()
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
               "--collect-atstart=no", f"--toggle-collect={symbol}", f"--dump-after={symbol}",
               sys.executable, os.path.abspath(__file__), "--inner",
               "--configs", json.dumps(configs)] + list(argv)
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        env.pop("SKW2V_SIMD", None)  # each configuration names its clone
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        results = [json.loads(m) for m in re.findall(r"RESULT (\{.*\})", proc.stdout)]
        if proc.returncode != 0 or len(results) != len(configs):
            sys.exit(proc.stdout[-3000:] + proc.stderr[-3000:])
        dumps = sorted((f for f in os.listdir(tmp) if re.fullmatch(r"cg\.out\.\d+", f)),
                       key=lambda f: int(f.rsplit(".", 1)[1]))
        counts = [_total(os.path.join(tmp, f)) for f in dumps]
    ran = [r for r in results if "skipped" not in r]
    if len(counts) != len(ran):
        sys.exit(f"callgrind wrote {len(counts)} dumps for {len(ran)} kernel runs "
                 f"(is {symbol} still the kernel entry?)")
    version = valgrind_version()
    for res, ir in zip(ran, counts):
        if res["requested"]["clone"] and res["clone"] != res["requested"]["clone"]:
            sys.exit(f"asked for clone {res['requested']['clone']}, {res['clone']} ran")
        res.update(instructions=ir, per_token=ir / res["tokens"],
                   per_pair=ir / res["positives"] if res["positives"] else None)
    for res in results:
        res.update(arch=args.arch, dim=args.dim, negative=args.negative, valgrind=version)
        if "skipped" in res and "not usable" in res["skipped"]:
            res["skipped"] += f", under {version}, whose emulated CPU may lack what the host has"
    return results


def _total(path):
    with open(path) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    return None


def measure(argv=None):
    """One configuration (the command line's; SKW2V_SIMD names the clone)."""
    args = parse(argv)
    config = {"clone": os.environ.get("SKW2V_SIMD", "").strip() or None,
              "mode": mode_params(args)}
    res = measure_many([config], argv or [])[0]
    if "skipped" in res:
        sys.exit(f"SKW2V_SIMD={config['clone']}: {res['skipped']}: no instruction count")
    return res


def valgrind_version():
    try:
        return subprocess.run(["valgrind", "--version"], capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return None


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="skipgram", choices=["skipgram", "cbow"])
    ap.add_argument("--tokens", type=int, default=100_000)
    ap.add_argument("--types", type=int, default=20_000)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--negative", type=int, default=5)
    ap.add_argument("--shared-negatives", action="store_true",
                    help="skip-gram: one set of negatives per centre word")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--batch-window", dest="batch_window", action="store_const", const=True,
                      default=None, help="skip-gram: the window-batched update (batch_window)")
    mode.add_argument("--pairwise", dest="batch_window", action="store_const", const=False,
                      help="skip-gram: batch_window=False")
    ap.add_argument("--json", action="store_true", help="print the result as one JSON line")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--configs", default=None, help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def main():
    args = parse(sys.argv[1:])
    if args.inner:
        run_kernel(args, json.loads(args.configs))
        return
    argv = [a for a in sys.argv[1:] if a != "--json"]
    res = measure(argv)
    if args.json:
        print(json.dumps(res))
        return
    print(f"arch={res['arch']} dim={res['dim']} negative={res['negative']} "
          f"mode={res['mode']} clone={res['clone']} tokens={res['tokens']} "
          f"kept_words={res['words']} positives={res['positives']}")
    pair = f"{res['per_pair']:,.0f}" if res["per_pair"] else "n/a"
    print(f"instructions: {res['instructions']:,}  per corpus token: {res['per_token']:,.0f}  "
          f"per positive pair: {pair}")


if __name__ == "__main__":
    main()
