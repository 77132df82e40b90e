//! Gaussian laws `N(mean, covariance)` in standardized form `x = mean + A ξ`, and the
//! [`Estimate`] and [`Tolerance`] shared by every integration rule of `eval`.
//!
//! The covariance is factored by its eigen-decomposition (not Cholesky), so singular covariances
//! are accepted: a rank-`r` law on `R^k` is integrated over `ξ ∈ R^r` only.

use crate::linalg::symmetric_eigen;
use ndarray::Array2;
use std::fmt;

/// Eigenvalues within this fraction of the largest one (in absolute value) count as zero: a
/// slightly negative one is repaired to zero, a tiny positive one is dropped from the rank.
/// Jacobi eigenvalues are accurate to ~1e-16 of the largest, and covariances assembled from
/// closed forms or quadrature carry errors of ~1e-12, so 1e-10 leaves a wide margin.
pub const EIGENVALUE_TOLERANCE: f64 = 1e-10;

/// Asymmetry tolerated in a covariance (relative to its largest entry) before it is rejected;
/// what is tolerated is averaged away.
const SYMMETRY_TOLERANCE: f64 = 1e-12;

/// A numerical value with an error estimate and its cost.
///
/// For quadrature, `error` is the difference between the last two refinement levels (a
/// conservative bound when the rule converges geometrically); for Monte Carlo it is the
/// standard error `sd/√M`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// The estimated expectation.
    pub value: f64,
    /// Estimated absolute error of `value` (see the type's doc for its meaning per rule).
    pub error: f64,
    /// Number of integrand evaluations spent, over all refinement levels.
    pub evaluations: usize,
}

/// When two successive refinement levels are said to agree: `|Q_n − Q_{n/2}| ≤ relative·|Q_n| +
/// absolute`.
///
/// The absolute floor lets expectations whose value is zero (e.g. `E tanh(u)`) converge; the
/// default `1e-13` sits just above the rounding noise of summing ~10^6 terms of size one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// Relative tolerance (default `1e-10`).
    pub relative: f64,
    /// Absolute floor (default `1e-13`).
    pub absolute: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            relative: 1e-10,
            absolute: 1e-13,
        }
    }
}

impl Tolerance {
    /// Whether `current` and `previous` agree within the tolerance.
    pub fn accepts(&self, previous: f64, current: f64) -> bool {
        (current - previous).abs() <= self.relative * current.abs() + self.absolute
    }
}

/// The error of a refinement that stopped before two levels agreed, from its last two level
/// differences `previous` and `last`.
///
/// When the differences shrink by a ratio `ρ < 1`, the levels still to come would move the
/// value by about `last · ρ / (1 − ρ)` (exact for errors `C n^(−p)`, the algebraic convergence of
/// a kink or an integrable singularity; geometric convergence gives less than `last`, which is
/// kept as a floor). The error is twice that: the rate is itself measured from two noisy
/// differences (`E|x|^(-1/2)` by the kink-aware rule misses by 1.0× the undoubled figure). When they do not shrink (`ρ ≥ 1`: the levels are not resolving the
/// integrand), the error is unknown: infinite. With a single difference, or differences at the
/// rounding level of `value`, it is the last difference.
pub fn unsettled_error(previous: Option<f64>, last: f64, value: f64) -> f64 {
    let rounding = 64.0 * f64::EPSILON * value.abs();
    match previous {
        Some(previous) if previous > 0.0 && last > rounding => {
            let ratio = last / previous;
            if ratio >= 1.0 || !ratio.is_finite() {
                f64::INFINITY
            } else {
                last * (2.0 * ratio / (1.0 - ratio)).max(1.0)
            }
        }
        _ => last,
    }
}

/// Why a covariance matrix was rejected.
#[derive(Clone, Debug, PartialEq)]
pub enum CovarianceError {
    /// The covariance is not `k × k` for a mean of length `k`.
    Shape {
        /// Length of the mean.
        mean: usize,
        /// Rows of the covariance.
        rows: usize,
        /// Columns of the covariance.
        columns: usize,
    },
    /// An entry of the mean or covariance is NaN or infinite.
    NotFinite,
    /// `C[i][j]` and `C[j][i]` differ by more than rounding.
    NotSymmetric {
        /// Row of the offending entry.
        i: usize,
        /// Column of the offending entry.
        j: usize,
    },
    /// An eigenvalue is negative beyond [`EIGENVALUE_TOLERANCE`] times the largest.
    NegativeEigenvalue {
        /// The offending eigenvalue.
        value: f64,
        /// The largest eigenvalue (0 if none is positive).
        largest: f64,
    },
}

