//! Fusing entry-local pair templates. A kernel recursion (`Σ^{l+1} = σw² E[φ(u)φ(v)] + σb²`,
//! `Θ^{l+1} = Σ^{l+1} + σw² E[φ'(u)φ'(v)] Θ^l`, layer after layer) is a chain of templates over
//! the pairs `i < j` of one space in which entry `[i, j]` of each reads only entry `[i, j]` of
//! the others, plus per-member variances computed before. Evaluated template by template,
//! every layer writes and reads several n × n arrays; fused, the whole chain runs entry by
//! entry (in chunks of a row) with its intermediate values in a small scratch buffer, and only
//! the templates read elsewhere (outputs, later non-fused work) are written as arrays.
//!
//! A template is fused when its signature is two representatives of one space and it is
//! whole-array arithmetic of same-signature or constant scalars, a copy of a fused template, or
//! a kernel map `E[f(α Ẑ_a) g(β Ẑ_b)]` with a closed form. Consecutive fused templates of one
//! signature form a *segment*, evaluated just before the first task that reads one of them
//! (or at the end). Each fused value is computed by the same arithmetic, in the same order, as
//! template by template, so the results are the same bits.

use super::arc_cosine::{
    arccos_slice, correlation_or_none, relu_relu_from_angle, step_step_from_angle,
};
use super::columns::{Column, ColumnProgram};
use super::{
    check_finite, closed_form_pair, Array, ArrayEvaluator, ClosedPair, FamilyError, PairLaw,
    PairLawSource, Signature, Task,
};
use crate::diagnostics::Span;
use crate::eval::{EvalError, Used};
use crate::limit::ScalarDefinition;
use crate::symbolic::{ExprId, Node, ScalarId};
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Entries of a row evaluated together: the scratch of a segment is slots × CHUNK numbers.
const CHUNK: usize = 256;

/// Which tasks are fused, how they group into segments, and when each segment runs.
#[derive(Default)]
pub(super) struct FusionPlan {
    /// The segment of each fused task.
    segment_of: FxHashMap<Task, usize>,
    /// The segments, in evaluation order.
    segments: Vec<Segment>,
}

/// Fused tasks of one signature, evaluated together.
struct Segment {
    signature: Signature,
    /// In evaluation order.
    tasks: Vec<Task>,
    /// The same tasks, to look up.
    members: FxHashSet<Task>,
    /// The position in the task order before which the segment runs (the order's length: at
    /// the end).
    runs_before: usize,
    /// The tasks read outside the segment, written as arrays.
    written: FxHashSet<Task>,
}

impl FusionPlan {
    /// Whether `task` is evaluated in a segment rather than on its own.
    pub(super) fn is_fused(&self, task: Task) -> bool {
        self.segment_of.contains_key(&task)
    }

    /// The segments that run just before position `position` of the task order.
    pub(super) fn segments_before(&self, position: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.segments.len()).filter(move |&k| self.segments[k].runs_before == position)
    }
}

/// How a fused template is computed.
enum Definition {
    /// The same values as another fused task.
    Copy(Task),
    /// Whole-array arithmetic of scalars.
    Arithmetic(ExprId),
    /// `scale · E[e]` by a closed-form kernel map.
    Kernel { integrand: ExprId, scale: f64 },
}

