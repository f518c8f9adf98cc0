"""Text classification on AG News: TF-IDF against skw2v's poolings, warm start and
the FeatureUnion of both (issue 19).

5-fold stratified cross-validation (shuffled, seed 0) over the 7,600 rows of
the AG News test split (title + description). Every row is a Pipeline under
``cross_validate``, so the word vectors are trained inside each fold, on its
training part only. Nothing is tuned on a test fold:

* the regularisation C of every classifier is chosen inside the training
  part (``LogisticRegressionCV`` on a 20 % hold-out of it), except the two plain
  ``LogisticRegression()`` baselines the issue names;
* the embedding settings of the fixed rows were chosen before the runs (the
  ``r2_`` rows in a second round, after the first one's figures: every row of
  both rounds is reported); the two ``r2_nested`` rows choose embedding
  setting, pooling, scaling, C (and the weight of the word-vector block of
  the FeatureUnion) with a ``GridSearchCV`` on a 20 % hold-out of each
  training part, then refit on the whole training part, so their figures are
  free of the selection bias of picking the best fixed row.

Pipelines that differ only in ``pooling`` share one training of the vectors
per fold (``SharedFit``): pooling is not read by ``fit`` and the vectors are
the same with any pooling (tests/test_pooling.py checks it), so this changes
no figure and divides the training work by the number of poolings.

Warm start: ``init_vectors=`` vectors trained on PTB + Brown (2M tokens of
unlabeled text, same tokenizer), cached in benchmarks/_data/ (trained the
first time a row that uses them runs). ``--subwords`` adds the subword rows
(``w2v_sw_``: min_n=3, max_n=6, bucket=200,000, each pooling, cold and warm;
a warm subword row starts from a PTB + Brown model trained with the same
subwords, whose n-gram rows ``init_vectors`` then copies too) when this
build's ``Word2VecNS`` has ``max_n``; otherwise it says they are skipped.
The ``r3_`` rows (a third round, set before it ran) add subwords to the
second round's best fixed rows and to both nested searches.

    python benchmarks/bench_text_classification.py [--subwords] [--jobs 2] [--only PREFIXES] \
        [--out PATH]
"""

import argparse
import hashlib
import os
import sys
import time
import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the working tree's skw2v, built in place
sys.path.insert(0, str(ROOT / "benchmarks"))

import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV  # noqa: E402
from sklearn.model_selection import (GridSearchCV, StratifiedKFold,  # noqa: E402
                                     StratifiedShuffleSplit, cross_validate)
from sklearn.pipeline import FeatureUnion, Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import SVC  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import skw2v  # noqa: E402
from _results import add_out_argument, write_json  # noqa: E402
from skw2v import Word2VecNS  # noqa: E402

DATA = ROOT / ".." / "shared" / "data"
CACHE = ROOT / "benchmarks" / "_data"
TOKEN_PATTERN = r"(?u)\b\w+\b"  # skw2v's default, used by every row
POOLINGS = ("mean", "sif", "max", "mean_max")
CS = (0.3, 1.0, 3.0, 10.0, 30.0)
# Embedding settings fixed before the run: issue 19's AG News setting (20 epochs,
# min_count 2), and a larger one (more dimensions, every word).
EMBEDDINGS = {
    "d100": {"vector_size": 100, "window": 5, "min_count": 2, "epochs": 20},
    "d200": {"vector_size": 200, "window": 5, "min_count": 1, "epochs": 20},
}
# Second round, added after the first (all rows of both are reported): 300 dimensions,
# scaled poolings, and wider nested searches.
LARGER = {"vector_size": 300, "window": 5, "min_count": 1, "epochs": 20}
# 200k buckets (fastText's default is 2M): ~20k distinct words per training part,
# and 160-240 MB of n-gram rows at 200-300 dimensions per model held.
SUBWORDS = {"min_n": 3, "max_n": 6, "bucket": 200_000}


# ------------------------------------------------------------------ data
def load_ag_news(data_dir):
    frame = pd.read_csv(Path(data_dir) / "ag_news_test.csv")
    text = (frame["title"].fillna("") + " " + frame["description"].fillna("")).tolist()
    return np.array(text, dtype=object), frame["label"].to_numpy()


_PRETRAINED = {}  # path -> (settings, n_jobs, data_dir) of a model not trained yet


