"""GPU vs CPU training: words per second and quality, side by side in one run.

Skip-gram and CBOW at vector_size=100, window=5, sample_size=5 (negatives),
trained by ``Word2VecNS(device="cpu")`` on every core of this machine and by
``Word2VecNS(device="cuda")``, on

* PTB + Brown (../shared/data, ~1.9M tokens): quality by WordSim-353 and
  SimLex-999 Spearman correlations and the Google analogies (3CosAdd over
  the 30,000 most frequent words, out-of-vocabulary items skipped and
  counted), the conventions of ../shared/data/README.md;
* a synthetic corpus (20M tokens by default) of planted topics: quality is
  the share of each sampled topic word's 10 nearest words in its own topic;
* optionally any text file (``--corpus FILE``, one sentence per line).

Speed is corpus positions per second of training (before subsampling, as
word2vec.c and gensim count words): epochs x in-vocabulary tokens /
``train_seconds_`` (vocabulary building excluded). Figures are ratios
between devices measured in the same run; machines are shared and noisy.

    python benchmarks/bench_gpu.py                        # everything
    python benchmarks/bench_gpu.py --synthetic-tokens 0   # PTB + Brown only
    python benchmarks/bench_gpu.py --devices cpu --max-tokens 200000   # a smoke run
    python benchmarks/bench_gpu.py --engine trainer       # kernels only, speed only
    python benchmarks/bench_gpu.py --archs skipgram skipgram-batched   # + batch_window=True
    python benchmarks/bench_gpu.py --emulate --max-tokens 3000 --synthetic-tokens 3000
                                                          # dry run on the CUDA emulator

``skipgram-batched`` is skip-gram with ``batch_window=True`` (the
window-batched update; on the estimator only where it has that parameter).
``--emulate`` swaps the GPU for the CPU emulator of the CUDA kernels
(tests/_cuda_emulator.py): a dry run of the script with tiny inputs, no
measurement.

``--engine trainer`` drives the epoch loops directly (CPU:
``skw2v._training.run_epoch``; GPU: ``skw2v._cuda._train.GpuTrainer``) on a
plan built as ``fit`` builds it, without the estimator: speed only.

Without CuPy or a GPU the CUDA rows are skipped with the reason.
"""

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _results import add_out_argument, result_path  # noqa: E402
from skw2v import Word2VecNS
from skw2v._cuda import gpu_info, gpu_unavailable_reason, resolve_device

DATA = ROOT / ".." / "shared" / "data"
PARAMS = dict(vector_size=100, window=5, sample_size=5, min_count=5, subsample=1e-3,
              learning_rate=0.025, min_learning_rate=1e-4)


# ------------------------------------------------------------------ corpora
def read_lines(paths, max_tokens=None):
    docs, n = [], 0
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                toks = line.split()
                if not toks:
                    continue
                docs.append(toks)
                n += len(toks)
                if max_tokens and n >= max_tokens:
                    return docs
    return docs


