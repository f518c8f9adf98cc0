"""skw2v.evaluation against gensim's KeyedVectors on the same vectors."""

import math
from pathlib import Path

import numpy as np
import pytest

from skw2v import Word2VecNS
from skw2v.evaluation import evaluate_analogies, evaluate_word_pairs

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def _keyed_vectors(vectors, tokens):
    gensim_models = pytest.importorskip("gensim.models")
    kv = gensim_models.KeyedVectors(vector_size=vectors.shape[1])
    kv.add_vectors(list(tokens), vectors)
    return kv


def _planted_vectors(questions, extra_tokens, dim=50, seed=0):
    """Vectors where b ~ a + r(section), so analogies are partly solvable.

    Words reused across sections get conflicting offsets: some questions are
    answered right, some wrong, which is what makes agreement informative.
    """
    rng = np.random.default_rng(seed)
    vocab = {}
    for tok in extra_tokens:
        vocab.setdefault(tok, rng.normal(size=dim))
    relation = {}
    for section, (a, b, c, d) in questions:
        r = relation.setdefault(section, rng.normal(size=dim))
        for x, y in ((a, b), (c, d)):
            vocab.setdefault(x, rng.normal(size=dim))
            vocab.setdefault(y, vocab[x] + r + 0.6 * rng.normal(size=dim))
    tokens = list(vocab)
    order = rng.permutation(len(tokens))  # "frequency" order unrelated to the file
    tokens = [tokens[i] for i in order]
    vectors = np.stack([vocab[t] for t in tokens]).astype(np.float32)
    return vectors, tokens


def _read_questions(path):
    out, section = [], None
    for line in Path(path).read_text().splitlines():
        if line.startswith(":"):
            section = line[1:].strip()
        elif len(line.split()) == 4:
            out.append((section, line.split()))
    return out


def _gensim_sections(sections):
    return [(s["section"], len(s["correct"]), len(s["incorrect"])) for s in sections]


def _our_sections(sections):
    # gensim lists only sections it saw a question for, plus the total.
    return [(s["section"], s["correct"], s["incorrect"]) for s in sections]


SYNTHETIC_ANALOGIES = """\
: capitals
# a comment line the reader must skip
athens greece paris france
paris france rome italy
rome italy berlin germany
berlin germany madrid spain
madrid spain athens greece
Athens Greece Oslo Norway
oslo norway nowhereville nowhereland
: plural
cat cats dog dogs
dog dogs car cars
car cars tree trees
tree trees cat cats
house houses cat cats
"""

SYNTHETIC_PAIRS = """\
# Word 1\tWord 2\tHuman (mean)
cat\tdog\t7.5
car\ttree\t1.2
Paris\tfrance\t8.0
rome\titaly\t8.2
cats\tcat\t9.1
house\tnowhereland\t3.0
dogs\tcar\t2.2
madrid\tspain\t8.1
greece\tcats\t0.5

berlin\tgermany\t8.4
"""


@pytest.fixture
def synthetic(tmp_path):
    analogies = tmp_path / "analogies.txt"
    analogies.write_text(SYNTHETIC_ANALOGIES)
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(SYNTHETIC_PAIRS)
    questions = [(s, [w.lower() for w in q]) for s, q in _read_questions(analogies)
                 if "oslo" not in [w.lower() for w in q]]
    # "Paris" (a case variant) and some distractors; oslo/norway unknown.
    vectors, tokens = _planted_vectors(
        questions, ["the", "of", "Paris", "ITALY", "house", "houses", "zebra"], dim=16)
    return vectors, tokens, analogies, pairs


@pytest.mark.parametrize("case_insensitive", [True, False])
@pytest.mark.parametrize("restrict_vocab", [None, 12, 300000])
def test_word_pairs_agree_with_gensim_synthetic(synthetic, case_insensitive, restrict_vocab):
    vectors, tokens, _, pairs = synthetic
    kv = _keyed_vectors(vectors, tokens)
    rv = len(tokens) if restrict_vocab is None else restrict_vocab
    g_pearson, g_spearman, g_oov = kv.evaluate_word_pairs(
        str(pairs), restrict_vocab=rv, case_insensitive=case_insensitive)
    pearson, spearman, oov = evaluate_word_pairs(
        (vectors, tokens), pairs, restrict_vocab=restrict_vocab,
        case_insensitive=case_insensitive)
    assert oov * 100 == pytest.approx(g_oov)
    if math.isnan(g_spearman[0]):
        assert math.isnan(spearman)
    else:
        assert pearson == pytest.approx(g_pearson[0], abs=1e-5)
        assert spearman == pytest.approx(g_spearman[0], abs=1e-5)


