//! Symbolic partial differentiation with respect to one atom.
//!
//! | node                 | derivative                                         |
//! |----------------------|----------------------------------------------------|
//! | constant, scalar     | `0` (scalars are deterministic)                    |
//! | atom `a`             | `1` for the atom differentiated against, else `0` |
//! | `f^{(k)}(u)`         | `f^{(k+1)}(u) · du`                                |
//! | `c + Σ cᵢ·tᵢ`        | `Σ cᵢ·dtᵢ`                                         |
//! | `Π bᵢ^eᵢ`            | `Σᵢ eᵢ·bᵢ^(eᵢ−1)·dbᵢ·Π_{j≠i} bⱼ^eⱼ`                |

use super::arena::Arena;
use super::ids::{AtomId, ExprId};
use super::node::Node;

impl Arena {
    /// The partial derivative `∂expr/∂atom`, every other atom and every scalar held fixed.
    ///
    /// Results are memoised per `(node, atom)` in the arena, so differentiating many
    /// expressions that share subexpressions costs time linear in the number of distinct
    /// nodes. The traversal is iterative (children before parents, by id), so arbitrarily
    /// deep expressions are fine.
    pub fn diff(&mut self, expr: ExprId, atom: AtomId) -> ExprId {
        let Some(first) = self.atom_node(atom) else {
            return self.constant(0.0);
        };
        // Expressions stored before the atom, and deterministic ones, cannot mention it:
        // their derivative is 0 without a visit or a memo entry.
        let independent = |arena: &Arena, id: ExprId| id < first || arena.is_deterministic(id);
        if independent(self, expr) {
            return self.constant(0.0);
        }
        let todo = self.reachable_until(&[expr], |id| {
            independent(self, id) || self.derivatives.contains_key(&(id, atom))
        });
        let zero = self.constant(0.0);
        for id in todo {
            let d = self.diff_node(id, atom, first, zero);
            self.derivatives.insert((id, atom), d);
        }
        self.derivatives[&(expr, atom)]
    }

    /// The derivative of one node, given the memoised derivatives of its children (`zero`
    /// for a child stored before the atom's node `first` or deterministic).
    fn diff_node(&mut self, id: ExprId, atom: AtomId, first: ExprId, zero: ExprId) -> ExprId {
        let d = |arena: &Arena, child: ExprId| {
            if child < first || arena.is_deterministic(child) {
                zero
            } else {
                arena.derivatives[&(child, atom)]
            }
        };
        match self.node(id).clone() {
            Node::Const(_) | Node::Scalar(_) => zero,
            Node::Atom(a) if a == atom => self.constant(1.0),
            Node::Atom(_) => zero,
            Node::Apply { f, order, arg } => {
                let du = d(self, arg);
                if self.is_zero(du) {
                    return du;
                }
                let outer = self.apply(f, order + 1, arg);
                self.mul(outer, du)
            }
            Node::Sum { terms, .. } => {
                let dterms: Vec<_> = terms.iter().map(|&(t, c)| (d(self, t), c)).collect();
                self.sum(dterms)
            }
            Node::Product { factors } => {
                let mut terms = Vec::new();
                for (i, &(base, e)) in factors.iter().enumerate() {
                    let db = d(self, base);
                    if self.is_zero(db) {
                        continue;
                    }
                    let mut parts = factors.to_vec();
                    parts[i].1 = e - 1.0;
                    parts.push((db, 1.0));
                    let term = self.product(parts);
                    terms.push((term, e));
                }
                self.sum(terms)
            }
        }
    }

    /// Whether `id` is the constant 0.
    fn is_zero(&self, id: ExprId) -> bool {
        matches!(self.node(id), Node::Const(c) if *c == 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::Builtin;
    use crate::symbolic::ScalarId;

    #[test]
    fn chain_rule_through_a_builtin() {
        // d/dx tanh(2x + y) = 2 tanh'(2x + y).
        let mut a = Arena::new();
        let x = a.atom(AtomId(0));
        let y = a.atom(AtomId(1));
        let two_x = a.scale(x, 2.0);
        let u = a.add(two_x, y);
        let t = a.apply(Builtin::Tanh, 0, u);
        let dt = a.diff(t, AtomId(0));
        let t1 = a.apply(Builtin::Tanh, 1, u);
        let expected = a.scale(t1, 2.0);
        assert_eq!(dt, expected);
        assert_eq!(a.diff(t, AtomId(1)), t1);
        assert_eq!(a.diff(t, AtomId(2)), a.constant(0.0));
    }

    #[test]
    fn product_rule_and_powers() {
        let mut a = Arena::new();
        let x = a.atom(AtomId(0));
        let y = a.atom(AtomId(1));
        let theta = a.scalar(ScalarId(0));
        let x3 = a.powi(x, 3);
        let p = a.product([(x3, 1.0), (y, 1.0), (theta, 1.0)]);
        let dp = a.diff(p, AtomId(0));
        let x2 = a.powi(x, 2);
        let q = a.product([(x2, 1.0), (y, 1.0), (theta, 1.0)]);
        assert_eq!(dp, a.scale(q, 3.0));
        // d/dx (1/x) = −x⁻².
        let one = a.constant(1.0);
        let inv = a.div(one, x);
        let d_inv = a.diff(inv, AtomId(0));
        let x_2 = a.powi(x, -2);
        assert_eq!(d_inv, a.neg(x_2));
    }

    #[test]
    fn relu_differentiates_to_step_then_zero() {
        let mut a = Arena::new();
        let x = a.atom(AtomId(0));
        let r = a.apply(Builtin::Relu, 0, x);
        let d1 = a.diff(r, AtomId(0));
        assert_eq!(d1, a.apply(Builtin::Step, 0, x));
        assert_eq!(a.diff(d1, AtomId(0)), a.constant(0.0));
    }

    #[test]
    fn memoised_and_stack_safe_on_deep_shared_expressions() {
        // e_{k+1} = tanh(e_k + x): a deep chain in which x is shared by every level.
        let mut a = Arena::new();
        let x = a.atom(AtomId(0));
        let mut e = x;
        for _ in 0..20_000 {
            let u = a.add(e, x);
            e = a.apply(Builtin::Tanh, 0, u);
        }
        let d = a.diff(e, AtomId(0));
        let len = a.len();
        assert_eq!(a.diff(e, AtomId(0)), d);
        assert_eq!(a.len(), len);
        assert!(a.depends_on(d, AtomId(0)));
    }
}
