#!/usr/bin/env bash
# Computes the kernel matrices of a tpc program tile by tile and assembles them: the pattern of
# a job array (one `tpc eval --rows --cols` per task on a cluster), run here with a shell loop.
#
# Usage: examples/kernel_tiles.sh PROGRAM.tp N T OUT_DIR
#   PROGRAM.tp  a program whose outputs are N×N families over its inputs (e.g. `tpc gen kernel`)
#   N           the number of inputs (rows of its data file)
#   T           tiles per side: T×T tasks, each writing OUT_DIR/tile_R_C/NAME.npy
#   OUT_DIR     receives the assembled NAME.npy files (needs python3 with numpy)
# The tpc binary is $TPC, or `tpc` on the PATH.
set -euo pipefail
[ $# -eq 4 ] || { sed -n '2,11p' "$0"; exit 2; }
program=$1; n=$2; tiles=$3; out=$4
tpc=${TPC:-tpc}
mkdir -p "$out"

step=$(( (n + tiles - 1) / tiles ))
for ((r = 0; r < n; r += step)); do
    for ((c = 0; c < n; c += step)); do
        rows="$r..$(( r + step < n ? r + step : n ))"
        cols="$c..$(( c + step < n ? c + step : n ))"
        # On a cluster, each of these lines is one task of the job array.
        "$tpc" eval "$program" --rows "$rows" --cols "$cols" --out "$out/tile_${r}_${c}" >/dev/null
    done
done

python3 - "$out" "$n" <<'PY'
import glob, json, os, sys
import numpy as np
out, n = sys.argv[1], int(sys.argv[2])
names = {}
for tile in sorted(glob.glob(os.path.join(out, "tile_*"))):
    meta = json.load(open(os.path.join(tile, "outputs.json")))["outputs"]
    for name, entry in meta.items():
        if "file" not in entry:
            continue
        block = np.load(os.path.join(tile, entry["file"]))
        (r, c), (h, w) = entry["start"], block.shape
        whole = names.setdefault(name, np.full((n, n), np.nan))
        whole[r:r + h, c:c + w] = block
for name, whole in names.items():
    np.save(os.path.join(out, name + ".npy"), whole)
    print(f"{name}: {whole.shape}, assembled from tiles")
PY
