//! The schedule of a particle evaluation: every step in program order, each expression
//! compiled once, and when each column of particle values can be freed.
//!
//! Columns are the particle values of the atoms and of the *kept* nodes: the `Z` of every
//! vector of the program and the forward-mode derivatives `∂Z/∂Ẑ` that derivation memoised
//! for them. Every expectation is then a short tape over kept columns, so a program of `T`
//! steps costs time proportional to its number of expressions, not to their unrolled size.
//! A column is freed after the last step that reads it, so memory follows the columns live
//! at once, not the length of the program.

use super::batch::BatchTape;
use crate::diagnostics::Span;
use crate::limit::{EquationKind, Limit, ScalarDefinition, ScalarRole};
use crate::symbolic::{AtomId, ExprId, ScalarId};
use rustc_hash::{FxHashMap, FxHashSet};

/// One step of the schedule.
#[derive(Debug)]
pub(super) enum Step {
    /// Sample the atoms of an initial group jointly from their given law.
    Initial {
        /// The atoms' columns.
        slots: Vec<usize>,
        /// The atoms (their ids seed their random streams).
        atoms: Vec<AtomId>,
        /// Means.
        mean: Vec<f64>,
        /// Covariance, row-major.
        covariance: Vec<f64>,
        /// The declaration, for an error.
        span: Span,
        /// The declaration's name.
        name: String,
    },
    /// `E[Z^x Z^y]` of two atoms of a family: the particle mean of the integrand.
    Gram {
        /// The later atom.
        a: AtomId,
        /// The earlier (or same) atom.
        b: AtomId,
        /// The integrand.
        tape: BatchTape,
    },
    /// Sample a ZHat atom conditionally on the earlier atoms of its family.
    Hat {
        /// Its family.
        family: usize,
        /// The atom.
        atom: AtomId,
        /// Its column.
        slot: usize,
        /// The column of its standard normal noise.
        noise: usize,
        /// The noise columns of the family's earlier atoms, in introduction order.
        earlier: Vec<usize>,
    },
    /// The particle values of a kept node.
    Node {
        /// Its column.
        slot: usize,
        /// Its expression.
        tape: BatchTape,
    },
    /// A limit scalar.
    Scalar {
        /// The scalar.
        scalar: ScalarId,
        /// The integrand of an expectation over atoms.
        tape: Option<BatchTape>,
    },
}

/// The schedule: steps, the columns each frees, and the peak number of live columns.
#[derive(Debug)]
pub(super) struct Schedule {
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The columns freed after each step.
    pub frees: Vec<Vec<usize>>,
    /// The number of column slots.
    pub slots: usize,
    /// The most columns live at once.
    pub peak_columns: usize,
}

impl Schedule {
    /// The operations one particle costs, about: every tape's instructions, plus one
    /// multiply-add per earlier atom of its family for each conditional ZHat draw (and per
    /// atom pair of an initial group).
    pub fn work(&self) -> usize {
        self.steps
            .iter()
            .map(|step| match step {
                Step::Initial { atoms, .. } => atoms.len() * atoms.len(),
                Step::Hat { earlier, .. } => earlier.len() + 1,
                Step::Gram { tape, .. } | Step::Node { tape, .. } => tape.len(),
                Step::Scalar { tape, .. } => tape.as_ref().map_or(1, BatchTape::len),
            })
            .sum()
    }
}

/// Builds [`Schedule`]s.
struct Builder<'a> {
    limit: &'a Limit,
    steps: Vec<Step>,
    /// Slot of every atom column.
    atom_slot: FxHashMap<AtomId, usize>,
    /// Slot of every kept node's column (scheduled or not).
    kept: FxHashMap<ExprId, usize>,
    /// Kept nodes whose column is computed by an earlier step.
    done: FxHashSet<ExprId>,
    /// Noise slot of every ZHat atom.
    noise_slot: FxHashMap<AtomId, usize>,
    slots: usize,
}

impl<'a> Builder<'a> {
    fn new_slot(&mut self) -> usize {
        self.slots += 1;
        self.slots - 1
    }

    /// The column of a node, if it is read from one: an atom, or a kept node.
    fn column(&self, id: ExprId) -> Option<usize> {
        match self.limit.arena.node(id) {
            crate::symbolic::Node::Atom(a) => self.atom_slot.get(a).copied(),
            _ => self.kept.get(&id).copied(),
        }
    }

