//! Does an expectation exist? Probes that find integrands whose Gaussian expectation is
//! infinite or undefined, before any rule integrates them (docs/evaluation.md, "Expectations
//! that do not exist").
//!
//! Quadrature and Monte Carlo always return a number, even for `E[1/x]`, which does not exist:
//! a quadrature grid never lands on the pole, and a Monte Carlo mean of a variable without a
//! mean wanders without settling. Two probes look for the two ways `E|f(x)|` becomes infinite
//! for `x ~ N(m, A Aᵀ)`, `x = m + A ξ`:
//!
//! - **a pole on the support**: every place where `f` can divide by zero along a hyperplane
//!   (`1/u`, `u^(-p)` or `log'(u)` with `u` vanishing where an affine form `a · x + b` does:
//!   `u` itself, `abs(u)`, `tanh(u)`, products of such) is found symbolically; then `|f|` is
//!   measured at distances 10⁻³, 10⁻⁵ and 10⁻⁷ from the hyperplane, at seeded random points of
//!   it, on both sides. Growth like `t^(-q)` with `q ≥ 1` (with slack for rounding) makes the
//!   integral across the hyperplane diverge: `∫₀ t^(-q) dt = ∞`. Cancellations (`x / x`,
//!   `sin(x) / x`) are seen by the measurement, not assumed away;
//! - **growth faster than the Gaussian decays**: along rays `ξ = r d` (coordinate axes, the
//!   directions of the atoms, and seeded random directions) `log|f|` is measured at
//!   `r = 8, 16, 24`. When it grows at least like `r²/2` on both stretches, `|f| φ` does not
//!   decay along the ray, nor in a cone around it, and the expectation is infinite
//!   (`E exp(x²)`, `E exp(x₁² + … + x₅²)`).
//!
//! The probes cost a few hundred integrand evaluations, far fewer than any rule; the tail
//! probe runs only where fast growth is possible at all (`exp` of a random argument, or a
//! negative power).

use super::forms::{self, Affine};
use super::gaussian::Gaussian;
use crate::builtins::Builtin;
use crate::symbolic::{format_number, Arena, AtomId, ExprId, Node, ScalarId, Style, Symbols, Tape};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// Distances from a candidate pole's hyperplane at which the integrand is measured.
const POLE_DISTANCES: [f64; 3] = [1e-3, 1e-5, 1e-7];
/// Growth exponent above which a pole is called non-integrable: `1` less rounding slack (an
/// order-1 pole measures `0.99999…`; the largest integrable powers met in practice, such as
/// `t^(-1/2)` from `sqrt'`, measure `0.5`).
const POLE_ORDER: f64 = 0.95;
/// Points sampled on each candidate hyperplane.
const POLE_POINTS: usize = 16;
/// Radii of the tail probe.
const TAIL_RADII: [f64; 3] = [8.0, 16.0, 24.0];
/// Seeded random directions of the tail probe, besides the axes and atom directions.
const TAIL_RANDOM_DIRECTIONS: usize = 16;
/// Most curved (non-affine) zero sets scanned for crossings.
const MAX_CURVED: usize = 16;
/// Random lines scanned per curved zero set.
const CROSSING_LINES: usize = 8;
/// Each line is scanned on `[−SCAN_RADIUS, SCAN_RADIUS]` (in standard deviations)…
const SCAN_RADIUS: f64 = 4.0;
/// …in this many steps.
const SCAN_STEPS: usize = 128;
/// Rounding slack of the tail probe's `c ≥ 1/2` test.
const GROWTH_SLACK: f64 = 1e-9;
/// The probes' seed: fixed, so that a verdict never depends on the run.
const SEED: u64 = 0x7063_0406;

/// Why an expectation does not exist.
#[derive(Clone, Debug, PartialEq)]
pub enum Divergence {
    /// The integrand has a non-integrable pole where an affine form of the atoms vanishes.
    Pole {
        /// The measured order `q` of the blow-up `|f| ~ t^(-q)`, `t` the distance to the zero set.
        order: f64,
        /// The affine form, written over the atoms' names.
        form: String,
    },
    /// `log|f|` grows at least as fast as the Gaussian's `r²/2` decays.
    Tail {
        /// Measured growth coefficient `c` of `log|f| ≈ c r²` (`c ≥ 1/2` diverges).
        growth: f64,
    },
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Divergence::Pole { order, form } => write!(
                f,
                "the integrand grows like 1/t^{order:.2} at distance t from where {form} = 0, \
                 which the Gaussian reaches: a pole of order ≥ 1 is not integrable"
            ),
            Divergence::Tail { growth } => write!(
                f,
                "the integrand grows like exp({growth:.2}·r²) at distance r (in standard \
                 deviations), at least as fast as the Gaussian density exp(-r²/2) decays"
            ),
        }
    }
}

