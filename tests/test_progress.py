"""Progress bar (verbose) and epoch callbacks."""

import re

import numpy as np
import pytest
from _corpora import tiny_docs as _tiny_docs

import skw2v
from skw2v import Word2VecNS


def tiny_docs(n_docs=300, vocab=50, length=15, seed=0):
    return _tiny_docs(n_docs, vocab, length, seed)


PARAMS = {"vector_size": 8, "epochs": 3, "min_count": 1, "n_jobs": 1, "random_state": 0}


def test_verbose_shows_words_and_loss(capsys):
    docs = tiny_docs()
    est = Word2VecNS(**PARAMS, verbose=1).fit(docs)
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err
    total = PARAMS["epochs"] * sum(map(len, docs))  # 13,500 positions over all epochs
    assert "skw2v" in err
    # The final state of the bar: every word processed, with the unit and the loss.
    assert re.search(rf"{total / 1000:.1f}k/{total / 1000:.1f}k", err), err
    assert "word/s" in err
    losses = [float(x) for x in re.findall(r"loss=([0-9.]+)", err)]
    assert losses, err
    # The loss shown last is the running mean of the last epoch.
    assert losses[-1] == pytest.approx(est.loss_history_[-1], abs=1e-4)


def test_verbose_zero_is_silent(capsys):
    Word2VecNS(**PARAMS, verbose=0).fit(tiny_docs())
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_callbacks_get_epoch_figures():
    docs = tiny_docs()
    calls = []

    def record(est, info):
        calls.append((est, dict(info), est.loss_history_.copy(), est.vectors_.copy()))

    est = Word2VecNS(**PARAMS, callbacks=[record], learning_rate=0.02,
                     min_learning_rate=0.002).fit(docs)
    assert [c[1]["epoch"] for c in calls] == [1, 2, 3]
    assert all(c[0] is est for c in calls)
    for i, (_, info, history, _) in enumerate(calls):
        assert set(info) == {"epoch", "epochs", "loss", "words", "seconds", "learning_rate"}
        assert info["epochs"] == 3
        assert info["loss"] == est.loss_history_[i]
        np.testing.assert_array_equal(history, est.loss_history_[: i + 1])
        assert 0 < info["words"] <= sum(map(len, docs))
        assert info["seconds"] >= 0
    lrs = [c[1]["learning_rate"] for c in calls]
    np.testing.assert_allclose(lrs, [0.02 - 0.018 * k / 3 for k in (1, 2, 3)])
    # The vectors seen by the last callback are the final ones.
    np.testing.assert_array_equal(calls[-1][3], est.vectors_)
    assert not np.array_equal(calls[0][3], calls[-1][3])


def test_callbacks_do_not_change_the_result():
    docs = tiny_docs()
    plain = Word2VecNS(**PARAMS).fit(docs)
    seen = []
    with_cb = Word2VecNS(**PARAMS, callbacks=(lambda e, i: seen.append(i["epoch"]),)).fit(docs)
    assert seen == [1, 2, 3]
    np.testing.assert_array_equal(plain.vectors_, with_cb.vectors_)


def test_checkpoint_callback_saves_loadable_models(tmp_path):
    docs = tiny_docs()

    def checkpoint(est, info):
        est.save(tmp_path / f"epoch{info['epoch']}.skw2v")

    est = Word2VecNS(**PARAMS, callbacks=[checkpoint]).fit(docs)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "epoch1.skw2v", "epoch2.skw2v", "epoch3.skw2v"]
    first, last = (skw2v.load(tmp_path / f"epoch{k}.skw2v") for k in (1, 3))
    assert len(first.loss_history_) == 1
    np.testing.assert_array_equal(last.vectors_, est.vectors_)
    np.testing.assert_array_equal(last.transform(docs), est.transform(docs))
