"""Reference values for src/eval/bivariate.rs, computed independently with mpmath.

Run by hand (never by the tests): python3 reference.py writes upper_orthant.txt and
shifted_products.txt beside this script.

* upper_orthant.txt: h k r P(X > h, Y > k) by Plackett's formula
  P = Phi(-h) Phi(-k) + int_0^r phi2(h, k; t) dt   (30 significant digits).
* shifted_products.txt: m1 m2 s1 s2 rho, then E[relu(u) relu(v)], E[relu(u) step(v)],
  E[step(u) step(v)], E[erf(u) erf(v)] for u = m1 + s1 X, v = m2 + s2 (rho X + sqrt(1-rho^2) Z),
  X, Z independent standard normals: the 1-D expectation over Z given X in its elementary
  closed form (E relu(a + bZ) = a Phi(a/b) + b phi(a/b), E step(a + bZ) = Phi(a/b),
  E erf(a + bZ) = erf(a / sqrt(1 + 2 b^2))), then quadrature over X split at the kink.
"""
import os
import mpmath as mp

mp.mp.dps = 30
here = os.path.dirname(os.path.abspath(__file__))


def phi(x):
    return mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)


def Phi(x):
    return mp.ncdf(x)


def orthant(h, k, r):
    h, k, r = mp.mpf(h), mp.mpf(k), mp.mpf(r)
    dens = lambda t: mp.exp(-(h * h - 2 * t * h * k + k * k) / (2 * (1 - t * t))) / (2 * mp.pi * mp.sqrt(1 - t * t))
    return Phi(-h) * Phi(-k) + mp.quad(dens, [0, r])


def products(m1, m2, s1, s2, rho):
    m1, m2, s1, s2, rho = map(mp.mpf, (m1, m2, s1, s2, rho))
    r = mp.sqrt(1 - rho * rho)
    h = -m1 / s1
    relu = lambda t: t if t > 0 else mp.mpf(0)

    b = s2 * r

    def inner(x, g):
        a = m2 + s2 * rho * x
        if g == "relu":
            return a * Phi(a / b) + b * phi(a / b)
        if g == "step":
            return Phi(a / b)
        return mp.erf(a / mp.sqrt(1 + 2 * b * b))

    def outer(fu, g, kinked):
        f = lambda x: fu(m1 + s1 * x) * inner(x, g) * phi(x)
        if kinked:
            return mp.quad(f, [h, h + 5, h + 10, mp.inf])
        return mp.quad(f, [-mp.inf, h, mp.inf])

    one = lambda t: mp.mpf(1)
    rr = outer(relu, "relu", True)
    rs = outer(relu, "step", True)
    ss = outer(one, "step", True)
    ee = outer(mp.erf, "erf", False)
    return rr, rs, ss, ee


orthant_cases = [
    (0.0, 0.0, 0.5), (0.3, -0.7, 0.2), (-1.2, 0.4, -0.25), (1.5, 1.5, 0.6), (-0.5, -2.0, -0.7),
    (0.8, -0.3, 0.9), (-1.0, 0.5, 0.95), (2.0, 1.0, 0.99), (0.2, 0.1, -0.93), (-0.4, 0.6, -0.999),
    (3.0, -3.0, 0.5), (-3.0, -2.5, 0.8), (0.0, 1.0, -0.5), (1.0, 0.0, 0.0), (0.5, 0.5, 0.9999),
    (-2.0, 2.0, -0.95), (4.0, 4.0, 0.3), (-4.0, 1.0, 0.92), (0.7, 0.7, -0.8), (1.1, -1.3, 0.76),
    (0.0, 0.0, 0.999999),
]
with open(os.path.join(here, "upper_orthant.txt"), "w") as out:
    out.write("# h k r P(X > h, Y > k): mpmath, Plackett's formula, 30 digits (reference.py)\n")
    for h, k, r in orthant_cases:
        out.write(f"{h!r} {k!r} {r!r} {mp.nstr(orthant(h, k, r), 20)}\n")

product_cases = [
    (0.3, -0.2, 1.0, 1.5, 0.4), (-0.5, 0.7, 0.8, 1.2, -0.3), (1.0, 1.0, 1.0, 1.0, 0.9),
    (-1.0, -0.5, 1.3, 0.7, 0.6), (0.0, 0.4, 1.0, 1.0, 0.0), (2.0, -1.0, 0.5, 2.0, -0.8),
    (0.1, 0.1, 1.0, 1.0, 0.95), (-0.3, 0.2, 2.0, 0.5, 0.2), (0.6, -0.9, 1.1, 0.9, -0.95),
    (1.5, 0.3, 0.7, 1.4, 0.5), (0.0, 0.0, 1.0, 1.0, 0.5),
]
with open(os.path.join(here, "shifted_products.txt"), "w") as out:
    out.write("# m1 m2 s1 s2 rho | E relu(u)relu(v), E relu(u)step(v), E step(u)step(v), E erf(u)erf(v): mpmath (reference.py)\n")
    for case in product_cases:
        vals = products(*case)
        out.write(" ".join(repr(c) for c in case) + " " + " ".join(mp.nstr(v, 20) for v in vals) + "\n")
