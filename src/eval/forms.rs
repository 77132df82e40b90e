//! Recognising structure in integrands: affine forms of the atoms, the kinks of relu-like
//! functions, and the products that have closed-form Gaussian expectations (docs/evaluation.md).

use super::bivariate as bv;
use super::closed_form as cf;
use crate::builtins::{Builtin, Smoothness};
use crate::symbolic::{Arena, AtomId, ExprId, Node, ScalarId};
use rustc_hash::FxHashMap;

/// `form · x + offset` over the atoms of a block.
#[derive(Clone, Debug, PartialEq)]
pub struct Affine {
    /// Coefficients, one per atom of the block.
    pub form: Vec<f64>,
    /// The constant.
    pub offset: f64,
}

/// The affine form of `expr` in the atoms at `position`, if it is one.
pub fn affine(
    arena: &Arena,
    expr: ExprId,
    k: usize,
    position: &dyn Fn(AtomId) -> Option<usize>,
    scalar: &dyn Fn(ScalarId) -> f64,
) -> Option<Affine> {
    let mut done: FxHashMap<ExprId, Affine> = FxHashMap::default();
    let constant = |c: f64| Affine {
        form: vec![0.0; k],
        offset: c,
    };
    let is_constant = |a: &Affine| a.form.iter().all(|&x| x == 0.0);
    for id in arena.reachable(&[expr]) {
        let a = match arena.node(id) {
            Node::Const(c) => constant(*c),
            Node::Scalar(s) => constant(scalar(*s)),
            Node::Atom(atom) => {
                let mut a = constant(0.0);
                a.form[position(*atom)?] = 1.0;
                a
            }
            // A built-in of a constant (`sqrt(var)` of a Moment) is a constant.
            Node::Apply { f, order, arg } => match &done[arg] {
                b if is_constant(b) => constant(f.eval(*order, b.offset)),
                _ => return None,
            },
            Node::Sum { constant: c, terms } => {
                let mut a = constant(*c);
                for (t, coef) in terms.iter() {
                    let b = &done[t];
                    a.offset += coef * b.offset;
                    for (x, y) in a.form.iter_mut().zip(&b.form) {
                        *x += coef * y;
                    }
                }
                a
            }
            Node::Product { factors } => {
                // At most one non-constant factor, with exponent 1.
                let mut scale = 1.0;
                let mut linear: Option<&Affine> = None;
                for (b, e) in factors.iter() {
                    let f = &done[b];
                    if is_constant(f) {
                        scale *= crate::ir::power(f.offset, *e);
                    } else if *e == 1.0 && linear.is_none() {
                        linear = Some(f);
                    } else {
                        return None;
                    }
                }
                match linear {
                    Some(f) => Affine {
                        form: f.form.iter().map(|x| x * scale).collect(),
                        offset: f.offset * scale,
                    },
                    None => constant(scale),
                }
            }
        };
        done.insert(id, a);
    }
    done.remove(&expr)
}

/// A factor `f(affine)^e` of an integrand: built-in, derivative order, argument, exponent.
pub type Call = (Builtin, u32, Affine, f64);

/// The factors as calls of built-ins on affine forms of the atoms at `position`, if every one
/// is (what [`closed_form`] takes).
pub fn calls(
    arena: &Arena,
    factors: &[(ExprId, f64)],
    k: usize,
    position: &dyn Fn(AtomId) -> Option<usize>,
    scalar: &dyn Fn(ScalarId) -> f64,
) -> Option<Vec<Call>> {
    factors
        .iter()
        .map(|&(f, e)| match arena.node(f) {
            Node::Apply {
                f: function,
                order,
                arg,
            } => affine(arena, *arg, k, position, scalar).map(|u| (*function, *order, u, e)),
            _ => None,
        })
        .collect()
}