/// The atoms of a block: how the probes find and name them.
pub struct Atoms<'a> {
    /// The block's atoms, in the order of the integrand's argument.
    pub ids: &'a [AtomId],
    /// The name of an atom.
    pub name: &'a dyn Fn(AtomId) -> String,
    /// The value of a deterministic scalar.
    pub scalar: &'a dyn Fn(ScalarId) -> f64,
}

/// Whether [`check`] can find anything for `f = Π roots[i]^exponents[i]`: only a pole (a
/// negative power, `log'`, `sqrt'`) or fast growth (`exp` of a random argument) can make an
/// expectation diverge. Checked before a law is factored for the probes, which costs k³.
pub fn may_diverge(arena: &Arena, roots: &[(ExprId, f64)]) -> bool {
    !pole_arguments(arena, roots).is_empty() || may_grow_fast(arena, roots)
}

/// Checks that `E f(x)` exists for `f = Π roots[i]^exponents[i]` (evaluated by `integrand`)
/// under `gaussian`; `None` when no probe found a divergence.
pub fn check(
    arena: &Arena,
    roots: &[(ExprId, f64)],
    atoms: &Atoms,
    gaussian: &Gaussian,
    integrand: &(dyn Fn(&[f64]) -> f64 + Sync),
) -> Option<Divergence> {
    if gaussian.rank() == 0 {
        return None;
    }
    let k = atoms.ids.len();
    let position = |a: AtomId| atoms.ids.iter().position(|&b| b == a);
    let mut forms: Vec<Affine> = Vec::new();
    let mut curved: Vec<ExprId> = Vec::new();
    for id in pole_arguments(arena, roots) {
        match forms::affine(arena, id, k, &position, atoms.scalar) {
            Some(form) if !forms.contains(&form) => forms.push(form),
            Some(_) => {}
            None => curved.push(id),
        }
    }
    let probe = Probe {
        gaussian,
        integrand,
    };
    for form in &forms {
        if let Some(order) = probe.pole_order(form) {
            return Some(Divergence::Pole {
                order,
                form: describe(form, atoms),
            });
        }
    }
    for &u in curved.iter().take(MAX_CURVED) {
        let tape = Tape::compile(arena, &[u]);
        let Some(places) = tape
            .atoms()
            .iter()
            .map(|&a| position(a))
            .collect::<Option<Vec<_>>>()
        else {
            continue;
        };
        let scalars: Vec<f64> = tape.scalars().iter().map(|&s| (atoms.scalar)(s)).collect();
        let mut scratch = Vec::new();
        let mut values = Vec::new();
        let zero_set = |x: &[f64]| {
            values.clear();
            values.extend(places.iter().map(|&p| x[p]));
            let mut out = [0.0];
            tape.eval(&values, &scalars, &mut scratch, &mut out);
            out[0]
        };
        if let Some(order) = probe.crossing_pole_order(zero_set) {
            return Some(Divergence::Pole {
                order,
                form: arena_text(arena, u, atoms),
            });
        }
    }
    if !may_grow_fast(arena, roots) {
        return None;
    }
    probe
        .tail_growth()
        .map(|growth| Divergence::Tail { growth })
}

/// Whether the integrand can grow faster than a polynomial times `exp(c·r)`: only through
/// `exp` of a random argument, or a negative power (of something that may decay like a
/// Gaussian, such as `erf'`). Every other built-in grows at most linearly or is bounded, so
/// without these the tail probe cannot find anything and is skipped.
fn may_grow_fast(arena: &Arena, roots: &[(ExprId, f64)]) -> bool {
    if roots.iter().any(|(_, e)| *e < 0.0) {
        return true;
    }
    let ids: Vec<ExprId> = roots.iter().map(|(r, _)| *r).collect();
    arena
        .reachable(&ids)
        .into_iter()
        .any(|id| match arena.node(id) {
            Node::Apply { f, arg, .. } => *f == Builtin::Exp && !arena.is_deterministic(*arg),
            Node::Product { factors } => factors.iter().any(|(_, e)| *e < 0.0),
            _ => false,
        })
}

