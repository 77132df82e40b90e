//! The derivation pass: program instructions in order → atoms, Z's, covariances, Ż's, θ°'s.

use super::symmetry::{Parity, SignFlip};
use super::*;
use crate::builtins::Smoothness;
use crate::ir::{self, ExprNode, Op, Program};
use crate::symbolic::Node;
use rustc_hash::FxHashMap;
use std::collections::HashMap;

/// A program may have many initial groups; the symmetry argument tries at most this many.
const MAX_FLIPPED_GROUPS: usize = 64;

/// Under [`Coefficients::Deferred`], the derivatives of an affine `Z^x` are expanded (and
/// folded into Ż) only if its random part has at most this many nodes: a chain of k
/// Gaussian-linear steps has Θ(k²) coefficients of Θ(k) nodes each.
const MAX_DEFERRED_EXPANSION: usize = 64;

/// Which form the Ż coefficients take ((3.3) in docs/derivation.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZDotRule {
    /// Symbolic differentiation (3.3), which keeps the structure visible; the Stein form (3.4)
    /// where `Z^x` is not weakly differentiable in the opposite-family atoms.
    Auto,
    /// The Stein form (3.4) for every Ż: a cross-check of (3.3), equal to it wherever `Z^x`
    /// is weakly differentiable.
    Stein,
}

/// How the (3.3) coefficients `E[∂Z^x/∂Ẑ]` of the Ż's are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coefficients {
    /// Every derivative expanded into an expression over the atoms: what evaluation needs.
    Expanded,
    /// Each coefficient kept as its definition [`ScalarDefinition::ExpectedDerivative`],
    /// unless `Z^x` is affine in the atoms and small (then its derivative is
    /// deterministic, and is expanded and folded into Ż as under [`Coefficients::Expanded`]).
    /// A term is dropped by
    /// symmetry where `Z^x` is even or odd under a sign flip and the derivative is odd.
    /// Derivation then costs time about linear in the program, for printing the equations
    /// of long programs; a term whose expansion would be structurally zero or odd only after
    /// cancellations is kept (by its definition, whose value is still 0).
    Deferred,
}

/// Derives the infinite-width limit of a checked program (docs/derivation.md), with
/// [`ZDotRule::Auto`] and [`Coefficients::Expanded`]: ready for evaluation.
///
/// Needs a program that passed [`ir::validate`]; guarantees one equation per defining
/// instruction, in program order, with every `Z` an expression over atom symbols.
pub fn derive(program: &Program) -> Result<Limit, LimitError> {
    derive_with(program, ZDotRule::Auto)
}

/// [`derive()`] with a choice of the Ż form.
pub fn derive_with(program: &Program, rule: ZDotRule) -> Result<Limit, LimitError> {
    run(Deriver::new(program, rule, Coefficients::Expanded))
}

/// [`derive()`] with [`Coefficients::Deferred`]: the equations to print, not to evaluate.
pub fn derive_deferred(program: &Program) -> Result<Limit, LimitError> {
    run(Deriver::new(
        program,
        ZDotRule::Auto,
        Coefficients::Deferred,
    ))
}

fn run(mut deriver: Deriver) -> Result<Limit, LimitError> {
    let program = deriver.program;
    for (i, instruction) in program.iter() {
        deriver.instruction(i, instruction)?;
        let nodes = deriver.limit.arena.size();
        if nodes > program.max_limit_nodes {
            return Err(LimitError::TooLarge {
                span: instruction.span,
                nodes,
                limit: program.max_limit_nodes,
            });
        }
    }
    Ok(deriver.limit)
}

