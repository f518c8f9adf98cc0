"""Intrinsic evaluation of word vectors: word-pair similarity and analogies.

The conventions are gensim's (``KeyedVectors.evaluate_word_pairs`` and
``evaluate_word_analogies``) so that scores compare directly:

- only the ``restrict_vocab`` most frequent words count as known; with
  ``case_insensitive`` words are compared upper-cased and a word stands for its
  most frequent case variant among them;
- pairs or questions with an unknown word are skipped, and the skipped share
  is reported;
- analogies ``a : b :: c : ?`` are answered by 3CosAdd, the known word that
  maximises ``cos(x, b) + cos(x, c) - cos(x, a)``, excluding a, b and c.

Differences: malformed lines raise ``ValueError`` (gensim logs and skips them),
the OOV ratio is a fraction in [0, 1] (gensim reports a percentage), and a
score with nothing to score is NaN (gensim reports 0.0 for analogies).
"""

from numbers import Integral
from pathlib import Path

import numpy as np
from scipy import stats
from sklearn.utils.validation import check_is_fitted

__all__ = ["evaluate_analogies", "evaluate_word_pairs"]

_BATCH = 512  # analogy questions scored per matrix product (~60 MB of scores at 30k words)
_TOPN = 5  # candidates gensim examines per question


def _vectors_and_tokens(model):
    """Return (float32 vectors, list of tokens) from any supported model."""
    from ._estimator import Word2VecNS

    if isinstance(model, Word2VecNS) or hasattr(model, "index_to_token_"):
        check_is_fitted(model, ["vectors_", "index_to_token_"])
        vectors, tokens = model.vectors_, model.index_to_token_
    elif hasattr(model, "vectors") and hasattr(model, "index_to_key"):  # gensim KeyedVectors
        vectors, tokens = model.vectors, model.index_to_key
    elif isinstance(model, tuple) and len(model) == 2:
        vectors, tokens = model
    else:
        raise TypeError(
            "model must be a fitted Word2VecNS, a gensim KeyedVectors or a "
            f"(vectors, tokens) tuple, got {type(model).__name__}"
        )
    vectors = np.asarray(vectors, dtype=np.float32)
    tokens = list(tokens)
    if vectors.ndim != 2 or vectors.shape[0] != len(tokens):
        raise ValueError(
            f"model vectors must have shape (n_tokens, dim) with n_tokens={len(tokens)}, "
            f"got shape {vectors.shape}"
        )
    return vectors, tokens


def _check_args(restrict_vocab, case_insensitive):
    if restrict_vocab is not None and (
        not isinstance(restrict_vocab, Integral) or isinstance(restrict_vocab, bool)
        or restrict_vocab < 1
    ):
        raise ValueError(f"restrict_vocab must be a positive integer or None, got {restrict_vocab!r}")
    if not isinstance(case_insensitive, (bool, np.bool_)):
        raise TypeError(f"case_insensitive must be a bool, got {case_insensitive!r}")


def _known_words(tokens, restrict_vocab, case_insensitive):
    """Map each known key to the row standing for it, and each row to that row.

    Rows are assumed sorted by decreasing frequency, so the first row with a
    given (upper-cased) key is its most frequent variant.
    """
    n = len(tokens) if restrict_vocab is None else min(restrict_vocab, len(tokens))
    key_row, representative = {}, np.empty(n, dtype=np.int64)
    for i, token in enumerate(tokens[:n]):
        key = token.upper() if case_insensitive else token
        representative[i] = key_row.setdefault(key, i)
    return key_row, representative


def _open_lines(path, encoding):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"evaluation file {str(path)!r} does not exist or is not a file")
    with open(path, encoding=encoding) as f:
        yield from enumerate(f, start=1)


def _unit_rows(vectors):
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, np.finfo(np.float32).tiny)


