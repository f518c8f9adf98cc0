"""OpenMP facts from the compiled side: built with it or not, threads available."""

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define SKW2V_OPENMP 1
    #else
    #define SKW2V_OPENMP 0
    static int omp_get_max_threads(void) { return 1; }
    #endif
    """
    int SKW2V_OPENMP
    int omp_get_max_threads() noexcept nogil


def openmp_enabled():
    """True when the extension was compiled with OpenMP."""
    return bool(SKW2V_OPENMP)


def omp_max_threads():
    """``omp_get_max_threads()``: honours OMP_NUM_THREADS and threadpoolctl limits."""
    return omp_get_max_threads()
