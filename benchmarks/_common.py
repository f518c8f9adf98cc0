"""Shared pieces of the benchmarks: corpora, trainers, evaluation, timing, machine.

Every trainer returns the same record (seconds of training, seconds of the
whole fit, vectors and tokens by frequency) so the scripts can alternate
implementations and compare them on equal terms. Speed is always reported
as raw corpus tokens x epochs / seconds, the figure gensim logs.
"""

import contextlib
import functools
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results"
sys.path.insert(0, str(ROOT))  # the worktree's skw2v, built in place

# The settings of issue 2's comparison (gensim's defaults besides workers/sg).
SETTINGS = {"dim": 100, "window": 5, "negative": 5, "min_count": 5, "sample": 1e-3,
            "epochs": 5, "alpha": 0.025, "min_alpha": 1e-4}


# ----------------------------------------------------------------- corpora
def require_data(*names):
    missing = [n for n in names if not (DATA / n).is_file()]
    if missing:
        sys.exit(f"missing data files {missing} in {DATA.resolve()}: the benchmarks need "
                 "../shared/data next to the repository")


def read_sentences(path):
    """One sentence per line, whitespace tokens; equal tokens share one str object."""
    intern = {}
    out = []
    with open(path, encoding="utf8") as f:
        for line in f:
            toks = line.split()
            if toks:
                out.append([intern.setdefault(t, t) for t in toks])
    return out


def ptb_brown():
    """PTB train + Brown, concatenated, as token lists."""
    require_data("ptb.train.txt", "brown.txt")
    return read_sentences(DATA / "ptb.train.txt") + read_sentences(DATA / "brown.txt")


def write_sentences(sentences, path):
    with open(path, "w", encoding="utf8") as f:
        for s in sentences:
            f.write(" ".join(s))
            f.write("\n")
    return Path(path)


def n_tokens(sentences):
    return sum(map(len, sentences))


# ----------------------------------------------------------------- trainers
class Run:
    """One training run: timings plus vectors sorted by frequency."""

    def __init__(self, impl, train_seconds, fit_seconds, vectors, tokens):
        self.impl = impl
        self.train_seconds = train_seconds
        self.fit_seconds = fit_seconds
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.tokens = list(tokens)


# skw2v's skip-gram update modes. ``batch_window`` is passed only where the
# estimator has that parameter, so the scripts run before and after it exists.
SKW2V_VARIANTS = {
    "default": {},                        # the estimator's defaults, whatever they are
    "batch_window": {"batch_window": True},
    "pairwise": {"batch_window": False},  # fresh negatives per (centre, context) pair
    "shared_negatives": {"shared_negatives": True},
}
SG_ONLY_VARIANTS = ("batch_window", "pairwise", "shared_negatives")


def skw2v_impl_name(variant):
    return "skw2v" if variant == "default" else f"skw2v:{variant}"


def skw2v_variant_of(impl):
    """"skw2v" -> "default", "skw2v:pairwise" -> "pairwise", other impls -> None."""
    if impl == "skw2v":
        return "default"
    if impl.startswith("skw2v:"):
        return impl.split(":", 1)[1]
    return None


def skw2v_variant_params(variant):
    """(estimator parameters, kernel flags) of ``variant``, or a ValueError saying why
    it cannot run.

    A parameter the estimator lacks but ``_core.train_epoch`` takes (a kernel
    merged before its estimator parameter) becomes a kernel flag, passed by
    ``kernel_flags``.
    """
    from skw2v import Word2VecNS

    if variant not in SKW2V_VARIANTS:
        raise ValueError(f"unknown skw2v variant {variant!r}; choose from {list(SKW2V_VARIANTS)}")
    have = Word2VecNS().get_params()
    params, flags = {}, {}
    for name, value in SKW2V_VARIANTS[variant].items():
        if name in have:
            params[name] = value
        elif name in kernel_parameters():
            flags[name] = value
        else:
            raise ValueError(f"this skw2v has no parameter {name!r} (variant {variant!r} "
                             "needs a build that has it)")
    return params, flags


def kernel_parameters():
    """{name: default} of the keyword arguments of this build's ``_core.train_epoch``."""
    import inspect

    from skw2v import _core

    try:
        return {name: p.default
                for name, p in inspect.signature(_core.train_epoch).parameters.items()}
    except (TypeError, ValueError):
        return {}


