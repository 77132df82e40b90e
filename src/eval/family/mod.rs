//! Evaluating a limit derived from a program lowered by representatives
//! ([`crate::ir::LowerOptions::parallel`]): every limit scalar and ZHat covariance is a
//! *template* standing for all the index tuples of its parallel index spaces, and is
//! evaluated as one dense array over them, entry by entry in parallel.
//!
//! A template's *signature* is the set of representatives `(space, r)` its value depends on.
//! Its array has one dimension per representative, of the space's size; entry `[a₀, a₁]` of a
//! template with signature `{(s, 0), (s, 1)}` is its value when representative 0 stands for
//! member `a₀` and representative 1 for member `a₁`, `a₀ < a₁` (the order of representatives
//! is the order of members: a template stands for every tuple with the same equality pattern
//! and order). Entries outside that order are not computed.
//!
//! Each expectation is split once, symbolically, into terms and blocks of structurally
//! dependent atoms; each block is then evaluated per entry by the fastest form that applies:
//! Gaussian polynomials (Isserlis), the closed forms of relu, step and erf, or the scalar
//! evaluator's quadrature on that entry's marginal law. Identical integrands share one array
//! (`mean(x[i] * x[j])` and `mean(x[j] * x[i])`, a Moment and the ZHat covariance built from
//! the same product), and an array is freed after its last use.

mod arc_cosine;
mod columns;
mod fusion;
mod projected;

use super::evaluate::block_expectation;
use super::expand;
use super::forms::{self, Moments};
use super::{polynomial, EvalError, EvalOptions, Method, Used, Value};
use crate::builtins::Builtin;
use crate::diagnostics::Span;
use crate::ir::{self, GroupData, ParallelSpaces, Program};
use crate::limit::{AtomKind, EquationKind, Limit, ScalarDefinition};
use crate::output::{FamilyValue, OutputValue};
use crate::symbolic::{AtomId, ExprId, Node, ScalarId, Tape};
use columns::{Column, ColumnProgram};
use ndarray::{ArrayD, IxDyn};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::sync::{Arc, Mutex};

thread_local! {
    /// Per-thread buffers of the entry loops: scalar values, shifted values, tape registers.
    static SCRATCH: std::cell::RefCell<(Vec<f64>, Vec<f64>, Vec<f64>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new(), Vec::new())) };
}

/// Representatives a template depends on: `(space, representative)`, sorted.
type Signature = Vec<(usize, usize)>;

/// One entry of a template: its value, error and method at a tuple of members.
type EntryFn<'f> = dyn Fn(&[usize]) -> Result<(f64, f64, Used), EvalError> + Sync + 'f;

/// The most products an integrand of the array path is multiplied out into: a pooled layer
/// of P positions gives P² (256 for a 16 × 16 image); each costs a few operations per entry.
pub const ARRAY_MAX_TERMS: usize = 1 << 17;

/// Arrays of fewer entries are filled on one thread.
const SMALL_ARRAY: usize = 1024;

/// The most entries one template array may hold.
pub const MAX_ARRAY_ENTRIES: usize = 1 << 28;

/// Why the array evaluator could not (or should not) evaluate a limit.
#[derive(Clone, Debug, PartialEq)]
pub enum FamilyError {
    /// The limit needs something the array path does not do; evaluate the unrolled program.
    Unsupported(String),
    /// Evaluation failed.
    Eval(EvalError),
    /// The requested tile does not fit the program.
    Tile(String),
    /// An array would exceed [`MAX_ARRAY_ENTRIES`] (unrolling the program would be larger still).
    TooLarge(String),
}

impl From<EvalError> for FamilyError {
    fn from(e: EvalError) -> Self {
        FamilyError::Eval(e)
    }
}

/// The outputs of a program evaluated as arrays, with notes.
#[derive(Clone, Debug, PartialEq)]
pub struct FamilyEvaluation {
    /// In the order of the program's `output` statement.
    pub outputs: Vec<OutputValue>,
    /// What the user should know.
    pub notes: Vec<super::Note>,
}

/// One template's values over its signature's tuples.
#[derive(Debug)]
struct Array {
    signature: Signature,
    sizes: Vec<usize>,
    values: Vec<f64>,
    errors: Vec<f64>,
    method: Used,
    /// Whether some entry has a nonzero error (buffers are reused: entries a template does not
    /// stand for hold anything, so this is tracked, not scanned).
    has_errors: bool,
}

impl Array {
    /// The error of entry `i` (none stored: all zero).
    fn error(&self, i: usize) -> f64 {
        if self.errors.is_empty() {
            0.0
        } else {
            self.errors[i]
        }
    }

    fn strides(sizes: &[usize]) -> Vec<usize> {
        let mut strides = vec![1; sizes.len()];
        for p in (0..sizes.len().saturating_sub(1)).rev() {
            strides[p] = strides[p + 1] * sizes[p + 1];
        }
        strides
    }
}

/// Where a dependency's entry is, given the tuple of the template that uses it.
#[derive(Clone, Debug)]
struct Projection(Vec<(usize, usize)>);

impl Projection {
    fn new(outer: &Signature, inner: &Signature, inner_sizes: &[usize]) -> Projection {
        let strides = Array::strides(inner_sizes);
        Projection(
            inner
                .iter()
                .zip(strides)
                .map(|(rep, stride)| {
                    let position = outer
                        .iter()
                        .position(|r| r == rep)
                        .expect("a dependency's signature is part of its user's");
                    (position, stride)
                })
                .collect(),
        )
    }

    fn index(&self, tuple: &[usize]) -> usize {
        self.0.iter().map(|&(p, s)| tuple[p] * s).sum()
    }
}

/// One block of the output matrices: the members `rows` of a family's first dimension over
/// the parallel index space, and `cols` of its second (an end of `usize::MAX` is open). Every entry of a tile is computed exactly
/// as in the whole matrix, so tiles reassemble to it bit for bit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tile {
    /// Members of the first dimension.
    pub rows: std::ops::Range<usize>,
    /// Members of the second dimension.
    pub cols: std::ops::Range<usize>,
}

impl Tile {
    /// Whether the members (of the tiled space, in a template's order) are needed for the
    /// tile. A single member always is: per-member quantities cost N, and computing all of
    /// them keeps every per-member table (a kernel map's Hermite coefficients) the same as for
    /// the whole matrix. Two or more: all in `rows ∪ cols`, one in `rows` and one in `cols`.
    fn admits(&self, members: impl Iterator<Item = usize> + Clone) -> bool {
        if members.clone().count() < 2 {
            return true;
        }
        let inside = |m: usize| self.rows.contains(&m) || self.cols.contains(&m);
        members.clone().all(inside)
            && members.clone().any(|m| self.rows.contains(&m))
            && members.clone().any(|m| self.cols.contains(&m))
    }
}

/// Evaluates a limit whose program was lowered by representatives, returning its outputs as
/// arrays (or one [`Tile`] of them). Needs `limit` derived from `program`, and
/// `program.parallel` set.
pub fn evaluate_families(
    program: &Program,
    limit: &Limit,
    options: &EvalOptions,
    tile: Option<&Tile>,
) -> Result<FamilyEvaluation, FamilyError> {
    let parallel = program.parallel.as_ref().ok_or_else(|| {
        FamilyError::Unsupported("the program has no parallel index space".into())
    })?;
    if let Some(tile) = tile {
        let [space] = &parallel.spaces[..] else {
            return Err(FamilyError::Unsupported(format!(
                "a tile needs exactly one parallel index space; the program has {}",
                parallel.spaces.len()
            )));
        };
        let fits = |r: &std::ops::Range<usize>| {
            r.start < space.size && (r.end <= space.size || r.end == usize::MAX)
        };
        if !fits(&tile.rows) || !fits(&tile.cols) {
            let show = |r: &std::ops::Range<usize>| {
                if r.end == usize::MAX {
                    format!("{}..", r.start)
                } else {
                    format!("{}..{}", r.start, r.end)
                }
            };
            return Err(FamilyError::Tile(format!(
                "the tile {} × {} does not fit the {} members of the index space",
                show(&tile.rows),
                show(&tile.cols),
                space.size
            )));
        }
    }
    // An open end (`usize::MAX`) means every member from the start on.
    let tile = tile.map(|t| {
        let size = parallel.spaces[0].size;
        Tile {
            rows: t.rows.start..t.rows.end.min(size),
            cols: t.cols.start..t.cols.end.min(size),
        }
    });
    if !limit.stein.is_empty() {
        return Err(FamilyError::Unsupported(
            "a Ż by the Stein form is not evaluated as an array yet".into(),
        ));
    }
    if options.method == Method::Mc {
        return Err(FamilyError::Unsupported(
            "Monte Carlo runs on the unrolled program".into(),
        ));
    }
    let mut e = ArrayEvaluator::new(program, parallel, limit, options)?;
    e.tile = tile;
    // On a worker of the pool, so that the loops over small arrays (a convolution has
    // thousands of templates of a few hundred entries) run in place instead of waking it.
    rayon::scope(|_| e.run())?;
    let outputs = e.outputs()?;
    let mut notes = e.notes.into_inner().expect("no thread panicked");
    notes.sort_by(|a, b| (&a.kind, &a.entry).cmp(&(&b.kind, &b.entry)));
    notes.dedup();
    Ok(FamilyEvaluation { outputs, notes })
}

/// A unit of work: one limit scalar, or one ZHat covariance entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Task {
    Scalar(ScalarId),
    Covariance(AtomId, AtomId),
}

