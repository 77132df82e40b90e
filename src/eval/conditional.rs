//! Integrating out, by a one-dimensional rule, the atoms only one factor of an integrand
//! reaches, when that factor is a smooth built-in of an argument affine in them.
//!
//! For `E[φ(ℓ) · g(x_R)]`, `x ~ N(μ, C)`, where the atoms `x_B` appear in no factor but
//! `φ(ℓ)` and the argument is affine in them, `ℓ = b(x_R) + a(x_R)·x_B` (the coefficients may
//! depend on the other atoms `x_R`), the law of `ℓ` given `x_R` is normal, `N(m, s²)`:
//!
//! ```text
//! x_B | x_R ~ N(μ_B + K (x_R − μ_R), S),   K = C_BR C_RR⁺,   S = C_BB − K C_RB,
//! m = b(x_R) + a(x_R)·(μ_B + K (x_R − μ_R)),   s² = a(x_R)ᵀ S a(x_R),
//! ```
//!
//! so `E[φ(ℓ) g] = E[ψ(m, s) g(x_R)]` with `ψ(m, s) = E[φ(m + sX)]`, `X ~ N(0, 1)`: an
//! integral in `|R|` dimensions whose integrand computes `ψ` by a one-dimensional trapezoid
//! rule (a few dozen evaluations of one built-in, far cheaper than the whole integrand), and
//! `b`, `a` by evaluating the argument at `x_B = 0` and at the unit vectors (once, when `a`
//! does not depend on `x_R`; then `s` is constant too and `ψ` is tabulated in `m` once and
//! interpolated, its measured interpolation error added to the error bar). After trained
//! layers of a network the factors are of this kind (`tanh(Ẑ + Σ c_i(…)·Ẑ_i)` of ZHat atoms no
//! other factor mentions), which takes each integral one or more dimensions down.

use super::gaussian::{Estimate, Gaussian, Tolerance};
use super::quadrature::{self, QuadratureError};
use crate::builtins::{Builtin, Smoothness};
use crate::linalg::symmetric_eigen;
use crate::symbolic::{Arena, AtomId, ExprId, Node, ScalarId, Tape};
use ndarray::Array2;
use rustc_hash::FxHashMap;
use std::cell::RefCell;

/// Radius of the one-dimensional rule in standard deviations (weight `e^(−40)` beyond).
const INNER_RADIUS: f64 = 9.0;

/// Coarsest and finest steps of the one-dimensional rule.
const COARSEST_STEP: f64 = 0.5;
const FINEST_STEP: f64 = 1.0 / 64.0;

/// Outer points probed when the step of the one-dimensional rule is chosen: the mean, and
/// the mean moved by these multiples of each column of the outer law's factor.
const PROBES: [f64; 8] = [-4.0, -3.0, -2.0, -1.0, 1.0, 2.0, 3.0, 4.0];

/// The buffers of [`SCRATCH`].
type Buffers = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);

thread_local! {
    /// Per-thread buffers of [`Reduction::conditional`]: the block's atom vector, the tape's
    /// atoms, its scratch and its outputs.
    static SCRATCH: RefCell<Buffers> =
        const { RefCell::new((Vec::new(), Vec::new(), Vec::new(), Vec::new())) };
}

/// Order of the small tensor Gauss–Hermite rule that estimates `E|g|`, which scales the
/// inner rule's error.
const SCALE_ORDER: usize = 6;

/// An integral over a block's atoms with some of them integrated out in one dimension.
pub struct Reduction {
    /// Index of the factor the inner rule integrates.
    pub factor: usize,
    /// Positions, among the block's atoms, of the atoms left to the outer rule.
    pub outer: Vec<usize>,
    /// Positions of the atoms integrated out.
    inner: Vec<usize>,
    /// The outer atoms' law.
    pub law: Gaussian,
    /// `μ_B − K μ_R`, and `K` (`|B| × |R|`, row-major).
    conditional_offset: Vec<f64>,
    gain: Vec<f64>,
    /// `S`, `|B| × |B|` row-major.
    spread: Vec<f64>,
    /// The factor's argument, its block positions and scalar values.
    argument: Tape,
    argument_positions: Vec<usize>,
    argument_scalars: Vec<f64>,
    /// The other factors and, last, the argument, in one tape; its block positions, scalar
    /// values, and the other factors' exponents.
    rest: Tape,
    rest_positions: Vec<usize>,
    rest_scalars: Vec<f64>,
    exponents: Vec<f64>,
    /// `a`, where it does not depend on the other atoms.
    constant_slopes: Option<Vec<f64>>,
    /// The factor: built-in, derivative order, exponent.
    function: (Builtin, u32, f64),
    /// Total number of the block's atoms.
    atoms: usize,
}