impl<'a> ArrayEvaluator<'a> {
    /// Plans fusion over the task order and extends the last use of every array a segment
    /// reads to the segment's run.
    pub(super) fn plan_fusion(&mut self) {
        let order = self.order.clone();
        let mut plan = FusionPlan::default();
        let mut open: Option<Segment> = None;
        let close = |plan: &mut FusionPlan, open: &mut Option<Segment>, at: usize| {
            if let Some(mut segment) = open.take() {
                segment.runs_before = at;
                let k = plan.segments.len();
                for &t in &segment.tasks {
                    plan.segment_of.insert(t, k);
                }
                plan.segments.push(segment);
            }
        };
        for (position, &task) in order.iter().enumerate() {
            let in_open = |t: &Task| open.as_ref().is_some_and(|s| s.members.contains(t));
            match self.fused_signature(task, &in_open) {
                Some(signature) => {
                    if open.as_ref().is_some_and(|s| s.signature != signature) {
                        close(&mut plan, &mut open, position);
                    }
                    let segment = open.get_or_insert_with(|| Segment {
                        signature,
                        tasks: Vec::new(),
                        members: FxHashSet::default(),
                        runs_before: usize::MAX,
                        written: FxHashSet::default(),
                    });
                    segment.tasks.push(task);
                    segment.members.insert(task);
                }
                None => {
                    if self.dependencies(task).iter().any(in_open) {
                        close(&mut plan, &mut open, position);
                    }
                }
            }
        }
        close(&mut plan, &mut open, order.len());
        // Written: outputs, and tasks read outside their segment.
        for &s in &self.limit.outputs {
            if let Some(&k) = plan.segment_of.get(&Task::Scalar(s)) {
                plan.segments[k].written.insert(Task::Scalar(s));
            }
        }
        for &task in &order {
            let reader = plan.segment_of.get(&task).copied();
            for d in self.dependencies(task) {
                if let Some(&k) = plan.segment_of.get(&d) {
                    if reader != Some(k) {
                        plan.segments[k].written.insert(d);
                    }
                }
            }
        }
        // What a segment reads from outside stays alive until it runs.
        for segment in &plan.segments {
            for &task in &segment.tasks {
                for d in self.dependencies(task) {
                    if !segment.members.contains(&d) {
                        let last = self.last_use.entry(d).or_insert(0);
                        *last = (*last).max(segment.runs_before);
                    }
                }
            }
        }
        self.fusion = plan;
    }

    /// The signature of `task` if it can be fused (`in_open`: whether a task is in the segment
    /// being formed).
    fn fused_signature(&self, task: Task, in_open: &dyn Fn(&Task) -> bool) -> Option<Signature> {
        let definition = self.definition(task, in_open)?;
        let e = match definition {
            Definition::Copy(source) => return self.fused_signature(source, in_open),
            Definition::Arithmetic(e) | Definition::Kernel { integrand: e, .. } => e,
        };
        let signature = self.signature_of_expression(e);
        let pair = signature.len() == 2 && signature[0].0 == signature[1].0;
        pair.then_some(signature)
    }

    /// How `task` would be computed fused, if it can be.
    fn definition(&self, task: Task, in_open: &dyn Fn(&Task) -> bool) -> Option<Definition> {
        let arena = &self.limit.arena;
        let (integrand, scale) = match task {
            Task::Scalar(s) => match self.limit.scalars[s.0 as usize].definition {
                ScalarDefinition::Deterministic(e) => {
                    if let Node::Scalar(source) = arena.node(e) {
                        let source = Task::Scalar(*source);
                        return in_open(&source).then_some(Definition::Copy(source));
                    }
                    let signature = self.signature_of_expression(e);
                    let whole = arena.scalars(e).iter().all(|s| {
                        let sig = &self.scalar_signature[s.0 as usize];
                        sig.is_empty() || *sig == signature
                    });
                    return (whole && arena.is_deterministic(e))
                        .then_some(Definition::Arithmetic(e));
                }
                ScalarDefinition::Expectation(e) => (e, 1.0),
                _ => return None,
            },
            Task::Covariance(a, _) => (self.expression(task)?, self.limit.family_of(a)?.sigma2),
        };
        let signature = self.signature_of_expression(integrand);
        let shape = self.kernel_shape(integrand, &signature)?;
        closed_form_pair(shape.f, shape.g)?;
        self.pair_law_source(shape.a, shape.b)?;
        Some(Definition::Kernel { integrand, scale })
    }

