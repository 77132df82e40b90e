//! Speed of the parametrization tools on generated tanh MLP training programs:
//! the width-power analysis (L = 3, T = 10), a coord check over widths 256…4096 with 4 seeds
//! (L = 2, T = 3; target under a minute), and evaluating the μP limit to 1e-6 (L = 2, T = 1;
//! the target is T = 3 in under 10 s, which this evaluator does not meet: see the
//! figures in docs/parametrizations.md).

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use tpc::builtins::Builtin;
use tpc::ir::{LowerOptions, Program};
use tpc::param::{generate_mlp, Abc, Exponent, MlpSpec, Preset};

fn program(preset: Preset, depth: usize, steps: usize) -> Program {
    let abc = Abc::preset(preset, depth);
    let spec = MlpSpec::reference(abc, preset.name(), Builtin::Tanh, steps);
    let source = generate_mlp(&spec).expect("a valid specification");
    tpc::compile(source.as_bytes(), &LowerOptions::default()).expect("generated programs check")
}

fn parametrization_benchmarks(c: &mut Criterion) {
    let mut group = c.benchmark_group("parametrizations");
    group.sample_size(10);

    let sp = Preset::Sp {
        c: Exponent::from_integer(1),
    };
    let long = program(sp, 3, 10);
    group.bench_function("scaling SP L=3 T=10", |b| {
        b.iter(|| tpc::scaling::analyze(&long, &Default::default()).expect("analyses"))
    });

    let trained = program(Preset::Mup, 2, 3);
    let options = tpc::coordcheck::Options::default();
    group.bench_function("coordcheck μP L=2 T=3, n = 256…4096, 4 seeds", |b| {
        b.iter(|| tpc::coordcheck::coord_check(&trained, &options, &[], &|_, _| {}))
    });

    let eval = tpc::eval::EvalOptions {
        tolerance: 1e-6,
        ..Default::default()
    };
    let one_step = program(Preset::Mup, 2, 1);
    let limit = tpc::limit::derive(&one_step).expect("μP programs derive");
    group.bench_function("eval μP L=2 T=1 to 1e-6", |b| {
        b.iter(|| tpc::eval::evaluate(&limit, &eval, None).expect("evaluates"))
    });
    group.finish();
}

criterion_group!(benches, parametrization_benchmarks);
criterion_main!(benches);
