"""How many OpenMP threads training uses."""

import os

from ._openmp_helpers import omp_max_threads, openmp_enabled


def _cpu_count():
    try:
        from joblib import cpu_count  # cgroup/affinity aware; a scikit-learn dependency

        return max(1, cpu_count())
    except ImportError:  # pragma: no cover
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                   else os.cpu_count() or 1)


def effective_n_threads(n_jobs):
    """Resolve ``n_jobs`` as scikit-learn does for its OpenMP code.

    ``None`` means every usable core, lowered by ``OMP_NUM_THREADS`` or a
    ``threadpoolctl`` limit (joblib sets these in its workers, so a parallel
    ``GridSearchCV`` does not oversubscribe); ``-1`` all cores, ``-2`` all but
    one, and so on. Without OpenMP the answer is always 1.
    """
    if not openmp_enabled():
        return 1
    # omp_get_max_threads() already reflects OMP_NUM_THREADS and threadpoolctl
    # limits (joblib's workers set them), so negative values count down from it.
    available = omp_max_threads()
    if "OMP_NUM_THREADS" not in os.environ:
        available = min(available, _cpu_count())
    if n_jobs is None:
        return max(1, available)
    if n_jobs < 0:
        return max(1, available + 1 + n_jobs)
    return int(n_jobs)
