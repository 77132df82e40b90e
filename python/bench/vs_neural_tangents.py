#!/usr/bin/env python3
"""tpc.kernel beside neural-tangents' stax on the same inputs: the largest differences of the
NNGP and NTK matrices, and the time of each (in one process, after a warm-up call each).

Needs neural-tangents (with JAX, float64 enabled here) and tpc in one environment; not part
of the tests. Usage: vs_neural_tangents.py --inputs FILE [--depth 10] [--nonlin relu|erf]
"""

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
from neural_tangents import stax  # noqa: E402

import tpc  # noqa: E402


def stax_kernel_fn(depth: int, nonlin: str):
    w_std = np.sqrt(2.0 if nonlin == "relu" else 1.0)
    phi = {"relu": stax.Relu, "erf": stax.Erf}[nonlin]
    layers = []
    for _ in range(depth):
        layers += [stax.Dense(1, W_std=w_std, parameterization="ntk"), phi()]
    layers.append(stax.Dense(1, W_std=w_std, parameterization="ntk"))
    return stax.serial(*layers)[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--nonlin", default="relu")
    args = parser.parse_args()
    x = np.loadtxt(args.inputs, ndmin=2)
    kernel_fn = jax.jit(stax_kernel_fn(args.depth, args.nonlin), static_argnames="get")

    def ours():
        return tpc.kernel(x, nonlin=args.nonlin, depth=args.depth)

    def theirs():
        k = kernel_fn(x, x, get=("nngp", "ntk"))
        return np.asarray(k.nngp), np.asarray(k.ntk)

    results = {}
    for name, f in [("tpc", ours), ("neural-tangents", theirs)]:
        f()
        times = []
        for _ in range(5):
            start = time.perf_counter()
            results[name] = f()
            times.append(time.perf_counter() - start)
        print(f"{name:16s} median {1e3 * np.median(times):8.1f} ms over 5 calls")
    for i, kind in enumerate(["NNGP", "NTK"]):
        a, b = results["tpc"][i], results["neural-tangents"][i]
        print(f"{kind}: max |difference| {np.abs(a - b).max():.2e}, "
              f"relative {np.abs(a - b).max() / np.abs(b).max():.2e}")


if __name__ == "__main__":
    main()
