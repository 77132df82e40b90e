//! Dimension-adaptive trapezoid quadrature of `E f(x)`, `x ~ N(mean, A Aᵀ)`, for smooth
//! integrands in three to six dimensions.
//!
//! On the law's `r` standard normals `ξ`, axis `i` carries an equispaced rule of step `h_i`
//! (nodes `k h_i`, weights `∝ φ(k h_i)`, normalized to sum to one), and the tensor grid is cut
//! to the ball `|ξ| ≤ R`. For an integrand analytic in a strip `|Im ξ_i| < a` the trapezoid
//! error falls like `exp(−2πa / h_i)`: geometrically in the number of nodes, where
//! Gauss–Hermite falls only like `exp(−c √N)` (its nodes spread out as `√N` and are wasted in
//! the tails). The ball drops the corners of the cube, where the weight is negligible: half
//! the points in three dimensions, 92% in six.
//!
//! Refinement is by axis. Each pass evaluates the grid once and, from the same values, the
//! grid with axis `i` one level coarser (every other node, for each `i`): `Δ_i`, the change
//! the last refinement of axis `i` made, estimates the error that axis still carries (an
//! overestimate once convergence is geometric, where the next change is about `Δ_i²`). The
//! axis with the largest `Δ_i` is halved next, so axes the integrand hardly depends on (small
//! eigenvalues of the covariance, directions it is flat in) stay coarse. The points outside
//! radius `R − 1` estimate what the cut drops ([`tail_ratio`]). The error reported is
//! `Σ Δ_i` plus that tail.

use super::gaussian::{Estimate, Gaussian, Tolerance};
use super::quadrature::QuadratureError;
use rayon::prelude::*;

/// The evaluator integrates smooth integrands of this rank and above by this rule (below it,
/// tensor Gauss–Hermite is already cheap and converged).
pub const FROM_RANK: usize = 3;

/// The evaluator lets this rule's grids grow to this many times the Gauss–Hermite point
/// budget: each halving of an axis step roughly squares that axis's error, so the last
/// doublings buy many digits (the depth-2 μP tanh program after two steps meets `--tol 1e-7`
/// with 4, not with 1).
pub const BUDGET_FACTOR: usize = 4;

/// Grids with at least this many points are evaluated in parallel over the first axis.
const PARALLEL_POINTS: usize = 1 << 14;

/// Coarsest level of every axis: step `COARSEST_STEP`. Its comparison with the single node
/// at the mean would miss dependence that is even about it; one level finer every axis has a
/// true two-level comparison.
const MIN_LEVEL: u32 = 2;

/// Step of level 1; level `l` has step `COARSEST_STEP / 2^(l−1)` (level 0 is the mean alone).
const COARSEST_STEP: f64 = 2.0;

/// Finest level of an axis (step 1/64: a feature 0.1 standard deviations wide is resolved).
const MAX_LEVEL: u32 = 8;

/// Largest radius of the ball (the Gaussian weight there is `e^(−72)`).
const MAX_RADIUS: f64 = 12.0;

/// Settings of [`expectation`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrapezoidOptions {
    /// The error the estimate must reach: `relative·|value| + absolute`.
    pub tolerance: Tolerance,
    /// Most points of one grid: refinement stops (giving [`QuadratureError::NotConverged`])
    /// before a grid would exceed it.
    pub max_points: usize,
}

impl Default for TrapezoidOptions {
    fn default() -> Self {
        TrapezoidOptions {
            tolerance: Tolerance::default(),
            max_points: 1 << 22,
        }
    }
}

/// The one-dimensional rule of one level of one axis: nodes, weights, and for each node the
/// factor that turns its weight into its weight in the next coarser level (0 where the coarser
/// level has no such node).
struct AxisRule {
    nodes: Vec<f64>,
    weights: Vec<f64>,
    coarse: Vec<f64>,
}

/// Nodes and normalized weights of level `level` on `[−radius, radius]`.
fn level_rule(level: u32, radius: f64) -> (Vec<f64>, Vec<f64>) {
    if level == 0 {
        return (vec![0.0], vec![1.0]);
    }
    let h = COARSEST_STEP / f64::from(1u32 << (level - 1));
    let half = (radius / h).floor() as i64;
    let nodes: Vec<f64> = (-half..=half).map(|k| k as f64 * h).collect();
    let raw: Vec<f64> = nodes.iter().map(|x| (-0.5 * x * x).exp()).collect();
    let total: f64 = raw.iter().sum();
    (nodes, raw.into_iter().map(|w| w / total).collect())
}