def pretrained_path(params, n_jobs, data_dir):
    """The path of a model trained on PTB + Brown with the embedding ``params``
    (subwords included): the ``init_vectors`` of the warm-start rows. Trained
    and cached by ``ensure_pretrained`` before the first row that uses it."""
    settings = {**params, "min_count": 2, "epochs": 10, "random_state": 0}
    key = hashlib.sha1(repr(sorted(settings.items())).encode()).hexdigest()[:10]
    path = CACHE / f"ptb_brown_{key}.skw2v"
    if not path.exists():
        _PRETRAINED[str(path)] = (settings, n_jobs, data_dir)
    return str(path)


def _strings(value):
    """Every string inside a parameter value (estimators, grids, lists, dicts)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)
    elif hasattr(value, "get_params"):
        yield from _strings(value.get_params(deep=True))


def ensure_pretrained(estimator):
    """Train the PTB + Brown models ``estimator``'s parameters name, if not cached."""
    for path in set(_strings(estimator)) & set(_PRETRAINED):
        settings, n_jobs, data_dir = _PRETRAINED.pop(path)
        _train_pretrained(Path(path), settings, n_jobs, data_dir)


def _train_pretrained(path, settings, n_jobs, data_dir):
    if not path.exists():
        lines = []
        for name in ("ptb.train.txt", "brown.txt"):
            with open(Path(data_dir) / name, encoding="utf8") as f:
                lines += [line for line in f if line.strip()]
        start = time.perf_counter()
        model = Word2VecNS(**settings, n_jobs=n_jobs).fit(lines)
        CACHE.mkdir(parents=True, exist_ok=True)
        model.save(path)
        print(f"trained PTB + Brown vectors {settings} in {time.perf_counter() - start:.0f} s "
              f"({len(model.vocabulary_)} words) -> {path}", flush=True)


# ------------------------------------------------------- shared vectors
_FITTED = OrderedDict()  # (parameters but pooling, digest of X) -> fitted Word2VecNS
_SHARED = 12  # fits kept: a nested search holds one per setting, a fold's rows one


class SharedFit(Word2VecNS):
    """``Word2VecNS`` whose training is shared by copies that differ only in
    ``pooling`` (within this process): the vectors do not depend on pooling."""

    def fit(self, X, y=None):
        params = {k: v for k, v in self.get_params(deep=False).items() if k != "pooling"}
        digest = hashlib.sha1("\x00".join(X).encode()).hexdigest()
        key = (repr(sorted(params.items())), digest)
        if key not in _FITTED:
            _FITTED[key] = Word2VecNS(**params).fit(X)
            if len(_FITTED) > _SHARED:
                _FITTED.popitem(last=False)
        _FITTED.move_to_end(key)
        for name, value in vars(_FITTED[key]).items():
            if name.endswith("_") and not name.startswith("_"):
                setattr(self, name, value)
        return self

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)


# ------------------------------------------------------------ pipelines
def lr_cv():
    # C chosen on a 20 % hold-out of the training part (one lbfgs path), then refit
    return LogisticRegressionCV(Cs=list(CS), cv=StratifiedShuffleSplit(1, test_size=0.2,
                                                                      random_state=0),
                                max_iter=3000)


def w2v(params, pooling, n_jobs, seed=0):
    return SharedFit(**params, pooling=pooling, n_jobs=n_jobs, random_state=seed)


def tfidf(bigrams=False):
    return TfidfVectorizer(token_pattern=TOKEN_PATTERN, ngram_range=(1, 2 if bigrams else 1))


