#!/usr/bin/env python3
"""The NNGP of a 2-D CNN by neural-tangents' stax (float64, CPU): depth × (Conv 3×3 SAME, relu)
→ GlobalAvgPool → Dense, NTK parametrization, σw² = 2, no biases: the network `tpc gen cnn
--dims 2 --kernel 3 --padding same --depth DEPTH` writes.

Usage: cnn_neural_tangents.py --images X.npy [--depth 3] [--compare NNGP.npy]
  --images   images of shape (N, H, W, C), float64 (NHWC)
  --compare  a matrix tpc wrote (upper triangle defined): prints the largest difference

Needs neural-tangents (with JAX); the benchmark's peer side, never part of the tests.
"""

import argparse
import sys

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
from neural_tangents import stax  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", required=True)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--compare")
    args = parser.parse_args()
    x = np.load(args.images)
    w_std = np.sqrt(2.0)
    layers = []
    for _ in range(args.depth):
        layers += [stax.Conv(1, (3, 3), padding="SAME", W_std=w_std, b_std=None), stax.Relu()]
    layers += [stax.GlobalAvgPool(), stax.Dense(1, W_std=w_std, b_std=None)]
    kernel_fn = stax.serial(*layers)[2]
    nngp = np.asarray(kernel_fn(x, x, "nngp"))
    if args.compare:
        theirs = np.load(args.compare)
        upper = np.triu_indices(len(x))
        difference = np.abs(theirs[upper] - nngp[upper])
        print(
            f"NNGP: largest difference {difference.max():.3g}, largest relative "
            f"{(difference / np.abs(nngp[upper])).max():.3g} over {len(difference)} entries"
        )
        sys.exit(0 if np.isfinite(difference).all() else 1)


if __name__ == "__main__":
    main()
