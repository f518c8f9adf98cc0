"""Safe model files: the format behind ``Word2VecNS.save(path)`` and ``skw2v.load(path)``.

This module reads and writes parameters, fitted arrays and fitted scalars;
it knows no estimator class (the estimator turns them into a model).

A model file is a zip archive (the layout of NumPy's ``.npz``) holding

* ``skw2v.json``: format name and version, skw2v version, the estimator's
  parameters, the vocabulary, the scalar fitted attributes and, for every
  array, its dtype and shape;
* ``<attribute>.npy``: one plain numeric ``.npy`` array per fitted array;

and, as the archive comment, a SHA-256 digest of every byte before it.

Loading never unpickles: arrays are decoded with ``allow_pickle=False``
from a dtype and shape checked *before* any allocation, the JSON is plain
data, and the parameters go through the estimator's own validation (the
``validate`` given to ``read_model``).
Any bit flip, truncation or edit that does not also forge the digest is
caught by the digest; a forged file still has to pass every structural and
semantic check, so the worst it can do is hold wrong numbers.

Writes go to a temporary file in the target's folder, are flushed and
fsync'ed, then renamed over the target, so an interrupted save leaves the
previous file intact.
"""

import hashlib
import io
import json
import math
import os
import zipfile
from numbers import Integral, Real

import numpy as np

from ._fileio import atomic_write
from ._version import __version__

FORMAT_NAME = "skw2v-model"
FORMAT_VERSION = 1
META_MEMBER = "skw2v.json"
DIGEST_PREFIX = b"skw2v-sha256:"
ZIP_MAGIC = b"PK\x03\x04"
_HASH_BLOCK = 1 << 20

# Fitted arrays: expected dtype and shape, with "V" the vocabulary size and
# "d" the vector size. Arrays not listed here are refused.
_ARRAYS = {
    "vectors_": (np.dtype("<f4"), ("V", "d")),
    "output_vectors_": (np.dtype("<f4"), ("V", "d")),
    "output_bias_": (np.dtype("<f4"), ("V",)),
    "token_counts_": (np.dtype("<i8"), ("V",)),
    "idf_": (np.dtype("<f8"), ("V",)),
    "loss_history_": (np.dtype("<f8"), (None,)),
    "frozen_rows_": (np.dtype("u1"), ("V",)),  # freeze_init_vectors: 1 = locked input row
    # subwords (max_n > 0): "B" is the bucket parameter
    "own_vectors_": (np.dtype("<f4"), ("V", "d")),
    "ngram_vectors_": (np.dtype("<f4"), ("B", "d")),
    "sif_components_": (np.dtype("<f4"), (None, "d")),  # pooling="sif": common components
}
_SUBWORD_ARRAYS = ("own_vectors_", "ngram_vectors_")
_REQUIRED_ARRAYS = ("vectors_", "token_counts_", "idf_")
# Scalar fitted attributes stored in the JSON document, with their checks.
_SCALARS = {
    "n_threads_": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
    "device_": lambda v: v in ("cpu", "cuda"),
    "train_seconds_": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
    and math.isfinite(v) and v >= 0,
    # update_vocabulary: counts of the words without a row
    "pending_counts_": lambda v: isinstance(v, dict) and all(
        isinstance(w, str) and isinstance(c, int) and not isinstance(c, bool) and c >= 1
        for w, c in v.items()),
}
# Parameters that only steer a future fit and cannot be stored as data:
# saved as None (documented in ``Word2VecNS.save``).
_FIT_ONLY_PARAMS = ("callbacks", "init_vectors")


class ModelFileError(ValueError):
    """A file that is not a valid skw2v model file (corrupt, truncated, tampered, a pickle...)."""