    /// Evaluates segment `k` and stores the arrays of its written tasks.
    pub(super) fn run_segment(&mut self, k: usize) -> Result<(), FamilyError> {
        let segment = &self.fusion.segments[k];
        let tasks = segment.tasks.clone();
        let written = segment.written.clone();
        let signature = segment.signature.clone();
        let members = segment.members.clone();
        let in_segment = |t: &Task| members.contains(t);
        let mut builder = Builder::default();
        for &task in &tasks {
            let definition = self
                .definition(task, &in_segment)
                .expect("planned as fused");
            let slot = self.compile(&mut builder, task, definition)?;
            builder.slot_of.insert(task, slot);
        }
        // The written tasks by slot (tasks of equal values share one).
        let mut written_at: FxHashMap<usize, Vec<Task>> = FxHashMap::default();
        for &t in &written {
            written_at.entry(builder.slot_of[&t]).or_default().push(t);
        }
        let mut outputs: Vec<usize> = written_at.keys().copied().collect();
        outputs.sort_unstable();
        let fused = builder.finish(&outputs);
        let n = self.parallel.spaces[signature[0].0].size;
        let mut arrays = Vec::with_capacity(outputs.len());
        for slot in &outputs {
            let task = written_at[slot][0];
            arrays.push(self.new_array(signature.clone(), &self.name(task).0)?);
        }
        let arrays = self.evaluate_fused(&fused, &outputs, arrays, n)?;
        for (slot, array) in outputs.iter().zip(arrays) {
            let array = Arc::new(array);
            for task in &written_at[slot] {
                self.arrays.insert(*task, array.clone());
            }
        }
        Ok(())
    }

    /// Adds the operations of one task; returns the slot holding its values.
    fn compile(
        &self,
        builder: &mut Builder,
        task: Task,
        definition: Definition,
    ) -> Result<usize, FamilyError> {
        let (name, span) = self.name(task);
        let limit: &'a crate::limit::Limit = self.limit;
        Ok(match definition {
            Definition::Copy(source) => builder.slot_of[&source],
            Definition::Arithmetic(e) => {
                let inputs: Vec<(ScalarId, usize)> = self
                    .limit
                    .arena
                    .scalars(e)
                    .into_iter()
                    .map(|s| (s, self.input_slot(builder, Task::Scalar(s))))
                    .collect();
                let method = inputs
                    .iter()
                    .map(|&(_, slot)| builder.slots[slot].method)
                    .max()
                    .unwrap_or(Used::Given);
                builder.push(
                    Slot::varying(method),
                    Op::Arithmetic {
                        program: ColumnProgram::new(&limit.arena, e),
                        inputs,
                        name,
                        span,
                    },
                )
            }
            Definition::Kernel { integrand, scale } => {
                let kernel = match builder.by_integrand.get(&integrand) {
                    Some(&slot) => slot,
                    None => {
                        let slot = self.compile_kernel(builder, integrand, name, span);
                        builder.by_integrand.insert(integrand, slot);
                        slot
                    }
                };
                if scale == 1.0 {
                    kernel
                } else if let Some(&slot) = builder.scaled.get(&(kernel, scale.to_bits())) {
                    // The ZHat covariances of every kernel tap of a convolution that read one
                    // pair: one slot, one written array.
                    slot
                } else {
                    let slot = builder.push(
                        Slot::varying(builder.slots[kernel].method),
                        Op::Scale {
                            from: kernel,
                            scale,
                        },
                    );
                    builder.scaled.insert((kernel, scale.to_bits()), slot);
                    slot
                }
            }
        })
    }

    fn compile_kernel(&self, builder: &mut Builder, e: ExprId, name: String, span: Span) -> usize {
        let signature = self.signature_of_expression(e);
        let shape = self
            .kernel_shape(e, &signature)
            .expect("planned as a kernel");
        let pair = closed_form_pair(shape.f, shape.g).expect("planned as a closed form");
        let law = match self.pair_law_source(shape.a, shape.b).expect("planned") {
            PairLawSource::Covariances { aa, bb, ab } => FusedLaw::Covariances {
                aa: self.arrays[&aa].clone(),
                bb: self.arrays[&bb].clone(),
                ab: self.input_slot(builder, ab),
            },
            PairLawSource::Group(law) => FusedLaw::Group(law),
        };
        let scaled = Scaled {
            alpha: shape.alpha,
            beta: shape.beta,
            a_first: shape.a_first,
        };
        let angle = matches!(pair, ClosedPair::ReluRelu | ClosedPair::StepStep).then(|| {
            let key = AngleKey::of(&law, &scaled);
            match builder.angles.iter().find(|(k, _)| *k == key) {
                Some(&(_, slot)) => slot,
                None => {
                    // `√(q1 q2)` (−1 where a variance is zero) and `ρ` beside `θ`: the maps
                    // of the layer read them rather than recomputing them.
                    let (s, rho) = (builder.side_slot(), builder.side_slot());
                    let theta = builder.push(
                        Slot::varying(Used::ClosedForm),
                        Op::Angle {
                            law: law.clone(),
                            scaled,
                            s,
                            rho,
                        },
                    );
                    builder.angles.push((key, (theta, s, rho)));
                    (theta, s, rho)
                }
            }
        });
        builder.push(
            Slot::varying(Used::ClosedForm),
            Op::Kernel {
                pair,
                law,
                scaled,
                angle,
                name,
                span,
            },
        )
    }

