"""Word2VecNS: word2vec with negative sampling as a scikit-learn transformer.

The estimator's contract only: parameters and their rules, fitted attributes,
and fit / partial_fit / transform / score as short orchestrations of the
stages, each in its own module: document checks (_documents), encoding
(_corpus), vocabulary (_vocab), starting weights (_weights), the training
plan (_plan), the epochs (_training), fitted attributes (_fitted), pooling
(_pooling) and scoring (_scoring). The numerics live in the compiled ``_core``.
"""

import inspect
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._corpus import DEFAULT_TOKEN_PATTERN, encode_known, encode_new, make_analyzer
from ._corpus_cache import closes_caches
from ._documents import check_X, checked_tokenizer, iter_documents
from ._file_passes import encode_known_files, fit_files, training_pages
from ._fitted import (InconsistentVersionWarning, fitted_attributes, publish,
                      unfitted_on_failure, weights_attributes)
from ._line_corpus import LineCorpus
from ._params import check_fit_params
from ._persist import read_model, save_model
from ._plan import plan_for
from ._growth import fit_vocabulary, grow_model
from ._pooling import pool, word_weights
from ._pretrained import frozen_mask, preload, pretrained_words
from ._progress import progress_bar
from ._queries import QueryMixin
from ._scoring import held_out_score
from ._threads import effective_n_threads
from ._training import Schedule, callbacks_at_epoch_end, train_epochs
from ._version import __version__
from ._vocab import document_frequency, vocabulary_attributes
from ._weights import continuation_rng, continued_weights, epoch_seeds, initial_weights


