#!/usr/bin/env bash
# Quadrature on trained μP tanh networks (docs/evaluation.md, "Smooth integrands in three to
# six dimensions" and "Integrating out along the chain of conditional Gaussians"): for each
# program, wall and CPU time of `tpc eval` and the largest error bar of its outputs. The
# depth-2 program after two steps runs under the defaults (auto keeps it on quadrature now
# that its 5-D integral reduces to 4-D) and at a loose tolerance.
#
# Usage: benches/quadrature_targets.sh            (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
tpc=target/release/tpc
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
run() { # depth steps eval-flags...
    local depth=$1 steps=$2
    shift 2
    "$tpc" gen mlp --depth "$depth" --param mup --nonlin tanh --steps "$steps" >"$dir/p.tp"
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -f '%U %S' -o "$dir/cpu" "$tpc" eval "$dir/p.tp" --format json "$@" >"$dir/out.json" 2>/dev/null
    end=$(date +%s.%N)
    python3 - "$dir/out.json" "$depth" "$steps" "$(echo "$end - $start" | bc)" "$(awk '{print $1 + $2}' "$dir/cpu")" "$*" <<'PY'
import json, sys
path, depth, steps, wall, cpu, flags = sys.argv[1:]
data = json.load(open(path))
worst = 0.0
def flat(node):
    global worst
    if isinstance(node, list):
        for v in node:
            flat(v)
    elif isinstance(node, (int, float)):
        worst = max(worst, node)
def walk(node):
    global worst
    if isinstance(node, dict):
        for key, v in node.items():
            if key == "error":
                flat(v)
            else:
                walk(v)
    elif isinstance(node, list):
        for v in node:
            walk(v)
walk(data.get("outputs", data))
methods = sorted({v.get("method", "?") for v in data.get("outputs", {}).values()})
print(f"depth {depth}  T = {steps}  {flags or '(defaults)':<24} wall {float(wall):6.2f} s  cpu {float(cpu):6.2f} s  largest error {worst:.1e}  {'/'.join(methods)}")
PY
}
for steps in 1 2 3; do run 1 "$steps"; done
for steps in 1 2; do run 2 "$steps"; done
run 2 2 --max-dim 5 --tol 1e-7
