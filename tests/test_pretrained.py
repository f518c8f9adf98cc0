"""Pretrained rows: frozen init_vectors rows (bitwise unchanged by fit and partial_fit)
and the pretrained-only featurizer (init_vectors with epochs=0)."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skw2v import Word2VecNS, load
from skw2v._openmp_helpers import openmp_enabled
from skw2v.word2vec_format import export_word2vec, model_from_vectors

from _corpora import labelled_topic_docs, tiny_docs

N_JOBS = [1, pytest.param(2, marks=pytest.mark.skipif(not openmp_enabled(),
                                                      reason="built without OpenMP"))]


def pretrained(words, dim, seed=0):
    rng = np.random.default_rng(seed)
    return {w: rng.standard_normal(dim).astype(np.float32) for w in words}


def assert_rows_bitwise(est, init):
    for word, vector in init.items():
        if word in est.vocabulary_:
            got = est.vectors_[est.vocabulary_[word]]
            assert got.tobytes() == vector.tobytes(), word


# ----------------------------------------------------------------- frozen rows
@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
@pytest.mark.parametrize("loss", ["negative_sampling", "nce"])
@pytest.mark.parametrize("n_jobs", N_JOBS)
def test_frozen_rows_bitwise_unchanged_by_fit_and_partial_fit(architecture, loss, n_jobs):
    docs = tiny_docs(n_docs=300, vocab=40)
    init = pretrained([f"w{i}" for i in range(0, 40, 3)] + ["absent"], dim=8)
    init["w3"][0] = -0.0  # a negative zero must survive too
    est = Word2VecNS(vector_size=8, min_count=1, epochs=3, n_jobs=n_jobs, random_state=0,
                     architecture=architecture, loss=loss, init_vectors=init,
                     freeze_init_vectors=True, update_vocabulary=True)
    est.fit(docs)
    frozen = est.frozen_rows_.astype(bool)
    assert frozen.sum() == 14 and est.frozen_rows_.dtype == np.uint8
    assert all(frozen[est.vocabulary_[w]] == (w in init) for w in est.vocabulary_)
    assert_rows_bitwise(est, init)
    # the same draws without training: where the unfrozen rows started
    start = Word2VecNS(vector_size=8, min_count=1, epochs=0, n_jobs=1, random_state=0).fit(docs)
    # the other rows and the output vectors of frozen words did train
    assert not np.allclose(est.vectors_[~frozen], start.vectors_[~frozen])
    assert np.abs(est.output_vectors_[frozen]).sum() > 0
    # partial_fit, adding "new" (not pretrained: trains) and "absent" (pretrained: frozen)
    est.partial_fit(docs[:50] + [["new", "absent", "w1", "w3"]] * 5)
    assert {"new", "absent"} <= set(est.vocabulary_)
    assert est.frozen_rows_[est.vocabulary_["absent"]] == 1
    assert est.frozen_rows_[est.vocabulary_["new"]] == 0
    assert_rows_bitwise(est, init)


def test_frozen_rows_survive_save_load_and_pickle(tmp_path):
    docs = tiny_docs(n_docs=200, vocab=30)
    init = pretrained([f"w{i}" for i in range(0, 30, 2)], dim=6)
    est = Word2VecNS(vector_size=6, min_count=1, epochs=2, n_jobs=1, random_state=0,
                     init_vectors=init, freeze_init_vectors=True).fit(docs)
    est.save(tmp_path / "m.skw2v")
    for again in (load(tmp_path / "m.skw2v"), pickle.loads(pickle.dumps(est))):
        assert again.freeze_init_vectors is True
        np.testing.assert_array_equal(again.frozen_rows_, est.frozen_rows_)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "no effect without init_vectors" here
            again.partial_fit(docs[:40])
        assert_rows_bitwise(again, init)
    # switched off, the rows train again
    est.set_params(freeze_init_vectors=False).partial_fit(docs[:40])
    assert est.vectors_[est.vocabulary_["w0"]].tobytes() != init["w0"].tobytes()


def test_refit_without_freezing_drops_the_lock():
    docs = tiny_docs(n_docs=100, vocab=20)
    init = pretrained(["w1", "w2"], dim=4)
    est = Word2VecNS(vector_size=4, min_count=1, epochs=1, n_jobs=1, random_state=0,
                     init_vectors=init, freeze_init_vectors=True).fit(docs)
    assert hasattr(est, "frozen_rows_")
    est.set_params(freeze_init_vectors=False).fit(docs)
    assert not hasattr(est, "frozen_rows_")


def test_kernel_refuses_a_lock_array_of_the_wrong_length():
    from skw2v import _core
    from skw2v._corpus import EncodedCorpus
    from skw2v._plan import make_plan
    from skw2v._training import run_epoch

    corpus = EncodedCorpus(np.array([0, 1, 2, 1], np.int32), np.array([0, 4], np.int64), None)
    plan = make_plan(corpus, np.ones(3, np.float32), np.full(3, 1 / 3))
    plan.frozen_rows = np.zeros(2, dtype=np.uint8)
    w = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"frozen_rows must have one entry per row of w_in \(3\)"):
        run_epoch(plan, w, w.copy(), lr_start=0.025, lr_end=1e-4, progress_offset=0,
                  progress_total=4, seed=1, n_threads=1)
    assert _core is not None


def test_freeze_without_init_vectors_warns():
    with pytest.warns(UserWarning, match="no effect without init_vectors"):
        Word2VecNS(vector_size=4, min_count=1, epochs=1, n_jobs=1,
                   freeze_init_vectors=True).fit(tiny_docs(n_docs=20))


@pytest.mark.parametrize("params, match", [
    ({"freeze_init_vectors": "yes"}, "freeze_init_vectors"),
    ({"freeze_init_vectors": None}, "freeze_init_vectors"),
    ({"update_vocabulary": 1.5}, "update_vocabulary"),
    ({"epochs": -1}, "epochs"),
    ({"epochs": 1.0}, "epochs"),
])
def test_new_parameters_are_validated(params, match):
    with pytest.raises(ValueError, match=match):
        Word2VecNS(**params).fit(tiny_docs(n_docs=5))


def test_dask_refuses_what_it_cannot_do():
    pytest.importorskip("distributed")
    from skw2v import dask as skw2v_dask

    with pytest.raises(ValueError, match="freeze_init_vectors"):
        skw2v_dask._fit(Word2VecNS(freeze_init_vectors=True), [], None, "mean", 1)


# ------------------------------------------------------- pretrained featurizer
@pytest.mark.parametrize("kind", ["mapping", "keyedvectors", "word2vec_file", "model_file"])
def test_epochs_0_is_a_pretrained_featurizer(kind, tmp_path):
    words = [f"w{i}" for i in range(0, 40, 2)] + ["elsewhere"]
    vectors = pretrained(words, dim=5)
    if kind == "mapping":
        init = vectors
    elif kind == "keyedvectors":
        models = pytest.importorskip("gensim.models")
        init = models.KeyedVectors(5)
        init.add_vectors(words, np.stack([vectors[w] for w in words]))
    else:
        source = model_from_vectors(words, np.stack([vectors[w] for w in words]))
        init = tmp_path / "vectors"
        if kind == "word2vec_file":
            export_word2vec(source, init, binary=True)
        else:
            source.save(init)
        init = str(init)
    docs = tiny_docs(n_docs=100, vocab=40)
    est = Word2VecNS(vector_size=5, min_count=1, epochs=0, init_vectors=init).fit(docs)
    # the vocabulary: the words of X that have a pretrained vector; nothing trained
    assert sorted(est.vocabulary_) == sorted(w for w in words if w != "elsewhere")
    assert_rows_bitwise(est, vectors)
    assert est.loss_history_.shape == (0,) and est.train_seconds_ == 0.0
    doc = ["w0", "w1", "w2"]  # w1 has no pretrained vector: skipped
    np.testing.assert_allclose(est.transform([doc])[0], (vectors["w0"] + vectors["w2"]) / 2,
                               rtol=1e-6)


def test_pretrained_featurizer_in_a_grid_search(tmp_path):
    docs, labels = labelled_topic_docs(90, 0, topic_words=6, topic_picks=8,
                                       filler=[f"f{i}" for i in range(6)], filler_picks=4)
    # pretrained vectors that separate the three topics
    init = {f"t{k}w{i}": np.eye(3, dtype=np.float32)[k] + 0.01 * i
            for k in range(3) for i in range(6)}
    path = tmp_path / "init.txt"
    export_word2vec(model_from_vectors(list(init), np.stack(list(init.values()))), path)
    pipe = Pipeline([("w2v", Word2VecNS(vector_size=3, min_count=1, epochs=0,
                                        init_vectors=str(path))),
                     ("clf", LogisticRegression(max_iter=500))])
    search = GridSearchCV(pipe, {"w2v__pooling": ["mean", "tfidf"]}, cv=3).fit(docs, labels)
    assert search.best_score_ > 0.95


def test_epochs_0_without_overlap_or_without_init_vectors():
    with pytest.raises(ValueError, match="init_vectors has none of the"):
        Word2VecNS(vector_size=3, min_count=1, epochs=0,
                   init_vectors={"zzz": np.ones(3, np.float32)}).fit([["a", "b"]])
    est = Word2VecNS(vector_size=3, min_count=1, epochs=0, random_state=0).fit([["a", "b"]])
    assert est.vectors_.shape == (2, 3) and est.loss_history_.shape == (0,)
    before = est.vectors_.copy()
    est.partial_fit([["a", "b"]])  # epochs=0 trains nothing here either
    np.testing.assert_array_equal(est.vectors_, before)


def test_frozen_rows_with_shared_negatives():
    docs = tiny_docs(n_docs=200, vocab=30)
    init = pretrained([f"w{i}" for i in range(0, 30, 4)], dim=6)
    est = Word2VecNS(vector_size=6, min_count=1, epochs=2, n_jobs=1, random_state=0,
                     shared_negatives=True, init_vectors=init,
                     freeze_init_vectors=True).fit(docs)
    assert_rows_bitwise(est, init)


@pytest.mark.parametrize("loss", ["negative_sampling", "nce"])
@pytest.mark.parametrize("n_jobs", N_JOBS)
def test_frozen_rows_with_the_window_batched_update(loss, n_jobs):
    docs = tiny_docs(n_docs=300, vocab=40)
    init = pretrained([f"w{i}" for i in range(0, 40, 3)] + ["absent"], dim=8)
    init["w3"][0] = -0.0  # adding a zero delta would turn it into +0.0
    est = Word2VecNS(vector_size=8, min_count=1, epochs=3, n_jobs=n_jobs, random_state=0,
                     batch_window=True, window=4, loss=loss, init_vectors=init,
                     freeze_init_vectors=True, update_vocabulary=True).fit(docs)
    frozen = est.frozen_rows_.astype(bool)
    assert frozen.sum() == 14
    assert_rows_bitwise(est, init)
    start = Word2VecNS(vector_size=8, min_count=1, epochs=0, n_jobs=1, random_state=0).fit(docs)
    assert not np.allclose(est.vectors_[~frozen], start.vectors_[~frozen])
    assert np.abs(est.output_vectors_[frozen]).sum() > 0
    est.partial_fit(docs[:50] + [["new", "absent", "w1", "w3"]] * 5)
    assert est.frozen_rows_[est.vocabulary_["absent"]] == 1
    assert_rows_bitwise(est, init)
    # CBOW ignores batch_window: the lock holds
    est = Word2VecNS(vector_size=4, min_count=1, epochs=1, n_jobs=1, architecture="cbow",
                     batch_window=True, init_vectors=pretrained(["w1"], dim=4),
                     freeze_init_vectors=True).fit(tiny_docs(n_docs=50))
    assert_rows_bitwise(est, pretrained(["w1"], dim=4))


def test_window_batched_kernel_skips_locked_rows_only():
    """Three two-word sentences: each input row is read once, as the other
    word's context, so locking rows changes them (they keep their start)
    and nothing else, bitwise (one thread, the same draws)."""
    from skw2v._corpus import EncodedCorpus
    from skw2v._plan import make_plan
    from skw2v._training import run_epoch

    rs = np.random.default_rng(3)
    corpus = EncodedCorpus(np.arange(6, dtype=np.int32), np.array([0, 2, 4, 6], np.int64), None)
    w_in0 = rs.standard_normal((6, 8)).astype(np.float32)
    w_out0 = rs.standard_normal((6, 8)).astype(np.float32)
    lock = np.zeros(6, np.uint8)
    lock[[1, 4]] = 1
    results = []
    for frozen in (None, lock):
        plan = make_plan(corpus, np.ones(6, np.float32), np.full(6, 1 / 6), window=1,
                         shrink_windows=False, sample_size=3, batch_window=True)
        plan.frozen_rows = frozen
        w_in, w_out = w_in0.copy(), w_out0.copy()
        run_epoch(plan, w_in, w_out, lr_start=0.5, lr_end=0.5, progress_offset=0,
                  progress_total=6, seed=1, n_threads=1)
        results.append((w_in, w_out))
    (free_in, free_out), (locked_in, locked_out) = results
    assert locked_in[[1, 4]].tobytes() == w_in0[[1, 4]].tobytes()
    assert not np.array_equal(free_in[[1, 4]], w_in0[[1, 4]])  # the lock did something
    others = [0, 2, 3, 5]
    assert locked_in[others].tobytes() == free_in[others].tobytes()
    assert locked_out.tobytes() == free_out.tobytes()


# ------------------------------------------------- frozen rows in the GPU kernel
@pytest.mark.parametrize("path", ["skipgram", "batched", "cbow"])
def test_gpu_kernel_keeps_frozen_rows_bitwise(path, tmp_path_factory):
    """The CUDA kernel (emulated on the CPU: tests/_cuda_emulator.py) with a
    lock: locked input rows end bitwise as they started, the others and the
    output vectors train, and a single warp matches the CPU kernel's lock."""
    from _cuda_emulator import EmulatedBackend, have_compiler

    from skw2v._corpus import EncodedCorpus
    from skw2v._cuda import _train as gt
    from skw2v._plan import make_plan
    from skw2v._training import run_epoch

    if not have_compiler():
        pytest.skip("g++ not on PATH (needed to emulate the CUDA kernels on the CPU)")
    build = tmp_path_factory.mktemp("cuda_emulator_frozen")
    rs = np.random.default_rng(5)
    n_vocab, dim = 14, 8
    tokens = rs.integers(0, n_vocab, size=300).astype(np.int32)
    offsets = np.array([0, 40, 41, 120, 200, 300], np.int64)
    noise = np.zeros(n_vocab)
    noise[13] = 1.0  # one-hot: the CPU and GPU draw streams differ, their draws must not
    plan = make_plan(EncodedCorpus(tokens, offsets, None), np.ones(n_vocab, np.float32),
                     noise, window=3, shrink_windows=False,
                     sample_size=3, architecture="cbow" if path == "cbow" else "skipgram",
                     batch_window=path == "batched")
    lock = np.zeros(n_vocab, np.uint8)
    lock[[0, 3, 7]] = 1
    lock_rows = [0, 3, 7]
    w_in0 = ((rs.random((n_vocab, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    w_out0 = ((rs.random((n_vocab, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    w_in0[3, 1] = -0.0
    kw = dict(lr_start=0.2, lr_end=0.01, progress_offset=0, progress_total=2 * 300)

    # many warps, two epochs
    trainer = gt.GpuTrainer(plan, w_in0.copy(), w_out0.copy(), backend=EmulatedBackend(build, 2),
                            batch_window=path == "batched", frozen_rows=lock)
    for epoch in range(2):
        trainer.run_epoch(seed=10 + epoch, **dict(kw, progress_offset=epoch * 300))
    w_in, w_out = trainer.download()
    assert w_in[lock_rows].tobytes() == w_in0[lock_rows].tobytes()
    free = np.setdiff1d(np.arange(n_vocab), lock_rows)
    assert (w_in[free] != w_in0[free]).any(axis=1).all()
    assert (w_out != w_out0).any(axis=1).all()

    # one warp runs the centres in the CPU's order: same updates as the CPU lock
    plan.frozen_rows = lock
    cpu_in, cpu_out = w_in0.copy(), w_out0.copy()
    run_epoch(plan, cpu_in, cpu_out, seed=10, n_threads=1, **kw)
    trainer = gt.GpuTrainer(plan, w_in0.copy(), w_out0.copy(), backend=EmulatedBackend(build, 1),
                            batch_window=path == "batched", frozen_rows=lock,
                            max_blocks=1, threads_per_block=32)
    trainer.run_epoch(seed=10, **kw)
    gpu_in, gpu_out = trainer.download()
    assert gpu_in[lock_rows].tobytes() == w_in0[lock_rows].tobytes()
    np.testing.assert_allclose(gpu_in, cpu_in, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gpu_out, cpu_out, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("architecture, batch_window", [("skipgram", False), ("skipgram", True),
                                                         ("cbow", False)])
def test_estimator_on_the_emulated_gpu_keeps_frozen_rows(architecture, batch_window,
                                                          monkeypatch, tmp_path_factory):
    """Word2VecNS(device="cuda") end to end, the CUDA kernel emulated on the CPU."""
    from _cuda_emulator import EmulatedBackend, have_compiler

    import skw2v._cuda as cuda
    from skw2v._cuda import _train as gt

    if not have_compiler():
        pytest.skip("g++ not on PATH (needed to emulate the CUDA kernels on the CPU)")
    build = tmp_path_factory.mktemp("cuda_emulator_estimator")
    monkeypatch.setattr(cuda, "gpu_available", lambda: True)
    monkeypatch.setattr(gt, "CupyBackend", lambda: EmulatedBackend(build, 2))
    docs = tiny_docs(n_docs=60, vocab=20)
    init = pretrained([f"w{i}" for i in range(0, 20, 3)], dim=8)
    init["w3"][0] = -0.0
    params = dict(vector_size=8, min_count=1, epochs=2, random_state=0,
                  architecture=architecture, batch_window=batch_window)
    est = Word2VecNS(**params, device="cuda", init_vectors=init, freeze_init_vectors=True,
                     update_vocabulary=True).fit(docs)
    assert est.device_ == "cuda"
    frozen = est.frozen_rows_.astype(bool)
    assert frozen.sum() == len(init)
    assert_rows_bitwise(est, init)
    start = Word2VecNS(vector_size=8, min_count=1, epochs=0, random_state=0).fit(docs)
    assert not np.allclose(est.vectors_[~frozen], start.vectors_[~frozen])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the new word has no pretrained vector
        est.partial_fit(docs[:20] + [["new", "w3"]] * 3)
    assert "new" in est.vocabulary_ and est.frozen_rows_[est.vocabulary_["new"]] == 0
    assert_rows_bitwise(est, init)


def test_gpu_driver_checks_the_lock_length(tmp_path_factory):
    from _cuda_emulator import EmulatedBackend, have_compiler

    from skw2v._corpus import EncodedCorpus
    from skw2v._cuda import _train as gt
    from skw2v._plan import make_plan

    if not have_compiler():
        pytest.skip("g++ not on PATH (needed to emulate the CUDA kernels on the CPU)")
    plan = make_plan(EncodedCorpus(np.array([0, 1, 2], np.int32), np.array([0, 3], np.int64),
                                   None), np.ones(3, np.float32), np.full(3, 1 / 3))
    w = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"frozen_rows must have one entry per row of w_in \(3\)"):
        gt.GpuTrainer(plan, w, w.copy(), backend=EmulatedBackend(
            tmp_path_factory.mktemp("cuda_emulator_lock"), 1), frozen_rows=np.zeros(2, np.uint8))


@pytest.mark.gpu
@pytest.mark.parametrize("architecture, batch_window", [("skipgram", False), ("skipgram", True),
                                                         ("cbow", False)])
def test_frozen_rows_bitwise_unchanged_on_the_gpu(architecture, batch_window):
    docs = tiny_docs(n_docs=300, vocab=40)
    init = pretrained([f"w{i}" for i in range(0, 40, 3)] + ["absent"], dim=8)
    init["w3"][0] = -0.0
    est = Word2VecNS(vector_size=8, min_count=1, epochs=3, random_state=0, device="cuda",
                     architecture=architecture, batch_window=batch_window, init_vectors=init,
                     freeze_init_vectors=True, update_vocabulary=True).fit(docs)
    assert est.device_ == "cuda"
    frozen = est.frozen_rows_.astype(bool)
    assert frozen.sum() == 14
    assert_rows_bitwise(est, init)
    start = Word2VecNS(vector_size=8, min_count=1, epochs=0, n_jobs=1, random_state=0).fit(docs)
    assert not np.allclose(est.vectors_[~frozen], start.vectors_[~frozen])
    est.partial_fit(docs[:50] + [["new", "absent", "w1", "w3"]] * 5)
    assert est.frozen_rows_[est.vocabulary_["absent"]] == 1
    assert_rows_bitwise(est, init)