/// The degree of `expr` in the atoms `of` (0 or 1), or `None` when it is not affine in them
/// (a power, a product of two of them, a built-in of one).
fn degree(arena: &Arena, expr: ExprId, of: &[AtomId]) -> Option<u8> {
    let mut done: FxHashMap<ExprId, u8> = FxHashMap::default();
    for id in arena.reachable(&[expr]) {
        let d = match arena.node(id) {
            Node::Const(_) | Node::Scalar(_) => 0,
            Node::Atom(a) => u8::from(of.contains(a)),
            Node::Apply { arg, .. } => match done[arg] {
                0 => 0,
                _ => return None,
            },
            Node::Sum { terms, .. } => terms.iter().map(|(t, _)| done[t]).max().unwrap_or(0),
            Node::Product { factors } => {
                let mut total = 0;
                for (b, e) in factors.iter() {
                    match (done[b], *e) {
                        (0, _) => {}
                        (1, 1.0) => total += 1,
                        _ => return None,
                    }
                }
                if total > 1 {
                    return None;
                }
                total
            }
        };
        done.insert(id, d);
    }
    done.get(&expr).copied()
}

/// The factor to integrate out and its atoms that no other factor mentions and in which its
/// argument is affine (taken greedily in atom order), for the factor with the most such
/// atoms; `None` when no factor is a smooth built-in with such atoms, or when they would be
/// every atom of the product. Structural: the scalars' values are not needed.
pub fn inner_atoms(arena: &Arena, factors: &[ExprId]) -> Option<(usize, Vec<AtomId>)> {
    let reach: Vec<Vec<AtomId>> = factors.iter().map(|&f| arena.atoms(f)).collect();
    let mut all: Vec<AtomId> = reach.iter().flatten().copied().collect();
    all.sort_unstable();
    all.dedup();
    let mut best: Option<(usize, Vec<AtomId>)> = None;
    for (j, &f) in factors.iter().enumerate() {
        let Node::Apply {
            f: function,
            order,
            arg,
        } = arena.node(f)
        else {
            continue;
        };
        if function.smoothness_of(*order) != Smoothness::Smooth {
            continue;
        }
        let private = reach[j]
            .iter()
            .copied()
            .filter(|a| {
                reach
                    .iter()
                    .enumerate()
                    .all(|(other, r)| other == j || !r.contains(a))
            })
            .fold(Vec::new(), |mut set, a| {
                set.push(a);
                if degree(arena, *arg, &set) != Some(1) {
                    set.pop();
                }
                set
            });
        if private.is_empty() || private.len() == all.len() {
            continue;
        }
        if best.as_ref().map_or(true, |b| private.len() > b.1.len()) {
            best = Some((j, private));
        }
    }
    best
}