impl AxisRule {
    fn new(level: u32, radius: f64) -> AxisRule {
        let (nodes, weights) = level_rule(level, radius);
        let (coarse_nodes, coarse_weights) = level_rule(level - 1, radius);
        let coarse = nodes
            .iter()
            .zip(&weights)
            .map(|(x, w)| {
                coarse_nodes
                    .iter()
                    .position(|y| (y - x).abs() < 1e-12)
                    .map_or(0.0, |j| coarse_weights[j] / w)
            })
            .collect();
        AxisRule {
            nodes,
            weights,
            coarse,
        }
    }
}

/// The sums of one pass: the grid's value, each axis's one-level-coarser value, the
/// absolute weighted integrand outside radius `R − 1`, and the points visited.
#[derive(Clone, Debug)]
struct Sums {
    value: f64,
    coarse: Vec<f64>,
    shell: f64,
    points: usize,
}

impl Sums {
    fn zero(r: usize) -> Sums {
        Sums {
            value: 0.0,
            coarse: vec![0.0; r],
            shell: 0.0,
            points: 0,
        }
    }

    fn add(&mut self, other: &Sums) {
        self.value += other.value;
        for (a, b) in self.coarse.iter_mut().zip(&other.coarse) {
            *a += b;
        }
        self.shell += other.shell;
        self.points += other.points;
    }
}

/// Walks the ball's grid below axis `axis`, adding into `sums`.
struct Pass<'a, F: ?Sized> {
    gaussian: &'a Gaussian,
    f: &'a F,
    rules: &'a [AxisRule],
    radius2: f64,
    inner2: f64,
}

impl<F> Pass<'_, F>
where
    F: Fn(&[f64]) -> f64 + Sync + ?Sized,
{
    /// Number of grid points inside the ball (no integrand evaluations), counted only up to
    /// just past `cap` (a 10-dimensional grid is never enumerated).
    fn count(&self, axis: usize, used: f64, cap: usize) -> usize {
        let rule = &self.rules[axis];
        let mut n = 0;
        for &x in &rule.nodes {
            let r2 = used + x * x;
            if r2 > self.radius2 {
                continue;
            }
            n += if axis + 1 == self.rules.len() {
                1
            } else {
                self.count(axis + 1, r2, cap - n)
            };
            if n > cap {
                break;
            }
        }
        n
    }

    #[allow(clippy::too_many_arguments)]
    fn visit(
        &self,
        axis: usize,
        used: f64,
        weight: f64,
        ratios: &mut [f64],
        xi: &mut [f64],
        x: &mut [f64],
        sums: &mut Sums,
    ) {
        let rule = &self.rules[axis];
        for (j, &node) in rule.nodes.iter().enumerate() {
            let r2 = used + node * node;
            if r2 > self.radius2 {
                continue;
            }
            xi[axis] = node;
            ratios[axis] = rule.coarse[j];
            let w = weight * rule.weights[j];
            if axis + 1 < self.rules.len() {
                self.visit(axis + 1, r2, w, ratios, xi, x, sums);
                continue;
            }
            self.gaussian.point(xi, x);
            let y = w * (self.f)(x);
            sums.value += y;
            for (c, ratio) in sums.coarse.iter_mut().zip(ratios.iter()) {
                *c += ratio * y;
            }
            if r2 > self.inner2 {
                sums.shell += y.abs();
            }
            sums.points += 1;
        }
    }

    /// The sums over the slab of the first axis's node `j`.
    fn slab(&self, j: usize) -> Sums {
        let r = self.rules.len();
        let mut sums = Sums::zero(r);
        let rule = &self.rules[0];
        let node = rule.nodes[j];
        let r2 = node * node;
        if r2 > self.radius2 {
            return sums;
        }
        let mut xi = vec![0.0; r];
        let mut ratios = vec![0.0; r];
        let mut x = vec![0.0; self.gaussian.dim()];
        xi[0] = node;
        ratios[0] = rule.coarse[j];
        if r == 1 {
            self.gaussian.point(&xi, &mut x);
            let y = rule.weights[j] * (self.f)(&x);
            sums.value = y;
            sums.coarse[0] = ratios[0] * y;
            sums.shell = if r2 > self.inner2 { y.abs() } else { 0.0 };
            sums.points = 1;
        } else {
            self.visit(
                1,
                r2,
                rule.weights[j],
                &mut ratios,
                &mut xi,
                &mut x,
                &mut sums,
            );
        }
        sums
    }

    /// One pass over the grid; slabs are added in a fixed order, so the result does not
    /// depend on the number of threads.
    fn run(&self, points: usize) -> Sums {
        let n = self.rules[0].nodes.len();
        let slabs: Vec<Sums> = if points >= PARALLEL_POINTS {
            (0..n).into_par_iter().map(|j| self.slab(j)).collect()
        } else {
            (0..n).map(|j| self.slab(j)).collect()
        };
        let mut total = Sums::zero(self.rules.len());
        for s in &slabs {
            total.add(s);
        }
        total
    }
}

