"""The `skw2v` command line, run in-process through main(argv) and a few times as a process."""

import gzip
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import skw2v
from skw2v.__main__ import main
from skw2v.word2vec_format import read_word2vec

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("demo", "train", "similar", "analogy", "evaluate", "export", "import")
TRAIN = ["--vector-size", "12", "--epochs", "2", "--min-count", "1", "--n-jobs", "1",
         "--random-state", "0", "--quiet"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code, err, match, status=1):
    assert code == status
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("skw2v"), err
    assert match in lines[0], err
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    lines = [" ".join(f"w{i}" for i in rng.integers(40, size=12)) for _ in range(300)]
    path.write_text("\n".join(lines[:150]) + "\n\n" + "\n".join(lines[150:]) + "\n")
    return path


@pytest.fixture(scope="module")
def model_path(corpus, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.skw2v"
    assert main(["train", str(corpus), "-o", str(path), *TRAIN]) == 0
    return path


class Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


# ------------------------------------------------------------------- help
def test_help_everywhere(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "usage: skw2v" in out
    for command in COMMANDS:
        assert command in out
        code, out_cmd, _ = run(capsys, command, "--help")
        assert code == 0 and f"usage: skw2v {command}" in out_cmd
    code, out, _ = run(capsys, "--version")
    assert code == 0 and skw2v.__version__ in out


@pytest.mark.parametrize("argv, match", [
    ([], "required: COMMAND"),
    (["bogus"], "invalid choice: 'bogus'"),
    (["train", "c.txt"], "required: -o/--output"),
    (["train", "c.txt", "-o", "m", "--vector-size", "x"], "invalid int value: 'x'"),
    (["train", "c.txt", "-o", "m", "--architecture", "lstm"], "invalid choice: 'lstm'"),
    (["train", "c.txt", "-o", "m", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["similar", "m"], "required: WORD"),
    (["export", "m", "out", "--format", "xml"], "invalid choice: 'xml'"),
    (["import", "v.txt", "-o", "m", "--limit", "0"], "expected a positive integer, got 0"),
])
def test_bad_command_lines(capsys, argv, match):
    code, out, err = run(capsys, *argv)
    assert_one_line_error(code, err, match, status=2)
    assert out == ""


# ------------------------------------------------------------------ train
def test_train_writes_a_loadable_model(capsys, corpus, tmp_path):
    path = tmp_path / "m.skw2v"
    code, out, err = run(capsys, "train", corpus, "-o", path, *TRAIN, "--window", "3",
                         "--architecture", "cbow", "--no-shrink-windows", "--pooling", "sif")
    assert code == 0, err
    assert "vocabulary: 40 words" in out and "epoch   2  loss" in out
    assert f"saved {path}" in out
    model = skw2v.load(path)
    assert (model.vector_size, model.window, model.architecture, model.shrink_windows,
            model.pooling, model.epochs) == (12, 3, "cbow", False, "sif", 2)
    assert len(model.loss_history_) == 2
    assert err == ""  # --quiet: no progress bar


def test_train_matches_the_estimator(capsys, corpus, model_path):
    lines = [ln for ln in corpus.read_text().splitlines() if ln.strip()]
    est = skw2v.Word2VecNS(vector_size=12, epochs=2, min_count=1, n_jobs=1,
                           random_state=0).fit(lines)
    np.testing.assert_array_equal(skw2v.load(model_path).vectors_, est.vectors_)


def test_train_from_gzip_and_progress_bar(capsys, corpus, tmp_path):
    gz = tmp_path / "corpus.txt.gz"
    gz.write_bytes(gzip.compress(corpus.read_bytes()))
    args = [a for a in TRAIN if a != "--quiet"]
    code, _, err = run(capsys, "train", gz, "-o", tmp_path / "m", *args)
    assert code == 0
    assert "loss=" in err and "word/s" in err  # the progress bar, on stderr
    assert len(skw2v.load(tmp_path / "m").vocabulary_) == 40


def test_train_from_stdin_in_a_process(corpus, tmp_path):
    out = tmp_path / "m.skw2v"
    proc = subprocess.run(
        [sys.executable, "-m", "skw2v", "train", "-", "-o", str(out), *TRAIN],
        input=corpus.read_bytes(), capture_output=True, cwd=ROOT, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    assert len(skw2v.load(out).vocabulary_) == 40


def test_train_errors(capsys, corpus, tmp_path):
    out = tmp_path / "m"
    code, _, err = run(capsys, "train", tmp_path / "missing.txt", "-o", out)
    assert_one_line_error(code, err, "does not exist")
    code, _, err = run(capsys, "train", corpus, "-o", out, "--vector-size", "0")
    assert_one_line_error(code, err, "--vector-size must be")
    code, _, err = run(capsys, "train", corpus, "-o", out, "--learning-rate", "0.001",
                       "--min-learning-rate", "0.01")
    assert_one_line_error(code, err, "--min-learning-rate")
    code, _, err = run(capsys, "train", corpus, "-o", tmp_path / "no" / "m")
    assert_one_line_error(code, err, "does not exist")
    code, _, err = run(capsys, "train", tmp_path, "-o", out)
    assert_one_line_error(code, err, "is a folder")
    (tmp_path / "empty.txt").write_text("\n\n")
    code, _, err = run(capsys, "train", tmp_path / "empty.txt", "-o", out, "--quiet")
    assert_one_line_error(code, err, "has no text")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    code, _, err = run(capsys, "train", tmp_path / "latin1.txt", "-o", out, "--quiet")
    assert_one_line_error(code, err, "not UTF-8")
    assert not out.exists()


# ----------------------------------------------------------- similar, analogy
def test_similar(capsys, model_path):
    model = skw2v.load(model_path)
    code, out, _ = run(capsys, "similar", model_path, "w3", "-n", "4")
    assert code == 0
    rows = [line.split("\t") for line in out.splitlines()]
    expected = model.most_similar("w3", topn=4)
    assert [r[0] for r in rows] == [w for w, _ in expected]
    np.testing.assert_allclose([float(r[1]) for r in rows], [s for _, s in expected], atol=1e-4)
    # The model lowercases, so a capitalised query finds the word.
    assert run(capsys, "similar", model_path, "W3", "-n", "4")[1] == out
    assert len(run(capsys, "similar", model_path, "w3")[1].splitlines()) == 10


def test_similar_errors(capsys, model_path, tmp_path):
    code, _, err = run(capsys, "similar", model_path, "zebra")
    assert_one_line_error(code, err, "word 'zebra' is not in the model's vocabulary")
    code, _, err = run(capsys, "similar", tmp_path / "missing.skw2v", "w1")
    assert_one_line_error(code, err, "No such file or directory")
    code, _, err = run(capsys, "similar", model_path, "w1", "-n", "0")
    assert_one_line_error(code, err, "-n must be a positive integer")
    (tmp_path / "junk").write_bytes(b"junk\x00")
    code, _, err = run(capsys, "similar", tmp_path / "junk", "w1")
    assert_one_line_error(code, err, "is not a skw2v model file")


def test_analogy(capsys, model_path):
    model = skw2v.load(model_path)
    code, out, _ = run(capsys, "analogy", model_path, "w1", "w2", "w3", "-n", "3")
    assert code == 0
    unit = model.vectors_ / np.linalg.norm(model.vectors_, axis=1, keepdims=True)
    v = model.vocabulary_
    query = unit[v["w2"]] - unit[v["w1"]] + unit[v["w3"]]
    sims = unit @ query / np.linalg.norm(query)
    sims[[v["w1"], v["w2"], v["w3"]]] = -np.inf
    best = [model.index_to_token_[i] for i in np.argsort(-sims)[:3]]
    assert [line.split("\t")[0] for line in out.splitlines()] == best
    code, _, err = run(capsys, "analogy", model_path, "w1", "w2", "nope")
    assert_one_line_error(code, err, "word 'nope'")


# ---------------------------------------------------------- export, import
@pytest.mark.parametrize("fmt", ["text", "binary"])
def test_export_then_import(capsys, model_path, tmp_path, fmt):
    model = skw2v.load(model_path)
    vec = tmp_path / "vectors"
    code, out, _ = run(capsys, "export", model_path, vec, "--format", fmt)
    assert code == 0 and f"wrote 40 vectors of size 12 to {vec} ({fmt})" in out
    words, vectors = read_word2vec(vec, binary=fmt == "binary")
    assert words == model.index_to_token_.tolist()
    np.testing.assert_array_equal(vectors, model.vectors_)

    back = tmp_path / "back.skw2v"
    code, out, _ = run(capsys, "import", vec, "-o", back)
    assert code == 0 and "imported 40 vectors of size 12" in out
    imported = skw2v.load(back)
    np.testing.assert_array_equal(imported.vectors_, model.vectors_)
    assert run(capsys, "similar", back, "w5", "-n", "3")[1] == \
        run(capsys, "similar", model_path, "w5", "-n", "3")[1]
    code, _, _ = run(capsys, "import", vec, "-o", tmp_path / "lim", "--limit", "5",
                     "--format", fmt)
    assert code == 0 and len(skw2v.load(tmp_path / "lim").vocabulary_) == 5


def test_export_import_errors(capsys, model_path, tmp_path):
    code, _, err = run(capsys, "export", model_path, tmp_path / "no" / "v.txt")
    assert_one_line_error(code, err, "does not exist")
    (tmp_path / "bad.txt").write_text("2 3\na 1 2 3\n")
    code, _, err = run(capsys, "import", tmp_path / "bad.txt", "-o", tmp_path / "m")
    assert_one_line_error(code, err, "ends after 1 of the announced rows")
    code, _, err = run(capsys, "import", tmp_path / "missing.vec", "-o", tmp_path / "m")
    assert_one_line_error(code, err, "No such file or directory")
    assert not (tmp_path / "m").exists()


# -------------------------------------------------------------- evaluate
def test_evaluate_needs_files(capsys, model_path, tmp_path):
    code, _, err = run(capsys, "evaluate", model_path)
    assert_one_line_error(code, err, "give --pairs FILE and/or --analogies FILE")
    code, _, err = run(capsys, "evaluate", model_path, "--pairs", tmp_path / "none.tsv")
    assert_one_line_error(code, err, "no such file")


def test_evaluate(capsys, model_path, tmp_path):
    evaluation = pytest.importorskip("skw2v.evaluation")
    model = skw2v.load(model_path)
    rng = np.random.default_rng(1)
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("# word1\tword2\tscore\n" + "".join(
        f"w{a}\tw{b}\t{s:.2f}\n" for a, b, s in zip(rng.integers(45, size=30),
                                                    rng.integers(45, size=30),
                                                    rng.uniform(0, 10, size=30))))
    analogies = tmp_path / "questions.txt"
    analogies.write_text(": section\n" + "".join(
        f"w{a} w{b} w{c} w{d}\n" for a, b, c, d in rng.integers(40, size=(20, 4))))
    code, out, err = run(capsys, "evaluate", model_path, "--pairs", pairs,
                         "--analogies", analogies)
    assert code == 0, err
    pearson, spearman, _ = evaluation.evaluate_word_pairs(model, str(pairs))
    accuracy = evaluation.evaluate_analogies(model, str(analogies), restrict_vocab=30000)
    from skw2v.__main__ import _number

    assert f"pearson {_number(pearson):.4f}" in out
    assert f"spearman {_number(spearman):.4f}" in out
    assert f"accuracy {_number(accuracy):.4f}" in out


# --------------------------------------------------------- refused models
def test_pickles_are_refused_by_every_model_command(capsys, tmp_path):
    marker = tmp_path / "payload-ran"
    evil = tmp_path / "evil.skw2v"
    evil.write_bytes(pickle.dumps(Payload(marker)))
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("w1\tw2\t1.0\n")
    for argv in (["similar", evil, "w1"], ["analogy", evil, "a", "b", "c"],
                 ["export", evil, tmp_path / "v.txt"], ["evaluate", evil, "--pairs", pairs]):
        code, out, err = run(capsys, *argv)
        assert_one_line_error(code, err, "it is a pickle")
        assert out == ""
    assert not marker.exists()
    # The same through a real process.
    proc = subprocess.run([sys.executable, "-m", "skw2v", "similar", str(evil), "w1"],
                          capture_output=True, text=True, cwd=ROOT, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip().startswith("skw2v: error:") and "Traceback" not in proc.stderr
    assert "it is a pickle" in proc.stderr
    assert not marker.exists()


# ------------------------------------------------------------------ demo
def test_demo_prints_results_and_writes_pictures(capsys, tmp_path):
    code, out, err = run(capsys, "demo", "--epochs", "1", "--out-dir", tmp_path)
    assert code == 0, err
    assert "corpus: 8,150 paragraphs" in out
    assert "    1  " in out and "held-out loss" in out and "words/s" in out
    assert "nearest to 'war':" in out and "analogy: man : men :: woman :" in out
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "pictures skipped" in out
        return
    for name in ("skw2v-demo-loss.png", "skw2v-demo-map.png"):
        png = tmp_path / name
        assert f"wrote {png}  (" in out
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 10_000


def test_demo_errors(capsys, tmp_path):
    code, _, err = run(capsys, "demo", "--out-dir", tmp_path / "missing")
    assert_one_line_error(code, err, "does not exist")
    code, _, err = run(capsys, "demo", "--epochs", "0")
    assert_one_line_error(code, err, "expected a positive integer", status=2)


# ------------------------------------------------------- user mistakes, table
# Python-API names the command line must not show (its flags are --min-count etc.).
API_NAMES = re.compile(r"\b(X|min_count|sample_size|vector_size|max_vocab_size|learning_rate|"
                       r"min_learning_rate|n_jobs|random_state|token_pattern|tokenizer|"
                       r"shrink_windows|restrict_vocab|topn|Word2VecNS|None|fit)\b")
LONG_WORD = "z" * 300


@pytest.fixture(scope="module")
def files(corpus, model_path, tmp_path_factory):
    d = tmp_path_factory.mktemp("mistakes")
    vectors_txt, vectors_bin = d / "vectors.txt", d / "vectors.bin"
    assert main(["export", str(model_path), str(vectors_txt)]) == 0
    assert main(["export", str(model_path), str(vectors_bin), "--format", "binary"]) == 0
    (d / "empty.txt").write_text("\n  \n\n")
    (d / "latin1.txt").write_bytes("one two\nthree four\ncaf\xe9 au lait\n".encode("latin-1"))
    (d / "long.txt").write_text("x" * 1941 + "\n")
    (d / "model.pkl").write_bytes(pickle.dumps({"a": 1}))
    (d / "damaged.txt.gz").write_bytes(gzip.compress(corpus.read_bytes())[:60])
    return {"corpus": corpus, "model": model_path, "vectors_txt": vectors_txt,
            "vectors_bin": vectors_bin, "dir": d, "out": d / "out.skw2v",
            "missing": d / "missing.txt", "nodir": d / "no" / "m.skw2v",
            **{k: d / f for k, f in (("empty", "empty.txt"), ("latin1", "latin1.txt"),
                                     ("long", "long.txt"), ("pickle", "model.pkl"),
                                     ("damaged", "damaged.txt.gz"))}}


# (argv with {placeholders}, status, what the message must say)
MISTAKES = [
    ("train {missing} -o {out}", 1, "the corpus file '{missing}' does not exist"),
    ("train {dir} -o {out}", 1, "is a folder, not a text file"),
    ("train {empty} -o {out}", 1, "the corpus file '{empty}' has no text"),
    ("train {corpus} -o {out} --min-count 1000", 1, "and --min-count 1000 removed them all; "
                                                    "lower --min-count"),
    ("train {latin1} -o {out} -q", 1, "'{latin1}' is not UTF-8 text: line 3, byte 4"),
    ("train {model} -o {out}", 1, "'{model}' is a skw2v model, not text"),
    ("train {pickle} -o {out}", 1, "'{pickle}' is a pickle, not text"),
    ("train {damaged} -o {out} -q", 1, "cannot read the corpus file '{damaged}'"),
    ("train {corpus} -o {out} --vector-size 0", 1, "--vector-size must be an int in the range "
                                                   "[1, inf), got 0"),
    ("train {corpus} -o {out} --max-vocab-size 0", 1, "--max-vocab-size must be"),
    ("train {corpus} -o {out} --learning-rate 0.001 --min-learning-rate 0.01", 1,
     "--min-learning-rate 0.01 must not exceed --learning-rate 0.001"),
    ("train {corpus} -o {out} --token-pattern (", 1,
     "--token-pattern '(' is not a valid regular expression"),
    ("train {corpus} -o {out} --token-pattern xyz -q", 1, "check --token-pattern)"),
    ("train {corpus} -o {out} --n-jobs 0", 2, "argument --n-jobs: expected a positive number"),
    ("train {corpus} -o {out} --vector-size ten", 2, "invalid int value: 'ten'"),
    ("train {corpus} -o {nodir}", 1, "its folder does not exist"),
    ("train {corpus} -o {dir}", 1, "it is a folder"),
    ("similar {vectors_txt} w1", 1, "holds word2vec-format vectors, not a skw2v model; "
                                    "convert it first: skw2v import"),
    ("similar {vectors_bin} w1", 1, "holds word2vec-format vectors"),
    ("similar {corpus} w1", 1, "is a text file, not a skw2v model; to train a model on it: "
                               "skw2v train"),
    ("similar {pickle} w1", 1, "it is a pickle"),
    ("similar {model} " + LONG_WORD, 1, "is not in the model's vocabulary"),
    ("similar {model} w1 -n 0", 1, "-n must be a positive integer, got 0"),
    ("analogy {model} w1 w2", 2, "the following arguments are required: C"),
    ("import {model} -o {out}", 1, "is already a skw2v model"),
    ("import {corpus} -o {out}", 1, "is not word2vec-format vectors"),
    ("import {pickle} -o {out}", 1, "is a pickle, not word2vec-format vectors"),
    ("evaluate {model}", 1, "give --pairs FILE and/or --analogies FILE"),
    ("evaluate {model} --pairs {long}", 1, "line 1 of"),
    ("evaluate {model} --analogies {long}", 1, "is not an analogy"),
    ("evaluate {model} --pairs {latin1}", 1, "--pairs '{latin1}' is not UTF-8 text: line 3"),
    ("evaluate {model} --pairs {model}", 1, "--pairs '{model}' is a skw2v model"),
    ("export {model} {nodir}", 1, "does not exist"),
    ("demo --epochs 0", 2, "expected a positive integer, got 0"),
    ("demo --n-jobs 0", 2, "argument --n-jobs: expected a positive number"),
]


@pytest.mark.parametrize("template, status, says", MISTAKES,
                         ids=[m[0].split(" {")[0] + f"-{i}" for i, m in enumerate(MISTAKES)])
def test_user_mistakes_get_one_short_line_in_the_command_lines_words(capsys, files, template,
                                                                     status, says):
    argv = [part.format(**files) for part in template.split()]
    code, out, err = run(capsys, *argv)
    assert code == status, err
    assert "Traceback" not in err and out == ""
    lines = err.strip("\n").splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith(("skw2v: error: ", f"skw2v {argv[0]}: error: ")), line
    assert len(line) <= 200, line
    assert says.format(**files) in line, line
    assert not API_NAMES.search(line), line
    for quoted in re.findall(r"b?'(?:[^'\\]|\\.)*'", line):  # quoted input stays short
        assert len(quoted) <= 80, quoted
    assert LONG_WORD not in line and "x" * 100 not in line


def test_at_least_15_mistakes_are_covered():
    assert len(MISTAKES) >= 15


def test_train_help_states_each_default_once(capsys):
    code, out, _ = run(capsys, "train", "--help")
    assert code == 0
    flat = " ".join(out.split())
    assert flat.count("(default:") >= 15
    assert ") (default:" not in flat and "(default: None)" not in flat
    assert "--n-jobs INT training threads; -1 all cores, -2 all but one (default: all cores)" \
        in flat
