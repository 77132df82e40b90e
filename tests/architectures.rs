//! The architecture programs (convolution, pooling, LayerNorm, residual blocks, attention) evaluated
//! exactly and checked against neural-tangents: the reference kernels in
//! tests/data/architectures/neural_tangents.txt were computed with its `stax` in float64 by
//! tests/data/architectures/neural_tangents_reference.py (run by hand, not by the tests).

use std::collections::HashMap;
use tpc::eval::{EvalOptions, Method, Used, Value};
use tpc::ir::LowerOptions;

/// Every output entry of `programs/<file>` by name (`K[0, 1]`), evaluated with `method`.
fn evaluate(file: &str, method: Method) -> HashMap<String, Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("programs")
        .join(file);
    let source = std::fs::read_to_string(path).expect("program");
    evaluate_source(&source, file, method)
}

/// Every output entry of the program `source` (reported as `file`) by name, evaluated with
/// `method`.
fn evaluate_source(source: &str, file: &str, method: Method) -> HashMap<String, Value> {
    let program = tpc::compile(source.as_bytes(), &LowerOptions::default())
        .unwrap_or_else(|d| panic!("{}", d.render(file, source)));
    let limit = tpc::limit::derive(&program).expect("derives");
    let options = EvalOptions {
        method,
        ..EvalOptions::default()
    };
    let evaluation = tpc::eval::evaluate(&limit, &options, None)
        .unwrap_or_else(|e| panic!("{}", e.to_diagnostic().render(file, source)));
    limit
        .scalars
        .iter()
        .enumerate()
        .filter_map(|(s, scalar)| match scalar.role {
            tpc::limit::ScalarRole::Instruction(i) => {
                Some((limit.names[i].clone(), evaluation.scalars[s]))
            }
            _ => None,
        })
        .collect()
}

/// Every entry of every output family of the program `source` by name (`NNGP[0, 1]`), as
/// `tpc eval` computes it (families over the inputs evaluated as arrays), with the method.
fn evaluate_arrays(source: &str) -> (HashMap<String, f64>, Used) {
    let evaluated = tpc::evaluate_outputs(
        source.as_bytes(),
        &LowerOptions::default(),
        &EvalOptions::default(),
        None,
        None,
    )
    .expect("evaluates");
    assert!(
        evaluated
            .notes
            .iter()
            .all(|n| !n.kind.contains("particles")),
        "auto chose particles: {:?}",
        evaluated.notes
    );
    let mut entries = HashMap::new();
    let mut method = Used::Exact;
    for output in &evaluated.outputs {
        let tpc::output::OutputValue::Family(f) = output else {
            panic!("the outputs are families");
        };
        method = method.max(f.method);
        for (index, &v) in f.values.indexed_iter() {
            if !v.is_nan() {
                let [i, j] = ndarray::Dimension::slice(&index) else {
                    panic!("matrices")
                };
                entries.insert(format!("{}[{i}, {j}]", f.name), v);
            }
        }
    }
    (entries, method)
}

/// The neural-tangents reference entries of one program: `(i, j, value)`.
fn reference(name: &str) -> Vec<(usize, usize, f64)> {
    let text = include_str!("data/architectures/neural_tangents.txt");
    let rows: Vec<(usize, usize, f64)> = text
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            (f[0] == name).then(|| {
                (
                    f[1].parse().unwrap(),
                    f[2].parse().unwrap(),
                    f[3].parse().unwrap(),
                )
            })
        })
        .collect();
    assert!(!rows.is_empty(), "no reference for {name}");
    rows
}

