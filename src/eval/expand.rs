//! Expectation algebra before integration: an integrand expanded into a linear combination of
//! products of *irreducible* factors (atoms and built-in calls), so that by linearity each
//! expectation integrates the fewest atoms (docs/evaluation.md).
//!
//! Deterministic parts (constants, limit scalars, built-ins of them) are numbers and become
//! coefficients; sums are distributed over products and raised to small integer powers;
//! identical products are merged, identical factors within a product joined into one power.
//! `mean(pool_i · pool_j)` with `pool = (relu(a) + relu(b))/2` thus becomes four
//! expectations `E[relu(·) relu(·)]`, each of two atoms' combinations.

use crate::symbolic::{Arena, ExprId, Node, ScalarId};
use rustc_hash::FxHashMap;

/// A product of irreducible factors `Π base^exponent`, bases in increasing id order, each once.
pub type Monomial = Vec<(ExprId, f64)>;

/// The most terms an expansion may have by default: beyond it the integrand is integrated as
/// it is.
pub const MAX_TERMS: usize = 4096;

/// The highest integer power of a sum that is multiplied out.
const MAX_POWER: f64 = 4.0;

/// `expr` as `Σ coefficient · monomial` (monomials distinct, in a fixed order), or `None`
/// when the expansion would exceed `max_terms` (see [`MAX_TERMS`]).
///
/// `scalar` gives a limit scalar's value, or `None` if it must stay a factor (a scalar with
/// an error estimate, kept so that its error is propagated where it is used).
pub fn expand(
    arena: &Arena,
    expr: ExprId,
    scalar: &dyn Fn(ScalarId) -> Option<f64>,
    max_terms: usize,
) -> Option<Vec<(Monomial, f64)>> {
    let mut done: FxHashMap<ExprId, Polynomial> = FxHashMap::default();
    for id in arena.reachable(&[expr]) {
        let p = match arena.node(id) {
            Node::Const(c) => Polynomial::constant(*c),
            Node::Scalar(s) => match scalar(*s) {
                Some(v) => Polynomial::constant(v),
                None => Polynomial::factor(id, 1.0),
            },
            Node::Atom(_) => Polynomial::factor(id, 1.0),
            Node::Apply { f, order, arg } => match done[arg].as_constant() {
                Some(x) => Polynomial::constant(f.eval(*order, x)),
                None => Polynomial::factor(id, 1.0),
            },
            Node::Sum { constant, terms } => {
                let mut p = Polynomial::constant(*constant);
                for (t, c) in terms.iter() {
                    p.add_scaled(&done[t], *c);
                }
                p
            }
            Node::Product { factors } => {
                let mut p = Polynomial::constant(1.0);
                for &(b, e) in factors.iter() {
                    let base = &done[&b];
                    let power = match base.as_constant() {
                        Some(x) => Polynomial::constant(crate::ir::power(x, e)),
                        None if e.fract() == 0.0 && (0.0..=MAX_POWER).contains(&e) => {
                            base.power(e as u32, max_terms)?
                        }
                        None => base.opaque_power(b, e),
                    };
                    p = p.times(&power, max_terms)?;
                }
                p
            }
        };
        done.insert(id, p);
    }
    let mut terms: Vec<(Key, f64)> = done.remove(&expr)?.terms.into_iter().collect();
    terms.retain(|(_, c)| *c != 0.0);
    terms.sort_by(|a, b| a.0.cmp(&b.0));
    Some(
        terms
            .into_iter()
            .map(|(m, c)| {
                (
                    m.into_iter().map(|(x, e)| (x, f64::from_bits(e))).collect(),
                    c,
                )
            })
            .collect(),
    )
}

/// A monomial with its exponents as bits, so that it can be a key.
type Key = Vec<(ExprId, u64)>;

/// A sum of monomials.
#[derive(Clone, Default)]
struct Polynomial {
    terms: FxHashMap<Key, f64>,
}

