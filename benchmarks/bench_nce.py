"""NCE vs negative sampling in Word2VecNS on PTB + Brown: similarity, analogies, AG News.

    python benchmarks/bench_nce.py --seeds 0 1 2 [--variants ns nce ...] [--out table.md]

Trains skip-gram with d=100, window 5, 5 noise words, 5 epochs, n_jobs=2 for
each variant and seed, then scores WordSim-353 and SimLex-999 (Spearman) and
the Google analogies (3CosAdd over the 30,000 most frequent words, question
words excluded), following ../shared/data/README.md: pairs and questions are
lowercased and those with an out-of-vocabulary word are skipped (the covered
fraction is reported). The evaluation is local to this script so it runs on
its own.

The similarity sets are also scored on mean-centred vectors (the mean input
vector subtracted before the cosines): a direction shared by every vector,
which a model without an output bias uses to encode word frequency, changes
raw cosines in a frequency-dependent way; the centred scores compare the
rest of the geometry. "SimLex, shared direction only" scores each pair by
m_a * m_b alone, m_w being the cosine of v_w with the mean vector: how much
of raw SimLex one number per word, and no similarity structure, explains.

Downstream (transfer): the same vectors, mean-pooled over the AG News test
items (title + description, lowercased runs of word characters), feed a
LogisticRegression scored by 5-fold stratified cross-validation.
"""

import argparse
import contextlib
import csv
import re
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the in-place build of this checkout

from skw2v import Word2VecNS, _estimator, _weights
from skw2v._vocab import noise_probabilities

DATA = ROOT / ".." / "shared" / "data"

BASE = {"vector_size": 100, "window": 5, "sample_size": 5, "epochs": 5, "n_jobs": 2}


@contextlib.contextmanager
def _replaced(module, name, value):
    """``module.name`` is ``value`` while the block runs (the fit stages look it up)."""
    old = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, old)


class NCEBiasFromZero(Word2VecNS):
    """NCE with the output bias learned from 0 instead of from log p(w)."""

    def fit(self, X, y=None):
        def zero(token_counts, loss, subsample):
            return np.zeros(len(token_counts), dtype=np.float32)

        with _replaced(_weights, "initial_output_bias", zero):
            return super().fit(X, y)


class NCEBiasFromLogKQ(Word2VecNS):
    """NCE with the output bias starting at log(k q(w)): the first logits are u.v,
    as in negative sampling."""

    def fit(self, X, y=None):
        def log_kq(token_counts, loss, subsample):
            q = noise_probabilities(token_counts, self.noise, self.power)
            return np.log(self.sample_size * q).astype(np.float32)

        with _replaced(_weights, "initial_output_bias", log_kq):
            return super().fit(X, y)


class NCEWithoutBias(Word2VecNS):
    """NCE as skw2v trained it before the output bias: logit u.v - log(k q(w))."""

    def fit(self, X, y=None):
        train_epochs = _estimator.train_epochs

        def without_bias(plan, weights, *args, **kwargs):
            w_in, w_out, bias = weights
            if bias is not None:
                bias[:] = 0.0  # the published output_bias_: no bias at all
            return train_epochs(plan, (w_in, w_out, None), *args, **kwargs)

        with _replaced(_estimator, "train_epochs", without_bias):
            return super().fit(X, y)


class GensimSkipGram:
    """gensim's skip-gram with negative sampling at the same settings, seen through
    the attributes this script scores (a reference for the shared direction)."""

    def __init__(self, vector_size, window, sample_size, epochs, n_jobs, random_state):
        self.params = {"vector_size": vector_size, "window": window, "negative": sample_size,
                       "epochs": epochs, "workers": n_jobs, "seed": random_state, "sg": 1,
                       "min_count": 5, "sample": 1e-3}

    def fit(self, docs):
        from gensim.models import Word2Vec  # optional benchmark dependency

        start = time.perf_counter()
        model = Word2Vec(docs, compute_loss=False, **self.params)
        self.train_seconds_ = time.perf_counter() - start
        self.index_to_token_ = list(model.wv.index_to_key)
        self.vocabulary_ = {w: i for i, w in enumerate(self.index_to_token_)}
        self.vectors_ = model.wv.vectors
        self.loss_history_ = [float("nan")]  # not comparable: gensim reports a running sum
        return self

    def transform(self, docs):
        rows = [[self.vocabulary_[w] for w in doc if w in self.vocabulary_] for doc in docs]
        return np.array([self.vectors_[r].mean(axis=0) if r else
                         np.zeros(self.vectors_.shape[1], np.float32) for r in rows])