/// Each program's kernel against neural-tangents, entry by entry, under `--method exact`
/// (so every expectation is a closed form or Gaussian algebra: no quadrature, no Monte Carlo).
/// Both sides are exact up to rounding of a few dozen operations, so they must agree to
/// `tolerance`: 1e-12, except LayerNorm, where neural-tangents adds ε = 1e-12 to the variance
/// and so differs by about 1e-12 relative (2e-12 is allowed).
#[test]
fn kernels_match_neural_tangents_exactly() {
    for (file, name, tolerance) in [
        ("cnn1d_nngp.tp", "cnn1d", 1e-12),
        ("cnn2d_nngp.tp", "cnn2d", 1e-12),
        ("layernorm_nngp.tp", "layernorm", 2e-12),
        ("resnet_block_nngp.tp", "resnet_block", 1e-12),
        ("attention_nngp.tp", "attention", 1e-12),
    ] {
        let values = evaluate(file, Method::Exact);
        for (i, j, want) in reference(name) {
            let entry = format!("K[{i}, {j}]");
            let got = values[&entry];
            assert!(
                (got.value - want).abs() <= tolerance,
                "{file} {entry} = {} ({:?}), neural-tangents {want}",
                got.value,
                got.method
            );
            assert!(matches!(got.method, Used::Exact | Used::ClosedForm));
            assert!(got.error <= 1e-12, "{file} {entry}: error {}", got.error);
        }
    }
}

/// LayerNorm's `mean(relu(y) * relu(y))` with `y = (h − μ)/√v` is exactly 1/2 (so the
/// diagonal of `K = 2 · mean(…)` is 1): `y` is a standard Gaussian in the limit, whatever the
/// variance of `h`. Rounding in μ = 0 and v is at most a few ulps, so 1e-15 is asserted.
#[test]
fn layernorm_diagonal_is_one_half_of_two() {
    let values = evaluate("layernorm_nngp.tp", Method::Exact);
    for i in 0..2 {
        let k = values[&format!("K[{i}, {i}]")];
        assert!((k.value - 1.0).abs() <= 1e-15, "K[{i}, {i}] = {}", k.value);
        assert_eq!(values[&format!("mu[{i}]")].value, 0.0, "E[Ẑ] = 0 exactly");
    }
}

/// Batch norm mixes the inputs coordinate by coordinate, so its entries are 3-dimensional
/// expectations with kinks along non-affine surfaces: Monte Carlo. Checked against an
/// independent 1-D angular integral (tests/data/architectures/batchnorm_reference.py, SciPy
/// adaptive quadrature to 1e-12) within 4 reported standard errors (a false alarm has
/// probability below 1e-4 per entry).
#[test]
fn batch_norm_agrees_with_an_independent_integral_within_its_error() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("programs/batchnorm_nngp.tp");
    let source = std::fs::read_to_string(path).expect("program");
    let program = tpc::compile(source.as_bytes(), &LowerOptions::default()).expect("compiles");
    let limit = tpc::limit::derive(&program).expect("derives");
    let options = EvalOptions {
        samples: 200_000,
        ..EvalOptions::default()
    };
    let evaluation = tpc::eval::evaluate(&limit, &options, None).expect("evaluates");
    let text = include_str!("data/architectures/batchnorm.txt");
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let entry = format!("K[{}, {}]", f[1], f[2]);
        let want: f64 = f[3].parse().unwrap();
        let s = limit
            .scalars
            .iter()
            .position(|s| matches!(s.role, tpc::limit::ScalarRole::Instruction(i) if limit.names[i] == entry))
            .expect("an output entry");
        let got = evaluation.scalars[s];
        assert!(
            got.error > 0.0 && got.error < 1e-2,
            "{entry}: error {}",
            got.error
        );
        assert!(
            (got.value - want).abs() <= 4.0 * got.error,
            "{entry} = {} ± {}, reference {want}",
            got.value,
            got.error
        );
    }
}

