//! Numeric evaluation: expressions compiled to a flat register tape.

use super::arena::Arena;
use super::ids::{AtomId, ExprId, ScalarId};
use super::node::Node;
use crate::builtins::Builtin;
use std::collections::HashMap;

/// One or more expressions compiled for repeated numeric evaluation.
///
/// The tape holds the nodes reachable from the roots in increasing id order, each writing one
/// register, so shared subexpressions are evaluated once per call. Inputs are passed by
/// position: atom values in the order of [`Tape::atoms`], scalar values in the order of
/// [`Tape::scalars`].
#[derive(Clone, Debug)]
pub struct Tape {
    ops: Vec<Op>,
    terms: Vec<(u32, f64)>,
    factors: Vec<(u32, Power)>,
    roots: Vec<u32>,
    atoms: Vec<AtomId>,
    scalars: Vec<ScalarId>,
}

/// One instruction; operands are register numbers, ranges index `terms` or `factors`.
#[derive(Clone, Copy, Debug)]
enum Op {
    Const(f64),
    Atom(u32),
    Scalar(u32),
    Apply { f: Builtin, order: u32, arg: u32 },
    Sum { constant: f64, start: u32, end: u32 },
    Product { start: u32, end: u32 },
}

/// An exponent, pre-classified so the common cases avoid `powf`.
#[derive(Clone, Copy, Debug)]
enum Power {
    One,
    Int(i32),
    Real(f64),
}

impl Power {
    fn new(e: f64) -> Power {
        if e == 1.0 {
            Power::One
        } else if e.fract() == 0.0 && e.abs() <= f64::from(i32::MAX) {
            Power::Int(e as i32)
        } else {
            Power::Real(e)
        }
    }

    fn apply(self, x: f64) -> f64 {
        match self {
            Power::One => x,
            Power::Int(n) => x.powi(n),
            Power::Real(e) => x.powf(e),
        }
    }
}

fn index(i: usize) -> u32 {
    u32::try_from(i).expect("tape exceeds u32::MAX entries")
}

impl Tape {
    /// Compiles the expressions `roots` of `arena`.
    pub fn compile(arena: &Arena, roots: &[ExprId]) -> Tape {
        let atoms = arena.atoms_of(roots);
        let scalars = arena.scalars_of(roots);
        let atom_slot: HashMap<AtomId, u32> = atoms
            .iter()
            .enumerate()
            .map(|(i, &a)| (a, index(i)))
            .collect();
        let scalar_slot: HashMap<ScalarId, u32> = scalars
            .iter()
            .enumerate()
            .map(|(i, &s)| (s, index(i)))
            .collect();
        let order = arena.reachable(roots);
        let register: HashMap<ExprId, u32> = order
            .iter()
            .enumerate()
            .map(|(i, &id)| (id, index(i)))
            .collect();
        let mut tape = Tape {
            ops: Vec::with_capacity(order.len()),
            terms: Vec::new(),
            factors: Vec::new(),
            roots: roots.iter().map(|r| register[r]).collect(),
            atoms,
            scalars,
        };
        for id in order {
            let op = match arena.node(id) {
                Node::Const(c) => Op::Const(*c),
                Node::Atom(a) => Op::Atom(atom_slot[a]),
                Node::Scalar(s) => Op::Scalar(scalar_slot[s]),
                Node::Apply { f, order, arg } => Op::Apply {
                    f: *f,
                    order: *order,
                    arg: register[arg],
                },
                Node::Sum { constant, terms } => {
                    let start = index(tape.terms.len());
                    tape.terms
                        .extend(terms.iter().map(|(t, c)| (register[t], *c)));
                    Op::Sum {
                        constant: *constant,
                        start,
                        end: index(tape.terms.len()),
                    }
                }
                Node::Product { factors } => {
                    let start = index(tape.factors.len());
                    tape.factors
                        .extend(factors.iter().map(|(b, e)| (register[b], Power::new(*e))));
                    Op::Product {
                        start,
                        end: index(tape.factors.len()),
                    }
                }
            };
            tape.ops.push(op);
        }
        tape
    }

    /// The atoms the tape reads, in the order [`Tape::eval`] expects their values.
    pub fn atoms(&self) -> &[AtomId] {
        &self.atoms
    }

    /// The scalars the tape reads, in the order [`Tape::eval`] expects their values.
    pub fn scalars(&self) -> &[ScalarId] {
        &self.scalars
    }

