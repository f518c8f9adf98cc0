"""A small fit / transform / loss workload for memory checkers.

Run by tools/sanitize.sh (ASan + UBSan build) and tools/valgrind.sh
(memcheck); it can also be run directly. It drives every code path of the
compiled kernel on small inputs: both architectures and both losses, one and
two threads, sentences longer than a chunk, windows wider than a sentence,
a one-word vocabulary, subsampling, the alias sampler on skewed
distributions, the stop flag, and the kernel's own argument validation (bad
arrays must raise ValueError, not read out of bounds).

    python tools/memcheck_suite.py            # full workload (~seconds natively)
    python tools/memcheck_suite.py --quick    # smaller, for valgrind
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's skw2v

from skw2v import Word2VecNS, _core
from skw2v._alias import alias_table, kernel_thresholds
from skw2v._corpus import chunk_layout


def corpus(n_docs, length, n_words, seed):
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i}" for i in range(n_words)], dtype=object)
    return [words[rng.zipf(1.3, length) % n_words].tolist() for _ in range(n_docs)]


def estimator_paths(quick):
    docs = corpus(30 if quick else 120, 40, 200, 0)
    long_doc = corpus(1, 2_500 if quick else 25_000, 300, 1)  # > one 10,000-token chunk
    runs = 0
    for architecture in ["skipgram", "cbow"]:
        for loss in ["negative_sampling", "nce"]:
            for n_jobs in [1, 2]:
                for noise in (["unigram"] if quick else ["unigram", "log_uniform"]):
                    model = Word2VecNS(vector_size=9, window=4, sample_size=3, min_count=1,
                                       epochs=2, architecture=architecture, loss=loss,
                                       noise=noise, n_jobs=n_jobs, random_state=runs)
                    model.fit(docs + long_doc)
                    for pooling in ["mean", "tfidf", "sif"]:
                        out = model.set_params(pooling=pooling).transform(docs + [[], ["zz"]])
                        assert np.isfinite(out).all()
                    assert np.isfinite(model.loss_history_).all()
                    model.most_similar(model.index_to_token_[0], topn=3)
                    if hasattr(model, "score"):
                        assert np.isfinite(model.score(docs[:5]))
                    runs += 1
    # Edge shapes: one-word vocabulary, one-token documents, a window wider
    # than every sentence, aggressive subsampling, vector_size 1.
    Word2VecNS(vector_size=3, min_count=1, epochs=2, n_jobs=2).fit([["a"] * 5] * 3)
    Word2VecNS(vector_size=3, min_count=1, epochs=2, n_jobs=2).fit([["a"], ["b"], ["c"]])
    Word2VecNS(vector_size=1, window=50, min_count=1, epochs=1, n_jobs=2,
               architecture="cbow").fit(docs)
    Word2VecNS(vector_size=4, min_count=1, epochs=1, subsample=1e-6, n_jobs=2).fit(docs)
    Word2VecNS(vector_size=4, min_count=1, epochs=1, shrink_windows=False, n_jobs=1).fit(docs)
    return runs + 5


def alias_paths():
    for p in [np.array([1.0]), np.array([0.0, 1.0, 0.0]), np.r_[1e-12, np.ones(50)],
              np.r_[1e6, np.ones(500)], np.random.default_rng(0).random(1000)]:
        accept, alias = alias_table(p)
        thr = kernel_thresholds(accept)
        out = np.empty(5000, dtype=np.int32)
        _core.sample_alias(thr, alias, 12345, out)
        assert out.min() >= 0 and out.max() < len(p)
    return 5


def kernel_arrays(n_tokens=200, n_vocab=10, dim=4, n_sentences=5, chunk=37):
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, n_vocab, n_tokens).astype(np.int32)
    offsets = np.linspace(0, n_tokens, n_sentences + 1).astype(np.int64)
    bounds, first = chunk_layout(offsets, n_tokens, chunk)
    accept, alias = alias_table(np.ones(n_vocab))
    n_chunks = len(bounds) - 1
    return {
        "tokens": tokens, "offsets": offsets, "bounds": bounds, "first": first,
        "keep": np.ones(n_vocab, np.float32), "thr": kernel_thresholds(accept), "alias": alias,
        "log_kq": np.zeros(n_vocab, np.float32),
        "w_in": rng.random((n_vocab, dim), dtype=np.float32) - 0.5,
        "w_out": np.zeros((n_vocab, dim), np.float32),
        "stats": np.zeros((n_chunks, _core.N_STATS)), "done": np.zeros(n_chunks, np.uint8),
        "stop": np.zeros(1, np.int32),
    }


def call_kernel(a, n_threads=2, window=3):
    return _core.train_epoch(
        a["tokens"], a["offsets"], a["bounds"], a["first"], a["keep"], a["thr"], a["alias"],
        a["log_kq"], a["w_in"], a["w_out"], 0, 1, window, True, 3, 0.025, 1e-4, 0,
        max(len(a["tokens"]), 1), 7, n_threads, a["stats"], a["done"], a["stop"],
    )


def kernel_validation_paths():
    """Arrays that would make the kernel read or write out of bounds."""
    a = kernel_arrays()
    assert call_kernel(a) == 0 and a["done"].all()
    stopped = kernel_arrays()
    stopped["stop"][0] = 1
    assert call_kernel(stopped) == 1 and not stopped["done"].any()

    def corrupt(key, index, value):
        b = kernel_arrays()
        b[key] = b[key].copy()
        b[key][index] = value
        return b

    bad = [
        corrupt("tokens", 5, 10), corrupt("tokens", 0, -1),
        corrupt("offsets", -1, 199), corrupt("offsets", 2, 1_000), corrupt("offsets", 0, 3),
        corrupt("bounds", -1, 10_000), corrupt("bounds", 1, -5), corrupt("bounds", 2, 1),
        corrupt("first", 1, 99), corrupt("first", 1, -1),
        corrupt("alias", 0, 10), corrupt("alias", 3, -7),
    ]
    wrong_shape = kernel_arrays()
    wrong_shape["keep"] = wrong_shape["keep"][:-1]
    bad.append(wrong_shape)
    wrong_shape = kernel_arrays()
    wrong_shape["stats"] = wrong_shape["stats"][:-1]
    bad.append(wrong_shape)
    for b in bad:
        try:
            call_kernel(b)
        except ValueError:
            continue
        raise AssertionError("the kernel accepted inconsistent arrays")
    return len(bad) + 2


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs (for valgrind)")
    args = parser.parse_args(argv)
    n = estimator_paths(args.quick)
    n += alias_paths()
    n += kernel_validation_paths()
    print(f"memcheck suite: {n} workloads ran (fit, transform, most_similar, alias sampling, "
          "kernel argument validation)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