/// The outermost (last-built) jump in `x` — a `step`, `sign` or other built-in whose
/// derivative of that order jumps — whose argument depends on one of `atoms`: where `x` is
/// not weakly differentiable in them and (3.3) would miss a Dirac mass. O(1) when `x` has no
/// random jump at all; otherwise linear in the part of `x` that has one.
fn jump_in(arena: &Arena, x: ExprId, atoms: &[AtomId]) -> Option<ExprId> {
    if atoms.is_empty() || !arena.has_random_jump(x) {
        return None;
    }
    let random = arena.reachable_until(&[x], |id| arena.is_deterministic(id));
    let mut depends: FxHashMap<ExprId, bool> = FxHashMap::default();
    let mut jump = None;
    for &id in &random {
        let node = arena.node(id);
        let mut d = matches!(node, Node::Atom(a) if atoms.contains(a));
        node.for_each_child(|c| d |= depends.get(&c).copied().unwrap_or(false));
        if let Node::Apply { f, order, arg } = node {
            if f.smoothness_of(*order) == Smoothness::Jump && depends.get(arg) == Some(&true) {
                jump = Some(id);
            }
        }
        depends.insert(id, d);
    }
    jump
}

/// Names of the instructions for printing: program names, and for a temporary its right
/// side written with these names (`tanh(h)`, `W tanh(h)` for the MatMul of a temporary).
fn display_names(program: &Program) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(program.instructions.len());
    for (i, instruction) in program.iter() {
        let name = match (&instruction.name, &instruction.op) {
            (Some(name), _) => name.to_string(),
            (
                None,
                Op::MatMul {
                    matrix,
                    transposed,
                    arg,
                },
            ) => {
                let t = if *transposed { "ᵀ" } else { "" };
                let separator = if program.instructions[arg.index()].name.is_none() {
                    " "
                } else {
                    ""
                };
                format!(
                    "{}{t}{separator}{}",
                    names[matrix.index()],
                    names[arg.index()]
                )
            }
            (None, Op::Nonlin { expr } | Op::Moment { expr } | Op::ScalarOp { expr }) => {
                let leaf = |node: &ExprNode| {
                    let id = match node {
                        ExprNode::Vector { id } => id.index(),
                        ExprNode::Scalar { id } => id.index(),
                        _ => return program.width.to_string(),
                    };
                    if program.instructions[id].name.is_none() {
                        format!("({})", names[id])
                    } else {
                        names[id].clone()
                    }
                };
                let text = expr.format(&leaf);
                if matches!(instruction.op, Op::Moment { .. }) {
                    format!("mean({text})")
                } else {
                    text
                }
            }
            (None, _) => program.display_name(i),
        };
        names.push(name);
    }
    names
}

struct Deriver<'p> {
    program: &'p Program,
    rule: ZDotRule,
    coefficients: Coefficients,
    limit: Limit,
    /// The atoms of each initial group, by group instruction.
    group_atoms: HashMap<usize, Vec<AtomId>>,
    /// Family by (matrix instruction, transposed).
    family_index: HashMap<(usize, bool), usize>,
    /// ZHat atom by (family, Z of the vector multiplied).
    hat_index: HashMap<(usize, ExprId), AtomId>,
    /// [`Deriver::hat_atoms`] of the expressions asked about.
    hat_atoms: FxHashMap<ExprId, std::rc::Rc<AtomSet>>,
    flips: Vec<SignFlip>,
}