def skw2v_defaults():
    """What skw2v does by default: the estimator's parameters, and for options only
    its kernel has yet, the kernel's defaults."""
    from skw2v import Word2VecNS

    return {**kernel_parameters(), **Word2VecNS().get_params()}


@contextlib.contextmanager
def kernel_flags(**flags):
    """Pass ``flags`` to every ``_core.train_epoch`` call inside the block (for kernel
    options the estimator does not expose yet)."""
    from skw2v import _core

    if not flags:
        yield
        return
    kernel = _core.train_epoch
    _core.train_epoch = functools.partial(kernel, **flags)
    try:
        yield
    finally:
        _core.train_epoch = kernel


SIMD_FORCED = [None]  # the clone --simd forced in this process (None: the best one)


def force_simd(name):
    """Make the kernel run clone ``name`` (None: check that it runs the best one)."""
    from skw2v import _core

    if name is not None:
        _core.select_simd(name)
    SIMD_FORCED[0] = name
    check_simd_clone()


def check_simd_clone():
    """The clone running is the best one the CPU supports, or the one --simd forced.

    A figure from the wrong clone is worse than none, so this stops the script.
    """
    from skw2v import _core

    if not hasattr(_core, "simd_clone"):
        sys.exit("this skw2v build has no SIMD dispatch (_core.simd_clone): rebuild it "
                 "(python setup.py build_ext --inplace)")
    running, forced = _core.simd_clone(), SIMD_FORCED[0]
    expected = forced or _core.usable_simd_clones()[-1]
    if running != expected:
        hint = (f" (SKW2V_SIMD={os.environ['SKW2V_SIMD']!r} is set: unset it, or pass --simd "
                "to benchmark a forced clone)" if os.environ.get("SKW2V_SIMD") else "")
        raise AssertionError(f"skw2v runs SIMD clone {running!r}, expected {expected!r} "
                             f"(usable here: {_core.usable_simd_clones()}){hint}")
    return running


def train_skw2v(sentences, sg, threads, seed, epochs=SETTINGS["epochs"], variant="default"):
    """skw2v's Word2VecNS with SETTINGS (plus the parameters of ``variant``).

    The run's record carries the code path that produced it (``code_path``).
    """
    from skw2v import Word2VecNS, _core

    s = SETTINGS
    params, flags = skw2v_variant_params(variant)
    model = Word2VecNS(vector_size=s["dim"], window=s["window"], sample_size=s["negative"],
                       min_count=s["min_count"], subsample=s["sample"], epochs=epochs,
                       learning_rate=s["alpha"], min_learning_rate=s["min_alpha"],
                       architecture="skipgram" if sg else "cbow", n_jobs=threads,
                       random_state=seed, **params)
    clone = check_simd_clone()
    start = time.perf_counter()
    with kernel_flags(**flags):
        model.fit(sentences)
    fit = time.perf_counter() - start
    if _core.simd_clone() != clone:
        raise AssertionError(f"the SIMD clone changed during the fit: {clone} -> "
                             f"{_core.simd_clone()}")
    run = Run(skw2v_impl_name(variant), model.train_seconds_, fit,
              model.vectors_, model.index_to_token_)
    params = model.get_params()
    if "batch_window" in flags:
        batch_window = f"{flags['batch_window']} (kernel flag: no estimator parameter yet)"
    else:
        batch_window = params.get("batch_window", "n/a (no such parameter)")
    try:  # what "auto" resolved to: the update that ran
        from skw2v._plan import resolve_batch_window
        batched = bool(resolve_batch_window(params)) if sg else False
        update = "window-batched" if batched else (
            "shared negatives" if params.get("shared_negatives") and sg else
            "per pair" if sg else "CBOW")
    except ImportError:
        update = "n/a"
    run.code_path = {"simd_clone": clone, "n_threads_": int(model.n_threads_),
                     "batch_window": batch_window, "update": update,
                     "per_pair_cbow_isa": _core.SIMD_FUSED_ISA[_core.SIMD_CLONES.index(clone)],
                     "shared_negatives": params.get("shared_negatives")}
    return run


