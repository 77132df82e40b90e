//! Conditional sampling of one ZHat family: each new atom given the earlier ones.
//!
//! The family's atoms are written over independent standard normal noise vectors,
//! `Ẑ_k = Σ_{j≤k} L_kj ξ_j`, with `L` lower triangular and `L Lᵀ = σ² Gram`. When the atom
//! `k` arrives, its Gram row (the particle means `E[Z^x_k Z^x_j]`) gives row `k` of `L` by
//! one forward substitution: the conditional law of `Ẑ_k` given the earlier atoms, in
//! `O(k²)` operations and `O(k S)` to form its particles. The Gram of particle vectors is
//! positive semi-definite, so the residual variance is never negative beyond rounding; an
//! atom whose residual variance is within rounding of zero is a combination of earlier ones
//! (`Ẑ^{W(x+y)}` beside `Ẑ^{Wx}` and `Ẑ^{Wy}`) and gets no fresh noise.

/// Residual variances at most this fraction of the atom's variance are rounding: the atom is
/// a linear combination of earlier ones. (A Gram of `f64` particle means is exact to about
/// 1e-16 relative; the square root of the threshold, 1e-6, bounds the noise a spurious
/// pivot could add relative to the atom's standard deviation.)
const DEGENERATE: f64 = 1e-12;

/// The rows of `L` of one family so far.
#[derive(Clone, Debug)]
pub(super) struct FamilyFactor {
    sigma2: f64,
    rows: Vec<Vec<f64>>,
}

impl FamilyFactor {
    /// An empty family of matrix variance `σ²`.
    pub(super) fn new(sigma2: f64) -> FamilyFactor {
        FamilyFactor {
            sigma2,
            rows: Vec::new(),
        }
    }

    /// Adds the next atom from its Gram row `E[Z^x_k Z^x_j]`, `j = 0..=k` (the last entry is
    /// its own second moment); returns its weights on the noise vectors `ξ_0..=ξ_k`.
    pub(super) fn push(&mut self, gram_row: &[f64]) -> Vec<f64> {
        let k = self.rows.len();
        assert_eq!(
            gram_row.len(),
            k + 1,
            "one Gram entry per earlier atom and itself"
        );
        let mut row = vec![0.0; k + 1];
        for j in 0..k {
            let pivot = self.rows[j][j];
            if pivot > 0.0 {
                let dot: f64 = (0..j).map(|m| self.rows[j][m] * row[m]).sum();
                row[j] = (self.sigma2 * gram_row[j] - dot) / pivot;
            }
        }
        let variance = self.sigma2 * gram_row[k];
        let residual = variance - row[..k].iter().map(|l| l * l).sum::<f64>();
        row[k] = if residual > DEGENERATE * variance.abs() {
            residual.sqrt()
        } else {
            0.0
        };
        self.rows.push(row.clone());
        row
    }
}

/// A solution `c` of `Gram c = b` for a positive semi-definite `k × k` Gram (row-major) with
/// `b` in its range: atoms dependent on earlier ones (zero pivots) get `c_i = 0`, which leaves
/// the combination `Σ c_i Z^{u_i}` of a Stein-form Ż the same as the pseudo-inverse's.
/// `O(k³/6)` by a Cholesky factor, where an eigen-decomposition would cost tens of times more.
pub(super) fn gram_solve(gram: &[f64], b: &[f64]) -> Vec<f64> {
    let k = b.len();
    let mut factor = FamilyFactor::new(1.0);
    for i in 0..k {
        factor.push(&gram[i * k..i * k + i + 1]);
    }
    let l = &factor.rows;
    let mut y = vec![0.0; k];
    for i in 0..k {
        if l[i][i] > 0.0 {
            let dot: f64 = (0..i).map(|m| l[i][m] * y[m]).sum();
            y[i] = (b[i] - dot) / l[i][i];
        }
    }
    let mut c = vec![0.0; k];
    for i in (0..k).rev() {
        if l[i][i] > 0.0 {
            let dot: f64 = (i + 1..k).map(|m| l[m][i] * c[m]).sum();
            c[i] = (y[i] - dot) / l[i][i];
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With a dependent vector the solution differs from the pseudo-inverse's but gives the
    /// same combination; exact to rounding (1e-13) on this 3 × 3 system.
    #[test]
    fn solves_singular_grams_in_their_range() {
        let x = [[1.0, 0.0], [1.0, 1.0], [2.0, 1.0]];
        let g: Vec<f64> = (0..9)
            .map(|ij| x[ij / 3][0] * x[ij % 3][0] + x[ij / 3][1] * x[ij % 3][1])
            .collect();
        // b = Gram · (1, -1, 0.5).
        let b: Vec<f64> = (0..3)
            .map(|i| g[i * 3] - g[i * 3 + 1] + 0.5 * g[i * 3 + 2])
            .collect();
        let c = gram_solve(&g, &b);
        let combination = |c: &[f64]| [0, 1].map(|d| (0..3).map(|i| c[i] * x[i][d]).sum::<f64>());
        let (got, want) = (combination(&c), combination(&[1.0, -1.0, 0.5]));
        assert!((got[0] - want[0]).abs() < 1e-13 && (got[1] - want[1]).abs() < 1e-13);
        assert_eq!(c[2], 0.0);
    }

    /// The rows reproduce `σ² Gram` to rounding, and a dependent atom gets no fresh noise.
    #[test]
    fn factors_the_gram_and_detects_dependent_atoms() {
        // Vectors x0 = (1, 0), x1 = (1, 1), x2 = x0 + x1: Gram of the rows.
        let x = [[1.0, 0.0], [1.0, 1.0], [2.0, 1.0]];
        let g = |i: usize, j: usize| x[i][0] * x[j][0] + x[i][1] * x[j][1];
        let mut f = FamilyFactor::new(2.0);
        let rows: Vec<Vec<f64>> = (0..3)
            .map(|k| f.push(&(0..=k).map(|j| g(k, j)).collect::<Vec<_>>()))
            .collect();
        for i in 0..3 {
            for j in 0..=i {
                let c: f64 = (0..=j).map(|m| rows[i][m] * rows[j][m]).sum();
                // Rounding of a 3 × 3 substitution: 1e-14.
                assert!((c - 2.0 * g(i, j)).abs() < 1e-14, "({i}, {j}): {c}");
            }
        }
        assert_eq!(rows[2][2], 0.0);
    }
}
