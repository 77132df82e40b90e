//! Exact expectations of pairs of relu, step and erf of *shifted* jointly Gaussian arguments
//! (nonzero means), through the bivariate normal distribution function (docs/evaluation.md).
//!
//! A pair is given by the means `m1, m2`, standard deviations `s1, s2 > 0` and correlation
//! `ρ` of `(u, v)`; with `h = −m1/s1`, `k = −m2/s2`, `u > 0 ⇔ X > h` for the standardised
//! `X = (u − m1)/s1` (and likewise `v`, `Y`, `k`). The truncated moments of a standard
//! bivariate normal over the quadrant `{X > h, Y > k}` (Rosenbaum, 1961) then give every
//! product in closed form.

use std::f64::consts::PI;

/// `Φ`, the standard normal distribution function.
fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// `φ`, the standard normal density.
fn normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * PI).sqrt()
}

/// Gauss–Legendre nodes (as `1 − x` and `1 + x` on `[0, 2]`) and weights of orders 6, 12
/// and 20, half of each symmetric rule (Genz, 2004).
const GL6: ([f64; 3], [f64; 3]) = (
    [0.1713244923791705, 0.3607615730481384, 0.4679139345726904],
    [0.9324695142031522, 0.6612093864662647, 0.238619186083197],
);
const GL12: ([f64; 6], [f64; 6]) = (
    [
        0.04717533638651177,
        0.1069393259953183,
        0.1600783285433464,
        0.2031674267230659,
        0.2334925365383547,
        0.2491470458134029,
    ],
    [
        0.9815606342467191,
        0.904117256370475,
        0.769902674194305,
        0.5873179542866171,
        0.3678314989981802,
        0.1252334085114692,
    ],
);
const GL20: ([f64; 10], [f64; 10]) = (
    [
        0.01761400713915212,
        0.04060142980038694,
        0.06267204833410906,
        0.08327674157670475,
        0.1019301198172404,
        0.1181945319615184,
        0.1316886384491766,
        0.1420961093183821,
        0.1491729864726037,
        0.1527533871307259,
    ],
    [
        0.9931285991850949,
        0.9639719272779138,
        0.912234428251326,
        0.8391169718222188,
        0.7463319064601508,
        0.636053680726515,
        0.5108670019508271,
        0.3737060887154196,
        0.2277858511416451,
        0.07652652113349733,
    ],
);

/// `P(X > h, Y > k)` for a standard bivariate normal with correlation `r`: Genz's BVNU
/// (Drezner–Wesolowsky's integral of the density in `r`, with Gauss–Legendre rules of order
/// 6, 12 or 20 by `|r|`, and an asymptotic expansion for `|r| ≥ 0.925`), accurate to about
/// 1e-15 absolute. Infinite `h`, `k` and `|r| = 1` are allowed.
pub fn upper_orthant(h: f64, k: f64, r: f64) -> f64 {
    if h == f64::INFINITY || k == f64::INFINITY {
        return 0.0;
    }
    if h == f64::NEG_INFINITY {
        return if k == f64::NEG_INFINITY {
            1.0
        } else {
            normal_cdf(-k)
        };
    }
    if k == f64::NEG_INFINITY {
        return normal_cdf(-h);
    }
    if r == 0.0 {
        return normal_cdf(-h) * normal_cdf(-k);
    }
    let (w, x): (&[f64], &[f64]) = if r.abs() < 0.3 {
        (&GL6.0, &GL6.1)
    } else if r.abs() < 0.75 {
        (&GL12.0, &GL12.1)
    } else {
        (&GL20.0, &GL20.1)
    };
    // The symmetric rule on [0, 2]: nodes 1 − x and 1 + x, each with its weight.
    let nodes = || {
        x.iter()
            .zip(w)
            .flat_map(|(&x, &w)| [(1.0 - x, w), (1.0 + x, w)])
    };
    let two_pi = 2.0 * PI;
    let hk = h * k;
    let bvn = if r.abs() < 0.925 {
        let hs = (h * h + k * k) / 2.0;
        let asr = r.asin() / 2.0;
        let sum: f64 = nodes()
            .map(|(x, w)| {
                let sn = (asr * x).sin();
                w * ((sn * hk - hs) / (1.0 - sn * sn)).exp()
            })
            .sum();
        sum * asr / two_pi + normal_cdf(-h) * normal_cdf(-k)
    } else {
        let (k, hk) = if r < 0.0 { (-k, -hk) } else { (k, hk) };
        let mut bvn = 0.0;
        if r.abs() < 1.0 {
            let as_ = 1.0 - r * r;
            let mut a = as_.sqrt();
            let bs = (h - k) * (h - k);
            let c = (4.0 - hk) / 8.0;
            let d = (12.0 - hk) / 80.0;
            let asr = -(bs / as_ + hk) / 2.0;
            if asr > -100.0 {
                bvn = a
                    * asr.exp()
                    * (1.0 - c * (bs - as_) * (1.0 - d * bs) / 3.0 + c * d * as_ * as_);
            }
            if hk > -100.0 {
                let b = bs.sqrt();
                let sp = two_pi.sqrt() * normal_cdf(-b / a);
                bvn -= (-hk / 2.0).exp() * sp * b * (1.0 - c * bs * (1.0 - d * bs) / 3.0);
            }
            a /= 2.0;
            let sum: f64 = nodes()
                .filter_map(|(x, w)| {
                    let xs = (a * x) * (a * x);
                    let asr = -(bs / xs + hk) / 2.0;
                    (asr > -100.0).then(|| {
                        let sp = 1.0 + c * xs * (1.0 + 5.0 * d * xs);
                        let rs = (1.0 - xs).sqrt();
                        let ep = (-(hk / 2.0) * xs / ((1.0 + rs) * (1.0 + rs))).exp() / rs;
                        w * asr.exp() * (sp - ep)
                    })
                })
                .sum();
            bvn = (a * sum - bvn) / two_pi;
        }
        if r > 0.0 {
            bvn + normal_cdf(-h.max(k))
        } else if h >= k {
            -bvn
        } else {
            let l = if h < 0.0 {
                normal_cdf(k) - normal_cdf(h)
            } else {
                normal_cdf(-h) - normal_cdf(-k)
            };
            l - bvn
        }
    };
    bvn.clamp(0.0, 1.0)
}

