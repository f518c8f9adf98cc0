# BLAS wrappers over scipy.linalg.cython_blas: the same BLAS as SciPy,
# nothing to link. Pointers are const on our side; the Fortran ABI is not.
from scipy.linalg.cython_blas cimport saxpy, sdot, sgemm


cdef inline float _dot(int n, const float* x, const float* y) noexcept nogil:
    cdef int one = 1
    return sdot(&n, <float*> x, &one, <float*> y, &one)


cdef inline void _axpy(int n, float alpha, const float* x, float* y) noexcept nogil:
    # y += alpha * x
    cdef int one = 1
    saxpy(&n, &alpha, <float*> x, &one, y, &one)


cdef inline void _gemm(char transa, char transb, int m, int n, int k, float alpha,
                       const float* a, int lda, const float* b, int ldb, float beta,
                       float* c, int ldc) noexcept nogil:
    # Column-major C (m x n) = alpha op(A) op(B) + beta C, as Fortran's sgemm.
    sgemm(&transa, &transb, &m, &n, &k, &alpha, <float*> a, &lda, <float*> b, &ldb, &beta,
          c, &ldc)