# name -> parameters, or (estimator class, parameters) for the bias ablations
VARIANTS = {
    "ns": {},
    "ns_lr0.05": {"learning_rate": 0.05},
    "ns_lr0.1": {"learning_rate": 0.1},
    "nce": {"loss": "nce"},
    "nce_lr0.05": {"loss": "nce", "learning_rate": 0.05},
    "ns_ep10": {"epochs": 10},
    "nce_ep10": {"loss": "nce", "epochs": 10},
    "nce_lr0.0125": {"loss": "nce", "learning_rate": 0.0125},
    "nce_lr0.1": {"loss": "nce", "learning_rate": 0.1},
    "nce_loguniform": {"loss": "nce", "noise": "log_uniform"},
    # unigram^1 noise: negative sampling's optimum u.v = PMI - log k then has no
    # (1 - power) log p(w) term, like NCE with its bias (is that the SimLex gap?)
    "ns_pow1": {"power": 1.0},
    "nce_pow1": {"loss": "nce", "power": 1.0},
    "nce_bias0": (NCEBiasFromZero, {"loss": "nce"}),
    "nce_biaslogkq": (NCEBiasFromLogKQ, {"loss": "nce"}),
    "nce_nobias": (NCEWithoutBias, {"loss": "nce"}),
    "nce_nobias_lr0.05": (NCEWithoutBias, {"loss": "nce", "learning_rate": 0.05}),
    "gensim_ns": (GensimSkipGram, {}),
}


def read_corpus(data):
    docs = []
    for name in ("ptb.train.txt", "brown.txt"):
        with open(data / name, encoding="utf-8") as fh:
            docs.extend(line.split() for line in fh if line.strip())
    return docs


def read_pairs(path):
    pairs = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            a, b, score = line.rstrip("\n").split("\t")[:3]
            pairs.append((a.lower(), b.lower(), float(score)))
    return pairs


def read_analogies(path):
    questions = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith(":") or not line.strip():
                continue
            questions.append(tuple(w.lower() for w in line.split()))
    return questions


def _rank_correlation(model, pairs, pair_score):
    """Spearman rho of pair_score(row_a, row_b) with the gold scores, and the
    fraction of pairs with both words in the vocabulary."""
    vocab = model.vocabulary_
    known = [(vocab[a], vocab[b], score) for a, b, score in pairs if a in vocab and b in vocab]
    got = [pair_score(i, j) for i, j, _ in known]
    return spearmanr(got, [score for _, _, score in known]).statistic, len(known) / len(pairs)


def similarity_score(model, pairs, centred=False):
    vectors = np.asarray(model.vectors_, dtype=np.float64)
    unit = _unit(vectors - vectors.mean(axis=0) if centred else vectors)
    return _rank_correlation(model, pairs, lambda i, j: float(unit[i] @ unit[j]))


def shared_direction(model):
    """m_w = cos(v_w, mean v) for every word."""
    vectors = np.asarray(model.vectors_, dtype=np.float64)
    mean = vectors.mean(axis=0)
    return _unit(vectors) @ (mean / np.linalg.norm(mean))


def read_ag_news(path):
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    docs = [re.findall(r"\w+", f"{r['title']} {r['description']}".lower()) for r in rows]
    return docs, np.array([int(r["label"]) for r in rows])


def ag_news_accuracy(model, docs, labels):
    """5-fold CV accuracy of LogisticRegression on mean-pooled word vectors."""
    features = model.transform(docs)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    return float(np.mean(cross_val_score(LogisticRegression(max_iter=3000), features, labels,
                                         cv=folds)))


def analogy_accuracy(model, questions, top=30_000, batch=2048):
    """3CosAdd: argmax over the top words of cos(d, b - a + c), a, b, c excluded."""
    n = min(top, len(model.index_to_token_))  # rows are in frequency order
    index = {w: i for i, w in enumerate(model.index_to_token_[:n])}
    unit = _unit(model.vectors_[:n])
    ids = np.array([[index[w] for w in q] for q in questions if all(w in index for w in q)],
                   dtype=np.int64).reshape(-1, 4)
    correct = 0
    for s in range(0, len(ids), batch):
        a, b, c, d = ids[s:s + batch].T
        scores = (unit[b] - unit[a] + unit[c]) @ unit.T
        rows = np.arange(len(a))
        scores[rows, a] = scores[rows, b] = scores[rows, c] = -np.inf
        correct += int(np.sum(np.argmax(scores, axis=1) == d))
    return correct / max(len(ids), 1), len(ids) / len(questions)


