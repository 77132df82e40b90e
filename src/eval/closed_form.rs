//! Exact Gaussian expectations (docs/evaluation.md; the kernels of docs/reference-values.md, case 1): the arc-cosine kernels of relu and
//! step, the arcsine kernel of erf and its derivative, and 1-D expectations with a mean.
//!
//! Bivariate forms take `q1 = Var u`, `q2 = Var v`, `c = Cov(u, v)` of a zero-mean pair with
//! `q1, q2 ≥ 0` and `c² ≤ q1 q2` (the correlation is clamped to `[−1, 1]`, so rounding past it
//! is harmless). Conventions: `step(x) = 1[x > 0]` (relu's derivative, 0 at 0), and
//! `erf'(x) = (2/√π) e^{−x²}`. Degenerate inputs (`q = 0`, `|ρ| = 1`) give the limit values,
//! never NaN.

use std::f64::consts::PI;

/// `Φ`, the standard normal distribution function (accurate in both tails via `erfc`).
fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// `φ`, the standard normal density.
fn normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * PI).sqrt()
}

/// `(√(q1 q2), ρ)` with the correlation `ρ = c/√(q1 q2)` clamped to `[−1, 1]`, or `None` if a
/// variance is zero.
#[inline]
pub fn correlation(q1: f64, q2: f64, c: f64) -> Option<(f64, f64)> {
    let s = (q1 * q2).sqrt();
    (q1 > 0.0 && q2 > 0.0).then(|| (s, (c / s).clamp(-1.0, 1.0)))
}

/// `E[relu(u) relu(v)] = √(q1 q2)/(2π) (sin θ + (π − θ) cos θ)`, `θ = arccos ρ` (arc-cosine
/// kernel of degree 1).
#[inline]
pub fn relu_relu(q1: f64, q2: f64, c: f64) -> f64 {
    correlation(q1, q2, c).map_or(0.0, |(s, rho)| relu_relu_at(s, rho, rho.acos()))
}

/// [`relu_relu`] from `√(q1 q2)`, `ρ` and `θ = arccos ρ` (kernels of one pair share `θ`).
#[inline]
pub fn relu_relu_at(s: f64, rho: f64, theta: f64) -> f64 {
    s / (2.0 * PI) * ((1.0 - rho * rho).sqrt() + (PI - theta) * rho)
}

/// [`step_step`] from `θ = arccos ρ`.
#[inline]
pub fn step_step_at(theta: f64) -> f64 {
    (PI - theta) / (2.0 * PI)
}

/// `E[step(u) step(v)] = (π − θ)/(2π)` (arc-cosine kernel of degree 0); 0 if a variance is 0.
#[inline]
pub fn step_step(q1: f64, q2: f64, c: f64) -> f64 {
    correlation(q1, q2, c).map_or(0.0, |(_, rho)| step_step_at(rho.acos()))
}

/// `E[relu(u) step(v)] = √q1 (1 + ρ)/(2√(2π))`; 0 if a variance is 0.
#[inline]
pub fn relu_step(q1: f64, q2: f64, c: f64) -> f64 {
    correlation(q1, q2, c).map_or(0.0, |(_, rho)| {
        q1.sqrt() * (1.0 + rho) / (2.0 * (2.0 * PI).sqrt())
    })
}

/// `E[erf(u) erf(v)] = (2/π) arcsin(2c/√((1 + 2q1)(1 + 2q2)))`.
#[inline]
pub fn erf_erf(q1: f64, q2: f64, c: f64) -> f64 {
    let x = 2.0 * c / ((1.0 + 2.0 * q1) * (1.0 + 2.0 * q2)).sqrt();
    2.0 / PI * x.clamp(-1.0, 1.0).asin()
}

/// `E[erf'(u) erf'(v)] = (4/π)/√((1 + 2q1)(1 + 2q2) − 4c²)`.
#[inline]
pub fn erf_prime_erf_prime(q1: f64, q2: f64, c: f64) -> f64 {
    // (1 + 2q1)(1 + 2q2) − 4c², written so that rounding cannot make it negative.
    let det = 1.0 + 2.0 * q1 + 2.0 * q2 + 4.0 * (q1 * q2 - c * c).max(0.0);
    4.0 / PI / det.sqrt()
}

