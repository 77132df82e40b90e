//! The width-power analysis: every instruction's expansion in powers of n, in program order.

use super::expansion::{Calculus, Expansion, Exponent, Rest, RestKind, UNBOUNDED};
use super::{Quantity, Scaling, ScalingError, ScalingOptions};
use crate::builtins::{Builtin, Smoothness};
use crate::diagnostics::Span;
use crate::ir::{self, ExprNode, GroupId, Op, Program};
use crate::limit::symmetry::{Parity, SignFlip};
use crate::symbolic::{Arena, AtomId, ExprId, Node, ScalarId};
use num_traits::CheckedMul;
use std::collections::HashMap;

/// At most this many centered initial groups are tracked for sign-flip parity.
const MAX_FLIPPED_GROUPS: usize = 64;

/// Natural powers up to this are expanded by multiplication.
const MAX_INTEGER_POWER: f64 = 16.0;

/// Analyses the powers of n of every vector's coordinates and every scalar of `program`.
pub fn analyze(program: &Program, options: &ScalingOptions) -> Result<Scaling, ScalingError> {
    let mut analyzer = Analyzer {
        arena: Arena::new(),
        options: *options,
        flips: Vec::new(),
        atoms: 0,
        group_start: HashMap::new(),
        products: HashMap::new(),
        expectations: HashMap::new(),
        values: vec![None; program.instructions.len()],
        notes: vec![None; program.instructions.len()],
    };
    for (i, instruction) in program.iter() {
        analyzer.instruction(i, instruction)?;
        let size = analyzer.arena.size();
        if size > program.max_limit_nodes {
            return Err(ScalingError::TooLarge {
                span: instruction.span,
                size,
                limit: program.max_limit_nodes,
            });
        }
    }
    let quantities = analyzer
        .values
        .iter()
        .zip(analyzer.notes)
        .map(|(value, note)| value.as_ref().map(|e| Quantity::of(e, note)))
        .collect();
    Ok(Scaling { quantities })
}

struct Analyzer {
    arena: Arena,
    options: ScalingOptions,
    flips: Vec<SignFlip>,
    /// Symbols allocated so far: initial atoms and matrix products, numbered in order.
    atoms: u32,
    /// The first atom of each group instruction.
    group_start: HashMap<usize, u32>,
    /// The symbol of `M p` per (matrix, transposed, random part p).
    products: HashMap<(usize, bool, ExprId), AtomId>,
    /// The symbol of the limit `E[p]` of each random part p met in a Moment.
    expectations: HashMap<ExprId, ScalarId>,
    values: Vec<Option<Expansion>>,
    notes: Vec<Option<String>>,
}