def train_gensim(sentences, sg, threads, seed, epochs=SETTINGS["epochs"], corpus_file=None,
                 w2v_init=False):
    """gensim Word2Vec: in memory (``sentences``) or from ``corpus_file``.

    Training seconds are those of ``train()``; the fit adds ``build_vocab()``.
    ``w2v_init`` replaces gensim's initial vectors, uniform(-1, 1) / d, by
    word2vec.c's (and skw2v's) uniform(-0.5, 0.5) / d, to test whether the
    initial scale explains a quality difference.
    """
    from gensim.models import Word2Vec

    s = SETTINGS
    model = Word2Vec(vector_size=s["dim"], window=s["window"], negative=s["negative"], hs=0,
                     min_count=s["min_count"], sample=s["sample"], epochs=epochs,
                     alpha=s["alpha"], min_alpha=s["min_alpha"], sg=int(sg),
                     workers=threads, seed=seed)
    start = time.perf_counter()
    if corpus_file is None:
        model.build_vocab(sentences)
        if w2v_init:
            rng = np.random.default_rng(seed)
            model.wv.vectors[:] = (rng.random(model.wv.vectors.shape, dtype=np.float32)
                                   - 0.5) / s["dim"]
        mid = time.perf_counter()
        model.train(sentences, total_examples=model.corpus_count, epochs=epochs)
    else:
        model.build_vocab(corpus_file=str(corpus_file))
        mid = time.perf_counter()
        model.train(corpus_file=str(corpus_file), total_words=model.corpus_total_words,
                    total_examples=model.corpus_count, epochs=epochs)
    end = time.perf_counter()
    impl = "gensim" if corpus_file is None else "gensim-file"
    impl += "-w2vinit" if w2v_init else ""
    return Run(impl, end - mid, end - start, model.wv.vectors, model.wv.index_to_key)


def word2vec_c_binary():
    """word2vec.c's executable: $SKW2V_WORD2VEC_C, else the one PyPI ``word2vec`` installs."""
    forced = os.environ.get("SKW2V_WORD2VEC_C")
    if forced:
        return forced if Path(forced).is_file() else None
    return _bin_next_to_python("word2vec") or shutil.which("word2vec")


def _bin_next_to_python(name):
    cand = Path(sys.executable).parent / name
    return str(cand) if cand.is_file() else None


def write_word2vec_vocab(sentences, path, min_count):
    """word2vec.c's vocabulary file ('word count' lines, '</s>' = one per line).

    Given with -read-vocab it skips word2vec.c's counting pass, so the timed
    process is (almost) training only.
    """
    counts = {}
    for s in sentences:
        for t in s:
            counts[t] = counts.get(t, 0) + 1
    items = sorted(((c, t) for t, c in counts.items() if c >= min_count),
                   key=lambda ct: (-ct[0], ct[1]))
    with open(path, "w", encoding="utf8") as f:
        f.write(f"</s> {len(sentences)}\n")
        for c, t in items:
            f.write(f"{t} {c}\n")
    return Path(path)


def train_word2vec_c(corpus_file, vocab_file, sg, threads, epochs=SETTINGS["epochs"]):
    """The original word2vec.c (PyPI ``word2vec`` builds it); wall time of the process."""
    exe = word2vec_c_binary()
    s = SETTINGS
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "vectors.bin"
        cmd = [exe, "-train", str(corpus_file), "-output", str(out), "-size", str(s["dim"]),
               "-window", str(s["window"]), "-sample", str(s["sample"]), "-hs", "0",
               "-negative", str(s["negative"]), "-threads", str(threads), "-iter", str(epochs),
               "-min-count", str(s["min_count"]), "-alpha", str(s["alpha"]), "-debug", "0",
               "-binary", "1", "-cbow", "0" if sg else "1", "-read-vocab", str(vocab_file)]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        vectors, tokens = read_word2vec_binary(out)
    return Run("word2vec.c", seconds, seconds, vectors, tokens)


def read_word2vec_binary(path):
    with open(path, "rb") as f:
        n, dim = map(int, f.readline().split())
        tokens, vectors = [], np.empty((n, dim), dtype=np.float32)
        for i in range(n):
            word = bytearray()
            while (ch := f.read(1)) != b" ":
                if ch != b"\n":
                    word += ch
            tokens.append(word.decode("utf8", errors="replace"))
            vectors[i] = np.frombuffer(f.read(4 * dim), dtype=np.float32)
    # Row 0 is word2vec.c's sentence marker, not a word.
    keep = [i for i, t in enumerate(tokens) if t != "</s>"]
    return vectors[keep], [tokens[i] for i in keep]


# ----------------------------------------------------------------- pWord2Vec
PWORD2VEC_SRC = DATA.parent / "peers" / "pWord2Vec"

