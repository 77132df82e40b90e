"""Reference NNGP kernel of programs/batchnorm_nngp.tp by an independent 1-D integral (NumPy and
SciPy; run by hand, never by the tests): python batchnorm_reference.py > batchnorm.txt

The pre-activations (h_0, h_1, h_2) of the batch are N(0, S) with S the arc-cosine kernel of the
inputs. Batch norm sees only the centred batch c = P h (P = I - 11^T/3), y = sqrt(3) c / |c|.
In an orthonormal basis B of the plane orthogonal to (1, 1, 1), c = B L z with L L^T =
B^T P S P B and z standard 2-D normal; y depends only on the direction u(t) = (cos t, sin t)
of z, which is uniform. So E[relu(y_i) relu(y_j)] = (1/2 pi) int_0^{2 pi} 3 relu(c_i) relu(c_j)
/ |c|^2 dt with c = B L u(t), integrated by adaptive quadrature between the zeros of c_i, c_j.
"""
import numpy as np
from scipy.integrate import quad

xi = np.array([[1, 0], [0.9, 1.2], [-0.4, 0.8]])
sw2 = 2.0


def relu_relu(q1, q2, c):
    s = np.sqrt(q1 * q2)
    t = np.arccos(np.clip(c / s, -1, 1))
    return s / (2 * np.pi) * (np.sin(t) + (np.pi - t) * np.cos(t))


S1 = sw2 * xi @ xi.T / 2
S2 = np.array([[sw2 * relu_relu(S1[i, i], S1[j, j], S1[i, j]) for j in range(3)] for i in range(3)])
P = np.eye(3) - np.ones((3, 3)) / 3
B = np.linalg.svd(P)[0][:, :2]
L = np.linalg.cholesky(B.T @ P @ S2 @ P @ B)
M = B @ L  # c(t) = M u(t)

for i in range(3):
    for j in range(i, 3):
        def f(t):
            c = M @ np.array([np.cos(t), np.sin(t)])
            return 3 * max(c[i], 0) * max(c[j], 0) / (c @ c)

        zeros = sorted({(np.arctan2(-M[k, 0], M[k, 1]) + m * np.pi) % (2 * np.pi) for k in (i, j) for m in (0, 1)})
        edges = [0.0] + zeros + [2 * np.pi]
        total = sum(quad(f, a, b, epsabs=1e-14, epsrel=1e-12, limit=200)[0] for a, b in zip(edges, edges[1:]))
        print(f"batchnorm {i} {j} {sw2 * total / (2 * np.pi)!r}")