struct ArrayEvaluator<'a> {
    program: &'a Program,
    parallel: &'a ParallelSpaces,
    limit: &'a Limit,
    options: &'a EvalOptions,
    /// Signature of every atom.
    atom_signature: Vec<Signature>,
    /// Signature of every limit scalar.
    scalar_signature: Vec<Signature>,
    /// The data scalar of an `InitScalar` instruction read from a constant per member.
    data_of: FxHashMap<usize, usize>,
    /// Last use of the arrays shared by integrand.
    integrand_last_use: FxHashMap<ExprId, usize>,
    /// Group data of each initial atom: (group data, member).
    atom_group: Vec<Option<(usize, usize)>>,
    /// The integrand of every ZHat covariance entry, by `(later atom, earlier atom)`.
    covariance_integrand: FxHashMap<(AtomId, AtomId), ExprId>,
    /// Whether each group with data has a nonzero mean somewhere.
    group_has_mean: Vec<bool>,
    /// Mean and covariance of initial atoms of groups without data (fully unrolled groups).
    plain_law: FxHashMap<(AtomId, AtomId), f64>,
    plain_mean: FxHashMap<AtomId, f64>,
    /// The tasks in evaluation order.
    order: Vec<Task>,
    /// Computed arrays.
    arrays: FxHashMap<Task, Arc<Array>>,
    /// Arrays by integrand, for sharing.
    by_integrand: FxHashMap<ExprId, Arc<Array>>,
    /// Arrays of an integrand times a scale (`σ² E[x y]` of the ZHat covariances of every
    /// kernel tap of a convolution reading one pair), by integrand and the scale's bits.
    scaled_integrand: FxHashMap<ExprId, Vec<(u64, Arc<Array>)>>,
    /// Position in `order` of each task's last use.
    last_use: FxHashMap<Task, usize>,
    /// The block of the output computed, if not all of it.
    tile: Option<Tile>,
    /// `θ = arccos ρ` of every pair of the last law a relu/step kernel map read: the kernels
    /// of one layer (`E[relu relu]`, `E[step step]`) share it.
    angles: Mutex<Option<(AngleKey, Arc<Vec<f64>>)>>,
    /// Buffers of freed arrays, reused (a fresh buffer costs a page fault per 4 KiB).
    pool: Mutex<Vec<Vec<f64>>>,
    notes: Mutex<Vec<super::Note>>,
    /// The pair templates evaluated together, entry by entry.
    fusion: fusion::FusionPlan,
}

impl<'a> ArrayEvaluator<'a> {
    fn new(
        program: &'a Program,
        parallel: &'a ParallelSpaces,
        limit: &'a Limit,
        options: &'a EvalOptions,
    ) -> Result<Self, FamilyError> {
        let group_of: FxHashMap<usize, usize> = parallel
            .groups
            .iter()
            .enumerate()
            .map(|(k, g)| (g.group.index(), k))
            .collect();
        let mut atom_group = Vec::with_capacity(limit.atoms.len());
        let mut plain_law = FxHashMap::default();
        let mut plain_mean = FxHashMap::default();
        for eq in &limit.equations {
            if let EquationKind::Initial {
                atoms,
                mean,
                covariance,
            } = &eq.kind
            {
                if group_of.contains_key(&eq.instruction) {
                    continue;
                }
                let k = atoms.len();
                for (i, &a) in atoms.iter().enumerate() {
                    plain_mean.insert(a, mean[i]);
                    for (j, &b) in atoms.iter().enumerate() {
                        plain_law.insert((a, b), covariance[i * k + j]);
                    }
                }
            }
        }
        let (atom_signature, scalar_signature) = signatures(limit, parallel, &group_of);
        let data_of: FxHashMap<usize, usize> = parallel
            .data_scalars
            .iter()
            .enumerate()
            .map(|(k, d)| (d.instruction, k))
            .collect();
        for atom in &limit.atoms {
            atom_group.push(match &atom.kind {
                AtomKind::Initial { group, member } => {
                    group_of.get(&group.index()).map(|&g| (g, *member as usize))
                }
                AtomKind::Hat { .. } => None,
            });
        }
        let mut e = ArrayEvaluator {
            program,
            parallel,
            limit,
            options,
            atom_signature,
            scalar_signature,
            data_of,
            integrand_last_use: FxHashMap::default(),
            atom_group,
            covariance_integrand: limit
                .families
                .iter()
                .flat_map(|f| &f.covariance)
                .map(|c| ((c.a.max(c.b), c.a.min(c.b)), c.integrand))
                .collect(),
            group_has_mean: parallel
                .groups
                .iter()
                .map(|g| g.mean.iter().any(|&x| x != 0.0))
                .collect(),
            plain_law,
            plain_mean,
            order: Vec::new(),
            arrays: FxHashMap::default(),
            by_integrand: FxHashMap::default(),
            scaled_integrand: FxHashMap::default(),
            last_use: FxHashMap::default(),
            tile: None,
            angles: Mutex::new(None),
            pool: Mutex::new(Vec::new()),
            notes: Mutex::new(Vec::new()),
            fusion: fusion::FusionPlan::default(),
        };
        e.plan();
        e.plan_fusion();
        Ok(e)
    }

    /// The tasks in program order, and the last use of each.
    fn plan(&mut self) {
        let limit = self.limit;
        let mut zdot: FxHashMap<usize, Vec<ScalarId>> = FxHashMap::default();
        for (i, s) in limit.scalars.iter().enumerate() {
            if !matches!(s.role, crate::limit::ScalarRole::Instruction(_)) {
                zdot.entry(s.role.instruction())
                    .or_default()
                    .push(ScalarId(i as u32));
            }
        }
        for eq in &limit.equations {
            match &eq.kind {
                EquationKind::MatMul { hat, new_atom, .. } => {
                    if *new_atom {
                        let family = limit.family_of(*hat).expect("a ZHat atom");
                        for entry in family.covariance.iter().filter(|c| c.a == *hat) {
                            self.order.push(Task::Covariance(entry.a, entry.b));
                        }
                    }
                    for &s in zdot.get(&eq.instruction).into_iter().flatten() {
                        self.order.push(Task::Scalar(s));
                    }
                }
                EquationKind::InitialScalar { scalar } | EquationKind::Scalar { scalar } => {
                    self.order.push(Task::Scalar(*scalar))
                }
                _ => {}
            }
        }
        let order = self.order.clone();
        for (position, task) in order.iter().enumerate() {
            for dependency in self.dependencies(*task) {
                self.last_use.insert(dependency, position);
            }
        }
        let end = order.len();
        for &s in &limit.outputs {
            self.last_use.insert(Task::Scalar(s), end);
        }
        for (position, task) in order.iter().enumerate() {
            let integrand = match *task {
                Task::Scalar(s) => match limit.scalars[s.0 as usize].definition {
                    ScalarDefinition::Expectation(e) => Some(e),
                    _ => None,
                },
                Task::Covariance(..) => self.expression(*task),
            };
            if let Some(e) = integrand {
                let last = self.last_use.get(task).copied().unwrap_or(position);
                let entry = self.integrand_last_use.entry(e).or_insert(last);
                *entry = (*entry).max(last);
            }
        }
    }

    /// The expression a task integrates or computes.
    fn expression(&self, task: Task) -> Option<ExprId> {
        match task {
            Task::Scalar(s) => match self.limit.scalars[s.0 as usize].definition {
                ScalarDefinition::Expectation(e) | ScalarDefinition::Deterministic(e) => Some(e),
                _ => None,
            },
            Task::Covariance(a, b) => self.covariance_integrand.get(&(a, b)).copied(),
        }
    }

    /// The arrays a task reads: scalars of its expression, and the covariances of its atoms.
    fn dependencies(&self, task: Task) -> Vec<Task> {
        let Some(e) = self.expression(task) else {
            return Vec::new();
        };
        let arena = &self.limit.arena;
        let mut out: Vec<Task> = arena.scalars(e).into_iter().map(Task::Scalar).collect();
        // Only atoms of one ZHat family have a covariance task: pairs are formed per family
        // (a pooled convolution reads a thousand atoms of nine families).
        let mut by_family: FxHashMap<usize, Vec<AtomId>> = FxHashMap::default();
        for a in arena.atoms(e) {
            if let AtomKind::Hat { family, .. } = self.limit.atoms[a.0 as usize].kind {
                by_family.entry(family).or_default().push(a);
            }
        }
        let mut families: Vec<(usize, Vec<AtomId>)> = by_family.into_iter().collect();
        families.sort_unstable_by_key(|(f, _)| *f);
        for (_, atoms) in &families {
            for &a in atoms {
                for &b in atoms {
                    out.extend(self.hat_covariance_task(a, b));
                }
            }
        }
        out
    }

    fn hat_covariance_task(&self, a: AtomId, b: AtomId) -> Option<Task> {
        let fa = match self.limit.atoms[a.0 as usize].kind {
            AtomKind::Hat { family, .. } => family,
            _ => return None,
        };
        match self.limit.atoms[b.0 as usize].kind {
            AtomKind::Hat { family, .. } if family == fa => {
                let (x, y) = if a >= b { (a, b) } else { (b, a) };
                Some(Task::Covariance(x, y))
            }
            _ => None,
        }
    }

    fn signature_of_expression(&self, e: ExprId) -> Signature {
        let arena = &self.limit.arena;
        let mut sig = Vec::new();
        for a in arena.atoms(e) {
            sig.extend(self.atom_signature[a.0 as usize].iter().copied());
        }
        for s in arena.scalars(e) {
            sig.extend(self.scalar_signature[s.0 as usize].iter().copied());
        }
        sig.sort_unstable();
        sig.dedup();
        sig
    }

    fn name(&self, task: Task) -> (String, Span) {
        let instruction = match task {
            Task::Scalar(s) => self.limit.scalars[s.0 as usize].role.instruction(),
            Task::Covariance(a, _) => self.limit.atoms[a.0 as usize].instruction,
        };
        let span = self.program.instructions[instruction].span;
        let name = match task {
            Task::Scalar(_) => self.limit.names[instruction].clone(),
            Task::Covariance(..) => {
                format!("the covariance of {}'s ZHat", self.limit.names[instruction])
            }
        };
        (name, span)
    }

    fn run(&mut self) -> Result<(), FamilyError> {
        let order = self.order.clone();
        // What expires at each position, so that freeing costs what it frees (a convolution
        // has tens of thousands of templates alive at once).
        let mut expiring: FxHashMap<usize, Vec<Task>> = FxHashMap::default();
        for (&t, &u) in &self.last_use {
            expiring.entry(u).or_default().push(t);
        }
        let mut expiring_integrands: FxHashMap<usize, Vec<ExprId>> = FxHashMap::default();
        for (&e, &u) in &self.integrand_last_use {
            expiring_integrands.entry(u).or_default().push(e);
        }
        for (position, &task) in order.iter().enumerate() {
            let segments: Vec<usize> = self.fusion.segments_before(position).collect();
            let sweep = !segments.is_empty();
            for k in segments {
                self.run_segment(k)?;
            }
            if !self.fusion.is_fused(task) {
                let mut array = self.task(task)?;
                if let Some(a) = Arc::get_mut(&mut array) {
                    self.drop_zero_errors(a);
                }
                self.arrays.insert(task, array);
            }
            // Free what is no longer needed: what expires here, the task itself if nothing
            // reads it later, and after a fused segment (which stores templates of earlier
            // positions) whatever has expired.
            let mut freed: Vec<Arc<Array>> = Vec::new();
            let last_use = &self.last_use;
            let integrand_last_use = &self.integrand_last_use;
            if sweep {
                self.arrays.retain(|t, a| {
                    let live = last_use.get(t).is_some_and(|&u| u > position);
                    if !live {
                        freed.push(a.clone());
                    }
                    live
                });
                self.by_integrand.retain(|e, a| {
                    let live = integrand_last_use.get(e).is_some_and(|&u| u > position);
                    if !live {
                        freed.push(a.clone());
                    }
                    live
                });
                self.scaled_integrand.retain(|e, a| {
                    let live = integrand_last_use.get(e).is_some_and(|&u| u > position);
                    if !live {
                        freed.extend(a.iter().map(|(_, a)| a.clone()));
                    }
                    live
                });
            } else {
                let own = (!last_use.get(&task).is_some_and(|&u| u > position)).then_some(task);
                for t in expiring.get(&position).into_iter().flatten().chain(&own) {
                    freed.extend(self.arrays.remove(t));
                }
                for e in expiring_integrands.get(&position).into_iter().flatten() {
                    freed.extend(self.by_integrand.remove(e));
                    let scaled = self.scaled_integrand.remove(e).into_iter().flatten();
                    freed.extend(scaled.map(|(_, a)| a));
                }
            }
            for array in freed {
                if let Ok(array) = Arc::try_unwrap(array) {
                    self.recycle(array.values);
                    if !array.errors.is_empty() {
                        self.recycle(array.errors);
                    }
                }
            }
        }
        let segments: Vec<usize> = self.fusion.segments_before(order.len()).collect();
        for k in segments {
            self.run_segment(k)?;
        }
        Ok(())
    }

