"""The pipelines that ``Word2VecNS.fit`` and ``partial_fit`` orchestrate, on plain
inputs: the parameters (``get_params()``), the documents and the fitted
attributes so far. Each returns the fitted attributes to publish; none knows
the estimator class (callbacks reach it through ``epoch_end``)."""

import warnings

import numpy as np
from sklearn.utils import check_random_state

from ._corpus import encode_known, encode_new, make_analyzer
from ._documents import check_X, checked_tokenizer, iter_documents
from ._file_passes import encode_known_files, fit_files, training_pages
from ._fitted import weights_attributes
from ._growth import fit_vocabulary, grow_model
from ._line_corpus import LineCorpus
from ._plan import plan_for
from ._pooling import common_components, word_weights
from ._pretrained import frozen_mask, preload, pretrained_words
from ._subwords import check_continuation, match_init_vectors, table_for
from ._progress import progress_bar
from ._threads import effective_n_threads
from ._training import Schedule, train_epochs
from ._vocab import document_frequency, vocabulary_attributes
from ._warm_start import apply_init_ngrams
from ._weights import continuation_rng, continued_weights, epoch_seeds, initial_weights


def analyzer(params):
    """The tokenizer of string documents: ``analyzer(doc) -> list of str``."""
    return make_analyzer(params["lowercase"], params["token_pattern"],
                         checked_tokenizer(params["tokenizer"]))


def encode_known_documents(X, params, index_to_token, vocabulary):
    """Encode X with a fitted vocabulary (OOV tokens dropped)."""
    X = check_X(X)
    if isinstance(X, LineCorpus):
        return encode_known_files(X, index_to_token, vocabulary,
                                  n_threads=effective_n_threads(params["n_jobs"]),
                                  verbose=params["verbose"], analyzer=analyzer(params))
    return encode_known(iter_documents(X), analyzer(params), vocabulary)


def _vocabulary(X, params, init):
    """(corpus, index_to_token, token_counts, df or None, pending counts or None)."""
    pretrained_only = params["epochs"] == 0 and init is not None
    if isinstance(X, LineCorpus) and not (pretrained_only or params["update_vocabulary"]):
        corpus, index_to_token, token_counts, df = fit_files(
            X, min_count=params["min_count"], max_vocab_size=params["max_vocab_size"],
            n_threads=effective_n_threads(params["n_jobs"]), verbose=params["verbose"],
            analyzer=analyzer(params))
        return corpus, index_to_token, token_counts, df, None
    # (the fast file path keeps neither pending counts nor a pretrained-only vocabulary)
    corpus, index_to_token, token_counts, pending = fit_vocabulary(
        encode_new(iter_documents(X), analyzer(params)), params["min_count"],
        params["max_vocab_size"], allowed=pretrained_words(init) if pretrained_only else None,
        with_pending=params["update_vocabulary"])
    return corpus, index_to_token, token_counts, None, pending


def fit_model(X, params, device, epoch_end):
    """Fit from scratch: (fitted attributes, encoded corpus of in-vocabulary ids).

    ``epoch_end(fitted, weights, epochs, schedule)`` gives the ``on_epoch_end``
    of ``train`` (None without callbacks).
    """
    init = preload(params["init_vectors"])  # a file is read once
    corpus, index_to_token, token_counts, df, pending = _vocabulary(check_X(X), params, init)
    rs = check_random_state(params["random_state"])
    table = table_for(params, index_to_token)
    weights = initial_weights(index_to_token, token_counts, rs,
                              vector_size=params["vector_size"], loss=params["loss"],
                              subsample=params["subsample"], init_vectors=init,
                              n_ngram_rows=0 if table is None else params["bucket"])
    if table is not None:
        # a warm-started word's whole-word vector is its init vector: from the
        # source's own and n-gram rows when its subwords match, else by its own row
        if init is not None and not apply_init_ngrams(
                init, index_to_token.tolist(), weights[0], min_n=params["min_n"],
                max_n=params["max_n"], bucket=params["bucket"]):
            match_init_vectors(weights[0], table, index_to_token.tolist(),
                               pretrained_words(init))
        weights = (*weights, table)
    seeds = epoch_seeds(rs, params["epochs"])
    n_threads = effective_n_threads(params["n_jobs"])
    if df is None:
        df = document_frequency(corpus.tokens, corpus.offsets, len(index_to_token))
    fitted = {**vocabulary_attributes(index_to_token, token_counts, df, corpus.n_documents),
              "n_threads_": n_threads, "device_": device}
    if params["freeze_init_vectors"]:
        if init is None:
            warnings.warn("freeze_init_vectors=True has no effect without init_vectors: "
                          "no row is frozen", UserWarning, stacklevel=4)
        fitted["frozen_rows_"] = frozen_mask(index_to_token.tolist(), pretrained_words(init))
    history, seconds = train(corpus, token_counts, weights, seeds, n_threads, device, params,
                             fitted.get("frozen_rows_"), epoch_end(fitted, weights, len(seeds),
                                                                   _schedule(params)))
    if pending is not None:
        fitted["pending_counts_"] = pending
    fitted = {**fitted, **weights_attributes(weights, history, seconds)}
    if params["sif_components"] > 0:
        # learned whatever the pooling, so that pooling="sif" may be set after fit;
        # from the vectors transform pools (with subwords: the words' composed vectors)
        fitted["sif_components_"] = common_components(
            corpus.tokens, corpus.offsets, fitted["vectors_"],
            word_weights("sif", token_counts, None), params["sif_components"])
    return fitted, corpus


