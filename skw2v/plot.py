"""Pictures of a fitted model (needs matplotlib: ``pip install matplotlib``).

``loss_curve(model, held_out=...)`` draws the mean training loss per epoch
(and a held-out loss per epoch when given);
``embedding_map(model, words)`` projects word vectors to 2-D by PCA.
Both draw on ``ax`` (a new figure when None) and return the Axes.
"""

from collections.abc import Mapping

import numpy as np


def _pyplot_axes(figsize):
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "skw2v.plot needs matplotlib, which is not installed: "
            "pip install matplotlib (or pip install 'skw2v[plot]')"
        ) from exc
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _check_fitted(model):
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model, "vectors_")


def loss_curve(model, ax=None, held_out=None):
    """Plot the mean loss per positive example after each training epoch.

    The training loss is measured online, while each epoch updates the
    vectors, so it can turn up in the last epochs as the learning rate
    decays (the latest updates then help it less); a held-out curve shows
    whether the model still improves.

    Parameters
    ----------
    model : fitted Word2VecNS
    ax : matplotlib Axes or None
        Where to draw; None makes a new figure.
    held_out : sequence of float or None
        A held-out loss per epoch (one value per entry of
        ``model.loss_history_``), e.g. ``-model.score(held_out_docs)``
        collected by an epoch callback. Drawn on a second y axis (right),
        since it is a different quantity from the training loss.

    Returns
    -------
    matplotlib.axes.Axes
        The training-loss axes (the held-out axes is its ``twinx``).
    """
    _check_fitted(model)
    history = np.asarray(getattr(model, "loss_history_", ()), dtype=np.float64)
    if history.size == 0:
        raise ValueError("the model has no loss history to plot (it was not trained "
                         "by skw2v, e.g. imported vectors)")
    if held_out is not None:
        held_out = np.asarray(held_out, dtype=np.float64)
        if held_out.shape != history.shape:
            raise ValueError(f"held_out must have one value per epoch ({history.size}), "
                             f"got shape {held_out.shape}")
    if ax is None:
        ax = _pyplot_axes((6, 4))
    from matplotlib.ticker import MaxNLocator

    epochs = np.arange(1, history.size + 1)
    lines = ax.plot(epochs, history, marker="o", color="tab:blue", label="training loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean loss per positive example")
    ax.set_title(f"skw2v {model.architecture} training loss "
                 f"({model.loss.replace('_', ' ')}, k={model.sample_size})")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    if held_out is not None:
        right = ax.twinx()
        lines += right.plot(epochs, held_out, marker="s", color="tab:orange",
                            label="held-out loss (-score)")
        right.set_ylabel("held-out -log p(context | word)")
        ax.set_title(f"skw2v {model.architecture}: training and held-out loss")
        ax.legend(lines, [line.get_label() for line in lines], loc="upper right")
    return ax


def embedding_map(model, words, ax=None):
    """Scatter ``words`` at the first two principal components of their vectors.

    The vectors are scaled to unit length first (the map then reflects
    cosine similarity, as ``most_similar`` does), centred and projected by
    an SVD on the chosen words only.

    Parameters
    ----------
    model : fitted Word2VecNS
    words : list of str, or dict {group name: list of str}
        Vocabulary words to place (at least 2). With a dict each group gets
        its own colour and a legend entry.
    ax : matplotlib Axes or None
        Where to draw; None makes a new figure.

    Returns
    -------
    matplotlib.axes.Axes
    """
    _check_fitted(model)
    if isinstance(words, str):
        raise TypeError(f"words must be a list of words or a dict of lists, got the "
                         f"string {words!r}")
    groups = dict(words) if isinstance(words, Mapping) else {None: list(words)}
    labels = [(g, w) for g, ws in groups.items() for w in ws]
    unknown = [w for _, w in labels if w not in model.vocabulary_]
    if unknown:
        raise ValueError(f"words not in the vocabulary: {unknown[:10]}")
    if len({w for _, w in labels}) < 2:
        raise ValueError(f"embedding_map needs at least 2 distinct words, got {len(labels)}")

    X = model.vectors_[[model.vocabulary_[w] for _, w in labels]].astype(np.float64)
    X /= np.linalg.norm(X, axis=1, keepdims=True) + 1e-12
    X -= X.mean(axis=0)
    _, s, vt = np.linalg.svd(X, full_matrices=False)
    coords = np.zeros((len(labels), 2))
    n_pc = min(2, vt.shape[0])
    coords[:, :n_pc] = X @ vt[:n_pc].T
    share = s ** 2 / max((s ** 2).sum(), 1e-300)

    if ax is None:
        ax = _pyplot_axes((8, 6.5))
    colors = []
    start = 0
    for i, (group, ws) in enumerate(groups.items()):
        xy = coords[start:start + len(ws)]
        start += len(ws)
        ax.scatter(xy[:, 0], xy[:, 1], s=22, color=f"C{i % 10}", label=group, zorder=3)
        colors += [f"C{i % 10}"] * len(ws)
    ax.margins(0.12)
    _label_points(ax, coords, [w for _, w in labels], colors)
    if any(g is not None for g in groups):
        ax.legend(loc="best", fontsize=9, framealpha=0.8)
    ax.set_xlabel(f"principal component 1 ({share[0]:.0%} of variance)")
    ax.set_ylabel(f"principal component 2 ({share[1] if len(share) > 1 else 0:.0%} of variance)")
    ax.set_title("skw2v word vectors (unit length), PCA to 2-D")
    ax.grid(True, alpha=0.3)
    return ax


# Label offsets tried in turn (points from the marker): right, left, above, below.
_OFFSETS = ((5, 2, "left"), (-5, 2, "right"), (5, -11, "left"), (-5, -11, "right"),
            (0, 7, "center"), (0, -16, "center"))


def _label_points(ax, coords, words, colors, fontsize=9):
    """Annotate each point where its label overlaps the fewest labels already placed.

    Label boxes are estimated from the font size (no renderer needed), in
    display units, so the choice holds for the figure as saved.
    """
    ax.autoscale_view()
    scale = ax.figure.dpi / 72.0  # points -> pixels
    pix = ax.transData.transform(coords)
    char_w, height = 0.6 * fontsize * scale, fontsize * scale
    placed = []  # (x0, y0, x1, y1) in pixels

    def box(x, y, dx, dy, ha, word):
        width = char_w * len(word)
        x += dx * scale
        y += dy * scale
        x0 = x - width if ha == "right" else x - width / 2 if ha == "center" else x
        return (x0, y, x0 + width, y + height)

    def overlap(b, c):
        return (max(0.0, min(b[2], c[2]) - max(b[0], c[0]))
                * max(0.0, min(b[3], c[3]) - max(b[1], c[1])))

    markers = [(x - 3 * scale, y - 3 * scale, x + 3 * scale, y + 3 * scale) for x, y in pix]
    for (x, y), point, word, color in zip(pix, coords, words, colors):
        _, best = min(
            (sum(overlap(box(x, y, dx, dy, ha, word), c) for c in placed + markers), i)
            for i, (dx, dy, ha) in enumerate(_OFFSETS)
        )
        dx, dy, ha = _OFFSETS[best]
        placed.append(box(x, y, dx, dy, ha, word))
        ax.annotate(word, point, xytext=(dx, dy),
                    textcoords="offset points", ha=ha, va="bottom", fontsize=fontsize,
                    color=color)


__all__ = ["embedding_map", "loss_curve"]