    fn task(&mut self, task: Task) -> Result<Arc<Array>, FamilyError> {
        let limit = self.limit;
        let (name, span) = self.name(task);
        match task {
            Task::Scalar(s) => match limit.scalars[s.0 as usize].definition {
                ScalarDefinition::Given(_)
                    if self
                        .data_of
                        .contains_key(&limit.scalars[s.0 as usize].role.instruction()) =>
                {
                    self.data_array(s, &name)
                }
                ScalarDefinition::Given(v) => Ok(Arc::new(Array {
                    signature: Vec::new(),
                    sizes: Vec::new(),
                    values: vec![v],
                    errors: vec![0.0],
                    method: Used::Given,
                    has_errors: false,
                })),
                ScalarDefinition::Deterministic(e) => self.deterministic(e, &name, span),
                ScalarDefinition::Expectation(e) => self.shared_expectation(e, 1.0, &name, span),
                ScalarDefinition::SteinSolution { .. } => Err(FamilyError::Unsupported(
                    "a Ż by the Stein form is not evaluated as an array yet".into(),
                )),
                ScalarDefinition::ExpectedDerivative { .. } => Err(FamilyError::Unsupported(
                    "a Ż coefficient left unexpanded is not evaluated".into(),
                )),
            },
            Task::Covariance(a, _) => {
                let sigma2 = limit.family_of(a).expect("a ZHat atom").sigma2;
                let integrand = self.expression(task).expect("a covariance entry");
                self.shared_expectation(integrand, sigma2, &name, span)
            }
        }
    }

    fn new_array(&self, signature: Signature, name: &str) -> Result<Array, FamilyError> {
        let sizes: Vec<usize> = signature
            .iter()
            .map(|&(s, _)| self.parallel.spaces[s].size)
            .collect();
        let entries = sizes.iter().try_fold(1usize, |a, &b| a.checked_mul(b));
        match entries {
            Some(n) if n <= MAX_ARRAY_ENTRIES => Ok(Array {
                signature,
                values: self.buffer(n),
                errors: self.buffer(n),
                sizes,
                method: Used::Given,
                has_errors: false,
            }),
            _ => Err(FamilyError::TooLarge(format!(
                "{name} would be an array of {} entries, above the limit of {MAX_ARRAY_ENTRIES}",
                sizes
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(" × ")
            ))),
        }
    }

    /// Whether an entry of a template is needed for the tile (always, without one).
    fn active(&self, tuple: &[usize]) -> bool {
        match &self.tile {
            None => true,
            Some(tile) => tile.admits(tuple.iter().copied()),
        }
    }

    /// Gives back the error buffer of an array whose errors are all zero.
    fn drop_zero_errors(&self, array: &mut Array) {
        if !array.has_errors && !array.errors.is_empty() {
            let errors = std::mem::take(&mut array.errors);
            self.recycle(errors);
        }
    }

    /// Keeps a freed buffer for reuse, up to a few: more would only hold memory.
    fn recycle(&self, buffer: Vec<f64>) {
        const KEPT: usize = 4;
        let mut pool = self.pool.lock().expect("no panic");
        pool.push(buffer);
        if pool.len() > KEPT {
            // Drop the smallest: large buffers save the most page faults.
            let smallest = (0..pool.len())
                .min_by_key(|&i| pool[i].capacity())
                .expect("not empty");
            pool.swap_remove(smallest);
        }
    }

    /// A buffer of `n` numbers, reusing a freed one where one is large enough. Its entries
    /// are NaN or left over from a freed array: only the entries a template stands for are
    /// ever written and read.
    fn buffer(&self, n: usize) -> Vec<f64> {
        let mut pool = self.pool.lock().expect("no panic");
        // By capacity, not length: a large buffer that served a small array keeps its pages.
        let best = pool
            .iter()
            .enumerate()
            .filter(|(_, b)| b.capacity() >= n)
            .min_by_key(|(_, b)| b.capacity())
            .map(|(i, _)| i);
        match best {
            Some(i) => {
                let mut buffer = pool.swap_remove(i);
                buffer.resize(n, f64::NAN);
                buffer
            }
            // Touched in parallel: the first write of each page is a page fault.
            None => (0..n).into_par_iter().map(|_| f64::NAN).collect(),
        }
    }

    /// `scale · E[e]`, sharing the array of an identical integrand.
    fn shared_expectation(
        &mut self,
        e: ExprId,
        scale: f64,
        name: &str,
        span: Span,
    ) -> Result<Arc<Array>, FamilyError> {
        let base = match self.by_integrand.get(&e) {
            Some(a) => a.clone(),
            None => {
                let mut a = self.expectation(e, name, span)?;
                self.drop_zero_errors(&mut a);
                let a = Arc::new(a);
                self.by_integrand.insert(e, a.clone());
                a
            }
        };
        if scale == 1.0 {
            return Ok(base);
        }
        let bits = scale.to_bits();
        let known = self.scaled_integrand.get(&e).into_iter().flatten();
        if let Some((_, a)) = known.into_iter().find(|(b, _)| *b == bits) {
            return Ok(a.clone());
        }
        let mut values = self.buffer(base.values.len());
        values
            .par_iter_mut()
            .zip(&base.values)
            .for_each(|(v, b)| *v = scale * b);
        let mut errors = Vec::new();
        if !base.errors.is_empty() {
            errors = self.buffer(base.errors.len());
            errors
                .par_iter_mut()
                .zip(&base.errors)
                .for_each(|(v, b)| *v = scale.abs() * b);
        }
        let scaled = Arc::new(Array {
            signature: base.signature.clone(),
            sizes: base.sizes.clone(),
            values,
            errors,
            method: base.method,
            has_errors: base.has_errors,
        });
        self.scaled_integrand
            .entry(e)
            .or_default()
            .push((bits, scaled.clone()));
        Ok(scaled)
    }

    /// Fills `array` entry by entry, in parallel over its first dimension.
    fn fill(&self, array: &mut Array, entry: &EntryFn) -> Result<(), FamilyError> {
        if array.sizes.is_empty() {
            let (v, err, used) = entry(&[])?;
            array.values[0] = v;
            array.errors[0] = err;
            array.method = used;
            array.has_errors = err != 0.0;
            return Ok(());
        }
        let sizes = array.sizes.clone();
        let signature = array.signature.clone();
        let strides = Array::strides(&sizes);
        let worst: Mutex<(Used, bool)> = Mutex::new((Used::Given, false));
        let row = |(first, (values, errors)): (usize, (&mut [f64], &mut [f64]))| -> Result<(), EvalError> {
                let mut tuple = vec![0usize; sizes.len()];
                tuple[0] = first;
                let mut method = Used::Given;
                let mut any_error = false;
                let mut visit = |tuple: &[usize]| -> Result<(), EvalError> {
                    if !self.active(tuple) {
                        return Ok(());
                    }
                    let offset: usize = (1..tuple.len()).map(|p| tuple[p] * strides[p]).sum();
                    let (v, err, used) = entry(tuple)?;
                    values[offset] = v;
                    errors[offset] = err;
                    method = method.max(used);
                    any_error |= err != 0.0;
                    Ok(())
                };
                increasing_tuples(&mut tuple, 1, &sizes, &signature, &mut visit)?;
                let mut w = worst.lock().expect("no panic");
                *w = (w.0.max(method), w.1 || any_error);
                Ok(())
            };
        // A small array is filled on this thread: handing a few entries to the pool costs more
        // than computing them (a convolution has thousands of templates of N entries).
        if array.values.len() < SMALL_ARRAY {
            let rows = array.values.chunks_mut(strides[0]);
            rows.zip(array.errors.chunks_mut(strides[0]))
                .enumerate()
                .try_for_each(row)?;
        } else {
            array
                .values
                .par_chunks_mut(strides[0])
                .zip(array.errors.par_chunks_mut(strides[0]))
                .enumerate()
                .try_for_each(row)?;
        }
        (array.method, array.has_errors) = worst.into_inner().expect("no panic");
        Ok(())
    }

    /// A deterministic expression of scalars, entry by entry, with first-order error propagation.
    fn deterministic(
        &mut self,
        e: ExprId,
        name: &str,
        span: Span,
    ) -> Result<Arc<Array>, FamilyError> {
        let arena = &self.limit.arena;
        // A copy (`NNGP[i, j] = Sigma[3, i, j]`) shares the array.
        if let Node::Scalar(s) = arena.node(e) {
            return Ok(self.arrays[&Task::Scalar(*s)].clone());
        }
        let signature = self.signature_of_expression(e);
        let mut array = self.new_array(signature.clone(), name)?;
        let whole = arena.scalars(e).iter().all(|s| {
            let sig = &self.scalar_signature[s.0 as usize];
            sig.is_empty() || *sig == signature
        });
        if whole {
            self.whole_array_deterministic(e, &mut array, name, span)?;
            return Ok(Arc::new(array));
        }
        let tape = Tape::compile(arena, &[e]);
        let inputs: Vec<(Arc<Array>, Projection)> = tape
            .scalars()
            .iter()
            .map(|s| {
                let a = self.arrays[&Task::Scalar(*s)].clone();
                let p = Projection::new(&signature, &a.signature, &a.sizes);
                (a, p)
            })
            .collect();
        let method = inputs
            .iter()
            .map(|(a, _)| a.method)
            .max()
            .unwrap_or(Used::Given);
        let entry = |tuple: &[usize]| -> Result<(f64, f64, Used), EvalError> {
            SCRATCH.with(|cell| {
                let (scalars, shifted, scratch) = &mut *cell.borrow_mut();
                scalars.clear();
                scalars.extend(inputs.iter().map(|(a, p)| a.values[p.index(tuple)]));
                let mut out = [0.0];
                tape.eval(&[], scalars, scratch, &mut out);
                let value = out[0];
                let mut error = 0.0;
                for (k, (a, p)) in inputs.iter().enumerate() {
                    let err = a.error(p.index(tuple));
                    if err > 0.0 {
                        shifted.clear();
                        shifted.extend_from_slice(scalars);
                        shifted[k] += err;
                        tape.eval(&[], shifted, scratch, &mut out);
                        error += (out[0] - value).abs();
                    }
                }
                check_finite(value, name, span, tuple)?;
                Ok((value, error, method))
            })
        };
        self.fill(&mut array, &entry)?;
        Ok(Arc::new(array))
    }