def continue_model(X, params, fitted, device, epoch_end):
    """``partial_fit`` of a fitted model (attributes ``fitted``): the attributes to
    publish. A batch with no in-vocabulary token trains nothing and warns."""
    if params["vector_size"] != fitted["vectors_"].shape[1]:
        raise ValueError(
            f"vector_size={params['vector_size']!r} differs from the fitted vectors "
            f"({fitted['vectors_'].shape[1]} dimensions); partial_fit cannot change it, "
            "call fit to start over"
        )
    rs = continuation_rng(params["random_state"], len(fitted["loss_history_"]))
    seeds = epoch_seeds(rs, params["epochs"])
    grown, pending = {}, None
    if params["update_vocabulary"]:
        corpus, grown, weights, pending = grow_model(
            fitted, fitted.get("pending_counts_"),
            encode_new(iter_documents(check_X(X)), analyzer(params)), rs, params)
    else:
        corpus = encode_known_documents(X, params, fitted["index_to_token_"],
                                        fitted["vocabulary_"])
    if corpus.n_documents == 0:
        raise ValueError("X is empty: it has no documents")
    if len(corpus.tokens) == 0:
        warnings.warn(f"partial_fit: none of the {corpus.n_documents} document(s) has a "
                      "token of the fitted vocabulary; the model is unchanged",
                      UserWarning, stacklevel=3)
        # the batch's counts are kept all the same
        return {} if pending is None else {"pending_counts_": pending}
    n_threads = effective_n_threads(params["n_jobs"])
    if not params["update_vocabulary"]:
        check_continuation(params, fitted)
        weights = continued_weights(fitted, params["loss"], params["subsample"])
        table = table_for(params, fitted["index_to_token_"])
        if table is not None:
            weights = (*weights, table)
    frozen = (grown.get("frozen_rows_", fitted.get("frozen_rows_"))
              if params["freeze_init_vectors"] else None)
    # (the history so far is read before callbacks may publish the epochs of this call)
    old_history, old_seconds = fitted["loss_history_"], fitted["train_seconds_"]
    history, seconds = train(corpus, grown.get("token_counts_", fitted["token_counts_"]),
                             weights, seeds, n_threads, device, params, frozen,
                             epoch_end(grown, weights, len(seeds), _schedule(params)))
    if pending is not None:
        grown["pending_counts_"] = pending
    return {**grown, **weights_attributes(weights, history, seconds),
            "loss_history_": np.concatenate([old_history, history]),
            "train_seconds_": old_seconds + seconds, "n_threads_": n_threads, "device_": device}


def _schedule(params):
    return Schedule(params["learning_rate"], params["min_learning_rate"])


def train(corpus, token_counts, weights, seeds, n_threads, device, params, frozen=None,
          on_epoch_end=None):
    """The epochs of fit and partial_fit: ``weights`` (w_in, w_out, bias) are
    trained in place (the bias under NCE only), the input rows marked in
    ``frozen`` (uint8 (V,) or None) excepted; returns (history, seconds)."""
    plan = plan_for(corpus, token_counts, params)
    plan.frozen_rows = frozen
    w_in, w_out, bias = weights[:3]
    if len(weights) > 3:  # subwords: the CSR table of w_in's rows
        plan.subword_indptr, plan.subword_ids = weights[3]
    with training_pages(corpus), progress_bar(params["verbose"], len(seeds) * plan.n_tokens) as bar:
        return train_epochs(plan, (w_in, w_out, bias if params["loss"] == "nce" else None),
                            seeds, device, n_threads, _schedule(params), bar, on_epoch_end)