# Stand-in for mkl.h, written next to a private copy of pWord2Vec.cpp: its
# only MKL calls are cblas_sgemm and mkl_set_num_threads, mapped here to the
# OpenBLAS SciPy ships (whose symbols carry a prefix, e.g. scipy_cblas_sgemm).
_MKL_SHIM = """/* mkl.h stand-in (skw2v benchmarks): MKL's calls -> {lib} */
#pragma once
#include <mm_malloc.h>
#include <stdio.h>   /* what mkl.h brings in and pWord2Vec.cpp relies on */
#include <stdlib.h>
#define cblas_sgemm {sgemm}
#define mkl_set_num_threads {set_threads}
#ifdef __cplusplus
extern "C" {{
#endif
enum CBLAS_ORDER {{ CblasRowMajor = 101, CblasColMajor = 102 }};
enum CBLAS_TRANSPOSE {{ CblasNoTrans = 111, CblasTrans = 112, CblasConjTrans = 113 }};
void cblas_sgemm(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE,
                 {i} m, {i} n, {i} k, float alpha, const float *a, {i} lda,
                 const float *b, {i} ldb, float beta, float *c, {i} ldc);
void mkl_set_num_threads(int n);
#ifdef __cplusplus
}}
#endif
"""


def scipy_openblas():
    """(path, symbol prefix, symbol suffix, version) of the OpenBLAS SciPy uses, or None."""
    import ctypes

    import scipy.linalg  # noqa: F401  (loads it)
    from threadpoolctl import threadpool_info

    found = []
    for info in threadpool_info():
        if info.get("internal_api") != "openblas":
            continue
        lib = ctypes.CDLL(info["filepath"])
        for prefix in ("scipy_", ""):
            for suffix in ("", "64_"):
                if hasattr(lib, f"{prefix}cblas_sgemm{suffix}"):
                    found.append((info["filepath"], prefix, suffix, info.get("version")))
    # SciPy's own (32-bit integers) before NumPy's ILP64 one
    found.sort(key=lambda f: ("scipy.libs" not in f[0], f[2] != ""))
    return found[0] if found else None


def cxx_compiler():
    for name in (os.environ.get("CXX"), "g++", "c++", "clang++"):
        if name and shutil.which(name.split()[0]):
            return name
    return None


