"""skw2v.dask on a LocalCluster of 2 worker processes (loopback): distributed fit
and GridSearchCV under joblib's dask backend. Skipped without dask/distributed."""

import gzip
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

db = pytest.importorskip("dask.bag")
distributed = pytest.importorskip("distributed")

from _corpora import make_topic_corpus, topic_scores
from sklearn.utils import check_random_state

import skw2v
import skw2v.dask as skdask
from skw2v import Word2VecNS
from skw2v._threads import _cpu_count, effective_n_threads
from skw2v._plan import plan_for
from skw2v._training import run_epoch
from skw2v._weights import initial_output_bias, initial_weights

# 2 workers share this machine's cores: each worker's OpenMP threads get half.
CORES_PER_WORKER = max(1, _cpu_count() // 2)


@pytest.fixture(scope="module")
def client():
    import dask

    # Set before the workers spawn, so their OpenMP runtime starts with it
    # (dask's default is 1); GridSearchCV's fits then use their share of cores.
    with dask.config.set({"distributed.nanny.pre-spawn-environ.OMP_NUM_THREADS":
                          CORES_PER_WORKER}):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        client.wait_for_workers(2, timeout=120)
        # Worker processes must import this checkout's skw2v (spawn copies sys.path).
        where = set(client.run(lambda: __import__("skw2v").__file__).values())
        assert where == {skw2v.__file__}, f"workers import skw2v from {where}"
        yield client
    finally:
        client.close()
        cluster.close()


PARAMS = dict(vector_size=16, window=3, min_count=1, epochs=3, n_jobs=1, random_state=0)


def test_one_partition_reproduces_the_single_machine_fit(client):
    # All tokens in one partition (the other is empty): one worker trains with the
    # same vocabulary, initial vectors, seeds and learning-rate schedule as fit.
    sentences, _ = make_topic_corpus(n_sentences=400)
    bag = db.concat([db.from_sequence(sentences, npartitions=1),
                     db.from_sequence([], npartitions=1)])
    single = Word2VecNS(**PARAMS).fit(sentences)
    for merge in skdask.MERGES:
        model = skdask.fit(Word2VecNS(**PARAMS), bag, client, merge=merge)
        np.testing.assert_array_equal(model.index_to_token_, single.index_to_token_)
        np.testing.assert_array_equal(model.token_counts_, single.token_counts_)
        np.testing.assert_allclose(model.idf_, single.idf_)
        assert model.vocabulary_ == single.vocabulary_
        # w0 + (w1 - w0) rounds differently from w1: agreement to float32 noise only
        np.testing.assert_allclose(model.vectors_, single.vectors_, atol=1e-5)
        np.testing.assert_allclose(model.output_vectors_, single.output_vectors_, atol=1e-5)
        np.testing.assert_allclose(model.loss_history_, single.loss_history_, rtol=1e-6)


def test_nce_output_bias_is_trained_and_merged(client):
    sentences, _ = make_topic_corpus(n_sentences=400)
    bag = db.concat([db.from_sequence(sentences, npartitions=1),
                     db.from_sequence([], npartitions=1)])
    params = dict(PARAMS, loss="nce")
    single = Word2VecNS(**params).fit(sentences)
    model = skdask.fit(Word2VecNS(**params), bag, client)
    # one non-empty partition: the bias follows the single-machine fit too
    np.testing.assert_allclose(model.output_bias_, single.output_bias_, atol=1e-5)
    np.testing.assert_allclose(model.vectors_, single.vectors_, atol=1e-5)
    start = initial_output_bias(model.token_counts_, "nce", model.subsample)
    assert np.abs(model.output_bias_ - start).max() > 1e-3  # it moved
    # split over both workers, the bias is merged like the output rows
    two = skdask.fit(Word2VecNS(**params), db.from_sequence(sentences, npartitions=4), client)
    assert np.isfinite(two.output_bias_).all()
    assert np.abs(two.output_bias_ - start).max() > 1e-3


def _two_halves():
    """Two partitions of equal length: words a* only in the first, b* only in the
    second, s* in both (more often in the first)."""
    rs = np.random.default_rng(1)
    a = [[f"a{rs.integers(6)}" if rs.random() < 0.5 else f"s{rs.integers(3)}"
          for _ in range(10)] for _ in range(150)]
    b = [[f"b{rs.integers(6)}" if rs.random() < 0.8 else f"s{rs.integers(3)}"
          for _ in range(10)] for _ in range(150)]
    return a, b


@pytest.mark.parametrize("loss", ["negative_sampling", "nce"])
@pytest.mark.parametrize("merge", skdask.MERGES)
def test_merge_against_a_reference_of_two_workers(client, merge, loss):
    a, b = _two_halves()
    # subsample 0: weights are raw counts
    params = dict(PARAMS, epochs=1, subsample=0.0, loss=loss)
    model = skdask.fit(Word2VecNS(**params), db.from_sequence(a + b, npartitions=2), client,
                       merge=merge)

    # Reference: each half trained from the same start, B at its global position
    # in the learning-rate schedule, then merged by hand.
    ref = Word2VecNS(**params)
    rs = check_random_state(params["random_state"])
    w0 = initial_weights(model.index_to_token_, model.token_counts_, rs,
                         vector_size=ref.vector_size, loss=ref.loss, subsample=ref.subsample,
                         init_vectors=None)
    seed = rs.randint(0, np.iinfo(np.int64).max, size=1, dtype=np.int64)[0]
    parts = [model._encode_known(half) for half in (a, b)]
    total = sum(len(p.tokens) for p in parts)
    deltas, counts, out_weights = [], [], []
    lr_scale = 2 if merge == "scaled" else 1  # "scaled": W = 2 workers at 2x the rate
    for i, part in enumerate(parts):
        w = (w0[0].copy(), w0[1].copy(), w0[2].copy())
        plan = plan_for(part, model.token_counts_, ref.get_params())
        run_epoch(plan, w[0], w[1], output_bias=w[2] if loss == "nce" else None,
                  lr_start=ref.learning_rate * lr_scale,
                  lr_end=ref.min_learning_rate * lr_scale,
                  progress_offset=len(parts[0].tokens) * i,
                  progress_total=total, seed=skdask._shard_seed(seed, i), n_threads=1)
        deltas.append((w[0] - w0[0], w[1] - w0[1], w[2] - w0[2]))
        counts.append(np.bincount(part.tokens, minlength=len(model.index_to_token_)))
        out_weights.append(skdask._touch_weights(plan, counts[-1])[1])

    rows = {p: np.array([model.vocabulary_[f"{p}{i}"] for i in range(6 if p != "s" else 3)])
            for p in "abs"}
    dA, dB = deltas[0][0], deltas[1][0]  # input vectors
    got = model.vectors_ - w0[0]
    # NCE's bias merges like an output column: same rule, output-row weights
    bA, bB = deltas[0][2], deltas[1][2]
    got_bias = model.output_bias_ - w0[2]
    if loss == "negative_sampling":
        assert not np.any(model.output_bias_) and not np.any(bA) and not np.any(bB)
    elif merge == "sum":
        np.testing.assert_allclose(got_bias, bA + bB, atol=1e-6)
    elif merge in ("mean", "scaled"):
        np.testing.assert_allclose(got_bias, (bA + bB) / 2, atol=1e-6)
    else:
        wa, wb = out_weights
        np.testing.assert_allclose(got_bias, (wa * bA + wb * bB) / (wa + wb), atol=1e-6)
    if loss == "nce":
        assert np.abs(bA).max() > 1e-4 and np.abs(bB).max() > 1e-4  # the bias did train
    if merge == "sum":
        np.testing.assert_allclose(got, dA + dB, atol=1e-6)
    elif merge in ("mean", "scaled"):
        np.testing.assert_allclose(got, (dA + dB) / 2, atol=1e-6)
    else:
        # Rows seen by one worker keep its whole update (SPARK-24666) ...
        np.testing.assert_allclose(got[rows["a"]], dA[rows["a"]], atol=1e-6)
        np.testing.assert_allclose(got[rows["b"]], dB[rows["b"]], atol=1e-6)
        # ... shared rows move by the count-weighted mean of the two updates.
        ca, cb = counts[0][rows["s"], None], counts[1][rows["s"], None]
        np.testing.assert_allclose(got[rows["s"]],
                                   (ca * dA[rows["s"]] + cb * dB[rows["s"]]) / (ca + cb),
                                   atol=1e-6)
        assert not np.allclose(got[rows["s"]], (dA[rows["s"]] + dB[rows["s"]]) / 2, atol=1e-6)
    if merge != "sum":
        # the plain mean halves the update of a word only one worker saw
        assert np.abs(got[rows["a"]]).sum() > 0


def test_two_workers_learn_the_planted_topics_and_return_an_ordinary_model(client, tmp_path):
    sentences, topic_of = make_topic_corpus()
    model, stats = skdask.fit(Word2VecNS(vector_size=20, window=3, min_count=1, epochs=5,
                                         random_state=0),
                              db.from_sequence(sentences, npartitions=4), client,
                              return_stats=True)
    precision, nearest = topic_scores(model.vectors_, model.index_to_token_, topic_of)
    assert precision >= 0.9 and nearest >= 0.95, (precision, nearest)
    # the work was split over both workers, and the model moved once per epoch
    assert stats["n_workers"] == 2 and len(stats["tokens_per_worker"]) == 2
    assert min(stats["tokens_per_worker"].values()) > 0.3 * stats["n_tokens"]
    model_bytes = model.vectors_.nbytes + model.output_vectors_.nbytes
    assert [e["scatter_bytes"] for e in stats["epochs"]] == [2 * model_bytes] * 5
    assert all(0 < e["gather_bytes"] <= 2 * (model_bytes + 3 * len(model.vectors_) * 8)
               for e in stats["epochs"])
    assert set(stats["threads_per_worker"].values()) == {CORES_PER_WORKER}
    # an ordinary fitted Word2VecNS
    assert model.vectors_.dtype == np.float32 and model.vectors_.shape == (44, 20)
    assert model.loss_history_.shape == (5,) and np.isfinite(model.loss_history_).all()
    assert model.loss_history_[-1] < model.loss_history_[0]
    assert model.n_threads_ == CORES_PER_WORKER and model.device_ == "cpu"
    assert model.train_seconds_ > 0
    assert model.most_similar("t0w0", topn=3)[0][0].startswith("t0")
    X = [" ".join(s) for s in sentences[:5]]
    out = model.transform(X)
    assert out.shape == (5, 20)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.transform(X), out)
    assert np.isfinite(model.score(sentences[:50]))
    model.partial_fit(sentences[:100])
    assert model.loss_history_.shape == (10,)


