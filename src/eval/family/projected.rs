//! Blocks of built-ins of a few linear combinations of many atoms, integrated in the
//! dimensions of the combinations.
//!
//! A convolution's pre-activation at one position is a sum of one ZHat atom per kernel tap,
//! so `E[relu(h_p) relu(h_q)]` is a block of 18 atoms (3×3 taps, two positions) that is a
//! two-dimensional expectation: of `u = Σ a_k Ẑ_k` and `v = Σ b_k Ẑ_k`. The block's plan keeps
//! the calls as calls of `u` and `v`, and for each entry of the `2 × 2` law of `(u, v)` the few
//! covariances it sums (atoms of different matrices are independent and never read); each
//! entry of the template then reads those, not the `18 × 18` covariance of the atoms.

use super::{
    check_finite, closed_form_pair, increasing_tuples, Array, ArrayEvaluator, BlockKind, BlockPlan,
    ClosedPair, FamilyError, LawSource, RowPlan, Signature, SMALL_ARRAY,
};
use crate::diagnostics::Span;
use crate::eval::forms::{self, Affine, Call, Moments};
use crate::eval::{EvalError, Used};
use crate::symbolic::{AtomId, ExprId, ScalarId};
use rayon::prelude::*;
use std::sync::Mutex;

/// A block as calls of at most two linear combinations of its atoms, with the sums that give
/// the combinations' law at an entry.
pub(super) struct ProjectedBlock {
    /// The calls, each of an affine form of the combinations (`form` of length `m`).
    calls: Vec<Call>,
    /// Per combination, the means it sums: `(coefficient, source)`.
    means: Vec<Vec<(f64, MeanSource)>>,
    /// Per entry `(u, v)`, `u ≤ v`, of the combinations' covariance, in the order
    /// `(0, 0), (0, 1), (1, 1)`: the covariances it sums, `(coefficient, source)`.
    law: Vec<Vec<(f64, LawSource)>>,
    /// A pair of centred combinations the kernel-map tables cover (`relu(u) relu(v)`), and
    /// whether its first call is of the second combination.
    pair: Option<(ClosedPair, bool)>,
}

/// Where the mean of an atom with one is.
pub(super) enum MeanSource {
    Fixed(f64),
    Group(usize, RowPlan),
}

