//! The MLP training-program generator and the width-power analysis against the theory of
//! docs/parametrizations.md and docs/reference-values.md cases 5B, 5C and 6.

use proptest::prelude::*;
use std::collections::HashMap;
use tpc::builtins::Builtin;
use tpc::eval::EvalOptions;
use tpc::ir::{LowerOptions, Program};
use tpc::param::{generate_mlp, Abc, Exponent, Loss, MlpSpec, Preset};
use tpc::scaling::{analyze, ScalingOptions, SizeKind, Verdict};

fn spec(abc: Abc, nonlin: Builtin, steps: usize) -> MlpSpec {
    MlpSpec::reference(abc, "test", nonlin, steps)
}

fn compile(source: &str) -> Program {
    tpc::compile(source.as_bytes(), &LowerOptions::default())
        .unwrap_or_else(|d| panic!("{}\n{source}", d.render("gen.tp", source)))
}

/// Output name → (limit, error estimate).
fn limits(program: &Program, options: &EvalOptions) -> HashMap<String, (f64, f64)> {
    let limit = tpc::limit::derive(program).expect("μP programs have Θ(1) coordinates");
    let evaluation = tpc::eval::evaluate(&limit, options, None).expect("evaluates");
    limit
        .outputs
        .iter()
        .map(|s| {
            let i = limit.scalars[s.0 as usize].role.instruction();
            let v = evaluation.scalars[s.0 as usize];
            (limit.names[i].clone(), (v.value, v.error))
        })
        .collect()
}

fn output_names(program: &Program) -> Vec<String> {
    program
        .outputs
        .iter()
        .map(|o| program.display_name(o.index()))
        .collect()
}

fn preset(p: Preset, depth: usize) -> Abc {
    Abc::preset(p, depth)
}

fn sp(c: i64) -> Preset {
    Preset::Sp {
        c: Exponent::from_integer(c),
    }
}

/// Case 5C: the generated μP linear network with two hidden layers, one SGD step, is exact.
#[test]
fn generated_mup_linear_network_reproduces_case_5c() {
    let source = generate_mlp(&spec(preset(Preset::Mup, 2), Builtin::Id, 1)).unwrap();
    let values = limits(&compile(&source), &EvalOptions::default());
    // Exact Gaussian algebra: rounding only.
    for (name, expected) in [
        ("f[1, 0]", 3.0),
        ("f[1, 1]", 1.5),
        ("chi[0]", -1.0),
        ("fc1[1]", 0.25),
        ("fc2[1]", 1.25),
        ("f[0, 0]", 0.0),
    ] {
        let (value, _) = values[name];
        assert!(
            (value - expected).abs() < 1e-12,
            "{name} = {value}, expected {expected}"
        );
    }
}

/// Case 5B (μP rows) and the Master Theorem: the generated tanh μP programs' limits agree with
/// finite-width runs of the same programs at n = 4096 within 4 standard errors over seeds.
#[test]
fn generated_tanh_mup_programs_agree_with_simulation() {
    let options = EvalOptions {
        tolerance: 1e-7,
        max_points: 1 << 16,
        ..EvalOptions::default()
    };
    for (depth, seeds) in [(1, 16), (2, 6)] {
        let source = generate_mlp(&spec(preset(Preset::Mup, depth), Builtin::Tanh, 1)).unwrap();
        let program = compile(&source);
        let values = limits(&program, &options);
        if depth == 1 {
            // Reference case 5B: f°_1(ξ₁) = 0.341967 and FC → 0.048115 for L = 1.
            // The reference has 6 digits; allow the quadrature's own error estimate on top.
            for (name, reference) in [("f[1, 1]", 0.341967), ("fc1[1]", 0.048115)] {
                let (value, error) = values[name];
                assert!(
                    (value - reference).abs() <= 5e-7 + error,
                    "{name} = {value} ± {error}, reference {reference}"
                );
            }
        }
        let runs = tpc::simulate::simulate_many(&program, &[4096], seeds, 11, &|_, _| {}).unwrap();
        for (o, name) in output_names(&program).iter().enumerate() {
            let samples = runs.output(0, o);
            let estimate = tpc::simulate::stats::estimate(&samples).expect("several seeds");
            let standard_error = estimate.standard_error.expect("several seeds");
            let (limit, error) = values[name];
            let gap = (estimate.mean - limit).abs();
            assert!(
                gap <= 4.0 * standard_error + error + 1e-12,
                "L = {depth}, {name}: simulation {} ± {standard_error}, limit {limit}",
                estimate.mean,
            );
        }
    }
}