impl Analyzer {
    fn calculus(&mut self) -> Calculus<'_> {
        Calculus {
            arena: &mut self.arena,
            floor: self.options.floor,
        }
    }

    fn zero_exponent() -> Exponent {
        Exponent::from_integer(0)
    }

    fn instruction(&mut self, i: usize, instruction: &ir::Instruction) -> Result<(), ScalingError> {
        let value = match &instruction.op {
            Op::Matrix { .. } => None,
            Op::Group { mean, .. } => {
                self.group(i, mean);
                None
            }
            Op::InitVector { group, member } => {
                let atom = AtomId(self.group_start[&group.index()] + member);
                let expr = self.arena.atom(atom);
                Some(Expansion::term(Self::zero_exponent(), expr))
            }
            Op::InitScalar { value } => Some(self.constant(*value)),
            Op::MatMul {
                matrix,
                transposed,
                arg,
            } => {
                let x = self.value(arg.index());
                Some(self.matmul(matrix.index(), *transposed, &x))
            }
            Op::Nonlin { expr } | Op::ScalarOp { expr } => {
                Some(self.expression(i, expr, instruction.span)?)
            }
            Op::Moment { expr } => {
                let integrand = self.expression(i, expr, instruction.span)?;
                Some(self.moment(&integrand))
            }
        };
        self.values[i] = value;
        Ok(())
    }

    fn value(&self, i: usize) -> Expansion {
        self.values[i]
            .clone()
            .expect("validated: operands are earlier vectors and scalars")
    }

    fn constant(&mut self, c: f64) -> Expansion {
        if c == 0.0 {
            return Expansion::zero();
        }
        let c = self.arena.constant(c);
        Expansion::term(Self::zero_exponent(), c)
    }

    fn note(&mut self, i: usize, text: String) {
        self.notes[i].get_or_insert(text);
    }

    fn group(&mut self, i: usize, mean: &[f64]) {
        let group = GroupId::new(i);
        let first = self.atoms;
        self.group_start.insert(i, first);
        self.atoms += mean.len() as u32;
        let members = (first..self.atoms).map(AtomId);
        for flip in &mut self.flips {
            for a in members.clone() {
                flip.add_initial(a, group);
            }
        }
        if mean.iter().all(|&m| m == 0.0) && self.flips.len() < MAX_FLIPPED_GROUPS {
            let mut flip = SignFlip::new(group, first as usize);
            for a in members {
                flip.add_initial(a, group);
            }
            self.flips.push(flip);
        }
    }

    /// `M x`, term by term and linear piece by linear piece: `M (c·p) = c · Z^{Mp}` with a
    /// symbol `Z^{Mp}` per random part p. A symbol stands for the whole `Z^{Mp} = Ẑ + Ż`,
    /// which has p's parity under every sign flip (the program is linear in M).
    fn matmul(&mut self, matrix: usize, transposed: bool, x: &Expansion) -> Expansion {
        let mut terms = Vec::new();
        for &(e, c) in &x.terms {
            for (piece, k) in self.linear_pieces(c) {
                let (deterministic, random) = self.split_random(piece);
                let symbol = self.product_symbol(matrix, transposed, random);
                let symbol = self.arena.atom(symbol);
                let term = self.arena.mul(deterministic, symbol);
                let term = self.arena.scale(term, k);
                terms.push((e, term));
            }
        }
        let product = Expansion {
            terms,
            rest: x.rest,
        };
        self.calculus().normal(product.terms, product.rest)
    }

    /// `c = Σ k · piece` (a constant is the piece `1`, the all-ones vector).
    fn linear_pieces(&mut self, c: ExprId) -> Vec<(ExprId, f64)> {
        match self.arena.node(c).clone() {
            Node::Sum { constant, terms } => {
                let mut pieces = terms.to_vec();
                if constant != 0.0 {
                    pieces.push((self.arena.constant(1.0), constant));
                }
                pieces
            }
            _ => vec![(c, 1.0)],
        }
    }

    /// `piece = deterministic · random`, the random part holding every factor with an atom.
    fn split_random(&mut self, piece: ExprId) -> (ExprId, ExprId) {
        let one = self.arena.constant(1.0);
        if self.arena.is_deterministic(piece) {
            return (piece, one);
        }
        match self.arena.node(piece).clone() {
            Node::Product { factors } => {
                let (random, deterministic): (Vec<_>, Vec<_>) = factors
                    .iter()
                    .partition(|(b, _)| !self.arena.is_deterministic(*b));
                let deterministic = self.arena.product(deterministic);
                let random = self.arena.product(random);
                (deterministic, random)
            }
            _ => (one, piece),
        }
    }

    fn product_symbol(&mut self, matrix: usize, transposed: bool, random: ExprId) -> AtomId {
        if let Some(&atom) = self.products.get(&(matrix, transposed, random)) {
            return atom;
        }
        let atom = AtomId(self.atoms);
        self.atoms += 1;
        for flip in &mut self.flips {
            flip.add_hat(&self.arena, atom, random);
        }
        self.products.insert((matrix, transposed, random), atom);
        atom
    }

    /// `mean(ψ)`: each term's limit `E[c_e]` (zero when odd under a sign flip, the coefficient
    /// itself when it is deterministic), plus the `n^{e-1/2}` fluctuation of each random term.
    fn moment(&mut self, integrand: &Expansion) -> Expansion {
        let mut terms = Vec::new();
        let mut rest = integrand.rest;
        let half = Exponent::new(1, 2);
        for &(e, c) in &integrand.terms {
            if self.arena.is_deterministic(c) {
                terms.push((e, c));
                continue;
            }
            let fluctuation = Rest {
                exponent: e - half,
                kind: RestKind::Fluctuation,
            };
            rest = Rest::max(rest, Some(fluctuation));
            // E is linear: one limit per distinct random part, shared by every Moment.
            for (piece, k) in self.linear_pieces(c) {
                let (deterministic, random) = self.split_random(piece);
                if self.arena.is_deterministic(random) {
                    let value = self.arena.mul(deterministic, random);
                    let value = self.arena.scale(value, k);
                    terms.push((e, value));
                    continue;
                }
                let odd = self
                    .flips
                    .iter_mut()
                    .any(|flip| flip.parity(&self.arena, random) == Parity::Odd);
                if odd {
                    continue;
                }
                let limit = self.expectation(random);
                let value = self.arena.mul(deterministic, limit);
                let value = self.arena.scale(value, k);
                terms.push((e, value));
            }
        }
        self.calculus().normal(terms, rest)
    }

    /// The symbol of `E[random]`, the same for equal integrands.
    fn expectation(&mut self, random: ExprId) -> ExprId {
        let next = ScalarId(self.expectations.len() as u32);
        let id = *self.expectations.entry(random).or_insert(next);
        self.arena.scalar(id)
    }

    fn expression(
        &mut self,
        i: usize,
        expr: &ir::Expr,
        span: Span,
    ) -> Result<Expansion, ScalingError> {
        let mut values: Vec<Expansion> = Vec::with_capacity(expr.nodes.len());
        for node in &expr.nodes {
            let at = |k: u32| &values[k as usize];
            let value = match *node {
                ExprNode::Const { value } => self.constant(value),
                ExprNode::Vector { id } => self.value(id.index()),
                ExprNode::Scalar { id } => self.value(id.index()),
                ExprNode::Width => {
                    let one = self.arena.constant(1.0);
                    Expansion::term(Exponent::from_integer(1), one)
                }
                ExprNode::Neg { arg } => {
                    let a = at(arg).clone();
                    self.calculus().scale(&a, -1.0)
                }
                ExprNode::Add { lhs, rhs } | ExprNode::Sub { lhs, rhs } => {
                    let sign = if matches!(node, ExprNode::Add { .. }) {
                        1.0
                    } else {
                        -1.0
                    };
                    let (a, b) = (at(lhs).clone(), at(rhs).clone());
                    self.calculus().add(&a, &b, sign)
                }
                ExprNode::Mul { lhs, rhs } => {
                    let (a, b) = (at(lhs).clone(), at(rhs).clone());
                    self.calculus().mul(&a, &b)
                }
                ExprNode::Div { lhs, rhs } => {
                    let (a, b) = (at(lhs).clone(), at(rhs).clone());
                    let inverse = self.power(i, &b, -1.0, span)?;
                    self.calculus().mul(&a, &inverse)
                }
                ExprNode::Pow { lhs, rhs } => {
                    let (a, b) = (at(lhs).clone(), at(rhs).clone());
                    match self.number(&b) {
                        Some(k) => self.power(i, &a, k, span)?,
                        None => {
                            self.note(i, "a power whose exponent is not a number (random or width-dependent) is not tracked".into());
                            Expansion::rest_only(
                                Exponent::from_integer(UNBOUNDED),
                                RestKind::Opaque,
                            )
                        }
                    }
                }
                ExprNode::Call {
                    function,
                    order,
                    arg,
                } => {
                    let a = at(arg).clone();
                    self.apply(i, function, order, &a)
                }
            };
            values.push(value);
        }
        Ok(values.pop().expect("expressions are non-empty"))
    }

    /// The value of an expansion that is exactly a number.
    fn number(&self, a: &Expansion) -> Option<f64> {
        match (a.terms.as_slice(), a.rest) {
            ([], None) => Some(0.0),
            ([(e, c)], None) if *e == Self::zero_exponent() => match self.arena.node(*c) {
                Node::Const(k) => Some(*k),
                _ => None,
            },
            _ => None,
        }
    }

    /// `a^k`: exact for a single term; by multiplication for natural k; otherwise a Taylor
    /// series around the leading term.
    fn power(
        &mut self,
        i: usize,
        a: &Expansion,
        k: f64,
        span: Span,
    ) -> Result<Expansion, ScalingError> {
        if k >= 0.0 && k.fract() == 0.0 && k <= MAX_INTEGER_POWER {
            return Ok(self.calculus().powi(a, k as u32));
        }
        let Some(&(lead, coefficient)) = a.terms.first() else {
            self.note(
                i,
                "a power of a quantity that may vanish is not tracked".into(),
            );
            return Ok(Expansion::rest_only(
                Exponent::from_integer(UNBOUNDED),
                RestKind::Opaque,
            ));
        };
        let scaled_lead = if lead == Self::zero_exponent() {
            Self::zero_exponent()
        } else {
            let k = rational(k).ok_or(ScalingError::IrrationalPower { span, value: k })?;
            match lead.checked_mul(&k) {
                Some(e) => e,
                None => {
                    return Ok(Expansion::rest_only(
                        Exponent::from_integer(UNBOUNDED),
                        RestKind::Opaque,
                    ))
                }
            }
        };
        match a.rest {
            Some(r) if r.exponent == lead && r.kind == RestKind::Fluctuation => {
                // Θ(n^lead) but random at leading order (almost surely nonzero): so is a^k.
                let c = self.arena.pow(coefficient, k);
                return Ok(Expansion {
                    terms: vec![(scaled_lead, c)],
                    rest: Some(Rest {
                        exponent: scaled_lead,
                        kind: RestKind::Fluctuation,
                    }),
                });
            }
            Some(r) if r.exponent >= lead => {
                self.note(
                    i,
                    "a power of a quantity of unknown structure is not tracked".into(),
                );
                let bound = if k > 0.0 {
                    scaled_lead
                } else {
                    Exponent::from_integer(UNBOUNDED)
                };
                return Ok(Expansion::rest_only(bound, RestKind::Opaque));
            }
            _ => {}
        }
        if a.terms.len() == 1 && a.rest.is_none() {
            let c = self.arena.pow(coefficient, k);
            return Ok(Expansion::term(scaled_lead, c));
        }
        // a = n^lead (c + δ) with δ vanishing: a^k = n^{k·lead} (c + δ)^k.
        let shifted = self.calculus().shift(a, -lead);
        let order = self.options.taylor_order;
        let mut derivative = |arena: &mut Arena, j: u32, x: ExprId| {
            let falling: f64 = (0..j).map(|m| k - f64::from(m)).product();
            let p = arena.pow(x, k - f64::from(j));
            arena.scale(p, falling)
        };
        let series = self.calculus().taylor(&shifted, order, &mut derivative);
        Ok(self.calculus().shift(&series, scaled_lead))
    }

    /// `f^{(order)}(a)`.
    fn apply(&mut self, i: usize, f: Builtin, order: u32, a: &Expansion) -> Expansion {
        let zero = Self::zero_exponent();
        let Some(lead) = a.lead() else {
            let c = self.arena.constant(0.0);
            let value = self.arena.apply(f, order, c);
            return Expansion::term(zero, value);
        };
        if lead > zero {
            self.note(
                i,
                format!(
                    "the argument of {} grows like n^({lead})",
                    call_name(f, order)
                ),
            );
            let bound = match growth(f, order) {
                Growth::Bounded => zero,
                Growth::Linear => lead,
                Growth::Faster => Exponent::from_integer(UNBOUNDED),
            };
            return Expansion::rest_only(bound, RestKind::Opaque);
        }
        let delta = a.without(zero);
        let Some(delta_lead) = delta.lead() else {
            let base = a.coefficient(zero).expect("a has a lead and no other term");
            let value = self.arena.apply(f, order, base);
            return Expansion::term(zero, value);
        };
        let base = a.coefficient(zero);
        let constant_base = base.map_or(true, |b| self.arena.is_deterministic(b));
        let smoothness = f.smoothness_of(order);
        let random_order_one = delta.terms.is_empty()
            && delta
                .rest
                .is_some_and(|r| r.exponent == zero && r.kind == RestKind::Fluctuation);
        if random_order_one {
            // f of a Θ(1) part plus a random O(1) scalar (f₀ in SP): Θ(1), random.
            let base = match base {
                Some(b) => b,
                None => self.arena.constant(0.0),
            };
            let value = self.arena.apply(f, order, base);
            return self.calculus().normal(vec![(zero, value)], delta.rest);
        }
        if delta_lead >= zero || (smoothness != Smoothness::Smooth && constant_base) {
            // An O(1) perturbation of unknown structure, or a kink exactly at the base point.
            let bound = match (growth(f, order), smoothness) {
                (Growth::Bounded, _) | (_, Smoothness::Jump) => zero,
                _ => delta_lead.max(zero.min(lead)),
            };
            return Expansion::rest_only(bound, RestKind::Opaque);
        }
        let mut derivative = |arena: &mut Arena, j: u32, x: ExprId| arena.apply(f, order + j, x);
        match smoothness {
            Smoothness::Smooth => {
                let order = self.options.taylor_order;
                self.calculus().taylor(a, order, &mut derivative)
            }
            Smoothness::Kinked => {
                // First order holds off a set of coordinates of size |δ| near the kink; there
                // the error is O(δ), so its root mean square is O(|δ|^{3/2}).
                let series = self.calculus().taylor(a, 1, &mut derivative);
                let kink = Rest {
                    exponent: delta_lead * Exponent::new(3, 2),
                    kind: RestKind::Truncated,
                };
                self.calculus()
                    .normal(series.terms, Rest::max(series.rest, Some(kink)))
            }
            Smoothness::Jump => {
                // A jump moves a fraction |δ| of the coordinates by O(1): root mean square |δ|^{1/2}.
                let value = derivative(&mut self.arena, 0, base.expect("checked above"));
                let jump = Rest {
                    exponent: delta_lead * Exponent::new(1, 2),
                    kind: RestKind::Opaque,
                };
                self.calculus().normal(vec![(zero, value)], Some(jump))
            }
        }
    }
}

