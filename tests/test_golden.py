"""n_jobs=1 training is bitwise what it was: fitted arrays against saved goldens.

The goldens in tests/golden/ were written by
``SKW2V_SIMD=baseline PYTHONPATH=. python tests/test_golden.py --write``
from the code before the fit pipeline moved out of the estimator (issue 17);
the skip-gram ones were regenerated when the default skip-gram update became
the window-batched one (issue 15, batch_window="auto"; the CBOW ones are
unchanged). Regenerate them only for a change meant to alter the numbers,
and say so in the commit.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import skw2v
from skw2v import Word2VecNS

GOLDEN = Path(__file__).parent / "golden"
CASES = [(arch, loss) for arch in ("skipgram", "cbow") for loss in ("negative_sampling", "nce")]
PARAMS = dict(vector_size=8, window=3, sample_size=4, min_count=1, epochs=3, subsample=1e-2,
              n_jobs=1, random_state=11)
ARRAYS = ("vectors_", "output_vectors_", "output_bias_", "loss_history_", "token_counts_",
          "idf_")


def golden_corpus(n_sentences=300, n_words=50):
    """Token lists from a fixed integer generator (no library RNG whose stream could
    change): Zipf-like word ranks, 4 to 15 words a sentence."""
    state = 2463534242
    weights = np.cumsum(1.0 / np.arange(1, n_words + 1))
    sentences = []

    def draw():
        nonlocal state
        state = (6364136223846793005 * state + 1442695040888963407) % 2**64
        return (state >> 11) / 2.0**53

    for _ in range(n_sentences):
        length = 4 + int(draw() * 12)
        ranks = np.searchsorted(weights, [draw() * weights[-1] for _ in range(length)])
        sentences.append([f"w{r}" for r in ranks])
    return sentences


def fit_case(architecture, loss):
    return Word2VecNS(architecture=architecture, loss=loss, **PARAMS).fit(golden_corpus())


def _path(architecture, loss, folder=GOLDEN):
    return Path(folder) / f"{architecture}_{loss}.npz"


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """The four fits, run in a child process with the portable SIMD clone
    (``SKW2V_SIMD=baseline``; the goldens predate the clones, and a wider
    clone may round differently), skw2v imported as this process imports it."""
    out = tmp_path_factory.mktemp("golden")
    root = Path(skw2v.__file__).resolve().parents[1]
    env = dict(os.environ, SKW2V_SIMD="baseline",
               PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    subprocess.run([sys.executable, __file__, "--write", str(out)], env=env, check=True,
                   timeout=300)
    return out


@pytest.mark.parametrize("architecture, loss", CASES)
def test_n_jobs_1_fit_is_bitwise_the_golden(fitted, architecture, loss):
    with np.load(_path(architecture, loss), allow_pickle=False) as golden, \
            np.load(_path(architecture, loss, fitted), allow_pickle=False) as model:
        np.testing.assert_array_equal(model["index_to_token_"], golden["index_to_token_"])
        for name in ARRAYS:
            got, want = model[name], golden[name]
            assert got.dtype == want.dtype and got.shape == want.shape, name
            # bitwise: compare the bytes, so -0.0 vs 0.0 or a NaN payload counts too
            assert got.tobytes() == want.tobytes(), (
                f"{name} differs from the golden in {np.sum(got != want)} entries "
                f"(max abs difference {np.max(np.abs(got - want))})"
            )


def test_golden_corpus_is_small_and_covers_the_vocabulary():
    sentences = golden_corpus()
    words = {w for s in sentences for w in s}
    assert 40 <= len(words) <= 50 and sum(map(len, sentences)) < 5000


def _write(folder):
    for architecture, loss in CASES:
        model = fit_case(architecture, loss)
        arrays = {name: getattr(model, name) for name in ARRAYS}
        arrays["index_to_token_"] = model.index_to_token_.astype(str)
        np.savez(_path(architecture, loss, folder), **arrays)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or sys.argv[1] != "--write":
        sys.exit("usage: SKW2V_SIMD=baseline PYTHONPATH=. python tests/test_golden.py --write "
                 "[FOLDER]   (FOLDER defaults to tests/golden, overwriting the goldens)")
    root = Path(__file__).resolve().parents[1]
    if len(sys.argv) == 2 and Path(skw2v.__file__).resolve().parents[1] != root:
        sys.exit(f"skw2v is imported from {skw2v.__file__}, not from {root}: run "
                 "PYTHONPATH=. python tests/test_golden.py --write from the repository root")
    _write(sys.argv[2] if len(sys.argv) == 3 else GOLDEN)
