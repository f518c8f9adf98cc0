"""`skw2v demo`: train on the bundled U.S. presidential addresses and show results."""

import gzip
import os
import time
from importlib import resources

DEMO_WORDS = ("war", "economy", "freedom", "children", "taxes")
DEMO_ANALOGY = ("man", "men", "woman")  # man is to men as woman is to ? (stable under hogwild)
# Words for the 2-D map, by topic; words missing from the vocabulary are left out.
MAP_GROUPS = {
    "defence": ["war", "army", "navy", "soldiers", "nuclear", "weapons", "missiles"],
    "economy": ["economy", "jobs", "taxes", "inflation", "budget", "deficit", "oil"],
    "schooling": ["school", "schools", "education", "teachers", "students", "children"],
    "nations": ["soviet", "russia", "china", "japan", "germany", "vietnam", "iraq"],
    "ideals": ["freedom", "liberty", "justice", "equality", "democracy", "god"],
}
HELD_OUT_EVERY = 20  # every 20th paragraph is kept out of training, for the held-out loss
LOSS_PNG = "skw2v-demo-loss.png"
MAP_PNG = "skw2v-demo-map.png"


def load_demo_corpus():
    """The bundled corpus: State of the Union and inaugural addresses (public domain),
    lowercased, one paragraph a line, as lists of tokens."""
    path = resources.files("skw2v") / "data" / "us_addresses.txt.gz"
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
        return [line.split() for line in f if line.strip()]


def _have_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def split_held_out(docs):
    """(training paragraphs, held-out paragraphs): every ``HELD_OUT_EVERY``-th is held out."""
    last = HELD_OUT_EVERY - 1
    return ([d for i, d in enumerate(docs) if i % HELD_OUT_EVERY != last],
            docs[last::HELD_OUT_EVERY])


def loss_caption(n_held_out):
    return (
        "training loss (left): negative-sampling loss per positive pair, measured online "
        "while each epoch updates the vectors;\n"
        f"held-out loss (right): -score, i.e. -log p(context | word) under the full softmax, "
        f"on {n_held_out:,} paragraphs never trained on.\n"
        "As the learning rate decays the online loss loses the help of the latest updates "
        "and can turn up;\nthe held-out loss shows whether the model still improves."
    )


def loss_figure(model, held_out_loss=None, n_held_out=0):
    """The loss picture: training loss, held-out loss (if given) and a caption."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    from .plot import loss_curve

    fig = Figure(figsize=(7, 5), layout="constrained")
    loss_curve(model, ax=fig.subplots(), held_out=held_out_loss)
    if held_out_loss is not None:
        fig.supxlabel(loss_caption(n_held_out), fontsize=8, ha="center")
    return fig


def map_figure(model):
    """The 2-D map of the topic words found in the vocabulary."""
    from matplotlib.figure import Figure

    from .plot import embedding_map

    groups = {g: [w for w in ws if w in model.vocabulary_] for g, ws in MAP_GROUPS.items()}
    groups = {g: ws for g, ws in groups.items() if ws}
    fig = Figure(figsize=(9, 7), layout="constrained")
    embedding_map(model, groups, ax=fig.subplots())
    return fig


def write_pictures(model, out_dir, held_out_loss=None, n_held_out=0):
    """Write the loss picture and the 2-D word map as PNGs; return their paths."""
    from ._persist import atomic_write

    paths = []
    for name, fig in ((LOSS_PNG, loss_figure(model, held_out_loss, n_held_out)),
                      (MAP_PNG, map_figure(model))):
        path = os.path.join(out_dir, name)
        atomic_write(path, lambda f, fig=fig: fig.savefig(f, format="png", dpi=110))
        paths.append(path)
    return paths


def run_demo(out=print, epochs=10, random_state=0, n_jobs=None, out_dir=".", plots=True):
    """Train on the bundled corpus, print results; write PNGs into ``out_dir`` if asked."""
    from ._estimator import Word2VecNS

    if plots and out_dir is not None and not os.path.isdir(out_dir):
        raise FileNotFoundError(f"output folder {out_dir!r} does not exist")
    docs = load_demo_corpus()
    train, held_out = split_held_out(docs)
    out(f"corpus: {len(docs):,} paragraphs, {sum(map(len, docs)):,} tokens "
        "(U.S. State of the Union and inaugural addresses)")
    out(f"training on {len(train):,} paragraphs; every {HELD_OUT_EVERY}th "
        f"({len(held_out):,}) held out")
    held_out_loss = []  # -score after every epoch, through the epoch callback
    model = Word2VecNS(epochs=epochs, random_state=random_state, n_jobs=n_jobs,
                       callbacks=[lambda est, info: held_out_loss.append(-est.score(held_out))])
    start = time.perf_counter()
    model.fit(train)
    elapsed = time.perf_counter() - start
    model.set_params(callbacks=None)  # the returned model pickles
    threads = model.n_threads_
    out(f"vocabulary: {len(model.vocabulary_):,} words; " + (
        "1 thread (every run prints the same)" if threads == 1 else
        f"{threads} threads (lock-free updates: the figures below vary slightly from run "
        "to run; --n-jobs 1 repeats exactly)"))
    out("epoch  training loss  held-out loss")
    for epoch, (loss, held) in enumerate(zip(model.loss_history_, held_out_loss), 1):
        out(f"{epoch:5d}  {loss:13.4f}  {held:13.4f}")
    n_words = epochs * sum(map(len, train))
    out(f"training: {n_words / model.train_seconds_:,.0f} words/s "
        f"({model.train_seconds_:.1f} s; whole fit with held-out scoring {elapsed:.1f} s)")
    for word in DEMO_WORDS:
        near = ", ".join(f"{w} {s:.2f}" for w, s in model.most_similar(word, topn=6))
        out(f"nearest to {word!r}: {near}")
    a, b, c = DEMO_ANALOGY
    query = model.get_vector(b) - model.get_vector(a) + model.get_vector(c)
    answers = [w for w, _ in model.most_similar(query, topn=10) if w not in (a, b, c)][:3]
    out(f"analogy: {a} : {b} :: {c} : {answers[0]}  (then {', '.join(answers[1:])})")
    if plots:
        if _have_matplotlib():
            paths = write_pictures(model, out_dir, held_out_loss, len(held_out))
            for path, what in zip(paths, ("training and held-out loss per epoch",
                                          "PCA map of topic words")):
                out(f"wrote {path}  ({what})")
        else:
            out("pictures skipped: matplotlib is not installed "
                "(pip install matplotlib, or pip install -e \".[plot]\" in the checkout)")
    return model
