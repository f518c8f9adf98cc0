#!/usr/bin/env bash
# Build skw2v's compiled extensions with AddressSanitizer + UndefinedBehavior-
# Sanitizer and run a fit / transform / loss workload and the reliability tests
# under them.
#
#   tools/sanitize.sh                 # memcheck suite + reliability/fuzz/concurrency tests
#   tools/sanitize.sh tests/          # memcheck suite + any pytest arguments instead
#   KEEP=1 tools/sanitize.sh          # keep the scratch build (path printed)
#
# The build happens in a scratch copy of the repository, so the checkout's own
# in-place build is untouched. Needs gcc (or CC pointing to a compiler with
# libasan). CPython is not instrumented, so libasan is LD_PRELOADed (it must be
# the first library loaded) and leak detection is off (the interpreter keeps
# memory until exit by design). UBSan halts on the first report; any ASan or
# UBSan report makes the script exit non-zero.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python}
CC=${CC:-gcc}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/skw2v-sanitize.XXXXXX")
if [[ -z "${KEEP:-}" ]]; then trap 'rm -rf "$WORK"' EXIT; else echo "scratch build: $WORK"; fi

LIBASAN=$("$CC" -print-file-name=libasan.so)
if [[ "$LIBASAN" != /* || ! -e "$LIBASAN" ]]; then
    echo "sanitize.sh: $CC has no libasan.so (install libasan / gcc's sanitizer runtime)" >&2
    exit 2
fi

cd "$ROOT"
cp -r setup.py pyproject.toml _build_utils skw2v tests tools "$WORK"/
rm -f "$WORK"/skw2v/*.so "$WORK"/skw2v/_core.c "$WORK"/skw2v/_openmp_helpers.c
cd "$WORK"
echo "== building with -fsanitize=address,undefined ($CC)"
if ! CC="$CC" SKW2V_SANITIZE=address,undefined "$PYTHON" setup.py build_ext --inplace \
        >build.log 2>&1; then
    cat build.log
    exit 1
fi
# The build must really be instrumented, else the run below proves nothing.
for so in skw2v/_core*.so skw2v/_openmp_helpers*.so; do
    deps=$(ldd "$so")  # not piped into grep -q: with pipefail, SIGPIPE would fail the check
    for lib in libasan libubsan; do
        [[ "$deps" == *"$lib"* ]] || { echo "sanitize.sh: $so is not linked to $lib" >&2; exit 1; }
    done
done
deps=$(ldd skw2v/_core*.so)
[[ $deps =~ (libasan[^ ]*) ]] && asan=${BASH_REMATCH[1]}
[[ $deps =~ (libubsan[^ ]*) ]] && ubsan=${BASH_REMATCH[1]}
echo "   $(ls skw2v/_core*.so) linked to $asan, $ubsan"

export LD_PRELOAD="$LIBASAN"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=0:exitcode=86:detect_stack_use_after_return=1:check_initialization_order=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87"
export PYTHONDONTWRITEBYTECODE=1
status=0
LOG="$WORK/sanitizer.log"

echo "== memcheck suite under ASan+UBSan"
"$PYTHON" tools/memcheck_suite.py 2> >(tee -a "$LOG" >&2) || status=$?

if [[ $# -gt 0 ]]; then
    TESTS=("$@")
else
    # The RSS test is meaningless here: ASan's quarantine keeps freed memory.
    TESTS=(tests/test_reliability.py tests/test_fuzz.py tests/test_concurrency.py
           tests/test_interrupt.py
           --deselect tests/test_reliability.py::test_rss_flat_over_repeated_fits)
fi
echo "== pytest ${TESTS[*]} under ASan+UBSan"
"$PYTHON" -m pytest -q -p no:cacheprovider "${TESTS[@]}" 2> >(tee -a "$LOG" >&2) || status=$?

wait
n_asan=$(grep -c "ERROR: AddressSanitizer" "$LOG" || true)
n_ubsan=$(grep -c "runtime error:" "$LOG" || true)
echo "== sanitizer reports: AddressSanitizer $n_asan, UndefinedBehaviorSanitizer $n_ubsan; exit status $status"
if [[ $status -ne 0 || $n_asan -ne 0 || $n_ubsan -ne 0 ]]; then
    echo "sanitize.sh: FAILED" >&2
    exit 1
fi
echo "sanitize.sh: clean"
