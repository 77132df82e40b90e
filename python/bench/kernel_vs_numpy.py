#!/usr/bin/env python3
"""Benchmark: tpc.kernel beside a vectorized NumPy closed-form recursion, in one process.

Both compute the NNGP and NTK matrices of a relu network without bias (σw² = 2) over the
rows of a data file: NumPy over the full N×N matrices with the arc-cosine closed form
(`θ` from arctan2), tpc by `tpc.kernel(X, nonlin="relu", depth=L)`. After one warm-up call
each, the two alternate RUNS times; the medians, the ratio tpc/NumPy run by run, and the
largest relative difference between the two results are printed.

Usage: kernel_vs_numpy.py --inputs FILE [--depth 10] [--runs 9]

Measured figures are in docs/python.md.
"""

import argparse
import time

import numpy as np

import tpc


def numpy_relu_kernels(x: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """NNGP and NTK of a relu network (σw² = 2, no bias) by the closed-form recursion."""
    sw2 = 2.0
    sigma = (sw2 / x.shape[1]) * (x @ x.T)
    theta = sigma.copy()
    for _ in range(depth):
        q = np.diagonal(sigma).copy()
        root = np.sqrt(np.maximum(q[:, None] * q[None, :] - sigma * sigma, 0.0))
        angle = np.pi - np.arctan2(root, sigma)
        relu = sw2 * (root + angle * sigma) / (2 * np.pi)
        step = sw2 * angle / (2 * np.pi)
        theta = relu + step * theta
        sigma = relu
    return sigma, theta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    x = np.loadtxt(args.inputs, ndmin=2)
    tpc.kernel(x, nonlin="relu", depth=args.depth)
    numpy_relu_kernels(x, args.depth)
    ours, theirs = [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        nngp, ntk = tpc.kernel(x, nonlin="relu", depth=args.depth)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        sigma, theta = numpy_relu_kernels(x, args.depth)
        theirs.append(time.perf_counter() - start)
    ratios = [a / b for a, b in zip(ours, theirs)]
    difference = max(
        np.max(np.abs(nngp - sigma) / np.abs(sigma)), np.max(np.abs(ntk - theta) / np.abs(theta))
    )
    print(
        f"tpc.kernel {1e3 * np.median(ours):.0f} ms, NumPy {1e3 * np.median(theirs):.0f} ms "
        f"(medians of {args.runs}); ratio {np.median(ratios):.2f} "
        f"(from {min(ratios):.2f} to {max(ratios):.2f}); largest relative difference "
        f"{difference:.1e}"
    )


if __name__ == "__main__":
    main()
