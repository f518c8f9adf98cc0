"""The epoch loop: seeds, learning-rate schedule, chunks, interrupts, progress.

The kernel runs one whole epoch per call without the GIL, in a helper thread,
so that the main thread stays responsive: Ctrl-C sets a stop flag the kernel
polls between chunks, and a progress bar is refreshed from the per-chunk
statistics while the epoch runs.
"""

import copy
import threading
import time

import numpy as np
from threadpoolctl import ThreadpoolController

from . import _core
from ._corpus import chunk_layout

CHUNK_TOKENS = 10_000  # positions per prange work item (~ms of work each)
_POLL_SECONDS = 0.1


_CONTROLLER = []


def _blas_controller():
    # Inspecting the loaded libraries costs ~20 ms: do it once per process
    # (SciPy's BLAS is loaded by the time _core is imported).
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


class TrainingPlan:
    """Everything the kernel needs besides the weights, fixed for one fit."""

    def __init__(self, corpus, keep_prob, alias_threshold, alias_index, noise_log_kq,
                 architecture, loss, window, shrink_windows, sample_size,
                 shared_negatives=False, chunk_tokens=CHUNK_TOKENS):
        self.tokens = corpus.tokens
        self.offsets = corpus.offsets
        self.bounds, self.first_sentence = chunk_layout(
            corpus.offsets, len(corpus.tokens), chunk_tokens
        )
        self.keep_prob = keep_prob
        self.alias_threshold = alias_threshold
        self.alias_index = alias_index
        self.noise_log_kq = noise_log_kq
        self.architecture = _core.ARCHITECTURES[architecture]
        self.loss = _core.LOSSES[loss]
        self.window = window
        self.shrink_windows = shrink_windows
        self.sample_size = sample_size
        self.shared_negatives = bool(shared_negatives)
        self.chunk_tokens = chunk_tokens

    def with_corpus(self, corpus):
        """The same tables and settings over another corpus (same vocabulary ids).

        skw2v.dask builds the tables once on the driver and pairs them with
        each partition on the workers.
        """
        plan = copy.copy(self)
        plan.tokens = corpus.tokens
        plan.offsets = corpus.offsets
        plan.bounds, plan.first_sentence = chunk_layout(
            corpus.offsets, len(corpus.tokens), self.chunk_tokens
        )
        return plan

    @property
    def n_tokens(self):
        return len(self.tokens)

    @property
    def n_chunks(self):
        return len(self.bounds) - 1


class EpochResult:
    def __init__(self, loss, positives, words, seconds):
        self.loss = loss
        self.positives = positives
        self.words = words
        self.seconds = seconds

    @property
    def mean_loss(self):
        return self.loss / self.positives if self.positives else 0.0


def run_epoch(plan, w_in, w_out, *, output_bias=None, lr_start, lr_end, progress_offset,
              progress_total, seed, n_threads, progress=None):
    """Train one epoch in place; raise KeyboardInterrupt after stopping the kernel.

    ``output_bias`` (float32 (V,), NCE only) is trained in place with the weights.
    """
    n_chunks = plan.n_chunks
    stats = np.zeros((n_chunks, _core.N_STATS), dtype=np.float64)
    done = np.zeros(n_chunks, dtype=np.uint8)
    stop = np.zeros(1, dtype=np.int32)
    failure = []
    finished = threading.Event()

    def work():
        try:
            # BLAS level-1 calls inside the OpenMP region must not spawn threads.
            with _blas_controller().limit(limits=1, user_api="blas"):
                _core.train_epoch(
                    plan.tokens, plan.offsets, plan.bounds, plan.first_sentence,
                    plan.keep_prob, plan.alias_threshold, plan.alias_index,
                    plan.noise_log_kq, w_in, w_out, plan.architecture, plan.loss,
                    plan.window, plan.shrink_windows, plan.sample_size,
                    lr_start, lr_end, progress_offset, progress_total,
                    seed, n_threads, stats, done, stop, plan.shared_negatives, output_bias,
                )
        except BaseException as exc:  # re-raised in the calling thread
            failure.append(exc)
        finally:
            finished.set()

    start = time.perf_counter()
    worker = threading.Thread(target=work, name="skw2v-epoch", daemon=True)
    seen = 0
    # Wait on an Event, not on Thread.join(timeout): in CPython 3.11 a
    # KeyboardInterrupt inside join() marks the thread stopped while it still
    # runs (the bpo-45274 handler in Thread._wait_for_tstate_lock), so a later
    # join() returned at once and fit raised with the kernel still training.
    try:
        worker.start()
        while not finished.wait(_POLL_SECONDS):
            if progress is not None:
                seen = _report(progress, plan, stats, done, seen)
        worker.join()
    except KeyboardInterrupt:
        stop[0] = 1  # polled by the kernel between chunks
        # Wait until it stops (one chunk per thread at most). Inline, with no
        # call before the try: a second Ctrl-C must not make fit return while
        # a thread is still writing the weights.
        while True:
            try:
                if worker.ident is not None:
                    finished.wait()
                    worker.join()
                break
            except KeyboardInterrupt:
                continue
        raise
    if failure:
        raise failure[0]
    if progress is not None:
        _report(progress, plan, stats, done, seen)
    total = stats.sum(axis=0)
    return EpochResult(float(total[0]), float(total[1]), float(total[2]),
                       time.perf_counter() - start)


def _report(progress, plan, stats, done, seen):
    finished = done.astype(bool)
    words = int(np.diff(plan.bounds)[finished].sum())
    if words > seen:
        loss, positives = stats[finished, 0].sum(), stats[finished, 1].sum()
        progress(words - seen, loss / positives if positives else float("nan"))
    return max(words, seen)
