"""Shared pieces of the benchmarks: corpora, trainers, evaluation, timing, machine.

Every trainer returns the same record (seconds of training, seconds of the
whole fit, vectors and tokens by frequency) so the scripts can alternate
implementations and compare them on equal terms. Speed is always reported
as raw corpus tokens x epochs / seconds, the figure gensim logs.
"""

import os
import platform
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


def train_skw2v(sentences, sg, threads, seed, epochs=SETTINGS["epochs"]):
    """skw2v's Word2VecNS with SETTINGS."""
    from skw2v import Word2VecNS

    s = SETTINGS
    model = Word2VecNS(vector_size=s["dim"], window=s["window"], sample_size=s["negative"],
                       min_count=s["min_count"], subsample=s["sample"], epochs=epochs,
                       learning_rate=s["alpha"], min_learning_rate=s["min_alpha"],
                       architecture="skipgram" if sg else "cbow", n_jobs=threads,
                       random_state=seed)
    start = time.perf_counter()
    model.fit(sentences)
    fit = time.perf_counter() - start
    return Run("skw2v", model.train_seconds_, fit,
               model.vectors_, model.index_to_token_)


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
    return shutil.which("word2vec") or _bin_next_to_python("word2vec")


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
    for word2vec.c, "w2v_vocab" (see write_word2vec_vocab)."""
    if impl == "skw2v":
        return train_skw2v(sentences, sg, threads, seed, epochs)
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
    return info


def print_machine(info):
    print(f"machine: {info.get('Model name')}, {info.get('CPU(s)')} CPUs "
          f"({info['usable_cpus']} usable), load {info['load_average_at_start']}; "
          f"Python {info['python']}, numpy {info['numpy']}, gensim {info['gensim']}, "
          f"skw2v {info['skw2v']}")


def save_json(obj, out=None, label=None):
    """Write results where ``_results`` says (``--out`` or results/<script>/<commit>.json)."""
    from _results import write_json

    return write_json(obj, out, label)


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