impl ArrayEvaluator<'_> {
    /// The projected plan of a block of `atoms` (sorted) whose every factor is a built-in of an
    /// affine form of them, or is such a form itself (`id`), when the forms span at most two
    /// combinations and there are more atoms than combinations; `None` otherwise.
    pub(super) fn projected_plan(
        &self,
        factors: &[(ExprId, f64)],
        atoms: &[AtomId],
        signature: &Signature,
        scalar: &dyn Fn(ScalarId) -> f64,
    ) -> Option<ProjectedBlock> {
        let k = atoms.len();
        let (calls, combinations) =
            forms::combination_calls(&self.limit.arena, factors, atoms, scalar)?;
        let m = combinations.len();
        if m > 2 || k <= m {
            return None;
        }
        let means: Vec<Vec<(f64, MeanSource)>> = combinations
            .iter()
            .map(|form| {
                form.iter()
                    .zip(atoms)
                    .filter(|(c, _)| **c != 0.0)
                    .filter_map(|(&c, &a)| self.mean_source(a, signature).map(|s| (c, s)))
                    .collect()
            })
            .collect();
        let mut law = Vec::with_capacity(3);
        for u in 0..m {
            for v in u..m {
                let mut terms = Vec::new();
                let (fu, fv) = (&combinations[u], &combinations[v]);
                for (i, &ci) in fu.iter().enumerate().filter(|(_, c)| **c != 0.0) {
                    // Covariances are symmetric: the variance of one combination reads each
                    // unordered pair once.
                    let first = if u == v { i } else { 0 };
                    for (j, &cj) in fv.iter().enumerate().skip(first) {
                        if cj == 0.0 || !self.may_correlate(atoms[i], atoms[j]) {
                            continue;
                        }
                        let twice = if u == v && i != j { 2.0 } else { 1.0 };
                        match self.law_source(atoms[i], atoms[j], signature) {
                            LawSource::Fixed(0.0) => {}
                            source => terms.push((twice * ci * cj, source)),
                        }
                    }
                }
                law.push(terms);
            }
        }
        let centred = calls
            .iter()
            .all(|(_, _, u, e)| u.offset == 0.0 && *e == 1.0)
            && means.iter().all(|m: &Vec<_>| m.is_empty());
        let pair = match &calls[..] {
            [(f, fo, u, _), (g, go, _, _)] if m == 2 && centred => {
                closed_form_pair((*f, *fo), (*g, *go)).map(|p| (p, u.form != combinations[0]))
            }
            _ => None,
        };
        let calls = calls
            .into_iter()
            .map(|(f, order, u, e)| {
                let index = combinations
                    .iter()
                    .position(|c| *c == u.form)
                    .expect("every form is a combination");
                let mut form = vec![0.0; m];
                form[index] = 1.0;
                let reduced = Affine {
                    form,
                    offset: u.offset,
                };
                (f, order, reduced, e)
            })
            .collect();
        Some(ProjectedBlock {
            calls,
            means,
            law,
            pair,
        })
    }

    fn mean_source(&self, a: AtomId, signature: &Signature) -> Option<MeanSource> {
        match self.atom_group[a.0 as usize] {
            Some((g, m)) if self.group_has_mean[g] => {
                Some(MeanSource::Group(g, self.row_plan(g, m, signature)))
            }
            Some(_) => None,
            None => match self.plain_mean.get(&a).copied().unwrap_or(0.0) {
                0.0 => None,
                x => Some(MeanSource::Fixed(x)),
            },
        }
    }

    /// The block's closed form at one entry, with the error of the covariances it read; `None`
    /// where the closed-form tables do not cover the calls on the entry's law.
    pub(super) fn projected_value(
        &self,
        block: &ProjectedBlock,
        tuple: &[usize],
    ) -> Option<(f64, f64)> {
        let mut mean = [0.0; 2];
        for (slot, terms) in mean.iter_mut().zip(&block.means) {
            *slot = terms
                .iter()
                .map(|(c, source)| c * self.mean_value(source, tuple))
                .sum();
        }
        let mut law = [0.0; 3];
        let mut error = 0.0;
        for (sum, terms) in law.iter_mut().zip(&block.law) {
            for (c, source) in terms {
                let (value, e) = self.law_value(source, tuple);
                *sum += c * value;
                error += c.abs() * e;
            }
        }
        block.closed_form(mean, law).map(|value| (value, error))
    }

    /// The mean of an atom with one, at an entry.
    fn mean_value(&self, source: &MeanSource, tuple: &[usize]) -> f64 {
        match source {
            MeanSource::Fixed(x) => *x,
            MeanSource::Group(g, row) => self.parallel.groups[*g].mean[row.row(tuple)],
        }
    }
}

impl ProjectedBlock {
    /// The closed form on the combinations' means and law (`(0, 0)`, `(0, 1)`, `(1, 1)`; the
    /// first only for one combination), if the tables cover it.
    fn closed_form(&self, mean: [f64; 2], law: [f64; 3]) -> Option<f64> {
        let m = self.means.len();
        let covariance = match m {
            1 => [law[0], 0.0, 0.0, 0.0],
            _ => [law[0], law[1], law[1], law[2]],
        };
        let moments = Moments {
            mean: &mean[..m],
            covariance: &covariance[..m * m],
        };
        forms::closed_form(&self.calls, &moments)
    }
}

/// The active entries of one row of a template: their tuples.
struct Row<'t> {
    tuples: &'t [usize],
    width: usize,
    /// Whether the tuples differ only in their last member, which runs over consecutive
    /// members.
    consecutive: bool,
}