/// The reduction of `E[Π factors]` over `atoms ~ N(mean, covariance)` by [`inner_atoms`],
/// with the conditional law it needs; `None` when there is none.
pub fn find(
    arena: &Arena,
    factors: &[(ExprId, f64)],
    atoms: &[AtomId],
    scalar: &dyn Fn(ScalarId) -> f64,
    mean: &[f64],
    covariance: &[f64],
) -> Option<Reduction> {
    let k = atoms.len();
    let position = |a: AtomId| atoms.iter().position(|&b| b == a);
    let roots: Vec<ExprId> = factors.iter().map(|&(f, _)| f).collect();
    let (factor, private) = inner_atoms(arena, &roots)?;
    let Node::Apply {
        f: function,
        order,
        arg,
    } = arena.node(roots[factor])
    else {
        return None;
    };
    let (arg, function) = (*arg, (*function, *order, factors[factor].1));
    let inner: Vec<usize> = private.iter().filter_map(|&a| position(a)).collect();
    let outer: Vec<usize> = (0..k).filter(|i| !inner.contains(i)).collect();
    let c = |i: usize, j: usize| covariance[i * k + j];
    let c_rr = Array2::from_shape_fn((outer.len(), outer.len()), |(a, b)| c(outer[a], outer[b]));
    let pinv = pseudo_inverse(&c_rr);
    // K = C_BR C_RR⁺.
    let gain: Vec<f64> = inner
        .iter()
        .flat_map(|&b| {
            let pinv = &pinv;
            let outer = &outer;
            (0..outer.len()).map(move |col| {
                (0..outer.len())
                    .map(|l| c(b, outer[l]) * pinv[[l, col]])
                    .sum::<f64>()
            })
        })
        .collect();
    let n = outer.len();
    let conditional_offset: Vec<f64> = inner
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            mean[b]
                - (0..n)
                    .map(|l| gain[i * n + l] * mean[outer[l]])
                    .sum::<f64>()
        })
        .collect();
    let spread: Vec<f64> = inner
        .iter()
        .enumerate()
        .flat_map(|(i, &a)| {
            let gain = &gain;
            let outer = &outer;
            inner.iter().map(move |&b| {
                c(a, b)
                    - (0..n)
                        .map(|l| gain[i * n + l] * c(outer[l], b))
                        .sum::<f64>()
            })
        })
        .collect();
    let law = Gaussian::new(outer.iter().map(|&r| mean[r]).collect(), &c_rr).ok()?;
    let argument = Tape::compile(arena, &[arg]);
    let argument_positions = argument
        .atoms()
        .iter()
        .filter_map(|&a| position(a))
        .collect();
    let argument_scalars = argument.scalars().iter().map(|&s| scalar(s)).collect();
    let mut rest_roots: Vec<ExprId> = Vec::new();
    let mut exponents = Vec::new();
    for (j, &(f, e)) in factors.iter().enumerate() {
        if j != factor {
            rest_roots.push(f);
            exponents.push(e);
        }
    }
    rest_roots.push(arg);
    let rest = Tape::compile(arena, &rest_roots);
    let rest_positions = rest.atoms().iter().filter_map(|&a| position(a)).collect();
    let rest_scalars = rest.scalars().iter().map(|&s| scalar(s)).collect();
    let varying = varying_slopes(arena, arg, &private);
    let mut reduction = Reduction {
        factor,
        outer,
        inner,
        law,
        conditional_offset,
        gain,
        spread,
        argument,
        argument_positions,
        argument_scalars,
        rest,
        rest_positions,
        rest_scalars,
        exponents,
        constant_slopes: None,
        function,
        atoms: k,
    };
    if !varying {
        let mut x = vec![0.0; k];
        let b = reduction.argument_at(&x);
        let slopes = reduction
            .inner
            .iter()
            .map(|&p| {
                x[p] = 1.0;
                let a = reduction.argument_at(&x) - b;
                x[p] = 0.0;
                a
            })
            .collect();
        reduction.constant_slopes = Some(slopes);
    }
    Some(reduction)
}

/// Whether the coefficients of the atoms `of` in `arg` (affine in them) depend on other
/// atoms: some product multiplies a factor that reaches them by one that is random.
fn varying_slopes(arena: &Arena, arg: ExprId, of: &[AtomId]) -> bool {
    arena
        .reachable(&[arg])
        .into_iter()
        .any(|id| match arena.node(id) {
            Node::Product { factors } => {
                let reaches = |e: ExprId| arena.atoms(e).iter().any(|a| of.contains(a));
                factors.iter().any(|(b, _)| reaches(*b))
                    && factors
                        .iter()
                        .any(|(b, _)| !reaches(*b) && !arena.is_deterministic(*b))
            }
            _ => false,
        })
}

