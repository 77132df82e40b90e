//! Cost of the Gaussian-expectation engines (`tpc::eval`): a 2-D smooth expectation to 1e-10
//! by adaptive Gauss–Hermite, a kinked one to 1e-10 by the kink-aware polar rule, and Monte
//! Carlo throughput on a 4-D integrand.

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ndarray::{array, Array2};
use std::hint::black_box;
use std::time::Duration;
use tpc::eval::gaussian::Gaussian;
use tpc::eval::kink::{self, Kink, KinkOptions};
use tpc::eval::monte_carlo::{self, MonteCarloOptions};
use tpc::eval::quadrature::{self, QuadratureOptions};

/// (u, v) ~ N(0, [[1, 0.9], [0.9, 2.25]]), the law of the spec's 2-D examples.
fn pair() -> Gaussian {
    Gaussian::new(vec![0.0, 0.0], &array![[1.0, 0.9], [0.9, 2.25]]).expect("a valid covariance")
}

fn quadrature_benchmarks(c: &mut Criterion) {
    let mut group = c.benchmark_group("eval");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    let g = pair();
    let tanh = |x: &[f64]| x[0].tanh() * x[1].tanh();
    group.bench_function("gauss_hermite_tanh_tanh_1e-10", |b| {
        b.iter(|| {
            quadrature::expectation(black_box(&g), &tanh, &QuadratureOptions::default()).unwrap()
        })
    });
    let relu = |x: &[f64]| x[0].max(0.0) * x[1].max(0.0);
    let kinks = [Kink::atom(0, 2), Kink::atom(1, 2)];
    group.bench_function("kink_relu_relu_1e-10", |b| {
        b.iter(|| kink::expectation(black_box(&g), &relu, &kinks, &KinkOptions::default()).unwrap())
    });
    let samples = 200_000;
    let g4 = Gaussian::new(vec![0.0; 4], &Array2::eye(4)).expect("identity covariance");
    let f4 = |x: &[f64]| (x[0] + x[1]).tanh() * (x[2] - x[3]).tanh();
    let options = MonteCarloOptions {
        samples,
        ..Default::default()
    };
    group.throughput(Throughput::Elements(samples as u64));
    group.bench_function("monte_carlo_4d_tanh_samples", |b| {
        b.iter(|| monte_carlo::expectation(black_box(&g4), &f4, &options, None).estimate)
    });
    group.finish();
}

criterion_group!(benches, quadrature_benchmarks);
criterion_main!(benches);
