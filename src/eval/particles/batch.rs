//! A batched tape: one expression compiled once and evaluated over every particle, a chunk
//! of particles at a time, without allocating per particle.
//!
//! Its leaves are *columns* (the particle values of atoms and of the nodes the schedule
//! keeps, [`super::schedule`]) and *deterministic* subexpressions (functions of limit
//! scalars only), which are evaluated once per call and broadcast.

use crate::builtins::Builtin;
use crate::symbolic::{Arena, ExprId, Node, Tape};
use rustc_hash::{FxHashMap, FxHashSet};

/// Particles per chunk: the registers of one chunk stay in cache.
const CHUNK: usize = 256;

/// One register's instruction; operands are register numbers.
#[derive(Clone, Debug)]
enum Op {
    /// A column (by its slot in the replica's store).
    Column(usize),
    /// A deterministic subexpression, by position in [`BatchTape::deterministic`].
    Deterministic(usize),
    /// `f^{(order)}(arg)`.
    Apply { f: Builtin, order: u32, arg: usize },
    /// `constant + Σ c · register + Σ c · deterministic`.
    Sum {
        constant: f64,
        terms: Vec<(usize, f64)>,
        fixed: Vec<(usize, f64)>,
    },
    /// `Π register^e · Π deterministic^e`.
    Product {
        factors: Vec<(usize, f64)>,
        fixed: Vec<(usize, f64)>,
    },
}

/// `(operand, coefficient or exponent)` pairs of a sum or product.
type Operands = Vec<(usize, f64)>;

/// An expression compiled for evaluation over particles.
#[derive(Clone, Debug)]
pub(super) struct BatchTape {
    ops: Vec<Op>,
    /// The deterministic subexpressions, compiled together (`None` if there are none).
    deterministic: Option<Tape>,
    /// The columns read, for liveness.
    columns: Vec<usize>,
}