impl Polynomial {
    /// The constant `c` (no monomial at all for 0, so that a sum's zero constant is not a
    /// term multiplied out).
    fn constant(c: f64) -> Polynomial {
        let mut terms = FxHashMap::default();
        if c != 0.0 {
            terms.insert(Vec::new(), c);
        }
        Polynomial { terms }
    }

    fn factor(base: ExprId, exponent: f64) -> Polynomial {
        let mut terms = FxHashMap::default();
        terms.insert(vec![(base, exponent.to_bits())], 1.0);
        Polynomial { terms }
    }

    /// The value, if no monomial has a factor.
    fn as_constant(&self) -> Option<f64> {
        match self.terms.len() {
            0 => Some(0.0),
            1 => self.terms.get(&Vec::new()).copied(),
            _ => None,
        }
    }

    /// `base^e` kept as one factor (a non-integer or large power of a random sum), unless
    /// `base` is itself a single factor, whose exponent then multiplies.
    fn opaque_power(&self, base: ExprId, e: f64) -> Polynomial {
        match self.terms.iter().next() {
            Some((m, &c)) if self.terms.len() == 1 && m.len() == 1 && c == 1.0 => {
                Polynomial::factor(m[0].0, f64::from_bits(m[0].1) * e)
            }
            _ => Polynomial::factor(base, e),
        }
    }

    fn add_scaled(&mut self, other: &Polynomial, c: f64) {
        for (m, x) in &other.terms {
            *self.terms.entry(m.clone()).or_insert(0.0) += c * x;
        }
    }

    fn times(&self, other: &Polynomial, max_terms: usize) -> Option<Polynomial> {
        if self.terms.len() * other.terms.len() > max_terms {
            return None;
        }
        let mut out = Polynomial::default();
        for (a, x) in &self.terms {
            for (b, y) in &other.terms {
                *out.terms.entry(merge(a, b)).or_insert(0.0) += x * y;
            }
        }
        Some(out)
    }

    fn power(&self, e: u32, max_terms: usize) -> Option<Polynomial> {
        let mut p = Polynomial::constant(1.0);
        for _ in 0..e {
            p = p.times(self, max_terms)?;
        }
        Some(p)
    }
}

