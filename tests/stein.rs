//! The Stein form ((3.4) in docs/derivation.md) of Ż for integrands that are not weakly differentiable
//! (`step`, `sign`): closed forms, a singular Gram, agreement with (3.3) where both apply,
//! and a relu network trained by SGD against finite-width simulation.

use std::f64::consts::PI;
use tpc::eval::{EvalOptions, Value};
use tpc::ir::{LowerOptions, Program};
use tpc::limit::{self, EquationKind, ZDotRule};
use tpc::simulate::stats;

fn compile(source: &str) -> Program {
    tpc::compile(source.as_bytes(), &LowerOptions::default())
        .unwrap_or_else(|d| panic!("{}", d.render("test.tp", source)))
}

fn program_file(name: &str) -> String {
    let path = format!("{}/programs/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).expect("example program exists")
}

/// The program's outputs, by name, evaluated under `rule`.
fn outputs(source: &str, rule: ZDotRule, options: &EvalOptions) -> Vec<(String, Value)> {
    let program = compile(source);
    let limit = limit::derive_with(&program, rule).expect("derives");
    let evaluation = tpc::eval::evaluate(&limit, options, None)
        .unwrap_or_else(|e| panic!("{}", e.to_diagnostic().render("test.tp", source)));
    limit
        .outputs
        .iter()
        .map(|s| {
            let name = limit.names[limit.scalars[s.0 as usize].role.instruction()].clone();
            (name, evaluation.scalars[s.0 as usize])
        })
        .collect()
}

fn output(values: &[(String, Value)], name: &str) -> f64 {
    values
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no output {name}"))
        .1
        .value
}

/// The standard normal density.
fn phi(x: f64) -> f64 {
    (-x * x / 2.0).exp() / (2.0 * PI).sqrt()
}

#[test]
fn a_step_after_w_gives_the_dirac_mass_that_the_derivative_misses() {
    // ⟨x, Wᵀ step(Wx − c)⟩_n = ⟨Wx, step(Wx − c)⟩_n → E[Ẑ 1{Ẑ > c}] = σ_h φ(c/σ_h), σ_h² = s v
    // (c = 0: E[relu(Ẑ)] = √(s v / 2π)). Closed forms, so 1e-10.
    for (s, v) in [(2.0f64, 1.0), (0.5, 3.0), (1.3, 0.4)] {
        for c in [0.0, 0.3, -0.7] {
            let source = format!(
                "vector x ~ N(0, {v})\nmatrix W ~ N(0, {s} / n)\nh = W @ x\na = step(h - {c})\ny = W.T @ a\nk = mean(x * y)\n"
            );
            let sigma = (s * v).sqrt();
            let expected = sigma * phi(c / sigma);
            let k = output(
                &outputs(&source, ZDotRule::Auto, &EvalOptions::default()),
                "k",
            );
            assert!(
                (k - expected).abs() < 1e-10,
                "s = {s}, v = {v}, c = {c}: {k} vs {expected}"
            );
        }
    }
    // sign: ⟨Wx, sign(Wx)⟩_n → E|Ẑ| = σ_h √(2/π).
    let source =
        "vector x ~ N(0, 1.5)\nmatrix W ~ N(0, 2 / n)\ny = W.T @ sign(W @ x)\nk = mean(x * y)\n";
    let k = output(
        &outputs(source, ZDotRule::Auto, &EvalOptions::default()),
        "k",
    );
    assert!((k - 3f64.sqrt() * (2.0 / PI).sqrt()).abs() < 1e-10, "{k}");
}

#[test]
fn the_stein_form_is_used_only_where_there_is_a_jump() {
    let derive = |source: &str| limit::derive(&compile(source)).unwrap();
    let head = "vector x ~ N(0, 1)\nmatrix W ~ N(0, 1 / n)\nh = W @ x\n";
    // step(h): a jump in Ẑ^{Wx}.
    let jump = derive(&format!("{head}y = W.T @ step(h)\nk = mean(x * y)\n"));
    assert_eq!(jump.stein.len(), 1);
    let matmul = jump
        .equations
        .iter()
        .rev()
        .find_map(|e| match &e.kind {
            EquationKind::MatMul { zdot, stein, .. } => Some((zdot, stein)),
            _ => None,
        })
        .unwrap();
    assert_eq!(matmul.1, &Some(0));
    assert_eq!(matmul.0.len(), 1);
    assert_eq!(matmul.0[0].derivative, None, "no derivative is taken");
    // relu(h), tanh(h): weakly differentiable, so (3.3) stays (with its derivative).
    for f in ["relu", "tanh"] {
        let smooth = derive(&format!("{head}y = W.T @ {f}(h)\nk = mean(x * y)\n"));
        assert!(smooth.stein.is_empty(), "{f}");
    }
    // A step of an initial vector only (not of an opposite-family atom) is no reason either:
    // Z^g = relu(h)·step(x) is weakly differentiable in Ẑ^{Wx}.
    let other = derive(&format!(
        "{head}y = W.T @ (relu(h) * step(x))\nk = mean(x * y)\n"
    ));
    assert!(other.stein.is_empty());
}

#[test]
fn a_singular_gram_is_solved_by_the_pseudo_inverse() {
    // u = (x, z, x + z, 2x): the Gram of the four W-atoms has rank 2. At finite width
    // h3 = h1 + h2 and h4 = 2 h1 exactly, so ⟨x, y⟩_n = ⟨h1, a⟩_n and ⟨z, y⟩_n = ⟨h2, a⟩_n:
    //   k  → E[Ẑ₁ step(Ẑ₁)] + E[Ẑ₁ step(Ẑ₁ + Ẑ₂)] + E[Ẑ₁ sign(Ẑ₁)]
    //      = σ₁ φ(0) + σ₁² φ(0)/σ₃ + σ₁ √(2/π),
    //   kz → E[Ẑ₂ step(Ẑ₂)] + E[Ẑ₂ step(Ẑ₁ + Ẑ₂)] = σ₂ φ(0) + σ₂² φ(0)/σ₃,
    // with σ₁² = s v_x, σ₂² = s v_z, σ₃² = σ₁² + σ₂². Closed forms, so 1e-10.
    let (s, vx, vz) = (1.5f64, 1.0, 0.7);
    let source = format!(
        "matrix W ~ N(0, {s} / n)\nvector x, z ~ N(0, [[{vx}, 0], [0, {vz}]])\nh1 = W @ x\nh2 = W @ z\nh3 = W @ (x + z)\nh4 = W @ (2 * x)\na = step(h1) + step(h2) + step(h3) + sign(h4)\ny = W.T @ a\nk = mean(x * y)\nkz = mean(z * y)\n"
    );
    let limit = limit::derive(&compile(&source)).unwrap();
    assert_eq!(limit.stein.len(), 1);
    assert_eq!(limit.stein[0].atoms.len(), 4);
    let values = outputs(&source, ZDotRule::Auto, &EvalOptions::default());
    let (s1, s2) = ((s * vx).sqrt(), (s * vz).sqrt());
    let s3 = (s1 * s1 + s2 * s2).sqrt();
    let k = s1 * phi(0.0) + s1 * s1 * phi(0.0) / s3 + s1 * (2.0 / PI).sqrt();
    let kz = s2 * phi(0.0) + s2 * s2 * phi(0.0) / s3;
    assert!(
        (output(&values, "k") - k).abs() < 1e-10,
        "{values:?} vs {k}"
    );
    assert!(
        (output(&values, "kz") - kz).abs() < 1e-10,
        "{values:?} vs {kz}"
    );
}

#[test]
fn stein_and_the_derivative_agree_where_the_integrand_is_weakly_differentiable() {
    // relu (a kink, weakly differentiable), tanh, and linear programs: (3.3) and (3.4) are
    // both exact, so every output agrees to the evaluator's accuracy (1e-10 tolerance).
    let relu_two_atoms = "matrix W ~ N(0, 1.5 / n)\nvector x, z ~ N(0, [[1, 0.4], [0.4, 0.8]])\nh1 = W @ x\nh2 = W @ z\na = relu(h1 - 0.2) * tanh(h2)\ny = W.T @ a\nk = mean(x * y)\nkz = mean(z * y)\n";
    let sources = [
        program_file("transpose_minimal.tp"),
        program_file("transpose_minimal_relu.tp"),
        program_file("catalan.tp"),
        program_file("sgd_two_steps.tp"),
        relu_two_atoms.to_string(),
    ];
    for source in &sources {
        let derivative = outputs(source, ZDotRule::Auto, &EvalOptions::default());
        let stein = outputs(source, ZDotRule::Stein, &EvalOptions::default());
        let program = compile(source);
        let forced = limit::derive_with(&program, ZDotRule::Stein).unwrap();
        assert!(!forced.stein.is_empty(), "the Stein form is exercised");
        for ((name, d), (_, s)) in derivative.iter().zip(&stein) {
            assert!(
                (d.value - s.value).abs() <= 1e-9 * (1.0 + d.value.abs()),
                "{name}: (3.3) {d:?}, (3.4) {s:?}\n{source}"
            );
        }
    }
}

#[test]
fn a_relu_network_trained_two_steps_agrees_with_simulation() {
    // programs/relu_sgd_two_steps.tp: the Ż of `W.T @ dhb1` and of `W @ x2[i]` use the Stein
    // form. The limit has Monte Carlo expectations whose reported errors are conservative
    // (first-order bounds through ill-conditioned Gram solves), so its actual spread is
    // measured: the mean over 4 Monte Carlo seeds ± its standard error. The simulation:
    // 12 seeds at n = 2048, mean ± standard error. Tolerance: 4 combined standard errors plus
    // the O(1/n) bias allowance 2/n·(1 + |limit|) of tests/limit_vs_simulation.rs.
    let source = program_file("relu_sgd_two_steps.tp");
    let program = compile(&source);
    let limit_seeds: Vec<Vec<(String, Value)>> = (0..4)
        .map(|seed| {
            let options = EvalOptions {
                samples: 100_000,
                seed,
                ..Default::default()
            };
            outputs(&source, ZDotRule::Auto, &options)
        })
        .collect();
    let n = 2048;
    let runs = tpc::simulate::simulate_many(&program, &[n], 12, 40, &|_, _| {})
        .expect("the simulation succeeds");
    for (o, id) in program.outputs.iter().enumerate() {
        let name = program.display_name(id.index());
        let limits: Vec<f64> = limit_seeds.iter().map(|v| output(v, &name)).collect();
        let limit = stats::estimate(&limits).unwrap();
        let simulated = stats::estimate(&runs.output(0, o)).unwrap();
        let se = simulated
            .standard_error
            .unwrap()
            .hypot(limit.standard_error.unwrap());
        let tolerance = 4.0 * se + 2.0 / n as f64 * (1.0 + limit.mean.abs());
        assert!(
            (simulated.mean - limit.mean).abs() <= tolerance,
            "{name}: limit {} ± {:.1e}, simulation {} ± {:.1e}",
            limit.mean,
            limit.standard_error.unwrap(),
            simulated.mean,
            simulated.standard_error.unwrap()
        );
    }
}

#[test]
fn json_gives_the_stein_solve() {
    let source = program_file("transpose_minimal_step.tp");
    let limit = limit::derive(&compile(&source)).unwrap();
    let json = limit::to_json(&limit, &source);
    let y = json["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "y")
        .unwrap();
    assert_eq!(y["stein"], 0);
    assert!(y["zdot"][0]["derivative"].is_null());
    let solve = &json["stein"][0];
    assert_eq!(solve["u"][0], "x");
    assert_eq!(solve["gram_expectation_of"].as_array().unwrap().len(), 1);
    let b = solve["b"][0]["scalar"].as_u64().unwrap() as usize;
    assert!(json["scalars"][b]["role"]["stein_moment_of"].is_string());
    let c = solve["coefficients"][0].as_u64().unwrap() as usize;
    assert_eq!(
        json["scalars"][c]["definition"]["stein_solution"]["index"],
        0
    );
    let jump = json["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == solve["jump"])
        .unwrap();
    assert_eq!(jump["f"], "step");
}