/// The expressions whose vanishing makes the integrand divide by zero: the zero sets of the
/// bases of negative powers, and the arguments of built-in derivatives that are infinite at 0
/// (`log'`, `sqrt'`).
fn pole_arguments(arena: &Arena, roots: &[(ExprId, f64)]) -> Vec<ExprId> {
    let ids: Vec<ExprId> = roots.iter().map(|(r, _)| *r).collect();
    let mut out = Vec::new();
    for &(root, exponent) in roots {
        if exponent < 0.0 {
            zero_sets(arena, root, &mut out);
        }
    }
    for id in arena.reachable(&ids) {
        match arena.node(id) {
            Node::Product { factors } => factors
                .iter()
                .filter(|(_, e)| *e < 0.0)
                .for_each(|&(base, _)| zero_sets(arena, base, &mut out)),
            Node::Apply { f, order, arg } if !f.eval(*order, 0.0).is_finite() => out.push(*arg),
            _ => {}
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Pushes the expressions `u` such that `expr` vanishes where `u` does: `expr` itself, the
/// argument of a built-in that vanishes at 0, and the same for the factors of a product.
fn zero_sets(arena: &Arena, expr: ExprId, out: &mut Vec<ExprId>) {
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        out.push(e);
        match arena.node(e) {
            Node::Apply { f, order, arg } if f.eval(*order, 0.0) == 0.0 => stack.push(*arg),
            Node::Product { factors } => factors
                .iter()
                .filter(|(_, p)| *p > 0.0)
                .for_each(|&(base, _)| stack.push(base)),
            _ => {}
        }
    }
}

/// `a · x + b` written over the atoms' names, for a diagnostic.
fn describe(form: &Affine, atoms: &Atoms) -> String {
    let mut text = String::new();
    for (&c, &id) in form.form.iter().zip(atoms.ids) {
        if c == 0.0 {
            continue;
        }
        let name = (atoms.name)(id);
        let sign = if c < 0.0 { "-" } else { "+" };
        if text.is_empty() {
            text.push_str(if c < 0.0 { "-" } else { "" });
        } else {
            text.push_str(&format!(" {sign} "));
        }
        if c.abs() != 1.0 {
            text.push_str(&format!("{}·", crate::output::format_number(c.abs())));
        }
        text.push_str(&name);
    }
    if form.offset != 0.0 {
        let sign = if form.offset < 0.0 { "-" } else { "+" };
        text.push_str(&format!(
            " {sign} {}",
            crate::output::format_number(form.offset.abs())
        ));
    }
    text
}

/// A zero set `u = 0` written over the atoms' names, for a diagnostic.
fn arena_text(arena: &Arena, u: ExprId, atoms: &Atoms) -> String {
    arena.display(u, atoms, Style::Text).to_string()
}

/// Atoms by name, scalars by value.
impl Symbols for Atoms<'_> {
    fn atom(&self, atom: AtomId, _style: Style) -> String {
        (self.name)(atom)
    }

    fn scalar(&self, scalar: ScalarId, style: Style) -> String {
        format_number((self.scalar)(scalar), style)
    }
}

/// The integrand in the standard coordinates `ξ` of its Gaussian.
struct Probe<'a> {
    gaussian: &'a Gaussian,
    integrand: &'a (dyn Fn(&[f64]) -> f64 + Sync),
}