def test_text_files_read_by_the_workers(client, tmp_path):
    sentences, topic_of = make_topic_corpus(n_sentences=800)
    plain, packed = tmp_path / "part1.txt", tmp_path / "part2.txt.gz"
    plain.write_text("".join(" ".join(s) + "\n" for s in sentences[:500]), encoding="utf-8")
    with gzip.open(packed, "wt", encoding="utf-8") as f:
        f.writelines(" ".join(s) + "\n" for s in sentences[500:])
    model = skdask.fit(Word2VecNS(vector_size=20, window=3, min_count=1, random_state=0),
                       [plain, str(packed)], client)
    # one document per line, whitespace tokens, as fit reads a file
    single = Word2VecNS(vector_size=20, window=3, min_count=1, random_state=0, epochs=1)
    single.fit(sentences)
    np.testing.assert_array_equal(model.index_to_token_, single.index_to_token_)
    np.testing.assert_array_equal(model.token_counts_, single.token_counts_)
    np.testing.assert_allclose(model.idf_, single.idf_)
    precision, _ = topic_scores(model.vectors_, model.index_to_token_, topic_of)
    assert precision >= 0.8  # random vectors: about 0.16


def test_string_documents_use_the_estimators_tokenization(client):
    docs = ["The Cat sat on the MAT", "the dog; the LOG!", "a cat and a dog"] * 20 + [""]
    kwargs = dict(vector_size=8, min_count=3, max_vocab_size=5, epochs=1, random_state=0)
    model = skdask.fit(Word2VecNS(**kwargs), db.from_sequence(docs, npartitions=3), client)
    single = Word2VecNS(**kwargs).fit(docs)
    np.testing.assert_array_equal(model.index_to_token_, single.index_to_token_)
    np.testing.assert_array_equal(model.token_counts_, single.token_counts_)
    np.testing.assert_allclose(model.idf_, single.idf_)
    kwargs["lowercase"] = False
    upper = skdask.fit(Word2VecNS(**kwargs), db.from_sequence(docs, npartitions=3), client)
    np.testing.assert_array_equal(upper.index_to_token_,
                                  Word2VecNS(**kwargs).fit(docs).index_to_token_)
    assert "the" in model.vocabulary_ and "The" not in model.vocabulary_


