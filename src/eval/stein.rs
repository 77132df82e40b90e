//! The linear solve of the Stein form (3.4) of a Ż: `c = Gram⁺ b` with a pseudo-inverse.
//!
//! `Gram_ij = E[Z^{u_i} Z^{u_j}]` is singular whenever the vectors `u_i` are linearly
//! dependent (the same vector reached through two paths); then `b` lies in its range and the
//! combination `Σ_i c_i Z^{u_i}` is the same for every solution, so the minimum-norm one,
//! `Gram⁺ b`, is as good as any. Eigenvalues not distinguishable from 0 — at most
//! [`RELATIVE_CUTOFF`] times the largest, or at most the Gram's own error estimate — are
//! treated as 0.

use super::Value;
use ndarray::Array2;

/// Eigenvalues of the Gram at or below this fraction of its largest are treated as 0 (the
/// quadrature tolerance is 1e-10, so smaller ones are numerical noise).
pub const RELATIVE_CUTOFF: f64 = 1e-10;

/// `Gram⁺ b` for a symmetric positive semi-definite `k × k` Gram (row-major) and a right
/// side `b`, each entry with its error estimate.
///
/// Errors propagate to first order, entry by entry in absolute value:
/// `δc_i = Σ_j |Gram⁺_ij| (δb_j + Σ_l δGram_jl |c_l|)` (the `δGram` term is the
/// differential `−Gram⁺ δGram c` of the inverse). The method is the least accurate input's.
pub fn solve(gram: &[Value], b: &[Value]) -> Vec<Value> {
    let k = b.len();
    assert_eq!(gram.len(), k * k, "a k × k Gram for k right-hand sides");
    let matrix = Array2::from_shape_fn((k, k), |(i, j)| gram[i * k + j].value);
    let (eigenvalues, vectors) = crate::linalg::symmetric_eigen(&matrix);
    let largest = eigenvalues.iter().fold(0.0f64, |m, l| m.max(l.abs()));
    let gram_error = gram.iter().map(|g| g.error * g.error).sum::<f64>().sqrt();
    let cutoff = (RELATIVE_CUTOFF * largest).max(gram_error);
    let mut pinv = Array2::<f64>::zeros((k, k));
    for (m, &lambda) in eigenvalues.iter().enumerate() {
        if lambda > cutoff {
            let v = vectors.column(m);
            for i in 0..k {
                for j in 0..k {
                    pinv[[i, j]] += v[i] * v[j] / lambda;
                }
            }
        }
    }
    let c: Vec<f64> = (0..k)
        .map(|i| (0..k).map(|j| pinv[[i, j]] * b[j].value).sum())
        .collect();
    // δ(Gram c) seen by each row j: δb_j + Σ_l δGram_jl |c_l|.
    let residual: Vec<f64> = (0..k)
        .map(|j| {
            b[j].error
                + (0..k)
                    .map(|l| gram[j * k + l].error * c[l].abs())
                    .sum::<f64>()
        })
        .collect();
    let method = gram
        .iter()
        .chain(b)
        .map(|v| v.method)
        .max()
        .expect("a Stein solve has at least one atom");
    (0..k)
        .map(|i| Value {
            value: c[i],
            error: (0..k).map(|j| pinv[[i, j]].abs() * residual[j]).sum(),
            method,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Used;

    fn exact(values: &[f64]) -> Vec<Value> {
        values
            .iter()
            .map(|&value| Value {
                value,
                error: 0.0,
                method: Used::Exact,
            })
            .collect()
    }

    #[test]
    fn inverts_a_regular_gram() {
        // [[2, 1], [1, 3]] c = [4, 7] has c = [1, 2].
        let c = solve(&exact(&[2.0, 1.0, 1.0, 3.0]), &exact(&[4.0, 7.0]));
        assert!((c[0].value - 1.0).abs() < 1e-14 && (c[1].value - 2.0).abs() < 1e-14);
        assert_eq!(c[0].error, 0.0);
    }

    #[test]
    fn a_singular_gram_gives_the_minimum_norm_solution() {
        // u₂ = 2 u₁: Gram = v [[1, 2], [2, 4]], b = β (1, 2). Every solution has
        // c₁ + 2 c₂ = β / v; the minimum-norm one is (β/5v, 2β/5v).
        let (v, beta) = (1.5, 0.3);
        let c = solve(
            &exact(&[v, 2.0 * v, 2.0 * v, 4.0 * v]),
            &exact(&[beta, 2.0 * beta]),
        );
        assert!((c[0].value - beta / (5.0 * v)).abs() < 1e-15);
        assert!((c[1].value - 2.0 * beta / (5.0 * v)).abs() < 1e-15);
    }

    #[test]
    fn errors_of_b_and_of_the_gram_propagate() {
        // 1 × 1: c = b / g, δc = δb / g + δg |c| / g.
        let gram = [Value {
            value: 2.0,
            error: 0.01,
            method: Used::Quadrature,
        }];
        let b = [Value {
            value: 1.0,
            error: 0.1,
            method: Used::MonteCarlo,
        }];
        let c = solve(&gram, &b);
        assert!((c[0].value - 0.5).abs() < 1e-15);
        assert!((c[0].error - (0.1 / 2.0 + 0.01 * 0.5 / 2.0)).abs() < 1e-15);
        assert_eq!(c[0].method, Used::MonteCarlo);
    }

    #[test]
    fn a_zero_gram_gives_zero() {
        let c = solve(&exact(&[0.0]), &exact(&[0.0]));
        assert_eq!(c[0].value, 0.0);
    }
}
