#!/usr/bin/env bash
# Fill .gpurun/ (git-ignored) with what tools/gpu_acceptance.sh needs on the bare, offline
# GPU machine, and check that the whole transfer stays under the device tool's 64 MiB.
#
#     bash tools/prepare_gpu_run.sh [DATA_DIR]          # default ../shared/data
#     WHEELS="pkg==1.2 other==3.4" bash tools/prepare_gpu_run.sh   # also carry wheels
#
# Data: PTB, Brown, WordSim-353, SimLex-999, the Google analogies (~11.5 MB).
# Wheels: none are needed on the H200 image (it has cupy-cuda13x, numpy, scipy,
# scikit-learn and Cython for python3 3.12). WHEELS downloads others for CPython 3.12
# manylinux x86-64 into .gpurun/wheels (no dependencies: name each one); the acceptance
# script installs them with pip --no-index. A CuPy wheel (>100 MB) does not fit.
# Then, from the session whose checkout this is:
#     run(command="bash tools/gpu_acceptance.sh", carry=[".gpurun"], timeout_s=560)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data}
LIMIT=$((64 * 1024 * 1024))
mkdir -p .gpurun/data
for f in ptb.train.txt brown.txt wordsim353.tsv simlex999.txt questions-words.txt; do
    [ -f "$DATA/$f" ] || { echo "missing $DATA/$f" >&2; exit 1; }
    cp -f "$DATA/$f" .gpurun/data/ && chmod u+w ".gpurun/data/$f"
done
if [ -n "${WHEELS:-}" ]; then
    mkdir -p .gpurun/wheels
    # shellcheck disable=SC2086
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        -d .gpurun/wheels $WHEELS
fi
git check-ignore -q .gpurun || { echo ".gpurun is not git-ignored: it would travel twice" >&2; exit 1; }
tree=$(git ls-files -co --exclude-standard -z | xargs -0 -r stat -c %s 2>/dev/null \
       | awk '{s += $1} END {print s + 0}')
carry=$(du -sb .gpurun | cut -f1)
total=$((tree + carry))
awk -v t="$tree" -v c="$carry" 'BEGIN {m = 1048576
    printf "working tree %.1f MiB + .gpurun %.1f MiB = %.1f MiB (limit 64 MiB)\n", t/m, c/m, (t+c)/m}'
[ "$total" -lt "$LIMIT" ] || { echo "too large for one device call" >&2; exit 1; }
ls -la .gpurun/data .gpurun/wheels 2>/dev/null || true