def test_several_syncs_per_epoch(client):
    sentences, topic_of = make_topic_corpus()
    model, stats = skdask.fit(Word2VecNS(vector_size=20, window=3, min_count=1, epochs=3,
                                         random_state=0),
                              db.from_sequence(sentences, npartitions=2), client,
                              syncs_per_epoch=3, return_stats=True)
    assert [len(e["worker_compute_seconds"]) for e in stats["epochs"]] == [3] * 3
    model_bytes = model.vectors_.nbytes + model.output_vectors_.nbytes
    assert stats["epochs"][0]["scatter_bytes"] == 3 * 2 * model_bytes
    precision, _ = topic_scores(model.vectors_, model.index_to_token_, topic_of)
    assert precision >= 0.8  # random vectors: about 0.16
    # every token trained once per epoch: the slices cover each shard exactly
    single = Word2VecNS(vector_size=20, window=3, min_count=1, epochs=3, random_state=0,
                        n_jobs=1).fit(sentences)
    n_words = []
    model2 = Word2VecNS(vector_size=20, window=3, min_count=1, epochs=1, random_state=0,
                        subsample=0.0, callbacks=[lambda est, info: n_words.append(
                            info["words"])])
    skdask.fit(model2, db.from_sequence(sentences, npartitions=2), client, syncs_per_epoch=4)
    assert n_words == [single.token_counts_.sum()]
    with pytest.raises(ValueError, match="syncs_per_epoch must be a positive integer, got 0"):
        skdask.fit(Word2VecNS(), db.from_sequence(sentences, npartitions=2), client,
                   syncs_per_epoch=0)


