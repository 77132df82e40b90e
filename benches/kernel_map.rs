//! How long the smooth kernel maps take (`tpc::eval::kernel_map`): E[tanh(u) tanh(v)] and
//! E[tanh′(u) tanh′(v)] over all pairs of N = 1000 inputs, setup (Hermite coefficients per
//! input) plus the whole matrix. Target: both under 100 ms on 2 cores.
//!
//! The inputs are the first layer of an NNGP: N points of R^20 around five centres with three
//! spreads, norms scaled so that `q_i = |x_i|²/20` runs over [0.5, 2]; `c_ij = x_i·x_j/20`.
//! Correlations then cover (−0.8, 1), a tenth of them above 0.9.

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::Array2;
use tpc::builtins::Builtin;
use tpc::eval::kernel_map::SmoothKernelMap;

/// Variances and covariance of `n` inputs in R^`d` (a fixed-seed generator, so every run
/// measures the same matrix).
fn inputs(n: usize, d: usize, seed: u64) -> (Vec<f64>, Array2<f64>) {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut uniform = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64) / ((1u64 << 53) as f64)
    };
    let mut normal = move || {
        let (u, v) = (uniform().max(1e-300), uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    };
    let centres: Vec<Vec<f64>> = (0..5).map(|_| (0..d).map(|_| normal()).collect()).collect();
    let xs: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let spread = [0.05, 0.3, 1.0][i % 3];
            let v: Vec<f64> = centres[i % 5]
                .iter()
                .map(|m| m + spread * normal())
                .collect();
            let norm = (v.iter().map(|a| a * a).sum::<f64>() / d as f64).sqrt();
            let target = 0.5 + 1.5 * (i as f64 / n as f64);
            v.iter().map(|a| a / norm * target.sqrt()).collect()
        })
        .collect();
    let c = Array2::from_shape_fn((n, n), |(i, j)| {
        xs[i].iter().zip(&xs[j]).map(|(a, b)| a * b).sum::<f64>() / d as f64
    });
    let q = (0..n).map(|i| c[[i, i]]).collect();
    (q, c)
}

fn kernel_map_benchmarks(cr: &mut Criterion) {
    let (q, c) = inputs(1000, 20, 1);
    let mut group = cr.benchmark_group("kernel_map_n1000");
    group.sample_size(10);
    for (name, f) in [
        ("tanh", (Builtin::Tanh, 0)),
        ("tanh_prime", (Builtin::Tanh, 1)),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let map = SmoothKernelMap::new(f, f, &q).expect("tanh is smooth");
                map.matrix(&c)
            })
        });
    }
    group.bench_function("tanh_and_tanh_prime", |b| {
        b.iter(|| {
            let m0 = SmoothKernelMap::new((Builtin::Tanh, 0), (Builtin::Tanh, 0), &q).unwrap();
            let m1 = SmoothKernelMap::new((Builtin::Tanh, 1), (Builtin::Tanh, 1), &q).unwrap();
            (m0.matrix(&c), m1.matrix(&c))
        })
    });
    group.finish();
}

criterion_group!(benches, kernel_map_benchmarks);
criterion_main!(benches);
