"""Find the compiler flags that enable OpenMP, by compiling and running a probe.

The extension builds either way: without OpenMP the ``prange`` loops run
serially (``n_jobs`` is then ignored) and a loud warning says so.
Set ``SKW2V_NO_OPENMP=1`` to force the serial build.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import warnings

PROBE = textwrap.dedent(
    """
    #include <omp.h>
    #include <stdio.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        printf("%d", n > 0);
        return 0;
    }
    """
)


def _candidate_flags():
    if sys.platform == "win32":
        return [(["/openmp"], [])]
    if sys.platform == "darwin":
        # Apple clang needs libomp from Homebrew/conda, found through CPPFLAGS/LDFLAGS.
        return [
            (["-fopenmp"], ["-fopenmp"]),
            (["-Xpreprocessor", "-fopenmp"], ["-lomp"]),
        ]
    return [(["-fopenmp"], ["-fopenmp"])]


def _try_compile(compile_flags, link_flags):
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    cc = cc.split()
    extra_c = os.environ.get("CPPFLAGS", "").split() + os.environ.get("CFLAGS", "").split()
    extra_l = os.environ.get("LDFLAGS", "").split()
    tmp = tempfile.mkdtemp(prefix="skw2v_omp_")
    try:
        src = os.path.join(tmp, "probe.c")
        exe = os.path.join(tmp, "probe")
        with open(src, "w") as f:
            f.write(PROBE)
        cmd = cc + extra_c + compile_flags + [src, "-o", exe] + extra_l + link_flags
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
        out = subprocess.run([exe], check=True, capture_output=True, timeout=60)
        return out.stdout.strip() == b"1"
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def openmp_flags():
    """Return ``(compile_args, link_args)`` for OpenMP, or ``([], [])`` with a warning."""
    if os.environ.get("SKW2V_NO_OPENMP", "0") not in ("", "0"):
        _warn("SKW2V_NO_OPENMP is set")
        return [], []
    for compile_flags, link_flags in _candidate_flags():
        if _try_compile(compile_flags, link_flags):
            return compile_flags, link_flags
    _warn("no compiler flag made the OpenMP probe compile, link and run")
    return [], []


def _warn(reason):
    bar = "*" * 78
    message = (
        f"\n{bar}\n"
        f"skw2v: building WITHOUT OpenMP ({reason}).\n"
        "Training will use a single thread whatever n_jobs says.\n"
        "On macOS install libomp (brew install libomp) and set CPPFLAGS/LDFLAGS;\n"
        "elsewhere install a compiler with OpenMP support (gcc, clang + libomp).\n"
        f"{bar}\n"
    )
    warnings.warn(message, stacklevel=2)
    print(message, file=sys.stderr)