    /// A deterministic expression whose scalars are numbers or arrays of its own signature,
    /// node by node over whole arrays; errors by first-order propagation, one pass per input
    /// with a nonzero error.
    fn whole_array_deterministic(
        &self,
        e: ExprId,
        array: &mut Array,
        name: &str,
        span: Span,
    ) -> Result<(), FamilyError> {
        let arena = &self.limit.arena;
        let inputs: Vec<(ScalarId, Arc<Array>)> = arena
            .scalars(e)
            .into_iter()
            .map(|s| (s, self.arrays[&Task::Scalar(s)].clone()))
            .collect();
        let program = ColumnProgram::new(arena, e);
        // Over one chunk of entries; `shift` adds an input's error.
        let chunk = |offset: usize, out: &mut [f64], shift: Option<ScalarId>| {
            let len = out.len();
            let input = |s: ScalarId| {
                let a = &inputs.iter().find(|(t, _)| *t == s).expect("an input").1;
                let shifted = shift == Some(s);
                match (a.values.len() == 1, shifted) {
                    (true, false) => Column::Number(a.values[0]),
                    (true, true) => Column::Number(a.values[0] + a.error(0)),
                    (false, false) => Column::Slice(&a.values[offset..offset + len]),
                    (false, true) => Column::Owned(
                        a.values[offset..offset + len]
                            .iter()
                            .zip(&a.errors[offset..offset + len])
                            .map(|(v, e)| v + e)
                            .collect(),
                    ),
                }
            };
            program.eval(&input, out);
        };
        // The entries to compute: for a template over two members of one space, the pairs
        // `i < j` of each row; otherwise everything, in chunks.
        let pairs = array.signature.len() == 2 && array.signature[0].0 == array.signature[1].0;
        let n = array.sizes.first().copied().unwrap_or(1);
        const CHUNK: usize = 4096;
        let segment = if pairs { n } else { CHUNK };
        let range = |k: usize, len: usize| if pairs { (k + 1).min(len)..len } else { 0..len };
        let mut values = std::mem::take(&mut array.values);
        values
            .par_chunks_mut(segment)
            .enumerate()
            .for_each(|(k, out)| {
                let r = range(k, out.len());
                chunk(k * segment + r.start, &mut out[r], None)
            });
        let mut errors = std::mem::take(&mut array.errors);
        let has_errors = inputs.iter().any(|(_, a)| a.has_errors);
        if has_errors {
            errors.par_iter_mut().for_each(|x| *x = 0.0);
        }
        for (s, _) in inputs.iter().filter(|(_, a)| a.has_errors) {
            errors
                .par_chunks_mut(segment)
                .zip(values.par_chunks(segment))
                .enumerate()
                .for_each(|(k, (err, value))| {
                    let r = range(k, err.len());
                    let mut shifted = vec![0.0; r.len()];
                    chunk(k * segment + r.start, &mut shifted, Some(*s));
                    for ((e, v), w) in err[r.clone()].iter_mut().zip(&value[r]).zip(&shifted) {
                        *e += (w - v).abs();
                    }
                });
        }
        // Only the entries a template stands for are checked (the others hold anything).
        if pairs {
            values
                .par_chunks(n)
                .enumerate()
                .try_for_each(|(i, row)| -> Result<(), EvalError> {
                    for (j, &v) in row.iter().enumerate().skip(i + 1) {
                        if self.active(&[i, j]) {
                            check_finite(v, name, span, &[i, j])?;
                        }
                    }
                    Ok(())
                })?;
        } else {
            let mut tuple = vec![0usize; array.sizes.len()];
            let strides = Array::strides(&array.sizes);
            let sizes = array.sizes.clone();
            let signature = array.signature.clone();
            let mut check = |t: &[usize]| -> Result<(), EvalError> {
                if !self.active(t) {
                    return Ok(());
                }
                let i: usize = t.iter().zip(&strides).map(|(a, b)| a * b).sum();
                check_finite(values[i], name, span, t)
            };
            increasing_tuples(&mut tuple, 0, &sizes, &signature, &mut check)?;
        }
        array.has_errors = has_errors;
        array.values = values;
        array.errors = errors;
        array.method = inputs
            .iter()
            .map(|(_, a)| a.method)
            .max()
            .unwrap_or(Used::Given);
        Ok(())
    }

    /// A scalar read from a constant at its members' indices, over every tuple of members.
    fn data_array(&self, s: ScalarId, name: &str) -> Result<Arc<Array>, FamilyError> {
        let instruction = self.limit.scalars[s.0 as usize].role.instruction();
        let data = &self.parallel.data_scalars[self.data_of[&instruction]];
        let signature = self.scalar_signature[s.0 as usize].clone();
        let mut array = self.new_array(signature.clone(), name)?;
        let entry = |tuple: &[usize]| -> Result<(f64, f64, Used), EvalError> {
            let index: Vec<usize> = data
                .index
                .iter()
                .map(|part| match *part {
                    ir::DataIndex::Fixed(i) => i,
                    ir::DataIndex::Member { space, rep } => {
                        let position = signature
                            .iter()
                            .position(|&x| x == (space, rep))
                            .expect("a member of the signature");
                        tuple[position]
                    }
                })
                .collect();
            Ok((data.data[IxDyn(&index)], 0.0, Used::Given))
        };
        self.fill(&mut array, &entry)?;
        array.errors.clear();
        Ok(Arc::new(array))
    }

    /// Whether two atoms may be correlated, whatever the members: the same atom, atoms of one
    /// ZHat family, or members of one initial group with a dense (or nonzero) covariance.
    fn may_correlate(&self, a: AtomId, b: AtomId) -> bool {
        if a == b {
            return true;
        }
        let (ka, kb) = (
            &self.limit.atoms[a.0 as usize].kind,
            &self.limit.atoms[b.0 as usize].kind,
        );
        match (ka, kb) {
            (AtomKind::Hat { family: f, .. }, AtomKind::Hat { family: g, .. }) => f == g,
            (AtomKind::Initial { group: g, .. }, AtomKind::Initial { group: h, .. }) => {
                if g != h {
                    return false;
                }
                match self.atom_group[a.0 as usize] {
                    Some((k, _)) => !matches!(
                        self.parallel.groups[k].covariance,
                        ir::GroupCovariance::Iid(_)
                    ),
                    None => self.plain_law.get(&(a, b)).copied().unwrap_or(0.0) != 0.0,
                }
            }
            _ => false,
        }
    }

    /// `E[e]` as an array.
    fn expectation(&mut self, e: ExprId, name: &str, span: Span) -> Result<Array, FamilyError> {
        let arena = &self.limit.arena;
        let signature = self.signature_of_expression(e);
        if let Some(kernel) = self.pairwise_kernel(e, &signature) {
            return self.pairwise(&kernel, signature, name, span);
        }
        let mut array = self.new_array(signature.clone(), name)?;
        // Linearity, then products split into blocks of possibly correlated atoms.
        let (mut constant, terms): (f64, Vec<(ExprId, f64)>) = match arena.node(e) {
            Node::Sum { constant, terms } => (*constant, terms.to_vec()),
            _ => (0.0, vec![(e, 1.0)]),
        };
        let mut products: Vec<(f64, Vec<(ExprId, f64)>)> = terms
            .into_iter()
            .map(|(t, c)| match arena.node(t) {
                Node::Product { factors } => (c, factors.to_vec()),
                _ => (c, vec![(t, 1.0)]),
            })
            .collect();
        let mut blocks: Vec<Vec<Vec<(ExprId, f64)>>> =
            products.iter().map(|(_, f)| self.blocks(f)).collect();
        // A block of more than two atoms that is not a function of at most two combinations of
        // them (a pooled layer: a product of sums over positions) is multiplied out first, as
        // the scalar evaluator does, when the expansion is small enough: each product then
        // integrates the fewest atoms.
        let wide = |b: &Vec<(ExprId, f64)>| {
            let mut atoms: Vec<AtomId> = b.iter().flat_map(|(f, _)| arena.atoms(*f)).collect();
            atoms.sort_unstable();
            atoms.dedup();
            atoms.len() > 2
                && !forms::combination_calls(arena, b, &atoms, &|_| 1.0)
                    .is_some_and(|(_, combinations)| combinations.len() <= 2)
        };
        if self.options.method != Method::Mc && blocks.iter().flatten().any(wide) {
            if let Some(monomials) = expand::expand(arena, e, &|_| None, ARRAY_MAX_TERMS) {
                constant = 0.0;
                products = monomials.into_iter().map(|(m, c)| (c, m)).collect();
                blocks = products.iter().map(|(_, f)| self.blocks(f)).collect();
            }
        }
        let plan_terms: Vec<(f64, Vec<BlockPlan>)> = products
            .iter()
            .zip(blocks)
            .map(|((c, _), blocks)| {
                let plans = blocks
                    .into_iter()
                    .map(|b| self.block_plan(b, &signature))
                    .collect();
                (*c, plans)
            })
            .collect();
        let projected = |b: &BlockPlan| matches!(b.kind, BlockKind::Projected(_));
        if arena.scalars(e).is_empty() && plan_terms.iter().flat_map(|(_, b)| b).all(projected) {
            self.fill_projected(&mut array, &plan_terms, constant, name, span)?;
            return Ok(array);
        }
        let scalar_inputs: Vec<(ScalarId, Arc<Array>, Projection)> = arena
            .scalars(e)
            .into_iter()
            .map(|s| {
                let a = self.arrays[&Task::Scalar(s)].clone();
                let p = Projection::new(&signature, &a.signature, &a.sizes);
                (s, a, p)
            })
            .collect();
        let this = &*self;
        let entry = |tuple: &[usize]| -> Result<(f64, f64, Used), EvalError> {
            let scalar = |s: ScalarId| -> Value {
                let (_, a, p) = scalar_inputs
                    .iter()
                    .find(|(t, _, _)| *t == s)
                    .expect("a scalar of the integrand");
                let i = p.index(tuple);
                Value {
                    value: a.values[i],
                    error: a.error(i),
                    method: a.method,
                }
            };
            let scalar_error: f64 = scalar_inputs
                .iter()
                .map(|(s, _, _)| scalar(*s).error)
                .filter(|e| e.is_finite())
                .sum();
            let mut value = constant;
            let mut error = 0.0;
            let mut method = scalar_inputs
                .iter()
                .map(|(_, a, _)| a.method)
                .max()
                .unwrap_or(Used::Exact)
                .max(Used::Exact);
            for (c, blocks) in &plan_terms {
                let mut v: f64 = 1.0;
                let mut err = 0.0;
                for block in blocks {
                    let b = this.block_value(block, tuple, &signature, &scalar, name, span)?;
                    err = err * b.value.abs() + b.error * v.abs();
                    v *= b.value;
                    method = method.max(b.method);
                }
                value += c * v;
                error += c.abs() * err;
            }
            check_finite(value, name, span, tuple)?;
            Ok((value, error + scalar_error, method))
        };
        self.fill(&mut array, &entry)?;
        Ok(array)
    }

