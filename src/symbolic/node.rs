//! The node language of the expression arena.

use super::ids::{AtomId, ExprId, ScalarId};
use crate::builtins::Builtin;
use std::hash::{Hash, Hasher};

/// One node of an [`Arena`](super::Arena); children are earlier [`ExprId`]s.
///
/// Floating-point fields are compared and hashed by bit pattern (after `-0.0` is normalised
/// to `0.0`), so `Eq` is a true equivalence even for NaN. The canonical form that the smart
/// constructors maintain is described in the [module documentation](super).
#[derive(Clone, Debug)]
pub enum Node {
    /// A real constant.
    Const(f64),
    /// A Gaussian atom.
    Atom(AtomId),
    /// A deterministic limit scalar θ°.
    Scalar(ScalarId),
    /// The derivative of the given order of a built-in applied to `arg` (`tanh'(u)` is order 1).
    Apply {
        /// The built-in function.
        f: Builtin,
        /// The derivative order (0 is the function itself).
        order: u32,
        /// The argument.
        arg: ExprId,
    },
    /// The linear combination `constant + Σ coef · expr`.
    Sum {
        /// The constant term.
        constant: f64,
        /// The `(expr, coef)` terms.
        terms: Box<[(ExprId, f64)]>,
    },
    /// The product `Π base^exponent` (real exponents; coefficient always 1).
    Product {
        /// The `(base, exponent)` factors.
        factors: Box<[(ExprId, f64)]>,
    },
}

impl Node {
    /// Calls `visit` on every child, in storage order.
    pub fn for_each_child(&self, mut visit: impl FnMut(ExprId)) {
        match self {
            Node::Const(_) | Node::Atom(_) | Node::Scalar(_) => {}
            Node::Apply { arg, .. } => visit(*arg),
            Node::Sum { terms, .. } => terms.iter().for_each(|&(t, _)| visit(t)),
            Node::Product { factors } => factors.iter().for_each(|&(b, _)| visit(b)),
        }
    }

    /// The node with every float field's `-0.0` replaced by `0.0`.
    pub(super) fn normalised(self) -> Node {
        match self {
            Node::Const(c) => Node::Const(zero_positive(c)),
            Node::Sum { constant, terms } => Node::Sum {
                constant: zero_positive(constant),
                terms: terms.iter().map(|&(t, c)| (t, zero_positive(c))).collect(),
            },
            Node::Product { factors } => Node::Product {
                factors: factors
                    .iter()
                    .map(|&(b, e)| (b, zero_positive(e)))
                    .collect(),
            },
            other => other,
        }
    }
}

/// Maps `-0.0` to `0.0` and leaves every other value alone.
fn zero_positive(x: f64) -> f64 {
    if x == 0.0 {
        0.0
    } else {
        x
    }
}

fn pairs_eq(a: &[(ExprId, f64)], b: &[(ExprId, f64)]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.0 == y.0 && x.1.to_bits() == y.1.to_bits())
}

impl PartialEq for Node {
    fn eq(&self, other: &Node) -> bool {
        match (self, other) {
            (Node::Const(a), Node::Const(b)) => a.to_bits() == b.to_bits(),
            (Node::Atom(a), Node::Atom(b)) => a == b,
            (Node::Scalar(a), Node::Scalar(b)) => a == b,
            (
                Node::Apply { f, order, arg },
                Node::Apply {
                    f: g,
                    order: o,
                    arg: a,
                },
            ) => f == g && order == o && arg == a,
            (
                Node::Sum { constant, terms },
                Node::Sum {
                    constant: c,
                    terms: t,
                },
            ) => constant.to_bits() == c.to_bits() && pairs_eq(terms, t),
            (Node::Product { factors }, Node::Product { factors: f }) => pairs_eq(factors, f),
            _ => false,
        }
    }
}

impl Eq for Node {}

impl Hash for Node {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        let hash_pairs = |pairs: &[(ExprId, f64)], state: &mut H| {
            pairs.len().hash(state);
            for (id, x) in pairs {
                id.hash(state);
                x.to_bits().hash(state);
            }
        };
        match self {
            Node::Const(c) => c.to_bits().hash(state),
            Node::Atom(a) => a.hash(state),
            Node::Scalar(s) => s.hash(state),
            Node::Apply { f, order, arg } => (f, order, arg).hash(state),
            Node::Sum { constant, terms } => {
                constant.to_bits().hash(state);
                hash_pairs(terms, state);
            }
            Node::Product { factors } => hash_pairs(factors, state),
        }
    }
}
