"""The computation of benches/simulate.rs in NumPy, for comparison (not used by tests).

A 3-hidden-layer tanh MLP on two inputs, forward and backward, at n = 4096: two n x n
Gaussian matrices (PCG64 + ziggurat), eight matrix-vector products, elementwise tanh and
moments. Prints the median time per run over `RUNS` runs.

    python3 benches/numpy_mlp.py
"""

import time

import numpy as np

N = 4096
RUNS = 10


def run(n, seed):
    rng = np.random.default_rng(seed)
    xi = np.array([[1.0, 0.0], [0.6, 0.8]])
    cov = 1.5 * xi @ xi.T / 2 + 0.1
    values, vectors = np.linalg.eigh(cov)
    factor = vectors * np.sqrt(np.maximum(values, 0.0))
    h1 = factor @ rng.standard_normal((2, n))  # rows: h1[0], h1[1]
    scale = np.sqrt(1.5 / n)
    w2 = rng.standard_normal((n, n)) * scale
    w3 = rng.standard_normal((n, n)) * scale
    dx3 = rng.standard_normal(n)
    out = []
    grads = []
    for i in range(2):
        x1 = np.tanh(h1[i])
        h2 = w2 @ x1
        x2 = np.tanh(h2)
        h3 = w3 @ x2
        x3 = np.tanh(h3)
        dh3 = dx3 * (1 - np.tanh(h3) ** 2)
        dx2 = w3.T @ dh3
        dh2 = dx2 * (1 - np.tanh(h2) ** 2)
        dx1 = w2.T @ dh2
        dh1 = dx1 * (1 - np.tanh(h1[i]) ** 2)
        out.append(x3)
        grads.append(dh1)
    return [np.mean(out[i] * out[j]) for i in range(2) for j in range(i, 2)] + [
        np.mean(grads[i] * grads[j]) for i in range(2) for j in range(i, 2)
    ]


def main():
    run(N, 0)
    times = []
    for seed in range(1, RUNS + 1):
        start = time.perf_counter()
        run(N, seed)
        times.append(time.perf_counter() - start)
    times.sort()
    print(f"numpy {np.__version__}: n = {N}, median {times[len(times) // 2] * 1e3:.1f} ms per run")


if __name__ == "__main__":
    main()
