"""What makes an estimator fitted: its fitted attributes, set in one place.

``publish`` is the only code that sets them, whoever produced them: a fit,
a Dask fit, a checkpoint during training, a model file, imported word2vec
vectors or an unpickled state. It derives the attributes that are not stored
(``vocabulary_``) and fills those an older skw2v did not have.
"""

import functools
import inspect
import warnings

import numpy as np


class InconsistentVersionWarning(UserWarning):
    """An estimator pickled by one version of skw2v is unpickled by another."""

    def __init__(self, estimator_name, original_version, current_version):
        super().__init__(estimator_name, original_version, current_version)
        self.estimator_name = estimator_name
        self.original_version = original_version
        self.current_version = current_version

    def __str__(self):
        return (
            f"Trying to unpickle {self.estimator_name} from skw2v version "
            f"{self.original_version} when using version {self.current_version}. "
            "This might lead to breaking code or invalid results. Use at your own risk."
        )


def publish(estimator, fitted):
    """Set the fitted attributes of ``estimator`` from the dict ``fitted``.

    ``vocabulary_`` is built from ``index_to_token_`` when not given; a model
    with vectors but no ``output_bias_`` (saved or pickled before skw2v
    learned an NCE bias: those models had none) gets zeros.
    """
    fitted = dict(fitted)
    if "index_to_token_" in fitted and "vocabulary_" not in fitted:
        fitted["vocabulary_"] = {t: r for r, t in enumerate(fitted["index_to_token_"].tolist())}
    if "vectors_" in fitted and fitted.get("output_bias_") is None:
        fitted["output_bias_"] = np.zeros(len(fitted["vectors_"]), dtype=np.float32)
    for name, value in fitted.items():
        setattr(estimator, name, value)


def weights_attributes(weights, history, seconds):
    """The fitted attributes a run of epochs produces: the weights ``(w_in, w_out,
    output_bias)``, the loss ``history`` (list) and the ``seconds`` it took.
    With subwords ``weights`` has a fourth item, the CSR table of ``w_in``'s rows."""
    out = {"vectors_": weights[0], "output_vectors_": weights[1], "output_bias_": weights[2],
           "loss_history_": np.asarray(history, dtype=np.float64), "train_seconds_": seconds}
    if len(weights) > 3 and weights[3] is not None:
        from ._subwords import subword_attributes

        out.update(subword_attributes(weights[0], weights[3]))
    return out


def fitted_attributes(estimator):
    """The fitted attributes of ``estimator`` (trailing underscore) as a dict."""
    return {k: v for k, v in vars(estimator).items()
            if k.endswith("_") and not k.startswith("_")}


def unfitted_on_failure(fit):
    """A fit that raises (bad input, divergence, Ctrl-C) leaves the estimator
    unfitted rather than mixing attributes of the old and the new fit."""

    @functools.wraps(fit)
    def wrapper(estimator, *args, **kwargs):
        try:
            return fit(estimator, *args, **kwargs)
        except BaseException:
            for name in [k for k in vars(estimator) if k.endswith("_") and not k.startswith("__")]:
                delattr(estimator, name)
            raise

    return wrapper


def pickle_state(state, version):
    """The pickled form of an estimator's ``state`` (``__dict__``), a copy."""
    state = dict(state)
    # vocabulary_ is rebuilt from index_to_token_ on load: half the pickle size.
    state.pop("vocabulary_", None)
    state["_skw2v_version"] = version
    return state


def unpickle_state(state, estimator_name, version, init):
    """(parameters and private attributes, fitted attributes) of a pickled
    ``state``; warns when it was pickled under another skw2v ``version``.

    A pickle from before a parameter existed gets the parameter's default in
    ``init`` (the class's ``__init__``), so it trains as that version did.
    """
    state = dict(state)
    pickled_version = state.pop("_skw2v_version", "pre-0.1")
    if pickled_version != version:
        warnings.warn(InconsistentVersionWarning(estimator_name, pickled_version, version),
                      stacklevel=3)
    fitted = {k: state.pop(k) for k in list(state)
              if k.endswith("_") and not k.startswith("_")}
    for name, p in inspect.signature(init).parameters.items():
        if p.kind == p.KEYWORD_ONLY:
            state.setdefault(name, p.default)
    return state, fitted