/// `A⁺` of a symmetric positive semi-definite matrix (eigenvalues below `1e-12` of the
/// largest are taken as zero).
fn pseudo_inverse(a: &Array2<f64>) -> Array2<f64> {
    let n = a.nrows();
    let (values, vectors) = symmetric_eigen(a);
    let largest = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut out = Array2::zeros((n, n));
    for (l, &value) in values.iter().enumerate() {
        if value <= 1e-12 * largest {
            continue;
        }
        for i in 0..n {
            for j in 0..n {
                out[[i, j]] += vectors[[i, l]] * vectors[[j, l]] / value;
            }
        }
    }
    out
}

/// The one-dimensional trapezoid rule of step `h` on `[−9, 9]` for `E[φ(m + sX)]`: nodes
/// `x_k` and normalized weights `∝ e^(−x_k²/2)`.
fn inner_rule(h: f64) -> Vec<(f64, f64)> {
    let half = (INNER_RADIUS / h).floor() as i64;
    let raw: Vec<(f64, f64)> = (-half..=half)
        .map(|i| {
            let x = i as f64 * h;
            (x, (-0.5 * x * x).exp())
        })
        .collect();
    let total: f64 = raw.iter().map(|(_, w)| w).sum();
    raw.into_iter().map(|(x, w)| (x, w / total)).collect()
}

impl Reduction {
    /// `ψ(m, s)` by `rule` (nodes in standard deviations).
    fn psi(&self, rule: &[(f64, f64)], (m, s): (f64, f64)) -> f64 {
        let (f, order, exponent) = self.function;
        rule.iter()
            .map(|&(x, w)| w * crate::ir::power(f.eval(order, m + s * x), exponent))
            .sum()
    }

    /// The argument at the block's atom vector `x`.
    fn argument_at(&self, x: &[f64]) -> f64 {
        let atoms: Vec<f64> = self.argument_positions.iter().map(|&p| x[p]).collect();
        let mut scratch = Vec::new();
        let mut out = [0.0];
        self.argument
            .eval(&atoms, &self.argument_scalars, &mut scratch, &mut out);
        out[0]
    }

    /// The product of the other factors and `(m, s)`, the conditional law of the argument,
    /// at the outer atoms `outer`.
    fn conditional(&self, outer: &[f64]) -> (f64, (f64, f64)) {
        SCRATCH.with(|cell| {
            let (x, atoms, scratch, out) = &mut *cell.borrow_mut();
            x.resize(self.atoms, 0.0);
            self.embed(outer, x);
            atoms.clear();
            atoms.extend(self.rest_positions.iter().map(|&p| x[p]));
            out.resize(self.exponents.len() + 1, 0.0);
            self.rest.eval(atoms, &self.rest_scalars, scratch, out);
            let rest: f64 = out
                .iter()
                .zip(&self.exponents)
                .map(|(v, e)| crate::ir::power(*v, *e))
                .product();
            let b = out[self.exponents.len()];
            let varying: Vec<f64>;
            let slopes = match &self.constant_slopes {
                Some(slopes) => slopes,
                None => {
                    varying = self
                        .inner
                        .iter()
                        .map(|&p| {
                            x[p] = 1.0;
                            let a = self.argument_at(x) - b;
                            x[p] = 0.0;
                            a
                        })
                        .collect();
                    &varying
                }
            };
            let n = self.outer.len();
            let mut m = b;
            for (i, a) in slopes.iter().enumerate() {
                let mu = self.conditional_offset[i]
                    + (0..n).map(|l| self.gain[i * n + l] * outer[l]).sum::<f64>();
                m += a * mu;
            }
            let q = self.inner.len();
            let variance: f64 = (0..q)
                .flat_map(|i| (0..q).map(move |j| (i, j)))
                .map(|(i, j)| slopes[i] * self.spread[i * q + j] * slopes[j])
                .sum();
            (rest, (m, variance.max(0.0).sqrt()))
        })
    }

