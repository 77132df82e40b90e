#!/usr/bin/env bash
# tpc's NNGP/NTK kernel matrices against a vectorized NumPy closed-form recursion, as whole
# processes, then the accuracy of tpc's matrices against NumPy's.
#
# Usage: benches/kernels_vs_numpy.sh PEER DATA DEPTH NONLIN [RUNS]
#   PEER    the NumPy peer script (not part of this repository), called as
#           python PEER --phi NONLIN --depth DEPTH --inputs DATA --repeat 1
#                       [--compare-nngp NNGP.npy --compare-ntk NTK.npy]
#   DATA    inputs, one per row, whitespace-separated ('#' comments): what both sides read
#   DEPTH   hidden layers L;  NONLIN relu | erf | tanh (σw² = 2 for relu, 1 otherwise, no bias)
#   RUNS    timed runs of each command (default 5)
#
# Steps: a venv under target/bench-venv with numpy and scipy (for this benchmark only; the tests
# never need Python); target/release/tpc; `tpc gen kernel --ntk` writes
# target/bench-kernels/kernels.tp, reading DATA by its absolute path; then
#   A = tpc eval kernels.tp --out target/bench-kernels/out     (writes NNGP.npy and NTK.npy)
#   B = python PEER ... --repeat 1
# are timed as whole processes (start-up, reading the data and writing results included), and
# the peer compares the matrices tpc wrote with its own (max relative error).
#
# Timing: benches/paired_timing.sh (with TIMER set, a timer that alternates A and B and reports
# the paired ratio; otherwise median wall seconds under /usr/bin/time).
set -euo pipefail

[ $# -ge 4 ] || { sed -n '2,10p' "$0"; exit 2; }
peer=$(realpath "$1"); data=$(realpath "$2"); depth=$3; nonlin=$4; runs=${5:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/target/bench-kernels
venv=$root/target/bench-venv
mkdir -p "$work"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet numpy scipy
fi
python=$venv/bin/python
(cd "$root" && cargo build --release --quiet)
tpc=$root/target/release/tpc

"$tpc" gen kernel --nonlin "$nonlin" --depth "$depth" --inputs "$data" --ntk > "$work/kernels.tp"
a=("$tpc" eval "$work/kernels.tp" --out "$work/out")
b="$python $peer --phi $nonlin --depth $depth --inputs $data --repeat 1"
# shellcheck source=benches/paired_timing.sh
source "$root/benches/paired_timing.sh"
paired_timing "$runs" "$work" "$b" "${a[@]}"

echo "accuracy of tpc's matrices against the peer's:"
$b --compare-nngp "$work/out/NNGP.npy" --compare-ntk "$work/out/NTK.npy"
