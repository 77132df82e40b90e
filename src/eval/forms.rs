//! Recognising structure in integrands: affine forms of the atoms, the kinks of relu-like
//! functions, and the products that have closed-form Gaussian expectations (docs/evaluation.md).

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
            Node::Apply { .. } => return None,
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

/// `E[Π f_i(u_i)^{e_i}]` in closed form when the product is one the tables cover:
/// one relu/step/erf of an affine form (any mean), or a pair of relu/step/erf/erf' of
/// centered affine forms (arc-cosine and arcsine kernels). `None` otherwise.
pub fn closed_form(calls: &[Call], g: &Moments) -> Option<f64> {
    use Builtin::{Erf, Relu, Step};
    match calls {
        [(f, order, u, e)] => {
            let (m, q) = (g.mean_of(u), g.cov_of(u, u));
            let s = q.max(0.0).sqrt();
            match (f, order, e) {
                (Relu, 0, e) if *e == 1.0 => Some(cf::relu_mean(m, s)),
                (Relu, 0, e) if *e == 2.0 => Some(cf::relu_squared_mean(m, s)),
                (Step, 0, e) if *e > 0.0 => Some(cf::step_mean(m, s)),
                (Erf, 0, e) if *e == 1.0 => Some(cf::erf_mean(m, s)),
                (Erf, 0, e) if *e == 2.0 && m == 0.0 => Some(cf::erf_erf(q, q, q)),
                (Erf, 1, e) if *e == 2.0 && m == 0.0 => Some(cf::erf_prime_erf_prime(q, q, q)),
                _ => None,
            }
        }
        [(f, fo, u, eu), (g2, go, v, ev)] if *eu == 1.0 && *ev == 1.0 => {
            if g.mean_of(u) != 0.0 || g.mean_of(v) != 0.0 {
                return None;
            }
            let (q1, q2, c) = (g.cov_of(u, u), g.cov_of(v, v), g.cov_of(u, v));
            match ((f, fo), (g2, go)) {
                ((Relu, 0), (Relu, 0)) => Some(cf::relu_relu(q1, q2, c)),
                ((Step, 0), (Step, 0)) => Some(cf::step_step(q1, q2, c)),
                ((Relu, 0), (Step, 0)) => Some(cf::relu_step(q1, q2, c)),
                ((Step, 0), (Relu, 0)) => Some(cf::relu_step(q2, q1, c)),
                ((Erf, 0), (Erf, 0)) => Some(cf::erf_erf(q1, q2, c)),
                ((Erf, 1), (Erf, 1)) => Some(cf::erf_prime_erf_prime(q1, q2, c)),
                _ => None,
            }
        }
        _ => None,
    }
}
