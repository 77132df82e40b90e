//! How long one finite-width run takes: a 3-hidden-layer tanh MLP on two inputs, forward
//! and backward (`W.T`), at n = 4096 (two 4096×4096 matrices, eight matrix–vector products).
//!
//! Sampling the 2 · 4096² Gaussian entries dominates; `benches/numpy_mlp.py` times the same
//! computation in NumPy for comparison.

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::time::Duration;
use tpc::ir::LowerOptions;

/// The MLP: Σ¹ from two inputs, W², W³ hidden, an independent readout `dx3` for the backward
/// pass; outputs the last-layer kernel K and the input-layer gradient kernel G.
const MLP: &str = "\
const xi = [[1, 0], [0.6, 0.8]]
vector h1[i in 0..2] ~ N(0, 1.5 * gram(xi) / 2 + 0.1)
matrix W[l in 2..4] ~ N(0, 1.5 / n)
vector dx3 ~ N(0, 1)
for i in 0..2 { x[1, i] = tanh(h1[i]) }
for l in 2..4, i in 0..2 {
    h[l, i] = W[l] @ x[l - 1, i]
    x[l, i] = tanh(h[l, i])
}
for i in 0..2 {
    dh[3, i] = dx3 * tanh'(h[3, i])
    dx[2, i] = W[3].T @ dh[3, i]
    dh[2, i] = dx[2, i] * tanh'(h[2, i])
    dx[1, i] = W[2].T @ dh[2, i]
    dh[1, i] = dx[1, i] * tanh'(h1[i])
}
for i in 0..2, j in i..2 {
    K[i, j] = mean(x[3, i] * x[3, j])
    G[i, j] = mean(dh[1, i] * dh[1, j])
}
output K, G
";

fn simulate_benchmarks(c: &mut Criterion) {
    let program = tpc::compile(MLP.as_bytes(), &LowerOptions::default())
        .unwrap_or_else(|d| panic!("{}", d.render("mlp.tp", MLP)));
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    let mut seed = 0;
    group.bench_function("mlp3_forward_backward_n4096", |b| {
        b.iter(|| {
            seed += 1;
            tpc::simulate::simulate(&program, 4096, seed).expect("finite")
        })
    });
    group.finish();
}

criterion_group!(benches, simulate_benchmarks);
criterion_main!(benches);