/// The truncated moments of a standard bivariate normal `(X, Y)` with correlation `r` over
/// the quadrant `{X > h, Y > k}`: `P`, `E[X; ·]`, `E[Y; ·]`, `E[XY; ·]`.
struct Quadrant {
    p: f64,
    x: f64,
    y: f64,
    xy: f64,
}

impl Quadrant {
    /// Needs `|r| < 1`.
    fn new(h: f64, k: f64, r: f64) -> Quadrant {
        let p = upper_orthant(h, k, r);
        let s = (1.0 - r * r).sqrt();
        // P(Y > k | X = h) and P(X > h | Y = k).
        let given_x = normal_cdf(-(k - r * h) / s);
        let given_y = normal_cdf(-(h - r * k) / s);
        let x = normal_pdf(h) * given_x + r * normal_pdf(k) * given_y;
        let y = normal_pdf(k) * given_y + r * normal_pdf(h) * given_x;
        // s² φ₂(h, k; r) = s/(2π) exp(−(h² − 2rhk + k²)/(2s²)).
        let density = s / (2.0 * PI) * (-(h * h - 2.0 * r * h * k + k * k) / (2.0 * s * s)).exp();
        let xy =
            r * p + r * h * normal_pdf(h) * given_x + r * k * normal_pdf(k) * given_y + density;
        Quadrant { p, x, y, xy }
    }
}

/// A jointly Gaussian pair `(u, v)`: means, standard deviations (both positive) and
/// correlation (`|ρ| < 1`).
#[derive(Clone, Copy, Debug)]
pub struct Pair {
    /// `E u`, `E v`.
    pub mean: (f64, f64),
    /// `√Var u`, `√Var v`, both positive.
    pub sd: (f64, f64),
    /// `Corr(u, v)`, strictly inside `(−1, 1)`.
    pub rho: f64,
}

impl Pair {
    fn quadrant(&self) -> Quadrant {
        let h = -self.mean.0 / self.sd.0;
        let k = -self.mean.1 / self.sd.1;
        Quadrant::new(h, k, self.rho)
    }

    /// `E[step(u) step(v)] = P(u > 0, v > 0)`.
    pub fn step_step(&self) -> f64 {
        self.quadrant().p
    }

    /// `E[relu(u) step(v)] = E[(m1 + s1 X); X > h, Y > k]`.
    pub fn relu_step(&self) -> f64 {
        let q = self.quadrant();
        self.mean.0 * q.p + self.sd.0 * q.x
    }

