"""Recipe: TF-IDF and word vectors side by side in one classifier, the word
vectors warm-started from a larger unlabeled corpus.

1. Train ``Word2VecNS`` once on the unlabeled text (one document a line) and
   ``save`` it: a file path is what ``init_vectors=`` should get inside a
   Pipeline, since ``clone`` (``cross_validate``, ``GridSearchCV``) unfits an
   estimator given as a parameter.
2. ``FeatureUnion`` of ``TfidfVectorizer`` (sparse, exact words) and
   ``Word2VecNS(init_vectors=path)`` (dense, words that mean alike land
   together): the vectors continue training on the labelled documents of
   each training fold, starting from the pretrained ones for the words both
   corpora share.
3. ``LogisticRegressionCV`` picks C inside each training fold.

Run (AG News + PTB/Brown from ../shared/data by default)::

    python examples/featureunion_tfidf_word2vec.py
    python examples/featureunion_tfidf_word2vec.py --labelled data.csv --text text \\
        --label label --unlabeled big.txt

It prints the cross-validated accuracy of TF-IDF alone and of the union.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import FeatureUnion, Pipeline

from skw2v import Word2VecNS

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def pretrain(unlabeled_paths, path, **params):
    """Word vectors of the unlabeled text, saved to ``path`` (returned)."""
    lines = []
    for name in unlabeled_paths:
        with open(name, encoding="utf-8") as f:
            lines += [line for line in f if line.strip()]
    Word2VecNS(**params).fit(lines).save(path)
    return path


def union_pipeline(init_vectors, **w2v_params):
    """TF-IDF next to the SIF-pooled word vectors, weighted half (what the nested
    search of benchmarks/bench_text_classification.py chose most on AG News)."""
    features = FeatureUnion([
        ("tfidf", TfidfVectorizer()),
        ("w2v", Word2VecNS(init_vectors=init_vectors, pooling="sif", **w2v_params)),
    ], transformer_weights={"tfidf": 1.0, "w2v": 0.5})
    return Pipeline([("features", features), ("clf", LogisticRegressionCV(max_iter=3000))])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labelled", default=str(DATA / "ag_news_test.csv"),
                        help="CSV of labelled documents")
    parser.add_argument("--text", default="title,description",
                        help="text column(s) of the CSV, comma-separated (joined by a space)")
    parser.add_argument("--label", default="label", help="label column of the CSV")
    parser.add_argument("--unlabeled", nargs="+",
                        default=[str(DATA / "ptb.train.txt"), str(DATA / "brown.txt")],
                        help="unlabeled text files, one document a line")
    parser.add_argument("--vector-size", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=20, help="epochs on each training fold")
    parser.add_argument("--pretrain-epochs", type=int, default=10,
                        help="epochs on the unlabeled text")
    parser.add_argument("--min-count", type=int, default=1)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=None)
    args = parser.parse_args(argv)

    frame = pd.read_csv(args.labelled)
    columns = args.text.split(",")
    texts = frame[columns].fillna("").astype(str).agg(" ".join, axis=1).to_numpy(dtype=object)
    labels = frame[args.label].to_numpy()
    params = {"vector_size": args.vector_size, "min_count": args.min_count,
              "n_jobs": args.n_jobs, "random_state": 0}
    cv = StratifiedKFold(args.folds, shuffle=True, random_state=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = pretrain(args.unlabeled, Path(tmp) / "pretrained.skw2v",
                        epochs=args.pretrain_epochs, **params)
        tfidf = Pipeline([("tfidf", TfidfVectorizer()),
                          ("clf", LogisticRegressionCV(max_iter=3000))])
        union = union_pipeline(str(path), epochs=args.epochs, **params)
        for name, model in (("TF-IDF", tfidf), ("TF-IDF + Word2VecNS", union)):
            scores = cross_val_score(model, texts, labels, cv=cv)
            print(f"{name}: accuracy {np.mean(scores):.4f} +- {np.std(scores):.4f} "
                  f"({args.folds}-fold CV)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
