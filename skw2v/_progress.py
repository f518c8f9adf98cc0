"""The progress bar of ``verbose=1``: words trained, words/s and the current loss."""

import contextlib


class _Bar:
    def __init__(self, total):
        from tqdm.auto import tqdm

        self._bar = tqdm(total=total, unit="word", unit_scale=True, desc="skw2v")

    def update_with_loss(self, n_words, loss):
        self._bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        self._bar.update(n_words)

    def close(self):
        self._bar.close()


@contextlib.contextmanager
def progress_bar(verbose, total):
    """A bar over ``total`` words while the block runs (None when not ``verbose``);
    closed however the block ends."""
    bar = _Bar(total) if verbose else None
    try:
        yield bar
    finally:
        if bar is not None:
            bar.close()