    /// Compiles `root`, first scheduling the kept nodes it reads that are not computed yet
    /// (children before parents, without recursion).
    fn tape(&mut self, root: ExprId) -> BatchTape {
        let mut pending = vec![(root, false)];
        while let Some((id, expanded)) = pending.pop() {
            if id != root && self.done.contains(&id) {
                continue;
            }
            let missing = self.missing_kept(id);
            if !missing.is_empty() && !expanded {
                pending.push((id, true));
                pending.extend(missing.into_iter().map(|m| (m, false)));
                continue;
            }
            let tape = {
                let column = |e: ExprId| self.column(e);
                BatchTape::compile(&self.limit.arena, id, &column)
            };
            if id == root {
                return tape;
            }
            self.done.insert(id);
            let slot = self.kept[&id];
            self.steps.push(Step::Node { slot, tape });
        }
        unreachable!("the root is compiled last")
    }

    /// The kept nodes that `root`'s tape would read but no step computes yet.
    fn missing_kept(&self, root: ExprId) -> Vec<ExprId> {
        let arena = &self.limit.arena;
        let mut seen: FxHashSet<ExprId> = FxHashSet::default();
        let mut missing = Vec::new();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            if arena.is_deterministic(id) || !seen.insert(id) {
                continue;
            }
            if id != root && self.kept.contains_key(&id) {
                if !self.done.contains(&id) {
                    missing.push(id);
                }
                continue;
            }
            arena.node(id).for_each_child(|c| stack.push(c));
        }
        missing
    }
}

/// The name and span of the instruction a scalar belongs to, for errors.
pub(super) fn scalar_context(limit: &Limit, s: ScalarId) -> (String, usize) {
    let role = limit.scalars[s.0 as usize].role;
    let instruction = role.instruction();
    let name = match role {
        ScalarRole::Instruction(_) => limit.names[instruction].clone(),
        _ => format!("a Ż coefficient of {}", limit.names[instruction]),
    };
    (name, instruction)
}

