"""skw2v.plot: loss curve and 2-D word map."""

import sys

import numpy as np
import pytest

from skw2v import Word2VecNS
from skw2v.word2vec_format import model_from_vectors

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from skw2v import plot


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(0)
    docs = [[f"w{i}" for i in rng.integers(30, size=12)] for _ in range(200)]
    return Word2VecNS(vector_size=8, epochs=4, min_count=1, n_jobs=1, random_state=0).fit(docs)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def test_loss_curve_plots_the_history(model):
    ax = plot.loss_curve(model)
    assert isinstance(ax, Axes)
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(line.get_ydata(), model.loss_history_)
    assert ax.get_xlabel() == "epoch" and "loss" in ax.get_ylabel()

    fig = Figure()
    given = fig.subplots()
    assert plot.loss_curve(model, ax=given) is given


def test_loss_curve_held_out_on_its_own_axis(model):
    fig = Figure()
    ax = plot.loss_curve(model, ax=fig.subplots(), held_out=[4.0, 3.5, 3.2, 3.1])
    assert len(fig.axes) == 2 and fig.axes[0] is ax
    np.testing.assert_array_equal(fig.axes[1].get_lines()[0].get_ydata(), [4.0, 3.5, 3.2, 3.1])
    assert len(ax.get_legend().get_texts()) == 2
    with pytest.raises(ValueError, match=r"held_out must have one value per epoch \(4\)"):
        plot.loss_curve(model, held_out=[1.0, 2.0])


def test_loss_curve_needs_a_history():
    imported = model_from_vectors(["a", "b"], np.eye(2))
    with pytest.raises(ValueError, match="no loss history"):
        plot.loss_curve(imported)


def test_embedding_map_is_the_pca_of_unit_vectors(model):
    words = ["w1", "w2", "w3", "w4", "w5", "w6"]
    ax = plot.embedding_map(model, words)
    assert isinstance(ax, Axes)
    texts = [t.get_text() for t in ax.texts]
    assert texts == words
    xy = np.vstack([t.xy for t in ax.texts])
    # Reference: PCA (scikit-learn) of the unit-length vectors; components agree up to sign.
    from sklearn.decomposition import PCA

    unit = np.array([model.get_vector(w) for w in words], dtype=np.float64)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    ref = PCA(n_components=2).fit_transform(unit)
    for k in range(2):
        sign = np.sign(ref[:, k] @ xy[:, k])
        np.testing.assert_allclose(xy[:, k], sign * ref[:, k], atol=1e-6)
    (points,) = ax.collections
    np.testing.assert_allclose(points.get_offsets(), xy)


def test_embedding_map_groups_get_colours_and_a_legend(model):
    fig = Figure()
    ax = fig.subplots()
    out = plot.embedding_map(model, {"first": ["w1", "w2"], "second": ["w3", "w4", "w5"]},
                             ax=ax)
    assert out is ax
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["first", "second"]
    colours = [tuple(c.get_facecolor()[0]) for c in ax.collections]
    assert len(colours) == 2 and colours[0] != colours[1]


def _label_overlaps(model, words):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(6, 5), dpi=100)
    ax = fig.subplots()
    plot.embedding_map(model, words, ax=ax)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    return sum(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_embedding_map_labels_avoid_each_other(model, monkeypatch):
    words = [f"w{i}" for i in range(30)]
    placed = _label_overlaps(model, words)
    monkeypatch.setattr(plot, "_OFFSETS", plot._OFFSETS[:1])  # every label to the right
    naive = _label_overlaps(model, words)
    assert naive > 0  # the crowded map does collide without placement
    assert placed < naive / 2


def test_embedding_map_bad_words(model):
    with pytest.raises(ValueError, match=r"not in the vocabulary: \['nope'\]"):
        plot.embedding_map(model, ["w1", "nope"])
    with pytest.raises(ValueError, match="at least 2"):
        plot.embedding_map(model, ["w1", "w1"])
    with pytest.raises(TypeError, match="string"):
        plot.embedding_map(model, "w1")


def test_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        plot.loss_curve(Word2VecNS())


def test_clear_error_without_matplotlib(model, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="skw2v.plot needs matplotlib"):
        plot.loss_curve(model)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot.embedding_map(model, ["w1", "w2"])
