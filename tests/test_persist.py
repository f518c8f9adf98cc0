"""Safe model files: Word2VecNS.save / skw2v.load."""

import hashlib
import io
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest
from _corpora import tiny_docs
from sklearn.exceptions import NotFittedError

import skw2v
from skw2v import ModelFileError, Word2VecNS, _persist

ROOT = Path(__file__).resolve().parents[1]
TAIL = len(_persist.DIGEST_PREFIX) + 64


@pytest.fixture(scope="module")
def docs():
    return tiny_docs()


@pytest.fixture(scope="module")
def model(docs):
    return Word2VecNS(vector_size=12, epochs=2, min_count=1, n_jobs=1, random_state=0).fit(docs)


@pytest.fixture
def saved(model, tmp_path):
    path = tmp_path / "model.skw2v"
    model.save(path)
    return path


class Payload:
    """Unpickling this creates ``marker``: stands for any code a pickle can run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def write_payload_pickle(path, marker):
    with open(path, "wb") as f:
        pickle.dump(Payload(marker), f)


def forge(path, meta, members):
    """Write a model file with the given JSON and raw members and a *valid* checksum,
    as an attacker who knows the format would."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(_persist.META_MEMBER, json.dumps(meta).encode())
        for name, data in members.items():
            zf.writestr(name, data)
        zf.comment = b"\0" * TAIL
    data = buf.getvalue()
    body = data[:-TAIL]
    digest = _persist.DIGEST_PREFIX + hashlib.sha256(body).hexdigest().encode()
    Path(path).write_bytes(body + digest)


def npy_bytes(arr, allow_pickle=False):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def parts(path):
    """(meta, {member: bytes}) of a model file."""
    with zipfile.ZipFile(path) as zf:
        meta = json.loads(zf.read(_persist.META_MEMBER))
        members = {n: zf.read(n) for n in zf.namelist() if n != _persist.META_MEMBER}
    return meta, members


# ---------------------------------------------------------------- round trip
def test_round_trip_same_output(model, saved, docs):
    loaded = skw2v.load(saved)
    assert isinstance(loaded, Word2VecNS)
    np.testing.assert_array_equal(loaded.transform(docs), model.transform(docs))
    assert loaded.most_similar("w3", topn=5) == model.most_similar("w3", topn=5)
    for name in ("vectors_", "output_vectors_", "output_bias_", "token_counts_", "idf_",
                 "loss_history_"):
        got, want = getattr(loaded, name), getattr(model, name)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    assert loaded.index_to_token_.tolist() == model.index_to_token_.tolist()
    assert loaded.vocabulary_ == model.vocabulary_
    assert (loaded.n_threads_, loaded.device_, loaded.train_seconds_) == (
        model.n_threads_, model.device_, model.train_seconds_)
    assert loaded.get_params() == model.get_params()


def test_nce_round_trip_keeps_the_output_bias(docs, tmp_path):
    model = Word2VecNS(vector_size=8, min_count=1, epochs=2, n_jobs=1, random_state=0,
                       loss="nce").fit(docs)
    assert model.output_bias_.dtype == np.float32 and np.any(model.output_bias_ != 0)
    model.save(tmp_path / "nce")
    loaded = skw2v.load(tmp_path / "nce")
    np.testing.assert_array_equal(loaded.output_bias_, model.output_bias_)
    assert loaded.score(docs[:20]) == model.score(docs[:20])  # score reads the bias


def test_older_file_without_output_bias_loads_with_zeros(saved, tmp_path, model):
    # Files written before the NCE bias existed: those models had no bias.
    meta, members = parts(saved)
    del meta["arrays"]["output_bias_"]
    del members["output_bias_.npy"]
    forge(tmp_path / "old", meta, members)
    loaded = skw2v.load(tmp_path / "old")
    np.testing.assert_array_equal(loaded.output_bias_, np.zeros(len(model.vocabulary_)))
    assert loaded.output_bias_.dtype == np.float32


