//! Globally adaptive Gauss–Legendre quadrature of a one-dimensional Gaussian expectation, for
//! integrands that the fixed Gauss–Hermite levels cannot resolve: sharp peaks and near-jumps
//! (an `n`-fold composition such as `tanh∘…∘tanh` and its derivative), where the nodes of
//! successive Hermite levels all miss the feature and their differences grow instead of
//! settling.
//!
//! `E f(m + a ξ)`, `ξ ~ N(0, 1)`, is written over `t ∈ (−1, 1)` by `ξ = t / (1 − t²)`, which
//! keeps the whole real line (no truncated tail). The interval starts cut into
//! [`INITIAL_PIECES`] pieces; on each piece the `n`-point Gauss–Legendre value is compared with
//! the sum over its two halves, and the piece with the largest difference is halved next, until
//! the summed errors meet the tolerance or [`AdaptiveOptions::max_pieces`] is reached.
//! A piece's error is [`SAFETY`] times the difference: where the rule resolves the integrand the
//! difference alone bounds the halves' error with a wide margin, but at an integrable endpoint
//! singularity (`E|x|^(-1/2)` cut at the mean) the halves' error is 2.4 times it.

use super::gauss_hermite::legendre;
use super::gaussian::{Estimate, Tolerance};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Pieces of `(−1, 1)` before any refinement: fine enough (width 1/32 in `t`, about that in `ξ`
/// near the mean) that a feature of width ~0.01 standard deviations shows in the differences.
const INITIAL_PIECES: usize = 64;
/// A piece's error over the difference between its Gauss value and its halves' (see the
/// module doc).
const SAFETY: f64 = 4.0;
/// Gauss–Legendre points per piece.
const POINTS: usize = 10;

/// Settings of [`expectation`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdaptiveOptions {
    /// When the summed piece differences are small enough.
    pub tolerance: Tolerance,
    /// Most pieces before giving up (each costs `3 ·` [`POINTS`] evaluations).
    pub max_pieces: usize,
}

impl Default for AdaptiveOptions {
    fn default() -> Self {
        AdaptiveOptions {
            tolerance: Tolerance::default(),
            max_pieces: 4096,
        }
    }
}

/// One piece `[a, b]` of `(−1, 1)` with its value (the two halves' sum) and error estimate.
struct Piece {
    a: f64,
    b: f64,
    value: f64,
    error: f64,
}

impl PartialEq for Piece {
    fn eq(&self, other: &Piece) -> bool {
        self.error.total_cmp(&other.error) == Ordering::Equal
    }
}
impl Eq for Piece {}
impl PartialOrd for Piece {
    fn partial_cmp(&self, other: &Piece) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Piece {
    fn cmp(&self, other: &Piece) -> Ordering {
        self.error.total_cmp(&other.error)
    }
}

/// `E g(ξ)`, `ξ ~ N(0, 1)`: `Ok` when the tolerance is met, `Err` with the last estimate
/// otherwise (also when the integrand is not finite somewhere: the error is then infinite).
pub fn expectation(
    g: &dyn Fn(f64) -> f64,
    options: &AdaptiveOptions,
) -> Result<Estimate, Estimate> {
    let rule = legendre(POINTS);
    let evaluations = std::cell::Cell::new(0usize);
    // The integrand over t: g(ξ(t)) φ(ξ(t)) ξ'(t), zero where the density underflows.
    let h = |t: f64| {
        let s = 1.0 - t * t;
        let xi = t / s;
        let density = (-0.5 * xi * xi).exp() / (2.0 * std::f64::consts::PI).sqrt();
        if density == 0.0 {
            return 0.0;
        }
        evaluations.set(evaluations.get() + 1);
        g(xi) * density * (1.0 + t * t) / (s * s)
    };
    let gauss = |a: f64, b: f64| {
        let (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
        half * rule
            .nodes
            .iter()
            .zip(&rule.weights)
            .map(|(x, w)| w * h(mid + half * x))
            .sum::<f64>()
    };
    let piece = |a: f64, b: f64, whole: f64| {
        let m = 0.5 * (a + b);
        let (left, right) = (gauss(a, m), gauss(m, b));
        let value = left + right;
        let error = SAFETY * (value - whole).abs();
        (
            Piece {
                a,
                b,
                value,
                error: if error.is_nan() { f64::INFINITY } else { error },
            },
            left,
            right,
        )
    };
    let mut pieces = BinaryHeap::new();
    let width = 2.0 / INITIAL_PIECES as f64;
    for i in 0..INITIAL_PIECES {
        let (a, b) = (-1.0 + i as f64 * width, -1.0 + (i + 1) as f64 * width);
        pieces.push(piece(a, b, gauss(a, b)).0);
    }
    loop {
        let value: f64 = pieces.iter().map(|p| p.value).sum();
        let error: f64 = pieces.iter().map(|p| p.error).sum();
        let estimate = Estimate {
            value,
            error,
            evaluations: evaluations.get(),
        };
        if !value.is_finite() || !error.is_finite() {
            return Err(Estimate {
                error: f64::INFINITY,
                ..estimate
            });
        }
        let tolerance = options.tolerance;
        if error <= tolerance.relative * value.abs() + tolerance.absolute {
            return Ok(estimate);
        }
        if pieces.len() >= options.max_pieces {
            return Err(estimate);
        }
        let worst = pieces.pop().expect("at least one piece");
        let m = 0.5 * (worst.a + worst.b);
        // The halves' Gauss values become the wholes of the two new pieces.
        let (_, left, right) = piece(worst.a, worst.b, worst.value);
        pieces.push(piece(worst.a, m, left).0);
        pieces.push(piece(m, worst.b, right).0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `E tanh(ξ)²` against the converged Gauss–Hermite value (order 256, exact to rounding):
    /// a smooth integrand meets the tolerance.
    #[test]
    fn a_smooth_integrand_meets_the_tolerance() {
        let g = |x: f64| x.tanh().powi(2);
        let rule = super::super::gauss_hermite::hermite(256);
        let reference: f64 = rule
            .nodes
            .iter()
            .zip(&rule.weights)
            .map(|(x, w)| w * g(*x))
            .sum();
        let est = expectation(&g, &AdaptiveOptions::default()).unwrap();
        assert!(
            (est.value - reference).abs() < 1e-9,
            "{est:?} vs {reference}"
        );
    }

    /// A peak of width 0.01 standard deviations at the mean, `g = (1 + 10⁴ ξ²)^(-3/2)` (the
    /// shape of the derivative of a deep `tanh` composition), against a composite midpoint sum
    /// with 2·10⁶ cells on `[−10, 10]` (cell 1e-5, a thousandth of the peak's width: error
    /// below 1e-10). The error bar must cover the true error, which must be below 1e-8.
    #[test]
    fn a_sharp_peak_is_found_and_its_error_bar_covers() {
        let c = 1e4;
        let g = |x: f64| (1.0 + c * x * x).powf(-1.5);
        let phi = |x: f64| (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let n = 2_000_000;
        let h = 20.0 / n as f64;
        let reference: f64 = (0..n)
            .map(|i| {
                let x = -10.0 + (i as f64 + 0.5) * h;
                g(x) * phi(x) * h
            })
            .sum();
        let est = expectation(&g, &AdaptiveOptions::default()).unwrap();
        let error = (est.value - reference).abs();
        assert!(error <= est.error.max(1e-9), "{est:?} vs {reference}");
        assert!(error < 1e-8, "{est:?} vs {reference}");
    }
}
