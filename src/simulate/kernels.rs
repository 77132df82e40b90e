//! The numeric kernels: dense matrix–vector products, coordinatewise maps and averages.
//!
//! Every kernel fixes its order of floating-point operations independently of the thread
//! count, so results are bit-identical however rayon splits the work.

use crate::ir::{Expr, ScalarId, VectorId};
use rayon::prelude::*;

/// About how many matrix entries one rayon task handles (enough to amortise scheduling).
pub(super) const TASK_ENTRIES: usize = 1 << 16;

/// Columns per task in `Wᵀ x`: 512 doubles of the output stay in L1 while rows stream by.
const COLUMN_BLOCK: usize = 512;

/// An n×n matrix, row-major.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Dense {
    n: usize,
    entries: Vec<f64>,
}

impl Dense {
    /// The matrix with the given row-major entries.
    pub(super) fn new(n: usize, entries: Vec<f64>) -> Dense {
        assert_eq!(entries.len(), n * n, "an n×n matrix has n² entries");
        Dense { n, entries }
    }

    /// Row `r`.
    #[cfg(test)]
    pub(super) fn row(&self, r: usize) -> &[f64] {
        &self.entries[r * self.n..(r + 1) * self.n]
    }

    /// `W x`: one dot product per row, rows split across threads.
    pub(super) fn mul_vec(&self, x: &[f64]) -> Vec<f64> {
        let n = self.n;
        let rows_per_task = (TASK_ENTRIES / n).max(1);
        let mut y = vec![0.0; n];
        y.par_chunks_mut(rows_per_task)
            .zip(self.entries.par_chunks(rows_per_task * n))
            .for_each(|(ys, rows)| {
                for (yi, row) in ys.iter_mut().zip(rows.chunks_exact(n)) {
                    *yi = dot(row, x);
                }
            });
        y
    }

    /// `Wᵀ x = Σ_r x_r W[r, ·]` without forming Wᵀ: each task owns a block of output
    /// columns and adds the rows into it in order r = 0, 1, …, so every output coordinate is
    /// summed in the same order whatever the split.
    pub(super) fn transpose_mul_vec(&self, x: &[f64]) -> Vec<f64> {
        let n = self.n;
        let mut y = vec![0.0; n];
        y.par_chunks_mut(COLUMN_BLOCK)
            .enumerate()
            .for_each(|(block, ys)| {
                let start = block * COLUMN_BLOCK;
                for (xr, row) in x.iter().zip(self.entries.chunks_exact(n)) {
                    let segment = &row[start..start + ys.len()];
                    for (yj, w) in ys.iter_mut().zip(segment) {
                        *yj += xr * w;
                    }
                }
            });
        y
    }
}

/// `Σ a_i b_i` with eight independent accumulators (vectorizable; fixed summation order).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let chunks = a.chunks_exact(8).zip(b.chunks_exact(8));
    for (xa, xb) in chunks {
        for ((s, p), q) in acc.iter_mut().zip(xa).zip(xb) {
            *s += p * q;
        }
    }
    let tail: f64 = a
        .chunks_exact(8)
        .remainder()
        .iter()
        .zip(b.chunks_exact(8).remainder())
        .map(|(p, q)| p * q)
        .sum();
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail
}

/// The values an expression may read: live vectors and computed scalars, by instruction.
pub(super) struct Leaves<'a> {
    /// Vectors by instruction index (`None` if not a live vector).
    vectors: &'a [Option<Vec<f64>>],
    /// Scalars by instruction index (`None` if not a computed scalar).
    scalars: &'a [Option<f64>],
    /// The width n, the value of `ExprNode::Width`.
    width: usize,
}

impl<'a> Leaves<'a> {
    /// The leaves at width n.
    pub(super) fn new(
        vectors: &'a [Option<Vec<f64>>],
        scalars: &'a [Option<f64>],
        width: usize,
    ) -> Leaves<'a> {
        Leaves {
            vectors,
            scalars,
            width,
        }
    }

    /// The expression at coordinate `alpha`.
    fn eval_at(&self, expr: &Expr, alpha: usize, scratch: &mut Vec<f64>) -> f64 {
        expr.eval(
            |id: VectorId| self.vectors[id.index()].as_ref().expect("a live vector")[alpha],
            |id: ScalarId| self.scalars[id.index()].expect("a computed scalar"),
            self.width as f64,
            scratch,
        )
    }

    /// The expression at every coordinate (Nonlin).
    pub(super) fn coordinatewise(&self, expr: &Expr) -> Vec<f64> {
        let mut scratch = Vec::with_capacity(expr.nodes.len());
        (0..self.width)
            .map(|alpha| self.eval_at(expr, alpha, &mut scratch))
            .collect()
    }

    /// The average of the expression over coordinates (Moment), summed with Neumaier's
    /// compensation so that the rounding error does not grow with n.
    pub(super) fn average(&self, expr: &Expr) -> f64 {
        let mut scratch = Vec::with_capacity(expr.nodes.len());
        let mut sum = Neumaier::default();
        for alpha in 0..self.width {
            sum.add(self.eval_at(expr, alpha, &mut scratch));
        }
        sum.total() / self.width as f64
    }

    /// The expression evaluated once, for a scalar expression (no vector leaves).
    pub(super) fn scalar(&self, expr: &Expr) -> f64 {
        let mut scratch = Vec::with_capacity(expr.nodes.len());
        expr.eval(
            |_| unreachable!("a scalar expression reads no vector"),
            |id: ScalarId| self.scalars[id.index()].expect("a computed scalar"),
            self.width as f64,
            &mut scratch,
        )
    }
}

/// Compensated (Kahan–Babuška–Neumaier) summation.
#[derive(Default)]
struct Neumaier {
    sum: f64,
    compensation: f64,
}

impl Neumaier {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    fn total(&self) -> f64 {
        self.sum + self.compensation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(n: usize) -> Dense {
        Dense::new(
            n,
            (0..n * n)
                .map(|k| ((k * 7919) % 101) as f64 - 50.0)
                .collect(),
        )
    }

    #[test]
    fn products_match_the_definition() {
        // Integer-valued entries: every sum is exact, so equality is exact.
        for n in [1, 7, 8, 9, 600, 1030] {
            let w = example(n);
            let x: Vec<f64> = (0..n).map(|i| (i % 13) as f64 - 6.0).collect();
            let y = w.mul_vec(&x);
            let yt = w.transpose_mul_vec(&x);
            for i in 0..n {
                let direct: f64 = (0..n).map(|j| w.row(i)[j] * x[j]).sum();
                let direct_t: f64 = (0..n).map(|j| w.row(j)[i] * x[j]).sum();
                assert_eq!(y[i], direct);
                assert_eq!(yt[i], direct_t);
            }
        }
    }

    #[test]
    fn compensated_sum_keeps_small_terms() {
        let mut s = Neumaier::default();
        for x in [1.0, 1e100, 1.0, -1e100] {
            s.add(x);
        }
        assert_eq!(s.total(), 2.0);
    }
}