/// The product of two monomials: bases in order, exponents of shared bases added.
fn merge(a: &Key, b: &Key) -> Key {
    let mut out: Key = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(&(x, e)), Some(&(y, f))) if x == y => {
                out.push((x, (f64::from_bits(e) + f64::from_bits(f)).to_bits()));
                i += 1;
                j += 1;
            }
            (Some(&(x, e)), Some(&(y, _))) if x < y => {
                out.push((x, e));
                i += 1;
            }
            (Some(_), Some(&(y, f))) | (None, Some(&(y, f))) => {
                out.push((y, f));
                j += 1;
            }
            (Some(&(x, e)), None) => {
                out.push((x, e));
                i += 1;
            }
            (None, None) => unreachable!("the loop condition"),
        }
    }
    out.retain(|(_, e)| f64::from_bits(*e) != 0.0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::Builtin;
    use crate::symbolic::AtomId;

    /// `(relu(a) + relu(b))/2 · (relu(c) + relu(d))/2` with a Moment-like scalar `s = 3` as a
    /// factor: four products of two relus, each with coefficient `3/4`; `(relu(a) + relu(b))²/4`
    /// merges `relu(a) relu(b)` and `relu(b) relu(a)` into one term with coefficient 1/2 and
    /// joins `relu(a) relu(a)` into `relu(a)²`. Coefficients are exact dyadic fractions, so
    /// they are compared exactly.
    #[test]
    fn pooled_products_become_pairs_of_relus() {
        let mut arena = Arena::new();
        let relu: Vec<ExprId> = (0..4)
            .map(|i| {
                let x = arena.atom(AtomId(i));
                arena.apply(Builtin::Relu, 0, x)
            })
            .collect();
        let s = arena.scalar(ScalarId(0));
        let pool_ab = arena.sum([(relu[0], 0.5), (relu[1], 0.5)]);
        let pool_cd = arena.sum([(relu[2], 0.5), (relu[3], 0.5)]);
        let product = arena.product([(pool_ab, 1.0), (pool_cd, 1.0), (s, 1.0)]);
        let value = |_: ScalarId| Some(3.0);
        let terms = expand(&arena, product, &value, MAX_TERMS).unwrap();
        assert_eq!(terms.len(), 4);
        for (monomial, c) in &terms {
            assert_eq!(*c, 0.75);
            assert_eq!(monomial.len(), 2);
            assert!(monomial.iter().all(|&(_, e)| e == 1.0));
        }

        let square = arena.product([(pool_ab, 2.0)]);
        let terms = expand(&arena, square, &value, MAX_TERMS).unwrap();
        let mut want: Vec<(Monomial, f64)> = vec![
            (vec![(relu[0], 2.0)], 0.25),
            (vec![(relu[0], 1.0), (relu[1], 1.0)], 0.5),
            (vec![(relu[1], 2.0)], 0.25),
        ];
        want.sort_by_key(|(m, _)| m.iter().map(|(x, e)| (*x, e.to_bits())).collect::<Vec<_>>());
        assert_eq!(terms, want);
    }

    /// A scalar without a known value stays a factor; a built-in of a known scalar
    /// (`sqrt(var)`) is a number, so `(x − μ)/sqrt(v)` is affine with coefficient `1/√v`.
    #[test]
    fn scalars_are_numbers_when_known() {
        let mut arena = Arena::new();
        let x = arena.atom(AtomId(0));
        let v = arena.scalar(ScalarId(0));
        let root = arena.apply(Builtin::Sqrt, 0, v);
        let y = arena.div(x, root);
        let known = expand(&arena, y, &|_| Some(4.0), MAX_TERMS).unwrap();
        assert_eq!(known, vec![(vec![(x, 1.0)], 0.5)]);
        let unknown = expand(&arena, y, &|_| None, MAX_TERMS).unwrap();
        assert_eq!(unknown.len(), 1);
        assert_eq!(
            unknown[0].0.len(),
            2,
            "x and the power of sqrt(v) stay factors"
        );
    }

    /// A sum's zero constant is not a term: the product of two sums of 64 relus (a pooled
    /// 8 × 8 layer) is exactly 4096 = [`MAX_TERMS`] products, not 65².
    #[test]
    fn a_zero_constant_is_not_multiplied_out() {
        let mut arena = Arena::new();
        let pool = |offset: u32, arena: &mut Arena| {
            let terms: Vec<(ExprId, f64)> = (0..64)
                .map(|i| {
                    let x = arena.atom(AtomId(offset + i));
                    (arena.apply(Builtin::Relu, 0, x), 1.0 / 64.0)
                })
                .collect();
            arena.sum(terms)
        };
        let (a, b) = (pool(0, &mut arena), pool(64, &mut arena));
        let product = arena.product([(a, 1.0), (b, 1.0)]);
        let terms = expand(&arena, product, &|_| None, MAX_TERMS).expect("within the limit");
        assert_eq!(terms.len(), 4096);
        assert!(expand(&arena, product, &|_| None, 4095).is_none());
    }

    /// Expansion stops (rather than growing without bound) past [`MAX_TERMS`].
    #[test]
    fn large_expansions_are_refused() {
        let mut arena = Arena::new();
        let mut factors = Vec::new();
        for k in 0..7 {
            let terms: Vec<(ExprId, f64)> = (0..4)
                .map(|i| {
                    let x = arena.atom(AtomId(4 * k + i));
                    (arena.apply(Builtin::Tanh, 0, x), 1.0)
                })
                .collect();
            factors.push((arena.sum(terms), 1.0));
        }
        let product = arena.product(factors);
        assert!(expand(&arena, product, &|_| Some(1.0), MAX_TERMS).is_none());
    }
}
