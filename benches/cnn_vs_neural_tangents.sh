#!/usr/bin/env bash
# The NNGP of a 2-D CNN (DEPTH × conv 3×3 SAME + relu, global average pooling, dense) on N random
# images of SIZE×SIZE×3, by tpc and by neural-tangents' stax, as whole processes; then the
# largest difference between the two matrices.
#
# Usage: benches/cnn_vs_neural_tangents.sh NT_PYTHON [N] [SIZE] [DEPTH] [RUNS]
#   NT_PYTHON  a Python with neural-tangents and JAX installed (not part of this repository)
#   N          images (default 100);  SIZE  height and width (default 8)
#   DEPTH      convolution layers (default 3);  RUNS  timed runs of each command (default 3)
#
# Steps: the images, standard normal with seed 0 (NumPy's default_rng), are written to
# target/bench-cnn/images.npy and .json; target/release/tpc; `tpc gen cnn --dims 2 --kernel 3
# --padding same --depth DEPTH --inputs images.json` writes target/bench-cnn/cnn.tp; then
#   A = tpc eval cnn.tp --out target/bench-cnn/out              (writes NNGP.npy)
#   B = NT_PYTHON benches/cnn_neural_tangents.py --images images.npy --depth DEPTH
# are timed as whole processes (start-up, JAX's compilation, reading and writing included).
#
# Timing: benches/paired_timing.sh (with TIMER set, a timer that alternates A and B and reports
# the paired ratio; otherwise median wall seconds under /usr/bin/time).
set -euo pipefail

[ $# -ge 1 ] || { sed -n '2,10p' "$0"; exit 2; }
nt_python=$1; n=${2:-100}; size=${3:-8}; depth=${4:-3}; runs=${5:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/target/bench-cnn
mkdir -p "$work"

"$nt_python" - "$n" "$size" "$work" <<'PY'
import json, sys
import numpy as np
n, size, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
x = np.random.default_rng(0).standard_normal((n, size, size, 3))
np.save(f"{work}/images.npy", x)
with open(f"{work}/images.json", "w") as f:
    json.dump(x.tolist(), f)
PY
(cd "$root" && cargo build --release --quiet)
tpc=$root/target/release/tpc
"$tpc" gen cnn --dims 2 --kernel 3 --padding same --depth "$depth" \
    --inputs "$work/images.json" > "$work/cnn.tp"
a=("$tpc" eval "$work/cnn.tp" --out "$work/out")
b="$nt_python $root/benches/cnn_neural_tangents.py --images $work/images.npy --depth $depth"
# shellcheck source=benches/paired_timing.sh
source "$root/benches/paired_timing.sh"
paired_timing "$runs" "$work" "$b" "${a[@]}"

echo "accuracy of tpc's matrix against neural-tangents':"
"${a[@]}" > /dev/null
$b --compare "$work/out/NNGP.npy"
