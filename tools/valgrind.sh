#!/usr/bin/env bash
# Run valgrind memcheck on a small fit / transform workload
# (tools/memcheck_suite.py --quick) and say whether any error comes from
# skw2v's compiled code.
#
#   tools/valgrind.sh                 # exit 1 if an error involves skw2v
#   tools/valgrind.sh --full          # the full memcheck suite (slower)
#   KEEP=1 tools/valgrind.sh          # keep the scratch build and the log
#
# skw2v is built with -g in a scratch copy of the repository (the checkout's
# build is untouched), so reports carry C/.pyx line numbers. PYTHONMALLOC=malloc
# routes CPython's small-object allocator through malloc, which valgrind
# tracks. With --track-origins=yes an error counts as skw2v's when its stack or
# the origin of an uninitialised value has a frame in skw2v's extension
# modules; everything else (CPython, NumPy, BLAS, libgomp, ld.so) is counted
# and summarised by library but does not fail the run.
# tools/valgrind-python.supp suppresses known ld.so noise.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python}
SUITE_ARGS=(--quick)
[[ "${1:-}" == "--full" ]] && SUITE_ARGS=()
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/skw2v-valgrind.XXXXXX")
if [[ -z "${KEEP:-}" ]]; then trap 'rm -rf "$WORK"' EXIT; else echo "scratch build: $WORK"; fi

cd "$ROOT"
cp -r setup.py pyproject.toml _build_utils skw2v tools "$WORK"/
rm -f "$WORK"/skw2v/*.so "$WORK"/skw2v/_core.c "$WORK"/skw2v/_openmp_helpers.c
cd "$WORK"
echo "== building with -g"
if ! CFLAGS="-g" "$PYTHON" setup.py build_ext --inplace >build.log 2>&1; then
    cat build.log
    exit 1
fi

# The interpreter itself, not a wrapper script (pyenv shims exec it, and
# valgrind would then follow only the shell).
PYEXE=$("$PYTHON" -c 'import sys; print(sys.executable)')
echo "== valgrind $(valgrind --version) memcheck: $PYEXE tools/memcheck_suite.py ${SUITE_ARGS[*]}"
start=$(date +%s)
PYTHONMALLOC=malloc valgrind --tool=memcheck --num-callers=40 --leak-check=no \
    --track-origins=yes --suppressions=tools/valgrind-python.supp \
    --log-file="$WORK/memcheck.log" \
    "$PYEXE" tools/memcheck_suite.py "${SUITE_ARGS[@]}"
echo "   ($(( $(date +%s) - start )) s under valgrind; log: memcheck.log)"
grep "ERROR SUMMARY" "$WORK/memcheck.log" | sed 's/^==[0-9]*== /   valgrind: /'

"$PYTHON" - "$WORK/memcheck.log" <<'PY'
import collections
import re
import sys

text = open(sys.argv[1]).read()
lines = [re.sub(r"^==\d+== ?", "", line) for line in text.splitlines()]
blocks, block = [], []
for line in lines + [""]:
    if line.strip():
        block.append(line)
    elif block:
        blocks.append(block)
        block = []
# An error block names its problem, then "at 0x..." / "by 0x..." frames.
errors = [b for b in blocks if len(b) > 1 and re.match(r"\s+at 0x", b[1])]
ours_re = re.compile(r"skw2v/|5skw2v_")  # skw2v's .so files and Cython's mangled names
ours = [e for e in errors if any(ours_re.search(line) for line in e)]
others = [e for e in errors if e not in ours]


def library(err):
    m = re.search(r"\((?:in )?([^():]+?)(?::\d+)?\)$", err[1])
    origin = next((e for e in err if "was created by" in e), None)
    top = m.group(1).rsplit("/", 1)[-1] if m else "?"
    if origin is not None:
        i = err.index(origin)
        frames = [f for f in err[i + 1:] if "malloc" not in f and "alloc (" not in f][:1]
        top += " (origin: " + (frames[0].split(": ", 1)[-1].strip() if frames else "?") + ")"
    return f"{err[0].strip()} in {top}"


print(f"memcheck error contexts: {len(ours)} involving skw2v frames, {len(others)} elsewhere")
for err in ours[:10]:
    print("\n".join("   " + line for line in err[:14]))
for what, n in collections.Counter(map(library, others)).most_common(6):
    print(f"   elsewhere x{n}: {what}")
sys.exit(1 if ours else 0)
PY
echo "valgrind.sh: no memcheck error involves skw2v"
