//! `tpc gen kernel`: the generated NNGP/NTK programs evaluate to the closed-form kernel
//! recursions (relu: the arc-cosine kernel; erf: Williams' arcsine kernel) computed here
//! independently, to 1e-12 relative (both sides are closed forms in double precision); every
//! specification generates a program that checks, with its input indices parallel; and the
//! command prints the program.

mod common;

use common::{stdout, tpc_in};
use tpc::builtins::Builtin;
use tpc::ir::LowerOptions;
use tpc::param::{generate_kernel, KernelSpec};

/// The fixtures' directory (relative to the crate root, the tests' working directory).
const DATA: &str = "tests/data";

/// The inputs of `tests/data/five.txt`: norms 1, 1, 2, √0.99 and √2.38.
const FIVE: [[f64; 3]; 5] = [
    [1.0, 0.0, 0.0],
    [0.6, 0.8, 0.0],
    [0.0, 0.0, 2.0],
    [0.5, -0.5, 0.7],
    [-1.5, 0.3, 0.2],
];

/// E[φ(u)φ(v)] and E[φ'(u)φ'(v)] for (u, v) centred Gaussian with variances q1, q2 and
/// covariance c.
type Maps = fn(f64, f64, f64) -> (f64, f64);

/// relu: the arc-cosine kernel of degree 1 and 0. θ by atan2, which is exact on the diagonal.
fn relu_maps(q1: f64, q2: f64, c: f64) -> (f64, f64) {
    let pi = std::f64::consts::PI;
    let theta = (q1 * q2 - c * c).max(0.0).sqrt().atan2(c);
    let e = (q1 * q2).sqrt() / (2.0 * pi) * (theta.sin() + (pi - theta) * theta.cos());
    (e, (pi - theta) / (2.0 * pi))
}

/// erf: (2/π) arcsin(2c/√((1+2q1)(1+2q2))) and (4/π)/√((1+2q1)(1+2q2) − 4c²).
fn erf_maps(q1: f64, q2: f64, c: f64) -> (f64, f64) {
    let pi = std::f64::consts::PI;
    let a = (1.0 + 2.0 * q1) * (1.0 + 2.0 * q2);
    (
        2.0 / pi * (2.0 * c / a.sqrt()).asin(),
        4.0 / pi / (a - 4.0 * c * c).sqrt(),
    )
}

/// The NNGP Σ^{L+1} and NTK Θ^{L+1} matrices by the layer recursion.
fn reference(maps: Maps, depth: usize, sw2: f64, sb2: f64) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let n = FIVE.len();
    let d = FIVE[0].len() as f64;
    let dot = |a: &[f64; 3], b: &[f64; 3]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut sigma: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| sw2 * dot(&FIVE[i], &FIVE[j]) / d + sb2)
                .collect()
        })
        .collect();
    let mut theta = sigma.clone();
    for _ in 0..depth {
        let mut next_sigma = sigma.clone();
        let mut next_theta = theta.clone();
        for i in 0..n {
            for j in 0..n {
                let (e, de) = maps(sigma[i][i], sigma[j][j], sigma[i][j]);
                next_sigma[i][j] = sw2 * e + sb2;
                next_theta[i][j] = next_sigma[i][j] + sw2 * de * theta[i][j];
            }
        }
        sigma = next_sigma;
        theta = next_theta;
    }
    (sigma, theta)
}

/// The N×N matrix of output `name` in `tpc eval --format json`.
fn matrix(json: &serde_json::Value, name: &str) -> Vec<Vec<f64>> {
    json["outputs"][name]["value"]
        .as_array()
        .unwrap_or_else(|| panic!("no matrix {name} in {json}"))
        .iter()
        .map(|row| {
            row.as_array()
                .expect("a row")
                .iter()
                .map(|v| v.as_f64().expect("every entry is evaluated"))
                .collect()
        })
        .collect()
}

fn assert_close(name: &str, got: &[Vec<f64>], expected: &[Vec<f64>], what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}: {name} rows");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert_eq!(g.len(), e.len(), "{what}: {name} columns");
        for (j, (g, e)) in g.iter().zip(e).enumerate() {
            assert!(
                (g - e).abs() <= 1e-12 * e.abs(),
                "{what}: {name}[{i}, {j}] = {g}, closed form {e} (relative error {:.1e})",
                (g - e).abs() / e.abs()
            );
        }
    }
}