@pytest.mark.parametrize("case_insensitive", [True, False])
@pytest.mark.parametrize("restrict_vocab", [None, 18, 30000])
def test_analogies_agree_with_gensim_synthetic(synthetic, case_insensitive, restrict_vocab):
    vectors, tokens, analogies, _ = synthetic
    kv = _keyed_vectors(vectors, tokens)
    rv = len(tokens) if restrict_vocab is None else restrict_vocab
    g_score, g_sections = kv.evaluate_word_analogies(
        str(analogies), restrict_vocab=rv, case_insensitive=case_insensitive)
    score, sections = evaluate_analogies(
        (vectors, tokens), analogies, restrict_vocab=restrict_vocab,
        case_insensitive=case_insensitive, return_sections=True)
    if sections[-1]["correct"] + sections[-1]["incorrect"]:
        assert score == pytest.approx(g_score)
    else:  # gensim reports 0.0 when no question is answerable; we report NaN
        assert math.isnan(score) and g_score == 0.0
    assert _our_sections(sections) == _gensim_sections(g_sections)
    total = sections[-1]
    n_questions = len(_read_questions(analogies))
    assert total["correct"] + total["incorrect"] + total["oov"] == n_questions
    assert total["oov_ratio"] == pytest.approx(total["oov"] / n_questions)


def test_planted_structure_is_found(synthetic):
    """Independent of gensim: the planted analogies are mostly solved."""
    vectors, tokens, analogies, pairs = synthetic
    score, sections = evaluate_analogies((vectors, tokens), analogies, return_sections=True)
    assert 0.5 <= score <= 1.0
    assert sections[-1]["oov"] == 2  # both questions that use oslo/norway/nowhere*
    _, _, oov = evaluate_word_pairs((vectors, tokens), pairs)
    assert oov == pytest.approx(1 / 10)  # house/nowhereland


def test_case_variant_of_a_question_word_is_not_an_answer(tmp_path):
    # "Paris" is nearest to paris - france + italy... but gensim (and we) skip it
    # as a case variant of the question word and answer with the next one.
    tokens = ["paris", "france", "italy", "rome", "Paris", "london"]
    v = {"paris": [1, 0, 0, 0], "france": [0, 1, 0, 0], "italy": [0, 1, 0.2, 0],
         "rome": [0.9, 0, 0.5, 0.1], "Paris": [1, 0, 0.25, 0], "london": [0, 0, 0, 1]}
    vectors = np.array([v[t] for t in tokens], dtype=np.float32)
    path = tmp_path / "q.txt"
    path.write_text(": capitals\nfrance paris italy rome\n")
    assert evaluate_analogies((vectors, tokens), path) == 1.0
    assert evaluate_analogies((vectors, tokens), path, case_insensitive=False) == 0.0
    kv = _keyed_vectors(vectors, tokens)
    assert kv.evaluate_word_analogies(str(path))[0] == 1.0
    assert kv.evaluate_word_analogies(str(path), case_insensitive=False)[0] == 0.0


def test_accepts_fitted_model_and_keyed_vectors(tmp_path):
    docs = [["a", "b", "c", "d", "e", "f"] * 3] * 20
    model = Word2VecNS(vector_size=8, min_count=1, epochs=1, n_jobs=1, random_state=0).fit(docs)
    pairs = tmp_path / "p.tsv"
    pairs.write_text("a\tb\t1\nc\td\t2\ne\tf\t3\nA\tc\t0.5\n")
    from_model = evaluate_word_pairs(model, pairs)
    from_tuple = evaluate_word_pairs((model.vectors_, model.index_to_token_), pairs)
    assert from_model == from_tuple
    assert from_model[2] == 0.0
    analogies = tmp_path / "q.txt"
    analogies.write_text(": s\na b c d\nb c d e\nc d e f\n")
    acc = evaluate_analogies(model, analogies)
    assert acc == evaluate_analogies((model.vectors_, list(model.index_to_token_)), analogies)
    assert acc in (0.0, 1 / 3, 2 / 3, 1.0)
    kv = _keyed_vectors(model.vectors_, model.index_to_token_)
    assert evaluate_analogies(kv, analogies) == acc


