//! A deterministic expression evaluated node by node over a chunk of entries: the arithmetic
//! of whole-array templates (`Σ = σw² E[φφ] + σb²`, `Θ = Σ + σw² E[φ'φ'] Θ`), shared by the
//! template-at-a-time evaluator and the fused pair pass, so that both give the same bits.

use crate::symbolic::{Arena, ExprId, Node, ScalarId};
use rustc_hash::FxHashMap;

/// Values of one node over a chunk of entries.
pub(super) enum Column<'a> {
    /// The same number at every entry.
    Number(f64),
    /// Borrowed values, one per entry.
    Slice(&'a [f64]),
    /// Computed values, one per entry.
    Owned(Vec<f64>),
}

impl Column<'_> {
    fn at(&self, k: usize) -> f64 {
        match self {
            Column::Number(x) => *x,
            Column::Slice(v) => v[k],
            Column::Owned(v) => v[k],
        }
    }

    fn values(&self) -> Option<&[f64]> {
        match self {
            Column::Number(_) => None,
            Column::Slice(v) => Some(v),
            Column::Owned(v) => Some(v),
        }
    }

    /// `acc += c · self`.
    fn add_scaled(&self, acc: &mut [f64], c: f64) {
        match self.values() {
            None => acc.iter_mut().for_each(|a| *a += c * self.at(0)),
            Some(v) => acc.iter_mut().zip(v).for_each(|(a, x)| *a += c * x),
        }
    }

    /// `acc *= self^p`.
    fn multiply_power(&self, acc: &mut [f64], p: f64) {
        match (self.values(), p == 1.0) {
            (None, _) => {
                let x = crate::ir::power(self.at(0), p);
                acc.iter_mut().for_each(|a| *a *= x);
            }
            (Some(v), true) => acc.iter_mut().zip(v).for_each(|(a, x)| *a *= x),
            (Some(v), false) => acc
                .iter_mut()
                .zip(v)
                .for_each(|(a, x)| *a *= crate::ir::power(*x, p)),
        }
    }
}

/// One node of a [`ColumnProgram`], its children given by their position in the program.
enum Op {
    Number(f64),
    Scalar(ScalarId),
    Apply {
        f: crate::builtins::Builtin,
        order: u32,
        arg: usize,
    },
    Sum {
        constant: f64,
        terms: Vec<(usize, f64)>,
    },
    Product {
        factors: Vec<(usize, f64)>,
    },
}

/// A deterministic expression compiled once: its nodes in evaluation order, each reading its
/// children by position.
pub(super) struct ColumnProgram {
    ops: Vec<Op>,
}

impl ColumnProgram {
    /// Compiles `e` (atoms, which a deterministic expression does not have, read as NaN).
    pub(super) fn new(arena: &Arena, e: ExprId) -> ColumnProgram {
        let nodes = arena.reachable(&[e]);
        let slot: FxHashMap<ExprId, usize> =
            nodes.iter().enumerate().map(|(k, &id)| (id, k)).collect();
        debug_assert_eq!(slot[&e], nodes.len() - 1, "the root comes last");
        let ops = nodes
            .iter()
            .map(|&id| match arena.node(id) {
                Node::Const(c) => Op::Number(*c),
                Node::Atom(_) => Op::Number(f64::NAN),
                Node::Scalar(s) => Op::Scalar(*s),
                Node::Apply { f, order, arg } => Op::Apply {
                    f: *f,
                    order: *order,
                    arg: slot[arg],
                },
                Node::Sum { constant, terms } => Op::Sum {
                    constant: *constant,
                    terms: terms.iter().map(|(t, c)| (slot[t], *c)).collect(),
                },
                Node::Product { factors } => Op::Product {
                    factors: factors.iter().map(|(f, p)| (slot[f], *p)).collect(),
                },
            })
            .collect();
        ColumnProgram { ops }
    }

    /// Writes the expression's value at each of `out.len()` entries; `input(s)` is scalar
    /// `s` over the same entries.
    pub(super) fn eval<'c>(&self, input: &dyn Fn(ScalarId) -> Column<'c>, out: &mut [f64]) {
        let len = out.len();
        let mut done: Vec<Column> = Vec::with_capacity(self.ops.len());
        for op in &self.ops {
            let column = match op {
                Op::Number(c) => Column::Number(*c),
                Op::Scalar(s) => input(*s),
                Op::Apply { f, order, arg } => match &done[*arg] {
                    Column::Number(x) => Column::Number(f.eval(*order, *x)),
                    column => {
                        Column::Owned((0..len).map(|k| f.eval(*order, column.at(k))).collect())
                    }
                },
                Op::Sum { constant, terms } => {
                    let mut acc = vec![*constant; len];
                    for (t, c) in terms {
                        done[*t].add_scaled(&mut acc, *c);
                    }
                    Column::Owned(acc)
                }
                Op::Product { factors } => {
                    let mut acc = vec![1.0; len];
                    for (f, p) in factors {
                        done[*f].multiply_power(&mut acc, *p);
                    }
                    Column::Owned(acc)
                }
            };
            done.push(column);
        }
        let root = done.last().expect("a program has a root");
        match root.values() {
            Some(v) => out.copy_from_slice(&v[..len]),
            None => out.fill(root.at(0)),
        }
    }
}