#[test]
fn relu_and_erf_kernels_match_the_closed_form_recursion() {
    let cases: [(&str, Maps); 2] = [("relu", relu_maps), ("erf", erf_maps)];
    for (nonlin, maps) in cases {
        for bias in ["0", "0.1"] {
            let depth = 3;
            let what = format!("{nonlin}, depth {depth}, σb² = {bias}");
            let generated = stdout(&tpc_in(
                &[
                    "gen",
                    "kernel",
                    "--nonlin",
                    nonlin,
                    "--depth",
                    "3",
                    "--inputs",
                    "five.txt",
                    "--bias-var",
                    bias,
                    "--ntk",
                ],
                ".",
                "",
            ));
            // A program from standard input loads relative to the current directory.
            let out = stdout(&tpc_in(
                &["eval", "--format", "json", "-"],
                DATA,
                &generated,
            ));
            let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
            let sw2 = if nonlin == "relu" { 2.0 } else { 1.0 };
            let (nngp, ntk) = reference(maps, depth, sw2, bias.parse().unwrap());
            assert_close("NNGP", &matrix(&json, "NNGP"), &nngp, &what);
            assert_close("NTK", &matrix(&json, "NTK"), &ntk, &what);
        }
    }
}

#[test]
fn every_specification_generates_a_program_that_checks_with_parallel_inputs() {
    let options = LowerOptions {
        base_dir: Some(DATA.into()),
        parallel: true,
        ..LowerOptions::default()
    };
    for nonlin in Builtin::ALL {
        for depth in 1..=4 {
            for ntk in [false, true] {
                for bias_var in [0.0, 0.25] {
                    let spec = KernelSpec {
                        bias_var,
                        ..KernelSpec::new(nonlin, depth, "five.txt", ntk)
                    };
                    let what = spec.command();
                    let program = match generate_kernel(&spec) {
                        Ok(program) => program,
                        Err(e) => {
                            // The NTK needs φ': refused for step and sign, whose φ' is 0.
                            assert!(ntk && nonlin.derivative_vanishes(1), "{what}: {e}");
                            continue;
                        }
                    };
                    assert!(program.contains(&format!("# Generated by: {what}\n")));
                    let compile = |options: &LowerOptions| {
                        tpc::compile(program.as_bytes(), options)
                            .unwrap_or_else(|d| panic!("{what}:\n{}", d.render("gen.tp", &program)))
                    };
                    let unrolled = compile(&LowerOptions {
                        parallel: false,
                        ..options.clone()
                    });
                    let outputs = if ntk { 50 } else { 25 };
                    assert_eq!(unrolled.outputs.len(), outputs, "{what}");
                    assert!(
                        compile(&options).parallel.is_some(),
                        "{what}: the inputs i, j are not a parallel index space"
                    );
                }
            }
        }
    }
}

#[test]
fn the_command_prints_the_program() {
    let out = stdout(&tpc_in(
        &[
            "gen", "kernel", "--nonlin", "relu", "--depth", "2", "--inputs", "data.txt", "--ntk",
        ],
        ".",
        "",
    ));
    insta::assert_snapshot!(out);
}

#[test]
fn bad_specifications_are_usage_errors() {
    for (args, message) in [
        (&["--nonlin", "softmax"][..], "unknown nonlinearity"),
        (&["--nonlin", "step", "--ntk"][..], "derivative is zero"),
        (
            &["--nonlin", "relu", "--weight-var", "0"][..],
            "weight variance",
        ),
        (
            &["--nonlin", "relu", "--bias-var", "-1"][..],
            "bias variance",
        ),
        (&["--nonlin", "relu", "--depth", "0"][..], "depth"),
    ] {
        let mut all = vec!["gen", "kernel", "--inputs", "x.txt"];
        if !args.contains(&"--depth") {
            all.extend(["--depth", "2"]);
        }
        all.extend(args);
        let out = tpc_in(&all, ".", "");
        assert_eq!(out.status.code(), Some(2), "{all:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{all:?}: {stderr}");
    }
}
