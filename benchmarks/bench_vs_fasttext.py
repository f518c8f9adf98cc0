"""skw2v subwords vs fastText (PyPI ``fasttext``), skip-gram with character n-grams
(minn 3, maxn 6), same dimension, window, negatives, epochs, learning rate and
buckets, on PTB + Brown, alternating in one run.

Speed: training words/s (raw corpus tokens x epochs / seconds) at each thread
count, fastText and skw2v in turn ``--repeats`` times, medians and skw2v's
ratio. fastText's time is its whole ``train_unsupervised`` call (it reads the
corpus file and builds its vocabulary inside), and its own progress figure
(words/sec/thread x threads, training loop only, read from its verbose output;
it counts one end-of-line token per sentence); skw2v's is ``train_seconds_``
(the epochs) and, separately, its whole fit.

Both train with the same settings, including the noise distribution: fastText's
negative table is fixed at unigram^0.5, so skw2v runs with ``power=0.5``
(``--power``). The subsampling threshold t is translated: fastText divides a
word's count by every token it read (words below min_count and one end-of-line
token per line included), word2vec and skw2v by the kept vocabulary's total, so
skw2v gets ``subsample = t * N_fastText / N_vocabulary`` (the same keep
probability for every word; ``--no-translate-t`` passes t as is).

Quality (``--quality``): WS353 / SimLex-999 Spearman and analogy accuracy
(top 30k words) over ``--seeds`` seeds at ``--quality-threads`` threads, mean
± sd, and the verdict "skw2v's mean >= fastText's mean - fastText's sd". Word
pairs are scored twice: over the pairs whose words are both in the training
vocabulary (the usual figure), and over every pair, the unseen words taking
their n-gram vectors (coverage = pairs with a vector for both words).
Each seed trains both on the same random order of the sentences (seed ``s``:
permutation ``s``; ``--no-shuffle`` keeps PTB then Brown). The order matters
more than the trainers here: PTB then Brown, each epoch ends on Brown at a low
learning rate, and fastText at 2 threads reads the file from two offsets (an
interleaved order) while at 1 thread it reads it in order; fastText's WS353 on
seed 0 was 0.310 at 1 thread and 0.369 at 2 on the ordered file, 0.371 at 1
thread on a shuffled one (RESULTS.md section 9). fastText's Python binding
takes no seed, so the permutation is also what varies its runs.

    python benchmarks/bench_vs_fasttext.py --repeats 2 --quality --seeds 3
"""

import argparse
import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np

import _common as C
from _results import add_out_argument

SUB = {"minn": 3, "maxn": 6}


def settings(args):
    return {"dim": args.dim, "window": 5, "negative": 5, "min_count": 5, "sample": 1e-3,
            "epochs": args.epochs, "lr": args.lr, "bucket": args.bucket, "power": args.power,
            "translate_t": not args.no_translate_t}


def shuffled(sentences, seed):
    """The sentences in the random order number ``seed`` (None: as given)."""
    if seed is None:
        return sentences
    order = np.random.default_rng(seed).permutation(len(sentences))
    return [sentences[i] for i in order]


def train_fasttext(corpus, s, threads, seed, attempts=3):
    """fastText 0.9.3's Python binding takes no seed: ``seed`` is unused (its runs
    differ by thread timing only)."""
    import fasttext

    def call():
        return fasttext.train_unsupervised(
            str(corpus), model="skipgram", dim=s["dim"], ws=s["window"],
            epoch=s["epochs"], minCount=s["min_count"], neg=s["negative"], loss="ns",
            minn=SUB["minn"], maxn=SUB["maxn"], wordNgrams=1, bucket=s["bucket"],
            t=s["sample"], lr=s["lr"], thread=threads, verbose=2)

    for _ in range(attempts):
        start = time.perf_counter()
        try:
            model, log = _with_stderr(call)
        except RuntimeError as exc:  # fastText 0.9.3's occasional "Encountered NaN"
            if "NaN" not in str(exc):
                raise
            C.FASTTEXT_FAILURES.append(("sg-subwords", threads))
            continue
        seconds = time.perf_counter() - start
        rates = re.findall(r"words/sec/thread:\s*(\d+)", log)
        words = [w for w in model.get_words() if w != "</s>"]
        return {"seconds": seconds, "fit_seconds": seconds, "words": words,
                "vectors": np.stack([model.get_word_vector(w) for w in words]),
                "vector_of": model.get_word_vector,
                # its own progress figure: training loop only, tokens incl. end-of-line
                "self_reported_words_per_sec": int(rates[-1]) * threads if rates else None}
    return None


def _with_stderr(fn):
    """(fn(), what the C++ code wrote to file descriptor 2 meanwhile)."""
    with tempfile.TemporaryFile() as tmp:
        saved = os.dup(2)
        os.dup2(tmp.fileno(), 2)
        try:
            result = fn()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        return result, tmp.read().decode("utf-8", "replace")