/// Affine arguments with shifts, through the whole evaluator: `relu(u + 0.3)`, `step(v − 0.2)`
/// and `erf` of both, `(u, v)` centred with variances 1, 2.25 and covariance 0.6 (ρ = 0.4).
/// Exact under `--method exact`, equal to mpmath references at 30 digits
/// (tests/data/bivariate/shifted_products.txt, first row) within 1e-13, the accuracy of the
/// bivariate normal distribution function times the few terms of each formula.
#[test]
fn shifted_pairs_are_closed_forms() {
    let source = "vector u, v ~ N(0, [[1, 0.6], [0.6, 2.25]])
a = u + 0.3
b = v - 0.2
rr = mean(relu(a) * relu(b))
rs = mean(relu(a) * step(b))
ss = mean(step(a) * step(b))
ee = mean(erf(a) * erf(b))
pool = mean((relu(a) + step(b)) * (relu(a) + step(b)))
output rr, rs, ss, ee, pool
";
    let program = tpc::compile(source.as_bytes(), &LowerOptions::default()).expect("compiles");
    let limit = tpc::limit::derive(&program).expect("derives");
    let options = EvalOptions {
        method: Method::Exact,
        ..EvalOptions::default()
    };
    let evaluation = tpc::eval::evaluate(&limit, &options, None).expect("exact");
    let value = |name: &str| {
        let s = limit
            .scalars
            .iter()
            .position(|s| matches!(s.role, tpc::limit::ScalarRole::Instruction(i) if limit.names[i] == name))
            .expect("an output");
        evaluation.scalars[s].value
    };
    let text = include_str!("data/bivariate/shifted_products.txt");
    let row: Vec<f64> = text
        .lines()
        .find(|l| !l.starts_with('#'))
        .expect("a data row")
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(
        &row[..5],
        &[0.3, -0.2, 1.0, 1.5, 0.4],
        "the first reference row"
    );
    let (rr, rs, ss, ee) = (row[5], row[6], row[7], row[8]);
    for (name, want) in [("rr", rr), ("rs", rs), ("ss", ss), ("ee", ee)] {
        assert!(
            (value(name) - want).abs() < 1e-13,
            "{name} = {}",
            value(name)
        );
    }
    // (relu(a) + step(b))² = relu(a)² + 2 relu(a) step(b) + step(b): E relu(m + Z)² =
    // (m² + 1)Φ(m) + mφ(m) at m = 0.3, and P(v > 0.2) = Φ(−0.2/1.5), from the 1-D forms.
    let phi = |x: f64| (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let cdf = |x: f64| 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2);
    let square = (0.09 + 1.0) * cdf(0.3) + 0.3 * phi(0.3);
    let want = square + 2.0 * rs + cdf(-0.2 / 1.5);
    assert!(
        (value("pool") - want).abs() < 1e-13,
        "pool = {}",
        value("pool")
    );
}

/// `tpc gen cnn` programs (NNGP and NTK) against neural-tangents: the 1-D network of
/// cnn1d_nngp.tp, two 3×3 SAME convolutions with stride 2 on 3×3 images, and three 3×3 SAME
/// convolutions on four 5×5 images of two channels (the shape of the 100-image benchmark).
/// Exact both unrolled under `--method exact` and as arrays over the inputs under `auto` (which
/// must not hand them to particles); both sides are exact up to rounding, so 1e-12 is asserted.
#[test]
fn generated_cnn_kernels_match_neural_tangents() {
    use tpc::param::{generate_cnn, CnnSpec, Padding};
    let image = |rows: [[f64; 3]; 3]| -> Vec<Vec<f64>> {
        rows.iter().flatten().map(|&x| vec![x]).collect()
    };
    // x[i, p, q, c] = ((7i + 3p + 5q + 11c) mod 13 − 6)/4, as the reference script builds it.
    let deep_inputs: Vec<Vec<Vec<f64>>> = (0..4)
        .map(|i| {
            (0..25)
                .map(|pq| {
                    let (p, q) = (pq / 5, pq % 5);
                    (0..2)
                        .map(|c| (((7 * i + 3 * p + 5 * q + 11 * c) % 13) as f64 - 6.0) / 4.0)
                        .collect()
                })
                .collect()
        })
        .collect();
    let cases = [
        (
            CnnSpec {
                nonlin: tpc::builtins::Builtin::Relu,
                depth: 2,
                dims: 1,
                kernel: 2,
                stride: 1,
                padding: Padding::Valid,
                weight_var: 2.0,
                inputs: vec![
                    [1.0, 0.5, -0.3, 0.7].iter().map(|&x| vec![x]).collect(),
                    [0.2, -1.0, 0.8, 0.4].iter().map(|&x| vec![x]).collect(),
                ],
                shape: vec![4],
                ntk: true,
            },
            [("NNGP", "cnn1d"), ("NTK", "gen_cnn1d_ntk")],
        ),
        (
            CnnSpec {
                nonlin: tpc::builtins::Builtin::Relu,
                depth: 2,
                dims: 2,
                kernel: 3,
                stride: 2,
                padding: Padding::Same,
                weight_var: 2.0,
                inputs: vec![
                    image([[1.0, 0.5, -0.3], [0.7, 0.2, -1.0], [0.8, 0.4, 0.1]]),
                    image([[-0.6, 0.9, 0.3], [0.5, -0.2, 0.7], [0.1, 1.0, -0.4]]),
                ],
                shape: vec![3, 3],
                ntk: true,
            },
            [("NNGP", "gen_cnn2d_nngp"), ("NTK", "gen_cnn2d_ntk")],
        ),
        (
            CnnSpec {
                nonlin: tpc::builtins::Builtin::Relu,
                depth: 3,
                dims: 2,
                kernel: 3,
                stride: 1,
                padding: Padding::Same,
                weight_var: 2.0,
                inputs: deep_inputs,
                shape: vec![5, 5],
                ntk: true,
            },
            [
                ("NNGP", "gen_cnn2d_deep_nngp"),
                ("NTK", "gen_cnn2d_deep_ntk"),
            ],
        ),
    ];
    for (spec, references) in cases {
        let source = generate_cnn(&spec).expect("generates");
        let unrolled = evaluate_source(&source, "gen.tp", Method::Exact);
        let (arrays, method) = evaluate_arrays(&source);
        assert_eq!(method, Used::ClosedForm);
        for (output, name) in references {
            for (i, j, want) in reference(name) {
                let entry = format!("{output}[{i}, {j}]");
                for (got, path) in [
                    (unrolled[&entry].value, "unrolled"),
                    (arrays[&entry], "arrays"),
                ] {
                    assert!(
                        (got - want).abs() <= 1e-12,
                        "{name} {entry} = {got} ({path}), neural-tangents {want}; arrays {}",
                        arrays[&entry]
                    );
                }
            }
        }
    }
}