impl<'t> Row<'t> {
    fn new(tuples: &'t [usize], width: usize, m: usize) -> Row<'t> {
        let consecutive = width > 0
            && m > 0
            && (1..m).all(|e| {
                let (a, b) = (
                    &tuples[(e - 1) * width..e * width],
                    &tuples[e * width..(e + 1) * width],
                );
                a[..width - 1] == b[..width - 1] && b[width - 1] == a[width - 1] + 1
            });
        Row {
            tuples,
            width,
            consecutive,
        }
    }

    fn tuple(&self, e: usize) -> &[usize] {
        &self.tuples[e * self.width..(e + 1) * self.width]
    }

    /// Where entry `e` of the row reads `p`: `base + e · step`, on a consecutive row.
    fn line(&self, p: &super::Projection) -> Option<(usize, usize)> {
        if !self.consecutive {
            return None;
        }
        let last = self.width - 1;
        let step =
            p.0.iter()
                .filter(|(position, _)| *position == last)
                .map(|(_, s)| s)
                .sum();
        Some((p.index(self.tuple(0)), step))
    }
}

/// Per-row buffers of [`ArrayEvaluator::fill_projected`].
struct RowScratch {
    /// The combinations' law along the row: `(0, 0)`, `(0, 1)`, `(1, 1)`.
    law: [Vec<f64>; 3],
    mean: [Vec<f64>; 2],
    law_error: Vec<f64>,
    product: Vec<f64>,
    product_error: Vec<f64>,
}

impl RowScratch {
    fn new(m: usize) -> RowScratch {
        let zeros = || vec![0.0; m];
        RowScratch {
            law: [zeros(), zeros(), zeros()],
            mean: [zeros(), zeros()],
            law_error: zeros(),
            product: zeros(),
            product_error: zeros(),
        }
    }
}

impl ArrayEvaluator<'_> {
    /// Fills `array` with `constant + Σ c · Π block` when every block of every term is
    /// projected, a term at a time over a row of entries: each covariance a term sums is read
    /// along the row, not entry by entry across the thousands of arrays a pooled layer reads.
    /// The arithmetic per entry is that of [`Self::projected_value`].
    pub(super) fn fill_projected(
        &self,
        array: &mut Array,
        terms: &[(f64, Vec<BlockPlan>)],
        constant: f64,
        name: &str,
        span: Span,
    ) -> Result<(), FamilyError> {
        let sizes = array.sizes.clone();
        let signature = array.signature.clone();
        let width = sizes.len();
        let row_len = Array::strides(&sizes).first().copied().unwrap_or(1);
        let worst: Mutex<(Used, bool)> = Mutex::new((Used::Exact, false));
        let row = |(first, (values, errors)): (usize, (&mut [f64], &mut [f64]))| {
            // The row's active entries: their tuples (flattened) and offsets in the row.
            let mut tuples: Vec<usize> = Vec::new();
            let mut offsets: Vec<usize> = Vec::new();
            let strides = Array::strides(&sizes);
            let mut tuple = vec![0usize; width];
            if width == 0 {
                offsets.push(0);
            } else {
                tuple[0] = first;
                increasing_tuples(&mut tuple, 1, &sizes, &signature, &mut |t| {
                    if self.active(t) {
                        tuples.extend_from_slice(t);
                        offsets.push((1..width).map(|p| t[p] * strides[p]).sum());
                    }
                    Ok(())
                })?;
            }
            let m = offsets.len();
            let row = Row::new(&tuples, width, m);
            let mut value = vec![constant; m];
            let mut error = vec![0.0; m];
            let mut method = Used::Exact;
            let mut scratch = RowScratch::new(m);
            for (c, blocks) in terms {
                scratch.product.fill(1.0);
                scratch.product_error.fill(0.0);
                for block in blocks {
                    let BlockKind::Projected(p) = &block.kind else {
                        unreachable!("every block is projected")
                    };
                    self.projected_law(p, &row, &mut scratch);
                    if let Some((pair, swapped)) = p.pair {
                        let [uu, uv, vv] = &scratch.law;
                        let (q1, q2) = if swapped { (vv, uu) } else { (uu, vv) };
                        for e in 0..m {
                            let v = pair.without_angle(q1[e], q2[e], uv[e]);
                            let err = scratch.law_error[e];
                            let x = &mut scratch.product[e];
                            scratch.product_error[e] =
                                scratch.product_error[e] * v.abs() + err * x.abs();
                            *x *= v;
                        }
                        method = method.max(Used::ClosedForm);
                        continue;
                    }
                    for e in 0..m {
                        let t = &tuples[e * width..(e + 1) * width];
                        let mean = [scratch.mean[0][e], scratch.mean[1][e]];
                        let law = [scratch.law[0][e], scratch.law[1][e], scratch.law[2][e]];
                        let (v, err, used) = match p.closed_form(mean, law) {
                            Some(v) => (v, scratch.law_error[e], Used::ClosedForm),
                            None => {
                                let b = self.block_value(
                                    block,
                                    t,
                                    &signature,
                                    &|_| unreachable!("a projected term has no scalars"),
                                    name,
                                    span,
                                )?;
                                (b.value, b.error, b.method)
                            }
                        };
                        method = method.max(used);
                        let x = &mut scratch.product[e];
                        scratch.product_error[e] =
                            scratch.product_error[e] * v.abs() + err * x.abs();
                        *x *= v;
                    }
                }
                for e in 0..m {
                    value[e] += c * scratch.product[e];
                    error[e] += c.abs() * scratch.product_error[e];
                }
            }
            let mut any_error = false;
            for e in 0..m {
                let t = &tuples[(e * width).min(tuples.len())..((e + 1) * width).min(tuples.len())];
                check_finite(value[e], name, span, t)?;
                values[offsets[e]] = value[e];
                errors[offsets[e]] = error[e];
                any_error |= error[e] != 0.0;
            }
            let mut w = worst.lock().expect("no panic");
            *w = (w.0.max(method), w.1 || any_error);
            Ok::<(), EvalError>(())
        };
        let rows = array
            .values
            .par_chunks_mut(row_len)
            .zip(array.errors.par_chunks_mut(row_len))
            .enumerate()
            .with_min_len((SMALL_ARRAY / row_len).max(1));
        rows.try_for_each(row)?;
        (array.method, array.has_errors) = worst.into_inner().expect("no panic");
        Ok(())
    }

