//! How the errors of an expectation's inputs reach its value, to first order.
//!
//! An expectation `E[f(Z; θ)]`, `Z ~ N(μ, C)`, takes two kinds of inputs with error bars of
//! their own: the limit scalars `θ` its integrand mentions, and the covariance entries `C_ij`
//! of its atoms (a ZHat family's covariances are themselves integrals). Their errors reach the
//! value as
//!
//! ```text
//! δE ≈ √( Σ_s (∂E/∂θ_s · δθ_s)² + Σ_{i ≤ j} (∂E/∂C_ij · δC_ij)² ),
//! ```
//!
//! each input weighted by how much the value depends on it, independent errors adding in
//! quadrature (the usual first-order propagation: a sum of hundreds of Monte Carlo standard
//! errors in absolute value would overstate the error by the square root of their number). Both derivatives are estimated on
//! one small fixed rule (a tensor Gauss–Hermite grid of [`RULE_POINTS`] nodes in up to 4
//! dimensions, [`RULE_DRAWS`] seeded antithetic draws beyond): `∂E/∂θ_s` as the change of the rule's sum
//! when `θ_s` moves by its error, on the same nodes; `∂E/∂C` by the likelihood-ratio identity
//!
//! ```text
//! ∂E/∂C = ½ A Λ⁻¹ E[f(μ + Aξ) (ξξᵀ − I)] Λ⁻¹ Aᵀ,   C = AAᵀ, Λ = AᵀA diagonal, ξ ~ N(0, I),
//! ```
//!
//! which takes no derivative of `f`, so kinks and jumps are fine. An error bar needs one or
//! two digits, which such a rule gives; a singular `C` is perturbed within its range only.

use super::gauss_hermite;
use super::gaussian::Gaussian;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Nodes of the grid the derivatives are estimated on, up to rank [`GRID_RANK`].
pub const RULE_POINTS: usize = 1024;

/// Draws beyond rank [`GRID_RANK`]: the likelihood-ratio estimate of a covariance derivative
/// has a relative standard deviation of about 7% with this many.
pub const RULE_DRAWS: usize = 4096;

/// Highest rank integrated by a tensor grid; beyond it, seeded draws.
const GRID_RANK: usize = 4;

/// The inputs of one expectation with their error bars.
pub struct Inputs<'a> {
    /// The values of the scalars the integrand reads.
    pub scalars: &'a [f64],
    /// Their error bars, in the same order.
    pub scalar_errors: &'a [f64],
    /// The error bars of the covariance entries, `k × k` row-major, symmetric.
    pub covariance_errors: &'a [f64],
}

impl Inputs<'_> {
    /// Whether some input has a nonzero error bar.
    pub fn any_error(&self) -> bool {
        self.scalar_errors
            .iter()
            .chain(self.covariance_errors)
            .any(|&e| e > 0.0)
    }
}

/// The first-order error of `E[f(x; θ)]`, `x ~ gaussian`, from the errors of its inputs:
/// `f(x, θ)` takes a point of the law's space and the scalars.
pub fn propagated_error(
    gaussian: &Gaussian,
    f: &dyn Fn(&[f64], &[f64]) -> f64,
    inputs: &Inputs,
) -> f64 {
    if !inputs.any_error() {
        return 0.0;
    }
    let (k, r) = (gaussian.dim(), gaussian.rank());
    let nodes = rule(r);
    let mut x = vec![0.0; k];
    let mut sum = |scalars: &[f64], moments: Option<&mut [f64]>| -> f64 {
        let mut total = 0.0;
        let mut moments = moments;
        for (xi, w) in &nodes {
            gaussian.point(xi, &mut x);
            let y = w * f(&x, scalars);
            total += y;
            if let Some(m) = moments.as_deref_mut() {
                for p in 0..r {
                    for q in 0..r {
                        let centred = xi[p] * xi[q] - if p == q { 1.0 } else { 0.0 };
                        m[p * r + q] += y * centred;
                    }
                }
            }
        }
        total
    };
    let mut moments = vec![0.0; r * r];
    let base = sum(inputs.scalars, Some(&mut moments));
    let mut squares = 0.0;
    let mut shifted = inputs.scalars.to_vec();
    for (s, &e) in inputs.scalar_errors.iter().enumerate() {
        if e > 0.0 {
            shifted[s] = inputs.scalars[s] + e;
            squares += (sum(&shifted, None) - base).powi(2);
            shifted[s] = inputs.scalars[s];
        }
    }
    if r > 0 && inputs.covariance_errors.iter().any(|&e| e > 0.0) {
        let gradient = covariance_gradient(gaussian, &moments);
        for i in 0..k {
            for j in i..k {
                let e = inputs.covariance_errors[i * k + j];
                // C_ij and C_ji move together.
                let weight = if i == j { 1.0 } else { 2.0 };
                squares += (weight * gradient[i * k + j] * e).powi(2);
            }
        }
    }
    let error = squares.sqrt();
    if error.is_finite() {
        error
    } else {
        f64::INFINITY
    }
}

/// `∂E/∂C = ½ A Λ⁻¹ M Λ⁻¹ Aᵀ` (`k × k`, row-major) from `M = E[f (ξξᵀ − I)]` (`r × r`).
fn covariance_gradient(gaussian: &Gaussian, moments: &[f64]) -> Vec<f64> {
    let a = gaussian.factor();
    let (k, r) = (a.nrows(), a.ncols());
    let lambda: Vec<f64> = (0..r).map(|c| a.column(c).dot(&a.column(c))).collect();
    let mut gradient = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..k {
            let mut g = 0.0;
            for p in 0..r {
                for q in 0..r {
                    g += a[[i, p]] * moments[p * r + q] * a[[j, q]] / (lambda[p] * lambda[q]);
                }
            }
            gradient[i * k + j] = 0.5 * g;
        }
    }
    gradient
}