/// `tpc gen cnn` prints a program that `tpc check` accepts, and refuses bad inputs and a kernel
/// larger than a VALID input with a usage error (exit code 2) that says why.
#[test]
fn gen_cnn_on_the_command_line() {
    let tpc = env!("CARGO_BIN_EXE_tpc");
    let run = |args: &[&str]| std::process::Command::new(tpc).args(args).output().unwrap();
    let out = run(&[
        "gen",
        "cnn",
        "--dims",
        "2",
        "--kernel",
        "3",
        "--padding",
        "same",
        "--pool",
        "global",
        "--inputs",
        "[[[1,0],[0,1]],[[0.5,1],[-1,0]]]",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let program = String::from_utf8(out.stdout).unwrap();
    tpc::compile(program.as_bytes(), &LowerOptions::default()).expect("checks");
    for (inputs, message) in [
        ("[[1, 2]]", "every input must be a 2-D grid"),
        ("[[[1,2],[3,4]],[[1,2]]]", "all of one shape"),
    ] {
        let out = run(&["gen", "cnn", "--dims", "2", "--inputs", inputs]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains(message));
    }
    let out = run(&[
        "gen",
        "cnn",
        "--dims",
        "1",
        "--kernel",
        "5",
        "--padding",
        "valid",
        "--inputs",
        "[[1, 2, 3]]",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("smaller than the kernel"));

    // Inputs from a file: the same program as inline. A 20 × 20 image pooled at depth 1 has
    // 400 positions, more than the 362 whose pooled product is multiplied out.
    let dir = std::env::temp_dir().join(format!("tpc-gen-cnn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("images.json");
    std::fs::write(&file, "[[[1,0],[0,1]],[[0.5,1],[-1,0]]]").unwrap();
    let gen_2d = |options: &[&str], inputs: &str| {
        let mut args = vec!["gen", "cnn", "--dims", "2"];
        args.extend_from_slice(options);
        args.extend_from_slice(&["--inputs", inputs]);
        run(&args)
    };
    let path = file.to_str().unwrap();
    let from_file = gen_2d(&["--kernel", "3"], path);
    let inline = gen_2d(&["--kernel", "3"], "[[[1,0],[0,1]],[[0.5,1],[-1,0]]]");
    assert!(from_file.status.success());
    assert_eq!(from_file.stdout, inline.stdout);
    let image = format!(
        "[[{}]]",
        vec![format!("[{}]", vec!["0.5"; 20].join(",")); 20].join(",")
    );
    std::fs::write(&file, &image).unwrap();
    let out = gen_2d(&["--depth", "1"], path);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at most 362"));
}

/// `tpc gen resnet` (two blocks, NNGP and NTK) against neural-tangents' FanOut/FanInSum network
/// on the inputs of layernorm_nngp.tp. Exact under `--method exact`; the kernels are of order
/// 10, so 1e-11 absolute (1e-12 relative) is asserted.
#[test]
fn generated_resnet_kernels_match_neural_tangents() {
    use tpc::param::{generate_resnet, ResnetSpec};
    let spec = ResnetSpec {
        nonlin: tpc::builtins::Builtin::Relu,
        blocks: 2,
        weight_var: 2.0,
        inputs: vec![vec![1.0, 0.0], vec![0.9, 1.2]],
        ntk: true,
    };
    let source = generate_resnet(&spec).expect("generates");
    let values = evaluate_source(&source, "gen.tp", Method::Exact);
    for (output, name) in [("NNGP", "gen_resnet_nngp"), ("NTK", "gen_resnet_ntk")] {
        for (i, j, want) in reference(name) {
            let entry = format!("{output}[{i}, {j}]");
            let got = values[&entry].value;
            assert!(
                (got - want).abs() <= 1e-11,
                "{entry} = {got}, neural-tangents {want}"
            );
        }
    }
}

/// `tpc gen transformer-block` (NNGP and NTK) against neural-tangents' network of the same
/// layers (Dense embedding, FanOut/FanInSum residuals around LayerNorm → GlobalSelfAttention with
/// linear scaling and LayerNorm → Dense → φ → Dense, GlobalAvgPool, Dense) on two sequences of
/// three tokens: two blocks with relu, and one block of two heads with erf and σw² = 1.5.
/// Exact under `--method exact`; the references use LayerNorm with ε = 0 (as the limit has), so
/// both sides are exact up to the rounding of a few hundred operations (observed: 7e-16
/// relative): 1e-13 relative is asserted.
#[test]
fn generated_transformer_kernels_match_neural_tangents() {
    use tpc::builtins::Builtin;
    use tpc::param::{generate_transformer, TransformerSpec};
    let tokens = vec![
        vec![vec![1.0, 0.0], vec![0.6, 0.8], vec![-0.5, 0.5]],
        vec![vec![0.2, -1.0], vec![0.9, 0.3], vec![0.0, 1.2]],
    ];
    let cases = [
        (Builtin::Relu, 2, 1, 2.0, "gen_transformer"),
        (Builtin::Erf, 1, 2, 1.5, "gen_transformer_erf"),
    ];
    for (nonlin, blocks, heads, weight_var, name) in cases {
        let spec = TransformerSpec {
            nonlin,
            blocks,
            heads,
            weight_var,
            inputs: tokens.clone(),
            ntk: true,
        };
        let source = generate_transformer(&spec).expect("generates");
        let values = evaluate_source(&source, "gen.tp", Method::Exact);
        for output in ["NNGP", "NTK"] {
            let reference_name = format!("{name}_{}", output.to_lowercase());
            for (i, j, want) in reference(&reference_name) {
                let entry = format!("{output}[{i}, {j}]");
                let got = values[&entry];
                assert!(
                    (got.value - want).abs() <= 1e-13 * want.abs(),
                    "{reference_name} {entry} = {}, neural-tangents {want}",
                    got.value
                );
                assert!(matches!(got.method, Used::Exact | Used::ClosedForm));
            }
        }
    }
}

/// `tpc gen transformer-block` prints a program that `tpc check` accepts, and refuses bad
/// inputs and options with a usage error (exit code 2) that says why, never a panic.
#[test]
fn gen_transformer_block_on_the_command_line() {
    let tpc = env!("CARGO_BIN_EXE_tpc");
    let run = |args: &[&str]| std::process::Command::new(tpc).args(args).output().unwrap();
    let out = run(&[
        "gen",
        "transformer-block",
        "--blocks",
        "2",
        "--heads",
        "2",
        "--ntk",
        "--inputs",
        "[[[1,0],[0,1]],[[0.5,1],[-1,0]]]",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let program = String::from_utf8(out.stdout).unwrap();
    tpc::compile(program.as_bytes(), &LowerOptions::default()).expect("checks");
    let tokens = "[[[1,0],[0,1]]]";
    for (args, message) in [
        (vec!["--inputs", "[[1, 2]]"], "JSON list of sequences"),
        (vec!["--inputs", "[]"], "sequences of one length"),
        (
            vec!["--inputs", "[[[1,0],[0,1]],[[1,0]]]"],
            "sequences of one length",
        ),
        (
            vec!["--inputs", "[[[1,0],[0,1,2]]]"],
            "tokens of one dimension",
        ),
        (vec!["--inputs", "[[[1e200, 0]]]"], "not a finite number"),
        (
            vec!["--inputs", "[[[1, 0]], [[0, 0]]]"],
            "sequence 1 has a token",
        ),
        (
            vec!["--nonlin", "nope", "--inputs", tokens],
            "unknown nonlinearity",
        ),
        (
            vec!["--nonlin", "step", "--ntk", "--inputs", tokens],
            "derivative is zero",
        ),
        (
            vec!["--weight-var", "-1", "--inputs", tokens],
            "positive number",
        ),
        (vec!["--blocks", "0", "--inputs", tokens], "--blocks"),
        (vec!["--heads", "0", "--inputs", tokens], "--heads"),
    ] {
        let mut all = vec!["gen", "transformer-block"];
        all.extend(args.iter().copied());
        let out = run(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    let many = format!("[{}]", vec!["[[1,0],[0,1]]"; 33].join(","));
    let out = run(&["gen", "transformer-block", "--inputs", &many]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at most 64"));
}

/// The transformer program shown in docs/architectures.md is what `tpc gen transformer-block`
/// prints for the command shown above it (so the page cannot go stale).
#[test]
fn the_documented_transformer_program_is_what_gen_prints() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tpc"))
        .args([
            "gen",
            "transformer-block",
            "--blocks",
            "2",
            "--ntk",
            "--inputs",
            "[[[1,0],[0.6,0.8],[-0.5,0.5]],[[0.2,-1],[0.9,0.3],[0,1.2]]]",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let program = String::from_utf8(out.stdout).unwrap();
    let docs = include_str!("../docs/architectures.md");
    let section = &docs[docs
        .find("`transformer.tp`:\n\n```tp\n")
        .expect("the documented program")..];
    let start = section.find("```tp\n").unwrap() + "```tp\n".len();
    let end = start + section[start..].find("```").unwrap();
    assert_eq!(&section[start..end], program);
}

/// The heads of `tpc gen transformer-block` share the limit of their scores, so one head and
/// three heads give the same kernels; the programs differ (three sets of attention matrices,
/// W_O of variance 1/(3n)), so the values are computed independently and agree up to rounding:
/// 1e-13 relative is asserted.
#[test]
fn transformer_kernels_do_not_depend_on_the_number_of_heads() {
    use tpc::param::{generate_transformer, TransformerSpec};
    let kernels = |heads: usize| -> Vec<f64> {
        let spec = TransformerSpec {
            nonlin: tpc::builtins::Builtin::Tanh,
            blocks: 1,
            heads,
            weight_var: 1.0,
            inputs: vec![
                vec![vec![1.0, 0.5], vec![-0.3, 0.7]],
                vec![vec![0.2, -1.0], vec![0.8, 0.4]],
            ],
            ntk: true,
        };
        let source = generate_transformer(&spec).expect("generates");
        let evaluated = evaluate_source(&source, "gen.tp", Method::Auto);
        let mut values = Vec::new();
        for output in ["NNGP", "NTK"] {
            for (i, j) in [(0, 0), (0, 1), (1, 1)] {
                values.push(evaluated[&format!("{output}[{i}, {j}]")].value);
            }
        }
        values
    };
    let (one, three) = (kernels(1), kernels(3));
    for (a, b) in one.iter().zip(&three) {
        assert!((a - b).abs() <= 1e-13 * a.abs(), "{one:?} vs {three:?}");
    }
}
