"""Word2VecNS: word2vec with negative sampling as a scikit-learn transformer.

The estimator's contract only: parameters, fitted attributes, and short
orchestrations of the stages (_fit_stages: the fit pipelines; _pooling,
_scoring, _fitted, _persist); the numerics live in the compiled ``_core``.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._corpus import DEFAULT_TOKEN_PATTERN
from ._corpus_cache import closes_caches
from ._fit_stages import analyzer, continue_model, encode_known_documents, fit_model
from ._fitted import (InconsistentVersionWarning, fitted_attributes, pickle_state,  # noqa: F401
                      publish, unfitted_on_failure, unpickle_state)
from ._params import check_fit_params
from ._persist import read_model, save_model
from ._pooling import feature_names, fitted_components, pool_documents
from ._queries import QueryMixin
from ._scoring import held_out_score
from ._subwords import encode_with_ngrams, has_subwords, oov_vector, pooling_tables
from ._training import callbacks_at_epoch_end
from ._version import __version__


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
        ``"nce"``: noise-contrastive estimation, logit ``u_w . v + b_w -
        log(sample_size * q(w))`` with a learned output bias ``b``
        (``output_bias_``, started at the log-frequency of each word).
        Quality against negative sampling: benchmarks/results_nce.md.
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
    pooling : {"mean", "tfidf", "sif", "max", "mean_max"}, default="mean"
        How ``transform`` combines word vectors: mean; idf-weighted mean;
        ``"sif"``: smooth inverse frequency weights ``1e-3 / (1e-3 + p(w))``
        summed over the tokens and divided by their number, minus the
        projection on the common components (Arora et al. 2017; see
        ``sif_components``); ``"max"``: element-wise maximum; ``"mean_max"``:
        mean and maximum side by side, ``2 * vector_size`` columns (SWEM-concat,
        Shen et al. 2018).
    sif_components : int, default=1
        Common components removed by ``pooling="sif"``: the first right
        singular vectors (not centred) of the SIF rows of the training
        documents, learned by every ``fit`` whatever ``pooling`` says (so
        pooling may be switched after fit; ``sif_components_``) and kept by
        ``partial_fit`` (a small batch would give a degenerate component;
        refit to relearn them). 0 disables; at most ``vector_size``.
    n_jobs : int or None, default=None
        OpenMP threads for training (None: every available core, lowered by
        ``OMP_NUM_THREADS``/threadpoolctl; -1 all, -2 all but one). ``n_jobs=1``
        with a fixed ``random_state`` is bitwise reproducible; more threads
        update rows hogwild, so results vary slightly run to run.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial vectors and all random draws of training.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to train. Fitted arrays are always NumPy arrays.
    verbose : int, default=0
        1 shows a progress bar (words, words/s, current loss).
    callbacks : list of callables or None, default=None
        ``callback(estimator, info)`` after every epoch; ``info`` has
        ``epoch`` (1-based), ``epochs``, ``loss``, ``words``, ``seconds`` and
        ``learning_rate``, and the fitted arrays hold the state so far (a
        callback can ``save`` a checkpoint). Not stored by ``save``.
    init_vectors : Word2VecNS, KeyedVectors-like, mapping, path or None, default=None
        Warm start: words found here start from these vectors (a fitted
        ``Word2VecNS``, whose output vectors and NCE bias are reused too;
        gensim's ``KeyedVectors``; a ``{word: vector}`` mapping; the path of a
        ``save`` file or of word2vec vectors; pass a path inside
        ``GridSearchCV``, since ``clone`` unfits an estimator). With
        ``epochs=0`` nothing trains: the vocabulary is the words of X that
        have a vector here (a pretrained featurizer). Not stored by ``save``.
        With subwords (``max_n > 0``), a source trained with subwords of the
        same ``min_n``, ``max_n`` and ``bucket`` (a ``Word2VecNS`` or its
        ``save`` file, a fastText ``.bin``) also gives its n-gram rows and its
        words' own rows, so words it lacks start from its n-gram vectors; with
        other n-gram settings a warning names them and only its whole-word
        vectors are used (the n-gram rows start at random).
    shared_negatives : bool, default=False
        Skip-gram, CPU only: one set of negatives per centre word, shared by
        its window's (centre, context) pairs, which are updated one after
        another (Ji et al. 2016). About 1.25x faster at gensim's quality
        than per pair; with ``batch_window="auto"`` it selects that update.
    batch_window : {"auto"} or bool, default="auto"
        Skip-gram: the window-batched update (HogBatch, Ji et al. 2016): one
        set of negatives per centre word; each context's scores taken from the
        output rows as they were at the start of the centre's step, its input
        step against those rows plus the output steps of the contexts before
        it (as the per-pair update sees them), as small matrix products, each
        touched output row written once; ``device="cuda"`` trains the same.
        About 1.6x the per-pair update's speed at gensim's quality on PTB +
        Brown (benchmarks/RESULTS.md, section 0). ``"auto"``: batched unless
        ``shared_negatives`` is True (that takes the per-pair update);
        ``False``: per pair, fresh negatives for every
        (centre, context) pair as word2vec does. ``True`` overrides
        ``shared_negatives``. CBOW ignores it.
    update_vocabulary : bool, default=False
        ``partial_fit`` grows the vocabulary: counts accumulate, and a word
        gets a new row (started as in ``fit``) once its count so far reaches
        ``min_count`` (``max_vocab_size`` allowing); counts, noise and
        subsampling follow the counts so far (``pending_counts_``).
    freeze_init_vectors : bool, default=False
        Input vectors that start from ``init_vectors`` stay bitwise unchanged
        in ``fit`` and ``partial_fit`` (gensim's ``vectors_lockf``;
        ``frozen_rows_``), on the CPU and the GPU, with every architecture
        and ``batch_window``. With subwords only the words' own rows are
        locked: the n-gram rows, copied from ``init_vectors`` or not, are
        shared with the other words and keep training.
    min_n : int, default=3
        Shortest character n-gram of the subwords (see ``max_n``).
    max_n : int, default=0
        Longest character n-gram; 0 turns subwords off (plain word2vec).
        With ``max_n >= min_n`` a word's input vector is the mean of its own
        row and of the rows of the n-grams of ``"<word>"`` (fastText,
        Bojanowski et al. 2017; fastText's ``minn 3 maxn 6``), each hashed
        into one of ``bucket`` rows, and every one of those rows is trained.
        ``vectors_`` then holds those means, and words never seen in training
        get a vector from their n-grams in ``get_vector``, the queries and
        ``transform``. Skip-gram then runs fastText's direction: the centre
        word's input predicts each context word (own negatives per pair), its
        rows gathered once and updated once per window, their mean taking
        each pair's step in between (fastText writes and re-reads them after
        every pair; ``shared_negatives`` does not apply). CPU and
        GPU; not with ``batch_window=True`` (skip-gram; ``"auto"`` then takes
        this per-window update), nor ``update_vocabulary``; frozen rows
        (``freeze_init_vectors``) lock the words' own rows, on the CPU only.
    bucket : int, default=2_000_000
        Rows the n-grams are hashed into (fastText's ``-bucket``). Memory:
        ``bucket x vector_size x 4`` bytes on top of the word vectors, i.e.
        800 MB at the default 2M buckets and ``vector_size=100`` (checked
        before allocating); a few 100k buckets suit small corpora.

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
        Learned output bias of ``loss="nce"`` (zeros for negative sampling).
    loss_history_ : ndarray of float64, shape (n_epochs_trained,)
        Mean loss per positive example in each epoch of ``fit`` and of the
        ``partial_fit`` calls since.
    idf_ : ndarray of float64, shape (V,)
        Smoothed inverse document frequency, used by ``pooling="tfidf"``.
    sif_components_ : ndarray of float32, shape (sif_components, vector_size)
        The common components of ``pooling="sif"``: unit rows by decreasing
        singular value (zero rows past the rank of the training documents).
        Absent when ``sif_components=0``, and for models made by
        ``skw2v.dask.fit`` or imported from word vectors.
    n_threads_ : int
        Threads used for training.
    device_ : str
        Device training ran on.
    train_seconds_ : float
        Seconds spent in the training epochs since ``fit``.
    ngram_vectors_ : ndarray of float32, shape (bucket, vector_size)
        With subwords (``max_n > 0``) only: the n-gram rows.
    own_vectors_ : ndarray of float32, shape (V, vector_size)
        With subwords only: each word's own input row (``vectors_`` is the
        mean of it and the word's n-gram rows).
    frozen_rows_ : ndarray of uint8, shape (V,)
        With ``freeze_init_vectors=True`` only: 1 for the input rows that
        started from ``init_vectors`` and are never updated.
    pending_counts_ : dict
        With ``update_vocabulary=True`` only: word -> count so far of the
        words seen but not (yet) in the vocabulary.

    Notes
    -----
    Input is accepted as ``CountVectorizer`` accepts it (a bare string is
    rejected). ``score`` is a held-out log-likelihood, so ``GridSearchCV``
    can tune a bare ``Word2VecNS``. A pickle holds NumPy arrays and plain
    objects plus the skw2v version (another version warns); an unpickled
    model transforms identically.

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
        "pooling": [StrOptions({"mean", "tfidf", "sif", "max", "mean_max"})],
        "sif_components": [Interval(Integral, 0, None, closed="left")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
        "verbose": ["verbose"],
        "callbacks": [list, tuple, None],
        "init_vectors": "no_validation",  # checked when fit reads it
        "shared_negatives": ["boolean"],
        "batch_window": ["boolean", StrOptions({"auto"})],
        "update_vocabulary": ["boolean"],
        "freeze_init_vectors": ["boolean"],
        "min_n": [Interval(Integral, 1, None, closed="left")],
        "max_n": [Interval(Integral, 0, None, closed="left")],
        "bucket": [Interval(Integral, 1, 2**31 - 1, closed="both")],
    }

    def __init__(
        self, *, vector_size=100, window=5, sample_size=5, power=0.75, min_count=5,
        max_vocab_size=None, subsample=1e-3, epochs=5, learning_rate=0.025,
        min_learning_rate=1e-4, architecture="skipgram", shrink_windows=True,
        loss="negative_sampling", noise="unigram", lowercase=True,
        token_pattern=DEFAULT_TOKEN_PATTERN, tokenizer=None, pooling="mean", sif_components=1,
        n_jobs=None,
        random_state=None, device="cpu", verbose=0, callbacks=None, init_vectors=None,
        shared_negatives=False, batch_window="auto", update_vocabulary=False,
        freeze_init_vectors=False, min_n=3, max_n=0, bucket=2_000_000,
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
        self.sif_components = sif_components
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
        self.min_n = min_n
        self.max_n = max_n
        self.bucket = bucket

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
        return analyzer(self.get_params(deep=False))

    def _encode_known(self, X):
        """Encode X with the fitted vocabulary (OOV tokens dropped)."""
        return encode_known_documents(X, self.get_params(deep=False), self.index_to_token_,
                                      self.vocabulary_)

    def _epoch_end(self, fitted, weights, epochs, schedule):
        return callbacks_at_epoch_end(self, self.callbacks, fitted, weights, epochs, schedule)

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_failure
    @closes_caches
    def fit(self, X, y=None):
        """Learn the vocabulary and the word vectors from documents X.

        Ctrl-C stops training within about one chunk of work and is
        re-raised; a fit that raises or is interrupted leaves the estimator
        unfitted.

        Parameters
        ----------
        X : iterable of str or of lists of str, or a path
            Raw strings (tokenized) or token lists (used as given), as a list,
            tuple, 1-D array, Series or generator (read once); or a
            ``pathlib.Path`` / :class:`skw2v.LineCorpus` (one document per
            line), read on ``n_jobs`` threads through an on-disk cache.
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
        corpus = self._fit(X)
        return self._pool(corpus, None, self._sif_components())

    def _fit(self, X):
        """Fit from scratch; returns the encoded corpus (in-vocabulary ids)."""
        device = self._more_validate_params()
        # Published only once training succeeded (callbacks aside), so a failed fit
        # leaves no half-fitted model.
        fitted, corpus = fit_model(X, self.get_params(deep=False), device, self._epoch_end)
        publish(self, fitted)
        for name in ("frozen_rows_", "pending_counts_", "sif_components_"):
            if name not in fitted:
                vars(self).pop(name, None)  # from an earlier fit
        return corpus

    @_fit_context(prefer_skip_nested_validation=True)
    @closes_caches
    def partial_fit(self, X, y=None):
        """Continue training on new documents X (growing the vocabulary if
        ``update_vocabulary``).

        On an unfitted estimator this is ``fit(X)``. Afterwards each call
        runs ``epochs`` passes over X from the current vectors, the learning
        rate decaying from ``learning_rate`` to ``min_learning_rate`` within
        the call (as gensim's ``train``). Unknown tokens are skipped, and the
        vocabulary and counts stay those of ``fit`` unless
        ``update_vocabulary=True``. Parameters are read at each call
        (``vector_size`` must not change). A batch with no known token leaves
        the model unchanged and warns.
        """
        if not hasattr(self, "vectors_"):
            self._fit(X)
            return self
        # _fit_context validates partial_fit only before the first fit.
        self._validate_params()
        device = self._more_validate_params()
        publish(self, continue_model(X, self.get_params(deep=False), fitted_attributes(self),
                                     device, self._epoch_end))
        return self

    # ------------------------------------------------------------ transform
    @closes_caches
    def transform(self, X):
        """Pool the vectors of each document's words into one row.

        X is read as by ``fit`` (a path gives one row per line). Returns an
        ndarray of float32, shape (n_documents, vector_size) (``2 *
        vector_size`` for ``pooling="mean_max"``), pooled as ``pooling``
        says; unknown tokens are skipped, and a document without a known
        token gets zeros.
        """
        check_is_fitted(self)
        components = self._sif_components()  # before reading X: a wrong setting fails fast
        if has_subwords(self):  # unseen words get their n-gram vectors
            corpus, oov = encode_with_ngrams(X, self._analyzer(), self.vocabulary_,
                                             self.ngram_vectors_, self.min_n, self.max_n)
            return self._pool(corpus, oov, components)
        return self._pool(self._encode_known(X), None, components)

    def _sif_components(self):
        """The components ``pooling="sif"`` removes (None for the other poolings)."""
        if self.pooling != "sif":
            return None
        return fitted_components(self.sif_components, getattr(self, "sif_components_", None))

    def _pool(self, corpus, oov=None, components=None):
        vectors, token_counts, idf = pooling_tables(self, oov)
        return pool_documents(corpus.tokens, corpus.offsets, vectors, self.pooling,
                              token_counts, idf, components)

    # ------------------------------------------------- unseen words (subwords)
    def get_vector(self, token, norm=False):
        """The vector of ``token`` (a copy, float32), of unit length if ``norm``.

        With subwords a word outside the vocabulary gets the mean of its
        n-gram rows (fastText); KeyError if it has none (or without subwords).
        """
        vector = self._unseen_vector(token)
        if vector is None:
            return super().get_vector(token, norm=norm)
        return vector / max(float(np.linalg.norm(vector)), 1e-12) if norm else vector

    def similarity(self, a, b):
        """Cosine similarity of two words (unseen words: n-gram vectors with subwords)."""
        if self._unseen_vector(a) is None and self._unseen_vector(b) is None:
            return super().similarity(a, b)
        u, v = self.get_vector(a, norm=True), self.get_vector(b, norm=True)
        return float(np.dot(u.astype(np.float64), v))

    def most_similar(self, positive=None, negative=None, *args, **kwargs):
        """See ``QueryMixin.most_similar``; with subwords an unseen word in
        ``positive``/``negative`` counts as its unit n-gram vector."""
        return super().most_similar(self._unseen_as_vectors(positive),
                                    self._unseen_as_vectors(negative), *args, **kwargs)

    def _unseen_vector(self, token):
        """The n-gram vector of a string token outside the vocabulary, else None."""
        check_is_fitted(self)
        if not (has_subwords(self) and isinstance(token, str)) or \
                self._find_row(token) is not None:
            return None
        return oov_vector(self, token)

    def _unseen_as_vectors(self, items):
        if isinstance(items, str):
            items = [items]
        if not isinstance(items, (list, tuple)):
            return items
        out = []
        for item in items:
            vector = self._unseen_vector(item) if isinstance(item, str) else None
            out.append(item if vector is None
                       else vector / max(float(np.linalg.norm(vector)), 1e-12))
        return out

    def get_feature_names_out(self, input_features=None):
        """Output column names: ``word2vecns0 ... word2vecns{vector_size-1}``;
        ``word2vecns_max0 ...`` for ``pooling="max"``; ``word2vecns_mean0 ...``
        then ``word2vecns_max0 ...`` for ``"mean_max"``.

        ``input_features`` is ignored: the input is text, not named columns.
        """
        check_is_fitted(self)
        return np.asarray(feature_names(self.pooling, self.vectors_.shape[1]), dtype=object)

    # ---------------------------------------------------------------- score
    @closes_caches
    def score(self, X, y=None):
        """Mean held-out log-likelihood of context words in X (higher is better).

        The mean over ordered pairs (w, c) of known tokens at most ``window``
        apart of ``log p(c | w) = s(w, c) - log sum_c' exp s(w, c')``, with
        ``s(w, c) = u_c . v_w + log q(c) - log keep(c)`` (``output_bias_[c]``
        for ``log q(c)`` with NCE). Comparable across ``sample_size``,
        ``power`` and ``subsample`` for models sharing the vocabulary and
        ``window`` (derivation: ``skw2v/_scoring.py``); ``y`` is ignored.
        Raises ValueError when X has no pair of known tokens.
        """
        check_is_fitted(self)
        return held_out_score(self._encode_known(X), self.get_params(deep=False),
                              fitted_attributes(self))

    # ------------------------------------------------------------- pickling
    def __getstate__(self):
        # (for classes outside sklearn, BaseEstimator returns __dict__ itself: copied there)
        return pickle_state(super().__getstate__(), __version__)

    def __setstate__(self, state):
        # A pickle from before sif_components removed none: it transforms as it did.
        state = {"sif_components": 0, **state}
        state, fitted = unpickle_state(state, type(self).__name__, __version__,
                                       type(self).__init__)
        super().__setstate__(state)
        publish(self, fitted)  # rebuilds vocabulary_, fills an older pickle's gaps

    def save(self, path):
        """Write the fitted model to ``path`` in skw2v's safe file format.

        A zip of ``.npy`` arrays and a checksummed JSON description, written
        atomically; ``skw2v.load`` never runs code from it, unlike a pickle.
        ``callbacks``, ``init_vectors`` and a RandomState are stored as None;
        a custom ``tokenizer`` cannot be stored (ValueError: use pickle).
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
    # A file from before sif_components removed none: it transforms as it did.
    return Word2VecNS._from_fitted({"sif_components": 0, **params}, fitted)