def test_bad_inputs(tmp_path):
    vectors = np.eye(4, dtype=np.float32)
    tokens = ["a", "b", "c", "d"]
    model = (vectors, tokens)
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        evaluate_word_pairs(model, tmp_path / "missing.txt")
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        evaluate_analogies(model, tmp_path / "missing.txt")

    bad_pairs = tmp_path / "bad_pairs.tsv"
    bad_pairs.write_text("a\tb\t1.0\nc d 2.0\n")
    with pytest.raises(ValueError, match="line 2 of .*bad_pairs.tsv"):
        evaluate_word_pairs(model, bad_pairs)
    bad_score = tmp_path / "bad_score.tsv"
    bad_score.write_text("a\tb\thigh\n")
    with pytest.raises(ValueError, match="line 1 of"):
        evaluate_word_pairs(model, bad_score)
    empty = tmp_path / "empty.tsv"
    empty.write_text("# only a comment\n\n")
    with pytest.raises(ValueError, match="no word pairs"):
        evaluate_word_pairs(model, empty)

    bad_q = tmp_path / "bad_q.txt"
    bad_q.write_text(": s\na b c d\na b c\n")
    with pytest.raises(ValueError, match="line 3 of .*4 words"):
        evaluate_analogies(model, bad_q)
    no_header = tmp_path / "no_header.txt"
    no_header.write_text("a b c d\n")
    with pytest.raises(ValueError, match="before any ': section' header"):
        evaluate_analogies(model, no_header)
    no_q = tmp_path / "no_q.txt"
    no_q.write_text(": s\n")
    with pytest.raises(ValueError, match="no analogy questions"):
        evaluate_analogies(model, no_q)

    good = tmp_path / "q.txt"
    good.write_text(": s\na b c d\n")
    with pytest.raises(ValueError, match="restrict_vocab must be a positive integer or None, got 0"):
        evaluate_analogies(model, good, restrict_vocab=0)
    with pytest.raises(ValueError, match="restrict_vocab"):
        evaluate_word_pairs(model, good, restrict_vocab=2.5)
    with pytest.raises(TypeError, match="case_insensitive must be a bool"):
        evaluate_analogies(model, good, case_insensitive="yes")
    with pytest.raises(TypeError, match="model must be a fitted Word2VecNS"):
        evaluate_analogies("not a model", good)
    with pytest.raises(ValueError, match="shape"):
        evaluate_analogies((vectors, tokens[:3]), good)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        evaluate_analogies(Word2VecNS(), good)


def test_all_unknown_gives_nan_and_full_oov(tmp_path):
    model = (np.eye(3, dtype=np.float32), ["a", "b", "c"])
    pairs = tmp_path / "p.tsv"
    pairs.write_text("x\ty\t1\na\tz\t2\n")
    pearson, spearman, oov = evaluate_word_pairs(model, pairs)
    assert math.isnan(pearson) and math.isnan(spearman) and oov == 1.0
    q = tmp_path / "q.txt"
    q.write_text(": s\nx y z w\n")
    acc, sections = evaluate_analogies(model, q, return_sections=True)
    assert math.isnan(acc)
    assert sections[-1] == {"section": "Total accuracy", "correct": 0, "incorrect": 0,
                            "oov": 1, "oov_ratio": 1.0}


# ------------------------------------------------------------------ real files
needs_data = pytest.mark.skipif(not (DATA / "questions-words.txt").is_file(),
                                reason="../shared/data not present")


@needs_data
@pytest.mark.data
def test_real_analogies_agree_with_gensim():
    questions = _read_questions(DATA / "questions-words.txt")
    # Lowercased planted vectors for most question words, a few left out (OOV),
    # filler words in between so that restrict_vocab cuts the vocabulary.
    # (restrict_vocab is kept small: gensim answers one question at a time.)
    rng = np.random.default_rng(1)
    keep = [q for q in questions if rng.random() < 0.97]
    qs = [(s, [w.lower() for w in q]) for s, q in keep]
    vectors, tokens = _planted_vectors(qs, [f"w{i}" for i in range(2500)], dim=100, seed=2)
    score, sections = evaluate_analogies((vectors, tokens), DATA / "questions-words.txt",
                                         restrict_vocab=3000, return_sections=True)
    kv = _keyed_vectors(vectors, tokens)
    g_score, g_sections = kv.evaluate_word_analogies(
        str(DATA / "questions-words.txt"), restrict_vocab=3000)
    assert 0.05 < score < 0.95
    assert 0.2 < sections[-1]["oov_ratio"] < 0.8
    assert score == pytest.approx(g_score, abs=1e-12)
    assert _our_sections(sections) == _gensim_sections(g_sections)
    assert sum(s["correct"] + s["incorrect"] + s["oov"] for s in sections[:-1]) == 19544


@needs_data
@pytest.mark.data
@pytest.mark.parametrize("name", ["wordsim353.tsv", "simlex999.txt"])
def test_real_word_pairs_agree_with_gensim(name):
    path = DATA / name
    words = []
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            words += line.split("\t")[:2]
    rng = np.random.default_rng(3)
    vocab = sorted({w.lower() for w in words})
    vocab = [w for w in vocab if rng.random() < 0.9]  # ~10% unknown words
    vectors = rng.normal(size=(len(vocab), 30)).astype(np.float32)
    kv = _keyed_vectors(vectors, vocab)
    g_pearson, g_spearman, g_oov = kv.evaluate_word_pairs(str(path))
    pearson, spearman, oov = evaluate_word_pairs((vectors, vocab), path)
    assert 0 < oov < 0.5
    assert oov * 100 == pytest.approx(g_oov)
    assert pearson == pytest.approx(g_pearson[0], abs=1e-5)
    assert spearman == pytest.approx(g_spearman[0], abs=1e-5)