class Word2VecNS(QueryMixin, TransformerMixin, BaseEstimator):
    """Word vectors by skip-gram or CBOW with negative sampling (or NCE).

    ``fit(X)`` learns one vector per word of the documents X;
    ``transform(X)`` pools the word vectors of each document into one row,
    so the estimator can sit in a ``Pipeline`` before a classifier.

    Parameters
    ----------
    vector_size : int, default=100
        Dimension of the word vectors.
    window : int, default=5
        Maximum distance between the centre word and a context word.
    sample_size : int, default=5
        Negative (noise) words drawn per positive example.
    power : float, default=0.75
        Exponent of the unigram noise distribution ``count ** power``
        (0 gives uniform noise; negative values favour rare words).
    min_count : int, default=5
        Words seen fewer times are dropped from the vocabulary.
    max_vocab_size : int or None, default=None
        Keep at most this many words (the most frequent) after ``min_count``.
    subsample : float, default=1e-3
        Threshold of word2vec's frequent-word subsampling; 0 disables it.
    epochs : int, default=5
        Passes over the corpus (0: nothing is trained, see ``init_vectors``).
    learning_rate : float, default=0.025
        Initial learning rate; it decays linearly to ``min_learning_rate``
        over all epochs of a ``fit`` (as a function of the position in the
        corpus), and again over the epochs of each ``partial_fit`` call.
    min_learning_rate : float, default=1e-4
        Final learning rate.
    architecture : {"skipgram", "cbow"}, default="skipgram"
        Skip-gram predicts the centre word from each context word; CBOW
        predicts it from the mean of the context vectors (word2vec's CBOW:
        every context word receives the full error of the mean).
    shrink_windows : bool, default=True
        Draw the window radius uniformly in ``[1, window]`` for each centre word.
    loss : {"negative_sampling", "nce"}, default="negative_sampling"
        ``"nce"`` is noise-contrastive estimation with noise distribution q:
        the logit of output word w is ``u_w . v + b_w - log(sample_size * q(w))``
        with a learned output bias ``b`` (``output_bias_``, as TensorFlow's
        ``nce_loss`` biases), so ``u_w . v + b_w`` estimates ``log p(w | context)``.
        The bias starts at the log-frequency of each word among the training
        targets and carries the word-frequency part of that log-probability;
        without it the vectors would spend a direction on word frequency.
        On PTB + Brown, NCE matches negative sampling on WordSim-353, the
        analogies and AG News, and scores lower on raw SimLex-999, which
        rewards that shared direction (benchmarks/results_nce.md).
    noise : {"unigram", "log_uniform"}, default="unigram"
        Noise distribution: ``count ** power``, or Zipfian over frequency
        ranks, ``q(k) = log((k + 2) / (k + 1)) / log(V + 1)``.
    lowercase : bool, default=True
        Lowercase string documents before tokenizing (token lists are used as given).
    token_pattern : str, default=r"(?u)\\b\\w+\\b"
        Regular expression whose matches are the tokens of a string document
        (every run of word characters, one-letter words included).
    tokenizer : callable or None, default=None
        Overrides ``token_pattern``: ``tokenizer(doc) -> list of str``.
    pooling : {"mean", "tfidf", "sif"}, default="mean"
        How ``transform`` combines word vectors: plain mean, idf-weighted mean
        (idf learned in ``fit``), or mean with weights ``a / (a + p(w))``,
        ``a = 1e-3`` and p(w) the word's training frequency (smooth inverse
        frequency, Arora et al. 2017, without the principal-component removal).
    n_jobs : int or None, default=None
        OpenMP threads for training. None uses every available core (lowered
        by ``OMP_NUM_THREADS`` or threadpoolctl limits); -1 all cores, -2 all
        but one. ``n_jobs=1`` with a fixed ``random_state`` is bitwise
        reproducible; with several threads rows are updated hogwild (lock-free),
        so results vary slightly from run to run.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial vectors and all random draws of training.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to train. Fitted arrays are always NumPy arrays.
    verbose : int, default=0
        1 shows a progress bar (words, words/s, current loss).
    callbacks : list of callables or None, default=None
        Each is called as ``callback(estimator, info)`` at the end of every
        epoch, with ``info`` a dict: ``epoch`` (1-based), ``epochs``,
        ``loss`` (mean loss per positive example), ``words`` (centre words
        trained after subsampling), ``seconds`` (of this epoch) and
        ``learning_rate`` (at the end of the epoch). During the call the
        estimator's ``vectors_``, ``output_vectors_``, ``output_bias_`` and
        ``loss_history_`` hold the state so far, so a callback can log or
        ``save`` a checkpoint. Not stored by ``save``.
    init_vectors : Word2VecNS, KeyedVectors-like, mapping, path or None, default=None
        Warm start: words of the new vocabulary found here start from these
        vectors instead of random ones (other words start as usual). With
        ``epochs=0`` nothing is trained: the vocabulary is the words of X
        (``min_count``, ``max_vocab_size``) that have a vector here, so a
        pretrained model serves as a featurizer in a ``Pipeline``. A fitted
        ``Word2VecNS`` (its output vectors are reused too, and its
        ``output_bias_`` when both models use ``loss="nce"``), an object with
        ``index_to_key`` and ``vectors`` (gensim's ``KeyedVectors``), a
        ``{word: vector}`` mapping, or the path of a model file from ``save``
        or of word2vec C-format vectors. The vector size must equal
        ``vector_size``. ``clone`` (and so ``GridSearchCV``) replaces a
        ``Word2VecNS`` given here by an unfitted copy: pass a path instead
        inside model selection. Not stored by ``save``.
    shared_negatives : bool, default=False
        Skip-gram only, CPU only: draw one set of ``sample_size`` negatives per
        centre word and use it for every context word of its window (Ji et al.,
        "Parallelizing Word2Vec in Shared and Distributed Memory", 2016),
        instead of fresh negatives for every (centre, context) pair. Fewer
        random draws and rows that stay in cache; see benchmarks/RESULTS.md
        for its speed and quality.
    batch_window : bool, default=False
        Skip-gram only: the window-batched update (HogBatch, Ji et al. 2016).
        Each centre word draws one set of ``sample_size`` negatives; the
        scores of every context word of its window against the centre and the
        negatives are computed from the rows as they were before the step, and
        each touched row is then written once. Same gradient per pair as the
        default update, applied per window instead of per pair: much faster
        (small matrix products instead of one dot product at a time), and
        ``device="cuda"`` trains the same semantics. Implies shared negatives.
    update_vocabulary : bool, default=False
        ``partial_fit`` grows the vocabulary: counts accumulate over ``fit``
        and every batch, and a word outside the vocabulary gets a new row
        (appended, started as in ``fit``) once its count so far reaches
        ``min_count`` (while ``max_vocab_size`` allows). ``token_counts_``,
        and so the noise distribution and the subsampling, follow the
        counts so far; a new word's idf comes from the batch that added it.
        The counts of the words without a row are ``pending_counts_``, kept
        from a ``fit`` or ``partial_fit`` run with this set. With False,
        ``partial_fit`` keeps the vocabulary and counts of ``fit``.
    freeze_init_vectors : bool, default=False
        The input vectors of words that start from ``init_vectors`` stay
        bitwise unchanged during ``fit`` and ``partial_fit`` (the row lock of
        gensim's ``vectors_lockf``), while the other words and all output
        vectors train. The locked rows are ``frozen_rows_``, so a saved or
        pickled model keeps them locked. CPU only for now.

    Attributes
    ----------
    vocabulary_ : dict
        Token -> row of ``vectors_``.
    index_to_token_ : ndarray of object
        Tokens by row, most frequent first (ties by token).
    token_counts_ : ndarray of int64
        Count of each vocabulary word in the training documents.
    vectors_ : ndarray of float32, shape (V, vector_size)
        Input (word) vectors: the embeddings.
    output_vectors_ : ndarray of float32, shape (V, vector_size)
        Output (context) vectors.
    output_bias_ : ndarray of float32, shape (V,)
        Learned output bias of ``loss="nce"``, added to each output word's
        logit in training and in ``score``. All zeros for negative sampling,
        whose logits have no bias (negative-sampling epochs, e.g. a
        ``partial_fit`` after changing ``loss``, leave it unchanged). Models
        saved or pickled before it existed load with zeros.
    loss_history_ : ndarray of float64, shape (n_epochs_trained,)
        Mean loss per positive example in each epoch of ``fit`` and of the
        ``partial_fit`` calls since.
    idf_ : ndarray of float64, shape (V,)
        Smoothed inverse document frequency, used by ``pooling="tfidf"``.
    n_threads_ : int
        Threads used for training.
    device_ : str
        Device training ran on.
    train_seconds_ : float
        Seconds spent in the training epochs since ``fit`` (vocabulary
        building excluded).
    frozen_rows_ : ndarray of uint8, shape (V,)
        With ``freeze_init_vectors=True`` only: 1 for the input rows that
        started from ``init_vectors`` and are never updated.
    pending_counts_ : dict
        With ``update_vocabulary=True`` only: word -> count so far of the
        words seen but not (yet) in the vocabulary.

    Notes
    -----
    Input is accepted as ``CountVectorizer`` accepts it; a single string is
    rejected (wrap it in a list). ``score`` is a held-out log-likelihood of
    context words, so ``GridSearchCV`` can tune a bare ``Word2VecNS``; inside
    a ``Pipeline`` the final estimator's score is used instead.

    A pickle holds NumPy arrays and plain Python objects only (no training
    corpus) plus the skw2v version; unpickling under another version warns
    with ``InconsistentVersionWarning``. An unpickled model transforms
    identically, in any process.

    Examples
    --------
    >>> from skw2v import Word2VecNS
    >>> docs = ["the cat sat on the mat", "the dog sat on the log"] * 50
    >>> model = Word2VecNS(vector_size=8, min_count=1, epochs=2, n_jobs=1,
    ...                    random_state=0).fit(docs)
    >>> model.transform(["the cat sat", "an unknown word"]).shape
    (2, 8)
    >>> model.score(docs[:10]) < 0
    True
    """

    _parameter_constraints: dict = {
        "vector_size": [Interval(Integral, 1, None, closed="left")],
        "window": [Interval(Integral, 1, None, closed="left")],
        "sample_size": [Interval(Integral, 1, None, closed="left")],
        "power": [Interval(Real, None, None, closed="neither")],
        "min_count": [Interval(Integral, 1, None, closed="left")],
        "max_vocab_size": [Interval(Integral, 1, None, closed="left"), None],
        "subsample": [Interval(Real, 0, None, closed="left")],
        "epochs": [Interval(Integral, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "min_learning_rate": [Interval(Real, 0, None, closed="left")],
        "architecture": [StrOptions({"skipgram", "cbow"})],
        "shrink_windows": ["boolean"],
        "loss": [StrOptions({"negative_sampling", "nce"})],
        "noise": [StrOptions({"unigram", "log_uniform"})],
        "lowercase": ["boolean"],
        "token_pattern": [str],
        "tokenizer": [callable, None],
        "pooling": [StrOptions({"mean", "tfidf", "sif"})],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
        "verbose": ["verbose"],
        "callbacks": [list, tuple, None],
        "init_vectors": "no_validation",  # checked when fit reads it
        "shared_negatives": ["boolean"],
        "batch_window": ["boolean"],
        "update_vocabulary": ["boolean"],
        "freeze_init_vectors": ["boolean"],
    }

    def __init__(
        self, *, vector_size=100, window=5, sample_size=5, power=0.75, min_count=5,
        max_vocab_size=None, subsample=1e-3, epochs=5, learning_rate=0.025,
        min_learning_rate=1e-4, architecture="skipgram", shrink_windows=True,
        loss="negative_sampling", noise="unigram", lowercase=True,
        token_pattern=DEFAULT_TOKEN_PATTERN, tokenizer=None, pooling="mean", n_jobs=None,
        random_state=None, device="cpu", verbose=0, callbacks=None, init_vectors=None,
        shared_negatives=False, batch_window=False, update_vocabulary=False,
        freeze_init_vectors=False,
    ):
        self.vector_size = vector_size
        self.window = window
        self.sample_size = sample_size
        self.power = power
        self.min_count = min_count
        self.max_vocab_size = max_vocab_size
        self.subsample = subsample
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.min_learning_rate = min_learning_rate
        self.architecture = architecture
        self.shrink_windows = shrink_windows
        self.loss = loss
        self.noise = noise
        self.lowercase = lowercase
        self.token_pattern = token_pattern
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.callbacks = callbacks
        self.init_vectors = init_vectors
        self.shared_negatives = shared_negatives
        self.batch_window = batch_window
        self.update_vocabulary = update_vocabulary
        self.freeze_init_vectors = freeze_init_vectors

    def _more_validate_params(self):
        """The cross-parameter rules; returns the device training runs on."""
        return check_fit_params(self.get_params(deep=False))

    @classmethod
    def _from_fitted(cls, params, fitted, *, check_fit_params=False):
        """A fitted estimator from parameters and fitted attributes (a model file,
        imported vectors); ``check_fit_params`` applies fit's rules too."""
        estimator = cls(**params)
        estimator._validate_params()
        if check_fit_params:
            estimator._more_validate_params()  # e.g. n_jobs=0, as fit refuses it
        publish(estimator, fitted)
        return estimator

    def _analyzer(self):
        return make_analyzer(self.lowercase, self.token_pattern,
                             checked_tokenizer(self.tokenizer))

    def _encode_known(self, X):
        """Encode X with the fitted vocabulary (OOV tokens dropped)."""
        X = check_X(X)
        if isinstance(X, LineCorpus):
            return encode_known_files(X, self.index_to_token_, self.vocabulary_,
                                      n_threads=effective_n_threads(self.n_jobs),
                                      verbose=self.verbose, analyzer=self._analyzer())
        return encode_known(iter_documents(X), self._analyzer(), self.vocabulary_)

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_failure
    @closes_caches
    def fit(self, X, y=None):
        """Learn the vocabulary and the word vectors from documents X.

        Ctrl-C (KeyboardInterrupt) stops training within about one chunk of
        work and is re-raised; a fit that raises or is interrupted leaves the
        estimator unfitted (attributes of an earlier fit are removed too).

        Parameters
        ----------
        X : iterable of str or of lists of str, or a path
            Documents: a list, tuple, 1-D array, pandas Series or generator of
            raw strings (tokenized with ``tokenizer`` or ``token_pattern``) or
            of token lists (used as given), or a ``pathlib.Path`` /
            :class:`skw2v.LineCorpus` (one document per line; ``.gz``,
            ``.bz2``, ``.xz`` ok): files are read twice on ``n_jobs``
            threads (counting, then encoding to a temporary on-disk cache
            that training memory-maps and that is removed afterwards).
            Otherwise X is read once.
        y : ignored

        Returns
        -------
        self : Word2VecNS
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_failure
    @closes_caches
    def fit_transform(self, X, y=None):
        """Fit, then pool the vectors of X; same result as ``fit(X).transform(X)``.

        X is read only once (the encoded training corpus is pooled), so a
        generator works here too.
        """
        return self._pool(self._fit(X))

    def _fit(self, X):
        """Fit from scratch; returns the encoded corpus (in-vocabulary ids)."""
        device = self._more_validate_params()
        init = preload(self.init_vectors)  # a file is read once
        pretrained_only = self.epochs == 0 and init is not None
        X = check_X(X)
        df = pending = None
        if isinstance(X, LineCorpus) and not (pretrained_only or self.update_vocabulary):
            corpus, index_to_token, token_counts, df = fit_files(
                X, min_count=self.min_count, max_vocab_size=self.max_vocab_size,
                n_threads=effective_n_threads(self.n_jobs), verbose=self.verbose,
                analyzer=self._analyzer())
        else:
            # (the fast file path keeps neither pending counts nor a pretrained-only vocabulary)
            corpus, index_to_token, token_counts, pending = fit_vocabulary(
                encode_new(iter_documents(X), self._analyzer()), self.min_count,
                self.max_vocab_size, allowed=pretrained_words(init) if pretrained_only else None,
                with_pending=self.update_vocabulary)
        rs = check_random_state(self.random_state)
        weights = initial_weights(index_to_token, token_counts, rs,
                                  vector_size=self.vector_size, loss=self.loss,
                                  subsample=self.subsample, init_vectors=init)
        seeds = epoch_seeds(rs, self.epochs)
        n_threads = effective_n_threads(self.n_jobs)
        if df is None:
            df = document_frequency(corpus.tokens, corpus.offsets, len(index_to_token))
        fitted = {**vocabulary_attributes(index_to_token, token_counts, df, corpus.n_documents),
                  "n_threads_": n_threads, "device_": device}
        if self.freeze_init_vectors:
            if init is None:
                warnings.warn("freeze_init_vectors=True has no effect without init_vectors: "
                              "no row is frozen", UserWarning, stacklevel=3)
            fitted["frozen_rows_"] = frozen_mask(index_to_token.tolist(), pretrained_words(init))
        history, seconds = self._train(corpus, token_counts, weights, seeds, n_threads,
                                       device, fitted, fitted.get("frozen_rows_"))
        # Published only once training succeeded (callbacks aside), so a failed fit
        # leaves no half-fitted model.
        if pending is not None:
            fitted["pending_counts_"] = pending
        publish(self, {**fitted, **weights_attributes(weights, history, seconds)})
        for name in ("frozen_rows_", "pending_counts_"):
            if name not in fitted:
                vars(self).pop(name, None)  # from an earlier fit
        return corpus

    @_fit_context(prefer_skip_nested_validation=True)
    @closes_caches
    def partial_fit(self, X, y=None):
        """Continue training on new documents X (growing the vocabulary if
        ``update_vocabulary``).

        On an unfitted estimator this is ``fit(X)``. Afterwards each call
        runs ``epochs`` passes over X, the learning rate decaying linearly
        from ``learning_rate`` to ``min_learning_rate`` over the passes of
        this call (as gensim's ``train`` does on new sentences), starting
        from the current vectors. Tokens not in ``vocabulary_`` are skipped;
        the vocabulary, ``token_counts_``, ``idf_``, the noise distribution
        and the subsampling probabilities stay those learned by ``fit``,
        unless ``update_vocabulary=True`` (see that parameter).
        ``loss_history_`` gains one entry per epoch and ``train_seconds_``
        accumulates. Parameters are read at each call (``vector_size`` must
        not change). With an int ``random_state`` the sequence of calls is
        reproducible (``n_jobs=1``); each call draws fresh seeds.

        A batch with no in-vocabulary token leaves the model unchanged and
        warns.
        """
        if not hasattr(self, "vectors_"):
            self._fit(X)
            return self
        # _fit_context validates partial_fit only before the first fit.
        self._validate_params()
        device = self._more_validate_params()
        if self.vector_size != self.vectors_.shape[1]:
            raise ValueError(
                f"vector_size={self.vector_size!r} differs from the fitted vectors "
                f"({self.vectors_.shape[1]} dimensions); partial_fit cannot change it, "
                "call fit to start over"
            )
        rs = continuation_rng(self.random_state, len(self.loss_history_))
        seeds = epoch_seeds(rs, self.epochs)
        grown, pending = {}, None
        if self.update_vocabulary:
            corpus, grown, weights, pending = grow_model(
                fitted_attributes(self), getattr(self, "pending_counts_", None),
                encode_new(iter_documents(check_X(X)), self._analyzer()), rs,
                self.get_params(deep=False))
        else:
            corpus = self._encode_known(X)
        if corpus.n_documents == 0:
            raise ValueError("X is empty: it has no documents")
        if len(corpus.tokens) == 0:
            if pending is not None:  # the batch's counts are kept all the same
                publish(self, {"pending_counts_": pending})
            warnings.warn(f"partial_fit: none of the {corpus.n_documents} document(s) has a "
                          "token of the fitted vocabulary; the model is unchanged",
                          UserWarning, stacklevel=2)
            return self
        n_threads = effective_n_threads(self.n_jobs)
        if not self.update_vocabulary:
            weights = continued_weights(fitted_attributes(self), self.loss, self.subsample)
        frozen = (grown.get("frozen_rows_", getattr(self, "frozen_rows_", None))
                  if self.freeze_init_vectors else None)
        # (callbacks may publish the epochs of this call in between)
        old_history, old_seconds = self.loss_history_, self.train_seconds_
        history, seconds = self._train(corpus, grown.get("token_counts_", self.token_counts_),
                                       weights, seeds, n_threads, device, grown, frozen)
        if pending is not None:
            grown["pending_counts_"] = pending
        publish(self, {**grown, **weights_attributes(weights, history, seconds),
                       "loss_history_": np.concatenate([old_history, history]),
                       "train_seconds_": old_seconds + seconds,
                       "n_threads_": n_threads, "device_": device})
        return self

    def _train(self, corpus, token_counts, weights, seeds, n_threads, device, fitted,
               frozen=None):
        """The epochs of fit and partial_fit: ``weights`` (w_in, w_out, bias) are
        trained in place (the bias under NCE only), the input rows marked in
        ``frozen`` (uint8 (V,) or None) excepted; returns (history, seconds)."""
        plan = plan_for(corpus, token_counts, self.get_params(deep=False))
        plan.frozen_rows = frozen
        schedule = Schedule(self.learning_rate, self.min_learning_rate)
        w_in, w_out, bias = weights
        with training_pages(corpus), progress_bar(self.verbose, len(seeds) * plan.n_tokens) as bar:
            return train_epochs(
                plan, (w_in, w_out, bias if self.loss == "nce" else None), seeds, device,
                n_threads, schedule, bar,
                callbacks_at_epoch_end(self, self.callbacks, fitted, weights, len(seeds),
                                       schedule))

    # ------------------------------------------------------------ transform
    @closes_caches
    def transform(self, X):
        """Pool the vectors of each document's words into one row.

        Parameters
        ----------
        X : iterable of str or of lists of str, or a path
            Documents, as for ``fit``; for a path or ``LineCorpus``, one
            row per line.

        Returns
        -------
        ndarray of float32, shape (n_documents, vector_size)
            ``pooling="mean"``: the mean of the word vectors; ``"tfidf"``: the
            idf-weighted mean; ``"sif"``: ``sum a / (a + p(w)) v_w / n_tokens``.
            Out-of-vocabulary tokens are skipped; a document with no known
            token (or no token at all) gets a row of zeros. No length cap.
        """
        check_is_fitted(self)
        return self._pool(self._encode_known(X))

    def _pool(self, corpus):
        weights = word_weights(self.pooling, self.token_counts_, self.idf_)
        return pool(corpus.tokens, corpus.offsets, self.vectors_, weights,
                    normalise_by_weight=self.pooling == "tfidf")

    def get_feature_names_out(self, input_features=None):
        """Output column names: ``word2vecns0 ... word2vecns{vector_size-1}``.

        ``input_features`` is ignored: the input is text, not named columns.
        """
        check_is_fitted(self)
        return np.asarray([f"word2vecns{i}" for i in range(self.vectors_.shape[1])], dtype=object)

    # ---------------------------------------------------------------- score
    @closes_caches
    def score(self, X, y=None):
        """Mean held-out log-likelihood of context words in X (higher is better).

        For every ordered pair (w, c) of in-vocabulary tokens at most
        ``window`` positions apart in one document of X (out-of-vocabulary
        tokens are removed first, as in training; no subsampling, no window
        shrinking), the fitted vectors give a full softmax over the vocabulary

            log p(c | w) = s(w, c) - log sum_c' exp s(w, c'),
            s(w, c) = u_c . v_w + log q(c) - log keep(c),

        with ``v = vectors_``, ``u = output_vectors_``, q the noise
        distribution (``count ** power``; for ``loss="nce"``, whose logits
        already estimate log-probabilities, the learned ``output_bias_[c]``
        takes the place of ``log q(c)``) and keep(c) the
        subsampling keep probability. The mean of log p(c | w) over the pairs
        is returned; ``y`` is ignored.

        Comparable across ``sample_size``, ``power`` and ``subsample`` (s(w, c)
        is log p(c | w) up to a term in w alone, which cancels in the softmax:
        see ``skw2v/_scoring.py``): every model is scored on predicting
        raw-text context words, by a proper distribution; it is not the
        training loss. Scores compare models with the same vocabulary (same
        tokenization, ``min_count``, ``max_vocab_size``) and ``window``. For
        CBOW the single context word stands in for the context mean.
        ``subsample``, ``power``, ``noise``, ``loss`` and ``window`` are read
        from the current parameters.

        Cost: O(n_distinct_words_in_X * V * vector_size) time; score a sample
        of documents when V is in the hundreds of thousands.

        Raises ValueError when X has no pair of in-vocabulary tokens.
        """
        check_is_fitted(self)
        return held_out_score(self._encode_known(X), self.get_params(deep=False),
                              fitted_attributes(self))

    # ------------------------------------------------------------- pickling
    def __getstate__(self):
        # A copy: for classes outside sklearn, BaseEstimator returns __dict__ itself.
        state = dict(super().__getstate__())
        # vocabulary_ is rebuilt from index_to_token_ on load: half the pickle size.
        state.pop("vocabulary_", None)
        state["_skw2v_version"] = __version__
        return state

    def __setstate__(self, state):
        state = dict(state)
        pickled_version = state.pop("_skw2v_version", "pre-0.1")
        if pickled_version != __version__:
            warnings.warn(
                InconsistentVersionWarning(type(self).__name__, pickled_version, __version__)
            )
        fitted = {k: state.pop(k) for k in list(state)
                  if k.endswith("_") and not k.startswith("_")}
        # A pickle from before a parameter existed trains as that version did.
        for name, default in self._get_param_defaults().items():
            state.setdefault(name, default)
        super().__setstate__(state)
        publish(self, fitted)  # rebuilds vocabulary_, fills an older pickle's gaps

    @classmethod
    def _get_param_defaults(cls):
        return {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
                if p.kind == p.KEYWORD_ONLY}

    def save(self, path):
        """Write the fitted model to ``path`` in skw2v's safe file format.

        The file (a zip of plain ``.npy`` arrays and a JSON description,
        with a SHA-256 checksum) never runs code when ``skw2v.load`` opens
        it, unlike a pickle. It is written to a temporary file in the same
        folder and renamed over ``path``, so an interrupted save leaves the
        previous file intact. ``callbacks`` and ``init_vectors`` are stored
        as None, and a ``random_state`` that is a RandomState instance as
        None (they only steer a new fit); a custom ``tokenizer`` callable
        cannot be stored: ``save`` raises ValueError (use pickle/joblib).
        """
        check_is_fitted(self)
        save_model(path, type(self).__name__, self.get_params(deep=False),
                   fitted_attributes(self))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        # Hogwild updates from several threads make the result vary run to run.
        tags.non_deterministic = self.n_jobs != 1
        # Text in, float32 out: no input dtype to preserve.
        tags.transformer_tags.preserves_dtype = []
        return tags


def load(path):
    """Read a model written by ``Word2VecNS.save``: a fitted ``Word2VecNS``.

    Opening a file never runs code from it, and everything read is checked
    (parameter values through the estimator's own validation; the rest as
    ``skw2v._persist.read_model`` says); any failure raises ``ValueError``
    (``skw2v.ModelFileError``) saying what is wrong.
    """
    params, fitted = read_model(
        path, Word2VecNS.__name__, Word2VecNS().get_params(deep=False),
        lambda params: Word2VecNS(**params)._validate_params(),
    )
    return Word2VecNS._from_fitted(params, fitted)