    /// `E[relu(u) relu(v)] = E[(m1 + s1 X)(m2 + s2 Y); X > h, Y > k]`.
    pub fn relu_relu(&self) -> f64 {
        let q = self.quadrant();
        let ((m1, m2), (s1, s2)) = (self.mean, self.sd);
        m1 * m2 * q.p + m1 * s2 * q.y + m2 * s1 * q.x + s1 * s2 * q.xy
    }

    /// `E[erf(u) erf(v)]`: with `erf(u) = 2 P(N < √2 u | u) − 1` for an independent standard
    /// `N`, `E[Φ(√2 u) Φ(√2 v)]` is the orthant probability of a pair with variances
    /// `s_i² + 1/2` and covariance `ρ s1 s2`.
    pub fn erf_erf(&self) -> f64 {
        let ((m1, m2), (s1, s2)) = (self.mean, self.sd);
        let (t1, t2) = ((s1 * s1 + 0.5).sqrt(), (s2 * s2 + 0.5).sqrt());
        let r = self.rho * s1 * s2 / (t1 * t2);
        let (a, b) = (m1 / t1, m2 / t2);
        let both = upper_orthant(-a, -b, r);
        4.0 * both - 2.0 * normal_cdf(a) - 2.0 * normal_cdf(b) + 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `P(X > h, Y > k)` against values computed independently with mpmath at 30 digits
    /// (Plackett's formula `Φ(−h)Φ(−k) + ∫₀^r φ₂(h, k; t) dt`; the script is
    /// tests/data/bivariate/reference.py). Genz's algorithm is accurate to about 1e-15; 1e-14
    /// absolute is asserted to leave room for rounding across the three regimes of `|r|`.
    #[test]
    fn upper_orthant_matches_high_precision_reference() {
        let text = include_str!("../../tests/data/bivariate/upper_orthant.txt");
        let mut n = 0;
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let v: Vec<f64> = line
                .split_whitespace()
                .map(|x| x.parse().unwrap())
                .collect();
            let got = upper_orthant(v[0], v[1], v[2]);
            assert!((got - v[3]).abs() < 1e-14, "{line}: {got}");
            n += 1;
        }
        assert!(n >= 20);
    }

    /// The shifted products against mpmath 2-D integrals at 30 digits (same script); 1e-13
    /// absolute: the formulas combine a few terms of size ≤ 10 each accurate to 1e-15.
    #[test]
    fn shifted_products_match_high_precision_reference() {
        let text = include_str!("../../tests/data/bivariate/shifted_products.txt");
        let mut n = 0;
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let v: Vec<f64> = line
                .split_whitespace()
                .map(|x| x.parse().unwrap())
                .collect();
            let pair = Pair {
                mean: (v[0], v[1]),
                sd: (v[2], v[3]),
                rho: v[4],
            };
            let got = [
                pair.relu_relu(),
                pair.relu_step(),
                pair.step_step(),
                pair.erf_erf(),
            ];
            for (g, want) in got.iter().zip(&v[5..9]) {
                assert!((g - want).abs() < 1e-13, "{line}: {got:?}");
            }
            n += 1;
        }
        assert!(n >= 10);
    }

    /// With zero means the shifted forms reduce to the arc-cosine and arcsine kernels of
    /// [`super::super::closed_form`] (an independent derivation), to rounding.
    #[test]
    fn centered_pairs_reduce_to_the_arc_cosine_kernels() {
        use crate::eval::closed_form as cf;
        for rho in [-0.99, -0.5, 0.0, 0.3, 0.8, 0.95] {
            let (s1, s2) = (1.0, 1.5);
            let pair = Pair {
                mean: (0.0, 0.0),
                sd: (s1, s2),
                rho,
            };
            let (q1, q2, c) = (s1 * s1, s2 * s2, rho * s1 * s2);
            assert!((pair.relu_relu() - cf::relu_relu(q1, q2, c)).abs() < 1e-14);
            assert!((pair.relu_step() - cf::relu_step(q1, q2, c)).abs() < 1e-14);
            assert!((pair.step_step() - cf::step_step(q1, q2, c)).abs() < 1e-14);
            assert!((pair.erf_erf() - cf::erf_erf(q1, q2, c)).abs() < 1e-14);
        }
    }
}
