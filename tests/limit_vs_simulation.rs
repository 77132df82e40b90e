//! Random small programs (W, Wᵀ, smooth nonlinearities, moments): the evaluated limit agrees
//! with finite-width simulation. Tolerance: 5 standard errors of the seed mean plus the O(1/n)
//! bias allowance 2/n·(1 + |limit|) — both measured quantities, not guesses.

use proptest::prelude::*;
use tpc::ir::LowerOptions;

/// One random program: a chain of vectors built from earlier ones, and the moments of the last
/// few. Every vector keeps Θ(1) coordinates (tanh/sin bound products; linear steps are scaled).
fn program(steps: &[(u8, u8, u8)], sigma2: f64) -> String {
    let mut lines = vec![
        format!("matrix W ~ N(0, {sigma2}/n)"),
        "vector v0, v1 ~ N(0, [[1, 0.3], [0.3, 0.8]])".to_string(),
    ];
    let mut count = 2;
    for &(kind, a, b) in steps {
        let a = a as usize % count;
        let b = b as usize % count;
        let rhs = match kind % 6 {
            0 => format!("W @ v{a}"),
            1 => format!("W.T @ v{a}"),
            2 => format!("tanh(v{a}) + 0.5 * v{b}"),
            3 => format!("sin(v{a}) * tanh(v{b})"),
            4 => format!("W @ tanh(v{a})"),
            _ => format!("W.T @ (v{a} * tanh(v{b}))"),
        };
        lines.push(format!("v{count} = {rhs}"));
        count += 1;
    }
    let last = count - 1;
    lines.push(format!("k0 = mean(v{last} * v{last})"));
    lines.push(format!("k1 = mean(v{last} * v0)"));
    lines.push(format!("k2 = mean(tanh(v{last}) * v{})", last - 1));
    lines.join("\n") + "\n"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, .. ProptestConfig::default() })]

    #[test]
    fn limit_agrees_with_simulation(
        steps in prop::collection::vec((0u8..6, 0u8..16, 0u8..16), 2..6),
        sigma2 in 0.5f64..1.5,
    ) {
        let source = program(&steps, sigma2);
        let program = tpc::compile(source.as_bytes(), &LowerOptions::default())
            .unwrap_or_else(|d| panic!("{}", d.render("random.tp", &source)));
        let limit = tpc::limit::derive(&program).expect("derives");
        let options = tpc::eval::EvalOptions { samples: 400_000, ..Default::default() };
        let evaluation = tpc::eval::evaluate(&limit, &options, None).expect("evaluates");
        let n = 4096;
        let seeds = 6;
        let runs = tpc::simulate::simulate_many(&program, &[n], seeds, 11, &|_, _| {}).expect("simulates");
        for (o, s) in limit.outputs.iter().enumerate() {
            let value = evaluation.scalars[s.0 as usize];
            let samples = runs.output(0, o);
            let estimate = tpc::simulate::stats::estimate(&samples).expect("several seeds");
            let se = estimate.standard_error.expect("several seeds");
            let tolerance = 5.0 * se + 4.0 * value.error + 2.0 / n as f64 * (1.0 + value.value.abs());
            prop_assert!(
                (estimate.mean - value.value).abs() <= tolerance,
                "output {o} of\n{source}limit {} ± {} ({:?}), simulation {} ± {se}",
                value.value, value.error, value.method, estimate.mean
            );
        }
    }
}