def rows_to_run(args, has_subwords):
    """(name, description, estimator) of every row, in table order."""
    rows = [
        ("tfidf_lr", "TfidfVectorizer + LogisticRegression() (C=1)",
         Pipeline([("tfidf", tfidf()), ("clf", LogisticRegression(max_iter=3000))])),
        ("tfidf_bigrams_lr", "TfidfVectorizer(ngram_range=(1, 2)) + LogisticRegression() (C=1)",
         Pipeline([("tfidf", tfidf(True)), ("clf", LogisticRegression(max_iter=3000))])),
        ("tfidf_lrcv", "TfidfVectorizer + LogisticRegressionCV (C inside the training part)",
         Pipeline([("tfidf", tfidf()), ("clf", lr_cv())])),
        ("tfidf_bigrams_lrcv", "TfidfVectorizer(ngram_range=(1, 2)) + LogisticRegressionCV",
         Pipeline([("tfidf", tfidf(True)), ("clf", lr_cv())])),
    ]
    variants = [(name, params, "") for name, params in EMBEDDINGS.items()]
    for name, params in EMBEDDINGS.items():
        init = pretrained_path(params, args.jobs, args.data)
        variants.append((f"{name}_warm", {**params, "init_vectors": init},
                         " warm start from PTB + Brown"))
    if has_subwords:
        for name, params in EMBEDDINGS.items():
            sub = {**params, **SUBWORDS}
            variants.append((f"sw_{name}", sub, " subwords"))
            variants.append((f"sw_{name}_warm",
                             {**sub, "init_vectors": pretrained_path(sub, args.jobs, args.data)},
                             " subwords, warm start from PTB + Brown (same subwords)"))
    for name, params, note in variants:
        for pooling in POOLINGS:
            rows.append((f"w2v_{name}_{pooling}",
                         f"Word2VecNS({_short(params)}, pooling={pooling!r}){note} "
                         "+ LogisticRegressionCV",
                         Pipeline([("w2v", w2v(params, pooling, args.jobs)), ("clf", lr_cv())])))
    warm = {**EMBEDDINGS["d200"], "init_vectors": pretrained_path(EMBEDDINGS["d200"], args.jobs,
                                                                  args.data)}
    for bigrams in (False, True):
        union = FeatureUnion([("tfidf", tfidf(bigrams)), ("w2v", w2v(warm, "mean", args.jobs))])
        rows.append((f"union{'_bigrams' if bigrams else ''}_d200_warm_mean",
                     f"FeatureUnion(TfidfVectorizer{'(1, 2)' if bigrams else ''}, "
                     "Word2VecNS(d200 warm, pooling='mean')) + LogisticRegressionCV",
                     Pipeline([("features", union), ("clf", lr_cv())])))
    # (the unscaled max columns made lbfgs crawl in a FeatureUnion: left out)
    inner = StratifiedShuffleSplit(n_splits=1, test_size=0.2, random_state=0)
    later = third_round(args, inner) if has_subwords else []
    return (rows + second_round(args, inner) + later + fourth_round(args, inner)
            + fifth_round(args, inner) + sixth_round(args, inner))


def second_round(args, inner):
    warm300 = {**LARGER, "init_vectors": pretrained_path(LARGER, args.jobs, args.data)}
    warm200 = {**EMBEDDINGS["d200"],
               "init_vectors": pretrained_path(EMBEDDINGS["d200"], args.jobs, args.data)}
    rows = []
    for pooling in ("mean", "sif"):
        rows.append((f"r2_w2v_d300_warm_{pooling}",
                     f"Word2VecNS({_short(LARGER)}, pooling={pooling!r}) warm start from PTB + "
                     "Brown + LogisticRegressionCV",
                     Pipeline([("w2v", w2v(warm300, pooling, args.jobs)), ("clf", lr_cv())])))
    for pooling in ("max", "mean_max"):
        rows.append((f"r2_w2v_d200_warm_{pooling}_scaled",
                     f"Word2VecNS(d200 warm, pooling={pooling!r}) + StandardScaler + "
                     "LogisticRegressionCV",
                     Pipeline([("w2v", w2v(warm200, pooling, args.jobs)),
                               ("scale", StandardScaler()), ("clf", lr_cv())])))
    search = GridSearchCV(
        Pipeline([("w2v", w2v(warm200, "mean", args.jobs)), ("scale", "passthrough"),
                  ("clf", LogisticRegression(max_iter=3000))]),
        [{**{f"w2v__{k}": [v] for k, v in params.items()},
          "w2v__pooling": ["mean", "sif", "mean_max"],
          "scale": ["passthrough", StandardScaler()], "clf__C": [1.0, 10.0, 30.0]}
         for params in (warm200, warm300)], cv=inner)
    rows.append(("r2_nested_w2v", "GridSearchCV(Word2VecNS d200/d300 warm x pooling "
                 "mean/sif/mean_max x scaler or not x C, 20 % hold-out)", search))
    union = FeatureUnion([("tfidf", tfidf()), ("w2v", w2v(warm300, "mean", args.jobs))])
    search = GridSearchCV(
        Pipeline([("features", union), ("clf", LogisticRegression(max_iter=3000))]),
        {"features__w2v__pooling": ["mean", "sif"],
         "features__transformer_weights": [{"tfidf": 1.0, "w2v": w} for w in (0.5, 1.0, 2.0)],
         "clf__C": [3.0, 10.0, 30.0]}, cv=inner)
    # (unigrams only: bigrams did not help the union in the first round and cost 10x)
    rows.append(("r2_nested_union", "GridSearchCV(FeatureUnion(TF-IDF, Word2VecNS "
                 "d300 warm mean/sif, w2v weight 0.5/1/2) x C, 20 % hold-out)", search))
    return rows