    /// The slot of a task a segment reads: its own slot if fused in it, else its array.
    fn input_slot(&self, builder: &mut Builder, task: Task) -> usize {
        if let Some(&slot) = builder.slot_of.get(&task) {
            return slot;
        }
        let array = self.arrays[&task].clone();
        if array.values.len() == 1 {
            let slot = Slot {
                number: Some((array.values[0], array.error(0))),
                method: array.method,
            };
            let k = builder.slots.len();
            builder.slots.push(slot);
            builder.slot_of.insert(task, k);
            return k;
        }
        let slot = builder.push(Slot::varying(array.method), Op::Read { array });
        builder.slot_of.insert(task, slot);
        slot
    }

    /// Runs the fused operations over every pair `i < j` (rows in parallel) and returns the
    /// arrays of the `outputs` slots.
    fn evaluate_fused(
        &self,
        fused: &Fused,
        outputs: &[usize],
        mut arrays: Vec<Array>,
        n: usize,
    ) -> Result<Vec<Array>, FamilyError> {
        let has_errors: Vec<AtomicBool> = outputs.iter().map(|_| AtomicBool::new(false)).collect();
        let mut rows: Vec<Vec<(&mut [f64], &mut [f64])>> = (0..n).map(|_| Vec::new()).collect();
        for array in arrays.iter_mut() {
            let (values, errors) = (&mut array.values, &mut array.errors);
            for (i, row) in values.chunks_mut(n).zip(errors.chunks_mut(n)).enumerate() {
                rows[i].push(row);
            }
        }
        let slots = fused.slots.len();
        rows.into_par_iter().enumerate().try_for_each_init(
            || Scratch::new(slots),
            |scratch, (i, mut row)| -> Result<(), EvalError> {
                let mut start = i + 1;
                while start < n {
                    let len = CHUNK.min(n - start);
                    let active: Vec<bool> =
                        (start..start + len).map(|j| self.active(&[i, j])).collect();
                    fused.run_chunk(scratch, i, start, len, n, &active)?;
                    for (k, &slot) in outputs.iter().enumerate() {
                        let (values, errors) = &mut row[k];
                        let mut any = false;
                        for (o, &on) in active.iter().enumerate() {
                            if on {
                                values[start + o] = scratch.value(slot)[o];
                                errors[start + o] = scratch.error(slot)[o];
                                any |= errors[start + o] != 0.0;
                            }
                        }
                        if any {
                            has_errors[k].store(true, Ordering::Relaxed);
                        }
                    }
                    start += len;
                }
                Ok(())
            },
        )?;
        for ((array, &slot), has_errors) in arrays.iter_mut().zip(outputs).zip(has_errors) {
            array.method = fused.slots[slot].method;
            array.has_errors = has_errors.into_inner();
            self.drop_zero_errors(array);
        }
        Ok(arrays)
    }
}

/// What a slot holds: one number for every entry (a scalar without members), or a value per
/// entry computed by an operation.
struct Slot {
    /// `(value, error)` of a number.
    number: Option<(f64, f64)>,
    method: Used,
}

impl Slot {
    fn varying(method: Used) -> Slot {
        Slot {
            number: None,
            method,
        }
    }
}

/// The scales and orientation of a kernel map.
#[derive(Clone, Copy)]
struct Scaled {
    alpha: f64,
    beta: f64,
    /// Whether `a` stands for the lower member of each pair.
    a_first: bool,
}

