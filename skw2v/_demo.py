"""`skw2v demo`: train on the bundled U.S. presidential addresses and show results."""

import gzip
import os
import time
from importlib import resources

DEMO_WORDS = ("war", "economy", "freedom", "children", "taxes")
DEMO_ANALOGY = ("war", "wars", "program")  # war is to wars as program is to ?
# Words for the 2-D map, by topic; words missing from the vocabulary are left out.
MAP_GROUPS = {
    "defence": ["war", "army", "navy", "soldiers", "nuclear", "weapons", "missiles"],
    "economy": ["economy", "jobs", "taxes", "inflation", "budget", "deficit", "oil"],
    "schooling": ["school", "schools", "education", "teachers", "students", "children"],
    "nations": ["soviet", "russia", "china", "japan", "germany", "vietnam", "iraq"],
    "ideals": ["freedom", "liberty", "justice", "equality", "democracy", "god"],
}
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


def write_pictures(model, out_dir):
    """Write the loss curve and the 2-D word map as PNGs; return their paths."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    from ._persist import atomic_write
    from .plot import embedding_map, loss_curve

    groups = {g: [w for w in ws if w in model.vocabulary_] for g, ws in MAP_GROUPS.items()}
    groups = {g: ws for g, ws in groups.items() if ws}
    paths = []
    for name, size, draw in (
        (LOSS_PNG, (6, 4), lambda ax: loss_curve(model, ax=ax)),
        (MAP_PNG, (9, 7), lambda ax: embedding_map(model, groups, ax=ax)),
    ):
        fig = Figure(figsize=size, layout="constrained")
        draw(fig.subplots())
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
    n_tokens = sum(map(len, docs))
    out(f"corpus: {len(docs):,} paragraphs, {n_tokens:,} tokens "
        "(U.S. State of the Union and inaugural addresses)")
    model = Word2VecNS(epochs=epochs, random_state=random_state, n_jobs=n_jobs)
    start = time.perf_counter()
    model.fit(docs)
    elapsed = time.perf_counter() - start
    out(f"vocabulary: {len(model.vocabulary_):,} words; {model.n_threads_} thread(s)")
    for epoch, loss in enumerate(model.loss_history_, 1):
        out(f"epoch {epoch:2d}  loss {loss:.4f}")
    out(f"training: {epochs * n_tokens / model.train_seconds_:,.0f} words/s "
        f"({model.train_seconds_:.1f} s; whole fit {elapsed:.1f} s)")
    for word in DEMO_WORDS:
        near = ", ".join(f"{w} {s:.2f}" for w, s in model.most_similar(word, topn=6))
        out(f"nearest to {word!r}: {near}")
    a, b, c = DEMO_ANALOGY
    query = model.get_vector(b) - model.get_vector(a) + model.get_vector(c)
    answers = [w for w, _ in model.most_similar(query, topn=10) if w not in (a, b, c)][:3]
    out(f"analogy: {a} : {b} :: {c} : {answers[0]}  (then {', '.join(answers[1:])})")
    if plots:
        if _have_matplotlib():
            for path in write_pictures(model, out_dir):
                out(f"wrote {path}")
        else:
            out("pictures skipped: matplotlib is not installed (pip install matplotlib)")
    return model