def build_pword2vec(dest):
    """Build a private copy of pWord2Vec in ``dest`` against SciPy's OpenBLAS.

    Returns (executable or None, info dict; info["skipped"] says why when None).
    Its makefile asks icpc for -O3 -xhost -qopenmp with MKL; here the same
    meaning with GCC/clang: -O3 -march=native -fopenmp -DUSE_MKL.
    """
    src = PWORD2VEC_SRC / "pWord2Vec.cpp"
    if not src.is_file():
        return None, {"skipped": f"no pWord2Vec source at {src.resolve()}"}
    cxx = cxx_compiler()
    if cxx is None:
        return None, {"skipped": "no C++ compiler (g++, c++ or clang++; or set CXX)"}
    blas = scipy_openblas()
    if blas is None:
        return None, {"skipped": "no OpenBLAS with cblas_sgemm found through SciPy"}
    lib, prefix, suffix, version = blas
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, dest / "pWord2Vec.cpp")
    (dest / "mkl.h").write_text(_MKL_SHIM.format(
        lib=Path(lib).name, sgemm=f"{prefix}cblas_sgemm{suffix}",
        set_threads=f"{prefix}openblas_set_num_threads{suffix}",
        i="long long" if suffix == "64_" else "int"))
    flags = ["-std=c++11", "-O3", "-march=native", "-fopenmp", "-DUSE_MKL", "-w"]
    exe = dest / "pWord2Vec"
    cmd = cxx.split() + [str(dest / "pWord2Vec.cpp"), "-o", str(exe), "-I", str(dest)] + flags \
        + [lib, f"-Wl,-rpath,{Path(lib).parent}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return None, {"skipped": f"build failed ({' '.join(cmd)}): {proc.stderr[-2000:]}"}
    version_line = subprocess.run(cxx.split() + ["--version"], capture_output=True,
                                  text=True).stdout.splitlines()[:1]
    linked = _ldd(exe, "openblas")
    return str(exe), {"compiler": " ".join(version_line), "flags": " ".join(flags),
                      "blas": f"OpenBLAS {version} via {prefix}cblas_sgemm{suffix}",
                      "blas_library": linked or lib,
                      "source": str(PWORD2VEC_SRC.resolve())}


def _ldd(exe, needle):
    """The resolved path of the linked library whose name contains ``needle``."""
    try:
        out = subprocess.run(["ldd", str(exe)], capture_output=True, text=True).stdout
    except OSError:
        return None
    for line in out.splitlines():
        if needle in line and "=>" in line:
            return line.split("=>", 1)[1].split("(")[0].strip()
    return None


PWORD2VEC_SELF_REPORTED = []  # its own last "Words/sec" per run, in raw corpus words/s


def train_pword2vec(exe, corpus_file, vocab_file, threads, epochs=SETTINGS["epochs"],
                    raw_tokens=None):
    """pWord2Vec (skip-gram, HogBatch); wall time of the process given the vocabulary,
    as for word2vec.c.

    Its own progress figure covers the training loop only (no vocabulary, no
    1e8-entry noise table, no loading); it counts in-vocabulary words plus one
    end-of-sentence marker per line, so it is rescaled to raw corpus tokens
    (``raw_tokens``) like every other figure and kept in PWORD2VEC_SELF_REPORTED.
    """
    counted = 0  # what pWord2Vec counts per epoch: the vocabulary file's counts, </s> included
    with open(vocab_file, encoding="utf8") as f:
        for line in f:
            counted += int(line.split()[1])
    s = SETTINGS
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "vectors.bin"
        cmd = [exe, "-train", str(corpus_file), "-output", str(out), "-size", str(s["dim"]),
               "-window", str(s["window"]), "-sample", str(s["sample"]),
               "-negative", str(s["negative"]), "-threads", str(threads), "-iter", str(epochs),
               "-min-count", str(s["min_count"]), "-alpha", str(s["alpha"]), "-debug", "2",
               "-binary", "1", "-read-vocab", str(vocab_file)]
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS=str(threads))
        start = time.perf_counter()
        proc = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
        seconds = time.perf_counter() - start
        rates = [float(x) for x in
                 re.findall(r"Words/sec: ([0-9.]+)k", proc.stdout)]
        scale = raw_tokens / counted if raw_tokens else 1.0
        PWORD2VEC_SELF_REPORTED.append(rates[-1] * 1000 * scale if rates else None)
        vectors, tokens = read_word2vec_binary(out)
    return Run("pword2vec", seconds, seconds, vectors, tokens)


FASTTEXT_FAILURES = []  # (arch, threads) of attempts lost to fastText's "Encountered NaN"


def train_fasttext(corpus_file, sg, threads, epochs=SETTINGS["epochs"], attempts=3):
    """fastText without subwords (minn=maxn=0); the call includes its vocabulary pass.

    fastText 0.9.3 from PyPI aborts some runs in their first seconds with
    "Encountered NaN" on this machine, whatever the learning rate or corpus
    (fastText issues 1278 and 638 describe the same): such attempts are
    retried (with one thread the failure repeats: the Python binding takes
    no seed), counted in FASTTEXT_FAILURES, and only a completed run is
    timed; None if every attempt failed.
    """
    import fasttext

    s = SETTINGS
    for _ in range(attempts):
        start = time.perf_counter()
        try:
            model = fasttext.train_unsupervised(
                str(corpus_file), model="skipgram" if sg else "cbow", dim=s["dim"],
                ws=s["window"], epoch=epochs, minCount=s["min_count"], neg=s["negative"],
                loss="ns", minn=0, maxn=0, wordNgrams=1, bucket=0, t=s["sample"],
                lr=s["alpha"], thread=threads, verbose=0)
        except RuntimeError as exc:
            if "NaN" not in str(exc):
                raise
            FASTTEXT_FAILURES.append(("sg" if sg else "cbow", threads))
            continue
        seconds = time.perf_counter() - start
        words = [w for w in model.get_words() if w != "</s>"]
        vectors = np.stack([model.get_word_vector(w) for w in words])
        return Run("fasttext", seconds, seconds, vectors, words)
    return None


