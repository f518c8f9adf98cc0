"""Optional GPU support: is CuPy importable and is there a CUDA device, and if not, why.

Detection runs once, on first use (never at ``import skw2v``), and records
the reason when the GPU path is off. ``HAS_CUPY`` and ``HAS_CUDA_DEVICE``
are module attributes computed lazily::

    from skw2v import _cuda
    _cuda.HAS_CUDA_DEVICE, _cuda.gpu_unavailable_reason()

Setting the environment variable ``SKW2V_DISABLE_GPU=1`` turns the GPU path
off even where one would work (for CPU-only runs on a GPU machine).
"""

import logging
import os
import threading

__all__ = [
    "HAS_CUDA_DEVICE",
    "HAS_CUPY",
    "gpu_available",
    "gpu_info",
    "gpu_unavailable_reason",
    "resolve_device",
]

DEVICES = ("cpu", "cuda", "auto")
_DISABLE_ENV = "SKW2V_DISABLE_GPU"

logger = logging.getLogger("skw2v")

_lock = threading.Lock()
_probe_result = None  # (has_cupy, has_device, reason, info) once probed
_fallback_logged = False


def _probe():
    """Import CuPy and count devices; return (has_cupy, has_device, reason, info)."""
    if os.environ.get(_DISABLE_ENV, "").strip() not in ("", "0"):
        return False, False, f"disabled by the environment variable {_DISABLE_ENV}", {}
    try:
        import cupy
    except Exception as exc:  # ImportError, or a broken CUDA install raising anything
        return False, False, f"CuPy is not importable ({type(exc).__name__}: {exc})", {}
    info = {"cupy_version": getattr(cupy, "__version__", "unknown")}
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError without a driver or device
        return True, False, f"CuPy {info['cupy_version']} found no usable CUDA device ({exc})", info
    if n < 1:
        return True, False, f"CuPy {info['cupy_version']} found no CUDA device", info
    try:
        dev = cupy.cuda.Device()
        props = cupy.cuda.runtime.getDeviceProperties(dev.id)
        name = props.get("name", b"")
        info.update(
            device=dev.id,
            name=name.decode(errors="replace") if isinstance(name, bytes) else str(name),
            compute_capability=f"{props['major']}.{props['minor']}",
            multiprocessors=int(props["multiProcessorCount"]),
            memory_bytes=int(props["totalGlobalMem"]),
        )
    except Exception as exc:
        return True, False, f"CuPy {info['cupy_version']} could not query the CUDA device ({exc})", info
    return True, True, None, info


def _state():
    global _probe_result
    if _probe_result is None:
        with _lock:
            if _probe_result is None:
                _probe_result = _probe()
    return _probe_result


def _reset_probe():
    """Forget the probe (tests, or after installing CuPy in a live session)."""
    global _probe_result, _fallback_logged
    with _lock:
        _probe_result = None
        _fallback_logged = False


def __getattr__(name):
    # PEP 562: HAS_CUPY / HAS_CUDA_DEVICE are probed on first access only.
    if name == "HAS_CUPY":
        return _state()[0]
    if name == "HAS_CUDA_DEVICE":
        return _state()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def gpu_available():
    """True when CuPy imports and a CUDA device answers."""
    return _state()[1]


def gpu_unavailable_reason():
    """Why the GPU path is off (a sentence), or None when it is on."""
    return _state()[2]


def gpu_info():
    """What the probe found: CuPy and its version, the device's name, compute
    capability, multiprocessors and memory, or the reason there is no GPU."""
    has_cupy, has_device, reason, info = _state()
    return {"cupy": has_cupy, "cuda_device": has_device, "reason": reason, **info}


def resolve_device(device):
    """Map the ``device`` parameter to where training runs.

    Returns ``(device, reason)``: ``"cpu"`` or ``"cuda"``, and why the GPU is
    not used (None when it is, or when ``"cpu"`` was asked for).

    - ``"cpu"``: the CPU.
    - ``"cuda"``: the GPU; ValueError saying why when there is none.
    - ``"auto"``: the GPU when there is one, else the CPU; the reason is
      logged once per process (logger ``"skw2v"``, level WARNING).
    """
    if not isinstance(device, str) or device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    if device == "cpu":
        return "cpu", None
    if gpu_available():
        return "cuda", None
    reason = gpu_unavailable_reason()
    if device == "cuda":
        raise ValueError(
            f"device='cuda' was requested but the GPU is not available: {reason}. "
            "Install the GPU extra (pip install skw2v[gpu], CuPy matching your CUDA) "
            "on a machine with an NVIDIA GPU, or use device='cpu' or device='auto'."
        )
    global _fallback_logged
    with _lock:
        first = not _fallback_logged
        _fallback_logged = True
    if first:
        logger.warning("device='auto': training on the CPU because %s", reason)
    return "cpu", reason
