# BLAS level-1 wrappers over scipy.linalg.cython_blas: the same BLAS as SciPy,
# nothing to link. Pointers are const on our side; the Fortran ABI is not.
from scipy.linalg.cython_blas cimport sdot, saxpy


cdef inline float _dot(int n, const float* x, const float* y) noexcept nogil:
    cdef int one = 1
    return sdot(&n, <float*> x, &one, <float*> y, &one)


cdef inline void _axpy(int n, float alpha, const float* x, float* y) noexcept nogil:
    # y += alpha * x
    cdef int one = 1
    saxpy(&n, &alpha, <float*> x, &one, y, &one)