def _unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--epochs", type=int, default=BASE["epochs"])
    parser.add_argument("--out", type=Path, default=None, help="write a markdown table here")
    args = parser.parse_args()

    docs = read_corpus(args.data)
    ws = read_pairs(args.data / "wordsim353.tsv")
    simlex = read_pairs(args.data / "simlex999.txt")
    questions = read_analogies(args.data / "questions-words.txt")
    ag_docs, ag_labels = read_ag_news(args.data / "ag_news_test.csv")
    print(f"corpus: {len(docs):,} sentences, {sum(map(len, docs)):,} tokens")

    rows = []
    for variant in args.variants:
        for seed in args.seeds:
            cls, extra = VARIANTS[variant] if isinstance(VARIANTS[variant], tuple) else (
                Word2VecNS, VARIANTS[variant])
            params = {**BASE, "epochs": args.epochs, **extra, "random_state": seed}
            start = time.perf_counter()
            model = cls(**params).fit(docs)
            wall = time.perf_counter() - start
            ws_rho, ws_cov = similarity_score(model, ws)
            sl_rho, sl_cov = similarity_score(model, simlex)
            ws_c, _ = similarity_score(model, ws, centred=True)
            sl_c, _ = similarity_score(model, simlex, centred=True)
            acc, an_cov = analogy_accuracy(model, questions)
            m = shared_direction(model)
            sl_m, _ = _rank_correlation(model, simlex, lambda i, j, m=m: m[i] * m[j])
            ag = ag_news_accuracy(model, ag_docs, ag_labels)
            row = {"variant": variant, "seed": seed, "ws353": ws_rho, "simlex": sl_rho, "analogy": acc,
                       "ws353_c": ws_c, "simlex_c": sl_c, "simlex_m": sl_m, "ag_news": ag,
                       "loss": model.loss_history_[-1], "train_s": model.train_seconds_, "wall_s": wall,
                       "vocab": len(model.index_to_token_), "ws_cov": ws_cov, "sl_cov": sl_cov,
                       "an_cov": an_cov}
            rows.append(row)
            print(f"{variant:>15} seed {seed}: WS353 {ws_rho:.3f}  SimLex {sl_rho:.3f}  "
                  f"analogy {acc:.3f}  centred WS353 {ws_c:.3f} SimLex {sl_c:.3f}  "
                  f"SimLex shared-only {sl_m:.3f}  mean m {m.mean():.2f}  "
                  f"AG News {ag:.4f}  "
                  f"final loss {row['loss']:.3f}  "
                  f"train {row['train_s']:.1f}s", flush=True)

    table = _markdown(rows, args)
    print(table)
    if args.out is not None:
        args.out.write_text(table)


def _mean_std(values, fmt):
    vals = np.asarray(values, dtype=np.float64)
    if len(vals) == 1:
        return fmt.format(vals[0])
    return f"{fmt.format(vals.mean())} ± {fmt.format(vals.std(ddof=1))}"


def _markdown(rows, args):
    first = rows[0]
    lines = [
        ("| variant | WS353 rho | SimLex rho | analogy acc | WS353 centred | SimLex centred "
         "| SimLex, shared direction only | AG News acc | final loss | train s |"),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for variant in dict.fromkeys(r["variant"] for r in rows):
        rs = [r for r in rows if r["variant"] == variant]
        cells = [_mean_std([r[key] for r in rs], fmt) for key, fmt in (
            ("ws353", "{:.3f}"), ("simlex", "{:.3f}"), ("analogy", "{:.3f}"),
            ("ws353_c", "{:.3f}"), ("simlex_c", "{:.3f}"), ("simlex_m", "{:.3f}"),
            ("ag_news", "{:.4f}"), ("loss", "{:.3f}"), ("train_s", "{:.1f}"))]
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Per seed:")
    lines.append("")
    lines.append("| variant | seed | WS353 | SimLex | analogy | WS353 c | SimLex c | SimLex m "
                 "| AG News | final loss |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        lines.append(f"| {r['variant']} | {r['seed']} | {r['ws353']:.3f} | {r['simlex']:.3f} | "
                     f"{r['analogy']:.3f} | {r['ws353_c']:.3f} | {r['simlex_c']:.3f} | "
                     f"{r['simlex_m']:.3f} | {r['ag_news']:.4f} | {r['loss']:.3f} |")
    lines.append("")
    lines.append(
        f"Settings: {BASE | {'epochs': args.epochs}}, seeds {args.seeds}; vocabulary "
        f"{first['vocab']:,} words (min_count=5). Coverage: WS353 {first['ws_cov']:.0%}, "
        f"SimLex {first['sl_cov']:.0%}, analogies {first['an_cov']:.0%} of questions "
        "(3CosAdd over the 30,000 most frequent words). Mean ± sample std over seeds."
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