    /// Recognizes `E[f(α Ẑ_a) g(β Ẑ_b)]` over two ZHat atoms of one family standing for two
    /// members of one space, with `f, g` a pair the closed-form tables cover: the kernel map of
    /// a layer, evaluated by one tight loop over the pairs.
    fn pairwise_kernel(&self, e: ExprId, signature: &Signature) -> Option<PairwiseKernel> {
        let shape = self.kernel_shape(e, signature)?;
        let law = match self.pair_law_source(shape.a, shape.b)? {
            PairLawSource::Covariances { aa, bb, ab } => PairLaw::Arrays {
                aa: self.arrays[&aa].clone(),
                bb: self.arrays[&bb].clone(),
                ab: self.arrays[&ab].clone(),
            },
            PairLawSource::Group(law) => law,
        };
        let map = match closed_form_pair(shape.f, shape.g) {
            Some(map) => PairMap::Closed(map),
            None => self.smooth_map(shape.f, shape.alpha, shape.g, shape.beta, &law)?,
        };
        Some(PairwiseKernel {
            map,
            alpha: shape.alpha,
            beta: shape.beta,
            a_first: shape.a_first,
            law,
        })
    }

    /// The form `E[f(α Ẑ_a) g(β Ẑ_b)]` of an integrand over two atoms standing for one member
    /// each of one space, its signature two representatives of that space; its law is not read.
    fn kernel_shape(&self, e: ExprId, signature: &Signature) -> Option<KernelShape> {
        let arena = &self.limit.arena;
        let Node::Product { factors } = arena.node(e) else {
            return None;
        };
        if factors.len() != 2 || factors.iter().any(|&(_, p)| p != 1.0) {
            return None;
        }
        if !arena.scalars(e).is_empty() {
            return None;
        }
        let call = |f: ExprId| -> Option<((Builtin, u32), AtomId, f64)> {
            let (f, order, arg) = match arena.node(f) {
                Node::Apply { f, order, arg } => (*f, *order, *arg),
                // A bare atom (or a multiple of one): the identity.
                Node::Atom(_) | Node::Sum { .. } => (Builtin::Id, 0, f),
                _ => return None,
            };
            let (atom, coefficient) = match arena.node(arg) {
                Node::Atom(a) => (*a, 1.0),
                Node::Sum { constant, terms } if *constant == 0.0 && terms.len() == 1 => {
                    match arena.node(terms[0].0) {
                        Node::Atom(a) => (*a, terms[0].1),
                        _ => return None,
                    }
                }
                _ => return None,
            };
            Some(((f, order), atom, coefficient))
        };
        let (f, a, alpha) = call(factors[0].0)?;
        let (g, b, beta) = call(factors[1].0)?;
        let (sa, sb) = (
            &self.atom_signature[a.0 as usize],
            &self.atom_signature[b.0 as usize],
        );
        if a == b || sa.len() != 1 || sb.len() != 1 || sa[0].0 != sb[0].0 || sa[0] == sb[0] {
            return None;
        }
        if signature.len() != 2 || !signature.contains(&sa[0]) || !signature.contains(&sb[0]) {
            return None;
        }
        Some(KernelShape {
            f,
            g,
            a,
            b,
            alpha,
            beta,
            a_first: sa[0] < sb[0],
        })
    }

    /// The Mehler-series kernel map of two smooth functions over the members' variances (one
    /// table when both sides have the same variances, as a layer's two members do).
    fn smooth_map(
        &self,
        f: (Builtin, u32),
        alpha: f64,
        g: (Builtin, u32),
        beta: f64,
        law: &PairLaw,
    ) -> Option<PairMap> {
        let n = match law {
            PairLaw::Arrays { aa, .. } => aa.values.len(),
            PairLaw::Group { .. } => self.parallel.spaces.first()?.size,
        };
        let variance = |side: usize, m: usize| -> f64 {
            let (qa, qb, _, _) = law.at(m, m, 0);
            if side == 0 {
                alpha * qa * alpha
            } else {
                beta * qb * beta
            }
        };
        let va: Vec<f64> = (0..n).map(|m| variance(0, m)).collect();
        let vb: Vec<f64> = (0..n).map(|m| variance(1, m)).collect();
        let (variances, b_offset) = if va == vb {
            (va, 0)
        } else {
            ([va, vb].concat(), n)
        };
        let map = super::kernel_map::SmoothKernelMap::new(f, g, &variances).ok()?;
        Some(PairMap::Smooth {
            map: Box::new(map),
            b_offset,
        })
    }

    /// Where the joint law of two centered atoms standing for one member each is: the
    /// covariance tasks of a ZHat family, or the data of an initial group.
    fn pair_law_source(&self, a: AtomId, b: AtomId) -> Option<PairLawSource> {
        let cov = |x: AtomId, y: AtomId| self.hat_covariance_task(x, y);
        if let (Some(aa), Some(bb), Some(ab)) = (cov(a, a), cov(b, b), cov(a, b)) {
            return Some(PairLawSource::Covariances { aa, bb, ab });
        }
        let (Some((g, m)), Some((h, k))) =
            (self.atom_group[a.0 as usize], self.atom_group[b.0 as usize])
        else {
            return None;
        };
        let data = &self.parallel.groups[g];
        if g != h || data.mean.iter().any(|&x| x != 0.0) {
            return None;
        }
        let line = |m: usize| match data.rows[m].terms[..] {
            [(_, _, stride)] => Some((data.rows[m].offset, stride)),
            _ => None,
        };
        Some(PairLawSource::Group(PairLaw::Group {
            covariance: data.covariance.clone(),
            a: line(m)?,
            b: line(k)?,
        }))
    }

    /// The kernel map of [`Self::pairwise_kernel`] over every pair `i < j`, in parallel over rows.
    fn pairwise(
        &self,
        kernel: &PairwiseKernel,
        signature: Signature,
        name: &str,
        span: Span,
    ) -> Result<Array, FamilyError> {
        let mut array = self.new_array(signature, name)?;
        let n = array.sizes[0];
        let PairwiseKernel {
            map,
            alpha,
            beta,
            a_first,
            law,
        } = kernel;
        let scaled =
            |q1: f64, q2: f64, c: f64| (alpha * q1 * alpha, beta * q2 * beta, alpha * c * beta);
        // One loop per map, so that the map is inlined into it.
        macro_rules! closed {
            ($f:expr) => {
                self.pair_loop(
                    &mut array,
                    *a_first,
                    law,
                    name,
                    span,
                    |_, _, _, q1, q2, c| {
                        let (q1, q2, c) = scaled(q1, q2, c);
                        ($f(q1, q2, c), 0.0)
                    },
                )
            };
        }
        // The arc-cosine kernels, from the angles their layer shares.
        macro_rules! with_angle {
            ($theta:expr, $f:expr) => {
                self.pair_loop(
                    &mut array,
                    *a_first,
                    law,
                    name,
                    span,
                    |_, _, k, q1, q2, c| {
                        let (q1, q2, c) = scaled(q1, q2, c);
                        let (root, rho) = arc_cosine::correlation_or_none(q1, q2, c);
                        ($f(root, rho, $theta[k]), 0.0)
                    },
                )
            };
        }
        match map {
            PairMap::Closed(ClosedPair::ReluRelu) => {
                let theta = self.angles(kernel, n);
                with_angle!(theta, arc_cosine::relu_relu_from_angle)
            }
            PairMap::Closed(ClosedPair::StepStep) => {
                let theta = self.angles(kernel, n);
                with_angle!(theta, |root, _, theta| {
                    arc_cosine::step_step_from_angle(root, theta)
                })
            }
            PairMap::Closed(pair) => closed!(|q1, q2, c| pair.without_angle(q1, q2, c)),
            PairMap::Smooth { map, b_offset } => self.pair_loop(
                &mut array,
                *a_first,
                law,
                name,
                span,
                |ia, ib, _, _, _, c| map.pair(ia, b_offset + ib, alpha * c * beta),
            ),
        }?;
        array.method = match map {
            PairMap::Closed(_) => Used::ClosedForm,
            PairMap::Smooth { .. } => Used::Quadrature,
        };
        Ok(array)
    }

