"""The training stage: epochs over a plan, on the CPU kernel or the GPU.

``train_epochs`` runs the epochs of one fit (or one ``partial_fit`` call)
with one learning-rate schedule over all of them, checks after each epoch
that training has not diverged, reports progress and calls ``on_epoch_end``.
``run_epoch`` is one CPU epoch: the kernel runs it without the GIL, in a
helper thread, so that the main thread stays responsive: Ctrl-C sets a stop
flag the kernel polls between chunks, and a progress bar is refreshed from the
per-chunk statistics while the epoch runs.
"""

import functools
import threading
import time

import numpy as np
from threadpoolctl import ThreadpoolController

from . import _core
from ._fitted import publish, weights_attributes
from ._plan import EpochResult

_POLL_SECONDS = 0.1


_CONTROLLER = []


def _blas_controller():
    # Inspecting the loaded libraries costs ~20 ms: do it once per process
    # (SciPy's BLAS is loaded by the time _core is imported).
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


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
                # The one call of the kernel in the package, by keyword: a swapped
                # argument fails instead of training silently.
                _core.train_epoch(
                    tokens=plan.tokens, sentence_offsets=plan.offsets,
                    chunk_bounds=plan.bounds, chunk_sentence=plan.first_sentence,
                    keep_prob=plan.keep_prob, alias_threshold=plan.alias_threshold,
                    alias_index=plan.alias_index, noise_log_kq=plan.noise_log_kq,
                    w_in=w_in, w_out=w_out, architecture=plan.architecture, loss=plan.loss,
                    window=plan.window, shrink_windows=plan.shrink_windows,
                    sample_size=plan.sample_size, lr_start=lr_start, lr_end=lr_end,
                    progress_offset=progress_offset, progress_total=progress_total,
                    seed=seed, n_threads=n_threads, chunk_stats=stats, chunk_done=done,
                    stop_flag=stop, shared_negatives=plan.shared_negatives,
                    batch_window=plan.batch_window,
                    output_bias=output_bias, frozen_rows=plan.frozen_rows,
                    subword_indptr=plan.subword_indptr, subword_ids=plan.subword_ids,
                    check_tokens=not plan.trusted_tokens, max_sentence=plan.max_sentence,
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


class Schedule:
    """The learning rate of a run of epochs: ``start`` decaying linearly to ``end``
    over all of them (as a function of the position in the corpus)."""

    def __init__(self, start, end):
        self.start = start
        self.end = end

    def at(self, fraction):
        return self.start - (self.start - self.end) * fraction


def all_finite(arrays):
    """Whether every array (None: skipped) holds only finite values."""
    return all(a is None or np.isfinite(a).all() for a in arrays)


def check_not_diverged(epoch, loss, weights_finite, learning_rate):
    """The divergence check after each epoch: a non-finite loss or weight is an error."""
    if not (np.isfinite(loss) and weights_finite):
        raise ValueError(
            f"training diverged in epoch {epoch + 1} (non-finite loss or "
            f"vectors) with learning_rate={learning_rate!r}; "
            "lower learning_rate"
        )


def train_epochs(plan, weights, seeds, device, n_threads, schedule, progress=None,
                 on_epoch_end=None):
    """Train one epoch per seed, in place; return ``(loss history, seconds)``.

    ``weights`` is ``(w_in, w_out, output_bias)``, float32 (V, d), (V, d) and
    (V,) or None (negative sampling trains no bias). ``device`` is "cpu" or
    "cuda". The learning rate follows ``schedule`` over all the epochs.
    ``progress`` (or None) gets ``update_with_loss(n_words, loss)`` during
    the epochs; ``on_epoch_end(epoch, result, history, seconds)`` (or None)
    is called after each one, with the weights (on the GPU: downloaded) and
    the history so far. A diverged epoch raises ValueError.
    """
    w_in, w_out, bias = weights
    epochs = len(seeds)
    total = epochs * plan.n_tokens
    history, seconds = [], 0.0
    gpu = None
    if device == "cuda":
        from ._cuda._train import GpuTrainer

        # uploads corpus, tables and weights once
        gpu = GpuTrainer(plan, w_in, w_out, output_bias=bias,
                         batch_window=plan.batch_window, frozen_rows=plan.frozen_rows)
    epoch_runner = (gpu.run_epoch if gpu is not None
                    else functools.partial(run_epoch, plan, w_in, w_out, output_bias=bias))
    try:
        for epoch in range(epochs):
            result = epoch_runner(
                lr_start=schedule.start, lr_end=schedule.end,
                progress_offset=epoch * plan.n_tokens, progress_total=max(total, 1),
                seed=int(seeds[epoch]), n_threads=n_threads,
                progress=None if progress is None else progress.update_with_loss,
            )
            seconds += result.seconds
            finite = gpu.all_finite() if gpu is not None else all_finite(weights)
            if gpu is not None and (on_epoch_end is not None or epoch == epochs - 1):
                gpu.download(w_in, w_out, bias)  # fitted attributes are NumPy arrays
            check_not_diverged(epoch, result.loss, finite, schedule.start)
            history.append(result.mean_loss)
            if on_epoch_end is not None:
                on_epoch_end(epoch, result, history, seconds)
    finally:
        if gpu is not None:
            gpu.close()
    return history, seconds


def callbacks_at_epoch_end(estimator, callbacks, fitted, weights, epochs, schedule):
    """The ``on_epoch_end`` of a fit with user ``callbacks`` (None without any).

    Before each ``callback(estimator, info)``, ``estimator`` is given the
    model so far: ``fitted`` (the vocabulary-side attributes; empty for a
    ``partial_fit``), the weights, the loss history and the seconds, so a
    callback can save a checkpoint. ``epochs`` and ``schedule`` describe the
    run for ``info``.
    """
    if not callbacks:
        return None

    def on_epoch_end(epoch, result, history, seconds):
        # A complete model of the epochs so far (a fit that then fails still
        # ends unfitted: see _fitted.unfitted_on_failure).
        publish(estimator, {**fitted, **weights_attributes(weights, history, seconds)})
        info = {
            "epoch": epoch + 1,
            "epochs": epochs,
            "loss": float(result.mean_loss),
            "words": int(result.words),
            "seconds": float(result.seconds),
            "learning_rate": float(schedule.at((epoch + 1) / epochs)),
        }
        for callback in callbacks:
            callback(estimator, info)

    return on_epoch_end