impl fmt::Display for CovarianceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CovarianceError::Shape {
                mean,
                rows,
                columns,
            } => write!(
                f,
                "covariance is {rows}×{columns} but the mean has {mean} entries"
            ),
            CovarianceError::NotFinite => write!(f, "mean or covariance has a NaN or infinite entry"),
            CovarianceError::NotSymmetric { i, j } => {
                write!(f, "covariance is not symmetric: entries ({i}, {j}) and ({j}, {i}) differ")
            }
            CovarianceError::NegativeEigenvalue { value, largest } => write!(
                f,
                "covariance is not positive semidefinite: eigenvalue {value:.3e} (largest {largest:.3e}; \
                 only {EIGENVALUE_TOLERANCE:e} of the largest is tolerated)"
            ),
        }
    }
}

impl std::error::Error for CovarianceError {}

/// The law `N(mean, A Aᵀ)` on `R^k`, stored as the mean and a `k × r` factor `A` of full column
/// rank `r ≤ k`: a sample is `mean + A ξ` with `ξ ~ N(0, I_r)`.
///
/// Columns of `A` are `√λ v` for the eigenpairs `(λ, v)` of the covariance with
/// `λ > EIGENVALUE_TOLERANCE · λ_max`, in decreasing order of `λ`; each `v` is signed so that
/// its largest-magnitude entry is positive (the factor is deterministic).
#[derive(Clone, Debug, PartialEq)]
pub struct Gaussian {
    mean: Vec<f64>,
    factor: Array2<f64>,
}

impl Gaussian {
    /// Factors `covariance` (symmetric positive semidefinite, possibly singular).
    ///
    /// Eigenvalues in `[-τ, τ]` with `τ = EIGENVALUE_TOLERANCE · λ_max` are set to zero (the
    /// dropped variance is at most `k τ`); an eigenvalue below `-τ` is an error naming it.
    pub fn new(mean: Vec<f64>, covariance: &Array2<f64>) -> Result<Gaussian, CovarianceError> {
        let k = mean.len();
        if covariance.nrows() != k || covariance.ncols() != k {
            return Err(CovarianceError::Shape {
                mean: k,
                rows: covariance.nrows(),
                columns: covariance.ncols(),
            });
        }
        if !mean.iter().chain(covariance.iter()).all(|x| x.is_finite()) {
            return Err(CovarianceError::NotFinite);
        }
        let scale = covariance.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        for i in 0..k {
            for j in i + 1..k {
                if (covariance[[i, j]] - covariance[[j, i]]).abs() > SYMMETRY_TOLERANCE * scale {
                    return Err(CovarianceError::NotSymmetric { i, j });
                }
            }
        }
        let symmetric = (covariance + &covariance.t()) * 0.5;
        let (values, vectors) = symmetric_eigen(&symmetric);
        let largest = values.last().copied().unwrap_or(0.0).max(0.0);
        let threshold = EIGENVALUE_TOLERANCE * largest;
        if let Some(&value) = values.iter().find(|&&v| v < -threshold) {
            return Err(CovarianceError::NegativeEigenvalue { value, largest });
        }
        let kept: Vec<usize> = (0..k).rev().filter(|&i| values[i] > threshold).collect();
        let mut factor = Array2::zeros((k, kept.len()));
        for (column, &i) in kept.iter().enumerate() {
            let v = vectors.column(i);
            let pivot = v
                .iter()
                .fold(0.0f64, |p, &x| if x.abs() > p.abs() { x } else { p });
            let sign = if pivot < 0.0 { -1.0 } else { 1.0 };
            let root = values[i].sqrt();
            for row in 0..k {
                factor[[row, column]] = sign * root * v[row];
            }
        }
        Ok(Gaussian { mean, factor })
    }

