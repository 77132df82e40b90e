#!/usr/bin/env python3
"""Benchmark: the NNGP and NTK matrices of a relu network over a data file, from Python.

The same work as the command line's route, timed as whole processes beside it
(python/bench/run.sh): read the inputs (whitespace-separated text, one input per row),
compute both N×N matrices, write them as NNGP.npy and NTK.npy to --out.

Usage: kernel.py --inputs FILE [--nonlin relu] [--depth 10] [--out DIR]

Measured (N = 1000 inputs of dimension 10, relu, depth 10, 2 cores, whole processes, medians
of 9 runs): 0.34 s of wall time here against 0.27 s through the command line (starting Python
and importing NumPy and tpc, 0.15 to 0.18 s, are more than the difference); docs/python.md has
the figures.
"""

import argparse
import os

import numpy as np

import tpc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--nonlin", default="relu")
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--out", default="kernels-python")
    args = parser.parse_args()
    x = np.loadtxt(args.inputs, ndmin=2)
    nngp, ntk = tpc.kernel(x, nonlin=args.nonlin, depth=args.depth)
    os.makedirs(args.out, exist_ok=True)
    np.save(os.path.join(args.out, "NNGP.npy"), nngp)
    np.save(os.path.join(args.out, "NTK.npy"), ntk)


if __name__ == "__main__":
    main()
