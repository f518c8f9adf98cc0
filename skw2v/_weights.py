"""The starting point of a fit: random input vectors, zero output vectors, the
NCE output bias, and the warm start from ``init_vectors``."""

import numpy as np

from ._memory import check_model_fits
from ._vocab import keep_probabilities
from ._warm_start import apply_init_vectors


def initial_output_bias(token_counts, loss, subsample):
    """Starting value of ``output_bias_`` (float32, (V,)).

    Zeros for negative sampling, whose logits have no bias. For NCE, the
    log-frequency of each word among the training targets,
    ``log(count(w) keep(w) / sum(count keep))``: with ``u . v = 0`` the
    model then predicts ``p(w | c) = p(w)``, the optimum of NCE among
    models that ignore the context, and the vectors are left to learn what
    the context adds (a PMI-like term) instead of first spending updates
    on each word's frequency.
    """
    if loss != "nce":
        return np.zeros(len(token_counts), dtype=np.float32)
    kept = np.asarray(token_counts, dtype=np.float64) * keep_probabilities(
        token_counts, subsample)
    return np.log(kept / kept.sum()).astype(np.float32)


def initial_weights(index_to_token, token_counts, rs, *, vector_size, loss, subsample,
                    init_vectors, n_ngram_rows=0):
    """Fresh ``(w_in, w_out, output_bias)`` for a vocabulary, warm-started from
    ``init_vectors`` (see ``Word2VecNS``; its output bias only under NCE).

    Draws one integer from ``rs`` (a RandomState). Refuses, before allocating,
    a model larger than the available memory. ``n_ngram_rows`` (subwords'
    ``bucket``) rows follow the V word rows of ``w_in``, drawn alike (fastText).
    """
    n_vocab, dim = len(index_to_token), vector_size
    check_model_fits(n_vocab, dim, n_ngram_rows)
    init = np.random.default_rng(rs.randint(np.iinfo(np.int32).max))
    # uniform(-1, 1) / d, gensim's initial scale: word2vec.c's uniform(-0.5, 0.5) / d
    # costs ~0.003 analogy accuracy on PTB + Brown (benchmarks/RESULTS.md, section 1).
    # in place (the same float32 operations): no temporaries of a 2M-bucket matrix
    w_in = init.random((n_vocab + n_ngram_rows, dim), dtype=np.float32)
    w_in *= 2.0
    w_in -= 1.0
    w_in /= dim
    w_out = np.zeros((n_vocab, dim), dtype=np.float32)
    bias = initial_output_bias(token_counts, loss, subsample)
    apply_init_vectors(init_vectors, index_to_token.tolist(), w_in, w_out,
                       bias if loss == "nce" else None)
    return w_in, w_out, bias


def continued_weights(fitted, loss, subsample):
    """The weights a partial_fit trains: copies of the fitted ones, so that a
    diverged or interrupted call leaves the model intact (and read-only, e.g.
    memory-mapped, fitted arrays are fine)."""
    bias = fitted["output_bias_"].copy()
    if fitted.get("ngram_vectors_") is not None:
        w_in = np.concatenate([fitted["own_vectors_"], fitted["ngram_vectors_"]])
        return w_in, fitted["output_vectors_"].copy(), continued_bias(fitted, bias, loss,
                                                                      subsample)
    if loss == "nce" and not np.any(bias):
        # switched to NCE after a fit without a learned bias (negative sampling,
        # imported vectors): start it where fit would
        bias = initial_output_bias(fitted["token_counts_"], loss, subsample)
    return fitted["vectors_"].copy(), fitted["output_vectors_"].copy(), bias


def continued_bias(fitted, bias, loss, subsample):
    if loss == "nce" and not np.any(bias):
        return initial_output_bias(fitted["token_counts_"], loss, subsample)
    return bias


def continuation_rng(random_state, n_epochs_done):
    """The RandomState of a partial_fit call after ``n_epochs_done`` epochs: distinct
    for each call, reproducible for an int ``random_state``."""
    if isinstance(random_state, np.random.RandomState):
        return random_state
    if random_state is None:
        return np.random.RandomState()
    return np.random.RandomState([int(random_state), n_epochs_done])


def epoch_seeds(rs, epochs):
    """One kernel seed per epoch, drawn from ``rs`` (a RandomState)."""
    return rs.randint(0, np.iinfo(np.int64).max, size=epochs, dtype=np.int64)
