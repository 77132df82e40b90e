//! NNGP + NTK of a depth-10 MLP on two inputs (relu: closed forms; tanh: 2-D quadrature to
//! 1e-10), derived and evaluated end to end — the workload of neural-tangents' kernel_fn.

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tpc::ir::LowerOptions;

/// The NNGP and NTK program of an MLP with `depth` hidden layers, σw² = 2 (relu) or 1 (tanh),
/// no biases, inputs a = √3(1, 0, 0), b = √3(0.6, 0.8, 0) (the peers.md example).
fn kernel_program(phi: &str, depth: usize) -> String {
    let sw2 = if phi == "relu" { 2 } else { 1 };
    let backward: String = (2..=depth)
        .rev()
        .map(|l| {
            format!(
                "    dx[{p}, i] = W[{l}].T @ dh[{l}, i]\n    dh[{p}, i] = dx[{p}, i] * {phi}'(h[{p}, i])\n",
                p = l - 1
            )
        })
        .collect();
    format!(
        "const xi = [[1.7320508075688772, 0, 0], [1.0392304845413263, 1.3856406460551018, 0]]\n\
         const sw2 = {sw2}\n\
         const L = {depth}\n\
         const K1 = sw2 * gram(xi) / 3\n\
         vector h1[i in 0..2] ~ N(0, K1)\n\
         matrix W[l in 2..L + 1] ~ N(0, sw2 / n)\n\
         vector dxL ~ N(0, sw2)\n\
         for i in 0..2 {{ h[1, i] = h1[i]; x[1, i] = {phi}(h[1, i]) }}\n\
         for l in 2..L + 1, i in 0..2 {{ h[l, i] = W[l] @ x[l - 1, i]; x[l, i] = {phi}(h[l, i]) }}\n\
         for i in 0..2 {{\n    dh[L, i] = dxL * {phi}'(h[L, i])\n{backward}}}\n\
         for i in 0..2, j in i..2 {{ Sigma[1, i, j] = K1[i, j] }}\n\
         for l in 2..L + 2, i in 0..2, j in i..2 {{ Sigma[l, i, j] = sw2 * mean(x[l - 1, i] * x[l - 1, j]) }}\n\
         for l in 1..L + 1, i in 0..2, j in i..2 {{ Layer[l, i, j] = mean(dh[l, i] * dh[l, j]) * Sigma[l, i, j] }}\n\
         for i in 0..2, j in i..2 {{ acc[i, j, 0] = Sigma[L + 1, i, j] }}\n\
         for i in 0..2, j in i..2, l in 1..L + 1 {{ acc[i, j, l] = acc[i, j, l - 1] + Layer[l, i, j] }}\n\
         for i in 0..2, j in i..2 {{ NNGP[i, j] = Sigma[L + 1, i, j]; NTK[i, j] = acc[i, j, L] }}\n\
         output NNGP, NTK\n"
    )
}

fn kernel_benchmarks(c: &mut Criterion) {
    let mut group = c.benchmark_group("kernels_depth_10");
    group.sample_size(10);
    for phi in ["relu", "tanh"] {
        let source = kernel_program(phi, 10);
        let program = tpc::compile(source.as_bytes(), &LowerOptions::default())
            .unwrap_or_else(|d| panic!("{}", d.render("bench.tp", &source)));
        group.bench_with_input(BenchmarkId::from_parameter(phi), &program, |b, program| {
            b.iter(|| {
                let limit = tpc::limit::derive(program).expect("derives");
                tpc::eval::evaluate(&limit, &Default::default(), None).expect("evaluates")
            })
        });
        let limit = tpc::limit::derive(&program).expect("derives");
        let values = tpc::eval::evaluate(&limit, &Default::default(), None).expect("evaluates");
        let shown: Vec<String> = limit
            .outputs
            .iter()
            .map(|s| format!("{:.10}", values.scalars[s.0 as usize].value))
            .collect();
        eprintln!(
            "{phi} depth 10: NNGP(a,a), NNGP(a,b), NNGP(b,b), NTK(…) = {}",
            shown.join(", ")
        );
    }
    group.finish();
}

criterion_group!(benches, kernel_benchmarks);
criterion_main!(benches);
