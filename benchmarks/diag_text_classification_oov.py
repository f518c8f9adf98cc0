"""Diagnostic for RESULTS section 9b: does the AG News subword row gain or lose through
the n-gram vectors of the test documents' unseen words?

The row w2v_sw_d200_warm_mean of bench_text_classification.py (same folds, same
seed, one thread: its fold figures are reproduced bitwise), with each test
document transformed twice: as the row does (unseen words take their n-gram
vectors) and with the words outside the vocabulary removed first.

    python benchmarks/diag_text_classification_oov.py
"""

import re
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_text_classification as b  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from skw2v import Word2VecNS  # noqa: E402


def main():
    warnings.filterwarnings("ignore", category=FutureWarning, module="sklearn")
    X, y = b.load_ag_news(b.DATA)
    sub = {**b.EMBEDDINGS["d200"], **b.SUBWORDS}
    init = b.pretrained_path(sub, 1, b.DATA)
    b.ensure_pretrained([init])
    tok = re.compile(b.TOKEN_PATTERN)
    res = []
    folds = StratifiedKFold(5, shuffle=True, random_state=0).split(X, y)
    for k, (tr, te) in enumerate(folds):
        model = Word2VecNS(**sub, init_vectors=init, n_jobs=1, random_state=0,
                           pooling="mean").fit(X[tr].tolist())
        tokens = [tok.findall(d.lower()) for d in X[te]]
        kept = [" ".join(t for t in ts if t in model.vocabulary_) for ts in tokens]
        unseen = np.mean([t not in model.vocabulary_ for ts in tokens for t in ts])
        with threadpool_limits(1, "blas"):
            clf = b.lr_cv().fit(model.transform(X[tr].tolist()), y[tr])
            with_ngrams = clf.score(model.transform(X[te].tolist()), y[te])
            dropped = clf.score(model.transform(kept), y[te])
        res.append((with_ngrams, dropped))
        print(f"fold {k}: unseen test tokens {unseen:.3f}, accuracy with their n-gram vectors "
              f"{with_ngrams:.4f}, with them dropped {dropped:.4f}", flush=True)
    r = np.array(res)
    d = r[:, 0] - r[:, 1]
    print(f"mean {r[:, 0].mean():.4f} vs {r[:, 1].mean():.4f}; n-gram vectors of unseen words: "
          f"{d.mean():+.4f} ± {d.std():.4f} ({(d > 0).sum()}/5 folds positive)")


if __name__ == "__main__":
    main()