    /// The inner rule: its step halved from [`COARSEST_STEP`] until, at every probed outer
    /// point, halving it once more moves `ψ` by at most a thousandth of `tolerance`; and that
    /// largest move, the rule's error estimate.
    fn inner_step(&self, tolerance: Tolerance) -> InnerRule {
        let mean = self.law.mean();
        let factor = self.law.factor();
        let mut probes = vec![self.conditional(mean).1];
        for col in 0..factor.ncols() {
            for p in PROBES {
                let point: Vec<f64> = (0..mean.len())
                    .map(|r| mean[r] + p * factor[[r, col]])
                    .collect();
                probes.push(self.conditional(&point).1);
            }
        }
        let mut h = COARSEST_STEP;
        let mut rule = inner_rule(h);
        loop {
            let finer = inner_rule(h / 2.0);
            let mut change = 0.0f64;
            let mut settled = true;
            for &probe in &probes {
                let fine = self.psi(&finer, probe);
                let delta = (fine - self.psi(&rule, probe)).abs();
                change = change.max(delta);
                settled &= delta <= 1e-3 * (tolerance.relative * fine.abs() + tolerance.absolute);
            }
            // Once settled, the coarser rule's error is about the change (the finer one's is
            // far below it): keep the coarser, half as costly.
            if settled || !change.is_finite() {
                return InnerRule {
                    rule,
                    change,
                    probes,
                };
            }
            h /= 2.0;
            rule = finer;
            if h <= FINEST_STEP {
                return InnerRule {
                    rule,
                    change,
                    probes,
                };
            }
        }
    }

    /// The block's atom vector for outer atoms `outer` (the integrated-out ones at 0).
    fn embed(&self, outer: &[f64], x: &mut [f64]) {
        x[..self.atoms].fill(0.0);
        for (&p, &v) in self.outer.iter().zip(outer) {
            x[p] = v;
        }
    }

    /// `E[Π factors]`, by `outer_rule` over the outer atoms' law.
    ///
    /// The error adds to the outer rule's the inner rule's: its largest change at the
    /// probed outer points (an overestimate: the trapezoid rule converges geometrically)
    /// times `E|rest|` (the other factors) from a small Gauss–Hermite rule.
    pub fn expectation(
        &self,
        tolerance: Tolerance,
        outer_rule: &OuterRule<'_>,
    ) -> Result<Estimate, QuadratureError> {
        let InnerRule {
            rule,
            change: inner_change,
            probes,
        } = self.inner_step(tolerance);
        // With a constant `s`, ψ is a function of `m` alone: tabulated once where the probes
        // put `m`, computed directly elsewhere.
        let table = match self.constant_slopes {
            Some(_) => Table::new(&|m| self.psi(&rule, (m, probes[0].1)), &probes, tolerance),
            None => None,
        };
        let table_error = table.as_ref().map_or(0.0, |t| t.error);
        let integrand = |outer: &[f64]| {
            let (rest, law) = self.conditional(outer);
            let psi = table
                .as_ref()
                .and_then(|t| t.at(law.0))
                .unwrap_or_else(|| self.psi(&rule, law));
            rest * psi
        };
        let magnitude = quadrature::tensor_gauss_hermite(
            &self.law,
            &|outer: &[f64]| self.conditional(outer).0.abs(),
            SCALE_ORDER,
        );
        let inner_error = (inner_change + table_error) * magnitude;
        match outer_rule(&self.law, &integrand) {
            Ok(est) => Ok(Estimate {
                error: est.error + inner_error,
                ..est
            }),
            Err(QuadratureError::NotConverged(est)) => {
                Err(QuadratureError::NotConverged(Estimate {
                    error: est.error + inner_error,
                    ..est
                }))
            }
            Err(e) => Err(e),
        }
    }
}

/// The inner rule [`Reduction::inner_step`] chose.
struct InnerRule {
    /// Nodes (in standard deviations) and normalized weights.
    rule: Vec<(f64, f64)>,
    /// The largest change one more halving of the step made at the probes.
    change: f64,
    /// `(m, s)` at the probed outer points.
    probes: Vec<(f64, f64)>,
}

/// `ψ(m)` tabulated on a uniform grid and interpolated by the degree-5 polynomial through
/// the six nearest nodes (error `O(h⁶ ψ⁽⁶⁾)`).
struct Table {
    low: f64,
    step: f64,
    values: Vec<f64>,
    /// The largest interpolation error measured at interval midpoints.
    error: f64,
}