def synthetic_corpus(n_tokens, *, n_topics=200, words_per_topic=250, n_filler=2000,
                     sentence_length=20, filler_rate=0.35, seed=0):
    """Sentences that each draw Zipf-distributed words from one planted topic,
    plus Zipf-distributed filler words shared by all topics.

    Returns (documents as token lists, topic of each topic word).
    """
    rs = np.random.default_rng(seed)
    n_sent = max(1, n_tokens // sentence_length)
    zipf_t = 1.0 / np.arange(1, words_per_topic + 1)
    zipf_f = 1.0 / np.arange(1, n_filler + 1)
    topic = rs.integers(0, n_topics, n_sent)
    word = rs.choice(words_per_topic, size=(n_sent, sentence_length), p=zipf_t / zipf_t.sum())
    filler = rs.choice(n_filler, size=(n_sent, sentence_length), p=zipf_f / zipf_f.sum())
    is_filler = rs.random((n_sent, sentence_length)) < filler_rate
    ids = np.where(is_filler, n_topics * words_per_topic + filler,
                   topic[:, None] * words_per_topic + word)
    names = np.array([f"t{t}w{w}" for t in range(n_topics) for w in range(words_per_topic)]
                     + [f"f{i}" for i in range(n_filler)], dtype=object)
    docs = names[ids].tolist()
    topic_of = {f"t{t}w{w}": t for t in range(n_topics) for w in range(words_per_topic)}
    return docs, topic_of


# ------------------------------------------------------------------ quality
def _unit(vectors):
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def word_pairs(path):
    pairs = []
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.replace("\t", " ").split()
        try:
            pairs.append((parts[0].lower(), parts[1].lower(), float(parts[2])))
        except (IndexError, ValueError):
            continue  # a header line
    return pairs


def similarity_score(model, pairs):
    """(Spearman rho, share of pairs covered)."""
    from scipy.stats import spearmanr

    vocab, unit = model.vocabulary_, _unit(model.vectors_)
    got = [(float(unit[vocab[a]] @ unit[vocab[b]]), s) for a, b, s in pairs
           if a in vocab and b in vocab]
    if len(got) < 3:
        return float("nan"), len(got) / max(len(pairs), 1)
    rho = spearmanr([g for g, _ in got], [s for _, s in got]).correlation
    return float(rho), len(got) / len(pairs)


def analogy_score(model, path, restrict=30_000, batch=2048):
    """(3CosAdd accuracy on covered questions, share covered)."""
    questions = []
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip() or line.startswith(":"):
            continue
        questions.append(line.lower().split()[:4])
    n = min(restrict, len(model.index_to_token_))  # rows are sorted by frequency
    words = model.index_to_token_[:n].tolist()
    index = {w: i for i, w in enumerate(words)}
    unit = _unit(model.vectors_[:n])
    q = np.array([[index[w] for w in qs] for qs in questions if all(w in index for w in qs)],
                 dtype=np.int64).reshape(-1, 4)
    if len(q) == 0:
        return float("nan"), 0.0
    correct = 0
    for s in range(0, len(q), batch):
        a, b, c, d = q[s:s + batch].T
        target = unit[b] - unit[a] + unit[c]
        sims = target @ unit.T
        rows = np.arange(len(a))
        for col in (a, b, c):
            sims[rows, col] = -np.inf
        correct += int((sims.argmax(axis=1) == d).sum())
    return correct / len(q), len(q) / len(questions)


def topic_precision(model, topic_of, n_queries=2000, k=10, seed=0):
    vocab = model.vocabulary_
    words = [w for w in topic_of if w in vocab]
    rs = np.random.default_rng(seed)
    queries = rs.choice(len(words), size=min(n_queries, len(words)), replace=False)
    unit = _unit(model.vectors_)
    labels = np.array([topic_of.get(t, -1) for t in model.index_to_token_])
    rows = np.array([vocab[words[i]] for i in queries])
    sims = unit[rows] @ unit.T
    sims[np.arange(len(rows)), rows] = -np.inf
    top = np.argpartition(-sims, k, axis=1)[:, :k]
    return float((labels[top] == labels[rows, None]).mean())


# ---------------------------------------------------------------- training
ARCHS = ("skipgram", "cbow", "skipgram-batched")


def arch_params(arch):
    """Estimator parameters of an --archs name (skipgram-batched: batch_window=True)."""
    if arch == "skipgram-batched":
        return dict(architecture="skipgram", batch_window=True)
    return dict(architecture=arch)


def fit(docs, device, arch, epochs, seed):
    model = Word2VecNS(epochs=epochs, device=device, random_state=seed, **arch_params(arch),
                       **PARAMS)
    t0 = time.perf_counter()
    model.fit(docs)
    wall = time.perf_counter() - t0
    positions = int(model.token_counts_.sum()) * epochs
    return model, positions / model.train_seconds_, wall


def build_plan(docs, arch):
    """Vocabulary, tables and corpus as Word2VecNS.fit prepares them."""
    from skw2v._corpus import encode_new, make_analyzer, remap
    from skw2v._plan import make_plan
    from skw2v._vocab import keep_probabilities, noise_distribution, select_vocabulary

    raw = encode_new(docs, make_analyzer())
    counts = np.bincount(raw.tokens, minlength=len(raw.types)).astype(np.int64)
    kept = select_vocabulary(raw.types, counts, PARAMS["min_count"], None)
    lookup = np.full(len(raw.types), -1, dtype=np.int32)
    lookup[kept] = np.arange(len(kept), dtype=np.int32)
    corpus = remap(raw, lookup)
    return make_plan(corpus, keep_probabilities(counts[kept], PARAMS["subsample"]),
                     noise_distribution(counts[kept], 0.75), architecture=arch,
                     window=PARAMS["window"], shrink_windows=True,
                     sample_size=PARAMS["sample_size"]), len(kept)


def trainer_speed(plan, n_vocab, device, epochs, seed, batch_window=False):
    """Positions per second of the bare epoch loop; (words/s, seconds, mean loss)."""
    from skw2v._threads import effective_n_threads
    from skw2v._training import run_epoch

    rs = np.random.default_rng(seed)
    dim = PARAMS["vector_size"]
    w_in = ((rs.random((n_vocab, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    w_out = np.zeros_like(w_in)
    total = epochs * plan.n_tokens
    common = dict(lr_start=PARAMS["learning_rate"], lr_end=PARAMS["min_learning_rate"],
                  progress_total=total, n_threads=effective_n_threads(None))
    if device == "cuda":
        from skw2v._cuda._train import GpuTrainer

        trainer = GpuTrainer(plan, w_in, w_out, batch_window=batch_window)
        step = trainer.run_epoch
    else:
        if batch_window:
            raise ValueError("batch_window on the CPU: use --engine estimator")

        def step(**kw):
            return run_epoch(plan, w_in, w_out, **kw)
    seconds, loss = 0.0, float("nan")
    try:
        for epoch in range(epochs):
            res = step(progress_offset=epoch * plan.n_tokens, seed=int(rs.integers(2**62)),
                       **common)
            seconds += res.seconds
            loss = res.mean_loss
    finally:
        if device == "cuda":
            trainer.close()
    return total / seconds, seconds, loss


def use_emulator():
    """Route device='cuda' to the CPU emulator of the CUDA kernels (dry runs)."""
    import tempfile

    sys.path.insert(0, str(ROOT / "tests"))
    from _cuda_emulator import EmulatedBackend

    import skw2v._estimator as est
    from skw2v._cuda import _train

    build = Path(tempfile.gettempdir()) / "skw2v_cuda_emulator"
    build.mkdir(exist_ok=True)
    _train.CupyBackend = lambda: EmulatedBackend(build, max_blocks=2)
    est.resolve_device = lambda device: ("cuda", None) if device == "cuda" else ("cpu", None)
    globals()["resolve_device"] = est.resolve_device
    globals()["gpu_info"] = lambda: {"name": "CUDA emulator (CPU)", "cupy_version": "none"}


def supports(arch):
    """Whether the estimator takes this --archs name's parameters."""
    return set(arch_params(arch)) <= set(Word2VecNS().get_params())


def warm_up(device):
    """Compile and load the kernels outside the timed runs."""
    docs = [[f"w{i % 50}" for i in range(j, j + 20)] for j in range(200)]
    Word2VecNS(vector_size=PARAMS["vector_size"], min_count=1, epochs=1, device=device,
               random_state=0).fit(docs)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", nargs="+", default=["cpu", "cuda"], choices=["cpu", "cuda"])
    ap.add_argument("--archs", nargs="+", default=["skipgram", "cbow"], choices=list(ARCHS))
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--synthetic-tokens", type=int, default=20_000_000,
                    help="size of the planted-topic corpus; 0 skips it")
    ap.add_argument("--corpus", type=Path, action="append", default=[],
                    help="extra corpus file, one sentence per line (repeatable)")
    ap.add_argument("--data", type=Path, default=DATA, help="folder of PTB/Brown/WS353/...")
    ap.add_argument("--max-tokens", type=int, default=None,
                    help="read at most this many tokens of each file corpus (smoke runs)")
    ap.add_argument("--seed", type=int, default=0)
    add_out_argument(ap)
    ap.add_argument("--engine", choices=["estimator", "trainer"], default="estimator",
                    help="whole fits with quality, or the bare epoch loops (speed only)")
    ap.add_argument("--emulate", action="store_true",
                    help="device='cuda' runs on the CPU emulator of the kernels (dry runs)")
    args = ap.parse_args(argv)
    if args.emulate:
        use_emulator()

    devices = []
    for dev in args.devices:
        if dev == "cuda":
            try:
                resolve_device("cuda")
            except ValueError:
                print(f"# skipping device=cuda: {gpu_unavailable_reason()}")
                continue
        devices.append(dev)
    info = gpu_info()
    print(f"# {platform.node()} {platform.processor() or platform.machine()}; GPU: "
          f"{info.get('name', 'none')} (CuPy {info.get('cupy_version', 'absent')})")
    if args.engine == "estimator":
        for dev in devices:
            warm_up(dev)

    corpora = []
    ptb_brown = [args.data / "ptb.train.txt", args.data / "brown.txt"]
    if all(p.exists() for p in ptb_brown):
        corpora.append(("ptb+brown", read_lines(ptb_brown, args.max_tokens), None))
    else:
        print(f"# PTB/Brown not found under {args.data}: skipped")
    for path in args.corpus:
        corpora.append((path.name, read_lines([path], args.max_tokens), None))
    if args.synthetic_tokens > 0:
        t0 = time.perf_counter()
        docs, topic_of = synthetic_corpus(args.synthetic_tokens, seed=args.seed)
        print(f"# synthetic corpus: {sum(map(len, docs)):,} tokens in "
              f"{time.perf_counter() - t0:.1f} s")
        label = (f"synthetic-{args.synthetic_tokens / 1e6:g}M" if args.synthetic_tokens >= 1e6
                 else f"synthetic-{args.synthetic_tokens // 1000}k")
        corpora.append((label, docs, topic_of))

    ws = args.data / "wordsim353.tsv"
    sl = args.data / "simlex999.txt"
    an = args.data / "questions-words.txt"
    rows = []
    header = (f"{'corpus':<16}{'arch':<17}{'device':<7}{'Mwords/s':>9}{'x cpu':>7}{'fit s':>8}"
              f"{'WS353':>7}{'SimLex':>8}{'analogy':>8}{'topic@10':>9}")
    if args.engine == "trainer":
        print(f"{'corpus':<16}{'arch':<17}{'device':<7}{'Mwords/s':>9}{'x cpu':>7}"
              f"{'train s':>9}{'loss':>8}")
        for name, docs, _ in corpora:
            for arch in args.archs:
                batch = arch_params(arch).get("batch_window", False)
                plan, n_vocab = build_plan(docs, arch_params(arch)["architecture"])
                base = None
                for dev in devices:
                    if batch and dev == "cpu":
                        continue  # the CPU kernel's batch_window runs through the estimator
                    wps, secs, loss = trainer_speed(plan, n_vocab, dev, args.epochs, args.seed,
                                                    batch_window=batch)
                    base = wps if dev == "cpu" else base
                    ratio = wps / base if base else float("nan")
                    rows.append(dict(corpus=name, arch=arch, device=dev, words_per_s=wps,
                                     train_s=secs, final_loss=loss, speedup_vs_cpu=ratio,
                                     n_tokens=plan.n_tokens, epochs=args.epochs))
                    print(f"{name:<16}{arch:<17}{dev:<7}{wps / 1e6:>9.2f}{ratio:>7.1f}"
                          f"{secs:>9.2f}{loss:>8.4f}", flush=True)
        corpora = []
    else:
        print(header)
    for name, docs, topic_of in corpora:
        for arch in args.archs:
            if not supports(arch):
                missing = sorted(set(arch_params(arch)) - set(Word2VecNS().get_params()))
                print(f"# {arch}: this estimator has no parameter {missing}; skipped")
                continue
            base = None
            for dev in devices:
                model, wps, wall = fit(docs, dev, arch, args.epochs, args.seed)
                row = dict(corpus=name, arch=arch, device=dev, words_per_s=wps, fit_s=wall,
                           n_tokens=int(model.token_counts_.sum()), epochs=args.epochs,
                           final_loss=float(model.loss_history_[-1]))
                if topic_of is None:
                    if ws.exists():
                        row["ws353"], row["ws353_coverage"] = similarity_score(model, word_pairs(ws))
                    if sl.exists():
                        row["simlex"], row["simlex_coverage"] = similarity_score(model, word_pairs(sl))
                    if an.exists():
                        row["analogy"], row["analogy_coverage"] = analogy_score(model, an)
                else:
                    row["topic_precision"] = topic_precision(model, topic_of)
                base = wps if dev == "cpu" else base
                row["speedup_vs_cpu"] = wps / base if base else float("nan")
                rows.append(row)

                def fmt(key, width, r=row):
                    v = r.get(key)
                    return f"{v:>{width}.3f}" if v is not None else " " * (width - 1) + "-"

                print(f"{name:<16}{arch:<17}{dev:<7}{wps / 1e6:>9.2f}"
                      f"{row['speedup_vs_cpu']:>7.1f}{wall:>8.1f}{fmt('ws353', 7)}"
                      f"{fmt('simlex', 8)}{fmt('analogy', 8)}{fmt('topic_precision', 9)}",
                      flush=True)
    out = result_path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"gpu": info, "params": PARAMS, "rows": rows}, indent=1))
    print(f"wrote {out}")
    return rows


if __name__ == "__main__":
    main()
