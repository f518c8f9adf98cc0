"""The cross-parameter rules of ``Word2VecNS`` (``_more_validate_params``), on a plain
dict of parameters so that every way to fit (``fit``, ``skw2v.dask.fit``, an
imported model) applies the same ones."""

import re
import warnings

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError

from ._corpus import DEFAULT_TOKEN_PATTERN
from ._cuda import resolve_device
from ._warm_start import check_init_vectors

_INT_PARAMS = ("vector_size", "window", "sample_size", "min_count", "max_vocab_size",
               "epochs", "n_jobs", "min_n", "max_n", "bucket", "sif_components")


def check_fit_params(params):
    """Check ``params`` (``get_params()`` after the constraints passed); return the
    device training will run on ("cpu" or "cuda")."""
    callbacks = params["callbacks"]
    for callback in callbacks or ():
        if not callable(callback):
            raise TypeError(
                f"callbacks must be a list of callables, got {callbacks!r}: "
                f"{callback!r} of type {type(callback).__name__} is not callable"
            )
    check_init_vectors(params["init_vectors"])
    for name in _INT_PARAMS:
        value = params[name]
        if isinstance(value, bool):
            # bool is an Integral to Python and to sklearn's validator; never meant here.
            raise InvalidParameterError(
                f"The {name!r} parameter of Word2VecNS must be an int, not a bool. "
                f"Got {value!r} instead."
            )
    if params["min_learning_rate"] > params["learning_rate"]:
        raise ValueError(
            f"min_learning_rate={params['min_learning_rate']!r} must not exceed "
            f"learning_rate={params['learning_rate']!r}"
        )
    if params["sif_components"] > params["vector_size"]:
        raise ValueError(
            f"sif_components={params['sif_components']!r} exceeds vector_size="
            f"{params['vector_size']!r}: there are at most vector_size components to remove")
    if params["n_jobs"] == 0:
        raise ValueError("n_jobs=0 is not valid: use None, a positive or a negative int")
    if not np.isfinite(params["power"]):
        raise ValueError(f"power must be finite, got {params['power']!r}")
    token_pattern = params["token_pattern"]
    if params["tokenizer"] is None:
        try:
            pattern = re.compile(token_pattern)
        except re.error as exc:
            raise ValueError(
                f"token_pattern={token_pattern!r} is not a valid regular "
                f"expression: {exc}"
            ) from None
        if pattern.groups > 1:
            raise ValueError(
                f"token_pattern={token_pattern!r} has {pattern.groups} capturing "
                "groups; use at most one (its match is the token) or non-capturing "
                "groups (?:...)"
            )
    elif token_pattern != DEFAULT_TOKEN_PATTERN:
        warnings.warn(
            "token_pattern is not used because tokenizer is not None", UserWarning,
            stacklevel=4,
        )
    # Resolved here, before X is read: device="cuda" without a GPU says why.
    device, _ = resolve_device(params["device"])
    if device == "cuda" and params["shared_negatives"]:
        raise ValueError("shared_negatives=True is implemented by the CPU kernel only; "
                         "use device='cpu' or shared_negatives=False")
    _check_subword_params(params, device)
    return device


def _check_subword_params(params, device):
    """The rules of min_n / max_n / bucket (subwords on when max_n > 0)."""
    max_n, min_n = params.get("max_n", 0), params.get("min_n", 3)
    if not max_n:
        return
    if max_n < min_n:
        raise ValueError(f"max_n={max_n!r} must be >= min_n={min_n!r} (or 0: no subwords)")
    if params["batch_window"] is True and params["architecture"] == "skipgram":
        raise ValueError(f"subwords (max_n={max_n!r}) do not work with batch_window=True "
                         "(skip-gram) yet; set batch_window=False or max_n=0")
    if device == "cuda" and params.get("freeze_init_vectors"):
        raise ValueError(f"subwords (max_n={max_n!r}) with freeze_init_vectors=True are "
                         "implemented by the CPU kernel only; use device='cpu'")
    if params["update_vocabulary"]:
        raise ValueError(f"subwords (max_n={max_n!r}) do not work with "
                         "update_vocabulary=True yet; set one of them off")