/// The nodes `ξ ∈ R^r` and weights of the rule: a tensor Gauss–Hermite grid of at most
/// [`RULE_POINTS`] nodes up to rank [`GRID_RANK`], [`RULE_DRAWS`] antithetic seeded draws beyond.
fn rule(r: usize) -> Vec<(Vec<f64>, f64)> {
    if r == 0 {
        return vec![(Vec::new(), 1.0)];
    }
    if r > GRID_RANK {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let half = RULE_DRAWS / 2;
        let weight = 1.0 / RULE_DRAWS as f64;
        return (0..half)
            .flat_map(|_| {
                let xi: Vec<f64> = (0..r).map(|_| StandardNormal.sample(&mut rng)).collect();
                let mirrored = xi.iter().map(|z| -z).collect();
                [(xi, weight), (mirrored, weight)]
            })
            .collect();
    }
    let order = (1..=64)
        .take_while(|p: &usize| p.pow(r as u32) <= RULE_POINTS)
        .last()
        .expect("one node per axis fits");
    let axis = gauss_hermite::hermite(order);
    let mut nodes = vec![(Vec::new(), 1.0)];
    for _ in 0..r {
        nodes = nodes
            .into_iter()
            .flat_map(|(xi, w)| {
                axis.nodes.iter().zip(&axis.weights).map(move |(z, v)| {
                    let mut next = xi.clone();
                    next.push(*z);
                    (next, w * v)
                })
            })
            .collect();
    }
    nodes
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// `E[u v] = C_uv`: the derivative in `C_uv` is 1, so an error δ on it gives δ.
    #[test]
    fn a_covariance_error_reaches_a_product_of_atoms() {
        let g = Gaussian::new(vec![0.0, 0.0], &array![[1.0, 0.3], [0.3, 2.0]]).unwrap();
        let f = |x: &[f64], _: &[f64]| x[0] * x[1];
        let inputs = Inputs {
            scalars: &[],
            scalar_errors: &[],
            covariance_errors: &[0.0, 1e-6, 1e-6, 0.0],
        };
        let e = propagated_error(&g, &f, &inputs);
        assert!((e - 1e-6).abs() < 1e-12, "{e}");
    }

    /// `E[tanh(u)²]` depends on Var u with derivative `E[tanh'(u)² + tanh(u) tanh''(u)]`,
    /// compared with a finite difference of precise quadrature.
    #[test]
    fn a_variance_error_is_weighted_by_the_derivative() {
        let exact = |v: f64| {
            let g = Gaussian::new(vec![0.0], &array![[v]]).unwrap();
            super::super::quadrature::tensor_gauss_hermite(
                &g,
                &|x: &[f64]| x[0].tanh().powi(2),
                200,
            )
        };
        let derivative = (exact(1.5 + 1e-5) - exact(1.5 - 1e-5)) / 2e-5;
        let g = Gaussian::new(vec![0.0], &array![[1.5]]).unwrap();
        let f = |x: &[f64], _: &[f64]| x[0].tanh().powi(2);
        let inputs = Inputs {
            scalars: &[],
            scalar_errors: &[],
            covariance_errors: &[1e-8],
        };
        let e = propagated_error(&g, &f, &inputs);
        assert!((e / (derivative * 1e-8) - 1.0).abs() < 1e-3, "{e}");
    }

    /// A scalar that the integrand multiplies by something small contributes little, a
    /// scalar without error nothing, and two independent errors add in quadrature.
    #[test]
    fn scalar_errors_are_weighted_by_sensitivity() {
        let g = Gaussian::new(vec![0.0], &array![[1.0]]).unwrap();
        let f = |x: &[f64], s: &[f64]| 1e-3 * s[0] * x[0] * x[0] + s[1] + 0.5 * s[2];
        let inputs = Inputs {
            scalars: &[2.0, 5.0, 1.0],
            scalar_errors: &[1e-4, 0.0, 0.0],
            covariance_errors: &[0.0],
        };
        let e = propagated_error(&g, &f, &inputs);
        assert!((e - 1e-7).abs() < 1e-15, "{e}");
        let inputs = Inputs {
            scalar_errors: &[3e-4, 0.0, 8e-7],
            ..inputs
        };
        let e = propagated_error(&g, &f, &inputs);
        assert!((e - 5e-7).abs() < 1e-15, "{e}");
    }

    /// Beyond the grid's rank the rule draws; the derivative is still close.
    #[test]
    fn high_ranks_use_draws() {
        let c = ndarray::Array2::from_diag(&ndarray::arr1(&[1.0; 6]));
        let g = Gaussian::new(vec![0.0; 6], &c).unwrap();
        let f = |x: &[f64], _: &[f64]| x[0] * x[0];
        let mut errors = vec![0.0; 36];
        errors[0] = 1e-6;
        let inputs = Inputs {
            scalars: &[],
            scalar_errors: &[],
            covariance_errors: &errors,
        };
        let e = propagated_error(&g, &f, &inputs);
        assert!((e / 1e-6 - 1.0).abs() < 0.25, "{e}");
    }
}