    /// Dimension `k` of the space the law lives on (the number of atoms).
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Effective dimension `r`: the rank of the covariance, i.e. the number of standard normals.
    pub fn rank(&self) -> usize {
        self.factor.ncols()
    }

    /// The mean vector.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The `k × r` factor `A` (covariance `A Aᵀ`).
    pub fn factor(&self) -> &Array2<f64> {
        &self.factor
    }

    /// Writes the point `mean + A ξ` into `out` (`ξ` of length `r`, `out` of length `k`).
    pub fn point(&self, xi: &[f64], out: &mut [f64]) {
        debug_assert_eq!(xi.len(), self.rank());
        for (row, (o, m)) in out.iter_mut().zip(&self.mean).enumerate() {
            *o = m + xi
                .iter()
                .enumerate()
                .map(|(c, z)| self.factor[[row, c]] * z)
                .sum::<f64>();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Reconstruction `A Aᵀ = C` to 1e-14: Jacobi eigenvectors are orthonormal to rounding.
    #[test]
    fn factors_a_full_rank_covariance() {
        let c = array![[1.0, 0.9], [0.9, 2.25]];
        let g = Gaussian::new(vec![0.5, -1.0], &c).unwrap();
        assert_eq!((g.dim(), g.rank()), (2, 2));
        let back = g.factor().dot(&g.factor().t());
        for (x, y) in back.iter().zip(c.iter()) {
            assert!((x - y).abs() < 1e-14);
        }
        let mut x = [0.0; 2];
        g.point(&[0.0, 0.0], &mut x);
        assert_eq!(x, [0.5, -1.0]);
        assert_eq!(g.mean(), &[0.5, -1.0]);
    }

    /// A rank-1 covariance on R^2 (u = 2v) is integrated in one dimension; the repaired
    /// eigenvalue is a rounding-level negative one.
    #[test]
    fn accepts_singular_and_repairs_rounding_negatives() {
        let c = array![[4.0, 2.0], [2.0, 1.0 - 1e-13]];
        let g = Gaussian::new(vec![0.0, 0.0], &c).unwrap();
        assert_eq!(g.rank(), 1);
        let a = g.factor();
        assert!((a[[0, 0]] - 2.0).abs() < 1e-6 && (a[[1, 0]] - 1.0).abs() < 1e-6);
        let zero = Gaussian::new(vec![3.0], &array![[0.0]]).unwrap();
        assert_eq!(zero.rank(), 0);
    }

    #[test]
    fn rejects_bad_covariances() {
        let err = Gaussian::new(vec![0.0, 0.0], &array![[1.0, 2.0], [2.0, 1.0]]).unwrap_err();
        match err {
            CovarianceError::NegativeEigenvalue { value, largest } => {
                assert!((value + 1.0).abs() < 1e-12 && (largest - 3.0).abs() < 1e-12);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err
            .to_string()
            .contains("eigenvalue -1.000e0 (largest 3.000e0"));
        assert_eq!(
            Gaussian::new(vec![0.0], &array![[1.0, 0.0], [0.0, 1.0]]).unwrap_err(),
            CovarianceError::Shape {
                mean: 1,
                rows: 2,
                columns: 2
            }
        );
        assert_eq!(
            Gaussian::new(vec![0.0, 0.0], &array![[1.0, 0.5], [0.4, 1.0]]).unwrap_err(),
            CovarianceError::NotSymmetric { i: 0, j: 1 }
        );
        assert_eq!(
            Gaussian::new(vec![f64::NAN], &array![[1.0]]).unwrap_err(),
            CovarianceError::NotFinite
        );
        assert_eq!(
            Gaussian::new(vec![0.0], &array![[-1.0]]).unwrap_err(),
            CovarianceError::NegativeEigenvalue {
                value: -1.0,
                largest: 0.0
            }
        );
    }

    #[test]
    fn tolerance_has_an_absolute_floor() {
        let t = Tolerance::default();
        assert!(t.accepts(1.0, 1.0 + 5e-11));
        assert!(!t.accepts(1.0, 1.0 + 5e-10));
        assert!(t.accepts(0.0, 5e-14));
    }
}
