"""`skw2v demo`: train on the bundled U.S. presidential addresses and show results."""

import gzip
import time
from importlib import resources

DEMO_WORDS = ("war", "economy", "freedom", "children", "taxes")
DEMO_ANALOGY = ("war", "wars", "program")  # war is to wars as program is to ?


def load_demo_corpus():
    """The bundled corpus: State of the Union and inaugural addresses (public domain),
    lowercased, one paragraph a line, as lists of tokens."""
    path = resources.files("skw2v") / "data" / "us_addresses.txt.gz"
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
        return [line.split() for line in f if line.strip()]


def run_demo(out=print, epochs=10, random_state=0, n_jobs=None):
    from ._estimator import Word2VecNS

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
    answer = [w for w, _ in model.most_similar(query, topn=10) if w not in (a, b, c)][0]
    out(f"analogy: {a} : {b} :: {c} : {answer}")
    return model