/// `E relu(m + sZ) = m Φ(m/s) + s φ(m/s)` (`relu(m)` when `s = 0`; the sign of `s` is
/// irrelevant). Accurate in absolute terms; relative accuracy degrades for `m/s ≲ −10`.
pub fn relu_mean(m: f64, s: f64) -> f64 {
    let s = s.abs();
    if s == 0.0 {
        return m.max(0.0);
    }
    let z = m / s;
    m * normal_cdf(z) + s * normal_pdf(z)
}

/// `E 1[m + sZ > 0] = Φ(m/s)` (`1[m > 0]` when `s = 0`).
pub fn step_mean(m: f64, s: f64) -> f64 {
    let s = s.abs();
    if s == 0.0 {
        return if m > 0.0 { 1.0 } else { 0.0 };
    }
    normal_cdf(m / s)
}

/// `E relu(m + sZ)² = (m² + s²) Φ(m/s) + m s φ(m/s)` (`relu(m)²` when `s = 0`).
pub fn relu_squared_mean(m: f64, s: f64) -> f64 {
    let s = s.abs();
    if s == 0.0 {
        return m.max(0.0).powi(2);
    }
    let z = m / s;
    (m * m + s * s) * normal_cdf(z) + m * s * normal_pdf(z)
}

/// `E erf(m + sZ) = erf(m/√(1 + 2s²))`.
pub fn erf_mean(m: f64, s: f64) -> f64 {
    libm::erf(m / (1.0 + 2.0 * s * s).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::gaussian::Gaussian;
    use crate::eval::kink::{self, Kink, KinkOptions};
    use crate::eval::quadrature::{self, QuadratureOptions};
    use ndarray::array;

    /// An integrand and its exact expectation.
    type Case<'a> = (&'a (dyn Fn(&[f64]) -> f64 + Sync), f64);

    const Q1: f64 = 1.0;
    const Q2: f64 = 2.25;
    const C: f64 = 0.9;

    fn pair() -> Gaussian {
        Gaussian::new(vec![0.0, 0.0], &array![[Q1, C], [C, Q2]]).unwrap()
    }

    fn relu(x: f64) -> f64 {
        crate::builtins::Builtin::Relu.eval(0, x)
    }

    fn step(x: f64) -> f64 {
        crate::builtins::Builtin::Step.eval(0, x)
    }

    /// The kinked kernels against the kink-aware polar rule, which is converged to 1e-10
    /// relative (its own accuracy is checked in `kink` against these and against conditioning).
    /// The agreement, 1e-12, is what both sides deliver in practice.
    #[test]
    fn arc_cosine_kernels_match_kink_aware_quadrature() {
        let kinks = [Kink::atom(0, 2), Kink::atom(1, 2)];
        let options = KinkOptions::default();
        let cases: [Case; 3] = [
            (&|x| relu(x[0]) * relu(x[1]), relu_relu(Q1, Q2, C)),
            (&|x| step(x[0]) * step(x[1]), step_step(Q1, Q2, C)),
            (&|x| relu(x[0]) * step(x[1]), relu_step(Q1, Q2, C)),
        ];
        for (f, exact) in cases {
            let est = kink::expectation(&pair(), &f, &kinks, &options).unwrap();
            assert!(
                (est.value - exact).abs() < 1e-12,
                "{} vs {exact}",
                est.value
            );
        }
    }

    /// The erf kernels against Gauss–Hermite converged to 1e-10 relative (smooth integrands);
    /// the observed agreement is at rounding level, so 1e-12 is asserted.
    #[test]
    fn erf_kernels_match_quadrature() {
        let options = QuadratureOptions::default();
        let erf_prime = |x: f64| 2.0 / PI.sqrt() * (-x * x).exp();
        let cases: [Case; 2] = [
            (&|x| libm::erf(x[0]) * libm::erf(x[1]), erf_erf(Q1, Q2, C)),
            (
                &|x| erf_prime(x[0]) * erf_prime(x[1]),
                erf_prime_erf_prime(Q1, Q2, C),
            ),
        ];
        for (f, exact) in cases {
            let est = quadrature::expectation(&pair(), &f, &options).unwrap();
            assert!(
                (est.value - exact).abs() < 1e-12,
                "{} vs {exact}",
                est.value
            );
        }
    }

    /// 1-D forms with a mean against the kink-aware line rule (kink at the shifted point
    /// `m + s ξ = 0`) for erf via Gauss–Hermite; agreement to 1e-12 (both converge to rounding).
    #[test]
    fn one_dimensional_forms_match_quadrature() {
        for (m, s) in [(0.3, 1.0), (-0.7, 1.5), (2.0, 0.5), (0.0, 1.0)] {
            let g = Gaussian::new(vec![m], &array![[s * s]]).unwrap();
            let kinks = [Kink::atom(0, 1)];
            let options = KinkOptions::default();
            let cases: [Case; 3] = [
                (&|x| relu(x[0]), relu_mean(m, s)),
                (&|x| step(x[0]), step_mean(m, s)),
                (&|x| relu(x[0]).powi(2), relu_squared_mean(m, s)),
            ];
            for (f, exact) in cases {
                let est = kink::expectation(&g, &f, &kinks, &options).unwrap();
                assert!(
                    (est.value - exact).abs() < 1e-12,
                    "m={m} s={s}: {} vs {exact}",
                    est.value
                );
            }
            let est = quadrature::expectation(
                &g,
                &|x: &[f64]| libm::erf(x[0]),
                &QuadratureOptions::default(),
            )
            .unwrap();
            assert!((est.value - erf_mean(m, s)).abs() < 1e-12);
        }
    }

    /// Degenerate inputs give the limits exactly: zero variance (the variable is 0, so relu and
    /// step vanish), perfect correlation (θ = 0: E relu(u)² = q/2, E step(u)² = 1/2), perfect
    /// anti-correlation (θ = π: products vanish), and `c` rounding past `√(q1 q2)`.
    #[test]
    fn degenerate_inputs_are_finite_limits() {
        assert_eq!(relu_relu(0.0, 2.0, 0.0), 0.0);
        assert_eq!(step_step(1.0, 0.0, 0.0), 0.0);
        assert_eq!(relu_step(0.0, 1.0, 0.0), 0.0);
        assert!((relu_relu(2.0, 2.0, 2.0 + 1e-15) - 1.0).abs() < 1e-15);
        assert!((step_step(2.0, 2.0, 2.0) - 0.5).abs() < 1e-15);
        assert!((relu_step(4.0, 1.0, 2.0) - 2.0 / (2.0 * PI).sqrt()).abs() < 1e-15);
        assert!(relu_relu(1.0, 1.0, -1.0).abs() < 1e-15 && step_step(1.0, 1.0, -1.0) == 0.0);
        assert_eq!(relu_step(1.0, 1.0, -1.0), 0.0);
        assert_eq!(erf_erf(0.0, 1.0, 0.0), 0.0);
        assert_eq!(erf_prime_erf_prime(0.0, 0.0, 0.0), 4.0 / PI);
        assert!(erf_prime_erf_prime(1.0, 1.0, 1.0 + 1e-15).is_finite());
        assert_eq!((relu_mean(-1.0, 0.0), relu_mean(2.0, 0.0)), (0.0, 2.0));
        assert_eq!((step_mean(0.0, 0.0), step_mean(1.0, -0.0)), (0.0, 1.0));
        assert_eq!(relu_squared_mean(3.0, 0.0), 9.0);
        assert_eq!(erf_mean(0.5, 0.0), libm::erf(0.5));
        // Known values: E relu(Z) = 1/√(2π), E relu(Z)² = 1/2, E step(Z) = 1/2.
        assert!((relu_mean(0.0, 1.0) - 1.0 / (2.0 * PI).sqrt()).abs() < 1e-16);
        assert_eq!(
            (relu_squared_mean(0.0, 1.0), step_mean(0.0, 1.0)),
            (0.5, 0.5)
        );
    }
}
