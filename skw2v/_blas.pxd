# BLAS wrappers over scipy.linalg.cython_blas: the same BLAS as SciPy,
# nothing to link. Pointers are const on our side; the Fortran ABI is not.
# Fused over float/double: the training kernel uses float, the losses both.
from cython cimport floating
from scipy.linalg.cython_blas cimport daxpy, ddot, saxpy, sdot, sgemm


cdef inline floating _dot(int n, const floating* x, const floating* y) noexcept nogil:
    cdef int one = 1
    if floating is float:
        return sdot(&n, <float*> x, &one, <float*> y, &one)
    else:
        return ddot(&n, <double*> x, &one, <double*> y, &one)


cdef inline void _axpy(int n, floating alpha, const floating* x, floating* y) noexcept nogil:
    # y += alpha * x
    cdef int one = 1
    if floating is float:
        saxpy(&n, &alpha, <float*> x, &one, y, &one)
    else:
        daxpy(&n, &alpha, <double*> x, &one, y, &one)


cdef inline void _gemm(char transa, char transb, int m, int n, int k, float alpha,
                       const float* a, int lda, const float* b, int ldb, float beta,
                       float* c, int ldc) noexcept nogil:
    # Column-major C (m x n) = alpha op(A) op(B) + beta C, as Fortran's sgemm.
    sgemm(&transa, &transb, &m, &n, &k, &alpha, <float*> a, &lda, <float*> b, &ldb, &beta,
          c, &ldc)