def train_impl(impl, sentences, files, sg, threads, seed, epochs):
    """Dispatch: ``files`` has "corpus" (the sentences as a text file) and,
    for word2vec.c and pWord2Vec, "w2v_vocab" (see write_word2vec_vocab);
    pWord2Vec also needs "pword2vec" (the executable build_pword2vec made).
    skw2v's variants are named "skw2v:VARIANT" (SKW2V_VARIANTS)."""
    variant = skw2v_variant_of(impl)
    if variant is not None:
        return train_skw2v(sentences, sg, threads, seed, epochs, variant=variant)
    if impl == "pword2vec":
        if not sg:
            return None  # skip-gram only (HogBatch)
        return train_pword2vec(files["pword2vec"], files["corpus"], files["w2v_vocab"],
                               threads, epochs, raw_tokens=n_tokens(sentences))
    if impl == "gensim":
        return train_gensim(sentences, sg, threads, seed, epochs)
    if impl == "gensim-w2vinit":
        return train_gensim(sentences, sg, threads, seed, epochs, w2v_init=True)
    if impl == "gensim-file":
        return train_gensim(None, sg, threads, seed, epochs, corpus_file=files["corpus"])
    if impl == "word2vec.c":
        return train_word2vec_c(files["corpus"], files["w2v_vocab"], sg, threads, epochs)
    if impl == "fasttext":
        return train_fasttext(files["corpus"], sg, threads, epochs)
    raise ValueError(f"unknown implementation {impl!r}")


def has_module(name):
    try:
        __import__(name)
        return True
    except ImportError:
        return False


# ----------------------------------------------------------------- evaluation
def evaluate(run):
    """WS353 / SimLex-999 Spearman and analogy accuracy (top 30k), gensim's conventions."""
    from skw2v.evaluation import evaluate_analogies, evaluate_word_pairs

    require_data("wordsim353.tsv", "simlex999.txt", "questions-words.txt")
    model = (run.vectors, run.tokens)
    _, ws, ws_oov = evaluate_word_pairs(model, DATA / "wordsim353.tsv")
    _, sl, sl_oov = evaluate_word_pairs(model, DATA / "simlex999.txt")
    acc, sections = evaluate_analogies(model, DATA / "questions-words.txt",
                                       restrict_vocab=30000, return_sections=True)
    return {"ws353": ws, "simlex": sl, "analogy": acc, "ws353_oov": ws_oov,
            "simlex_oov": sl_oov, "analogy_oov": sections[-1]["oov_ratio"]}


# ----------------------------------------------------------------- statistics
def median(xs):
    return statistics.median(xs) if xs else float("nan")


def mean_sd(xs):
    if not xs:
        return float("nan"), float("nan")
    return statistics.fmean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def fmt_mean_sd(xs, digits=3):
    m, s = mean_sd(xs)
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def peak_rss_mb():
    """Peak resident set size of this process so far, in MB (Linux: ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ----------------------------------------------------------------- machine
def _version(module):
    try:
        mod = __import__(module)
        return getattr(mod, "__version__", "installed")
    except ImportError:
        return None


def machine():
    """CPU model, cores, load, and the versions that matter for the figures."""
    info = {"platform": platform.platform(), "python": platform.python_version()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        for key in ("Model name", "CPU(s)", "Thread(s) per core", "Core(s) per socket",
                    "L2 cache", "L3 cache", "Hypervisor vendor"):
            if key in fields:
                info[key] = fields[key].strip()
    except (OSError, subprocess.CalledProcessError):
        info["Model name"] = platform.processor()
    info.update(cpu_features())
    info["usable_cpus"] = len(os.sched_getaffinity(0))
    info["load_average_at_start"] = os.getloadavg()
    for mod in ("numpy", "scipy", "sklearn", "gensim", "fasttext", "Cython", "skw2v"):
        info[mod] = _version(mod)
    info["word2vec.c"] = word2vec_c_binary()
    try:
        from skw2v._config import config

        c = config()
        info["skw2v_openmp"] = c["openmp"]
        info["blas"] = [f"{b['internal_api']} {b['version']}" for b in c["blas"]]
    except ImportError:
        pass
    info["skw2v_code_path"] = skw2v_build()
    return info


# x86 features that decide which SIMD clone can run (and what -march=native gives the peers)
_X86_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512cd", "avx512bw",
              "avx512vl", "avx512_vnni", "avx512_bf16")
_ARM_FLAGS = ("asimd", "sve", "sve2")


def cpu_features():
    """Vendor, family/model and the SIMD flags that matter, from /proc/cpuinfo."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break  # the first processor is enough
                if ":" in line:
                    k, v = line.split(":", 1)
                    fields[k.strip()] = v.strip()
    except OSError:
        return {"cpu_flags": "unknown (no /proc/cpuinfo)"}
    flags = set((fields.get("flags") or fields.get("Features") or "").split())
    wanted = _ARM_FLAGS if "asimd" in flags else _X86_FLAGS
    return {"cpu_vendor": fields.get("vendor_id", fields.get("CPU implementer")),
            "cpu_family_model": f"{fields.get('cpu family', '?')}/{fields.get('model', '?')}",
            "cpu_flags": " ".join(f for f in wanted if f in flags),
            "cpu_flags_missing": " ".join(f for f in wanted if f not in flags)}