/// μP and MFP differ by the SGD symmetry (θ = 1/2): their trajectories agree to rounding.
#[test]
fn mup_and_mfp_trajectories_agree_to_rounding() {
    for depth in [1, 2] {
        let run = |p: Preset| {
            let source = generate_mlp(&spec(preset(p, depth), Builtin::Tanh, 2)).unwrap();
            let program = compile(&source);
            tpc::simulate::simulate(&program, 256, 5).unwrap().outputs()
        };
        let (mup, mfp) = (run(Preset::Mup), run(Preset::Mfp));
        assert_eq!(mup.len(), mfp.len());
        for (a, b) in mup.iter().zip(&mfp) {
            assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0), "{a} vs {b}");
        }
    }
}

fn body(source: &str) -> String {
    source
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

fn exponent() -> impl Strategy<Value = Exponent> {
    (-6i64..=6, 1i64..=4).prop_map(|(p, q)| Exponent::new(p, q))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// (a, b, c) → (a + θ, b − θ, c − 2θ) leaves the network and its training unchanged
    /// (docs/parametrizations.md), so the generated program is the same apart from its header.
    #[test]
    fn generated_programs_are_invariant_under_the_sgd_symmetry(
        depth in 1usize..=3,
        a in prop::collection::vec(exponent(), 4),
        b in prop::collection::vec(exponent(), 4),
        c in exponent(),
        theta in exponent(),
    ) {
        let abc = Abc::new(a[..=depth].to_vec(), b[..=depth].to_vec(), c).unwrap();
        let shifted = abc.shifted(theta).unwrap();
        let one = generate_mlp(&spec(abc, Builtin::Tanh, 2)).unwrap();
        let two = generate_mlp(&spec(shifted, Builtin::Tanh, 2)).unwrap();
        prop_assert_eq!(body(&one), body(&two));
    }
}

fn scaling_report(abc: Abc) -> (Program, tpc::scaling::Scaling) {
    let source = generate_mlp(&spec(abc, Builtin::Tanh, 1)).unwrap();
    let program = compile(&source);
    let scaling = analyze(&program, &ScalingOptions::default()).unwrap();
    (program, scaling)
}

fn size_of(program: &Program, scaling: &tpc::scaling::Scaling, name: &str) -> tpc::scaling::Size {
    let i = (0..program.instructions.len())
        .find(|&i| program.display_name(i) == name)
        .unwrap_or_else(|| panic!("no {name}"));
    scaling.quantities[i].as_ref().unwrap().size
}

/// The scaling analysis of generated programs against `tpc classify` (case 6) and the
/// measured slopes of case 5B: after one step, the feature change of hidden layer l is
/// Θ(n^{-min_{m≤l} r_m}), so `fc{l}[1]` is Θ(n^{-2 min_{m≤l} r_m}); SP with c = 0 blows up.
#[test]
fn scaling_of_generated_programs_matches_the_classification() {
    for depth in [1, 2] {
        for p in [sp(1), Preset::Ntp, Preset::Mup, Preset::Mfp] {
            let abc = preset(p, depth);
            let classification = tpc::param::classify(&abc).unwrap();
            let (program, scaling) = scaling_report(abc);
            let mut running = classification.r_layers[0];
            for l in 1..=depth {
                running = running.min(classification.r_layers[l - 1]);
                let size = size_of(&program, &scaling, &format!("fc{l}[1]"));
                assert!(
                    matches!(size.kind, SizeKind::Theta | SizeKind::ThetaRandom),
                    "{} L = {depth}: fc{l} is {size:?}",
                    p.name()
                );
                assert_eq!(
                    size.exponent,
                    running * -2,
                    "{} L = {depth}, layer {l}",
                    p.name()
                );
            }
            let delta = size_of(&program, &scaling, &format!("delta{depth}[1]"));
            assert_eq!(
                delta.exponent,
                -classification.r,
                "{} L = {depth}",
                p.name()
            );
            let stable = scaling
                .quantities
                .iter()
                .flatten()
                .all(|q| q.size.verdict() != Verdict::BlowsUp);
            assert!(stable, "{} L = {depth} is stable", p.name());
        }
        let (_, unstable) = scaling_report(preset(sp(0), depth));
        assert!(unstable
            .quantities
            .iter()
            .flatten()
            .any(|q| q.size.verdict() == Verdict::BlowsUp));
    }
}

/// The scaling reports of the presets, for L = 1 and 2 (one SGD step, tanh).
#[test]
fn scaling_reports_of_the_presets() {
    for depth in [1, 2] {
        for (label, p) in [
            ("sp_c0", sp(0)),
            ("sp_c1", sp(1)),
            ("ntp", Preset::Ntp),
            ("mup", Preset::Mup),
            ("mfp", Preset::Mfp),
        ] {
            let (program, scaling) = scaling_report(preset(p, depth));
            insta::assert_snapshot!(
                format!("scaling_{label}_L{depth}"),
                tpc::scaling::to_text(&program, &scaling)
            );
        }
    }
}

/// One random program with explicit width powers: every kind of node the analysis expands.
fn random_width_program(steps: &[(u8, u8, u8, i8)]) -> String {
    let mut lines = vec![
        "matrix W ~ N(0, 1/n)".to_string(),
        "vector v0, v1 ~ N(0, [[1, 0.3], [0.3, 0.8]])".to_string(),
        "vector v2 ~ N(0.5, 1)".to_string(),
    ];
    let mut count = 3;
    for &(kind, a, b, p) in steps {
        let (a, b) = (a as usize % count, b as usize % count);
        let power = format!("n^({}/{})", p, 1 + (p.unsigned_abs() % 3));
        let rhs = match kind % 12 {
            0 => format!("W @ v{a}"),
            1 => format!("W.T @ ({power} * v{a})"),
            2 => format!("tanh(v{a} + {power} * v{b})"),
            3 => format!("relu(v{a}) - relu(v{a} + {power} * v{b})"),
            4 => format!("step(v{a} + {power}) * v{b}"),
            5 => format!("v{a} / (1 + mean(v{b} * v{b}))"),
            6 => format!("{power} * mean(v{a} * v{b}) * v{a}"),
            7 => format!("exp({power} * v{a})"),
            8 => format!("sqrt(1 + v{a} ^ 2) ^ ({p}/3)"),
            9 => format!("v{a} ^ 3 - {power} * v{b} ^ 2"),
            10 => format!("log(2 + tanh(v{a})) * sin({power} * v{b})"),
            _ => format!("v{a} / mean(v{b})"),
        };
        lines.push(format!("v{count} = {rhs}"));
        count += 1;
    }
    lines.push(format!("k = mean(v{} * v0) * n^(1/2)", count - 1));
    lines.join("\n") + "\n"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The analysis never panics, whatever the powers and functions; every quantity gets a size.
    #[test]
    fn scaling_analysis_handles_any_program(
        steps in prop::collection::vec((0u8..12, 0u8..16, 0u8..16, -9i8..=9), 1..10),
    ) {
        let source = random_width_program(&steps);
        let program = compile(&source);
        let scaling = analyze(&program, &ScalingOptions::default()).unwrap();
        let text = tpc::scaling::to_text(&program, &scaling);
        prop_assert!(text.contains("k "), "{text}");
    }
}

/// A kinked nonlinearity and the logistic loss (χ = sigmoid(f₀) − y with f₀ a random Θ(1)
/// draw in NTP): the feature change is still Θ(n^{-r}) at every step.
#[test]
fn scaling_of_a_relu_network_trained_with_logistic_loss() {
    let abc = preset(Preset::Ntp, 2);
    let r = tpc::param::classify(&abc).unwrap().r;
    let mut spec = spec(abc, Builtin::Relu, 2);
    spec.loss = Loss::Logistic;
    let program = compile(&generate_mlp(&spec).unwrap());
    let scaling = analyze(&program, &ScalingOptions::default()).unwrap();
    for name in ["delta1[1]", "delta2[1]", "delta1[2]", "delta2[2]"] {
        let size = size_of(&program, &scaling, name);
        assert_eq!(size.kind, SizeKind::ThetaRandom, "{name}");
        assert_eq!(size.exponent, -r, "{name}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every valid specification generates a program that checks: any depth, number of steps
    /// (including none), nonlinearity, loss and number of training and evaluation inputs.
    #[test]
    fn generated_programs_always_check(
        depth in 1usize..=3,
        steps in 0usize..=3,
        nonlin in prop::sample::select(vec![
            Builtin::Tanh, Builtin::Relu, Builtin::Erf, Builtin::Gelu, Builtin::Id, Builtin::Sin,
        ]),
        logistic in any::<bool>(),
        inputs in prop::collection::vec(prop::collection::vec(-2.0f64..2.0, 3), 1..3),
        eval in prop::collection::vec(prop::collection::vec(-2.0f64..2.0, 3), 0..2),
        c in exponent(),
    ) {
        let mut abc = preset(Preset::Mup, depth);
        abc.c = c;
        let mut spec = spec(abc, nonlin, steps);
        spec.targets = inputs.iter().map(|x| x[0]).collect();
        spec.inputs = inputs;
        spec.eval = eval;
        if logistic {
            spec.loss = Loss::Logistic;
        }
        let source = generate_mlp(&spec).unwrap();
        let program = compile(&source);
        prop_assert!(!program.outputs.is_empty());
        analyze(&program, &ScalingOptions::default()).unwrap();
    }
}