    /// The number of roots, i.e. of values [`Tape::eval`] writes.
    pub fn outputs(&self) -> usize {
        self.roots.len()
    }

    /// Evaluates every root, writing root `i` to `out[i]`.
    ///
    /// `scratch` holds the registers; it is resized on the first call and then reused, so
    /// repeated calls with the same buffer do not allocate (beyond what a built-in's own
    /// evaluation does). Panics if an input slice has the wrong length.
    pub fn eval(&self, atoms: &[f64], scalars: &[f64], scratch: &mut Vec<f64>, out: &mut [f64]) {
        assert_eq!(atoms.len(), self.atoms.len(), "wrong number of atom values");
        assert_eq!(
            scalars.len(),
            self.scalars.len(),
            "wrong number of scalar values"
        );
        assert_eq!(out.len(), self.roots.len(), "wrong number of outputs");
        scratch.resize(self.ops.len(), 0.0);
        let regs = scratch.as_mut_slice();
        for (i, op) in self.ops.iter().enumerate() {
            regs[i] = match *op {
                Op::Const(c) => c,
                Op::Atom(k) => atoms[k as usize],
                Op::Scalar(k) => scalars[k as usize],
                Op::Apply { f, order, arg } => f.eval(order, regs[arg as usize]),
                Op::Sum {
                    constant,
                    start,
                    end,
                } => self.terms[start as usize..end as usize]
                    .iter()
                    .fold(constant, |acc, &(t, c)| acc + c * regs[t as usize]),
                Op::Product { start, end } => self.factors[start as usize..end as usize]
                    .iter()
                    .fold(1.0, |acc, &(b, p)| acc * p.apply(regs[b as usize])),
            };
        }
        for (o, &r) in out.iter_mut().zip(&self.roots) {
            *o = regs[r as usize];
        }
    }
}

impl Arena {
    /// Evaluates `expr` numerically, looking atoms and scalars up through the given closures.
    ///
    /// A convenience built on [`Tape`]; compile a tape instead when evaluating repeatedly.
    pub fn eval(
        &self,
        expr: ExprId,
        atom_value: impl Fn(AtomId) -> f64,
        scalar_value: impl Fn(ScalarId) -> f64,
    ) -> f64 {
        let tape = Tape::compile(self, &[expr]);
        let atoms: Vec<f64> = tape.atoms().iter().map(|&a| atom_value(a)).collect();
        let scalars: Vec<f64> = tape.scalars().iter().map(|&s| scalar_value(s)).collect();
        let mut out = [0.0];
        tape.eval(&atoms, &scalars, &mut Vec::new(), &mut out);
        out[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_shared_roots() {
        let mut a = Arena::new();
        let x = a.atom(AtomId(4));
        let y = a.atom(AtomId(2));
        let theta = a.scalar(ScalarId(9));
        let s = a.add(x, theta);
        let t = a.apply(Builtin::Tanh, 0, s);
        let p = a.mul(t, y);
        let root = a.pow(s, 0.5);
        let tape = Tape::compile(&a, &[p, t, root]);
        assert_eq!(tape.atoms(), &[AtomId(2), AtomId(4)]);
        assert_eq!(tape.scalars(), &[ScalarId(9)]);
        assert_eq!(tape.outputs(), 3);
        let mut out = [0.0; 3];
        let mut scratch = Vec::new();
        tape.eval(&[3.0, 0.25], &[0.5], &mut scratch, &mut out);
        assert_eq!(out, [0.75f64.tanh() * 3.0, 0.75f64.tanh(), 0.75f64.sqrt()]);
        let value = a.eval(p, |id| if id == AtomId(4) { 0.25 } else { 3.0 }, |_| 0.5);
        assert_eq!(value, out[0]);
    }

    #[test]
    fn evaluates_constants_and_deep_chains() {
        let mut a = Arena::new();
        let c = a.constant(-1.5);
        assert_eq!(a.eval(c, |_| 0.0, |_| 0.0), -1.5);
        let x = a.atom(AtomId(0));
        let mut e = x;
        for _ in 0..100_000 {
            let u = a.add(e, x);
            e = a.apply(Builtin::Sin, 0, u);
        }
        let mut expected = 0.3f64;
        for _ in 0..100_000 {
            expected = (expected + 0.3).sin();
        }
        assert_eq!(a.eval(e, |_| 0.3, |_| 0.0), expected);
    }
}