/// The factors as calls of built-ins on affine forms of `atoms` (sorted), a factor that is
/// itself affine being a call of `id`, and the distinct linear parts of their arguments (the
/// combinations of atoms the block depends on), if every factor is one.
pub fn combination_calls(
    arena: &Arena,
    factors: &[(ExprId, f64)],
    atoms: &[AtomId],
    scalar: &dyn Fn(ScalarId) -> f64,
) -> Option<(Vec<Call>, Vec<Vec<f64>>)> {
    let k = atoms.len();
    let position = |a: AtomId| atoms.binary_search(&a).ok();
    let mut calls = Vec::with_capacity(factors.len());
    for &(f, e) in factors {
        let (function, order, arg) = match arena.node(f) {
            Node::Apply { f, order, arg } => (*f, *order, *arg),
            _ => (Builtin::Id, 0, f),
        };
        calls.push((
            function,
            order,
            affine(arena, arg, k, &position, scalar)?,
            e,
        ));
    }
    let mut combinations: Vec<Vec<f64>> = Vec::new();
    for (_, _, u, _) in &calls {
        if !combinations.contains(&u.form) {
            combinations.push(u.form.clone());
        }
    }
    Some((calls, combinations))
}

/// Whether [`closed_form`] has a form for calls of these built-ins and exponents (on most
/// laws: a shifted pair of perfectly correlated arguments is left to the kink-aware rule).
pub fn covered(calls: &[Call]) -> bool {
    use Builtin::{Erf, Id, Relu, Step};
    let single = |(f, order, _, e): &Call| match (f, order) {
        (Relu | Erf | Id, 0) => *e == 1.0 || *e == 2.0,
        (Step, 0) => *e > 0.0,
        (Erf, 1) => *e == 2.0,
        _ => false,
    };
    let unit = |(f, _, _, e): &Call| *e == 1.0 || (*f == Step && *e > 0.0);
    match calls {
        [call] => single(call),
        [a, b] => {
            unit(a)
                && unit(b)
                && matches!(
                    ((a.0, a.1), (b.0, b.1)),
                    ((Relu | Step | Erf, 0), (Relu | Step | Erf, 0))
                        | ((Erf, 1), (Erf, 1))
                        | ((Id, 0), (Id, 0))
                )
        }
        _ => false,
    }
}

/// Groups `n` items into blocks, joining two items whenever `linked(i, j)` (union–find);
/// blocks and their items in a fixed order.
pub fn blocks(n: usize, linked: impl Fn(usize, usize) -> bool) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for i in 0..n {
        for j in i + 1..n {
            if linked(i, j) {
                let (ri, rj) = (root(&mut parent, i), root(&mut parent, j));
                parent[ri] = rj;
            }
        }
    }
    let mut blocks: FxHashMap<usize, Vec<usize>> = FxHashMap::default();
    for i in 0..n {
        let r = root(&mut parent, i);
        blocks.entry(r).or_default().push(i);
    }
    let mut blocks: Vec<Vec<usize>> = blocks.into_values().collect();
    blocks.sort();
    blocks
}

