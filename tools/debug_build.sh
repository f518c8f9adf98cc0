#!/usr/bin/env bash
# Build skw2v with Cython's run-time checks on (SKW2V_DEBUG_CYTHON=1:
# boundscheck and initializedcheck on every memoryview access) and run the
# test suite against that build.
#
#   tools/debug_build.sh                      # whole suite, slow tests excluded
#   tools/debug_build.sh tests/test_fuzz.py   # any pytest arguments instead
#   KEEP=1 tools/debug_build.sh               # keep the scratch build (path printed)
#
# Like tools/sanitize.sh it builds in a scratch copy of the repository, so the
# checkout's own optimised in-place build is left alone. An IndexError or
# "Buffer has not been initialized" from the compiled module is a bug.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/skw2v-debug.XXXXXX")
if [[ -z "${KEEP:-}" ]]; then trap 'rm -rf "$WORK"' EXIT; else echo "scratch build: $WORK"; fi

cd "$ROOT"
cp -r setup.py pyproject.toml _build_utils skw2v tests "$WORK"/
[[ -d benchmarks ]] && cp -r benchmarks "$WORK"/
[[ -d tools ]] && cp -r tools "$WORK"/
rm -f "$WORK"/skw2v/*.so "$WORK"/skw2v/_core.c "$WORK"/skw2v/_openmp_helpers.c
cd "$WORK"
echo "== building with SKW2V_DEBUG_CYTHON=1"
if ! SKW2V_DEBUG_CYTHON=1 "$PYTHON" setup.py build_ext --inplace >build.log 2>&1; then
    cat build.log
    exit 1
fi
# The generated C must really carry the checks.
n_checks=$(grep -c "__Pyx_RaiseBufferIndexError" skw2v/_core.c || true)
if [[ "$n_checks" -eq 0 ]]; then
    echo "debug_build.sh: no bounds checks in the generated _core.c" >&2
    exit 1
fi
echo "   boundscheck/initializedcheck on: $n_checks bounds-check sites in _core.c"

if [[ $# -gt 0 ]]; then ARGS=("$@"); else ARGS=(tests -m "not slow and not gpu"); fi
echo "== pytest ${ARGS[*]} (debug build)"
PYTHONDONTWRITEBYTECODE=1 "$PYTHON" -m pytest -q -p no:cacheprovider "${ARGS[@]}"