impl Scaled {
    /// The members `(a, b)` stand for at entry `[i, j]`.
    #[inline]
    fn members(&self, i: usize, j: usize) -> (usize, usize) {
        if self.a_first {
            (i, j)
        } else {
            (j, i)
        }
    }

    /// `(Var αa, Var βb, Cov(αa, βb))`.
    #[inline]
    fn law(&self, q1: f64, q2: f64, c: f64) -> (f64, f64, f64) {
        (
            self.alpha * q1 * self.alpha,
            self.beta * q2 * self.beta,
            self.alpha * c * self.beta,
        )
    }
}

/// The law of a fused kernel map's atoms.
#[derive(Clone)]
enum FusedLaw {
    /// Variances per member from arrays, the covariance per pair from a slot.
    Covariances {
        aa: Arc<Array>,
        bb: Arc<Array>,
        ab: usize,
    },
    /// An initial group's data.
    Group(PairLaw),
}

/// What the angles of a kernel map depend on, to share them between the maps of one layer.
#[derive(PartialEq)]
struct AngleKey {
    law: (usize, usize, usize),
    group: Option<(usize, usize, usize, usize)>,
    scales: (u64, u64),
    a_first: bool,
}

impl AngleKey {
    fn of(law: &FusedLaw, scaled: &Scaled) -> AngleKey {
        let (law, group) = match law {
            FusedLaw::Covariances { aa, bb, ab } => (
                (Arc::as_ptr(aa) as usize, Arc::as_ptr(bb) as usize, *ab),
                None,
            ),
            FusedLaw::Group(PairLaw::Group { a, b, .. }) => ((0, 0, 0), Some((a.0, a.1, b.0, b.1))),
            FusedLaw::Group(PairLaw::Arrays { .. }) => unreachable!("a group law"),
        };
        AngleKey {
            law,
            group,
            scales: (scaled.alpha.to_bits(), scaled.beta.to_bits()),
            a_first: scaled.a_first,
        }
    }
}

/// One fused operation; it fills the values and errors of its slot over a chunk.
enum Op {
    /// A template computed before, read from its array.
    Read { array: Arc<Array> },
    /// Whole-array arithmetic of `inputs` (scalar and slot).
    Arithmetic {
        program: ColumnProgram,
        inputs: Vec<(ScalarId, usize)>,
        name: String,
        span: Span,
    },
    /// `θ = arccos ρ` of a kernel map's law, shared by the relu and step maps of a layer;
    /// it also writes `√(q1 q2)` (−1 where a variance is zero) to slot `s` and `ρ` to `rho`.
    Angle {
        law: FusedLaw,
        scaled: Scaled,
        s: usize,
        rho: usize,
    },
    /// A closed-form kernel map.
    Kernel {
        pair: ClosedPair,
        law: FusedLaw,
        scaled: Scaled,
        /// The slots `(θ, √(q1 q2), ρ)` of the relu and step maps.
        angle: Option<(usize, usize, usize)>,
        name: String,
        span: Span,
    },
    /// `scale ·` another slot (a ZHat covariance `σ² E[…]`).
    Scale { from: usize, scale: f64 },
}

/// Operations being collected for a segment.
#[derive(Default)]
struct Builder {
    slots: Vec<Slot>,
    /// The operation of each varying slot.
    ops: Vec<(usize, Op)>,
    slot_of: FxHashMap<Task, usize>,
    by_integrand: FxHashMap<ExprId, usize>,
    /// The slot of a kernel's slot times a scale, by both (the scale's bits).
    scaled: FxHashMap<(usize, u64), usize>,
    angles: Vec<(AngleKey, (usize, usize, usize))>,
}

impl Builder {
    /// A slot written by the operation of another.
    fn side_slot(&mut self) -> usize {
        self.slots.push(Slot::varying(Used::ClosedForm));
        self.slots.len() - 1
    }

    fn push(&mut self, slot: Slot, op: Op) -> usize {
        let k = self.slots.len();
        self.slots.push(slot);
        self.ops.push((k, op));
        k
    }

