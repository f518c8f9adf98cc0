"""Word2VecNS: word2vec with negative sampling as a scikit-learn transformer.

Orchestration only: validation, vocabulary, the epoch loop and pooling live
in small helper modules; the numerics live in the compiled ``_core``.
"""

import functools
import os
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._alias import alias_table, kernel_thresholds
from ._corpus import (
    DEFAULT_TOKEN_PATTERN,
    check_documents,
    encode_known,
    encode_new,
    make_analyzer,
    remap,
)
from ._threads import effective_n_threads
from ._training import TrainingPlan, run_epoch
from ._vocab import document_frequency, keep_probabilities, noise_distribution, select_vocabulary

SIF_A = 1e-3  # the "a" of smooth inverse frequency weights a / (a + p(w)) (Arora et al. 2017)


def _unfitted_on_failure(fit):
    """A fit that raises (bad input, divergence, Ctrl-C) leaves the estimator
    unfitted rather than mixing attributes of the old and the new fit."""

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
                delattr(self, name)
            raise

    return wrapper


class Word2VecNS(TransformerMixin, BaseEstimator):
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
        Passes over the corpus.
    learning_rate : float, default=0.025
        Initial learning rate; it decays linearly to ``min_learning_rate``
        over all epochs, as a function of the position in the corpus.
    min_learning_rate : float, default=1e-4
        Final learning rate.
    architecture : {"skipgram", "cbow"}, default="skipgram"
        Skip-gram predicts the centre word from each context word; CBOW
        predicts it from the mean of the context vectors (word2vec's CBOW:
        every context word receives the full error of the mean).
    shrink_windows : bool, default=True
        Draw the window radius uniformly in ``[1, window]`` for each centre word.
    loss : {"negative_sampling", "nce"}, default="negative_sampling"
        ``"nce"`` subtracts ``log(sample_size * q(w))`` from every logit
        (noise-contrastive estimation with noise distribution q).
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
        (idf learned in ``fit``), or mean with weights ``a / (a + p(w))``.
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
    loss_history_ : ndarray of float64, shape (epochs,)
        Mean loss per positive example in each epoch.
    idf_ : ndarray of float64, shape (V,)
        Smoothed inverse document frequency, used by ``pooling="tfidf"``.
    n_threads_ : int
        Threads used for training.
    device_ : str
        Device training ran on.
    train_seconds_ : float
        Seconds spent in the training epochs (vocabulary building excluded).
    """

    _parameter_constraints: dict = {
        "vector_size": [Interval(Integral, 1, None, closed="left")],
        "window": [Interval(Integral, 1, None, closed="left")],
        "sample_size": [Interval(Integral, 1, None, closed="left")],
        "power": [Interval(Real, None, None, closed="neither")],
        "min_count": [Interval(Integral, 1, None, closed="left")],
        "max_vocab_size": [Interval(Integral, 1, None, closed="left"), None],
        "subsample": [Interval(Real, 0, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
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
    }

    def __init__(
        self,
        *,
        vector_size=100,
        window=5,
        sample_size=5,
        power=0.75,
        min_count=5,
        max_vocab_size=None,
        subsample=1e-3,
        epochs=5,
        learning_rate=0.025,
        min_learning_rate=1e-4,
        architecture="skipgram",
        shrink_windows=True,
        loss="negative_sampling",
        noise="unigram",
        lowercase=True,
        token_pattern=DEFAULT_TOKEN_PATTERN,
        tokenizer=None,
        pooling="mean",
        n_jobs=None,
        random_state=None,
        device="cpu",
        verbose=0,
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

    # ------------------------------------------------------------------ fit
    def _more_validate_params(self):
        if self.min_learning_rate > self.learning_rate:
            raise ValueError(
                f"min_learning_rate={self.min_learning_rate!r} must not exceed "
                f"learning_rate={self.learning_rate!r}"
            )
        if self.n_jobs == 0:
            raise ValueError("n_jobs=0 is not valid: use None, a positive or a negative int")
        if not np.isfinite(self.power):
            raise ValueError(f"power must be finite, got {self.power!r}")
        if self.device == "cuda":
            raise ValueError(
                "device='cuda' is not available: this build of skw2v has no GPU "
                "training path yet; use device='cpu'"
            )

    def _analyzer(self):
        return make_analyzer(self.lowercase, self.token_pattern, self.tokenizer)

    @_fit_context(prefer_skip_nested_validation=True)
    @_unfitted_on_failure
    def fit(self, X, y=None):
        """Learn the vocabulary and the word vectors from documents X.

        X is an iterable of documents, each a string or a list of string
        tokens. It is read once, so a generator works. ``y`` is ignored.

        Ctrl-C (KeyboardInterrupt) stops training within about one chunk of
        work and is re-raised; a fit that raises or is interrupted leaves the
        estimator unfitted (attributes of an earlier fit are removed too).
        """
        self._more_validate_params()
        X = check_documents(X)
        raw = encode_new(X, self._analyzer())
        if len(raw.tokens) == 0:
            raise ValueError(
                f"X has no tokens: {raw.n_documents} document(s), all empty after tokenization"
            )
        counts = np.bincount(raw.tokens, minlength=len(raw.types)).astype(np.int64)
        kept = select_vocabulary(raw.types, counts, self.min_count, self.max_vocab_size)
        if len(kept) == 0:
            raise ValueError(
                f"the vocabulary is empty: X has {len(raw.types)} distinct token(s), "
                f"the most frequent seen {int(counts.max())} time(s), and "
                f"min_count={self.min_count} removed them all; lower min_count"
            )
        lookup = np.full(len(raw.types), -1, dtype=np.int32)
        lookup[kept] = np.arange(len(kept), dtype=np.int32)
        corpus = remap(raw, lookup)
        types = raw.types
        del raw

        n_vocab, dim = len(kept), self.vector_size
        _check_model_fits(n_vocab, dim)
        rs = check_random_state(self.random_state)
        init = np.random.default_rng(rs.randint(np.iinfo(np.int32).max))
        w_in = (init.random((n_vocab, dim), dtype=np.float32) - 0.5) / dim
        w_out = np.zeros((n_vocab, dim), dtype=np.float32)

        self.index_to_token_ = np.array([types[i] for i in kept], dtype=object)
        self.vocabulary_ = {t: r for r, t in enumerate(self.index_to_token_.tolist())}
        self.token_counts_ = counts[kept]
        n_docs = corpus.n_documents
        df = document_frequency(corpus.tokens, corpus.offsets, n_vocab)
        self.idf_ = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
        self.n_threads_ = effective_n_threads(self.n_jobs)
        self.device_ = "cpu"

        history, seconds = self._train(corpus, w_in, w_out, rs)
        self.vectors_ = w_in
        self.output_vectors_ = w_out
        self.loss_history_ = np.asarray(history, dtype=np.float64)
        self.train_seconds_ = seconds
        return self

    def _noise(self):
        """Noise probabilities q (float64, sum 1) over the fitted vocabulary."""
        if self.noise == "unigram":
            return noise_distribution(self.token_counts_, self.power)
        ranks = np.arange(len(self.token_counts_), dtype=np.float64)
        q = np.log1p(1.0 / (ranks + 1.0)) / np.log(len(ranks) + 1.0)
        return q / q.sum()

    def _plan(self, corpus):
        q = self._noise()
        accept, alias = alias_table(q)
        with np.errstate(divide="ignore"):
            log_kq = np.log(self.sample_size * q).astype(np.float32)
        return TrainingPlan(
            corpus,
            keep_probabilities(self.token_counts_, self.subsample),
            kernel_thresholds(accept),
            alias,
            log_kq,
            self.architecture,
            self.loss,
            self.window,
            bool(self.shrink_windows),
            self.sample_size,
        )

    def _train(self, corpus, w_in, w_out, rs):
        plan = self._plan(corpus)
        seeds = rs.randint(0, np.iinfo(np.int64).max, size=self.epochs, dtype=np.int64)
        total = self.epochs * plan.n_tokens
        history, seconds = [], 0.0
        bar = _progress_bar(self.verbose, total)
        try:
            for epoch in range(self.epochs):
                result = run_epoch(
                    plan, w_in, w_out,
                    lr_start=self.learning_rate, lr_end=self.min_learning_rate,
                    progress_offset=epoch * plan.n_tokens, progress_total=max(total, 1),
                    seed=int(seeds[epoch]), n_threads=self.n_threads_,
                    progress=None if bar is None else bar.update_with_loss,
                )
                seconds += result.seconds
                if not (np.isfinite(result.loss) and np.isfinite(w_in).all()
                        and np.isfinite(w_out).all()):
                    raise ValueError(
                        f"training diverged in epoch {epoch + 1} (non-finite loss or "
                        f"vectors) with learning_rate={self.learning_rate!r}; "
                        "lower learning_rate"
                    )
                history.append(result.mean_loss)
        finally:
            if bar is not None:
                bar.close()
        return history, seconds

    # ------------------------------------------------------------ transform
    def transform(self, X):
        """Pool the vectors of each document's words into one row.

        Returns a float32 array of shape (n_documents, vector_size).
        Out-of-vocabulary tokens are skipped; a document with no known token
        gets a row of zeros.
        """
        check_is_fitted(self)
        X = check_documents(X)
        enc = encode_known(X, self._analyzer(), self.vocabulary_)
        n_docs, n_vocab = enc.n_documents, len(self.index_to_token_)
        if self.pooling == "mean":
            weights = np.ones(len(enc.tokens), dtype=np.float32)
        elif self.pooling == "tfidf":
            weights = self.idf_[enc.tokens].astype(np.float32)
        else:
            p = self.token_counts_ / self.token_counts_.sum()
            weights = (SIF_A / (SIF_A + p[enc.tokens])).astype(np.float32)
        pool = sp.csr_matrix((weights, enc.tokens, enc.offsets), shape=(n_docs, n_vocab))
        out = np.asarray(pool @ self.vectors_, dtype=np.float32)
        if self.pooling == "tfidf":
            norm = np.asarray(pool.sum(axis=1)).ravel()
        else:
            norm = np.diff(enc.offsets).astype(np.float64)
        nonzero = norm > 0
        out[nonzero] /= norm[nonzero, None].astype(np.float32)
        return out

    def get_feature_names_out(self, input_features=None):
        """Output column names: ``word2vecns0 ... word2vecns{vector_size-1}``."""
        check_is_fitted(self)
        return np.asarray([f"word2vecns{i}" for i in range(self.vectors_.shape[1])], dtype=object)

    # ---------------------------------------------------------- word lookups
    def _row(self, token):
        check_is_fitted(self)
        try:
            return self.vocabulary_[token]
        except (KeyError, TypeError):
            raise KeyError(f"token {token!r} is not in the vocabulary") from None

    def get_vector(self, token):
        """The vector of ``token`` (a copy, float32); KeyError if unknown."""
        return self.vectors_[self._row(token)].copy()

    def similarity(self, a, b):
        """Cosine similarity of two vocabulary words."""
        u, v = self.vectors_[self._row(a)], self.vectors_[self._row(b)]
        return float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-30))

    def most_similar(self, token_or_vector, topn=10):
        """The ``topn`` words closest by cosine, as a list of (token, cosine).

        The query word itself is left out when a token is given.
        """
        check_is_fitted(self)
        if not isinstance(topn, Integral) or topn < 1:
            raise ValueError(f"topn must be a positive integer, got {topn!r}")
        if isinstance(token_or_vector, str):
            exclude = self._row(token_or_vector)
            query = self.vectors_[exclude]
        else:
            exclude = None
            query = np.asarray(token_or_vector, dtype=np.float32)
            if query.shape != (self.vectors_.shape[1],):
                raise ValueError(
                    f"a query vector must have shape ({self.vectors_.shape[1]},), "
                    f"got {query.shape}"
                )
        norms = np.linalg.norm(self.vectors_, axis=1)
        sims = (self.vectors_ @ query) / (norms * np.linalg.norm(query) + 1e-30)
        if exclude is not None:
            sims[exclude] = -np.inf
        k = min(topn, len(sims) - (exclude is not None))
        if k <= 0:
            return []
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(self.index_to_token_[i], float(sims[i])) for i in top]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.non_deterministic = self.n_jobs is None or self.n_jobs != 1
        return tags


def _available_memory():
    """Bytes that can still be allocated, or None if unknown.

    MemAvailable plus free swap (Linux), capped by a cgroup v2/v1 limit
    (containers); elsewhere the physical memory.
    """
    try:
        with open("/proc/meminfo") as f:
            info = dict(line.split(":", 1) for line in f)
        avail = (int(info["MemAvailable"].split()[0]) + int(info["SwapFree"].split()[0])) * 1024
    except (OSError, KeyError, ValueError):
        try:
            return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):  # pragma: no cover
            return None
    for limit_file, usage_file in (("memory.max", "memory.current"),
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        try:
            with open(f"/sys/fs/cgroup/{limit_file}") as f:
                limit = f.read().strip()
            with open(f"/sys/fs/cgroup/{usage_file}") as f:
                usage = int(f.read())
        except (OSError, ValueError):
            continue
        if limit.isdigit():
            avail = min(avail, max(int(limit) - usage, 0))
        break
    return avail


def _check_model_fits(n_vocab, dim):
    # Peak of fit's weight allocation: two (V, d) float32 arrays at once.
    need = 2 * n_vocab * dim * 4
    avail = _available_memory()
    if avail is not None and need > avail:
        raise ValueError(
            f"the model needs {need:,} bytes (2 x {n_vocab:,} words x {dim} dims x 4 bytes) "
            f"but only {avail:,} bytes of memory are available; lower vector_size, "
            "raise min_count or set max_vocab_size"
        )


class _Bar:
    def __init__(self, total):
        from tqdm.auto import tqdm

        self._bar = tqdm(total=total, unit="word", unit_scale=True, desc="skw2v")

    def update_with_loss(self, n_words, loss):
        self._bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        self._bar.update(n_words)

    def close(self):
        self._bar.close()


def _progress_bar(verbose, total):
    return _Bar(total) if verbose else None