def skw2v_subsample(sentences, s):
    """fastText's threshold t as skw2v's ``subsample`` (see the module docstring)."""
    from collections import Counter

    if not s["translate_t"]:
        return s["sample"]
    counts = Counter(t for sentence in sentences for t in sentence)
    kept = sum(c for c in counts.values() if c >= s["min_count"])
    read = sum(counts.values()) + len(sentences)  # fastText's end-of-line tokens
    return s["sample"] * read / kept


def train_skw2v(sentences, s, threads, seed):
    from skw2v import Word2VecNS

    model = Word2VecNS(vector_size=s["dim"], window=s["window"], sample_size=s["negative"],
                       min_count=s["min_count"], subsample=skw2v_subsample(sentences, s),
                       epochs=s["epochs"],
                       learning_rate=s["lr"], min_learning_rate=1e-4, architecture="skipgram",
                       power=s["power"],
                       n_jobs=threads, random_state=seed, min_n=SUB["minn"],
                       max_n=SUB["maxn"], bucket=s["bucket"], lowercase=False,
                       token_pattern=r"\S+")
    start = time.perf_counter()
    model.fit(sentences)
    fit = time.perf_counter() - start

    def vector_of(word):
        try:
            return model.get_vector(word)
        except KeyError:
            return None

    return {"seconds": model.train_seconds_, "fit_seconds": fit,
            "words": model.index_to_token_.tolist(), "vectors": model.vectors_,
            "vector_of": vector_of, "n_threads_": int(model.n_threads_)}


def read_pairs(path):
    pairs = []
    for line in open(path, encoding="utf8"):
        if line.startswith("#") or not line.strip():
            continue
        a, b, score = line.rstrip("\n").split("\t")
        pairs.append((a.strip(), b.strip(), float(score)))
    return pairs


def all_pairs_spearman(run, path):
    """Spearman over every pair whose two words get a vector (n-gram vectors for unseen
    words; the corpus's case is kept, so words are looked up lowercased as the data
    files hold them); returns (spearman, coverage)."""
    from scipy import stats

    gold, sims, n = [], [], 0
    for a, b, score in read_pairs(path):
        n += 1
        u, v = run["vector_of"](a), run["vector_of"](b)
        if u is None or v is None or not np.any(u) or not np.any(v):
            continue
        u = np.asarray(u, np.float64)
        v = np.asarray(v, np.float64)
        sims.append(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))
        gold.append(score)
    return float(stats.spearmanr(gold, sims).statistic), len(gold) / n