/// Step of the table of ψ.
const TABLE_STEP: f64 = 1.0 / 128.0;

impl Table {
    /// The table over the probes' range of `m` widened by its own width on each side, if
    /// its interpolation error, measured against `psi` at the midpoints of every fifth
    /// interval, is within a hundredth of `tolerance` (relative to the largest `|ψ|`).
    fn new(psi: &dyn Fn(f64) -> f64, probes: &[(f64, f64)], tolerance: Tolerance) -> Option<Table> {
        let (lo, hi) = probes
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &(m, _)| {
                (l.min(m), h.max(m))
            });
        let width = (hi - lo).max(1.0);
        let (low, high) = (lo - width, hi + width);
        let n = ((high - low) / TABLE_STEP).ceil() as usize + 1;
        if !(low.is_finite() && high.is_finite()) || n > 1 << 16 {
            return None;
        }
        let values: Vec<f64> = (0..n).map(|i| psi(low + i as f64 * TABLE_STEP)).collect();
        let mut table = Table {
            low,
            step: TABLE_STEP,
            values,
            error: 0.0,
        };
        let largest = table.values.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let allowed = 1e-2 * (tolerance.relative * largest + tolerance.absolute);
        let mut error = 0.0f64;
        for i in (2..n.saturating_sub(3)).step_by(5) {
            let m = low + (i as f64 + 0.5) * TABLE_STEP;
            let delta = (table.at(m)? - psi(m)).abs();
            if delta.is_nan() || delta > allowed {
                return None;
            }
            error = error.max(delta);
        }
        table.error = error;
        Some(table)
    }

    /// `ψ(m)` by interpolation, or `None` outside the table.
    fn at(&self, m: f64) -> Option<f64> {
        let t = (m - self.low) / self.step;
        let i = t.floor();
        if !(i >= 2.0 && i + 3.0 < self.values.len() as f64) {
            return None;
        }
        let u = t - i;
        let base = i as usize - 2;
        let mut sum = 0.0;
        for k in 0..6 {
            let mut weight = 1.0;
            for j in 0..6 {
                if j != k {
                    weight *= (u - (j as f64 - 2.0)) / (k as f64 - j as f64);
                }
            }
            sum += weight * self.values[base + k];
        }
        Some(sum)
    }
}