/// Builds the schedule of `limit`.
pub(super) fn build(limit: &Limit) -> Schedule {
    let mut b = Builder {
        limit,
        steps: Vec::new(),
        atom_slot: FxHashMap::default(),
        kept: FxHashMap::default(),
        done: FxHashSet::default(),
        noise_slot: FxHashMap::default(),
        slots: 0,
    };
    // Kept nodes: every vector's Z and its memoised derivatives.
    let zs: Vec<ExprId> = limit
        .z
        .iter()
        .flatten()
        .copied()
        .filter(|&z| !limit.arena.is_deterministic(z))
        .collect();
    let atoms: Vec<AtomId> = (0..limit.atoms.len() as u32).map(AtomId).collect();
    for &z in &zs {
        let candidates = std::iter::once(z).chain(
            atoms
                .iter()
                .filter_map(|&a| limit.arena.memoised_derivative(z, a)),
        );
        for node in candidates {
            let is_atom = matches!(limit.arena.node(node), crate::symbolic::Node::Atom(_));
            if !limit.arena.is_deterministic(node) && !is_atom && !b.kept.contains_key(&node) {
                let slot = b.new_slot();
                b.kept.insert(node, slot);
            }
        }
    }
    // And φ^{(k)}(Z) of a kept Z or an atom: tanh, tanh', tanh'' of one argument are read by
    // many derivative tapes, and a transcendental function is worth computing once.
    for index in 0..limit.arena.len() {
        let id = limit.arena.id(index);
        if let crate::symbolic::Node::Apply { arg, .. } = limit.arena.node(id) {
            let reads_column = b.kept.contains_key(arg)
                || matches!(limit.arena.node(*arg), crate::symbolic::Node::Atom(_));
            if reads_column && !limit.arena.is_deterministic(id) && !b.kept.contains_key(&id) {
                let slot = b.new_slot();
                b.kept.insert(id, slot);
            }
        }
    }
    let mut zdot_scalars: FxHashMap<usize, Vec<ScalarId>> = FxHashMap::default();
    for (i, s) in limit.scalars.iter().enumerate() {
        if !matches!(s.role, ScalarRole::Instruction(_)) {
            zdot_scalars
                .entry(s.role.instruction())
                .or_default()
                .push(ScalarId(i as u32));
        }
    }
    for eq in &limit.equations {
        match &eq.kind {
            EquationKind::Initial {
                atoms,
                mean,
                covariance,
            } => {
                let slots = atoms
                    .iter()
                    .map(|&a| {
                        let slot = b.new_slot();
                        b.atom_slot.insert(a, slot);
                        slot
                    })
                    .collect();
                b.steps.push(Step::Initial {
                    slots,
                    atoms: atoms.clone(),
                    mean: mean.clone(),
                    covariance: covariance.clone(),
                    span: eq.span,
                    name: limit.names[eq.instruction].clone(),
                });
            }
            EquationKind::MatMul { hat, new_atom, .. } => {
                if *new_atom {
                    let family_index = match limit.atoms[hat.0 as usize].kind {
                        crate::limit::AtomKind::Hat { family, .. } => family,
                        crate::limit::AtomKind::Initial { .. } => unreachable!("a ZHat atom"),
                    };
                    let family = &limit.families[family_index];
                    for entry in family.covariance.iter().filter(|e| e.a == *hat) {
                        let tape = b.tape(entry.integrand);
                        b.steps.push(Step::Gram {
                            a: entry.a,
                            b: entry.b,
                            tape,
                        });
                    }
                    let earlier = family
                        .atoms
                        .iter()
                        .take_while(|&&a| a != *hat)
                        .map(|a| b.noise_slot[a])
                        .collect();
                    let slot = b.new_slot();
                    let noise = b.new_slot();
                    b.atom_slot.insert(*hat, slot);
                    b.noise_slot.insert(*hat, noise);
                    b.steps.push(Step::Hat {
                        family: family_index,
                        atom: *hat,
                        slot,
                        noise,
                        earlier,
                    });
                }
                for &s in zdot_scalars.get(&eq.instruction).into_iter().flatten() {
                    scalar_step(&mut b, s);
                }
            }
            EquationKind::InitialScalar { scalar } | EquationKind::Scalar { scalar } => {
                scalar_step(&mut b, *scalar)
            }
            EquationKind::Nonlin { .. } => {}
        }
    }
    let slots = b.slots;
    let (frees, peak_columns) = liveness(&b.steps, slots);
    Schedule {
        steps: b.steps,
        frees,
        slots,
        peak_columns,
    }
}

fn scalar_step(b: &mut Builder, s: ScalarId) {
    let tape = match b.limit.scalars[s.0 as usize].definition {
        ScalarDefinition::Expectation(e) if !b.limit.arena.is_deterministic(e) => Some(b.tape(e)),
        _ => None,
    };
    b.steps.push(Step::Scalar { scalar: s, tape });
}

/// The columns each step reads and writes.
fn reads_writes(step: &Step) -> (Vec<usize>, Vec<usize>) {
    match step {
        Step::Initial { slots, .. } => (Vec::new(), slots.clone()),
        Step::Gram { tape, .. } => (tape.columns().to_vec(), Vec::new()),
        Step::Hat {
            slot,
            noise,
            earlier,
            ..
        } => (earlier.clone(), vec![*slot, *noise]),
        Step::Node { slot, tape } => (tape.columns().to_vec(), vec![*slot]),
        Step::Scalar { tape, .. } => (
            tape.as_ref().map_or(Vec::new(), |t| t.columns().to_vec()),
            Vec::new(),
        ),
    }
}

/// The columns to free after each step (after its last reader, or at once if never read)
/// and the most columns live at once.
fn liveness(steps: &[Step], slots: usize) -> (Vec<Vec<usize>>, usize) {
    let mut last = vec![None; slots];
    for (i, step) in steps.iter().enumerate() {
        let (reads, writes) = reads_writes(step);
        for s in reads.into_iter().chain(writes) {
            last[s] = Some(i);
        }
    }
    let mut frees = vec![Vec::new(); steps.len()];
    for (slot, l) in last.iter().enumerate() {
        if let Some(i) = l {
            frees[*i].push(slot);
        }
    }
    let (mut live, mut peak) = (0usize, 0usize);
    for (i, step) in steps.iter().enumerate() {
        live += reads_writes(step).1.len();
        peak = peak.max(live);
        live -= frees[i].len();
    }
    (frees, peak)
}