def third_round(args, inner):
    """Subwords in the second round's best fixed rows and in both nested searches
    (each search's grid is the second round's plus the same embeddings with
    subwords, so it can only choose subwords where they win on the hold-out)."""
    plain = {"d200": EMBEDDINGS["d200"], "d300": LARGER}
    warm = {}
    for name, params in plain.items():
        sub = {**params, **SUBWORDS}
        warm[name] = {**params, "init_vectors": pretrained_path(params, args.jobs, args.data)}
        warm[f"{name}_sw"] = {**sub, "init_vectors": pretrained_path(sub, args.jobs,
                                                                     args.data)}
    rows = []
    for pooling in ("mean", "sif"):
        rows.append((f"r3_w2v_sw_d300_warm_{pooling}",
                     f"Word2VecNS({_short(warm['d300_sw'])}, pooling={pooling!r}) warm start "
                     "from PTB + Brown (same subwords) + LogisticRegressionCV",
                     Pipeline([("w2v", w2v(warm["d300_sw"], pooling, args.jobs)),
                               ("clf", lr_cv())])))
    # max_n=0 written out: the base estimator of a grid point is cloned from the first
    search = GridSearchCV(
        Pipeline([("w2v", w2v(warm["d200"], "mean", args.jobs)), ("scale", "passthrough"),
                  ("clf", LogisticRegression(max_iter=3000))]),
        [{**{f"w2v__{k}": [v] for k, v in {**SUBWORDS, "max_n": 0, **params}.items()},
          "w2v__pooling": ["mean", "sif", "mean_max"],
          "scale": ["passthrough", StandardScaler()], "clf__C": [1.0, 10.0, 30.0]}
         for params in warm.values()], cv=inner)
    # ablation: the same warm start from a source with other buckets, so that
    # init_vectors can only give whole-word vectors (n-gram rows random; it warns)
    other = {**plain["d200"], **SUBWORDS, "bucket": 250_000}
    whole = {**plain["d200"], **SUBWORDS,
             "init_vectors": pretrained_path(other, args.jobs, args.data)}
    for pooling in ("mean", "sif"):
        rows.append((f"r3_w2v_sw_d200_warm_wholewords_{pooling}",
                     f"Word2VecNS({_short(whole)}, pooling={pooling!r}) warm start from the "
                     "whole-word vectors only (PTB + Brown, bucket=250000) + "
                     "LogisticRegressionCV",
                     Pipeline([("w2v", w2v(whole, pooling, args.jobs)), ("clf", lr_cv())])))
    rows.append(("r3_nested_w2v", "GridSearchCV(Word2VecNS d200/d300 warm, without or with "
                 "subwords x pooling mean/sif/mean_max x scaler or not x C, 20 % hold-out)",
                 search))
    union = FeatureUnion([("tfidf", tfidf()), ("w2v", w2v(warm["d300"], "mean", args.jobs))])
    search = GridSearchCV(
        Pipeline([("features", union), ("clf", LogisticRegression(max_iter=3000))]),
        [{**{f"features__w2v__{k}": [v]
             for k, v in {**SUBWORDS, "max_n": 0, **warm[name]}.items()},
          "features__w2v__pooling": ["mean", "sif"],
          "features__transformer_weights": [{"tfidf": 1.0, "w2v": w} for w in (0.5, 1.0, 2.0)],
          "clf__C": [3.0, 10.0, 30.0]} for name in ("d300", "d300_sw")], cv=inner)
    rows.append(("r3_nested_union", "GridSearchCV(FeatureUnion(TF-IDF, Word2VecNS d300 warm "
                 "without or with subwords, mean/sif, w2v weight 0.5/1/2) x C, 20 % hold-out)",
                 search))
    return rows