def evaluate_word_pairs(model, path, restrict_vocab=300000, case_insensitive=True,
                        delimiter="\t", encoding="utf8"):
    """Correlate the model's cosine similarities with human similarity scores.

    Parameters
    ----------
    model : Word2VecNS, gensim KeyedVectors or tuple (vectors, tokens)
        Fitted vectors; rows sorted by decreasing frequency.
    path : str or Path
        One ``word1<delimiter>word2<delimiter>score`` per line; lines starting
        with ``#`` and blank lines are ignored (WordSim-353, SimLex-999 format).
    restrict_vocab : int or None, default=300000
        Only the first (most frequent) ``restrict_vocab`` words are known.
    case_insensitive : bool, default=True
        Compare words upper-cased; a word stands for its most frequent variant.
    delimiter : str, default="\\t"
    encoding : str, default="utf8"

    Returns
    -------
    pearson : float
        Pearson correlation of model and human scores over the known pairs.
    spearman : float
        Spearman rank correlation over the known pairs.
    oov_ratio : float
        Fraction of pairs skipped because a word is unknown (gensim: x 100).
        The correlations are NaN when fewer than two pairs are known.
    """
    _check_args(restrict_vocab, case_insensitive)
    vectors, tokens = _vectors_and_tokens(model)
    key_row, _ = _known_words(tokens, restrict_vocab, case_insensitive)
    left, right, gold, n_oov = [], [], [], 0
    for line_no, line in _open_lines(path, encoding):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.rstrip("\r\n").split(delimiter)
        try:
            if len(fields) != 3:
                raise ValueError
            a, b, score = fields[0].strip(), fields[1].strip(), float(fields[2])
        except ValueError:
            raise ValueError(
                f"line {line_no} of {str(path)!r} is not 'word1{delimiter!r}word2"
                f"{delimiter!r}score': {line.rstrip()!r}"
            ) from None
        if case_insensitive:
            a, b = a.upper(), b.upper()
        if a in key_row and b in key_row:
            left.append(key_row[a])
            right.append(key_row[b])
            gold.append(score)
        else:
            n_oov += 1
    n_pairs = len(gold) + n_oov
    if n_pairs == 0:
        raise ValueError(f"no word pairs found in {str(path)!r}")
    if len(gold) < 2:
        return float("nan"), float("nan"), n_oov / n_pairs
    unit = _unit_rows(vectors.astype(np.float64))
    model_sim = np.einsum("ij,ij->i", unit[left], unit[right])
    pearson = stats.pearsonr(gold, model_sim).statistic
    spearman = stats.spearmanr(gold, model_sim).statistic
    return float(pearson), float(spearman), n_oov / n_pairs


def _read_analogies(path, encoding, case_insensitive):
    """Yield ("section", name) for each header and ("question", [a, b, c, d])."""
    seen_header = False
    for line_no, line in _open_lines(path, encoding):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith(":"):
            seen_header = True
            yield "section", text[1:].strip()
            continue
        words = text.split()
        if len(words) != 4:
            raise ValueError(
                f"line {line_no} of {str(path)!r} is not an analogy 'a b c d' "
                f"(4 words): {text!r}"
            )
        if not seen_header:
            raise ValueError(
                f"line {line_no} of {str(path)!r} comes before any ': section' header"
            )
        yield "question", [w.upper() for w in words] if case_insensitive else words


def _predict(unit, representative, queries):
    """3CosAdd answers (rows, -1 for none) for question rows ``queries`` (n, 3) = (a, b, c).

    The best word other than the exact rows a, b, c; if it is a case variant
    of a question word (gensim skips those), gensim's rule decides among the
    top-5 candidates of that question.
    """
    answers = np.empty(len(queries), dtype=np.int64)
    rows = np.arange(_BATCH)
    for start in range(0, len(queries), _BATCH):
        q = queries[start:start + _BATCH]
        target = unit[q[:, 1]] + unit[q[:, 2]] - unit[q[:, 0]]
        scores = target @ unit.T
        r = rows[:len(q)]
        for col in range(3):
            scores[r, q[:, col]] = -np.inf
        best = np.argmax(scores, axis=1)
        answers[start:start + len(q)] = best
        exclude = representative[q]
        clash = (representative[best][:, None] == exclude).any(axis=1)
        clash |= ~np.isfinite(scores[r, best])
        for i in np.flatnonzero(clash):
            order = np.argsort(-scores[i], kind="stable")
            top = [t for t in order[:_TOPN + 3] if np.isfinite(scores[i, t])][:_TOPN]
            ok = [t for t in top if representative[t] not in exclude[i]]
            # With no acceptable candidate gensim compares the last one it saw.
            answers[start + i] = ok[0] if ok else (top[-1] if top else -1)
    return answers