# ------------------------------------------------------------------- writing
def _json_param(name, value):
    """A parameter value as JSON data, or an error saying why it cannot be stored."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"cannot save parameter {name}={value!r}: not a finite number")
        return value
    raise ValueError(
        f"cannot save parameter {name}={value!r}: a {type(value).__name__} cannot be "
        "stored in a safe model file (only numbers, strings, booleans and None can); "
        f"set {name} to such a value before saving, or use pickle/joblib for this model"
    )


def model_state(estimator_name, params, fitted):
    """The JSON document and the arrays describing a fitted model: the name of its
    class, its parameters (``get_params``) and its fitted attributes (a dict)."""
    params, given = {}, params
    for name, value in given.items():
        if name in _FIT_ONLY_PARAMS:
            value = None
        elif name == "random_state" and not (value is None or isinstance(value, Integral)):
            value = None  # a RandomState/Generator's state is not part of the model
        params[name] = _json_param(name, value)

    fitted = dict(fitted)
    vocabulary = [str(t) for t in fitted.pop("index_to_token_").tolist()]
    fitted.pop("vocabulary_", None)  # rebuilt from index_to_token_
    arrays, scalars = {}, {}
    for name, value in fitted.items():
        if name in _ARRAYS:
            dtype = _ARRAYS[name][0]
            arrays[name] = np.ascontiguousarray(value, dtype=dtype)
        elif name in _SCALARS:
            scalars[name] = value.item() if isinstance(value, np.generic) else value
        else:
            raise ValueError(
                f"cannot save fitted attribute {name!r} ({type(value).__name__}): the safe "
                "model format does not know it; this is a bug in skw2v, please report it"
            )
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "skw2v_version": __version__,
        "estimator": estimator_name,
        "params": params,
        "vocabulary": vocabulary,
        "attributes": scalars,
        "arrays": {k: {"dtype": a.dtype.str, "shape": list(a.shape)} for k, a in arrays.items()},
    }
    return meta, arrays


def _write_model_file(meta, arrays, f):
    """Write the archive to ``f`` in one pass: members, then the digest as the comment."""
    blob = json.dumps(meta, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    digest = hashlib.sha256()
    comment_len = len(DIGEST_PREFIX) + 64
    writer = _DigestWriter(f, digest, comment_len)
    with zipfile.ZipFile(writer, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(META_MEMBER, blob.encode("utf-8"))
        for name, arr in arrays.items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)
        # A placeholder of the final length, so the end record declares the right size.
        zf.comment = b"\0" * comment_len
    writer.close_with_digest()


class _DigestWriter(io.RawIOBase):
    """Forward writes to ``f`` and hash them, except the archive comment (the last bytes)."""

    def __init__(self, f, digest, comment_len):
        self._f = f
        self._digest = digest
        self._comment_len = comment_len
        self._pos = 0
        self._held = b""  # the tail that may turn out to be the comment placeholder

    def writable(self):
        return True

    def seekable(self):
        return False

    def tell(self):
        return self._pos

    def write(self, b):
        data = self._held + bytes(b)
        keep = min(len(data), self._comment_len)
        out, self._held = data[: len(data) - keep], data[len(data) - keep:]
        if out:
            self._f.write(out)
            self._digest.update(out)
        self._pos += len(b)
        return len(b)

    def flush(self):
        self._f.flush()

    def close_with_digest(self):
        if self._held != b"\0" * self._comment_len:  # pragma: no cover - zipfile changed
            raise RuntimeError("unexpected end of the zip archive while writing a model file")
        self._f.write(DIGEST_PREFIX + self._digest.hexdigest().encode("ascii"))
        self._held = b""


def save_model(path, estimator_name, params, fitted):
    """Write a fitted model to ``path`` atomically in the safe model format
    (arguments as for ``model_state``)."""
    # fails on an unsaveable model before touching the file system
    meta, arrays = model_state(estimator_name, params, fitted)
    atomic_write(path, lambda f: _write_model_file(meta, arrays, f))


# ------------------------------------------------------------------- reading
def _fail(path, why):
    raise ModelFileError(f"{os.fspath(path)!r} is not a valid skw2v model file: {why}")


def _check_digest(path, f, size):
    tail_len = len(DIGEST_PREFIX) + 64
    if size < tail_len + 22:
        _fail(path, f"it is too short ({size} bytes); truncated?")
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    if not tail.startswith(DIGEST_PREFIX):
        _fail(path, "its checksum is missing (truncated, or not written by skw2v)")
    digest = hashlib.sha256()
    f.seek(0)
    left = size - tail_len
    while left:
        block = f.read(min(_HASH_BLOCK, left))
        if not block:  # pragma: no cover - the file shrank while reading
            _fail(path, "it was truncated while being read")
        digest.update(block)
        left -= len(block)
    if digest.hexdigest().encode("ascii") != tail[len(DIGEST_PREFIX):]:
        _fail(path, "its checksum does not match (the file is corrupt, truncated or was modified)")


def _read_array(path, zf, name, dtype, shape):
    info = zf.getinfo(f"{name}.npy")
    if info.compress_type != zipfile.ZIP_STORED:
        _fail(path, f"array {name!r} is compressed; skw2v writes stored members only")
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    with zf.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            hdr_shape, fortran, hdr_dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            hdr_shape, fortran, hdr_dtype = np.lib.format.read_array_header_2_0(member)
        else:
            _fail(path, f"array {name!r} has an unsupported .npy version {version}")
        if hdr_dtype != dtype or tuple(hdr_shape) != tuple(shape) or fortran:
            _fail(path, f"array {name!r} holds {hdr_dtype} {tuple(hdr_shape)}, "
                        f"expected {dtype} {tuple(shape)}")
        # The size is checked before reading: a forged shape cannot make us allocate.
        if info.file_size - member.tell() != nbytes:
            _fail(path, f"array {name!r} has {info.file_size - member.tell()} data bytes, "
                        f"expected {nbytes}")
        data = member.read(nbytes)
        if len(data) != nbytes or member.read(1):
            _fail(path, f"array {name!r} is truncated")
    arr = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        _fail(path, f"array {name!r} holds non-finite values")
    return arr


def _expected_shape(path, name, declared, n_vocab, dim, bucket=None):
    pattern = _ARRAYS[name][1]
    if not (isinstance(declared, list) and len(declared) == len(pattern)
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
                    for n in declared)):
        _fail(path, f"array {name!r} has an invalid shape {declared!r}")
    want = []
    for axis, n in zip(pattern, declared):
        expected = {"V": n_vocab, "d": dim, "B": bucket}.get(axis, n)
        if n != expected:
            _fail(path, f"array {name!r} has shape {tuple(declared)}, which does not agree "
                        f"with {n_vocab} vocabulary words, vector_size={dim} and "
                        f"bucket={bucket}")
        want.append(expected)
    return tuple(want)


def _read_document(path, meta, read_array, estimator_name, defaults, validate):
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        _fail(path, "its description does not name the skw2v model format")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        _fail(path, f"format version {version!r} is not supported by this skw2v "
                    f"(it reads version {FORMAT_VERSION}); "
                    f"the file was written by skw2v {meta.get('skw2v_version')!r}")
    if estimator_name is not None and meta.get("estimator") != estimator_name:
        _fail(path, f"it holds a {meta.get('estimator')!r}, not a {estimator_name}")

    params = meta.get("params")
    if not isinstance(params, dict):
        _fail(path, "its parameters are missing")
    unknown = sorted(set(params) - set(defaults)) if defaults is not None else []
    if unknown:
        _fail(path, f"unknown parameter(s) {unknown}; it was written by a newer skw2v "
                    f"({meta.get('skw2v_version')!r})")
    for name, value in params.items():
        if not (value is None or isinstance(value, (bool, int, float, str))):
            _fail(path, f"parameter {name} has a non-scalar value")
    if validate is not None:
        try:
            validate(params)
        except (ValueError, TypeError) as exc:  # sklearn's InvalidParameterError is both
            _fail(path, f"invalid parameter value: {exc}")

    vocab = meta.get("vocabulary")
    if not (isinstance(vocab, list) and vocab and all(isinstance(t, str) for t in vocab)):
        _fail(path, "its vocabulary is missing, empty or not a list of strings")
    if len(set(vocab)) != len(vocab):
        _fail(path, "its vocabulary has duplicate words")
    # Parameters added after the file was written keep their defaults.
    dim = {**(defaults or {}), **params}.get("vector_size")
    if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
        _fail(path, f"parameter vector_size={dim!r} is not a positive integer")
    n_vocab = len(vocab)

    declared = meta.get("arrays")
    if not isinstance(declared, dict):
        _fail(path, "its array list is missing")
    unknown = sorted(set(declared) - set(_ARRAYS))
    missing = sorted(set(_REQUIRED_ARRAYS) - set(declared))
    if unknown or missing:
        _fail(path, f"unexpected arrays {unknown} / missing arrays {missing}")
    merged = {**(defaults or {}), **params}
    subwords = bool(merged.get("max_n"))
    if any((name in declared) != subwords for name in _SUBWORD_ARRAYS):
        _fail(path, f"its subword arrays {sorted(set(_SUBWORD_ARRAYS) & set(declared))} do not "
                    f"agree with max_n={merged.get('max_n')!r}")
    fitted = {}
    for name, desc in declared.items():
        dtype = _ARRAYS[name][0]
        if not isinstance(desc, dict) or desc.get("dtype") != dtype.str:
            _fail(path, f"array {name!r} must be stored as {dtype.str}")
        shape = _expected_shape(path, name, desc.get("shape"), n_vocab, dim,
                                merged.get("bucket"))
        fitted[name] = read_array(name, dtype, shape)
    if (fitted["token_counts_"] < 0).any():
        _fail(path, "token_counts_ has negative counts")

    scalars = meta.get("attributes")
    if not isinstance(scalars, dict):
        _fail(path, "its fitted attributes are missing")
    for name, value in scalars.items():
        if name not in _SCALARS or not _SCALARS[name](value):
            _fail(path, f"fitted attribute {name}={value!r} is not valid")
        fitted[name] = value

    fitted["index_to_token_"] = np.array(vocab, dtype=object)
    return params, fitted


def read_model(path, estimator_name=None, defaults=None, validate=None):
    """Read a model file: ``(params, fitted)``, two dicts.

    ``fitted`` holds the fitted arrays, the scalar fitted attributes and
    ``index_to_token_``. Opening a file never runs code from it: a pickle,
    or anything that is not a complete skw2v model file, is refused.
    Everything read is checked (a SHA-256 checksum over the file, array
    dtypes and shapes against the vocabulary and ``vector_size``, finite
    values, a known format version) and, when given, the class name
    ``estimator_name``, the parameter names (those of ``defaults``, whose
    values stand in for parameters the file lacks) and the parameter values
    (``validate(params)`` raising ValueError or TypeError); any failure
    raises ``ValueError`` (``skw2v.ModelFileError``) saying what is wrong.
    """
    if hasattr(path, "read"):
        raise TypeError("skw2v.load takes a path to a model file, not a file object")
    path = os.fspath(path)
    with open(path, "rb") as f:
        head = f.read(4)
        if head != ZIP_MAGIC:
            what = "a pickle" if head[:1] == b"\x80" else "not a skw2v model (zip) archive"
            _fail(path, f"it is {what}; skw2v only opens files written by Word2VecNS.save "
                        "(pickles are never loaded, as they can run code)")
        size = os.fstat(f.fileno()).st_size
        _check_digest(path, f, size)
        f.seek(0)
        try:
            with zipfile.ZipFile(f) as zf:
                names = zf.namelist()
                if len(set(names)) != len(names) or META_MEMBER not in names:
                    _fail(path, "its member list is invalid")
                info = zf.getinfo(META_MEMBER)
                if info.compress_type != zipfile.ZIP_STORED or info.file_size > size:
                    _fail(path, "its description member is invalid")
                try:
                    meta = json.loads(zf.read(info).decode("utf-8"),
                                      parse_constant=lambda c: _fail(path, f"it holds {c}"))
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    _fail(path, f"its description is not valid JSON ({exc})")
                declared = meta.get("arrays") if isinstance(meta, dict) else None
                expected = {META_MEMBER} | {f"{k}.npy" for k in (declared or {})}
                if set(names) != expected:
                    _fail(path, f"it has members {sorted(names)}, expected {sorted(expected)}")
                return _read_document(
                    path, meta,
                    lambda name, dtype, shape: _read_array(path, zf, name, dtype, shape),
                    estimator_name, defaults, validate,
                )
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, KeyError) as exc:
            if isinstance(exc, (FileNotFoundError, PermissionError)):
                raise
            _fail(path, f"the archive is damaged ({exc})")

