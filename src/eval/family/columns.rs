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

    /// `acc = constant + c · self`.
    fn set_scaled(&self, acc: &mut [f64], constant: f64, c: f64) {
        match self.values() {
            None => acc.fill(constant + c * self.at(0)),
            Some(v) => acc
                .iter_mut()
                .zip(v)
                .for_each(|(a, x)| *a = constant + c * x),
        }
    }

    /// `acc = self^p`.
    fn set_power(&self, acc: &mut [f64], p: f64) {
        match (self.values(), p == 1.0) {
            (None, _) => acc.fill(crate::ir::power(self.at(0), p)),
            (Some(v), true) => acc.copy_from_slice(&v[..acc.len()]),
            (Some(v), false) => acc
                .iter_mut()
                .zip(v)
                .for_each(|(a, x)| *a = crate::ir::power(*x, p)),
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
    /// `s` over the same entries. The arithmetic is the same, in the same order, as a node at a
    /// time over whole arrays.
    pub(super) fn eval<'c>(&self, input: &dyn Fn(ScalarId) -> Column<'c>, out: &mut [f64]) {
        let len = out.len();
        let (root, inner) = self.ops.split_last().expect("a program has a root");
        let mut done: Vec<Column> = Vec::with_capacity(self.ops.len());
        for op in inner {
            let column = match op {
                Op::Number(c) => Column::Number(*c),
                Op::Scalar(s) => input(*s),
                Op::Apply { f, order, arg } => match &done[*arg] {
                    Column::Number(x) => Column::Number(f.eval(*order, *x)),
                    column => {
                        Column::Owned((0..len).map(|k| f.eval(*order, column.at(k))).collect())
                    }
                },
                Op::Sum { .. } | Op::Product { .. } => {
                    let mut acc = vec![0.0; len];
                    Self::combine(op, &done, &mut acc);
                    Column::Owned(acc)
                }
            };
            done.push(column);
        }
        // The root is written straight into `out`.
        match root {
            Op::Sum { .. } | Op::Product { .. } => Self::combine(root, &done, out),
            Op::Number(c) => out.fill(*c),
            Op::Scalar(s) => match input(*s) {
                Column::Number(x) => out.fill(x),
                column => out.copy_from_slice(&column.values().expect("values")[..len]),
            },
            Op::Apply { f, order, arg } => {
                let column = &done[*arg];
                for (k, o) in out.iter_mut().enumerate() {
                    *o = f.eval(*order, column.at(k));
                }
            }
        }
    }

    /// A sum or product of computed columns into `acc` (every entry written): the first term
    /// or factor sets it, the others accumulate.
    fn combine(op: &Op, done: &[Column], acc: &mut [f64]) {
        match op {
            Op::Sum { constant, terms } => match terms.split_first() {
                None => acc.fill(*constant),
                Some(((t, c), rest)) => {
                    done[*t].set_scaled(acc, *constant, *c);
                    for (t, c) in rest {
                        done[*t].add_scaled(acc, *c);
                    }
                }
            },
            Op::Product { factors } => match factors.split_first() {
                None => acc.fill(1.0),
                Some(((f, p), rest)) => {
                    done[*f].set_power(acc, *p);
                    for (f, p) in rest {
                        done[*f].multiply_power(acc, *p);
                    }
                }
            },
            _ => unreachable!("a sum or a product"),
        }
    }
}
