//! Blocks of built-ins of a few linear combinations of many atoms, integrated in the
//! dimensions of the combinations.
//!
//! A convolution's pre-activation at one position is a sum of one ZHat atom per kernel tap,
//! so `E[relu(h_p) relu(h_q)]` is a block of 18 atoms (3×3 taps, two positions) that is a
//! two-dimensional expectation: of `u = Σ a_k Ẑ_k` and `v = Σ b_k Ẑ_k`. The block's plan keeps
//! the calls as calls of `u` and `v`, and for each entry of the `2 × 2` law of `(u, v)` the few
//! covariances it sums (atoms of different matrices are independent and never read); each
//! entry of the template then reads those, not the `18 × 18` covariance of the atoms.

use super::{ArrayEvaluator, LawSource, RowPlan, Signature};
use crate::builtins::Builtin;
use crate::eval::forms::{self, Affine, Call, Moments};
use crate::symbolic::{AtomId, ExprId, Node, ScalarId};

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
        let arena = &self.limit.arena;
        let k = atoms.len();
        let position = |a: AtomId| atoms.binary_search(&a).ok();
        let mut calls: Vec<(Builtin, u32, Affine, f64)> = Vec::with_capacity(factors.len());
        for &(f, e) in factors {
            let (function, order, arg) = match arena.node(f) {
                Node::Apply { f, order, arg } => (*f, *order, *arg),
                _ => (Builtin::Id, 0, f),
            };
            calls.push((
                function,
                order,
                forms::affine(arena, arg, k, &position, scalar)?,
                e,
            ));
        }
        // The distinct linear parts are the combinations.
        let mut combinations: Vec<Vec<f64>> = Vec::new();
        for (_, _, u, _) in &calls {
            if !combinations.contains(&u.form) {
                combinations.push(u.form.clone());
            }
        }
        let m = combinations.len();
        if m > 2 || k <= m {
            return None;
        }
        let means = combinations
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
                            LawSource::Fixed(x) if x == 0.0 => {}
                            source => terms.push((twice * ci * cj, source)),
                        }
                    }
                }
                law.push(terms);
            }
        }
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
        Some(ProjectedBlock { calls, means, law })
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
        let m = block.means.len();
        let mut mean = [0.0; 2];
        for (slot, terms) in mean.iter_mut().zip(&block.means) {
            *slot = terms
                .iter()
                .map(|(c, source)| {
                    c * match source {
                        MeanSource::Fixed(x) => *x,
                        MeanSource::Group(g, row) => self.parallel.groups[*g].mean[row.row(tuple)],
                    }
                })
                .sum();
        }
        let mut covariance = [0.0; 4];
        let mut error = 0.0;
        let entries: &[(usize, usize)] = if m == 1 {
            &[(0, 0)]
        } else {
            &[(0, 0), (0, 1), (1, 1)]
        };
        for (&(u, v), terms) in entries.iter().zip(&block.law) {
            let mut sum = 0.0;
            for (c, source) in terms {
                let (value, e) = self.law_value(source, tuple);
                sum += c * value;
                error += c.abs() * e;
            }
            covariance[u * m + v] = sum;
            covariance[v * m + u] = sum;
        }
        let moments = Moments {
            mean: &mean[..m],
            covariance: &covariance[..m * m],
        };
        forms::closed_form(&block.calls, &moments).map(|value| (value, error))
    }
}