@pytest.mark.parametrize("pooling", ["mean", "tfidf", "sif"])
def test_round_trip_every_pooling(docs, tmp_path, pooling):
    est = Word2VecNS(vector_size=8, epochs=1, min_count=2, pooling=pooling, n_jobs=1,
                     random_state=1, lowercase=False, token_pattern=r"\S+").fit(docs)
    est.save(tmp_path / "m")
    loaded = skw2v.load(tmp_path / "m")
    text = ["w1 w2 W3 unknown", "", "w5"]
    np.testing.assert_array_equal(loaded.transform(text), est.transform(text))
    np.testing.assert_array_equal(loaded.transform(docs), est.transform(docs))


def test_unicode_vocabulary_round_trip(tmp_path):
    words = ["ça", "naïve", "日本", "emoji🙂", "tab\tword", 'quote"s', "x" * 300]
    docs = [words * 3, words[::-1] * 2]
    est = Word2VecNS(vector_size=4, epochs=1, min_count=1, n_jobs=1, random_state=0).fit(docs)
    est.save(tmp_path / "u")
    loaded = skw2v.load(tmp_path / "u")
    assert loaded.index_to_token_.tolist() == est.index_to_token_.tolist()
    np.testing.assert_array_equal(loaded.transform(docs), est.transform(docs))


def test_file_is_plain_npz_readable_without_pickle(model, saved):
    with np.load(saved, allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["vectors_"], model.vectors_)
        meta = json.loads(npz.zip.read(_persist.META_MEMBER))
    assert meta["format"] == "skw2v-model"
    assert meta["format_version"] == _persist.FORMAT_VERSION
    assert meta["skw2v_version"] == skw2v.__version__
    assert meta["vocabulary"] == model.index_to_token_.tolist()
    assert meta["params"]["vector_size"] == 12


def test_fit_only_and_unstorable_params(docs, tmp_path):
    est = Word2VecNS(vector_size=4, epochs=1, min_count=1, n_jobs=1,
                     random_state=np.random.RandomState(0), callbacks=[lambda e, i: None])
    est.fit(docs)
    est.save(tmp_path / "m")
    loaded = skw2v.load(tmp_path / "m")
    assert loaded.random_state is None and loaded.callbacks is None
    assert loaded.init_vectors is None

    est.set_params(tokenizer=str.split)
    (tmp_path / "prev").write_bytes(b"previous content")
    with pytest.raises(ValueError, match="cannot save parameter tokenizer="):
        est.save(tmp_path / "prev")
    assert (tmp_path / "prev").read_bytes() == b"previous content"
    assert sorted(os.listdir(tmp_path)) == ["m", "prev"]  # no temporary file left


def test_save_unfitted_raises(tmp_path):
    with pytest.raises(NotFittedError):
        Word2VecNS().save(tmp_path / "m")
    assert not os.listdir(tmp_path)


def test_save_creates_file_with_umask_permissions(model, tmp_path):
    model.save(tmp_path / "m")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "m").stat().st_mode & 0o777 == 0o666 & ~umask


