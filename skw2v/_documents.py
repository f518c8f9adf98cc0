"""The documents X given to fit, transform, score and partial_fit: every check on
them and on their tokens, and ``LineCorpus`` (a file read as documents).

X is accepted as CountVectorizer accepts it: any iterable (list, tuple, 1-D
NumPy array, pandas Series, generator) of documents, each a string or a
sequence of string tokens. The container is checked before anything is read;
each document is checked as it is read, so the error names its position.
"""

import math
import os
from numbers import Integral

import numpy as np
import scipy.sparse as sp

from ._line_corpus import LineCorpus


def check_X(X, name="X"):
    """Reject containers that are not an iterable of documents, before reading them.

    Returns X, or a :class:`LineCorpus` for a ``pathlib.Path`` (any ``os.PathLike``).
    """
    if sp.issparse(X):
        raise TypeError(
            f"{name} must be an iterable of documents (strings or token lists), got a "
            "sparse matrix: Word2VecNS reads text, not numeric features"
        )
    if type(X).__name__ == "DataFrame":
        n_cols = getattr(X, "shape", (0, 0))[1]
        raise ValueError(
            f"{name} must be one column of documents, got a DataFrame with {n_cols} "
            f"column(s); select the text column, e.g. {name}['text']"
        )
    if isinstance(X, np.ndarray) and X.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D iterable of documents, got an array of shape {X.shape}; "
            f"for an array whose rows are token lists pass {name}.tolist()"
        )
    if isinstance(X, os.PathLike):
        return LineCorpus(X)
    if X is None:
        raise ValueError(f"{name} must be an iterable of documents, got None")
    if isinstance(X, (str, bytes)):
        raise ValueError(
            f"{name} must be an iterable of documents (strings or token lists), "
            f"got a single {type(X).__name__}; wrap it in a list: [{name}], or pass "
            "pathlib.Path(...) / skw2v.LineCorpus(...) to read a file"
        )
    if isinstance(X, dict):
        raise TypeError(f"{name} must be an iterable of documents, got a dict")
    # Any array-like with ndim: a DataFrame or a 2-D array would otherwise be
    # iterated by column label or row, silently training on the wrong text.
    ndim = getattr(X, "ndim", 1)
    if ndim != 1:
        raise ValueError(
            f"{name} must be one-dimensional (one document per entry), got "
            f"{type(X).__name__} with ndim={ndim} and shape {getattr(X, 'shape', None)}"
        )
    if not hasattr(X, "__iter__"):
        raise TypeError(f"{name} must be an iterable of documents, got {type(X).__name__}")
    return X


def iter_documents(X, name="X"):
    """Yield the documents of X, raising on a missing value or a wrong type.

    Strings are yielded as they are; a token sequence (list, tuple or 1-D
    array) is yielded as a list after checking that every token is a string.
    """
    for i, doc in enumerate(X):
        if isinstance(doc, str):
            yield doc
        elif isinstance(doc, (list, tuple, np.ndarray)):
            yield check_tokens(doc, lambda i=i: f"{name}[{i}]")
        else:
            raise bad_document(doc, f"{name}[{i}]")


def checked_tokenizer(tokenizer):
    """Wrap a user tokenizer so that a wrong return type is reported clearly."""
    if tokenizer is None:
        return None

    def tokenize(doc):
        return check_tokens(tokenizer(doc), lambda: f"tokenizer({doc[:30]!r}...)",
                            tokenizer=True)

    return tokenize


def check_tokens(tokens, where, tokenizer=False):
    """The tokens of one document as a list, or TypeError/ValueError naming ``where()``
    (what the tokens are: ``X[3]``, a tokenizer call) and the first bad token."""
    if isinstance(tokens, np.ndarray):
        if tokens.ndim != 1:
            raise ValueError(f"{where()} must be a 1-D sequence of tokens, got shape "
                             f"{tokens.shape}")
        if tokens.dtype.kind == "U":
            return tokens.tolist()
        tokens = tokens.tolist()
    elif isinstance(tokens, (str, bytes)) or not hasattr(tokens, "__iter__"):
        raise TypeError(f"the tokenizer must return a list of strings; {where()} "
                        f"returned {type(tokens).__name__}")
    elif not isinstance(tokens, (list, tuple)):
        tokens = list(tokens)
    kinds = set(map(type, tokens))
    if not all(issubclass(k, str) for k in kinds):
        bad = next(t for t in tokens if not isinstance(t, str))
        source = "the tokenizer returned" if tokenizer else "tokens must be strings;"
        raise TypeError(
            f"{source} {where()} contains the non-string token {bad!r} "
            f"of type {type(bad).__name__}"
        )
    return tokens


def bad_document(doc, where):
    """The error for ``doc``, which is neither a string nor a list of tokens."""
    if doc is None:
        return ValueError(f"{where} is None; every document must be a string or a "
                          "list of string tokens (fill or drop missing documents)")
    if (isinstance(doc, float) and math.isnan(doc)) or type(doc).__name__ in ("NAType", "NaTType"):
        return ValueError(f"{where} is a missing value ({doc!r}); fill or drop "
                          "missing documents, e.g. X.fillna('')")
    if isinstance(doc, (bytes, bytearray)):
        return TypeError(f"{where} is bytes; decode documents to str first "
                         "(e.g. doc.decode('utf-8'))")
    if isinstance(doc, (Integral, float, np.number)):
        return TypeError(f"{where} is a number ({doc!r}); each document must be a string "
                         "or a list of string tokens; is X a numeric feature matrix?")
    return TypeError(f"{where} has type {type(doc).__name__}; each document must be a "
                     "string or a list of string tokens")
