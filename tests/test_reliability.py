"""Odd data never crashes: every odd but valid X (generators, huge documents,
any script, emoji, huge tokens) trains correctly, oversized models are refused
before allocating, training that diverges is reported instead of returning NaN
vectors, and repeated fits do not leak.

Malformed input (bad parameters, bad X) is in test_bad_input.py.
"""

import pickle
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from _corpora import one_shot, random_docs, small_model

import skw2v._memory as memory_module
from skw2v import Word2VecNS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fitted():
    return small_model(epochs=2).fit(random_docs())


# --------------------------------------------------------------- bad X table


def test_transform_edge_documents(fitted):
    out = fitted.transform([])
    assert out.shape == (0, 8) and out.dtype == np.float32
    out = fitted.transform(["", [], ["never", "seen"], "w1 unknown"])
    assert out.shape == (4, 8)
    np.testing.assert_array_equal(out[:3], 0.0)  # no known token: a zero row, not NaN
    np.testing.assert_allclose(out[3], fitted.get_vector("w1"), rtol=1e-6)


def test_one_shot_generator_trains_all_epochs_like_a_list():
    """fit reads X once, so a generator gives exactly the list's model."""
    docs = random_docs(n_docs=80)
    from_list = small_model(epochs=3).fit(docs)
    gen = one_shot(docs)
    from_gen = small_model(epochs=3).fit(gen)
    assert next(gen, None) is None  # consumed
    assert from_gen.vocabulary_ == from_list.vocabulary_
    np.testing.assert_array_equal(from_gen.vectors_, from_list.vectors_)
    np.testing.assert_array_equal(from_gen.loss_history_, from_list.loss_history_)
    assert len(from_gen.loss_history_) == 3
    # Every epoch trained: the vectors moved from epoch to epoch.
    one_epoch = small_model(epochs=1).fit(one_shot(docs))
    assert not np.array_equal(one_epoch.vectors_, from_gen.vectors_)
    np.testing.assert_array_equal(
        small_model().fit(one_shot(docs)).transform(one_shot(docs[:5])),
        one_epoch.transform(docs[:5]),
    )


def test_single_ten_million_token_document():
    """No sentence length cap: one 10M-token document trains to its last token
    and pools exactly."""
    n_words, n_tokens, n_tail = 1000, 10_000_000, 50_000
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(n_words + 100)], dtype=object)
    # The last n_tail positions use 100 words that occur nowhere else.
    ids = np.concatenate([rng.integers(0, n_words, n_tokens - n_tail),
                          rng.integers(n_words, n_words + 100, n_tail)])
    doc = words[ids].tolist()
    model = Word2VecNS(vector_size=4, window=2, sample_size=1, epochs=1, min_count=1,
                       subsample=1e-5, n_jobs=2, random_state=0).fit([doc])
    assert model.vectors_.shape == (n_words + 100, 4)
    counts = np.bincount(ids, minlength=len(words))
    rows = np.array([model.vocabulary_[w] for w in words])
    np.testing.assert_array_equal(model.token_counts_[rows], counts)
    assert np.isfinite(model.vectors_).all() and np.isfinite(model.loss_history_).all()
    assert model.loss_history_[0] > 0
    # Output vectors start at zero; the tail words were trained as targets.
    tail_out = model.output_vectors_[rows[n_words:]]
    assert np.all(np.abs(tail_out).sum(axis=1) > 0)
    expected = counts @ model.vectors_[rows].astype(np.float64) / n_tokens
    # transform sums the 10M float32 vectors in float32: ~1e-3 relative error.
    np.testing.assert_allclose(model.transform([doc])[0], expected, rtol=1e-2)


# Letters of many scripts, with combining marks, RTL text, zero-width joiners.
SCRIPTS = {
    "latin": "café naïve façade Ærøskøbing straße",
    "greek": "αλφάβητο λόγος ψυχή",
    "cyrillic": "привет мир ёжик",
    "armenian": "բարեւ աշխարհ",
    "georgian": "გამარჯობა მსოფლიო",
    "hebrew": "שלום עולם",
    "arabic": "مرحبا بالعالم",
    "syriac": "ܫܠܡܐ ܥܠܡܐ",
    "thaana": "ދިވެހި ބަސް",
    "devanagari": "नमस्ते दुनिया",
    "bengali": "ওহে বিশ্ব",
    "gurmukhi": "ਸਤਿ ਸ੍ਰੀ ਅਕਾਲ",
    "tamil": "வணக்கம் உலகம்",
    "telugu": "హలో ప్రపంచం",
    "malayalam": "ഹലോ ലോകം",
    "sinhala": "ආයුබෝවන් ලෝකය",
    "thai": "สวัสดี ชาวโลก",
    "lao": "ສະບາຍດີ ໂລກ",
    "tibetan": "བཀྲ་ཤིས་བདེ་ལེགས",
    "myanmar": "မင်္ဂလာပါ ကမ္ဘာ",
    "khmer": "សួស្តី ពិភពលោក",
    "ethiopic": "ሰላም ዓለም",
    "cherokee": "ᎣᏏᏲ ᎡᎶᎯ",
    "canadian-syllabics": "ᐊᐃᓐᓇᐃ ᓄᓇ",
    "mongolian": "ᠮᠣᠩᠭᠣᠯ ᠬᠡᠯᠡ",
    "hangul": "안녕하세요 세계",
    "hiragana-katakana": "こんにちは カタカナ",
    "cjk": "你好 世界 漢字",
    "cjk-ext-b": "𠀀𠀁 𪚥",
    "gothic": "𐌷𐌰𐌻𐌰 𐌲𐌿𐌸",
    "cuneiform": "𒀀𒀁 𒀭",
    "egyptian": "𓀀𓀁 𓂀",
    "math-alnum": "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕿𝖊𝖝𝖙",
}