    /// The combinations' law and means at each of the row's entries (`tuples`, flattened),
    /// into `scratch`, with the error of the covariances read.
    fn projected_law(&self, block: &ProjectedBlock, row: &Row, scratch: &mut RowScratch) {
        let m = scratch.product.len();
        let at = |e: usize| row.tuple(e);
        scratch.law_error.fill(0.0);
        for (sums, terms) in scratch.law.iter_mut().zip(&block.law) {
            sums.fill(0.0);
            for (c, source) in terms {
                match source {
                    LawSource::Fixed(x) => sums.iter_mut().for_each(|s| *s += c * x),
                    LawSource::Group(g, r, s) => {
                        let covariance = &self.parallel.groups[*g].covariance;
                        for (e, sum) in sums.iter_mut().enumerate() {
                            *sum += c * covariance.get(r.row(at(e)), s.row(at(e)));
                        }
                    }
                    LawSource::Array(array, p) => {
                        match row.line(p) {
                            // Along the row, the entries read are evenly spaced.
                            Some((base, step)) => {
                                for (e, sum) in sums.iter_mut().enumerate() {
                                    *sum += c * array.values[base + e * step];
                                }
                            }
                            None => {
                                for (e, sum) in sums.iter_mut().enumerate() {
                                    *sum += c * array.values[p.index(at(e))];
                                }
                            }
                        }
                        if array.has_errors && !array.errors.is_empty() {
                            for (e, err) in scratch.law_error.iter_mut().enumerate() {
                                *err += c.abs() * array.errors[p.index(at(e))].abs();
                            }
                        }
                    }
                }
            }
        }
        for (sums, terms) in scratch.mean.iter_mut().zip(&block.means) {
            sums.fill(0.0);
            for (c, source) in terms {
                for (e, sum) in sums.iter_mut().enumerate().take(m) {
                    *sum += c * self.mean_value(source, at(e));
                }
            }
        }
    }
}