def evaluate(run):
    scores = C.evaluate(C.Run("x", run["seconds"], run["fit_seconds"], run["vectors"],
                              run["words"]))
    for name, file in (("ws353", "wordsim353.tsv"), ("simlex", "simlex999.txt")):
        rho, cov = all_pairs_spearman(run, C.DATA / file)
        scores[f"{name}_all_pairs"] = rho
        scores[f"{name}_coverage"] = cov
    return scores


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--no-speed", action="store_true")
    p.add_argument("--quality", action="store_true")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--quality-threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--lr", type=float, default=0.05, help="fastText's default for skipgram")
    p.add_argument("--bucket", type=int, default=2_000_000)
    p.add_argument("--power", type=float, default=0.5,
                   help="skw2v's noise exponent (fastText's table is fixed at 0.5)")
    p.add_argument("--no-translate-t", action="store_true",
                   help="give skw2v fastText's t as subsample, not its translation")
    p.add_argument("--no-shuffle", action="store_true",
                   help="train on PTB then Brown as concatenated, not in a per-seed random order")
    p.add_argument("--limit-sentences", type=int, default=None,
                   help="use only the first N sentences (smoke runs)")
    add_out_argument(p)
    args = p.parse_args()
    import skw2v

    info = C.machine()
    C.print_machine(info)
    skw2v.show_config()
    sentences = C.ptb_brown()[:args.limit_sentences]
    s = settings(args)
    raw = C.n_tokens(sentences)
    print(f"PTB + Brown: {len(sentences):,} sentences, {raw:,} tokens; settings {s}, {SUB}; "
          f"skw2v's subsample {skw2v_subsample(sentences, s):.6g}")
    result = {"machine": info, "args": C.args_record(args), "settings": {**s, **SUB},
              "n_tokens": raw}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = C.write_sentences(sentences, Path(tmp) / "corpus.txt")
        if not args.no_speed:
            records = []
            for threads in args.threads:
                for rep in range(args.repeats):
                    for impl in ("fasttext", "skw2v"):
                        run = (train_fasttext(corpus, s, threads, rep) if impl == "fasttext"
                               else train_skw2v(sentences, s, threads, rep))
                        if run is None:
                            print(f"  threads={threads} {impl}: failed (NaN every attempt)")
                            continue
                        rec = {"impl": impl, "threads": threads, "repeat": rep,
                               "seconds": run["seconds"], "fit_seconds": run["fit_seconds"],
                               "words_per_sec": raw * s["epochs"] / run["seconds"],
                               "fit_words_per_sec": raw * s["epochs"] / run["fit_seconds"]}
                        own = run.get("self_reported_words_per_sec")
                        if own:
                            rec["self_reported_words_per_sec"] = own
                        records.append(rec)
                        print(f"  threads={threads} {impl:8s} rep {rep}: "
                              f"{rec['words_per_sec']:>10,.0f} words/s training, "
                              f"{rec['fit_words_per_sec']:>10,.0f} whole fit"
                              + (f" (its own figure, training loop: {own:,.0f})" if own
                                 else ""), flush=True)
            rows, summary = [], []
            for threads in args.threads:
                med = {i: C.median([r["words_per_sec"] for r in records
                                    if r["impl"] == i and r["threads"] == threads])
                       for i in ("fasttext", "skw2v")}
                fit = {i: C.median([r["fit_words_per_sec"] for r in records
                                    if r["impl"] == i and r["threads"] == threads])
                       for i in ("fasttext", "skw2v")}
                ratio = med["skw2v"] / med["fasttext"]
                own = C.median([r["self_reported_words_per_sec"] for r in records
                                if r["threads"] == threads
                                and r.get("self_reported_words_per_sec")])
                summary.append({"threads": threads, "fasttext_self_reported": own,
                                "ratio_vs_fasttext_self_reported": med["skw2v"] / own,
                                "median_words_per_sec": med,
                                "median_fit_words_per_sec": fit, "ratio": ratio,
                                "fit_ratio": fit["skw2v"] / fit["fasttext"]})
                rows.append([threads, f"{med['fasttext']:,.0f}", f"{own:,.0f}",
                             f"{med['skw2v']:,.0f}", f"{fit['skw2v']:,.0f}", f"{ratio:.2f}",
                             f"{med['skw2v'] / own:.2f}",
                             f"{fit['skw2v'] / fit['fasttext']:.2f}"])
            print(C.markdown_table(["threads", "fastText words/s (whole call)",
                                    "fastText's own figure (training loop)",
                                    "skw2v words/s (training)", "skw2v words/s (whole fit)",
                                    "skw2v / fastText call", "skw2v / fastText's own",
                                    "skw2v whole fit / fastText call"], rows))
            result["speed"] = records
            result["speed_summary"] = summary
        if args.quality:
            records = []
            for seed in range(args.seeds):
                ordered = shuffled(sentences, None if args.no_shuffle else seed)
                seed_corpus = C.write_sentences(ordered, Path(tmp) / f"corpus-{seed}.txt")
                for impl in ("fasttext", "skw2v"):
                    run = (train_fasttext(seed_corpus, s, args.quality_threads, seed)
                           if impl == "fasttext"
                           else train_skw2v(ordered, s, args.quality_threads, seed))
                    if run is None:
                        continue
                    scores = evaluate(run)
                    rec = {"impl": impl, "seed": seed, "threads": args.quality_threads,
                           "words_per_sec": raw * s["epochs"] / run["seconds"], **scores}
                    records.append(rec)
                    print(f"  seed {seed} {impl:8s}: WS353 {scores['ws353']:.3f} "
                          f"(all pairs {scores['ws353_all_pairs']:.3f}, coverage "
                          f"{scores['ws353_coverage']:.3f})  SimLex {scores['simlex']:.3f} "
                          f"(all {scores['simlex_all_pairs']:.3f}, coverage "
                          f"{scores['simlex_coverage']:.3f})  analogy "
                          f"{scores['analogy']:.3f}", flush=True)
            rows, verdicts = [], {}
            for metric in ("ws353", "ws353_all_pairs", "simlex", "simlex_all_pairs",
                           "analogy", "ws353_coverage", "simlex_coverage"):
                x = [r[metric] for r in records if r["impl"] == "skw2v"]
                y = [r[metric] for r in records if r["impl"] == "fasttext"]
                (mx, _), (my, sy) = C.mean_sd(x), C.mean_sd(y)
                ok = bool(mx >= my - sy)
                verdicts[metric] = ok
                rows.append([metric, C.fmt_mean_sd(y), C.fmt_mean_sd(x),
                             "yes" if ok else "NO"])
            print(C.markdown_table(["metric", "fastText", "skw2v", "skw2v >= fastText - 1 sd"],
                                   rows))
            result["quality"] = records
            result["quality_verdicts"] = verdicts
    result["fasttext_failures"] = C.FASTTEXT_FAILURES
    C.save_json(result, args.out)


if __name__ == "__main__":
    main()
