"""Values against closed forms: scalars, kernel matrices, consts."""

import numpy as np
import pytest

import tpc

# Reference case 3 (docs/reference-values.md): the minimal program with a nonzero ZDot;
# m1 → 2 E[tanh'(Z^h)], Z^h ~ N(0, 2) = 0.960048508672 (12 digits given there).
TRANSPOSE = """\
matrix W ~ N(0, 2/n)
vector x ~ N(0, 1)
h = W @ x
y = W.T @ tanh(h)
m1 = mean(x * y)
"""


def test_scalar_matches_its_reference_value():
    result = tpc.compile(TRANSPOSE).eval()["m1"]
    assert isinstance(result.value, float) and isinstance(result.error, float)
    # The reference value is given to 12 digits; the exact method's error is at rounding.
    assert abs(result.value - 0.960048508672) < 1e-11
    assert result.error < 1e-12
    assert result.method == "exact"
    assert result.start is None
    assert float(result) == result.value


def relu_kernels(x, depth, sw2=2.0, sb2=0.0):
    """The arc-cosine recursion of an NTK-parametrized relu network, written independently."""
    k = sw2 * x @ x.T / x.shape[1] + sb2
    theta = k.copy()
    for _ in range(depth):
        q = np.sqrt(np.diag(k))
        rho = np.clip(k / np.outer(q, q), -1.0, 1.0)
        angle = np.arccos(rho)
        e = np.outer(q, q) * (np.sin(angle) + (np.pi - angle) * rho) / (2 * np.pi)
        e_prime = (np.pi - angle) / (2 * np.pi)
        k, theta = sw2 * e + sb2, sw2 * e + sb2 + sw2 * e_prime * theta
    return k, theta


@pytest.mark.parametrize("depth,bias", [(1, 0.0), (3, 0.1), (10, 0.0)])
def test_relu_kernel_matches_the_arc_cosine_recursion(depth, bias):
    x = np.random.default_rng(1).standard_normal((40, 7))
    nngp, ntk = tpc.kernel(x, nonlin="relu", depth=depth, bias=bias)
    want_nngp, want_ntk = relu_kernels(x, depth, sb2=bias)
    assert nngp.shape == ntk.shape == (40, 40)
    assert nngp.dtype == ntk.dtype == np.float64
    # Closed forms on both sides: agreement to rounding, amplified by arccos near ρ = ±1
    # (the diagonal), which costs up to ~1e-8 relative of the entry (√ of rounding).
    np.testing.assert_allclose(nngp, want_nngp, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(ntk, want_ntk, rtol=1e-7, atol=1e-12)
    # Off the diagonal the entries are far from ρ = ±1 here: rounding level.
    off = ~np.eye(40, dtype=bool)
    np.testing.assert_allclose(nngp[off], want_nngp[off], rtol=1e-11)


def test_erf_nngp_matches_the_arcsine_form():
    # Σ^{l+1} = σw² (2/π) arcsin(2c / √((1+2q₁)(1+2q₂))) + σb² (reference case 1), σw² = 1.
    x = np.random.default_rng(2).standard_normal((12, 3))
    nngp, ntk = tpc.kernel(x, nonlin="erf", depth=2, bias=0.2, ntk=False)
    k = x @ x.T / 3 + 0.2
    for _ in range(2):
        d = 1 + 2 * np.diag(k)
        k = (2 / np.pi) * np.arcsin(2 * k / np.sqrt(np.outer(d, d))) + 0.2
    assert ntk is None
    # erf has a closed form in tpc as well: rounding level.
    np.testing.assert_allclose(nngp, k, rtol=1e-12, atol=1e-14)


def test_consts_reach_load():
    # mean(h[i] * h[j]) → Cov = X Xᵀ/d exactly (an initial family): the inputs themselves.
    source = """\
const X = load("X")
const N = 4
vector h[i in 0..N] ~ N(0, gram(X) / 2)
for i in 0..N, j in 0..N {
    K[i, j] = mean(h[i] * h[j])
}
"""
    x = np.array([[1.0, 0.0], [0.5, 2.0], [-1.0, 1.0], [0.0, 3.0]])
    result = tpc.compile(source, consts={"X": x}).eval()["K"]
    assert result.value.shape == (4, 4) and result.value.dtype == np.float64
    assert result.start == (0, 0)
    # Gaussian algebra: exact up to rounding.
    np.testing.assert_allclose(result.value, x @ x.T / 2, rtol=1e-14, atol=1e-15)
    # Integer arrays are converted to float64.
    ints = tpc.compile(source, consts={"X": x.astype(int)}).eval()["K"].value
    np.testing.assert_allclose(ints, x.astype(int) @ x.astype(int).T / 2, rtol=1e-14)


def test_gen_kernel_over_consts_equals_kernel():
    x = np.random.default_rng(3).standard_normal((6, 4))
    program = tpc.compile(tpc.gen_kernel("data", nonlin="tanh", depth=2), consts={"data": x})
    values = program.eval()
    nngp, ntk = tpc.kernel(x, nonlin="tanh", depth=2)
    # The same program evaluated the same way: identical bits.
    assert np.array_equal(values["NNGP"].value, nngp)
    assert np.array_equal(values["NTK"].value, ntk)
    # tanh has no closed form: errors are estimated, and small (docs/evaluation.md).
    assert np.nanmax(values["NTK"].error) < 1e-9


def test_families_come_without_copies():
    x = np.random.default_rng(4).standard_normal((5, 2))
    nngp, _ = tpc.kernel(x, depth=1)
    # The array is a view of memory Rust allocated and handed over, not NumPy's copy.
    assert not nngp.flags["OWNDATA"] and nngp.base is not None
    assert nngp.flags["C_CONTIGUOUS"] and nngp.flags["WRITEABLE"]