def evaluate_analogies(model, path, restrict_vocab=30000, case_insensitive=True,
                       encoding="utf8", return_sections=False):
    """Accuracy on analogy questions ``a b c d`` (a is to b as c is to d).

    Parameters
    ----------
    model : Word2VecNS, gensim KeyedVectors or tuple (vectors, tokens)
        Fitted vectors; rows sorted by decreasing frequency.
    path : str or Path
        The word2vec ``questions-words.txt`` format: ``: section`` header lines,
        then one question of four words per line; ``#`` lines are comments.
    restrict_vocab : int or None, default=30000
        Answers are searched among, and questions must use, the first
        ``restrict_vocab`` (most frequent) words.
    case_insensitive : bool, default=True
        Compare words upper-cased; a word stands for its most frequent variant.
    encoding : str, default="utf8"
    return_sections : bool, default=False
        Also return per-section counts.

    Returns
    -------
    accuracy : float
        Correct answers / questions with every word known (NaN if none).
    sections : list of dict, only if ``return_sections``
        One dict per section in file order, then a last one named
        ``"Total accuracy"``; keys ``section``, ``correct``, ``incorrect``
        (questions evaluated and missed), ``oov`` (questions skipped) and
        ``oov_ratio`` (``oov / (correct + incorrect + oov)``).
    """
    _check_args(restrict_vocab, case_insensitive)
    if not isinstance(return_sections, (bool, np.bool_)):
        raise TypeError(f"return_sections must be a bool, got {return_sections!r}")
    vectors, tokens = _vectors_and_tokens(model)
    key_row, representative = _known_words(tokens, restrict_vocab, case_insensitive)
    names, n_oov, section_of, questions = [], [], [], []
    for kind, item in _read_analogies(path, encoding, case_insensitive):
        if kind == "section":
            names.append(item)
            n_oov.append(0)
            continue
        rows = [key_row.get(w) for w in item]
        if None in rows:
            n_oov[-1] += 1
        else:
            questions.append(rows)
            section_of.append(len(names) - 1)
    if not section_of and not any(n_oov):
        raise ValueError(f"no analogy questions found in {str(path)!r}")

    questions = np.asarray(questions, dtype=np.int64).reshape(-1, 4)
    section_of = np.asarray(section_of, dtype=np.int64)
    hit = np.zeros(len(questions), dtype=bool)
    if len(questions):
        unit = _unit_rows(vectors[:len(representative)])
        answers = _predict(unit, representative, questions[:, :3])
        found = answers >= 0
        hit[found] = representative[answers[found]] == representative[questions[found, 3]]
    correct = np.bincount(section_of[hit], minlength=len(names))
    asked = np.bincount(section_of, minlength=len(names))
    accuracy = float(hit.mean()) if len(hit) else float("nan")
    if not return_sections:
        return accuracy

    def entry(name, c, n, oov):
        total = n + oov
        return {"section": name, "correct": int(c), "incorrect": int(n - c), "oov": int(oov),
                "oov_ratio": oov / total if total else 0.0}

    sections = [entry(name, correct[i], asked[i], n_oov[i]) for i, name in enumerate(names)]
    sections.append(entry("Total accuracy", correct.sum(), asked.sum(), sum(n_oov)))
    return accuracy, sections