EMOJI = ["😀", "👍🏽", "👩‍👩‍👧‍👦", "🇫🇷", "🏳️‍🌈", "❤️", "1️⃣", "🧑🏿‍🚀", "🤷‍♂️"]


def test_token_lists_of_every_script_round_trip_exactly():
    tokens = sorted({t for text in SCRIPTS.values() for t in text.split()})
    rng = np.random.default_rng(1)
    docs = [[tokens[i] for i in rng.integers(0, len(tokens), 10)] for _ in range(60)]
    docs.append(tokens)  # every token appears at least once
    model = small_model().fit(docs)
    assert set(model.vocabulary_) == set(tokens)  # token lists are used as given
    for t in tokens:
        assert model.index_to_token_[model.vocabulary_[t]] == t
    out = model.transform([[t] for t in tokens])
    np.testing.assert_array_equal(out, model.vectors_[[model.vocabulary_[t] for t in tokens]])
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.transform(docs), model.transform(docs))


def test_strings_of_every_script_tokenize_into_words():
    docs = [text for text in SCRIPTS.values()] * 3
    model = small_model().fit(docs)
    for name, text in SCRIPTS.items():
        row = model.transform([text])[0]
        assert np.isfinite(row).all()
        assert np.any(row != 0), f"no token of the {name} text was recognised"
    assert "привет" in model.vocabulary_ and "你好" in model.vocabulary_
    assert "straße" in model.vocabulary_  # lowercase keeps ß; casefold is not applied


def test_emoji_tokens():
    rng = np.random.default_rng(0)
    docs = [[EMOJI[i] for i in rng.integers(0, len(EMOJI), 6)] for _ in range(40)] + [EMOJI]
    model = small_model().fit(docs)
    assert set(model.vocabulary_) == set(EMOJI)  # ZWJ sequences, flags, skin tones intact
    sims = model.most_similar("👩‍👩‍👧‍👦", topn=3)
    assert len(sims) == 3 and all(np.isfinite(s) for _, s in sims)
    # In string documents the default token_pattern (word characters) skips
    # emoji; a whitespace tokenizer keeps them.
    text = ["hello 😀 world 👍🏽"] * 3
    assert set(small_model().fit(text).vocabulary_) == {"hello", "world"}
    assert set(small_model(tokenizer=str.split).fit(text).vocabulary_) == {
        "hello", "😀", "world", "👍🏽"}


def test_very_long_tokens():
    long_tokens = ["x" * 1_000_000, "y" * 100_000 + "é", "🙂" * 50_000] + [
        f"{i:06d}" * 500 for i in range(200)]
    rng = np.random.default_rng(0)
    docs = [[long_tokens[i] for i in rng.integers(0, len(long_tokens), 8)] for _ in range(100)]
    docs.append(long_tokens)
    model = small_model().fit(docs)
    assert set(model.vocabulary_) == set(long_tokens)
    assert np.isfinite(model.transform(docs)).all()
    # As one string document too (regex tokenizer on a multi-megabyte string).
    model = small_model().fit([" ".join(long_tokens[:3])] * 2)
    assert set(model.vocabulary_) == {"x" * 1_000_000, "y" * 100_000 + "é"}


