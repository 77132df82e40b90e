#!/usr/bin/env python3
"""Benchmark: the NNGP and NTK matrices of a relu network over a data file, from Python.

The same work as the command line's route, timed as whole processes beside it
(python/bench/run.sh): read the inputs (whitespace-separated text, one input per row),
compute both N×N matrices, write them as NNGP.npy and NTK.npy to --out.

Usage: kernel.py --inputs FILE [--nonlin relu] [--depth 10] [--out DIR]

Measured (N = 1000 inputs of dimension 10, relu, depth 10, 2 cores shared with other work,
whole processes, medians of 7 runs): 0.77 s of wall time here against 0.51 s through the
command line (Python's start and NumPy's import, 0.1 to 0.17 s, are most of the difference);
docs/python.md has the figures.
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
