"""examples/featureunion_tfidf_word2vec.py runs as documented, on a small synthetic corpus."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _corpora import labelled_topic_docs, make_topic_corpus

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "featureunion_tfidf_word2vec.py"


def test_featureunion_recipe_runs_on_a_synthetic_corpus(tmp_path):
    pd = pytest.importorskip("pandas")
    # Unlabeled: sentences of 3 planted topics (t{k}w{i}); labelled: documents whose
    # label is their topic, with filler words shared by all topics.
    sentences, _ = make_topic_corpus(n_topics=3, words_per_topic=10, n_sentences=600, seed=1)
    (tmp_path / "unlabeled.txt").write_text("\n".join(" ".join(s) for s in sentences) + "\n")
    docs, labels = labelled_topic_docs(120, 2, topic_words=10, topic_picks=3,
                                       filler=[f"f{i}" for i in range(20)], filler_picks=6)
    pd.DataFrame({"text": docs, "label": labels}).to_csv(tmp_path / "labelled.csv",
                                                         index=False)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--labelled", "labelled.csv", "--text", "text",
         "--unlabeled", "unlabeled.txt", "--vector-size", "16", "--epochs", "3",
         "--pretrain-epochs", "2", "--min-count", "1", "--folds", "3", "--n-jobs", "1"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["TF-IDF", "TF-IDF + Word2VecNS"]
    accuracy = [float(line.split("accuracy ")[1].split()[0]) for line in lines]
    # The topics are planted: both pipelines classify well above chance (1/3).
    assert min(accuracy) > 0.8, proc.stdout
    assert np.isfinite(accuracy).all()