    /// `θ = arccos ρ` of every pair `i < j` (entry `i·n + j`) of a kernel's law, from the
    /// cache when the previous relu/step kernel read the same law with the same scales.
    fn angles(&self, kernel: &PairwiseKernel, n: usize) -> Arc<Vec<f64>> {
        let key = AngleKey::of(kernel);
        let mut cache = self.angles.lock().expect("no panic");
        if let Some((k, theta)) = cache.as_ref() {
            if *k == key {
                return theta.clone();
            }
        }
        // The previous layer's angles are not needed again: their buffer serves this layer
        // (a fresh n² buffer costs a page fault per 512 entries).
        if let Some((old_key, old_theta)) = cache.take() {
            drop(old_key);
            if let Ok(buffer) = Arc::try_unwrap(old_theta) {
                self.recycle(buffer);
            }
        }
        let (alpha, beta, law) = (kernel.alpha, kernel.beta, &kernel.law);
        // Entries outside the pairs written below hold anything; they are never read (the
        // kernels read an angle only where `correlation` gave one, as here).
        let mut theta = self.buffer(n * n);
        theta.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
            for (j, t) in row.iter_mut().enumerate().skip(i + 1) {
                if self.tile.is_some() && !self.active(&[i, j]) {
                    continue;
                }
                let (ia, ib) = if kernel.a_first { (i, j) } else { (j, i) };
                let (qa, qb, c, _) = law.at(ia, ib, i * n + j);
                let (q1, q2, c) = (alpha * qa * alpha, beta * qb * beta, alpha * c * beta);
                if let Some((_, rho)) = crate::eval::closed_form::correlation(q1, q2, c) {
                    *t = arc_cosine::arccos(rho);
                }
            }
        });
        let theta = Arc::new(theta);
        *cache = Some((key, theta.clone()));
        theta
    }

    /// Fills the pairs `i < j` of `array` with `map(ia, ib, k, Var a, Var b, Cov(a, b))`, where
    /// `a` stands for member `ia` and `b` for `ib` and `k = i·n + j`, in parallel over rows; the
    /// error of an entry is the map's own plus those of the covariances it read.
    #[allow(clippy::too_many_arguments)]
    fn pair_loop(
        &self,
        array: &mut Array,
        a_first: bool,
        law: &PairLaw,
        name: &str,
        span: Span,
        map: impl Fn(usize, usize, usize, f64, f64, f64) -> (f64, f64) + Sync,
    ) -> Result<(), FamilyError> {
        let n = array.sizes[0];
        let any_error = std::sync::atomic::AtomicBool::new(false);
        let tiled = self.tile.is_some();
        array
            .values
            .par_chunks_mut(n)
            .zip(array.errors.par_chunks_mut(n))
            .enumerate()
            .try_for_each(|(i, (values, errors))| -> Result<(), EvalError> {
                let mut row_error = false;
                for j in i + 1..n {
                    if tiled && !self.active(&[i, j]) {
                        continue;
                    }
                    let (ia, ib) = if a_first { (i, j) } else { (j, i) };
                    let k = i * n + j;
                    let (qa, qb, cab, law_error) = law.at(ia, ib, k);
                    let (v, bound) = map(ia, ib, k, qa, qb, cab);
                    if !v.is_finite() {
                        return Err(not_finite(v, name, span, &[i, j]));
                    }
                    values[j] = v;
                    errors[j] = bound + law_error;
                    row_error |= errors[j] != 0.0;
                }
                if row_error {
                    any_error.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                Ok(())
            })?;
        array.has_errors = any_error.into_inner();
        Ok(())
    }

    /// Groups factors into blocks of possibly correlated atoms.
    fn blocks(&self, factors: &[(ExprId, f64)]) -> Vec<Vec<(ExprId, f64)>> {
        let arena = &self.limit.arena;
        let atoms: Vec<Vec<AtomId>> = factors.iter().map(|(f, _)| arena.atoms(*f)).collect();
        forms::blocks(factors.len(), |i, j| {
            atoms[i]
                .iter()
                .any(|&a| atoms[j].iter().any(|&b| self.may_correlate(a, b)))
        })
        .into_iter()
        .map(|block| block.into_iter().map(|i| factors[i]).collect())
        .collect()
    }

    /// Decides once how a block is evaluated on every entry.
    fn block_plan(&self, factors: Vec<(ExprId, f64)>, signature: &Signature) -> BlockPlan {
        let arena = &self.limit.arena;
        let roots: Vec<ExprId> = factors.iter().map(|(f, _)| *f).collect();
        let mut atoms: Vec<AtomId> = roots.iter().flat_map(|&f| arena.atoms(f)).collect();
        atoms.sort_unstable();
        atoms.dedup();
        // Scalars with a signature vary by entry: such blocks take the generic path, where the
        // entry's own scalar values are used.
        let varying = roots.iter().any(|&r| {
            arena
                .scalars(r)
                .iter()
                .any(|s| !self.scalar_signature[s.0 as usize].is_empty())
        });
        let global = |s: ScalarId| -> f64 {
            self.arrays
                .get(&Task::Scalar(s))
                .map_or(f64::NAN, |a| a.values[0])
        };
        let k = atoms.len();
        let position = |a: AtomId| atoms.iter().position(|&b| b == a);
        let mut kind = BlockKind::Generic;
        if k == 0 {
            kind = BlockKind::Constant;
        } else if !varying && self.options.method != Method::Mc {
            if let Some(p) = self.projected_plan(&factors, &atoms, signature, &global) {
                return BlockPlan {
                    factors,
                    atoms,
                    law: Vec::new(),
                    kind: BlockKind::Projected(p),
                };
            }
            if factors.iter().all(|(_, e)| e.fract() == 0.0 && *e >= 0.0) {
                let polynomials: Option<Vec<polynomial::Polynomial>> = factors
                    .iter()
                    .map(|&(f, _)| polynomial::expand(arena, f, &position, &global))
                    .collect();
                if let Some(p) = polynomials
                    .and_then(|p| polynomial::product(&p, factors.iter().map(|(_, e)| *e as u32)))
                {
                    kind = BlockKind::Polynomial(p);
                }
            }
            if matches!(kind, BlockKind::Generic) {
                if let Some(calls) = forms::calls(arena, &factors, k, &position, &global) {
                    kind = BlockKind::ClosedForm(calls);
                }
            }
        }
        BlockPlan {
            law: self.law_plan(&atoms, signature),
            factors,
            atoms,
            kind,
        }
    }

    /// How to read the law of some atoms at an entry.
    fn law_plan(&self, atoms: &[AtomId], signature: &Signature) -> Vec<LawSource> {
        let mut out = Vec::with_capacity(atoms.len() * atoms.len());
        for &a in atoms {
            for &b in atoms {
                out.push(self.law_source(a, b, signature));
            }
        }
        out
    }

    fn law_source(&self, a: AtomId, b: AtomId, signature: &Signature) -> LawSource {
        if let Some(task) = self.hat_covariance_task(a, b) {
            let array = self.arrays[&task].clone();
            let projection = Projection::new(signature, &array.signature, &array.sizes);
            return LawSource::Array(array, projection);
        }
        match (self.atom_group[a.0 as usize], self.atom_group[b.0 as usize]) {
            (Some((g, m)), Some((h, p))) if g == h => LawSource::Group(
                g,
                self.row_plan(g, m, signature),
                self.row_plan(g, p, signature),
            ),
            (None, None) => LawSource::Fixed(self.plain_law.get(&(a, b)).copied().unwrap_or(0.0)),
            _ => LawSource::Fixed(0.0),
        }
    }

    /// One covariance of a block's law at an entry, with its error.
    fn law_value(&self, source: &LawSource, tuple: &[usize]) -> (f64, f64) {
        match source {
            LawSource::Fixed(v) => (*v, 0.0),
            LawSource::Group(g, r, s) => (
                self.parallel.groups[*g]
                    .covariance
                    .get(r.row(tuple), s.row(tuple)),
                0.0,
            ),
            LawSource::Array(array, p) => {
                let i = p.index(tuple);
                (array.values[i], array.error(i).abs())
            }
        }
    }

    /// Where a group member's actual row is, given the entry's tuple.
    fn row_plan(&self, group: usize, member: usize, signature: &Signature) -> RowPlan {
        let row = &self.parallel.groups[group].rows[member];
        RowPlan {
            offset: row.offset,
            terms: row
                .terms
                .iter()
                .map(|&(s, r, stride)| {
                    let position = signature
                        .iter()
                        .position(|&x| x == (s, r))
                        .expect("an atom's representatives are in its user's signature");
                    (position, stride)
                })
                .collect(),
        }
    }

    fn atom_mean(&self, a: AtomId, tuple: &[usize], signature: &Signature) -> f64 {
        match self.atom_group[a.0 as usize] {
            Some((g, m)) => {
                let data: &GroupData = &self.parallel.groups[g];
                data.mean[self.row_plan(g, m, signature).row(tuple)]
            }
            None => self.plain_mean.get(&a).copied().unwrap_or(0.0),
        }
    }

    /// One block's expectation at one entry.
    fn block_value(
        &self,
        block: &BlockPlan,
        tuple: &[usize],
        signature: &Signature,
        scalar: &dyn Fn(ScalarId) -> Value,
        name: &str,
        span: Span,
    ) -> Result<Value, EvalError> {
        let k = block.atoms.len();
        let arena = &self.limit.arena;
        if let BlockKind::Projected(p) = &block.kind {
            if let Some((value, error)) = self.projected_value(p, tuple) {
                return Ok(Value {
                    value,
                    error,
                    method: Used::ClosedForm,
                });
            }
        }
        if let BlockKind::Constant = block.kind {
            let mut value = 1.0;
            for &(f, e) in &block.factors {
                value *= crate::ir::power(arena.eval(f, |_| f64::NAN, |s| scalar(s).value), e);
            }
            return Ok(Value {
                value,
                error: 0.0,
                method: Used::Exact,
            });
        }
        let mut cov = [0.0f64; 16];
        let mut cov_heap;
        let cov: &mut [f64] = if k * k <= 16 {
            &mut cov[..k * k]
        } else {
            cov_heap = vec![0.0; k * k];
            &mut cov_heap
        };
        let mut error = 0.0;
        // A projected block keeps only the sums of its combinations' law: the whole law is
        // planned here, where the closed form did not apply.
        let planned;
        let law = match block.law.is_empty() {
            true => {
                planned = self.law_plan(&block.atoms, signature);
                &planned
            }
            false => &block.law,
        };
        for (slot, source) in cov.iter_mut().zip(law) {
            let (value, e) = self.law_value(source, tuple);
            error += e;
            *slot = value;
        }
        let mut mean_stack = [0.0f64; 4];
        let mut mean_heap;
        let mean: &mut [f64] = if k <= 4 {
            &mut mean_stack[..k]
        } else {
            mean_heap = vec![0.0; k];
            &mut mean_heap
        };
        for (m, &a) in mean.iter_mut().zip(&block.atoms) {
            *m = self.atom_mean(a, tuple, signature);
        }
        let mean: &[f64] = mean;
        match &block.kind {
            BlockKind::Polynomial(p) => {
                return Ok(Value {
                    value: polynomial::expectation(p, mean, cov),
                    error,
                    method: Used::Exact,
                })
            }
            BlockKind::ClosedForm(calls) => {
                let moments = Moments {
                    mean,
                    covariance: cov,
                };
                if let Some(value) = forms::closed_form(calls, &moments) {
                    return Ok(Value {
                        value,
                        error,
                        method: Used::ClosedForm,
                    });
                }
            }
            _ => {}
        }
        let scalars: Vec<(ScalarId, Value)> = block
            .factors
            .iter()
            .flat_map(|&(f, _)| arena.scalars(f))
            .map(|s| (s, scalar(s)))
            .collect();
        let (value, notes) = block_expectation(
            self.limit,
            self.options,
            &block.factors,
            &block.atoms,
            mean,
            cov,
            &scalars,
            name,
            span,
        )?;
        if !notes.is_empty() {
            self.notes.lock().expect("no panic").extend(notes);
        }
        Ok(Value {
            value: value.value,
            error: value.error + error,
            method: value.method,
        })
    }

    /// The program's outputs as scalars and dense family arrays.
    fn outputs(&self) -> Result<Vec<OutputValue>, FamilyError> {
        let program = self.program;
        let mut member_of: FxHashMap<usize, (usize, usize)> = FxHashMap::default();
        for (f, family) in program.families.iter().enumerate() {
            for (m, (_, instruction)) in family.members.iter().enumerate() {
                member_of.insert(*instruction, (f, m));
            }
        }
        let mut out = Vec::new();
        let mut done_families: Vec<usize> = Vec::new();
        for (k, output) in program.outputs.iter().enumerate() {
            let scalar = self.limit.outputs[k];
            match member_of.get(&output.index()) {
                None => {
                    let a = &self.arrays[&Task::Scalar(scalar)];
                    out.push(OutputValue::Scalar {
                        name: program.display_name(output.index()),
                        value: Value {
                            value: a.values[0],
                            error: a.error(0),
                            method: a.method,
                        },
                    });
                }
                Some(&(f, _)) => {
                    if done_families.contains(&f) {
                        continue;
                    }
                    done_families.push(f);
                    out.push(OutputValue::Family(self.family_output(f)?));
                }
            }
        }
        Ok(out)
    }

    /// A family output over its actual index ranges.
    fn family_output(&self, f: usize) -> Result<FamilyValue, FamilyError> {
        let program = self.program;
        let family = &program.families[f];
        let dims = self
            .parallel
            .family_dims
            .get(&family.name)
            .cloned()
            .unwrap_or_default();
        let rank = dims.len();
        let mut start = vec![i64::MAX; rank];
        let mut end = vec![i64::MIN; rank];
        for (index, _) in &family.members {
            for p in 0..rank {
                start[p] = start[p].min(index[p]);
                end[p] = end[p].max(index[p] + 1);
            }
        }
        let mut tiled_dims = 0;
        for (p, d) in dims.iter().enumerate() {
            if let Some(space) = d {
                let range = match (&self.tile, tiled_dims) {
                    (None, _) => 0..self.parallel.spaces[*space].size,
                    (Some(tile), 0) if dims.iter().flatten().count() == 1 => {
                        tile.rows.start.min(tile.cols.start)..tile.rows.end.max(tile.cols.end)
                    }
                    (Some(tile), 0) => tile.rows.clone(),
                    (Some(tile), _) => tile.cols.clone(),
                };
                tiled_dims += 1;
                start[p] = range.start as i64;
                end[p] = range.end.max(range.start) as i64;
            }
        }
        let shape: Vec<usize> = (0..rank).map(|p| (end[p] - start[p]) as usize).collect();
        let total: usize = shape.iter().product();
        if total > MAX_ARRAY_ENTRIES {
            return Err(FamilyError::TooLarge(format!(
                "the output {} would be an array of {total} entries, above the limit of \
                 {MAX_ARRAY_ENTRIES}",
                family.name
            )));
        }
        let scalar_of_instruction: FxHashMap<usize, ScalarId> = self
            .limit
            .outputs
            .iter()
            .zip(&program.outputs)
            .map(|(s, o)| (o.index(), *s))
            .collect();
        let mut values = vec![f64::NAN; total];
        // Zeros from the allocator: the pages of an error array nobody writes (every template
        // exact) are never touched; entries no member covers get NaN at the end.
        let mut errors = vec![0.0; total];
        let mut method = Used::Given;
        let strides = Array::strides(&shape);
        // Each member stands for every actual tuple whose members, ranked within each space,
        // are its representatives: enumerate those tuples.
        for (index, instruction) in &family.members {
            let Some(&scalar) = scalar_of_instruction.get(instruction) else {
                continue;
            };
            let mut reps: Signature = (0..rank)
                .filter_map(|p| dims[p].map(|space| (space, index[p] as usize)))
                .collect();
            reps.sort_unstable();
            reps.dedup();
            let contiguous = reps
                .iter()
                .enumerate()
                .all(|(k, &(space, r))| r == reps[..k].iter().filter(|x| x.0 == space).count());
            if !contiguous {
                continue;
            }
            let array = &self.arrays[&Task::Scalar(scalar)];
            let array_positions: Option<Vec<usize>> = array
                .signature
                .iter()
                .map(|rep| reps.iter().position(|x| x == rep))
                .collect();
            let Some(array_positions) = array_positions else {
                return Err(FamilyError::Unsupported(format!(
                    "{} depends on a member its index does not name",
                    family.name
                )));
            };
            let array_strides = Array::strides(&array.sizes);
            let dim_positions: Vec<Option<usize>> = (0..rank)
                .map(|p| {
                    dims[p].map(|space| {
                        reps.iter()
                            .position(|&x| x == (space, index[p] as usize))
                            .expect("a representative of the member")
                    })
                })
                .collect();
            let sizes: Vec<usize> = reps
                .iter()
                .map(|&(space, _)| self.parallel.spaces[space].size)
                .collect();
            let mut visit = |t: &[usize]| -> Result<(), EvalError> {
                if !self.active(t) {
                    return Ok(());
                }
                let mut flat = 0;
                for p in 0..rank {
                    let actual = match dim_positions[p] {
                        Some(k) => t[k] as i64,
                        None => index[p],
                    };
                    if actual < start[p] || actual >= end[p] {
                        return Ok(());
                    }
                    flat += (actual - start[p]) as usize * strides[p];
                }
                let i: usize = array_positions
                    .iter()
                    .zip(&array_strides)
                    .map(|(&k, &stride)| t[k] * stride)
                    .sum();
                values[flat] = array.values[i];
                errors[flat] = array.error(i);
                Ok(())
            };
            let mut tuple = vec![0; reps.len()];
            match (&self.tile, reps.len()) {
                // Whole rows at once: along the last member of the tuple, the output and the
                // array entries advance by fixed strides.
                (None, len @ 1..) => {
                    let last = len - 1;
                    let mut copy_row = |t: &[usize], along: std::ops::Range<usize>| {
                        let (mut from, mut to) = (along.start as i64, along.end as i64);
                        let (mut flat, mut flat_stride) = (0i64, 0i64);
                        for p in 0..rank {
                            let stride = strides[p] as i64;
                            match dim_positions[p] {
                                Some(k) if k == last => {
                                    from = from.max(start[p]);
                                    to = to.min(end[p]);
                                    flat -= start[p] * stride;
                                    flat_stride += stride;
                                }
                                position => {
                                    let actual = position.map_or(index[p], |k| t[k] as i64);
                                    if actual < start[p] || actual >= end[p] {
                                        return;
                                    }
                                    flat += (actual - start[p]) * stride;
                                }
                            }
                        }
                        let (mut i, mut i_stride) = (0usize, 0usize);
                        for (&k, &stride) in array_positions.iter().zip(&array_strides) {
                            if k == last {
                                i_stride += stride;
                            } else {
                                i += t[k] * stride;
                            }
                        }
                        let entries = (from.max(0)..to).map(|v| {
                            ((flat + v * flat_stride) as usize, i + v as usize * i_stride)
                        });
                        for (at, entry) in entries.clone() {
                            values[at] = array.values[entry];
                        }
                        if !array.errors.is_empty() {
                            for (at, entry) in entries {
                                errors[at] = array.errors[entry];
                            }
                        }
                    };
                    increasing_rows(&mut tuple, 0, &sizes, &reps, &mut copy_row);
                }
                _ => increasing_tuples(&mut tuple, 0, &sizes, &reps, &mut visit)?,
            }
            method = method.max(array.method);
        }
        for (value, error) in values.iter().zip(errors.iter_mut()) {
            if value.is_nan() {
                *error = f64::NAN;
            }
        }
        Ok(FamilyValue {
            name: family.name.to_string(),
            start,
            values: ArrayD::from_shape_vec(IxDyn(&shape), values).expect("shape fits"),
            errors: ArrayD::from_shape_vec(IxDyn(&shape), errors).expect("shape fits"),
            method,
        })
    }
}