def test_worker_threads(client):
    workers = skdask._worker_threads(client, None)
    assert len(workers) == 2 and set(workers.values()) == {CORES_PER_WORKER}
    assert set(skdask._worker_threads(client, 3).values()) == {3}
    assert set(skdask._worker_threads(client, -1).values()) == {CORES_PER_WORKER}
    # the OpenMP threads a plain fit (e.g. inside GridSearchCV) uses on a worker
    assert set(client.run(effective_n_threads, None).values()) == {CORES_PER_WORKER}


def test_worker_threads_do_not_trust_the_cached_scheduler_info(client, monkeypatch):
    # The client's periodic refresh caches scheduler_info() without per-worker
    # entries; reading it raced with that refresh and once failed CI with
    # "the dask cluster has no workers".
    monkeypatch.setattr(client, "scheduler_info", lambda *a, **k: {"workers": {}})
    assert sorted(skdask._worker_threads(client, None)) == sorted(client.nthreads())


def test_grid_search_under_the_dask_joblib_backend(client):
    from joblib import parallel_backend
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    sentences, topic_of = make_topic_corpus(n_sentences=300, filler_rate=0.5, seed=3)
    X = [" ".join(s) for s in sentences]
    y = [topic_of[next(w for w in s if w in topic_of)] if any(w in topic_of for w in s)
         else 0 for s in sentences]
    # word vectors are small (norm ~0.1 here): little regularisation
    pipe = Pipeline([("w2v", Word2VecNS(vector_size=16, window=3, min_count=1, epochs=5,
                                        random_state=0)),
                     ("clf", LogisticRegression(C=100, max_iter=300))])
    grid = {"w2v__sample_size": [2, 5], "w2v__power": [0.5, 0.75]}
    search = GridSearchCV(pipe, grid, cv=2, n_jobs=-1)
    with parallel_backend("dask"):
        search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_score_ > 0.5  # 5 balanced topics: chance is 0.2
    assert search.best_estimator_.named_steps["w2v"].vectors_.shape[1] == 16


