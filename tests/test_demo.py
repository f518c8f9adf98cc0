"""`skw2v demo`: reproducible with one thread, as the README shows it, two-curve loss picture."""

import re
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import numpy as np
import pytest

from skw2v import Word2VecNS
from skw2v import _demo
from skw2v.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
SPEED = re.compile(r"^training: [\d,]+ words/s \([\d.]+ s; whole fit with held-out "
                   r"scoring [\d.]+ s\)$")


def run_demo_cli(capsys, monkeypatch, folder, *argv):
    monkeypatch.chdir(folder)
    code = main(["demo", *argv])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out.splitlines()


def readme_demo_output():
    """The output block the README shows for `python -m skw2v demo --n-jobs 1`."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`python -m skw2v demo --n-jobs 1` prints exactly this" in text
    block = re.search(r"^```\n(corpus: .*?)^```$", text, re.MULTILINE | re.DOTALL)
    assert block, "no demo output block in README.md"
    return block.group(1).splitlines()


def test_split_holds_out_every_20th_paragraph_and_trains_on_the_rest():
    docs = [[str(i)] for i in range(45)]
    train, held = _demo.split_held_out(docs)
    assert held == [["19"], ["39"]]
    assert sorted(train + held, key=lambda d: int(d[0])) == docs


@pytest.fixture(scope="module")
def one_thread_runs(tmp_path_factory):
    """Two full demo runs with --n-jobs 1, each in its own folder (pictures included)."""
    runs = []
    for k in range(2):
        folder = tmp_path_factory.mktemp(f"demo{k}")
        out = StringIO()
        with pytest.MonkeyPatch.context() as mp, redirect_stdout(out):
            mp.chdir(folder)  # the command as documented: pictures into the current folder
            assert main(["demo", "--n-jobs", "1"]) == 0
        runs.append((folder, out.getvalue().splitlines()))
    return runs


def test_demo_with_one_thread_prints_the_same_twice(one_thread_runs):
    (_, first), (_, second) = ((folder, list(lines)) for folder, lines in one_thread_runs)
    speed = [i for i, line in enumerate(first) if line.startswith("training: ")]
    assert len(speed) == 1 and SPEED.match(first[speed[0]]), first
    assert SPEED.match(second[speed[0]]), second
    del first[speed[0]], second[speed[0]]
    assert first == second
    assert "1 thread (every run prints the same)" in "\n".join(first)


def test_readme_shows_what_the_demo_prints(one_thread_runs):
    """Line by line; numbers may differ in the last digits on another CPU (other SIMD
    code, so other rounding), the text may not."""
    _, printed = one_thread_runs[0]
    shown = readme_demo_output()
    assert len(shown) == len(printed), (shown, printed)
    for want, got in zip(shown, printed):
        if want.startswith("training: "):
            assert SPEED.match(want) and SPEED.match(got), (want, got)
        elif want.startswith("nearest to ") or want.startswith("analogy: "):
            # the words and their order; cosines to 0.02
            assert re.sub(r" \d\.\d\d", "", want) == re.sub(r" \d\.\d\d", "", got), (want, got)
            np.testing.assert_allclose([float(x) for x in re.findall(r" (\d\.\d\d)", got)],
                                       [float(x) for x in re.findall(r" (\d\.\d\d)", want)],
                                       atol=0.02)
        elif re.match(r"^\s+\d+\s", want):  # an epoch line: losses to 0.002
            np.testing.assert_allclose([float(x) for x in got.split()],
                                       [float(x) for x in want.split()], atol=2e-3)
        else:
            assert want == got


def test_demo_writes_both_pictures(one_thread_runs):
    pytest.importorskip("matplotlib")
    folder, printed = one_thread_runs[0]
    for name in (_demo.LOSS_PNG, _demo.MAP_PNG):
        assert any(line.startswith(f"wrote ./{name}") for line in printed), printed
        png = folder / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_several_threads_say_the_figures_vary(capsys, monkeypatch, tmp_path):
    printed = run_demo_cli(capsys, monkeypatch, tmp_path, "--epochs", "1", "--n-jobs", "2",
                           "--no-plots")
    vocabulary = next(line for line in printed if line.startswith("vocabulary: "))
    assert vocabulary.endswith("2 threads (lock-free updates: the figures below vary "
                               "slightly from run to run; --n-jobs 1 repeats exactly)")
    assert not any(line.startswith("wrote") for line in printed)


@pytest.fixture(scope="module")
def small_run():
    """A small model with the held-out loss collected by the epoch callback, as the demo does."""
    rng = np.random.default_rng(0)
    docs = [[f"w{i}" for i in rng.integers(30, size=12)] for _ in range(240)]
    train, held = _demo.split_held_out(docs)
    held_out_loss = []
    model = Word2VecNS(vector_size=8, epochs=4, min_count=1, n_jobs=1, random_state=0,
                       callbacks=[lambda est, info: held_out_loss.append(-est.score(held))])
    model.fit(train)
    return model, held_out_loss, len(held)


def test_loss_picture_has_two_curves_and_a_caption(small_run):
    pytest.importorskip("matplotlib")
    model, held_out_loss, n_held = small_run
    assert len(held_out_loss) == 4 and all(np.isfinite(held_out_loss))
    fig = _demo.loss_figure(model, held_out_loss, n_held)
    left, right = fig.axes  # the held-out curve has its own y axis
    (train_line,), (held_line,) = left.get_lines(), right.get_lines()
    np.testing.assert_array_equal(train_line.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(train_line.get_ydata(), model.loss_history_)
    np.testing.assert_array_equal(held_line.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(held_line.get_ydata(), held_out_loss)
    assert [t.get_text() for t in left.get_legend().get_texts()] == [
        "training loss", "held-out loss (-score)"]
    assert "held-out" in right.get_ylabel()
    caption = fig.get_supxlabel()
    assert "training loss (left)" in caption and "held-out loss (right)" in caption
    assert f"on {n_held:,} paragraphs never trained on" in caption
    assert "learning rate decays" in caption


def test_loss_picture_without_held_out_has_one_curve(small_run):
    pytest.importorskip("matplotlib")
    model, _, _ = small_run
    fig = _demo.loss_figure(model)
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 1 and fig.get_supxlabel() == ""
