"""``skw2v query MODEL`` (neighbours and analogies from stdin) and ``export --vectors``."""

import io

import numpy as np
import pytest

from skw2v import Word2VecNS
from skw2v.__main__ import main
from skw2v.word2vec_format import read_word2vec


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    rng = np.random.default_rng(0)
    docs = [" ".join(f"w{i}" for i in rng.integers(30, size=12)) for _ in range(200)]
    est = Word2VecNS(vector_size=8, min_count=1, epochs=2, n_jobs=1, random_state=0).fit(docs)
    path = tmp_path_factory.mktemp("model") / "m.skw2v"
    est.save(path)
    return est, path


def query(monkeypatch, capsys, path, text, *options):
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    code = main(["query", str(path), *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def parse(block):
    return [(w, float(s)) for w, s in (line.split("\t") for line in block.splitlines())]


def test_query_answers_neighbours_and_analogies_line_by_line(monkeypatch, capsys, model):
    est, path = model
    code, out, err = query(monkeypatch, capsys, path, "w3\nW1 w2 w4\nnope\nw5\n", "-n", "4")
    assert code == 0
    blocks = out.split("\n\n")
    assert [b for b in blocks if b.strip()].__len__() == 3
    for block, expected in zip(blocks, [est.most_similar("w3", topn=4),
                                        est.analogy("w1", "w2", "w4", topn=4),
                                        est.most_similar("w5", topn=4)]):
        got = parse(block)
        assert [w for w, _ in got] == [w for w, _ in expected]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], atol=1e-4)
    # an unknown word: one error line naming it and close matches; the next line is answered
    assert err.count("skw2v: error:") == 1 and "'nope'" in err


def test_query_options_and_bad_lines(monkeypatch, capsys, model):
    est, path = model
    code, out, err = query(monkeypatch, capsys, path, "w1 w2\nw1\n", "-n", "2",
                           "--restrict-vocab", "5")
    assert code == 0 and "expected 1 word (neighbours) or 3 words" in err
    got = parse(out.strip())
    assert got and all(est.vocabulary_[w] < 5 for w, _ in got) and len(got) == 2
    code, out, _ = query(monkeypatch, capsys, path, "")  # end of input at once
    assert code == 0 and out == ""
    code, _, err = query(monkeypatch, capsys, path, "w1\n", "-n", "0")
    assert code == 2 and "positive integer" in err
    code, _, err = query(monkeypatch, capsys, path.with_name("missing.skw2v"), "w1\n")
    assert code == 1 and "skw2v: error:" in err


@pytest.mark.parametrize("which", ["input", "output", "both"])
@pytest.mark.parametrize("fmt", ["text", "binary"])
def test_export_vectors(capsys, model, tmp_path, which, fmt):
    est, path = model
    out_file = tmp_path / "v.txt"
    code = main(["export", str(path), str(out_file), "--format", fmt, "--vectors", which])
    out = capsys.readouterr().out
    assert code == 0 and "wrote 30 vectors" in out
    words, vectors = read_word2vec(out_file, binary=fmt == "binary")
    assert words == est.index_to_token_.tolist()
    expected = {"input": est.vectors_, "output": est.output_vectors_,
                "both": np.hstack([est.vectors_, est.output_vectors_])}[which]
    np.testing.assert_array_equal(vectors, expected)


def test_export_vectors_bad_choice(capsys, model, tmp_path):
    _, path = model
    code = main(["export", str(path), str(tmp_path / "v.txt"), "--vectors", "hidden"])
    assert code == 2 and "--vectors" in capsys.readouterr().err
