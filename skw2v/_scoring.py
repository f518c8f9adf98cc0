"""Held-out log-likelihood of context words: the measure behind ``Word2VecNS.score``.

For every ordered pair (w, c) of in-vocabulary tokens at most ``window``
positions apart in one document, the learned vectors define a distribution
over the whole vocabulary,

    log p(c | w) = s(w, c) - log sum_c' exp s(w, c'),
    s(w, c) = u_c . v_w + prior[c],

with v the input vectors, u the output vectors and ``prior`` a per-word
offset that maps the logits back to raw-text probabilities (see
``context_prior``). The mean over pairs is returned.

Why it is comparable across ``sample_size``, ``power`` and ``subsample``, with
``prior[c] = log q(c) - log keep(c)`` (q the noise distribution, keep the
subsampling keep probability): at the optimum of negative sampling
``u_c . v_w = log p(c | w) + log keep(c) - log q(c) - log k`` (Levy &
Goldberg 2014; the keep(c) term is approximate, since subsampling also widens
windows), so s(w, c) equals ``log p(c | w)`` up to a term that depends only
on w, which cancels in the softmax; in particular ``log k = log(sample_size)``
is such a constant shift. So every fitted model is scored on the same event,
predicting raw-text context words, by a proper probability distribution: a
higher score means better held-out predictions, whichever ``sample_size`` or
``power`` produced the vectors. It is not the training loss, whose value
depends on k and q. For ``loss="nce"``, whose logits already estimate
log-probabilities, the learned output bias takes the place of ``log q(c)``.

Cost: the pairs are counted once into a sparse (V, V) matrix M, so the
numerator is ``sum(v * (M @ u))``; the normaliser needs one row of logits per
distinct centre word, computed in blocks of full matrix products, so the time
is O(n_distinct_centres * V * d) and the memory O(nnz(M) + block * V).
"""

import numpy as np
import scipy.sparse as sp

from ._vocab import keep_probabilities, noise_probabilities

_BLOCK_FLOATS = 1 << 22  # logits per block (16 MiB of float32)


def pair_counts(tokens, offsets, n_vocab, window):
    """Symmetric sparse (V, V) counts of ordered (centre, context) pairs.

    Pairs are taken within each document (``offsets`` delimit documents),
    at distances 1..window, in both directions; no subsampling and no window
    shrinking, so every pair a full window sees counts exactly once.
    """
    tokens = np.asarray(tokens, dtype=np.int64)
    n = len(tokens)
    doc = np.repeat(np.arange(len(offsets) - 1, dtype=np.int64), np.diff(offsets))
    counts = sp.csr_matrix((n_vocab, n_vocab), dtype=np.float64)
    for d in range(1, min(window, max(n - 1, 0)) + 1):
        same = doc[d:] == doc[:-d]
        left, right = tokens[:-d][same], tokens[d:][same]
        if len(left) == 0:
            continue
        ones = np.ones(len(left), dtype=np.float64)
        counts = counts + sp.csr_matrix((ones, (left, right)), shape=(n_vocab, n_vocab))
    counts = counts + counts.T
    counts.sum_duplicates()
    return counts.tocsr()


def context_prior(noise_q, keep_prob, loss, output_bias=None):
    """Per-context-word offset that turns the learned logits into log p(c | w) + const.

    At the optimum of negative sampling with k noise words drawn from q,
    ``u_c . v_w = log p_train(c | w) - log(k q(c))`` (Levy & Goldberg 2014,
    with q the smoothed unigram); NCE subtracts ``log(k q(c))`` inside the
    kernel and adds its learned output bias b, so there
    ``u_c . v_w + b_c = log p_train(c | w)``. Subsampling keeps a context
    word c with probability keep(c), so ``p_train(c | w)`` is proportional
    to ``p(c | w) keep(c)``. Hence

        log p(c | w) = u_c . v_w + log q(c) [NS] + b_c [NCE] - log keep(c) + const(w),

    and const(w), which contains ``log k``, cancels in the softmax.
    """
    prior = -np.log(np.asarray(keep_prob, dtype=np.float64))
    if loss == "negative_sampling":
        prior += np.log(np.asarray(noise_q, dtype=np.float64))
    elif output_bias is not None:
        prior += np.asarray(output_bias, dtype=np.float64)
    return prior


def mean_log_likelihood(counts, w_in, w_out, prior):
    """Mean of log p(c | w) over the pairs counted in ``counts`` (sparse (V, V)).

    Returns ``(mean, n_pairs)``; ``mean`` is nan when there is no pair.
    """
    counts = sp.csr_matrix(counts)
    n_pairs = float(counts.sum())
    if n_pairs == 0:
        return float("nan"), 0
    w_in = np.asarray(w_in, dtype=np.float32)
    w_out = np.asarray(w_out, dtype=np.float32)
    prior = np.asarray(prior, dtype=np.float64)
    n_vocab = w_in.shape[0]

    context_sums = np.asarray(counts.astype(np.float32) @ w_out, dtype=np.float64)
    numerator = float(np.einsum("ij,ij->", w_in.astype(np.float64), context_sums))
    numerator += float(np.asarray(counts.sum(axis=0)).ravel() @ prior)

    per_centre = np.asarray(counts.sum(axis=1)).ravel()
    centres = np.flatnonzero(per_centre)
    prior32 = prior.astype(np.float32)
    block = max(1, _BLOCK_FLOATS // max(n_vocab, 1))
    normaliser = 0.0
    for start in range(0, len(centres), block):
        rows = centres[start:start + block]
        logits = w_in[rows] @ w_out.T
        logits += prior32
        top = logits.max(axis=1, keepdims=True)
        logits -= top
        np.exp(logits, out=logits)
        lse = np.log(logits.sum(axis=1, dtype=np.float64)) + top[:, 0]
        normaliser += float(per_centre[rows] @ lse)
    return (numerator - normaliser) / n_pairs, int(n_pairs)


def held_out_score(corpus, params, fitted):
    """``Word2VecNS.score`` of ``corpus`` (encoded with the fitted vocabulary), for a
    model with parameters ``params`` and fitted attributes ``fitted``."""
    counts = pair_counts(corpus.tokens, corpus.offsets, len(fitted["index_to_token_"]),
                         params["window"])
    token_counts = fitted["token_counts_"]
    prior = context_prior(
        noise_probabilities(token_counts, params["noise"], params["power"]),
        keep_probabilities(token_counts, params["subsample"]),
        params["loss"],
        fitted["output_bias_"],
    )
    mean, n_pairs = mean_log_likelihood(counts, fitted["vectors_"], fitted["output_vectors_"],
                                        prior)
    if n_pairs == 0:
        raise ValueError(
            f"cannot score X: its {corpus.n_documents} document(s) have no two "
            f"in-vocabulary tokens within window={params['window']} of each other"
        )
    return mean