/// `P(|ξ| > R) / P(R − 1 < |ξ| ≤ R)` for `ξ ~ N(0, I_r)`: how much of the law lies beyond the
/// ball per unit of the outer shell the grid sees. The integrand's weighted absolute sum over
/// that shell times this ratio estimates what the cut drops.
pub fn tail_ratio(r: usize, radius: f64) -> f64 {
    // ∫ ρ^(r−1) e^(−ρ²/2) dρ by the midpoint rule on a fine grid: smooth, a few digits suffice.
    let density = |rho: f64| rho.powi(r as i32 - 1) * (-0.5 * rho * rho).exp();
    let integral = |a: f64, b: f64| {
        let n = 2000;
        let h = (b - a) / n as f64;
        (0..n)
            .map(|i| density(a + (i as f64 + 0.5) * h))
            .sum::<f64>()
            * h
    };
    integral(radius, radius + 20.0) / integral((radius - 1.0).max(0.0), radius)
}

/// The radius whose ball leaves out less than `fraction` of the law `N(0, I_r)`.
pub(super) fn radius_for(r: usize, fraction: f64) -> f64 {
    let density = |rho: f64| rho.powi(r as i32 - 1) * (-0.5 * rho * rho).exp();
    let integral = |a: f64, b: f64| {
        let n = 4000;
        let h = (b - a) / n as f64;
        (0..n)
            .map(|i| density(a + (i as f64 + 0.5) * h))
            .sum::<f64>()
            * h
    };
    let total = integral(0.0, 40.0);
    let mut radius = 4.0;
    while radius < MAX_RADIUS && integral(radius, radius + 30.0) > fraction * total {
        radius += 0.5;
    }
    radius
}

/// The error an axis still carries, from the change `change` its last refinement made and
/// the change `previous` of the one before.
///
/// With a ratio `ρ = change / previous < 1/2` the changes are settling: the refinements still
/// to come would move the value by at most `change · ρ / (1 − ρ)` if they kept shrinking by
/// `ρ` (the slowest, algebraic, case); geometric convergence shrinks them faster still, and
/// the figure is doubled for a ratio measured from two differences (as
/// [`super::gaussian::unsettled_error`] does). Otherwise, and before a second change is
/// known, the change itself.
fn axis_error(change: f64, previous: Option<f64>) -> f64 {
    match previous {
        Some(previous) if previous > 0.0 && change < 0.5 * previous => {
            let ratio = change / previous;
            2.0 * change * ratio / (1.0 - ratio)
        }
        _ => change,
    }
}

