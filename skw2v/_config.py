"""What this installation of skw2v runs on."""

import sys


def config():
    """Return a dict: version, OpenMP, threads, SIMD clone, BLAS libraries (threadpoolctl)."""
    import scipy.linalg  # noqa: F401  (loads SciPy's BLAS so threadpoolctl sees it)
    from threadpoolctl import threadpool_info

    from . import _core
    from ._cuda import gpu_info
    from ._openmp_helpers import omp_max_threads, openmp_enabled
    from ._threads import effective_n_threads
    from ._version import __version__

    blas = [
        {k: info.get(k) for k in ("internal_api", "version", "num_threads", "filepath")}
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    return {
        "skw2v": __version__,
        "python": sys.version.split()[0],
        "openmp": openmp_enabled(),
        "omp_max_threads": omp_max_threads(),
        "default_n_threads": effective_n_threads(None),
        "simd_clone": _core.simd_clone(),
        "simd_clones_usable": list(_core.usable_simd_clones()),
        "simd_clones_built": list(_core.SIMD_CLONES),
        "simd_fused_isa": _core.SIMD_FUSED_ISA[_core.SIMD_CLONES.index(_core.simd_clone())],
        "uses_blas_kernel": _core.USES_BLAS,
        "blas": blas,
        "gpu": gpu_info(),
    }


def show_config(file=None):
    """Print whether OpenMP is on, how many threads training uses, the SIMD clone the
    kernel runs, and the BLAS."""
    c = config()
    out = file or sys.stdout
    print(f"skw2v {c['skw2v']} (Python {c['python']})", file=out)
    omp = "enabled" if c["openmp"] else "DISABLED (built without OpenMP: training is serial)"
    print(f"OpenMP: {omp}; default training threads: {c['default_n_threads']}", file=out)
    kernel = "SciPy BLAS sdot/saxpy (SKW2V_USE_BLAS build)" if c["uses_blas_kernel"] else "fused"
    if not c["uses_blas_kernel"] and c["simd_fused_isa"] != c["simd_clone"]:
        kernel += f"; per-pair and CBOW loops: {c['simd_fused_isa']} code"
    print(f"SIMD clone: {c['simd_clone']} (usable here: {', '.join(c['simd_clones_usable'])}; "
          f"kernel: {kernel})", file=out)
    if not c["blas"]:
        print("BLAS: not detected by threadpoolctl", file=out)
    for b in c["blas"]:
        print(f"BLAS: {b['internal_api']} {b['version']} ({b['filepath']})", file=out)
    gpu = c["gpu"]
    if gpu.get("reason"):
        print(f"GPU: off ({gpu['reason']})", file=out)
    else:
        print(f"GPU: on ({gpu.get('name', 'CUDA device')}, CuPy {gpu.get('cupy_version', '?')})",
              file=out)
