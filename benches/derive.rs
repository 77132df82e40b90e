//! How long deriving the limit takes on the μP 3-hidden-layer SGD program
//! (`programs/mup_mlp3_sgd.tp`) unrolled for T = 5, 10 and 20 steps. Target: under 1 s at T = 10.

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tpc::ir::LowerOptions;

fn program(steps: usize) -> tpc::ir::Program {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/programs/mup_mlp3_sgd.tp");
    let source = std::fs::read_to_string(path).expect("the example program");
    let source = source.replacen("const T   = 3", &format!("const T   = {steps}"), 1);
    assert!(
        source.contains(&format!("const T   = {steps}")),
        "the program sets T"
    );
    tpc::compile(source.as_bytes(), &LowerOptions::default()).expect("the example program checks")
}

fn derive_benchmarks(c: &mut Criterion) {
    let mut group = c.benchmark_group("derive");
    group.sample_size(10);
    for steps in [5usize, 10, 20] {
        let p = program(steps);
        let limit = tpc::limit::derive(&p).expect("derives");
        eprintln!(
            "T = {steps}: {} instructions, {} arena nodes, {} atoms",
            p.instructions.len(),
            limit.arena.len(),
            limit.atoms.len()
        );
        group.bench_with_input(BenchmarkId::from_parameter(steps), &p, |b, p| {
            b.iter(|| tpc::limit::derive(p).expect("derives"))
        });
    }
    group.finish();
}

criterion_group!(benches, derive_benchmarks);
criterion_main!(benches);
