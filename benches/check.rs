//! How long the front end (`tpc::compile`: parse, lower, check) takes on programs that unroll
//! to 10^4, 10^5 and 10^6 instructions. Target: under 2 s for 10^6, growing linearly.
//!
//! The program is an SGD-like recurrence; each iteration of its loop unrolls to a Nonlin
//! temporary (`tanh(h[t])`), a MatMul, a Nonlin (`h[t+1]`) and a Moment (`k[t]`).

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;
use tpc::ir::LowerOptions;

/// Instructions in the program apart from the loop (W, the Gaussian group, h[0]).
const PROLOGUE: usize = 3;
/// Instructions per loop iteration.
const PER_ITERATION: usize = 4;

/// A program whose loop runs `iterations` times.
fn recurrence(iterations: usize) -> String {
    format!(
        "# An SGD-like recurrence, {iterations} steps.\n\
         matrix W ~ N(0, 1/n)\n\
         vector h[i in 0..1] ~ N(0, 1)\n\
         for t in 0..{iterations} {{\n\
         \x20   h[t+1] = W @ tanh(h[t]) + 0.1 * h[t]\n\
         \x20   k[t] = mean(h[t+1] * h[t+1])\n\
         }}\n"
    )
}

fn compile_benchmarks(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    for instructions in [10_000usize, 100_000, 1_000_000] {
        let iterations = (instructions - PROLOGUE) / PER_ITERATION;
        let source = recurrence(iterations);
        let options = LowerOptions::default();
        let program = tpc::compile(source.as_bytes(), &options)
            .unwrap_or_else(|d| panic!("{}", d.render("bench.tp", &source)));
        assert_eq!(
            program.instructions.len(),
            PROLOGUE + PER_ITERATION * iterations,
            "the benchmark program no longer unrolls as its size assumes"
        );
        if instructions >= 1_000_000 {
            group.sample_size(10);
            group.measurement_time(Duration::from_secs(20));
        }
        group.throughput(Throughput::Elements(program.instructions.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("recurrence", instructions),
            &source,
            |b, source| b.iter(|| tpc::compile(source.as_bytes(), &options).is_ok()),
        );
    }
    group.finish();
}

criterion_group!(benches, compile_benchmarks);
criterion_main!(benches);