/// How fast `f^{(order)}(x)` can grow with |x|.
enum Growth {
    Bounded,
    Linear,
    Faster,
}

fn growth(f: Builtin, order: u32) -> Growth {
    match (f, order) {
        (Builtin::Tanh | Builtin::Erf | Builtin::Sigmoid | Builtin::Sin | Builtin::Cos, _)
        | (Builtin::Step | Builtin::Sign, _) => Growth::Bounded,
        (Builtin::Relu | Builtin::Abs | Builtin::Softplus | Builtin::Gelu | Builtin::Id, 0) => {
            Growth::Linear
        }
        (Builtin::Relu | Builtin::Abs | Builtin::Softplus | Builtin::Gelu | Builtin::Id, _) => {
            Growth::Bounded
        }
        (Builtin::Sqrt | Builtin::Log, _) => Growth::Linear,
        (Builtin::Exp, _) => Growth::Faster,
    }
}

fn call_name(f: Builtin, order: u32) -> String {
    format!("{}{}", f.name(), "'".repeat(order as usize))
}

/// `x` as a fraction `p/q` with `q ≤ 1000` and `|p| ≤ 10⁶`, if it is one (to 1e-12,
/// relative for small `x`: a tiny nonzero power such as `(1/3)^40` is not rounded to 0).
fn rational(x: f64) -> Option<Exponent> {
    if x == 0.0 {
        return Some(Exponent::from_integer(0));
    }
    (1..=1000i64).find_map(|q| {
        let p = (x * q as f64).round();
        let close = (p / q as f64 - x).abs() <= 1e-12 * x.abs().min(1.0);
        (close && p != 0.0 && p.abs() <= 1e6).then(|| Exponent::new(p as i64, q))
    })
}
