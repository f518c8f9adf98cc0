"""What one training run needs besides the weights (the plan), and what an epoch gives back.

``make_plan`` turns a corpus and the per-word tables of the vocabulary stage
into the arrays and settings the kernel reads; ``plan_for`` does it with the
tables of a ``Word2VecNS``'s parameters. Tests and benchmarks build plans with
these functions, never with ``TrainingPlan`` itself.
"""

import copy

import numpy as np

from . import _core
from ._alias import alias_table, kernel_thresholds
from ._corpus import chunk_layout, longest_sentence
from ._vocab import keep_probabilities, noise_probabilities

CHUNK_TOKENS = 10_000  # positions per prange work item (~ms of work each)

# Word2VecNS parameters that the plan carries as they are.
PLAN_PARAMS = ("architecture", "loss", "window", "shrink_windows", "sample_size",
               "shared_negatives", "batch_window")


class TrainingPlan:
    """Everything the kernel needs besides the weights, fixed for one fit.

    Built by ``make_plan``. ``tokens``/``offsets``: the corpus (CSR);
    ``bounds``/``first_sentence``: its chunks; ``keep_prob``: subsampling;
    ``alias_threshold``/``alias_index``: the noise alias table;
    ``noise_log_kq``: ``log(sample_size * q)`` (NCE logits); ``architecture``
    and ``loss`` as the kernel's codes; the other settings as given.
    """

    def __init__(self, corpus, keep_prob, alias_threshold, alias_index, noise_log_kq, *,
                 architecture, loss, window, shrink_windows, sample_size, shared_negatives,
                 chunk_tokens, batch_window=False):
        self.chunk_tokens = chunk_tokens
        self._set_corpus(corpus)
        self.keep_prob = keep_prob
        self.alias_threshold = alias_threshold
        self.alias_index = alias_index
        self.noise_log_kq = noise_log_kq
        self.architecture = _core.ARCHITECTURES[architecture]
        self.loss = _core.LOSSES[loss]
        self.window = window
        self.shrink_windows = shrink_windows
        self.sample_size = sample_size
        self.shared_negatives = shared_negatives
        self.batch_window = batch_window
        self.frozen_rows = None  # uint8 (V,): input rows never updated (freeze_init_vectors)
        # subwords: word w's input rows are subword_ids[subword_indptr[w]:subword_indptr[w+1]]
        self.subword_indptr = self.subword_ids = None

    def with_corpus(self, corpus):
        """The same tables and settings over another corpus (same vocabulary ids).

        skw2v.dask builds the tables once on the driver and pairs them with
        each partition on the workers.
        """
        plan = copy.copy(self)
        plan._set_corpus(corpus)
        return plan

    def _set_corpus(self, corpus):
        self.tokens = corpus.tokens
        self.offsets = corpus.offsets
        self.bounds, self.first_sentence = chunk_layout(
            corpus.offsets, len(corpus.tokens), self.chunk_tokens
        )
        # skw2v's own file encoder (the disk cache) wrote ids in [0, V) and consistent
        # offsets: the kernel scans neither (that would page the whole cache in) and
        # takes the longest sentence from here
        self.trusted_tokens = getattr(corpus, "cache", None) is not None
        self.max_sentence = longest_sentence(corpus.offsets) if self.trusted_tokens else -1

    @property
    def n_tokens(self):
        return len(self.tokens)

    @property
    def n_chunks(self):
        return len(self.bounds) - 1


def make_plan(corpus, keep_prob, noise, *, architecture="skipgram", loss="negative_sampling",
              window=5, shrink_windows=True, sample_size=5, shared_negatives=False,
              batch_window=False, noise_log_kq=None, chunk_tokens=CHUNK_TOKENS):
    """A ``TrainingPlan`` over ``corpus`` (an ``EncodedCorpus`` of vocabulary ids).

    ``keep_prob`` (V,) is the subsampling keep probability of each word and
    ``noise`` (V,) the noise distribution q; its alias table is built here,
    and NCE's ``log(sample_size * q)`` unless ``noise_log_kq`` is given.
    ``architecture`` and ``loss`` take the estimator's names.
    """
    q = np.asarray(noise, dtype=np.float64)
    accept, alias = alias_table(q)
    if noise_log_kq is None:
        with np.errstate(divide="ignore"):
            noise_log_kq = np.log(sample_size * q)
    return TrainingPlan(
        corpus, np.asarray(keep_prob, dtype=np.float32), kernel_thresholds(accept), alias,
        np.asarray(noise_log_kq, dtype=np.float32), architecture=architecture, loss=loss,
        window=window, shrink_windows=bool(shrink_windows), sample_size=sample_size,
        shared_negatives=bool(shared_negatives), chunk_tokens=chunk_tokens,
        batch_window=bool(batch_window),
    )


def plan_for(corpus, token_counts, params):
    """The plan of a ``Word2VecNS`` with parameters ``params`` (``get_params()``),
    its tables derived from the fitted ``token_counts``."""
    settings = {name: params[name] for name in PLAN_PARAMS}
    settings["batch_window"] = resolve_batch_window(params)
    return make_plan(
        corpus,
        keep_probabilities(token_counts, params["subsample"]),
        noise_probabilities(token_counts, params["noise"], params["power"]),
        **settings,
    )


def resolve_batch_window(params):
    """``batch_window="auto"``: the window-batched update, unless
    ``shared_negatives`` asks for the per-pair one or subwords (``max_n``)
    for their per-window one."""
    value = params["batch_window"]
    if isinstance(value, str):  # "auto"
        return not (params["shared_negatives"] or params.get("max_n", 0))
    return bool(value)


class EpochResult:
    """Sums over one epoch: ``loss`` (over positive examples), ``positives``,
    ``words`` (centre words after subsampling) and ``seconds``."""

    def __init__(self, loss, positives, words, seconds):
        self.loss = loss
        self.positives = positives
        self.words = words
        self.seconds = seconds

    @property
    def mean_loss(self):
        return self.loss / self.positives if self.positives else 0.0
