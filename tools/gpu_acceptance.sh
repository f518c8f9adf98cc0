#!/usr/bin/env bash
# One-shot GPU acceptance run: build, GPU tests, launch/vocabulary sweep, PTB+Brown
# benchmark against the CPU, memcheck. About 5 minutes on one H100/H200; results in $OUT.
#
# Prepare here (once, on the CPU machine, in the checkout that the device tool sends):
#     bash tools/prepare_gpu_run.sh         # fills .gpurun/ (git-ignored): data files, size check
# Then one call of the device tool, from the session that owns that checkout:
#     run(command="bash tools/gpu_acceptance.sh", carry=[".gpurun"], timeout_s=560)
# The machine is bare and offline and gets no ../shared: the five data files travel in
# .gpurun/data. Its image already holds CuPy (cupy-cuda13x), NumPy, SciPy, scikit-learn
# and Cython for its python3 (3.12); no wheel needs to travel (a cupy wheel would not fit
# the 64 MiB anyway). Wheels put in .gpurun/wheels by the prepare script are installed
# first (pip --no-index --target, no network).
#
# Dry run on a machine without a GPU, against the CUDA emulator (tests/_cuda_emulator.py):
#     SKW2V_GPU_EMULATE=1 OUT=/tmp/gpu_dry bash tools/gpu_acceptance.sh
# It produces the same files with tiny sizes (the emulator is slow: ~10 minutes on 2 cores).
#
# Files in $OUT (8 at most come back from the device machine):
#   summary.txt   environment, step times and exit codes, sweep and benchmark tables
#   build.log     the offline build
#   pytest.log    GPU tests (emulated kernel tests in a dry run)
#   junit.xml     the same, per test
#   sweep.json    words/s by vocabulary size, path, launch geometry; registers, occupancy
#   bench.json    PTB+Brown and synthetic: words/s and quality, CPU vs GPU
#   bench.log     the benchmark's table
#   memcheck.log  compute-sanitizer memcheck of small launches
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 CUPY_CACHE_DIR=/tmp/cupy_cache PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
OUT=${OUT:-/tmp/gpu_out}
PY=${PY:-python3}
EMU=${SKW2V_GPU_EMULATE:-0}
JOBS=$(nproc 2>/dev/null || echo 2)
DATA=.gpurun/data
[ -d "$DATA" ] || DATA=../shared/data
export SKW2V_DATA_DIR="$PWD/$DATA"
mkdir -p "$OUT"
: >"$OUT/summary.txt"
T0=$(date +%s)
# Every step's timeout is capped by what is left of the budget, so the script ends (and
# its files are there) before the device tool's own limit.
BUDGET=${SKW2V_GPU_BUDGET_S:-$([ "$EMU" = 1 ] && echo 7200 || echo 540)}
SLOW=$([ "$EMU" = 1 ] && echo 10 || echo 1)   # the emulator is ~10x slower per step
cap() { local want=$(( $1 * SLOW )) left=$(( BUDGET - ($(date +%s) - T0) - 5 ))
        [ "$left" -lt "$want" ] && echo $(( left > 1 ? left : 1 )) || echo "$want"; }
step() { echo "=== $1 +$(( $(date +%s) - T0 ))s $(date +%T)" | tee -a "$OUT/summary.txt"; }
note() { echo "$*" | tee -a "$OUT/summary.txt"; }