/// How a [`PairwiseKernel`] maps a pair's law to its expectation.
enum PairMap {
    /// A closed form of `(q1, q2, c)`.
    Closed(ClosedPair),
    /// The Mehler series of smooth functions, with an error bound; the `b` side's variances
    /// start at `b_offset` in its table.
    Smooth {
        map: Box<super::kernel_map::SmoothKernelMap>,
        b_offset: usize,
    },
}

/// A recognized kernel map `E[f(α Ẑ_a) g(β Ẑ_b)]` with the covariance arrays it reads.
struct PairwiseKernel {
    map: PairMap,
    alpha: f64,
    beta: f64,
    /// Whether `a` stands for the lower member of each pair.
    a_first: bool,
    law: PairLaw,
}

/// What the angles of a kernel map depend on: its law (the covariance arrays or group data
/// themselves, held so that their memory cannot be reused by another array while cached) and
/// scales.
struct AngleKey {
    law: Vec<Arc<dyn std::any::Any + Send + Sync>>,
    rows: (usize, usize, usize, usize),
    a_first: bool,
    scales: (u64, u64),
}

impl PartialEq for AngleKey {
    fn eq(&self, other: &AngleKey) -> bool {
        self.law.len() == other.law.len()
            && self
                .law
                .iter()
                .zip(&other.law)
                .all(|(x, y)| Arc::ptr_eq(x, y))
            && self.rows == other.rows
            && self.a_first == other.a_first
            && self.scales == other.scales
    }
}

impl AngleKey {
    fn of(kernel: &PairwiseKernel) -> AngleKey {
        type Held = Arc<dyn std::any::Any + Send + Sync>;
        let (law, rows): (Vec<Held>, _) = match &kernel.law {
            PairLaw::Arrays { aa, bb, ab } => (
                vec![aa.clone() as Held, bb.clone() as Held, ab.clone() as Held],
                (0, 0, 0, 0),
            ),
            PairLaw::Group { covariance, a, b } => (
                match covariance {
                    ir::GroupCovariance::Dense(m) => vec![m.clone() as Held],
                    ir::GroupCovariance::Iid(v) => vec![Arc::new(v.to_bits()) as Held],
                },
                (a.0, a.1, b.0, b.1),
            ),
        };
        AngleKey {
            law,
            rows,
            a_first: kernel.a_first,
            scales: (kernel.alpha.to_bits(), kernel.beta.to_bits()),
        }
    }
}