/// The arguments of every non-smooth function call inside `roots` (where kinks and jumps are).
pub fn kink_arguments(arena: &Arena, roots: &[ExprId]) -> Vec<ExprId> {
    let mut out: Vec<ExprId> = arena
        .reachable(roots)
        .into_iter()
        .filter_map(|id| match arena.node(id) {
            Node::Apply { f, order, arg } if f.smoothness_of(*order) != Smoothness::Smooth => {
                Some(*arg)
            }
            _ => None,
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// A Gaussian over the atoms of a block: mean and row-major covariance.
pub struct Moments<'a> {
    /// Means.
    pub mean: &'a [f64],
    /// Covariance, `k × k`.
    pub covariance: &'a [f64],
}

impl Moments<'_> {
    fn mean_of(&self, a: &Affine) -> f64 {
        a.offset
            + a.form
                .iter()
                .zip(self.mean)
                .map(|(x, m)| x * m)
                .sum::<f64>()
    }

    fn cov_of(&self, a: &Affine, b: &Affine) -> f64 {
        let k = self.mean.len();
        let mut s = 0.0;
        for i in 0..k {
            if a.form[i] == 0.0 {
                continue;
            }
            for j in 0..k {
                s += a.form[i] * self.covariance[i * k + j] * b.form[j];
            }
        }
        s
    }
}

/// `E[Π f_i(u_i)^{e_i}]` in closed form when the product is one the tables cover: one
/// relu/step/erf of an affine form (any mean), the first two moments of affine forms (`id`),
/// or a pair of relu/step/erf (and erf' of
/// centered forms): the arc-cosine and arcsine kernels when both means are 0, the bivariate
/// normal forms ([`bv`]) otherwise. A factor of zero variance is a number and leaves the
/// other's one-dimensional form. `None` otherwise, and for perfectly correlated shifted pairs
/// (rank 1, left to the kink-aware rule).
pub fn closed_form(calls: &[Call], g: &Moments) -> Option<f64> {
    match calls {
        [call] => single(call, g),
        [a, b] => pair(a, b, g),
        _ => None,
    }
}

/// The closed form of one call `f(u)^e`.
fn single((f, order, u, e): &Call, g: &Moments) -> Option<f64> {
    use Builtin::{Erf, Id, Relu, Step};
    let (m, q) = (g.mean_of(u), g.cov_of(u, u));
    let s = q.max(0.0).sqrt();
    match (f, order, e) {
        (Id, 0, e) if *e == 1.0 => Some(m),
        (Id, 0, e) if *e == 2.0 => Some(q + m * m),
        (Relu, 0, e) if *e == 1.0 => Some(cf::relu_mean(m, s)),
        (Relu, 0, e) if *e == 2.0 => Some(cf::relu_squared_mean(m, s)),
        (Step, 0, e) if *e > 0.0 => Some(cf::step_mean(m, s)),
        (Erf, 0, e) if *e == 1.0 => Some(cf::erf_mean(m, s)),
        (Erf, 0, e) if *e == 2.0 && m == 0.0 => Some(cf::erf_erf(q, q, q)),
        (Erf, 0, e) if *e == 2.0 => shifted(Erf, Erf, (m, m), (s, s), 1.0),
        (Erf, 1, e) if *e == 2.0 && m == 0.0 => Some(cf::erf_prime_erf_prime(q, q, q)),
        _ => None,
    }
}

/// The closed form of a pair of calls `f(u)^{e_u} g(v)^{e_v}`.
fn pair(a: &Call, b: &Call, g: &Moments) -> Option<f64> {
    use Builtin::{Erf, Id, Relu, Step};
    let (f, fo, u, eu) = a;
    let (h, ho, v, ev) = b;
    if (*f, *fo, *eu, *h, *ho, *ev) == (Id, 0, 1.0, Id, 0, 1.0) {
        return Some(g.cov_of(u, v) + g.mean_of(u) * g.mean_of(v));
    }
    let (q1, q2) = (g.cov_of(u, u), g.cov_of(v, v));
    // A factor without variance is a number.
    if q1 <= 0.0 || q2 <= 0.0 {
        let (constant, other) = if q1 <= 0.0 { (a, b) } else { (b, a) };
        let (f, order, w, e) = constant;
        let value = crate::ir::power(f.eval(*order, g.mean_of(w)), *e);
        return single(other, g).map(|x| value * x);
    }
    // step^e = step for e > 0.
    let unit = |f: &Builtin, e: f64| e == 1.0 || (*f == Step && e > 0.0);
    if !unit(f, *eu) || !unit(h, *ev) {
        return None;
    }
    let (m1, m2, c) = (g.mean_of(u), g.mean_of(v), g.cov_of(u, v));
    if m1 == 0.0 && m2 == 0.0 {
        return match ((f, fo), (h, ho)) {
            ((Relu, 0), (Relu, 0)) => Some(cf::relu_relu(q1, q2, c)),
            ((Step, 0), (Step, 0)) => Some(cf::step_step(q1, q2, c)),
            ((Relu, 0), (Step, 0)) => Some(cf::relu_step(q1, q2, c)),
            ((Step, 0), (Relu, 0)) => Some(cf::relu_step(q2, q1, c)),
            ((Erf, 0), (Erf, 0)) => Some(cf::erf_erf(q1, q2, c)),
            ((Erf, 1), (Erf, 1)) => Some(cf::erf_prime_erf_prime(q1, q2, c)),
            _ => None,
        };
    }
    let (s1, s2) = (q1.sqrt(), q2.sqrt());
    let rho = (c / (s1 * s2)).clamp(-1.0, 1.0);
    if 1.0 - rho.abs() < 1e-12 && !matches!((f, h), (Erf, Erf)) {
        return None;
    }
    match ((f, fo), (h, ho)) {
        ((Relu | Step | Erf, 0), (Relu | Step | Erf, 0)) => {
            shifted(*f, *h, (m1, m2), (s1, s2), rho)
        }
        _ => None,
    }
}

/// `E[f(u) g(v)]` of a shifted pair by [`bv::Pair`], for the combinations it has.
fn shifted(f: Builtin, g: Builtin, mean: (f64, f64), sd: (f64, f64), rho: f64) -> Option<f64> {
    use Builtin::{Erf, Relu, Step};
    let swapped = bv::Pair {
        mean: (mean.1, mean.0),
        sd: (sd.1, sd.0),
        rho,
    };
    let pair = bv::Pair { mean, sd, rho };
    match (f, g) {
        (Relu, Relu) => Some(pair.relu_relu()),
        (Relu, Step) => Some(pair.relu_step()),
        (Step, Relu) => Some(swapped.relu_step()),
        (Step, Step) => Some(pair.step_step()),
        (Erf, Erf) => Some(pair.erf_erf()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbolic::ScalarId;

    /// `relu(a + b) · relu(c − a)` over three atoms is two combinations, `(1, 1, 0)` and
    /// `(−1, 0, 1)`; a bare sum is a call of `id`.
    #[test]
    fn factors_are_calls_of_combinations() {
        let mut arena = Arena::new();
        let x: Vec<ExprId> = (0..3).map(|i| arena.atom(AtomId(i))).collect();
        let u = arena.sum([(x[0], 1.0), (x[1], 1.0)]);
        let v = arena.sum([(x[2], 1.0), (x[0], -1.0)]);
        let (ru, rv) = (
            arena.apply(Builtin::Relu, 0, u),
            arena.apply(Builtin::Relu, 0, v),
        );
        let atoms = [AtomId(0), AtomId(1), AtomId(2)];
        let scalar = |_: ScalarId| 1.0;
        let (calls, combinations) =
            combination_calls(&arena, &[(ru, 1.0), (rv, 1.0)], &atoms, &scalar).unwrap();
        assert_eq!(
            combinations,
            vec![vec![1.0, 1.0, 0.0], vec![-1.0, 0.0, 1.0]]
        );
        assert!(covered(&calls));
        let (calls, combinations) =
            combination_calls(&arena, &[(u, 1.0), (v, 1.0)], &atoms, &scalar).unwrap();
        assert_eq!((calls[0].0, calls[1].0), (Builtin::Id, Builtin::Id));
        assert_eq!(combinations.len(), 2);
        let tanh = arena.apply(Builtin::Tanh, 0, u);
        let (calls, _) = combination_calls(&arena, &[(tanh, 1.0)], &atoms, &scalar).unwrap();
        assert!(!covered(&calls), "tanh has no closed form");
    }

    /// The moments of affine forms: `E[u] = m`, `E[u²] = q + m²`, `E[u v] = c + m_u m_v`, for
    /// `u = x₀ + 1`, `v = 2 x₁` with means (0.5, −1) and covariance [[2, 0.3], [0.3, 1]].
    #[test]
    fn id_calls_are_the_first_two_moments() {
        let u = Affine {
            form: vec![1.0, 0.0],
            offset: 1.0,
        };
        let v = Affine {
            form: vec![0.0, 2.0],
            offset: 0.0,
        };
        let g = Moments {
            mean: &[0.5, -1.0],
            covariance: &[2.0, 0.3, 0.3, 1.0],
        };
        let id = |a: &Affine, e: f64| (Builtin::Id, 0, a.clone(), e);
        assert_eq!(closed_form(&[id(&u, 1.0)], &g), Some(1.5));
        assert_eq!(closed_form(&[id(&u, 2.0)], &g), Some(2.0 + 1.5 * 1.5));
        assert_eq!(
            closed_form(&[id(&u, 1.0), id(&v, 1.0)], &g),
            Some(0.6 + 1.5 * -2.0)
        );
    }
}