def fourth_round(args, inner):
    """Set after the third round's figures: the idf-weighted mean (``pooling="tfidf"``,
    never run before) and 40 epochs on the labelled text, in a nested search
    narrowed after the second round: d300 warm vectors (its best fixed rows),
    no scaler and no mean_max (never chosen), C around 1 (chosen every time)."""
    e20 = {**LARGER, "init_vectors": pretrained_path(LARGER, args.jobs, args.data)}
    rows = [("r4_w2v_d300_warm_tfidf",
             f"Word2VecNS({_short(e20)}, pooling='tfidf') warm start from PTB + Brown + "
             "LogisticRegressionCV",
             Pipeline([("w2v", w2v(e20, "tfidf", args.jobs)), ("clf", lr_cv())]))]
    search = GridSearchCV(
        Pipeline([("w2v", w2v(e20, "mean", args.jobs)),
                  ("clf", LogisticRegression(max_iter=3000))]),
        {"w2v__epochs": [20, 40], "w2v__pooling": ["mean", "tfidf", "sif"],
         "clf__C": [0.3, 1.0, 3.0]}, cv=inner)
    rows.append(("r4_nested_w2v", "GridSearchCV(Word2VecNS d300 warm x epochs 20/40 x pooling "
                 "mean/tfidf/sif x C 0.3/1/3, 20 % hold-out)", search))
    return rows


def fifth_round(args, inner):
    """Set after the second and third rounds' union searches chose the edge of their
    grid in every fold (w2v weight 0.5, C = 3): the grid moved down one step on
    both (as a user extends a grid whose edge wins), plus the idf-weighted mean."""
    warm = {**LARGER, "init_vectors": pretrained_path(LARGER, args.jobs, args.data)}
    union = FeatureUnion([("tfidf", tfidf()), ("w2v", w2v(warm, "mean", args.jobs))])
    search = GridSearchCV(
        Pipeline([("features", union), ("clf", LogisticRegression(max_iter=3000))]),
        {"features__w2v__pooling": ["mean", "sif", "tfidf"],
         "features__transformer_weights": [{"tfidf": 1.0, "w2v": w} for w in (0.25, 0.5, 1.0)],
         "clf__C": [1.0, 3.0, 10.0]}, cv=inner)
    return [("r5_nested_union", "GridSearchCV(FeatureUnion(TF-IDF, Word2VecNS d300 warm "
             "mean/sif/tfidf, w2v weight 0.25/0.5/1) x C 1/3/10, 20 % hold-out)", search)]


def sixth_round(args, inner):
    """Set after the fifth: a nonlinear classifier. Averaged word vectors are dense
    and few (300 columns), where an RBF kernel can draw what a linear model on
    the mean cannot; TF-IDF's 20k sparse columns are nearly separable as they
    are. Each search chooses inside the training part; the TF-IDF + SVC row is
    the same classifier on TF-IDF alone, for a like-for-like reading."""
    warm = {**LARGER, "init_vectors": pretrained_path(LARGER, args.jobs, args.data)}
    cs = {"clf__C": [1.0, 3.0, 10.0]}
    tfidf_svc = GridSearchCV(Pipeline([("tfidf", tfidf()), ("clf", SVC())]), cs, cv=inner)
    w2v_svc = GridSearchCV(
        Pipeline([("w2v", w2v(warm, "mean", args.jobs)), ("scale", StandardScaler()),
                  ("clf", SVC())]), {"w2v__pooling": ["mean", "sif"], **cs}, cv=inner)
    # scaled word-vector columns (unit variance each, ~17 per row over 300 of them)
    # weighted down next to TF-IDF's unit rows
    block = Pipeline([("w2v", w2v(warm, "mean", args.jobs)), ("scale", StandardScaler())])
    union = FeatureUnion([("tfidf", tfidf()), ("w2v", block)])
    union_svc = GridSearchCV(
        Pipeline([("features", union), ("clf", SVC())]),
        {"features__transformer_weights": [{"tfidf": 1.0, "w2v": w} for w in (0.05, 0.1, 0.2)],
         **cs}, cv=inner)
    return [
        ("r6_nested_tfidf_svc", "GridSearchCV(TfidfVectorizer + SVC(rbf) x C 1/3/10, "
         "20 % hold-out)", tfidf_svc),
        ("r6_nested_w2v_svc", "GridSearchCV(Word2VecNS d300 warm mean/sif + StandardScaler "
         "+ SVC(rbf) x C 1/3/10, 20 % hold-out)", w2v_svc),
        ("r6_nested_union_svc", "GridSearchCV(FeatureUnion(TF-IDF, Word2VecNS d300 warm mean "
         "+ StandardScaler, w2v weight 0.05/0.1/0.2) + SVC(rbf) x C 1/3/10, 20 % hold-out)",
         union_svc)]


