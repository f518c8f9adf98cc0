"""Build the compiled extensions; all metadata lives in pyproject.toml."""

import os
import sys

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _build_utils.ext_cache import CachedBuildExt  # noqa: E402
from _build_utils.openmp import openmp_flags  # noqa: E402

DEBUG = os.environ.get("SKW2V_DEBUG_CYTHON", "0") not in ("", "0")
SANITIZE = os.environ.get("SKW2V_SANITIZE", "")  # e.g. "address,undefined"

omp_compile, omp_link = openmp_flags()
compile_args = ["-O3"] if sys.platform != "win32" else ["/O2"]
macros = [("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")]
if not omp_compile and sys.platform != "win32":
    # Keep `omp simd` vectorisation hints without the OpenMP runtime.
    compile_args += ["-fopenmp-simd"]
    macros.append(("SKW2V_OPENMP_SIMD", "1"))
if os.environ.get("SKW2V_USE_BLAS", "0") not in ("", "0") or sys.platform == "win32":
    # The fused loops of _sgns.h rely on GCC/clang multiversioning for speed.
    macros.append(("SKW2V_USE_BLAS", "1"))
link_args = []
if SANITIZE:
    compile_args = ["-O1", "-g", "-fno-omit-frame-pointer", f"-fsanitize={SANITIZE}"]
    link_args = [f"-fsanitize={SANITIZE}"]

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": False,
    "initializedcheck": DEBUG,
    "cdivision": True,
    "nonecheck": False,
}


def ext(name):
    return Extension(
        f"skw2v.{name}",
        [f"skw2v/{name}.pyx"],
        include_dirs=[np.get_include(), "skw2v"],
        depends=["skw2v/_sgns.h", "skw2v/_sgns_clone.h", "skw2v/_random.pxd", "skw2v/_blas.pxd"],
        define_macros=macros,
        extra_compile_args=compile_args + omp_compile,
        extra_link_args=link_args + omp_link,
    )


setup(
    cmdclass={"build_ext": CachedBuildExt},  # a second editable install does not recompile
    ext_modules=cythonize(
        [ext("_openmp_helpers"), ext("_core"), ext("_losses"), ext("_reader"), ext("_topk")],
        compiler_directives=directives,
        compile_time_env={},
    ),
)