/// The form of a kernel map `E[f(α Ẑ_a) g(β Ẑ_b)]`, `f` and `g` with their derivative orders.
struct KernelShape {
    f: (Builtin, u32),
    g: (Builtin, u32),
    a: AtomId,
    b: AtomId,
    alpha: f64,
    beta: f64,
    /// Whether `a` stands for the lower member of each pair.
    a_first: bool,
}

/// Where the law of a kernel map's two atoms comes from, before any array is computed.
enum PairLawSource {
    /// The ZHat covariance tasks `Var a`, `Var b` (per member) and `Cov(a, b)` (per pair).
    Covariances { aa: Task, bb: Task, ab: Task },
    /// The data of an initial group.
    Group(PairLaw),
}

/// The joint law of the two atoms of a [`PairwiseKernel`].
#[derive(Clone)]
enum PairLaw {
    /// ZHat atoms: `Var Ẑ_a`, `Var Ẑ_b` per member, `Cov` per pair.
    Arrays {
        aa: Arc<Array>,
        bb: Arc<Array>,
        ab: Arc<Array>,
    },
    /// Initial atoms: rows `offset + stride · member` of the group's covariance.
    Group {
        covariance: ir::GroupCovariance,
        a: (usize, usize),
        b: (usize, usize),
    },
}

impl PairLaw {
    /// `(Var a, Var b, Cov(a, b), error)` with `a` standing for member `ia`, `b` for `ib`;
    /// `pair` is the entry of the pair in a 2-D array.
    fn at(&self, ia: usize, ib: usize, pair: usize) -> (f64, f64, f64, f64) {
        match self {
            PairLaw::Arrays { aa, bb, ab } => (
                aa.values[ia],
                bb.values[ib],
                ab.values[pair],
                aa.error(ia).abs() + bb.error(ib).abs() + 2.0 * ab.error(pair).abs(),
            ),
            PairLaw::Group { covariance, a, b } => {
                let (ra, rb) = (a.0 + a.1 * ia, b.0 + b.1 * ib);
                (
                    covariance.get(ra, ra),
                    covariance.get(rb, rb),
                    covariance.get(ra, rb),
                    0.0,
                )
            }
        }
    }
}

/// The pairs `E[f(u) g(v)]` of zero-mean `(u, v)` the closed-form tables cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClosedPair {
    IdId,
    ReluRelu,
    StepStep,
    ReluStep,
    StepRelu,
    ErfErf,
    ErfPrime,
}

impl ClosedPair {
    /// `E[f(u) g(v)]` of the pairs whose closed form needs no shared angle (not relu·relu or
    /// step·step, which read `θ = arccos ρ` computed once per layer).
    fn without_angle(self, q1: f64, q2: f64, c: f64) -> f64 {
        use crate::eval::closed_form as cf;
        match self {
            ClosedPair::ReluStep => cf::relu_step(q1, q2, c),
            ClosedPair::StepRelu => cf::relu_step(q2, q1, c),
            ClosedPair::ErfErf => cf::erf_erf(q1, q2, c),
            ClosedPair::ErfPrime => cf::erf_prime_erf_prime(q1, q2, c),
            ClosedPair::IdId => c,
            ClosedPair::ReluRelu | ClosedPair::StepStep => {
                let (root, rho) = arc_cosine::correlation_or_none(q1, q2, c);
                let theta = arc_cosine::arccos(rho);
                match self {
                    ClosedPair::ReluRelu => arc_cosine::relu_relu_from_angle(root, rho, theta),
                    _ => arc_cosine::step_step_from_angle(root, theta),
                }
            }
        }
    }
}

/// The closed form of `E[f(u) g(v)]`, if the tables cover the pair.
fn closed_form_pair(f: (Builtin, u32), g: (Builtin, u32)) -> Option<ClosedPair> {
    use Builtin::{Erf, Id, Relu, Step};
    Some(match (f, g) {
        ((Id, 0), (Id, 0)) => ClosedPair::IdId,
        ((Relu, 0), (Relu, 0)) => ClosedPair::ReluRelu,
        ((Step, 0), (Step, 0)) => ClosedPair::StepStep,
        ((Relu, 0), (Step, 0)) => ClosedPair::ReluStep,
        ((Step, 0), (Relu, 0)) => ClosedPair::StepRelu,
        ((Erf, 0), (Erf, 0)) => ClosedPair::ErfErf,
        ((Erf, 1), (Erf, 1)) => ClosedPair::ErfPrime,
        _ => return None,
    })
}

/// How one block of an expectation is evaluated on every entry.
struct BlockPlan {
    factors: Vec<(ExprId, f64)>,
    atoms: Vec<AtomId>,
    /// Row-major sources of the block's covariance.
    law: Vec<LawSource>,
    kind: BlockKind,
}

enum BlockKind {
    /// No atoms: a product of scalars.
    Constant,
    /// A Gaussian polynomial (Isserlis).
    Polynomial(polynomial::Polynomial),
    /// relu/step/erf calls of affine forms, if the entry's law fits a closed form.
    ClosedForm(Vec<forms::Call>),
    /// Calls of at most two linear combinations of more atoms, in closed form on the
    /// combinations' law where it fits (else the generic path on the whole law).
    Projected(projected::ProjectedBlock),
    /// The scalar evaluator on the entry's marginal law.
    Generic,
}

/// Where one covariance entry of a block comes from.
enum LawSource {
    Fixed(f64),
    Group(usize, RowPlan, RowPlan),
    Array(Arc<Array>, Projection),
}

struct RowPlan {
    offset: usize,
    terms: Vec<(usize, usize)>,
}

impl RowPlan {
    fn row(&self, tuple: &[usize]) -> usize {
        self.offset + self.terms.iter().map(|&(p, s)| tuple[p] * s).sum::<usize>()
    }
}

/// Calls `visit` on every tuple that agrees with `tuple` before position `p`, with members
/// increasing within each space (the order of the signature's representatives).
fn increasing_tuples(
    tuple: &mut [usize],
    p: usize,
    sizes: &[usize],
    signature: &Signature,
    visit: &mut dyn FnMut(&[usize]) -> Result<(), EvalError>,
) -> Result<(), EvalError> {
    if p == tuple.len() {
        return visit(tuple);
    }
    let low = if p > 0 && signature[p].0 == signature[p - 1].0 {
        tuple[p - 1] + 1
    } else {
        0
    };
    for v in low..sizes[p] {
        tuple[p] = v;
        increasing_tuples(tuple, p + 1, sizes, signature, visit)?;
    }
    Ok(())
}

/// [`increasing_tuples`] a row at a time: calls `row` with the tuple's members but the last
/// set, and the range the last one runs over. `tuple` is not empty.
fn increasing_rows(
    tuple: &mut [usize],
    p: usize,
    sizes: &[usize],
    signature: &Signature,
    row: &mut dyn FnMut(&[usize], std::ops::Range<usize>),
) {
    let low = if p > 0 && signature[p].0 == signature[p - 1].0 {
        tuple[p - 1] + 1
    } else {
        0
    };
    if p + 1 == tuple.len() {
        return row(tuple, low..sizes[p].max(low));
    }
    for v in low..sizes[p] {
        tuple[p] = v;
        increasing_rows(tuple, p + 1, sizes, signature, row);
    }
}

/// The signatures of every atom and limit scalar: the representatives they depend on, through
/// initial atoms of groups with representative members.
fn signatures(
    limit: &Limit,
    parallel: &ParallelSpaces,
    group_of: &FxHashMap<usize, usize>,
) -> (Vec<Signature>, Vec<Signature>) {
    let arena = &limit.arena;
    let mut atoms: Vec<Signature> = vec![Vec::new(); limit.atoms.len()];
    let mut scalars: Vec<Signature> = vec![Vec::new(); limit.scalars.len()];
    for (k, scalar) in limit.scalars.iter().enumerate() {
        if let crate::limit::ScalarRole::Instruction(i) = scalar.role {
            if let Some(d) = parallel.data_scalars.iter().find(|d| d.instruction == i) {
                let mut sig: Signature = d
                    .index
                    .iter()
                    .filter_map(|p| match *p {
                        ir::DataIndex::Member { space, rep } => Some((space, rep)),
                        ir::DataIndex::Fixed(_) => None,
                    })
                    .collect();
                sig.sort_unstable();
                sig.dedup();
                scalars[k] = sig;
            }
        }
    }
    for (a, atom) in limit.atoms.iter().enumerate() {
        if let AtomKind::Initial { group, member } = &atom.kind {
            if let Some(&g) = group_of.get(&group.index()) {
                let mut sig: Signature = parallel.groups[g].rows[*member as usize]
                    .terms
                    .iter()
                    .map(|&(s, r, _)| (s, r))
                    .collect();
                sig.sort_unstable();
                sig.dedup();
                atoms[a] = sig;
            }
        }
    }
    let of_expression = |e: ExprId, atoms: &[Signature], scalars: &[Signature]| -> Signature {
        let mut sig: Signature = Vec::new();
        for a in arena.atoms(e) {
            sig.extend(atoms[a.0 as usize].iter().copied());
        }
        for s in arena.scalars(e) {
            sig.extend(scalars[s.0 as usize].iter().copied());
        }
        sig.sort_unstable();
        sig.dedup();
        sig
    };
    // Atoms and scalars refer to earlier ones of either kind: iterate to the fixed point.
    loop {
        let mut changed = false;
        for (a, atom) in limit.atoms.iter().enumerate() {
            if let AtomKind::Hat { arg_z, .. } = atom.kind {
                let sig = of_expression(arg_z, &atoms, &scalars);
                if sig != atoms[a] {
                    atoms[a] = sig;
                    changed = true;
                }
            }
        }
        for (s, scalar) in limit.scalars.iter().enumerate() {
            let sig = match scalar.definition {
                ScalarDefinition::Expectation(e) | ScalarDefinition::Deterministic(e) => {
                    of_expression(e, &atoms, &scalars)
                }
                _ => scalars[s].clone(),
            };
            if sig != scalars[s] {
                scalars[s] = sig;
                changed = true;
            }
        }
        if !changed {
            return (atoms, scalars);
        }
    }
}

#[inline]
fn check_finite(value: f64, name: &str, span: Span, tuple: &[usize]) -> Result<(), EvalError> {
    if value.is_finite() {
        return Ok(());
    }
    Err(not_finite(value, name, span, tuple))
}

/// The error for a value that is NaN or infinite, naming the members of its entry.
#[cold]
fn not_finite(value: f64, name: &str, span: Span, tuple: &[usize]) -> EvalError {
    let at = if tuple.is_empty() {
        String::new()
    } else {
        format!(
            " (members {})",
            tuple
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    EvalError::NotFinite {
        name: format!("{name}{at}"),
        span,
        value,
    }
}
