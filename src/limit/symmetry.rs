//! Sign-flip symmetry: the exact form of the gradient-independence argument.
//!
//! Flip the sign of every atom of one centered initial group G, and with it every ZHat atom
//! whose vector is odd under the flip. Expressions are *even*, *odd* or *mixed*; an even or
//! odd expression mentions only even and odd atoms. The joint law of the even and odd atoms
//! is invariant under the flip, by induction in program order: it is Gaussian; G is
//! centered; an odd–even pair in one family has covariance `σ² E[odd · even]`, the
//! expectation of an odd expression over earlier even and odd atoms, hence 0; other pairs keep
//! their covariance. So an odd expression has expectation 0. This is why the Ż terms of a
//! BP-like program (the NTK at initialization) vanish: they are odd in the readout vector.

use crate::builtins::Symmetry;
use crate::ir::GroupId;
use crate::symbolic::{Arena, AtomId, ExprId, Node};

/// The parity of an expression under a sign flip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parity {
    /// Unchanged by the flip.
    Even,
    /// Negated by the flip.
    Odd,
    /// Neither, or unknown.
    Mixed,
}

impl Parity {
    /// The parity of a product.
    pub fn times(self, other: Parity) -> Parity {
        match (self, other) {
            (Parity::Mixed, _) | (_, Parity::Mixed) => Parity::Mixed,
            (a, b) if a == b => Parity::Even,
            _ => Parity::Odd,
        }
    }
}

/// The flip of one centered initial group, tracked through the program.
#[derive(Clone, Debug)]
pub struct SignFlip {
    /// The flipped group.
    pub group: GroupId,
    atom_parity: Vec<Parity>,
    expr_parity: Vec<Parity>,
}

impl SignFlip {
    /// A flip of `group`; atoms introduced before it are even.
    pub fn new(group: GroupId, atoms_so_far: usize) -> SignFlip {
        SignFlip {
            group,
            atom_parity: vec![Parity::Even; atoms_so_far],
            expr_parity: Vec::new(),
        }
    }

    /// Records a new initial atom: odd if it belongs to the flipped group.
    pub fn add_initial(&mut self, atom: AtomId, group: GroupId) {
        debug_assert_eq!(atom.0 as usize, self.atom_parity.len());
        self.atom_parity.push(if group == self.group {
            Parity::Odd
        } else {
            Parity::Even
        });
    }

    /// Records a new ZHat atom multiplying a vector with limit `arg_z`: it has that vector's parity.
    pub fn add_hat(&mut self, arena: &Arena, atom: AtomId, arg_z: ExprId) {
        debug_assert_eq!(atom.0 as usize, self.atom_parity.len());
        let parity = self.parity(arena, arg_z);
        self.atom_parity.push(parity);
    }

    /// The parity of an expression (memoised; children before parents, no recursion).
    pub fn parity(&mut self, arena: &Arena, expr: ExprId) -> Parity {
        while self.expr_parity.len() <= expr.index() {
            let id = self.expr_parity.len();
            let p = self.node_parity(arena.node(arena.id(id)));
            self.expr_parity.push(p);
        }
        self.expr_parity[expr.index()]
    }

    fn node_parity(&self, node: &Node) -> Parity {
        let of = |e: &ExprId| self.expr_parity[e.index()];
        match node {
            Node::Const(_) | Node::Scalar(_) => Parity::Even,
            Node::Atom(a) => self.atom_parity[a.0 as usize],
            Node::Apply { f, order, arg } => match (of(arg), f.symmetry(*order)) {
                (Parity::Even, _) => Parity::Even,
                (Parity::Odd, Some(Symmetry::Odd)) => Parity::Odd,
                (Parity::Odd, Some(Symmetry::Even)) => Parity::Even,
                _ => Parity::Mixed,
            },
            Node::Sum { constant, terms } => {
                let mut parities = terms.iter().map(|(t, _)| of(t));
                if parities.clone().all(|p| p == Parity::Even) {
                    Parity::Even
                } else if *constant == 0.0 && parities.all(|p| p == Parity::Odd) {
                    Parity::Odd
                } else {
                    Parity::Mixed
                }
            }
            Node::Product { factors } => factors.iter().fold(Parity::Even, |acc, (b, e)| {
                let p = match of(b) {
                    Parity::Odd if e.fract() != 0.0 => Parity::Mixed,
                    Parity::Odd if (*e as i64) % 2 == 0 => Parity::Even,
                    p => p,
                };
                acc.times(p)
            }),
        }
    }
}