    /// The operations the `outputs` need, in order.
    fn finish(self, outputs: &[usize]) -> Fused {
        let mut needed = vec![false; self.slots.len()];
        for &o in outputs {
            needed[o] = true;
        }
        for (slot, op) in self.ops.iter().rev() {
            if !needed[*slot] {
                continue;
            }
            let mut need = |s: usize| needed[s] = true;
            match op {
                Op::Read { .. } => {}
                Op::Arithmetic { inputs, .. } => inputs.iter().for_each(|&(_, s)| need(s)),
                Op::Angle { law, .. } => law.slots().for_each(&mut need),
                Op::Kernel { law, angle, .. } => {
                    law.slots().for_each(&mut need);
                    angle.iter().for_each(|&(theta, _, _)| need(theta));
                }
                Op::Scale { from, .. } => need(*from),
            }
        }
        let ops = self.ops.into_iter().filter(|(s, _)| needed[*s]).collect();
        Fused {
            slots: self.slots,
            ops,
        }
    }
}

impl FusedLaw {
    fn slots(&self) -> impl Iterator<Item = usize> {
        match self {
            FusedLaw::Covariances { ab, .. } => Some(*ab),
            FusedLaw::Group(_) => None,
        }
        .into_iter()
    }
}

/// A segment's operations, ready to run.
struct Fused {
    slots: Vec<Slot>,
    ops: Vec<(usize, Op)>,
}

/// Values and errors of every slot over one chunk, and the buffers of one operation.
struct Scratch {
    values: Vec<f64>,
    errors: Vec<f64>,
    out: Vec<f64>,
    shifted: Vec<f64>,
    /// The scaled law of a kernel map over the chunk: `Var αa`, `Var βb`, `Cov(αa, βb)`, and
    /// the error of the covariances it was read from.
    law: [Vec<f64>; 4],
}

impl Scratch {
    fn new(slots: usize) -> Scratch {
        Scratch {
            values: vec![0.0; slots * CHUNK],
            errors: vec![0.0; slots * CHUNK],
            out: vec![0.0; CHUNK],
            shifted: vec![0.0; CHUNK],
            law: std::array::from_fn(|_| vec![0.0; CHUNK]),
        }
    }

    #[inline]
    fn value(&self, slot: usize) -> &[f64] {
        &self.values[slot * CHUNK..(slot + 1) * CHUNK]
    }

    #[inline]
    fn error(&self, slot: usize) -> &[f64] {
        &self.errors[slot * CHUNK..(slot + 1) * CHUNK]
    }
}

/// Where a chunk `[i, start..start + len]` is in the rows of a row-major n × n array and in
/// the members of a kernel map.
#[derive(Clone, Copy)]
struct Place {
    i: usize,
    start: usize,
    len: usize,
}

impl Place {
    /// The entries of the chunk.
    fn columns(&self) -> std::ops::Range<usize> {
        self.start..self.start + self.len
    }
}

impl Scaled {
    /// Fills `out` with member values of a per-member array: member `i` everywhere if the
    /// fixed member stands for it, else the chunk's members.
    fn members_of(values: &[f64], fixed: bool, at: Place, out: &mut [f64]) {
        if fixed {
            out.fill(values[at.i]);
        } else {
            out.copy_from_slice(&values[at.columns()]);
        }
    }
}