step "env (emulated=$EMU, data=$DATA)"
{ nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv 2>&1 || echo "no nvidia-smi"
  uname -m; nproc
  $PY - <<'EOF'
import sys, numpy, scipy, sklearn
print("python", sys.version.split()[0], "numpy", numpy.__version__, "scipy", scipy.__version__,
      "sklearn", sklearn.__version__)
try:
    import cupy
    print("cupy", cupy.__version__, "CUDA runtime", cupy.cuda.runtime.runtimeGetVersion())
except Exception as exc:
    print("cupy absent:", type(exc).__name__, exc)
EOF
} 2>&1 | tee -a "$OUT/summary.txt"
if ls .gpurun/wheels/*.whl >/dev/null 2>&1; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/skw2v_site \
        .gpurun/wheels/*.whl 2>&1 | tail -3 | tee -a "$OUT/summary.txt"
    export PYTHONPATH="$PYTHONPATH:/tmp/skw2v_site"
fi

step build   # offline: in place, no build isolation, nothing fetched
if [ "${SKW2V_SKIP_BUILD:-0}" = 1 ]; then
    echo "skipped (SKW2V_SKIP_BUILD=1)" >"$OUT/build.log"
else
    timeout "$(cap 150)" $PY setup.py build_ext --inplace -j "$JOBS" >"$OUT/build.log" 2>&1
    rc=$?; note "build rc=$rc"
    if [ $rc -ne 0 ]; then tail -40 "$OUT/build.log"; note "build failed: stopping"; exit 1; fi
fi
$PY -c "import skw2v; skw2v.show_config()" 2>&1 | tail -8 | tee -a "$OUT/summary.txt"

step tests
if [ "$EMU" = 1 ]; then   # the emulated kernel tests and the compile checks
    TESTS=(tests/test_gpu.py -m "not gpu")
else                      # every GPU test: kernels vs the CPU, sizes, quality parity, estimator
    TESTS=(-m gpu tests/test_gpu.py tests/test_losses.py tests/test_pretrained.py)
fi
timeout "$(cap 150)" $PY -m pytest -q -ra -p no:cacheprovider "${TESTS[@]}" --junitxml="$OUT/junit.xml" \
    >"$OUT/pytest.log" 2>&1
note "pytest rc=$? ($(tail -1 "$OUT/pytest.log"))"
grep -E "^(FAILED|ERROR)" "$OUT/pytest.log" | head -20 | tee -a "$OUT/summary.txt"

step sweep   # pre-generated Zipf ids: no tokenisation in the timings
if [ "$EMU" = 1 ]; then SWEEP=(--emulate --ptxas --tokens 2000 --vocab 50 2000); else SWEEP=(--tokens 10000000); fi
timeout "$(cap 120)" $PY tools/gpu_sweep.py "$OUT/sweep.json" "${SWEEP[@]}" >"$OUT/sweep.log" 2>&1
note "sweep rc=$?"
tail -60 "$OUT/sweep.log" >>"$OUT/summary.txt"; tail -14 "$OUT/sweep.log"; rm -f "$OUT/sweep.log"

step bench   # CPU (all cores) vs GPU: speed, WS353 / SimLex / analogies, topic precision
if [ "$EMU" = 1 ]; then
    BENCH=(--emulate --max-tokens 3000 --synthetic-tokens 3000 --epochs 1)
else
    BENCH=(--synthetic-tokens 2000000 --epochs 5)
fi
timeout "$(cap 130)" $PY benchmarks/bench_gpu.py --data "$DATA" "${BENCH[@]}" \
    --archs skipgram cbow skipgram-batched --out "$OUT/bench.json" >"$OUT/bench.log" 2>&1
note "bench rc=$?"
tail -16 "$OUT/bench.log" | tee -a "$OUT/summary.txt"

step memcheck   # out-of-bounds accesses on small launches (compute-sanitizer works on Firecracker)
if [ "$EMU" = 1 ] || ! command -v compute-sanitizer >/dev/null; then
    echo "skipped: no compute-sanitizer / no GPU (emulated=$EMU)" >"$OUT/memcheck.log"
    note "memcheck skipped"
else
    timeout "$(cap 60)" compute-sanitizer --tool memcheck --error-exitcode 9 $PY -m pytest -q -m gpu \
        -p no:cacheprovider tests/test_gpu.py -k "one_step or batched or driver_contract" \
        >"$OUT/memcheck.log" 2>&1
    note "memcheck rc=$? ($(grep -c 'Invalid' "$OUT/memcheck.log") invalid accesses)"
    tail -3 "$OUT/memcheck.log"
fi
step done
ls -la "$OUT" | tee -a "$OUT/summary.txt"