# ------------------------------------------------------------- bad input
def test_bad_input(client, tmp_path):
    bag = db.from_sequence([["a", "b"]] * 10, npartitions=2)
    with pytest.raises(TypeError, match="estimator must be a skw2v.Word2VecNS, got dict"):
        skdask.fit({}, bag, client)
    with pytest.raises(ValueError, match="does not exist or is not a file.*from_sequence"):
        skdask.fit(Word2VecNS(), ["the cat sat", "on the mat"], client)
    with pytest.raises(ValueError, match="does not exist"):
        skdask.fit(Word2VecNS(), [tmp_path / "missing.txt"], client)
    with pytest.raises(ValueError, match="empty list"):
        skdask.fit(Word2VecNS(), [], client)
    with pytest.raises(TypeError, match="got dict"):
        skdask.fit(Word2VecNS(), {"a": 1}, client)
    with pytest.raises(TypeError, match="element of type int"):
        skdask.fit(Word2VecNS(), [3], client)
    with pytest.raises(ValueError, match="merge must be one of .* got 'median'"):
        skdask.fit(Word2VecNS(), bag, client, merge="median")
    with pytest.raises(TypeError, match="client must be a distributed.Client"):
        skdask.fit(Word2VecNS(), bag, client="tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match="device='cuda' is not supported"):
        skdask.fit(Word2VecNS(device="cuda"), bag, client)
    with pytest.raises(ValueError, match="vector_size"):
        skdask.fit(Word2VecNS(vector_size=0), bag, client)


def test_bad_documents_leave_the_estimator_unfitted(client):
    model = Word2VecNS(min_count=1, epochs=1, vector_size=4, random_state=0)
    skdask.fit(model, db.from_sequence([["a", "b"]] * 10, npartitions=2), client)
    assert hasattr(model, "vectors_")
    with pytest.raises(ValueError, match=r"documents \(partition 1\)\[1\] is None"):
        skdask.fit(model, db.from_sequence(["a b", "c d", "e f", None], npartitions=2), client)
    assert not hasattr(model, "vectors_") and not hasattr(model, "vocabulary_")
    with pytest.raises(ValueError, match="vocabulary is empty.*min_count=50"):
        skdask.fit(Word2VecNS(min_count=50), db.from_sequence(["a b"] * 3, npartitions=2),
                   client)
    with pytest.raises(ValueError, match="has no tokens"):
        skdask.fit(Word2VecNS(), db.from_sequence(["", "!!"], npartitions=2), client)


def _readme_dask_examples():
    """The python blocks of the README's "Dask" section, in order."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Dask\n", 1)[1].split("\n## ", 1)[0]
    return [block.split("```", 1)[0] for block in section.split("```python\n")[1:]]


@pytest.mark.parametrize("index", [0, 1])
def test_readme_dask_examples_run_as_scripts(tmp_path, index):
    # Copy-paste examples: each must run as a script on a fresh LocalCluster.
    blocks = _readme_dask_examples()
    assert len(blocks) == 2
    script = tmp_path / f"example_{index}.py"
    script.write_text(blocks[index], encoding="utf-8")
    root = Path(skw2v.__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(root)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    if index == 0:
        assert "w2v__power" in proc.stdout and "w2v__sample_size" in proc.stdout
    else:
        first = proc.stdout.splitlines()[0]
        assert first.startswith("[(") and first.count("', ") == 5, proc.stdout


def test_auto_device_is_validated_as_the_workers_train(client, monkeypatch):
    # On a driver with a GPU, "auto" would resolve to cuda there, which refuses
    # shared_negatives; the workers train on CPUs, so the fit must go through.
    import skw2v._params as params_module

    real = params_module.resolve_device
    monkeypatch.setattr(params_module, "resolve_device",
                        lambda device: ("cuda", None) if device == "auto" else real(device))
    with pytest.raises(ValueError, match="shared_negatives"):
        Word2VecNS(device="auto", shared_negatives=True)._more_validate_params()
    sentences, _ = make_topic_corpus(n_sentences=100)
    model = skdask.fit(Word2VecNS(device="auto", shared_negatives=True, **PARAMS),
                       db.from_sequence(sentences, npartitions=2), client)
    assert model.device_ == "cpu" and np.isfinite(model.vectors_).all()