def _short(params):
    return ", ".join(f"{k}={Path(v).name if k == 'init_vectors' else v}"
                     for k, v in params.items() if k != "init_vectors") or "defaults"


def _plain(name, value):
    """A chosen parameter as JSON data."""
    if name.endswith("init_vectors") and value:
        return Path(value).name
    if value is None or isinstance(value, (bool, int, float, str, tuple, list, dict)):
        return value
    return repr(value)


def loadavg():
    try:
        return list(os.getloadavg())
    except OSError:  # pragma: no cover
        return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--jobs", type=int, default=2, help="training threads of Word2VecNS")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--subwords", action="store_true",
                        help="add the subword rows (when Word2VecNS has min_n/max_n)")
    parser.add_argument("--only", default=None,
                        help="comma-separated prefixes of the row names to run")
    add_out_argument(parser)
    args = parser.parse_args(argv)

    # (sklearn 1.9 announces changes of LogisticRegressionCV's defaults at every fit)
    warnings.filterwarnings("ignore", category=FutureWarning, module="sklearn")
    print(" ".join(["python"] + sys.argv), flush=True)
    skw2v.show_config()
    has_subwords = "max_n" in Word2VecNS().get_params()
    if args.subwords and not has_subwords:
        print("--subwords: this Word2VecNS has no max_n parameter: the subword rows are "
              "skipped", flush=True)
    X, y = load_ag_news(args.data)
    print(f"AG News test split: {len(X)} documents; {args.folds}-fold stratified CV",
          flush=True)
    folds = StratifiedKFold(args.folds, shuffle=True, random_state=0)
    rows = rows_to_run(args, args.subwords and has_subwords)
    if args.only:
        prefixes = tuple(args.only.split(","))
        rows = [r for r in rows if r[0].startswith(prefixes)]
    results = {"command": " ".join(["python"] + sys.argv), "config": skw2v._config.config(),
               "sklearn": sklearn.__version__, "n_documents": len(X), "folds": args.folds,
               "subwords": "run" if args.subwords and has_subwords else
               ("skipped: Word2VecNS has no max_n" if args.subwords else "not requested"),
               "loadavg_start": loadavg(), "rows": []}
    out = None
    for name, description, estimator in rows:
        ensure_pretrained(estimator)
        start = time.perf_counter()
        # One BLAS thread: LogisticRegression is not what is measured, and a threaded
        # BLAS on a busy machine slows lbfgs down badly.
        with threadpool_limits(limits=1, user_api="blas"):
            cv = cross_validate(clone(estimator), X, y, cv=folds, return_estimator=True)
        scores = cv["test_score"]
        row = {"name": name, "description": description, "fold_accuracy": scores.tolist(),
               "mean": float(scores.mean()), "std": float(scores.std()),
               "seconds": time.perf_counter() - start, "loadavg": loadavg()}
        if isinstance(estimator, GridSearchCV):
            row["chosen"] = [{k: _plain(k, v) for k, v in est.best_params_.items()}
                             for est in cv["estimator"]]
        results["rows"].append(row)
        out = write_json(results, out or args.out)  # after every row: a stopped run keeps them
        print(f"{name:42s} {row['mean']:.4f} ± {row['std']:.4f}  ({row['seconds']:.0f} s)"
              + (f"  chosen: {row['chosen']}" if "chosen" in row else ""), flush=True)
    results["loadavg_end"] = loadavg()
    write_json(results, out or args.out)


if __name__ == "__main__":
    main()