impl Probe<'_> {
    /// `|f(m + A ξ)|`.
    fn magnitude(&self, xi: &[f64]) -> f64 {
        let mut x = vec![0.0; self.gaussian.dim()];
        self.gaussian.point(xi, &mut x);
        (self.integrand)(&x).abs()
    }

    /// The order of a non-integrable pole of the integrand where `form` vanishes, if one is
    /// measured at any of the sampled points of the hyperplane.
    fn pole_order(&self, form: &Affine) -> Option<f64> {
        // In ξ: form · (m + A ξ) + b = g · ξ + c.
        let a = self.gaussian.factor();
        let r = self.gaussian.rank();
        let g: Vec<f64> = (0..r)
            .map(|j| (0..form.form.len()).map(|i| form.form[i] * a[[i, j]]).sum())
            .collect();
        let norm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
        let scale = form.form.iter().fold(0.0f64, |m, x| m.max(x.abs()))
            * a.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        if norm <= 1e-12 * scale || norm == 0.0 {
            return None; // constant on the support: no hyperplane to cross
        }
        let normal: Vec<f64> = g.iter().map(|x| x / norm).collect();
        let c = (form.offset
            + form
                .form
                .iter()
                .zip(self.gaussian.mean())
                .map(|(f, m)| f * m)
                .sum::<f64>())
            / norm;
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let mut xi = vec![0.0; r];
        for _ in 0..POLE_POINTS {
            let z: Vec<f64> = (0..r).map(|_| rng.sample(StandardNormal)).collect();
            // The point of the hyperplane g·ξ + c = 0 nearest to z.
            let along = z.iter().zip(&normal).map(|(a, b)| a * b).sum::<f64>() + c;
            let base: Vec<f64> = z.iter().zip(&normal).map(|(z, n)| z - along * n).collect();
            for side in [1.0, -1.0] {
                let values: Vec<f64> = POLE_DISTANCES
                    .iter()
                    .map(|&t| {
                        for ((x, b), n) in xi.iter_mut().zip(&base).zip(&normal) {
                            *x = b + side * t * n;
                        }
                        self.magnitude(&xi)
                    })
                    .collect();
                if let Some(order) = blow_up(&values) {
                    return Some(order);
                }
            }
        }
        None
    }

    /// The order of a non-integrable pole of the integrand where the curved surface
    /// `zero_set(x) = 0` is crossed: seeded random lines are scanned for sign changes of
    /// `zero_set`, each crossing is found by bisection, and the integrand is measured at
    /// distances from it along the line (any transversal approach shows the same order).
    fn crossing_pole_order(&self, mut zero_set: impl FnMut(&[f64]) -> f64) -> Option<f64> {
        let r = self.gaussian.rank();
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let mut x = vec![0.0; self.gaussian.dim()];
        for _ in 0..CROSSING_LINES {
            let origin: Vec<f64> = (0..r).map(|_| rng.sample(StandardNormal)).collect();
            let mut direction: Vec<f64> = (0..r).map(|_| rng.sample(StandardNormal)).collect();
            let norm = direction.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm == 0.0 {
                continue;
            }
            direction.iter_mut().for_each(|v| *v /= norm);
            let at = |s: f64| -> Vec<f64> {
                origin
                    .iter()
                    .zip(&direction)
                    .map(|(o, d)| o + s * d)
                    .collect()
            };
            let mut sign_at = |s: f64| {
                self.gaussian.point(&at(s), &mut x);
                zero_set(&x)
            };
            let step = 2.0 * SCAN_RADIUS / SCAN_STEPS as f64;
            let mut previous = (-SCAN_RADIUS, sign_at(-SCAN_RADIUS));
            for i in 1..=SCAN_STEPS {
                let s = -SCAN_RADIUS + i as f64 * step;
                let value = sign_at(s);
                let (p, pv) = previous;
                previous = (s, value);
                if !(pv.is_finite() && value.is_finite()) || pv * value > 0.0 {
                    continue;
                }
                // Bisect [p, s] to the crossing.
                let (mut lo, mut hi, lo_value) = (p, s, pv);
                for _ in 0..100 {
                    let mid = 0.5 * (lo + hi);
                    if mid == lo || mid == hi {
                        break;
                    }
                    let m = sign_at(mid);
                    if m == 0.0 {
                        (lo, hi) = (mid, mid);
                        break;
                    }
                    if (m > 0.0) == (lo_value > 0.0) {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                let root = 0.5 * (lo + hi);
                for side in [1.0, -1.0] {
                    let values: Vec<f64> = POLE_DISTANCES
                        .iter()
                        .map(|&t| self.magnitude(&at(root + side * t)))
                        .collect();
                    if let Some(order) = blow_up(&values) {
                        return Some(order);
                    }
                }
            }
        }
        None
    }

    /// The growth coefficient `c ≥ 1/2` of `log|f| ≈ c r²` along some probed ray, if any.
    fn tail_growth(&self) -> Option<f64> {
        let r = self.gaussian.rank();
        let k = self.gaussian.dim();
        let a = self.gaussian.factor();
        let mut directions: Vec<Vec<f64>> = Vec::new();
        for j in 0..r {
            let mut e = vec![0.0; r];
            e[j] = 1.0;
            directions.push(e);
        }
        for i in 0..k {
            directions.push((0..r).map(|j| a[[i, j]]).collect());
        }
        directions.push(vec![1.0; r]);
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        for _ in 0..TAIL_RANDOM_DIRECTIONS {
            directions.push((0..r).map(|_| rng.sample(StandardNormal)).collect());
        }
        let mut xi = vec![0.0; r];
        for mut d in directions {
            let norm = d.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm == 0.0 || !norm.is_finite() {
                continue;
            }
            d.iter_mut().for_each(|x| *x /= norm);
            for sign in [1.0, -1.0] {
                let logs: Vec<f64> = TAIL_RADII
                    .iter()
                    .map(|&radius| {
                        for (x, d) in xi.iter_mut().zip(&d) {
                            *x = sign * radius * d;
                        }
                        self.magnitude(&xi).ln()
                    })
                    .collect();
                if let Some(growth) = quadratic_growth(&logs) {
                    return Some(growth);
                }
            }
        }
        None
    }
}

/// The order `q` of `|f(t)| ~ t^(-q)` from values at [`POLE_DISTANCES`], when both stretches
/// measure `q ≥` [`POLE_ORDER`] (NaN or zero values say nothing).
fn blow_up(values: &[f64]) -> Option<f64> {
    if values.iter().any(|v| v.is_nan() || *v == 0.0) {
        return None;
    }
    let slope = |i: usize| {
        (values[i + 1].ln() - values[i].ln()) / (POLE_DISTANCES[i] / POLE_DISTANCES[i + 1]).ln()
    };
    let (near, far) = (slope(1), slope(0));
    let infinite = values[2].is_infinite() && values[1].is_finite() && far >= POLE_ORDER;
    (infinite || (far >= POLE_ORDER && near >= POLE_ORDER)).then_some(if near.is_finite() {
        near
    } else {
        far
    })
}

/// The growth `c` of `log|f| ≈ c r²` from logs at [`TAIL_RADII`], when both stretches measure
/// `c ≥ 1/2` (an overflow to infinity counts as fast growth once a finite stretch has shown it).
fn quadratic_growth(logs: &[f64]) -> Option<f64> {
    if logs.iter().any(|v| v.is_nan() || *v == f64::NEG_INFINITY) || logs[0].is_infinite() {
        return None;
    }
    let stretch =
        |i: usize| (logs[i + 1] - logs[i]) / (TAIL_RADII[i + 1].powi(2) - TAIL_RADII[i].powi(2));
    let (first, second) = (stretch(0), stretch(1));
    (first >= 0.5 - GROWTH_SLACK && second >= 0.5 - GROWTH_SLACK).then_some(if second.is_finite() {
        second
    } else {
        first
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The measured order of `t^(-q)` is `q` to rounding; a bounded or integrable function
    /// never reaches [`POLE_ORDER`].
    #[test]
    fn blow_up_measures_the_order_of_a_pole() {
        let at = |q: f64| POLE_DISTANCES.map(|t: f64| t.powf(-q)).to_vec();
        assert!((blow_up(&at(1.0)).unwrap() - 1.0).abs() < 1e-9);
        assert!((blow_up(&at(2.0)).unwrap() - 2.0).abs() < 1e-9);
        assert_eq!(blow_up(&at(0.5)), None);
        assert_eq!(blow_up(&at(0.0)), None);
        let log = POLE_DISTANCES.map(|t: f64| t.ln().abs()).to_vec();
        assert_eq!(
            blow_up(&log),
            None,
            "a logarithmic singularity is integrable"
        );
    }

    /// `exp(c r²)` diverges against the Gaussian from `c = 1/2` on; `exp(0.4 r²)` and
    /// polynomials do not.
    #[test]
    fn quadratic_growth_compares_with_the_gaussian_decay() {
        let at = |c: f64| TAIL_RADII.map(|r: f64| c * r * r).to_vec();
        assert!(quadratic_growth(&at(1.0)).is_some());
        assert!(quadratic_growth(&at(0.5)).is_some());
        assert_eq!(quadratic_growth(&at(0.4)), None);
        let polynomial = TAIL_RADII.map(|r: f64| 10.0 * r.ln()).to_vec();
        assert_eq!(quadratic_growth(&polynomial), None);
        let overflow = vec![64.0, 256.0, f64::INFINITY];
        assert!(quadratic_growth(&overflow).is_some());
    }
}
