#!/usr/bin/env bash
# Times tpc.kernel from Python (kernel.py) beside the same work through the command line
# (`tpc gen kernel`, then `tpc eval --out`), as whole processes, and checks that both give
# the same matrices. Needs the package installed (pip install ./python) in the Python on
# PATH (or $PYTHON) and a release build of the CLI (cargo build --release).
#
# Usage: python/bench/run.sh INPUTS.txt [DEPTH]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
inputs="$(realpath "$1")"
depth="${2:-10}"
python="$(command -v "${PYTHON:-python3}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$inputs" "$work/inputs.txt"
cd "$work"
"$root/target/release/tpc" gen kernel --nonlin relu --depth "$depth" --inputs inputs.txt --ntk > kernel.tp
# bash's `time`: wall, user and system seconds of each whole process.
TIMEFORMAT='%R s wall, %U s user, %S s system'
for run in 1 2 3 4 5; do
    echo "run $run"
    echo -n "  command line: "
    { time "$root/target/release/tpc" eval kernel.tp --out cli > /dev/null 2>&1; } 2>&1
    echo -n "  Python:       "
    { time "$python" "$root/python/bench/kernel.py" --inputs inputs.txt --depth "$depth" --out py; } 2>&1
done
"$python" - <<'PY'
import numpy as np
for name in ["NNGP", "NTK"]:
    a, b = np.load(f"cli/{name}.npy"), np.load(f"py/{name}.npy")
    assert np.array_equal(a, b), name
print("the same matrices, bit for bit")
PY