impl FusedLaw {
    /// Writes the scaled law `(Var αa, Var βb, Cov(αa, βb))` over the chunk to `law[0..3]`
    /// if `need.values`, and the error of the covariances it read (`|e_aa| + |e_bb| +
    /// 2 |e_ab|`) to `law[3]` if `need.errors`.
    fn gather(
        &self,
        scaled: &Scaled,
        values: &[f64],
        errors: &[f64],
        at: Place,
        law: &mut [Vec<f64>; 4],
        need: Need,
    ) {
        let len = at.len;
        let [q1, q2, c, error] = law;
        let (q1, q2, c, error) = (
            &mut q1[..len],
            &mut q2[..len],
            &mut c[..len],
            &mut error[..len],
        );
        match self {
            FusedLaw::Covariances { aa, bb, ab } => {
                let slot = *ab * CHUNK..*ab * CHUNK + len;
                let (cv, ce) = (&values[slot.clone()], &errors[slot]);
                if need.values {
                    // `a` stands for the chunk's row member `i` when it is the lower member.
                    Scaled::members_of(&aa.values, scaled.a_first, at, q1);
                    Scaled::members_of(&bb.values, !scaled.a_first, at, q2);
                    let (alpha, beta) = (scaled.alpha, scaled.beta);
                    for k in 0..len {
                        q1[k] = alpha * q1[k] * alpha;
                        q2[k] = beta * q2[k] * beta;
                        c[k] = alpha * cv[k] * beta;
                    }
                }
                if !need.errors {
                    return;
                }
                // Errors: `|e_aa| + |e_bb| + 2 |e_ab|`, zero where an array stores none.
                let member_errors = |array: &Array, fixed: bool, out: &mut [f64]| {
                    if array.errors.is_empty() {
                        out.fill(0.0);
                    } else {
                        Scaled::members_of(&array.errors, fixed, at, out);
                    }
                };
                member_errors(aa, scaled.a_first, error);
                let mut eb = [0.0; CHUNK];
                member_errors(bb, !scaled.a_first, &mut eb[..len]);
                for k in 0..len {
                    error[k] = error[k].abs() + eb[k].abs() + 2.0 * ce[k].abs();
                }
            }
            FusedLaw::Group(law) => {
                for k in 0..len {
                    let (ia, ib) = scaled.members(at.i, at.start + k);
                    let (qa, qb, cab, e) = law.at(ia, ib, 0);
                    (q1[k], q2[k], c[k]) = scaled.law(qa, qb, cab);
                    error[k] = e;
                }
            }
        }
    }
}

/// What [`FusedLaw::gather`] writes.
#[derive(Clone, Copy)]
struct Need {
    values: bool,
    errors: bool,
}