/// `E f(x)` to `options.tolerance` by the dimension-adaptive trapezoid rule (module doc).
///
/// Any rank works; rank 0 evaluates `f(mean)` once. The error is `Σ_i Δ_i` plus the tail
/// estimate; [`QuadratureError::NotConverged`] keeps the last grid's value and that error
/// when the point budget or the finest level stops refinement first.
pub fn expectation<F>(
    gaussian: &Gaussian,
    f: &F,
    options: &TrapezoidOptions,
) -> Result<Estimate, QuadratureError>
where
    F: Fn(&[f64]) -> f64 + Sync + ?Sized,
{
    let r = gaussian.rank();
    if r == 0 {
        let value = f(gaussian.mean());
        if !value.is_finite() {
            return Err(QuadratureError::NonFinite { order: 1 });
        }
        return Ok(Estimate {
            value,
            error: 0.0,
            evaluations: 1,
        });
    }
    let tolerance = options.tolerance;
    let mut radius = radius_for(r, 0.1 * tolerance.relative.max(1e-16));
    let mut levels = vec![MIN_LEVEL; r];
    // The change each axis's refinement before its last one made.
    let mut previous: Vec<Option<f64>> = vec![None; r];
    let mut evaluations = 0;
    loop {
        let rules: Vec<AxisRule> = levels.iter().map(|&l| AxisRule::new(l, radius)).collect();
        let pass = Pass {
            gaussian,
            f,
            rules: &rules,
            radius2: radius * radius,
            inner2: (radius - 1.0).powi(2),
        };
        let points = pass.count(0, 0.0, options.max_points);
        if points > options.max_points {
            // Only the first grid can be over the budget (refinements check before they
            // grow): nothing was evaluated.
            return Err(QuadratureError::NotConverged(Estimate {
                value: f64::NAN,
                error: f64::INFINITY,
                evaluations,
            }));
        }
        let sums = pass.run(points);
        evaluations += sums.points;
        if !sums.value.is_finite() {
            return Err(QuadratureError::NonFinite {
                order: rules.iter().map(|a| a.nodes.len()).max().unwrap_or(1),
            });
        }
        let changes: Vec<f64> = sums.coarse.iter().map(|c| (sums.value - c).abs()).collect();
        let tail = 4.0 * sums.shell * tail_ratio(r, radius);
        let discretization: f64 = changes
            .iter()
            .zip(&previous)
            .map(|(&change, &previous)| axis_error(change, previous))
            .sum();
        let estimate = Estimate {
            value: sums.value,
            error: discretization + tail,
            evaluations,
        };
        let allowed = tolerance.relative * sums.value.abs() + tolerance.absolute;
        if estimate.error <= allowed {
            return Ok(estimate);
        }
        // The cut costs more than half the budget: widen the ball (the grid steps stay).
        if tail > 0.5 * allowed && tail >= discretization && radius + 1.0 <= MAX_RADIUS {
            let grown = points as f64 * ((radius + 1.0) / radius).powi(r as i32);
            if grown as usize > options.max_points {
                return Err(QuadratureError::NotConverged(estimate));
            }
            radius += 1.0;
            continue;
        }
        let (axis, _) =
            changes.iter().enumerate().fold(
                (0, -1.0),
                |best, (i, &c)| if c > best.1 { (i, c) } else { best },
            );
        if levels[axis] >= MAX_LEVEL || points.saturating_mul(2) > options.max_points {
            return Err(QuadratureError::NotConverged(estimate));
        }
        previous[axis] = Some(changes[axis]);
        levels[axis] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::quadrature::tensor_gauss_hermite;
    use ndarray::array;

    /// The ratio is the Gaussian's own: for `r = 1`, `P(|ξ| > 3) / P(2 < |ξ| ≤ 3)` is
    /// `0.0026998 / 0.0428006` (tables of Φ) to four digits.
    #[test]
    fn tail_ratio_is_the_gaussian_one() {
        let expected = 0.002_699_8 / (0.045_500_3 - 0.002_699_8);
        assert!((tail_ratio(1, 3.0) / expected - 1.0).abs() < 1e-3);
    }

    /// A product of one-dimensional factors under a diagonal law is a product of 1-D
    /// expectations, each exact to rounding by 512-point Gauss–Hermite. The rule must land
    /// within its error bar of it, and below the tolerance 1e-10 relative.
    #[test]
    fn a_separable_three_dimensional_tanh_is_exact() {
        let variances = [1.0, 2.25, 0.3];
        let g = Gaussian::new(
            vec![0.2, -0.1, 0.0],
            &array![
                [variances[0], 0.0, 0.0],
                [0.0, variances[1], 0.0],
                [0.0, 0.0, variances[2]]
            ],
        )
        .unwrap();
        let f = |x: &[f64]| (1.0 + x[0].tanh()) * (0.5 + x[1].tanh().powi(2)) * (x[2] + 2.0).tanh();
        let one = |mean: f64, variance: f64, h: &(dyn Fn(f64) -> f64 + Sync)| {
            let g = Gaussian::new(vec![mean], &array![[variance]]).unwrap();
            tensor_gauss_hermite(&g, &|x: &[f64]| h(x[0]), 512)
        };
        let exact = one(0.2, 1.0, &|x| 1.0 + x.tanh())
            * one(-0.1, 2.25, &|x| 0.5 + x.tanh().powi(2))
            * one(0.0, 0.3, &|x| (x + 2.0).tanh());
        let est = expectation(&g, &f, &TrapezoidOptions::default()).unwrap();
        let error = (est.value - exact).abs();
        assert!(error <= est.error.max(1e-14), "{est:?} vs {exact}");
        assert!(error < 1e-10 * exact.abs(), "{est:?} vs {exact}");
    }

    /// The parallel path adds slabs in a fixed order: identical bits on one thread and three.
    #[test]
    fn is_independent_of_thread_count() {
        let g = Gaussian::new(vec![0.1, 0.0, -0.2], &ndarray::Array2::eye(3)).unwrap();
        let f = |x: &[f64]| (x[0] + x[1] * x[2]).tanh();
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| expectation(&g, &f, &TrapezoidOptions::default()).unwrap())
        };
        assert_eq!(run(1).value.to_bits(), run(3).value.to_bits());
    }

    /// Rank 0 evaluates once; a non-finite integrand is an error, not a number.
    #[test]
    fn handles_rank_zero_and_non_finite_values() {
        let point = Gaussian::new(vec![2.0], &array![[0.0]]).unwrap();
        let est = expectation(
            &point,
            &|x: &[f64]| 3.0 * x[0],
            &TrapezoidOptions::default(),
        );
        assert_eq!(est.unwrap().value, 6.0);
        let g = Gaussian::new(vec![0.0; 3], &ndarray::Array2::eye(3)).unwrap();
        let err = expectation(&g, &|_: &[f64]| f64::NAN, &TrapezoidOptions::default());
        assert!(matches!(err, Err(QuadratureError::NonFinite { .. })));
    }
}