impl BatchTape {
    /// Compiles `root`, reading the nodes for which `column` gives a slot from the store
    /// (the root itself is never read from the store, unless it is an atom).
    ///
    /// Panics if an atom has no column: atoms are sampled before they are used.
    pub(super) fn compile(
        arena: &Arena,
        root: ExprId,
        column: &dyn Fn(ExprId) -> Option<usize>,
    ) -> BatchTape {
        let leaf = |id: ExprId| {
            arena.is_deterministic(id)
                || (id != root || matches!(arena.node(id), Node::Atom(_))) && column(id).is_some()
        };
        // Every node below the root down to the leaves, in increasing id order (children first).
        let mut seen: FxHashSet<ExprId> = FxHashSet::default();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            if !seen.insert(id) || leaf(id) {
                continue;
            }
            arena.node(id).for_each_child(|c| stack.push(c));
        }
        let mut order: Vec<ExprId> = seen.into_iter().collect();
        order.sort_unstable();
        let register: FxHashMap<ExprId, usize> =
            order.iter().enumerate().map(|(i, &id)| (id, i)).collect();
        let deterministic: Vec<ExprId> = order
            .iter()
            .copied()
            .filter(|&id| arena.is_deterministic(id))
            .collect();
        let fixed_index: FxHashMap<ExprId, usize> = deterministic
            .iter()
            .enumerate()
            .map(|(k, &id)| (id, k))
            .collect();
        // Operands that are deterministic are folded into one number per call.
        let split = |pairs: &[(ExprId, f64)]| -> (Operands, Operands) {
            let (fixed, random): (Vec<_>, Vec<_>) =
                pairs.iter().partition(|(e, _)| arena.is_deterministic(*e));
            (
                fixed.iter().map(|(e, x)| (fixed_index[e], *x)).collect(),
                random.iter().map(|(e, x)| (register[e], *x)).collect(),
            )
        };
        let mut tape = BatchTape {
            ops: Vec::with_capacity(order.len()),
            deterministic: (!deterministic.is_empty())
                .then(|| Tape::compile(arena, &deterministic)),
            columns: Vec::new(),
        };
        for &id in &order {
            let op = if arena.is_deterministic(id) {
                Op::Deterministic(fixed_index[&id])
            } else if leaf(id) {
                let slot = column(id).expect("a leaf column");
                tape.columns.push(slot);
                Op::Column(slot)
            } else {
                match arena.node(id) {
                    Node::Apply { f, order, arg } => Op::Apply {
                        f: *f,
                        order: *order,
                        arg: register[arg],
                    },
                    Node::Sum { constant, terms } => {
                        let (fixed, terms) = split(terms);
                        Op::Sum {
                            constant: *constant,
                            terms,
                            fixed,
                        }
                    }
                    Node::Product { factors } => {
                        let (fixed, factors) = split(factors);
                        Op::Product { factors, fixed }
                    }
                    Node::Atom(a) => panic!("atom {a:?} used before it was sampled"),
                    Node::Const(_) | Node::Scalar(_) => unreachable!("deterministic"),
                }
            };
            tape.ops.push(op);
        }
        tape
    }

    /// The values of the deterministic subexpressions, in the order [`BatchTape::eval`]
    /// expects them, from the values of every limit scalar.
    pub(super) fn deterministic_values(&self, scalars: &[f64], scratch: &mut Vec<f64>) -> Vec<f64> {
        let Some(tape) = &self.deterministic else {
            return Vec::new();
        };
        let inputs: Vec<f64> = tape
            .scalars()
            .iter()
            .map(|s| scalars[s.0 as usize])
            .collect();
        let mut out = vec![0.0; tape.outputs()];
        tape.eval(&[], &inputs, scratch, &mut out);
        out
    }

    /// The instructions run per particle.
    pub(super) fn len(&self) -> usize {
        self.ops.len()
    }

    /// The store slots the tape reads.
    pub(super) fn columns(&self) -> &[usize] {
        &self.columns
    }

    /// Evaluates the root at every particle: `store[slot]` holds column `slot` (length
    /// `particles`), `values` the deterministic subexpressions. Writes the root's values to
    /// `out` when given, and returns their sum (accumulated in particle order, so the same
    /// inputs always give the same bits).
    pub(super) fn eval(
        &self,
        store: &[Option<Vec<f64>>],
        values: &[f64],
        particles: usize,
        scratch: &mut Vec<f64>,
        mut out: Option<&mut [f64]>,
    ) -> f64 {
        let n = self.ops.len();
        scratch.resize(n * CHUNK, 0.0);
        let mut sum = 0.0;
        let mut start = 0;
        while start < particles {
            let len = CHUNK.min(particles - start);
            for (i, op) in self.ops.iter().enumerate() {
                let (done, rest) = scratch.split_at_mut(i * CHUNK);
                let reg = &mut rest[..len];
                let read = |r: usize| &done[r * CHUNK..r * CHUNK + len];
                match op {
                    Op::Column(slot) => {
                        let column = store[*slot].as_ref().expect("a live column");
                        reg.copy_from_slice(&column[start..start + len]);
                    }
                    // Read by folding (`fixed`) only; a register only as the root.
                    Op::Deterministic(k) if i + 1 == n => reg.fill(values[*k]),
                    Op::Deterministic(_) => {}
                    Op::Apply { f, order, arg } => f.eval_slice(*order, read(*arg), reg),
                    Op::Sum {
                        constant,
                        terms,
                        fixed,
                    } => {
                        let folded: f64 = fixed.iter().map(|&(k, c)| c * values[k]).sum();
                        reg.fill(constant + folded);
                        for &(t, c) in terms {
                            for (y, &x) in reg.iter_mut().zip(read(t)) {
                                *y += c * x;
                            }
                        }
                    }
                    Op::Product { factors, fixed } => {
                        let folded: f64 = fixed
                            .iter()
                            .map(|&(k, e)| crate::ir::power(values[k], e))
                            .product();
                        reg.fill(folded);
                        for &(b, e) in factors {
                            let x = read(b);
                            if e == 1.0 {
                                reg.iter_mut().zip(x).for_each(|(y, &x)| *y *= x);
                            } else {
                                reg.iter_mut()
                                    .zip(x)
                                    .for_each(|(y, &x)| *y *= crate::ir::power(x, e));
                            }
                        }
                    }
                }
            }
            let root = &scratch[(n - 1) * CHUNK..(n - 1) * CHUNK + len];
            sum += root.iter().sum::<f64>();
            if let Some(out) = out.as_deref_mut() {
                out[start..start + len].copy_from_slice(root);
            }
            start += len;
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbolic::{AtomId, ScalarId};

    /// The batched tape agrees with the scalar evaluator at every particle, to the last bit
    /// (the same operations in the same order), across a chunk boundary.
    #[test]
    fn agrees_with_the_arena_evaluator() {
        let mut a = Arena::new();
        let x = a.atom(AtomId(0));
        let y = a.atom(AtomId(1));
        let theta = a.scalar(ScalarId(0));
        let two_theta = a.scale(theta, 2.0);
        let s = a.add(x, two_theta);
        let t = a.apply(Builtin::Tanh, 1, s);
        let yy = a.mul(y, y);
        let root = a.mul(t, yy);
        let root = a.pow(root, 3.0);
        let particles = 600;
        let xs: Vec<f64> = (0..particles).map(|i| (i as f64 * 0.37).sin()).collect();
        let ys: Vec<f64> = (0..particles).map(|i| (i as f64 * 0.11).cos()).collect();
        let store = vec![Some(xs.clone()), Some(ys.clone())];
        let column = |id: ExprId| match a.node(id) {
            Node::Atom(AtomId(k)) => Some(*k as usize),
            _ => None,
        };
        let tape = BatchTape::compile(&a, root, &column);
        let values = tape.deterministic_values(&[0.25], &mut Vec::new());
        let mut out = vec![0.0; particles];
        let sum = tape.eval(&store, &values, particles, &mut Vec::new(), Some(&mut out));
        for i in 0..particles {
            let expected = a.eval(root, |k| [xs[i], ys[i]][k.0 as usize], |_| 0.25);
            assert!((out[i] - expected).abs() <= 1e-15 * expected.abs().max(1.0));
        }
        assert!((sum - out.iter().sum::<f64>()).abs() < 1e-12);
    }
}