/// The rule for the outer integral: `E f` over a law.
pub type OuterRule<'a> = dyn Fn(&Gaussian, &(dyn Fn(&[f64]) -> f64 + Sync)) -> Result<Estimate, QuadratureError>
    + Sync
    + 'a;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::trapezoid::{self, TrapezoidOptions};
    use ndarray::array;

    /// An integrand's arena, factors, mean and covariance.
    type Example = (Arena, Vec<(ExprId, f64)>, Vec<f64>, Vec<f64>);

    /// `tanh(x0 + x1) · erf(0.2 + 0.3 x0 + (1 + ½ tanh x1) x2)`, its law, and the reduction
    /// `find` makes of it.
    fn example() -> Example {
        let mut a = Arena::new();
        let x: Vec<ExprId> = (0..3).map(|i| a.atom(AtomId(i))).collect();
        let sum = a.add(x[0], x[1]);
        let rest = a.apply(Builtin::Tanh, 0, sum);
        let t1 = a.apply(Builtin::Tanh, 0, x[1]);
        let half = a.scale(t1, 0.5);
        let one = a.constant(1.0);
        let slope = a.add(one, half);
        let slanted = a.mul(slope, x[2]);
        let shift = a.scale(x[0], 0.3);
        let c = a.constant(0.2);
        let arg = a.sum([(slanted, 1.0), (shift, 1.0), (c, 1.0)]);
        let erf = a.apply(Builtin::Erf, 0, arg);
        let mean = vec![0.1, -0.2, 0.3];
        let cov = vec![1.0, 0.3, 0.5, 0.3, 1.2, -0.4, 0.5, -0.4, 1.5];
        (a, vec![(rest, 1.0), (erf, 1.0)], mean, cov)
    }

    /// The argument is affine in `x2` only, and `x2` is in no other factor: it is the atom
    /// integrated out. Not affine: a product of two of the atoms, a built-in of one.
    #[test]
    fn finds_the_private_atoms_in_which_the_argument_is_affine() {
        let (arena, factors, mean, cov) = example();
        let atoms = [AtomId(0), AtomId(1), AtomId(2)];
        let r = find(&arena, &factors, &atoms, &|_| 0.0, &mean, &cov).unwrap();
        assert_eq!(
            (r.factor, r.outer.clone(), r.inner.clone()),
            (1, vec![0, 1], vec![2])
        );
        let mut a = Arena::new();
        let (x, y) = (a.atom(AtomId(0)), a.atom(AtomId(1)));
        let xy = a.mul(x, y);
        let tx = a.apply(Builtin::Tanh, 0, x);
        assert_eq!(degree(&a, xy, &[AtomId(0), AtomId(1)]), None);
        assert_eq!(degree(&a, xy, &[AtomId(0)]), Some(1));
        assert_eq!(degree(&a, tx, &[AtomId(0)]), None);
        assert_eq!(degree(&a, tx, &[AtomId(1)]), Some(0));
    }

    /// Against two independent computations: `E[erf(m + sX)] = erf(m / √(1 + 2s²))` in closed
    /// form, with `m`, `s` from the textbook conditional law (regression of `x2` on
    /// `(x0, x1)`), integrated over `(x0, x1)` by the trapezoid rule; and the whole
    /// three-dimensional integral by the trapezoid rule with nothing integrated out. Both are
    /// good to about 1e-11 (their error bars); the reduction must agree within 1e-9 and
    /// report an error below 1e-9.
    #[test]
    fn agrees_with_the_closed_form_inner_integral() {
        let (arena, factors, mean, cov) = example();
        let atoms = [AtomId(0), AtomId(1), AtomId(2)];
        let r = find(&arena, &factors, &atoms, &|_| 0.0, &mean, &cov).unwrap();
        let options = TrapezoidOptions::default();
        let outer = |law: &Gaussian, f: &(dyn Fn(&[f64]) -> f64 + Sync)| {
            trapezoid::expectation(law, f, &options)
        };
        let est = r.expectation(Tolerance::default(), &outer).unwrap();

        // x2 | (x0, x1): coefficients β = C_RR⁻¹ C_R2, residual variance C_22 − βᵀ C_R2.
        let det = 1.0 * 1.2 - 0.3 * 0.3;
        let beta = [
            (1.2 * 0.5 - 0.3 * -0.4) / det,
            (1.0 * -0.4 - 0.3 * 0.5) / det,
        ];
        let residual = 1.5 - (beta[0] * 0.5 + beta[1] * -0.4);
        let law = Gaussian::new(vec![0.1, -0.2], &array![[1.0, 0.3], [0.3, 1.2]]).unwrap();
        let closed = |x: &[f64]| {
            let slope = 1.0 + 0.5 * x[1].tanh();
            let mu = 0.3 + beta[0] * (x[0] - 0.1) + beta[1] * (x[1] + 0.2);
            let m = 0.2 + 0.3 * x[0] + slope * mu;
            let s2 = slope * slope * residual;
            (x[0] + x[1]).tanh() * libm::erf(m / (1.0 + 2.0 * s2).sqrt())
        };
        let reference = trapezoid::expectation(&law, &closed, &options).unwrap();
        let full_law = Gaussian::new(
            mean.clone(),
            &Array2::from_shape_vec((3, 3), cov.clone()).unwrap(),
        )
        .unwrap();
        let whole = |x: &[f64]| {
            (x[0] + x[1]).tanh() * libm::erf(0.2 + 0.3 * x[0] + (1.0 + 0.5 * x[1].tanh()) * x[2])
        };
        let unreduced = trapezoid::expectation(&full_law, &whole, &options).unwrap();
        assert!(
            (reference.value - unreduced.value).abs() < 1e-10,
            "{reference:?} vs {unreduced:?}"
        );
        assert!(est.error < 1e-9, "{est:?}");
        assert!(
            (est.value - reference.value).abs() < 1e-9,
            "{est:?} vs {reference:?}"
        );
    }
}
