//! Random streams and Gaussian sampling.
//!
//! Every instruction owns a 256-bit ChaCha8 key, drawn from stream `index` of the ChaCha8
//! generator seeded with the run's seed. Its draws then come from streams of that key: row `r`
//! of a matrix uses stream `r`, a group uses stream 0. Draws therefore depend only on
//! (seed, instruction, row), never on evaluation order or on how rows are split across threads.

use crate::linalg::symmetric_eigen;
use ndarray::Array2;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::kernels::{Dense, TASK_ENTRIES};

/// The key of instruction `index` under `seed`.
pub(super) fn instruction_key(seed: u64, index: usize) -> [u8; 32] {
    let mut root = ChaCha8Rng::seed_from_u64(seed);
    root.set_stream(index as u64);
    let mut key = [0u8; 32];
    root.fill_bytes(&mut key);
    key
}

/// Stream `stream` of `key`.
fn stream(key: [u8; 32], stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(stream);
    rng
}

/// An n×n matrix with iid N(0, variance/n) entries; row `r` is drawn from stream `r` of `key`.
pub(super) fn sample_matrix(key: [u8; 32], n: usize, variance: f64) -> Dense {
    let scale = (variance / n as f64).sqrt();
    let mut entries = vec![0.0; n * n];
    let rows_per_task = (TASK_ENTRIES / n).max(1);
    entries
        .par_chunks_mut(rows_per_task * n)
        .enumerate()
        .for_each(|(task, rows)| {
            for (offset, row) in rows.chunks_exact_mut(n).enumerate() {
                let mut rng = stream(key, (task * rows_per_task + offset) as u64);
                for entry in row {
                    *entry = scale * rng.sample::<f64, _>(StandardNormal);
                }
            }
        });
    Dense::new(n, entries)
}

/// A factor A with A Aᵀ = C for a symmetric PSD `m × m` covariance (row-major), from its
/// eigen-decomposition; eigenvalues below zero (rounding, or a singular C) are clamped to 0.
fn covariance_factor(covariance: &[f64], m: usize) -> Array2<f64> {
    let c = Array2::from_shape_vec((m, m), covariance.to_vec())
        .expect("a group's covariance is members × members");
    let (values, vectors) = symmetric_eigen(&c);
    Array2::from_shape_fn((m, m), |(row, k)| {
        vectors[[row, k]] * values[k].max(0.0).sqrt()
    })
}

/// The members of a Gaussian group at width n: coordinate α of the members is
/// `mean + A z_α` with `z_α ~ N(0, I)` drawn from stream 0 of `key`, α in order.
pub(super) fn sample_group(
    key: [u8; 32],
    n: usize,
    mean: &[f64],
    covariance: &[f64],
) -> Vec<Vec<f64>> {
    let m = mean.len();
    let factor = covariance_factor(covariance, m);
    let mut rng = stream(key, 0);
    let mut members = vec![vec![0.0; n]; m];
    let mut z = vec![0.0; m];
    for alpha in 0..n {
        for zk in z.iter_mut() {
            *zk = rng.sample(StandardNormal);
        }
        for (j, member) in members.iter_mut().enumerate() {
            let row = factor.row(j);
            member[alpha] = mean[j] + row.iter().zip(&z).map(|(a, z)| a * z).sum::<f64>();
        }
    }
    members
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_seed_and_instruction() {
        assert_eq!(instruction_key(1, 2), instruction_key(1, 2));
        assert_ne!(instruction_key(1, 2), instruction_key(1, 3));
        assert_ne!(instruction_key(1, 2), instruction_key(2, 2));
    }

    #[test]
    fn factor_reproduces_a_singular_covariance() {
        let c = [1.0, 1.0, 2.0, 1.0, 1.0, 2.0, 2.0, 2.0, 4.0];
        let a = covariance_factor(&c, 3);
        let back = a.dot(&a.t());
        for (x, y) in back.iter().zip(c.iter()) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
    }

    #[test]
    fn group_has_the_requested_moments() {
        // Tolerance: 5 standard errors of the sample moments with n = 200 000; the largest
        // per-coordinate sd is that of x₁², √2 · 2.25 < 3.2.
        let n = 200_000;
        let members = sample_group(
            instruction_key(7, 0),
            n,
            &[0.5, 0.0],
            &[1.0, 0.6, 0.6, 2.25],
        );
        let mean = |v: &[f64]| v.iter().sum::<f64>() / n as f64;
        let (m0, m1) = (mean(&members[0]), mean(&members[1]));
        let cov = |a: &[f64], b: &[f64], ma: f64, mb: f64| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - ma) * (y - mb))
                .sum::<f64>()
                / n as f64
        };
        let tol = 5.0 * 3.2 / (n as f64).sqrt();
        assert!((m0 - 0.5).abs() < tol && m1.abs() < tol);
        assert!((cov(&members[0], &members[0], m0, m0) - 1.0).abs() < tol);
        assert!((cov(&members[0], &members[1], m0, m1) - 0.6).abs() < tol);
        assert!((cov(&members[1], &members[1], m1, m1) - 2.25).abs() < tol);
    }

    #[test]
    fn matrix_rows_do_not_depend_on_the_task_split() {
        // Row r is stream r whatever the chunking: sampling twice gives the same bits, and a
        // row drawn by hand from its stream matches.
        let n = 300;
        let key = instruction_key(3, 5);
        let a = sample_matrix(key, n, 2.0);
        let mut rng = stream(key, 17);
        let scale = (2.0 / n as f64).sqrt();
        let row: Vec<f64> = (0..n)
            .map(|_| scale * rng.sample::<f64, _>(StandardNormal))
            .collect();
        assert_eq!(a.row(17), &row[..]);
        assert_eq!(a, sample_matrix(key, n, 2.0));
    }
}