impl Fused {
    /// Computes every operation at entries `[i, start..start + len]`; `active` says which
    /// entries a tile needs (only those are checked). Each operation is a few passes over
    /// the chunk without branches, which the compiler vectorizes.
    fn run_chunk(
        &self,
        scratch: &mut Scratch,
        i: usize,
        start: usize,
        len: usize,
        n: usize,
        active: &[bool],
    ) -> Result<(), EvalError> {
        let at = Place { i, start, len };
        for (slot, op) in &self.ops {
            let range = slot * CHUNK..slot * CHUNK + len;
            match op {
                Op::Read { array } => {
                    let from = i * n + start..i * n + start + len;
                    scratch.values[range.clone()].copy_from_slice(&array.values[from.clone()]);
                    if array.errors.is_empty() {
                        scratch.errors[range].fill(0.0);
                    } else {
                        scratch.errors[range].copy_from_slice(&array.errors[from]);
                    }
                }
                Op::Scale { from, scale } => {
                    let from = *from * CHUNK..*from * CHUNK + len;
                    for (k, o) in range.enumerate() {
                        let source = from.start + k;
                        scratch.values[o] = scale * scratch.values[source];
                        scratch.errors[o] = scale.abs() * scratch.errors[source];
                    }
                }
                Op::Angle {
                    law,
                    scaled,
                    s,
                    rho,
                } => {
                    let Scratch {
                        values,
                        errors,
                        law: buffers,
                        ..
                    } = scratch;
                    let need = Need {
                        values: true,
                        errors: false,
                    };
                    law.gather(scaled, values, errors, at, buffers, need);
                    let [q1, q2, c, _] = &*buffers;
                    let (roots, rest) = values[*s * CHUNK..].split_at_mut(CHUNK);
                    let rhos = &mut rest[(*rho - *s - 1) * CHUNK..][..len];
                    for k in 0..len {
                        (roots[k], rhos[k]) = correlation_or_none(q1[k], q2[k], c[k]);
                    }
                    let (below, theta) = values.split_at_mut(slot * CHUNK);
                    arccos_slice(&below[*rho * CHUNK..][..len], &mut theta[..len]);
                }
                Op::Kernel {
                    pair,
                    law,
                    scaled,
                    angle,
                    name,
                    span,
                } => {
                    let Scratch {
                        values,
                        errors,
                        law: buffers,
                        out,
                        ..
                    } = scratch;
                    // The relu and step maps read the law's values from their angle.
                    let need = Need {
                        values: angle.is_none(),
                        errors: true,
                    };
                    law.gather(scaled, values, errors, at, buffers, need);
                    let out = &mut out[..len];
                    let [q1, q2, c, law_error] = &*buffers;
                    match (pair, angle) {
                        (ClosedPair::ReluRelu, Some((theta, s, rho))) => {
                            let (theta, s, rho) = (
                                &values[*theta * CHUNK..][..len],
                                &values[*s * CHUNK..][..len],
                                &values[*rho * CHUNK..][..len],
                            );
                            for k in 0..len {
                                out[k] = relu_relu_from_angle(s[k], rho[k], theta[k]);
                            }
                        }
                        (ClosedPair::StepStep, Some((theta, s, _))) => {
                            let (theta, s) = (
                                &values[*theta * CHUNK..][..len],
                                &values[*s * CHUNK..][..len],
                            );
                            for k in 0..len {
                                out[k] = step_step_from_angle(s[k], theta[k]);
                            }
                        }
                        (pair, _) => {
                            for k in 0..len {
                                out[k] = pair.without_angle(q1[k], q2[k], c[k]);
                            }
                        }
                    }
                    check_chunk(out, active, name, *span, at)?;
                    values[range.clone()].copy_from_slice(out);
                    for (e, &l) in errors[range].iter_mut().zip(&law_error[..len]) {
                        *e = 0.0 + l;
                    }
                }
                Op::Arithmetic {
                    program,
                    inputs,
                    name,
                    span,
                } => {
                    let Scratch {
                        values,
                        errors,
                        out,
                        shifted,
                        ..
                    } = scratch;
                    let (values, errors): (&[f64], &[f64]) = (values, errors);
                    let slot_of =
                        |s: ScalarId| inputs.iter().find(|(t, _)| *t == s).expect("an input").1;
                    // Scalar `s` over the chunk, plus its error if `shift` is `s`.
                    let column = |s: ScalarId, shift: Option<ScalarId>| -> Column {
                        let k = slot_of(s);
                        let shifted = shift == Some(s);
                        let range = k * CHUNK..k * CHUNK + len;
                        match (self.slots[k].number, shifted) {
                            (Some((v, _)), false) => Column::Number(v),
                            (Some((v, e)), true) => Column::Number(v + e),
                            (None, false) => Column::Slice(&values[range]),
                            (None, true) => Column::Owned(
                                values[range.clone()]
                                    .iter()
                                    .zip(&errors[range])
                                    .map(|(v, e)| v + e)
                                    .collect(),
                            ),
                        }
                    };
                    let out = &mut out[..len];
                    program.eval(&|s| column(s, None), out);
                    let mut error = [0.0; CHUNK];
                    for &(s, k) in inputs {
                        let has_error = match self.slots[k].number {
                            Some((_, e)) => e != 0.0,
                            None => errors[k * CHUNK..k * CHUNK + len].iter().any(|&e| e != 0.0),
                        };
                        if !has_error {
                            continue;
                        }
                        let shifted = &mut shifted[..len];
                        program.eval(&|t| column(t, Some(s)), shifted);
                        for ((e, w), v) in error.iter_mut().zip(&*shifted).zip(&*out) {
                            *e += (w - v).abs();
                        }
                    }
                    check_chunk(out, active, name, *span, at)?;
                    scratch.values[range.clone()].copy_from_slice(&scratch.out[..len]);
                    scratch.errors[range].copy_from_slice(&error[..len]);
                }
            }
        }
        Ok(())
    }
}

/// The first active entry of a chunk that is not finite, as an error.
#[inline]
fn check_chunk(
    values: &[f64],
    active: &[bool],
    name: &str,
    span: Span,
    at: Place,
) -> Result<(), EvalError> {
    if values.iter().fold(true, |all, v| all & v.is_finite()) {
        return Ok(());
    }
    for (k, (&v, &on)) in values.iter().zip(active).enumerate() {
        if on {
            check_finite(v, name, span, &[at.i, at.start + k])?;
        }
    }
    Ok(())
}