# -------------------------------------------- models too large for memory
@pytest.mark.parametrize(
    "vector_size, n_words, expected",
    [
        (10**12, 3, "24,000,000,000,000"),
        (2**40, 3, f"{2 * 3 * 2**40 * 4:,}"),
        (10**10, 50_000, f"{2 * 50_000 * 10**10 * 4:,}"),
    ],
)
def test_model_too_large_is_refused_before_allocating(vector_size, n_words, expected):
    docs = [[f"t{i}" for i in range(n_words)]]
    tracemalloc.start()  # NumPy reports its data buffers to tracemalloc
    try:
        with pytest.raises(ValueError, match=rf"the model needs {expected} bytes .* available"):
            small_model(vector_size=vector_size).fit(docs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 500 * 2**20  # the corpus, never the (V, vector_size) matrices


def test_model_size_is_checked_against_available_memory(monkeypatch):
    """A model smaller than physical but larger than free memory must be refused
    too (it would otherwise be OOM-killed while allocating)."""
    monkeypatch.setattr(memory_module, "available_memory", lambda: 1_000_000)
    docs = random_docs(n_words=20)
    with pytest.raises(ValueError, match=r"needs 1,600,000 bytes .* only 1,000,000 bytes"):
        small_model(vector_size=10_000).fit(docs)
    small_model(vector_size=1_000).fit(docs)  # 160,000 bytes fit
    monkeypatch.setattr(memory_module, "available_memory", lambda: None)  # unknown: no check
    small_model(vector_size=10_000).fit(docs)


def test_available_memory_is_plausible():
    avail = memory_module.available_memory()
    if avail is None:
        pytest.skip("available memory cannot be determined on this platform")
    assert 0 < avail < 2**60


# ---------------------------------------------------- numerical safety
@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
@pytest.mark.parametrize("loss", ["negative_sampling", "nce"])
@pytest.mark.parametrize("learning_rate", [0.025, 0.5, 5.0, 1e6, 1e38, 1e300])
def test_high_learning_rate_is_detected_or_contained(architecture, loss, learning_rate):
    docs = random_docs(n_docs=100, n_words=30, length=20)
    model = small_model(vector_size=16, epochs=3, architecture=architecture, loss=loss,
                        learning_rate=learning_rate)
    try:
        model.fit(docs)
    except ValueError as exc:
        msg = str(exc)
        assert "diverged" in msg and f"learning_rate={learning_rate!r}" in msg
        with pytest.raises(NotFittedError):  # no half-trained, NaN-filled model survives
            model.transform(docs)
        return
    assert learning_rate < 1e6  # absurd rates must not pass silently
    assert model.loss_history_.shape == (3,) and np.isfinite(model.loss_history_).all()
    assert np.isfinite(model.vectors_).all() and np.isfinite(model.output_vectors_).all()
    for pooling in ["mean", "tfidf", "sif"]:
        assert np.isfinite(model.set_params(pooling=pooling).transform(docs)).all()


def test_loss_history_finite_without_any_positive_pair():
    """One-word documents give no (centre, context) pair: the loss is 0, not 0/0."""
    model = small_model(epochs=2).fit([["a"], ["b"], ["a"]])
    np.testing.assert_array_equal(model.loss_history_, [0.0, 0.0])
    assert np.isfinite(model.transform([["a", "b"]])).all()


def test_failed_refit_leaves_estimator_unfitted(fitted):
    """A fit that fails half-way must not leave the old vectors next to a new
    vocabulary: the estimator is unfitted."""
    model = pickle.loads(pickle.dumps(fitted))
    check_is_fitted(model)
    with pytest.raises(ValueError, match="diverged"):
        model.set_params(learning_rate=1e30).fit(random_docs(n_words=15, seed=1))
    with pytest.raises(NotFittedError):
        model.transform(["w1"])
    assert not [k for k in vars(model) if k.endswith("_") and not k.startswith("__")]
    # ... and is usable again.
    model.set_params(learning_rate=0.025).fit(random_docs())
    np.testing.assert_array_equal(model.vectors_, fitted.vectors_)


def test_window_near_int32_limit_does_not_corrupt_memory():
    """A window wider than every sentence is valid (it saturates); even near
    2**31 it must train or raise, never write past the kernel's buffers.
    Run in a child process because the failure corrupts the heap."""
    code = textwrap.dedent(
        """
        import numpy as np
        from skw2v import Word2VecNS
        doc = [f"w{i % 50}" for i in range(10_005)]  # one sentence > one 10,000-token chunk
        try:
            m = Word2VecNS(vector_size=1, window=2**31 - 1, sample_size=1, min_count=1,
                           epochs=1, subsample=0, architecture="cbow", n_jobs=1,
                           random_state=0).fit([doc])
            assert np.isfinite(m.loss_history_).all()
        except ValueError as exc:
            assert "window" in str(exc), exc
        print("OK")
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0 and "OK" in proc.stdout, (proc.returncode, proc.stderr[-2000:])


# ---------------------------------------------------------------- leaks
def test_rss_flat_over_repeated_fits():
    """Lighter run of tools/leak_check.py: 30 fits in a fresh process."""
    script = ROOT / "tools" / "leak_check.py"
    if not script.exists():
        pytest.skip("tools/leak_check.py is not part of this checkout")
    if not Path("/proc/self/statm").exists():
        pytest.skip("RSS is read from /proc (Linux only)")
    proc = subprocess.run(
        [sys.executable, str(script), "--fits", "30", "--warmup", "5", "--tolerance-mb", "8"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "RSS growth" in proc.stdout