def test_save_into_missing_folder(model, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        model.save(tmp_path / "nope" / "m")


def test_load_without_optional_extras(saved, docs, model):
    # matplotlib, gensim and cupy made unimportable: loading must not need them.
    code = textwrap.dedent(f"""
        import sys
        for name in ("matplotlib", "gensim", "cupy", "pandas"):
            sys.modules[name] = None
        import numpy as np, skw2v
        m = skw2v.load({str(saved)!r})
        np.save(sys.stdout.buffer, m.transform([["w1", "w2"], ["w3"]]))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
    got = np.load(io.BytesIO(out))
    np.testing.assert_array_equal(got, model.transform([["w1", "w2"], ["w3"]]))


# ------------------------------------------------------------ refused files
def test_pickle_with_payload_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "payload-ran"
    path = tmp_path / "evil.pkl"
    write_payload_pickle(path, marker)
    # The payload is live: plain unpickling runs it.
    with open(path, "rb") as f:
        pickle.load(f).close()
    assert marker.exists()
    marker.unlink()

    with pytest.raises(ModelFileError, match="it is a pickle"):
        skw2v.load(path)
    assert not marker.exists()


def test_joblib_and_pickled_model_refused(model, tmp_path):
    joblib = pytest.importorskip("joblib")
    joblib.dump(model, tmp_path / "m.joblib")
    with open(tmp_path / "m.pkl", "wb") as f:
        pickle.dump(model, f)
    for name in ("m.joblib", "m.pkl"):
        with pytest.raises(ValueError, match="not a valid skw2v model file"):
            skw2v.load(tmp_path / name)


def test_object_array_with_payload_in_forged_file_refused(saved, tmp_path):
    """An attacker rewrites vectors_.npy as a pickled object array and fixes the checksum."""
    marker = tmp_path / "payload-ran"
    meta, members = parts(saved)
    evil = np.empty(1, dtype=object)
    evil[0] = Payload(marker)
    members["vectors_.npy"] = npy_bytes(evil, allow_pickle=True)
    forge(tmp_path / "forged", meta, members)
    with pytest.raises(ModelFileError, match="vectors_"):
        skw2v.load(tmp_path / "forged")
    assert not marker.exists()


def test_truncated_files_refused(saved, tmp_path):
    data = saved.read_bytes()
    for n in sorted({0, 3, 4, 30, len(data) // 3, len(data) // 2, len(data) - TAIL - 1,
                     len(data) - TAIL, len(data) - 10, len(data) - 1}):
        (tmp_path / "cut").write_bytes(data[:n])
        with pytest.raises(ModelFileError, match="not a valid skw2v model file"):
            skw2v.load(tmp_path / "cut")
    # Appended garbage is refused too.
    (tmp_path / "long").write_bytes(data + b"\0")
    with pytest.raises(ModelFileError):
        skw2v.load(tmp_path / "long")


def test_bit_flips_refused(saved, tmp_path):
    data = saved.read_bytes()
    positions = np.unique(np.linspace(0, len(data) - 1, 300).astype(int))
    for pos in positions:
        flipped = bytearray(data)
        flipped[pos] ^= 1 << (pos % 8)
        (tmp_path / "flip").write_bytes(bytes(flipped))
        with pytest.raises(ModelFileError, match="not a valid skw2v model file"):
            skw2v.load(tmp_path / "flip")


def _mutations(n_vocab, dim):
    def set_param(name, value):
        def mutate(meta, members):
            meta["params"][name] = value
        return mutate

    def replace_array(name, arr):
        def mutate(meta, members):
            members[f"{name}.npy"] = npy_bytes(arr)
        return mutate

    def edit(fn):
        def mutate(meta, members):
            fn(meta, members)
        return mutate

    return {
        "bad vector_size": (set_param("vector_size", -3), "vector_size"),
        "vector_size disagrees": (set_param("vector_size", dim + 1), "shape"),
        "bad pooling": (set_param("pooling", "maximum"), "pooling"),
        "bad type": (set_param("window", "5"), "window"),
        "unknown param": (set_param("evil", 1), "unknown parameter"),
        "list param": (set_param("tokenizer", ["os.system"]), "non-scalar"),
        "format version": (edit(lambda m, _: m.update(format_version=99)), "format version"),
        "format name": (edit(lambda m, _: m.update(format="other")), "format"),
        "estimator": (edit(lambda m, _: m.update(estimator="Other")), "Other"),
        "vocab duplicate": (edit(lambda m, _: m["vocabulary"].__setitem__(1, m["vocabulary"][0])),
                            "duplicate"),
        "vocab short": (edit(lambda m, _: m["vocabulary"].pop()), "shape"),
        "vocab not str": (edit(lambda m, _: m["vocabulary"].__setitem__(0, 5)), "vocabulary"),
        "nan vector": (replace_array("vectors_", np.full((n_vocab, dim), np.nan, "<f4")),
                       "non-finite"),
        "wrong dtype": (replace_array("vectors_", np.zeros((n_vocab, dim), "<f8")), "vectors_"),
        "wrong shape": (replace_array("vectors_", np.zeros((n_vocab, dim + 1), "<f4")),
                        "vectors_"),
        "negative counts": (replace_array("token_counts_", -np.ones(n_vocab, "<i8")), "negative"),
        "extra member": (edit(lambda _, mem: mem.__setitem__("x.npy", npy_bytes(np.zeros(1)))),
                         "members"),
        "missing member": (edit(lambda _, mem: mem.pop("idf_.npy")), "members"),
        "bad attribute": (edit(lambda m, _: m["attributes"].update(n_threads_=-1)), "n_threads_"),
        "unknown attribute": (edit(lambda m, _: m["attributes"].update(code_="x")), "code_"),
        "huge declared shape": (
            edit(lambda m, mem: (m["arrays"]["loss_history_"].update(shape=[10**12]),
                                 mem.__setitem__("loss_history_.npy", npy_bytes(np.zeros(2))))),
            "loss_history_"),
    }


@pytest.mark.parametrize("case", list(_mutations(1, 1)))
def test_forged_files_with_valid_checksum_refused(model, saved, tmp_path, case):
    mutate, match = _mutations(len(model.vocabulary_), model.vector_size)[case]
    meta, members = parts(saved)
    mutate(meta, members)
    forge(tmp_path / "forged", meta, members)
    with pytest.raises(ModelFileError, match=match):
        skw2v.load(tmp_path / "forged")


def test_forged_file_unchanged_is_accepted(model, saved, tmp_path, docs):
    # Guards the forging helper: without a mutation the file loads.
    forge(tmp_path / "same", *parts(saved))
    np.testing.assert_array_equal(skw2v.load(tmp_path / "same").transform(docs),
                                  model.transform(docs))


def test_older_file_without_a_newer_param_gets_its_default(saved, tmp_path):
    meta, members = parts(saved)
    del meta["params"]["pooling"]
    forge(tmp_path / "old", meta, members)
    assert skw2v.load(tmp_path / "old").pooling == Word2VecNS().pooling


def test_other_files_refused(tmp_path):
    (tmp_path / "text").write_text("hello world\n")
    np.save(tmp_path / "arr.npy", np.zeros(3))
    np.savez(tmp_path / "plain.npz", vectors_=np.zeros((2, 2)))
    (tmp_path / "empty").write_bytes(b"")
    for name in ("text", "arr.npy", "plain.npz", "empty"):
        with pytest.raises(ModelFileError, match="not a valid skw2v model file"):
            skw2v.load(tmp_path / name)
    with pytest.raises(FileNotFoundError):
        skw2v.load(tmp_path / "missing")
    with pytest.raises(TypeError, match="path"):
        skw2v.load(io.BytesIO(b"PK"))


# ------------------------------------------------------------ atomic writes
def test_failed_save_keeps_previous_file(model, docs, tmp_path, monkeypatch):
    path = tmp_path / "model.skw2v"
    model.save(path)
    before = path.read_bytes()
    other = Word2VecNS(vector_size=12, epochs=1, min_count=1, n_jobs=1,
                       random_state=5).fit(docs)
    real = np.lib.format.write_array
    calls = []

    def write_then_fail(fp, array, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # mid-way through the archive
            fp.write(b"partial")
            raise KeyboardInterrupt
        return real(fp, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", write_then_fail)
    with pytest.raises(KeyboardInterrupt):
        other.save(path)
    assert len(calls) == 3
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.skw2v"]
    np.testing.assert_array_equal(skw2v.load(path).vectors_, model.vectors_)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_save_killed_mid_write_keeps_previous_file(model, tmp_path):
    """A process killed (SIGKILL) in the middle of a save leaves the previous model loadable."""
    path = tmp_path / "model.skw2v"
    model.save(path)
    before = path.read_bytes()
    # The child writes a large model; after the first array is on disk it says so
    # and keeps writing slowly, so the kill lands mid-write deterministically.
    code = textwrap.dedent(f"""
        import sys, time
        import numpy as np
        from skw2v.word2vec_format import model_from_vectors
        rng = np.random.default_rng(0)
        big = model_from_vectors([f"w{{i}}" for i in range(50_000)],
                                 rng.random((50_000, 64), dtype=np.float32))
        real = np.lib.format.write_array
        def slow(fp, array, *a, **k):
            real(fp, array, *a, **k)
            print("mid-write", flush=True)
            time.sleep(60)
        np.lib.format.write_array = slow
        big.save({str(path)!r})
    """)
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert child.stdout.readline().strip() == b"mid-write"
        temps = [p for p in tmp_path.iterdir() if p.name != "model.skw2v"]
        assert len(temps) == 1 and temps[0].stat().st_size > 0  # the half-written file
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
    assert path.read_bytes() == before
    np.testing.assert_array_equal(skw2v.load(path).vectors_, model.vectors_)
    # The stray temporary file is not a model and does not block the next save.
    with pytest.raises(ModelFileError):
        skw2v.load(temps[0])
    model.save(path)
    assert skw2v.load(path).vocabulary_ == model.vocabulary_