impl<'p> Deriver<'p> {
    fn new(program: &'p Program, rule: ZDotRule, coefficients: Coefficients) -> Deriver<'p> {
        let n = program.instructions.len();
        Deriver {
            program,
            rule,
            coefficients,
            limit: Limit {
                arena: Arena::new(),
                atoms: Vec::new(),
                families: Vec::new(),
                scalars: Vec::new(),
                z: vec![None; n],
                scalar_of: vec![None; n],
                equations: Vec::new(),
                vanished: Vec::new(),
                stein: Vec::new(),
                outputs: Vec::new(),
                names: display_names(program),
                temporary: program
                    .instructions
                    .iter()
                    .map(|i| i.name.is_none())
                    .collect(),
            },
            group_atoms: HashMap::new(),
            family_index: HashMap::new(),
            hat_index: HashMap::new(),
            hat_atoms: FxHashMap::default(),
            flips: Vec::new(),
        }
    }

    fn equation(&mut self, instruction: usize, kind: EquationKind) {
        let span = self.program.instructions[instruction].span;
        self.limit.equations.push(Equation {
            instruction,
            span,
            kind,
        });
    }

    fn new_scalar(&mut self, definition: ScalarDefinition, role: ScalarRole) -> ScalarId {
        self.limit.scalars.push(LimitScalar { definition, role });
        ScalarId((self.limit.scalars.len() - 1) as u32)
    }

    fn new_atom(&mut self, kind: AtomKind, instruction: usize) -> AtomId {
        self.limit.atoms.push(Atom { kind, instruction });
        AtomId((self.limit.atoms.len() - 1) as u32)
    }

    fn instruction(&mut self, i: usize, instruction: &ir::Instruction) -> Result<(), LimitError> {
        match &instruction.op {
            Op::Matrix { .. } => {}
            Op::Group { mean, covariance } => self.group(i, mean, covariance),
            Op::InitVector { group, member } => {
                let atom = self.group_atoms[&group.index()][*member as usize];
                // An initial atom is known by the vector it is the limit of.
                self.limit.atoms[atom.0 as usize].instruction = i;
                self.limit.z[i] = Some(self.limit.arena.atom(atom));
            }
            Op::InitScalar { value } => {
                let s =
                    self.new_scalar(ScalarDefinition::Given(*value), ScalarRole::Instruction(i));
                self.limit.scalar_of[i] = Some(s);
                self.equation(i, EquationKind::InitialScalar { scalar: s });
            }
            Op::Nonlin { expr } => {
                let z = self.translate(expr, instruction.span)?;
                self.limit.z[i] = Some(z);
                self.equation(i, EquationKind::Nonlin { z });
            }
            Op::Moment { expr } | Op::ScalarOp { expr } => {
                let e = self.translate(expr, instruction.span)?;
                let definition = if self.limit.arena.is_deterministic(e) {
                    ScalarDefinition::Deterministic(e)
                } else {
                    ScalarDefinition::Expectation(e)
                };
                let s = self.new_scalar(definition, ScalarRole::Instruction(i));
                self.limit.scalar_of[i] = Some(s);
                self.equation(i, EquationKind::Scalar { scalar: s });
            }
            Op::MatMul {
                matrix,
                transposed,
                arg,
            } => self.matmul(i, *matrix, *transposed, *arg),
        }
        if i + 1 == self.program.instructions.len() {
            self.limit.outputs = self
                .program
                .outputs
                .iter()
                .map(|o| self.limit.scalar_of[o.index()].expect("outputs are scalars"))
                .collect();
        }
        Ok(())
    }

    fn group(&mut self, i: usize, mean: &[f64], covariance: &[f64]) {
        let group = ir::GroupId::new(i);
        let atoms: Vec<AtomId> = (0..mean.len())
            .map(|member| {
                self.new_atom(
                    AtomKind::Initial {
                        group,
                        member: member as u32,
                    },
                    i,
                )
            })
            .collect();
        for flip in &mut self.flips {
            for &a in &atoms {
                flip.add_initial(a, group);
            }
        }
        if mean.iter().all(|&m| m == 0.0) && self.flips.len() < MAX_FLIPPED_GROUPS {
            let mut flip = SignFlip::new(group, self.limit.atoms.len() - atoms.len());
            for &a in &atoms {
                flip.add_initial(a, group);
            }
            self.flips.push(flip);
        }
        self.group_atoms.insert(i, atoms.clone());
        self.equation(
            i,
            EquationKind::Initial {
                atoms,
                mean: mean.to_vec(),
                covariance: covariance.to_vec(),
            },
        );
    }

    fn family(&mut self, matrix: ir::MatrixId, transposed: bool) -> usize {
        if let Some(&f) = self.family_index.get(&(matrix.index(), transposed)) {
            return f;
        }
        let sigma2 = match self.program.get(matrix).op {
            Op::Matrix { variance } => variance,
            _ => unreachable!("validated: MatMul operands are matrices"),
        };
        self.limit.families.push(HatFamily {
            matrix,
            transposed,
            sigma2,
            atoms: Vec::new(),
            covariance: Vec::new(),
        });
        let f = self.limit.families.len() - 1;
        self.family_index.insert((matrix.index(), transposed), f);
        f
    }

    fn arg_z(&self, atom: AtomId) -> (VectorId, ExprId) {
        match self.limit.atoms[atom.0 as usize].kind {
            AtomKind::Hat { arg, arg_z, .. } => (arg, arg_z),
            AtomKind::Initial { .. } => unreachable!("families hold ZHat atoms only"),
        }
    }

    fn matmul(&mut self, i: usize, matrix: ir::MatrixId, transposed: bool, arg: VectorId) {
        let family = self.family(matrix, transposed);
        let x = self.limit.z[arg.index()].expect("validated: operands are earlier vectors");
        let (hat, new_atom) = match self.hat_index.get(&(family, x)) {
            Some(&atom) => (atom, false),
            None => (self.new_hat(i, family, arg, x), true),
        };
        let sigma2 = self.limit.families[family].sigma2;

        // Ż: the opposite family's atoms so far that Z^x depends on, in introduction order.
        let mut zdot = Vec::new();
        let mut stein = None;
        if let Some(&opposite) = self.family_index.get(&(matrix.index(), !transposed)) {
            let depends = self.hat_atoms(x);
            let candidates: Vec<AtomId> = self.limit.families[opposite]
                .atoms
                .iter()
                .copied()
                .filter(|&a| depends.contains(a))
                .collect();
            let jump = jump_in(&self.limit.arena, x, &candidates);
            if !candidates.is_empty() && (jump.is_some() || self.rule == ZDotRule::Stein) {
                if let Some((solve, terms)) =
                    self.stein_terms(i, arg, x, opposite, candidates, jump)
                {
                    stein = Some(solve);
                    zdot = terms;
                }
            } else {
                for atom in candidates {
                    if let Some(term) = self.zdot_term(i, arg, x, atom, sigma2) {
                        zdot.push(term);
                    }
                }
            }
        }
        let hat_expr = self.limit.arena.atom(hat);
        let mut terms = vec![(hat_expr, 1.0)];
        for term in &zdot {
            let u_z = self.arg_z(term.atom).1;
            terms.push((self.limit.arena.mul(term.coefficient, u_z), 1.0));
        }
        let z = self.limit.arena.sum(terms);
        self.limit.z[i] = Some(z);
        self.equation(
            i,
            EquationKind::MatMul {
                hat,
                new_atom,
                x: arg,
                zdot,
                stein,
                z,
            },
        );
    }

    /// The ZHat atoms `x` mentions. Memoised per expression asked about (the Z's that are
    /// multiplied by a matrix), and a later one is found from the earlier ones it contains,
    /// so that a program in which every Z depends on all earlier ones costs time linear in
    /// the nodes, plus one bitwise union of 64 atoms a word per earlier set met.
    fn hat_atoms(&mut self, x: ExprId) -> std::rc::Rc<AtomSet> {
        if let Some(atoms) = self.hat_atoms.get(&x) {
            return atoms.clone();
        }
        let arena = &self.limit.arena;
        let mut found = AtomSet::default();
        let mut seen: rustc_hash::FxHashSet<ExprId> = rustc_hash::FxHashSet::default();
        let mut stack = vec![x];
        while let Some(id) = stack.pop() {
            if arena.is_deterministic(id) || !seen.insert(id) {
                continue;
            }
            match (self.hat_atoms.get(&id), arena.node(id)) {
                (Some(atoms), _) => found.union_with(atoms),
                (None, Node::Atom(a)) => {
                    if matches!(self.limit.atoms[a.0 as usize].kind, AtomKind::Hat { .. }) {
                        found.insert(*a);
                    }
                }
                (None, node) => node.for_each_child(|c| stack.push(c)),
            }
        }
        let atoms = std::rc::Rc::new(found);
        self.hat_atoms.insert(x, atoms.clone());
        atoms
    }

    fn new_hat(&mut self, i: usize, family: usize, arg: VectorId, x: ExprId) -> AtomId {
        let atom = self.new_atom(
            AtomKind::Hat {
                family,
                arg,
                arg_z: x,
            },
            i,
        );
        self.hat_index.insert((family, x), atom);
        let earlier = self.limit.families[family].atoms.clone();
        for b in earlier.into_iter().chain([atom]) {
            let y = if b == atom { x } else { self.arg_z(b).1 };
            let integrand = self.limit.arena.mul(x, y);
            self.limit.families[family]
                .covariance
                .push(CovarianceEntry {
                    a: atom,
                    b,
                    integrand,
                });
        }
        self.limit.families[family].atoms.push(atom);
        for flip in &mut self.flips {
            flip.add_hat(&self.limit.arena, atom, x);
        }
        atom
    }

    /// The Ż term of `Z^x` against an opposite-family atom, or `None` if it vanishes.
    fn zdot_term(
        &mut self,
        i: usize,
        arg: VectorId,
        x: ExprId,
        atom: AtomId,
        sigma2: f64,
    ) -> Option<ZDotTerm> {
        let expand = match self.coefficients {
            Coefficients::Expanded => true,
            Coefficients::Deferred => {
                let arena = &self.limit.arena;
                arena.is_affine(x) && arena.random_part_within(x, MAX_DEFERRED_EXPANSION)
            }
        };
        if !expand {
            // Without the derivative, what is known of it comes from `Z^x`: where `Z^x` has a
            // parity under a flip, the derivative has that parity times the atom's.
            let hat = self.limit.arena.atom(atom);
            for flip in &mut self.flips {
                let parity = flip
                    .parity(&self.limit.arena, x)
                    .times(flip.parity(&self.limit.arena, hat));
                if parity == Parity::Odd {
                    self.limit.vanished.push(VanishedTerm {
                        instruction: i,
                        x: arg,
                        atom,
                        integrand: None,
                        stein: false,
                        flipped: flip.group,
                    });
                    return None;
                }
            }
            let s = self.new_scalar(
                ScalarDefinition::ExpectedDerivative { z: x, atom },
                ScalarRole::ZDotCoefficient {
                    instruction: i,
                    x: arg,
                    atom,
                },
            );
            let expectation = self.limit.arena.scalar(s);
            return Some(ZDotTerm {
                atom,
                u: self.arg_z(atom).0,
                derivative: None,
                coefficient: self.limit.arena.scale(expectation, sigma2),
            });
        }
        let derivative = self.limit.arena.diff(x, atom);
        if matches!(self.limit.arena.node(derivative), Node::Const(c) if *c == 0.0) {
            return None;
        }
        for flip in &mut self.flips {
            if flip.parity(&self.limit.arena, derivative) == Parity::Odd {
                self.limit.vanished.push(VanishedTerm {
                    instruction: i,
                    x: arg,
                    atom,
                    integrand: Some(derivative),
                    stein: false,
                    flipped: flip.group,
                });
                return None;
            }
        }
        let expectation = if self.limit.arena.is_deterministic(derivative) {
            derivative
        } else {
            let s = self.new_scalar(
                ScalarDefinition::Expectation(derivative),
                ScalarRole::ZDotCoefficient {
                    instruction: i,
                    x: arg,
                    atom,
                },
            );
            self.limit.arena.scalar(s)
        };
        let coefficient = self.limit.arena.scale(expectation, sigma2);
        let u = self.arg_z(atom).0;
        Some(ZDotTerm {
            atom,
            u,
            derivative: Some(derivative),
            coefficient,
        })
    }

    /// The Ż terms of `Z^x` against the opposite-family atoms `atoms` by the Stein form (3.4):
    /// the index of the new [`SteinSolve`] and one term per atom, or `None` if every `b_i`
    /// vanishes by symmetry (then the terms are recorded in [`Limit::vanished`]).
    fn stein_terms(
        &mut self,
        i: usize,
        arg: VectorId,
        x: ExprId,
        family: usize,
        atoms: Vec<AtomId>,
        jump: Option<ExprId>,
    ) -> Option<(usize, Vec<ZDotTerm>)> {
        let mut moments = Vec::with_capacity(atoms.len());
        let mut odd = Vec::new();
        for &atom in &atoms {
            let hat = self.limit.arena.atom(atom);
            let integrand = self.limit.arena.mul(hat, x);
            let flipped = self.flips.iter_mut().find_map(|flip| {
                (flip.parity(&self.limit.arena, integrand) == Parity::Odd).then_some(flip.group)
            });
            moments.push(match flipped {
                Some(group) => {
                    odd.push(VanishedTerm {
                        instruction: i,
                        x: arg,
                        atom,
                        integrand: Some(integrand),
                        stein: true,
                        flipped: group,
                    });
                    SteinRhs::Odd(group)
                }
                None => SteinRhs::Expectation(self.new_scalar(
                    ScalarDefinition::Expectation(integrand),
                    ScalarRole::SteinMoment {
                        instruction: i,
                        x: arg,
                        atom,
                    },
                )),
            });
        }
        if odd.len() == atoms.len() {
            self.limit.vanished.extend(odd);
            return None;
        }
        let solve = self.limit.stein.len();
        let mut terms = Vec::with_capacity(atoms.len());
        let mut coefficients = Vec::with_capacity(atoms.len());
        for (index, &atom) in atoms.iter().enumerate() {
            let c = self.new_scalar(
                ScalarDefinition::SteinSolution { solve, index },
                ScalarRole::SteinCoefficient {
                    instruction: i,
                    x: arg,
                    atom,
                },
            );
            coefficients.push(c);
            terms.push(ZDotTerm {
                atom,
                u: self.arg_z(atom).0,
                derivative: None,
                coefficient: self.limit.arena.scalar(c),
            });
        }
        self.limit.stein.push(SteinSolve {
            instruction: i,
            x: arg,
            family,
            u: terms.iter().map(|t| t.u).collect(),
            atoms,
            moments,
            coefficients,
            jump,
        });
        Some((solve, terms))
    }

    /// Translates an IR expression into the arena, replacing vectors by their Z and scalars
    /// by their limits. A chain of `+`, `-` and negations becomes one sum, built once: a
    /// source line summing over T earlier steps costs Θ(T), not the Θ(T²) of the partial
    /// sums a term at a time.
    fn translate(
        &mut self,
        expr: &ir::Expr,
        span: crate::diagnostics::Span,
    ) -> Result<ExprId, LimitError> {
        // Which nodes are the single operand of a `+`, `-` or negation: their terms are
        // handed to it instead of being summed on their own.
        let additive = |node: &ExprNode| {
            matches!(
                node,
                ExprNode::Add { .. } | ExprNode::Sub { .. } | ExprNode::Neg { .. }
            )
        };
        let mut uses = vec![0u32; expr.nodes.len()];
        let mut inside_sum = vec![false; expr.nodes.len()];
        for node in &expr.nodes {
            let operands = match *node {
                ExprNode::Neg { arg } | ExprNode::Call { arg, .. } => [Some(arg), None],
                ExprNode::Add { lhs, rhs }
                | ExprNode::Sub { lhs, rhs }
                | ExprNode::Mul { lhs, rhs }
                | ExprNode::Div { lhs, rhs }
                | ExprNode::Pow { lhs, rhs } => [Some(lhs), Some(rhs)],
                _ => [None, None],
            };
            for k in operands.into_iter().flatten() {
                uses[k as usize] += 1;
                inside_sum[k as usize] = additive(node);
            }
        }

        let arena = &mut self.limit.arena;
        let mut ids: Vec<Option<ExprId>> = Vec::with_capacity(expr.nodes.len());
        let mut pending: Vec<Vec<(ExprId, f64)>> = vec![Vec::new(); expr.nodes.len()];
        for (k, node) in expr.nodes.iter().enumerate() {
            let at = |k: u32| ids[k as usize].expect("an operand outside a sum is built");
            // The terms of an operand of a sum, scaled by `sign`, taken from `pending` or
            // made of its id.
            let mut terms_of = |j: u32, sign: f64, ids: &[Option<ExprId>]| -> Vec<(ExprId, f64)> {
                let terms = std::mem::take(&mut pending[j as usize]);
                if terms.is_empty() {
                    vec![(ids[j as usize].expect("a built operand"), sign)]
                } else {
                    terms.into_iter().map(|(t, c)| (t, c * sign)).collect()
                }
            };
            let terms = match *node {
                ExprNode::Neg { arg } => Some(terms_of(arg, -1.0, &ids)),
                ExprNode::Add { lhs, rhs } | ExprNode::Sub { lhs, rhs } => {
                    let sign = if matches!(node, ExprNode::Sub { .. }) {
                        -1.0
                    } else {
                        1.0
                    };
                    let mut terms = terms_of(lhs, 1.0, &ids);
                    terms.extend(terms_of(rhs, sign, &ids));
                    Some(terms)
                }
                _ => None,
            };
            if let Some(terms) = terms {
                if uses[k] == 1 && inside_sum[k] {
                    // Summed by the one operation that uses it; its id is never read.
                    pending[k] = terms;
                    ids.push(None);
                } else {
                    ids.push(Some(arena.sum(terms)));
                }
                continue;
            }
            let id = match *node {
                ExprNode::Const { value } => arena.constant(value),
                ExprNode::Vector { id } => {
                    self.limit.z[id.index()].expect("validated: earlier vector")
                }
                ExprNode::Scalar { id } => arena
                    .scalar(self.limit.scalar_of[id.index()].expect("validated: earlier scalar")),
                ExprNode::Width => {
                    return Err(LimitError::WidthInExpression {
                        span,
                        width: self.program.width.to_string(),
                    })
                }
                ExprNode::Neg { .. } | ExprNode::Add { .. } | ExprNode::Sub { .. } => {
                    unreachable!("sums are built above")
                }
                ExprNode::Mul { lhs, rhs } => arena.mul(at(lhs), at(rhs)),
                ExprNode::Div { lhs, rhs } => arena.div(at(lhs), at(rhs)),
                ExprNode::Pow { lhs, rhs } => match arena.node(at(rhs)) {
                    Node::Const(e) => {
                        let e = *e;
                        arena.pow(at(lhs), e)
                    }
                    _ => {
                        // a^b = exp(b log a) for an exponent that is not a number.
                        let log = arena.apply(crate::builtins::Builtin::Log, 0, at(lhs));
                        let product = arena.mul(at(rhs), log);
                        arena.apply(crate::builtins::Builtin::Exp, 0, product)
                    }
                },
                ExprNode::Call {
                    function,
                    order,
                    arg,
                } => arena.apply(function, order, at(arg)),
            };
            ids.push(Some(id));
        }
        Ok(ids
            .last()
            .copied()
            .flatten()
            .expect("expressions are non-empty; their root is built"))
    }
}

/// A set of atoms as a bit per atom id: the union of two sets costs one operation per 64
/// atoms, however many they hold.
#[derive(Debug, Default)]
struct AtomSet(Vec<u64>);

impl AtomSet {
    fn insert(&mut self, atom: AtomId) {
        let (word, bit) = (atom.0 as usize / 64, atom.0 % 64);
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << bit;
    }

    fn union_with(&mut self, other: &AtomSet) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (mine, theirs) in self.0.iter_mut().zip(&other.0) {
            *mine |= theirs;
        }
    }

    fn contains(&self, atom: AtomId) -> bool {
        let (word, bit) = (atom.0 as usize / 64, atom.0 % 64);
        self.0.get(word).is_some_and(|w| w & (1 << bit) != 0)
    }
}