def extension_compile_flags(module):
    """Compiler and flags the extension was built with.

    GCC records its command line in the debug info (DW_AT_producer; Python's
    CFLAGS have -g); otherwise the flags are reconstructed from sysconfig plus
    setup.py's (-O3 and the OpenMP flag), and say so.
    """
    import sysconfig

    path = module.__file__
    try:
        out = subprocess.run(["readelf", "--debug-dump=info", path], capture_output=True,
                             text=True, timeout=60).stdout
        producers = sorted(set(re.findall(
            r"DW_AT_producer\s*:\s*(?:\(indirect string, offset: 0x[0-9a-f]+\):\s*)?(.*)", out)))
        if producers:
            return "; ".join(producers) + " (from the .so's DW_AT_producer)"
    except (OSError, subprocess.SubprocessError):
        pass
    return (f"{sysconfig.get_config_var('CC')} {sysconfig.get_config_var('CFLAGS')} -O3 "
            "+ setup.py's OpenMP flag (reconstructed: no DW_AT_producer in the .so)")


def skw2v_build():
    """Which code path the skw2v figures come from: clone, kernel, BLAS, build flags."""
    try:
        from skw2v import _core
        from skw2v._config import config
    except ImportError as exc:
        return {"error": str(exc)}
    c = config()
    return {"skw2v_file": str(Path(_core.__file__).resolve()),
            "simd_clone": c.get("simd_clone"), "simd_clones_usable": c.get("simd_clones_usable"),
            "simd_clones_built": c.get("simd_clones_built"),
            "simd_forced": SIMD_FORCED[0] or os.environ.get("SKW2V_SIMD") or None,
            "kernel": ("SciPy BLAS sdot/saxpy (SKW2V_USE_BLAS build)" if c.get("uses_blas_kernel")
                       else "fused loops of _sgns.h"),
            "openmp": c["openmp"], "default_n_threads": c["default_n_threads"],
            "blas": [f"{b['internal_api']} {b['version']} ({b['filepath']}, "
                     f"{b['num_threads']} threads)" for b in c["blas"]],
            "build_flags": extension_compile_flags(_core)}


def print_machine(info):
    print(f"machine: {info.get('Model name')}, {info.get('CPU(s)')} CPUs "
          f"({info['usable_cpus']} usable), load {info['load_average_at_start']}; "
          f"Python {info['python']}, numpy {info['numpy']}, gensim {info['gensim']}, "
          f"skw2v {info['skw2v']}")
    print(f"CPU: vendor {info.get('cpu_vendor')}, family/model {info.get('cpu_family_model')}; "
          f"SIMD flags present: {info.get('cpu_flags')}; absent: "
          f"{info.get('cpu_flags_missing') or 'none'}")
    cp = info.get("skw2v_code_path") or {}
    if "error" in cp:
        print(f"skw2v code path: unknown ({cp['error']})")
        return
    print(f"skw2v code path: SIMD clone {cp['simd_clone']} (usable here: "
          f"{', '.join(cp['simd_clones_usable'] or [])}; forced: {cp['simd_forced'] or 'no'}); "
          f"kernel: {cp['kernel']}; OpenMP: {cp['openmp']}")
    print(f"skw2v BLAS (threadpoolctl): {'; '.join(cp['blas']) or 'none detected'}")
    print(f"skw2v build: {cp['build_flags']}")
    print(f"skw2v imported from: {cp['skw2v_file']}")


def args_record(args):
    """The command-line arguments as JSON-able values (paths as strings)."""
    return {k: (str(v) if isinstance(v, Path) else
                [str(x) if isinstance(x, Path) else x for x in v] if isinstance(v, list) else v)
            for k, v in vars(args).items()}


def save_json(obj, out=None, label=None):
    """Write results where ``_results`` says (``--out`` or results/<script>/<commit>.json)."""
    from _results import write_json

    return write_json(obj, out, label)


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
