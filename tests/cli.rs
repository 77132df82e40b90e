//! The `tpc` binary: exit codes, input from files and standard input, output formats, help.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn tpc(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tpc"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tpc starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes())
        .expect("stdin accepts the program");
    child.wait_with_output().expect("tpc finishes")
}

const VALID: &str = "matrix W ~ N(0, 2/n)\nvector x ~ N(0, 1)\nh = W @ x\nk = mean(relu(h)^2)\n";

#[test]
fn a_valid_program_exits_0_with_a_summary() {
    let out = tpc(&["check", "-"], VALID);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("W ~ N(0, 2/n)"), "{stdout}");
    assert!(stdout.contains("outputs      1: k"), "{stdout}");
    assert!(out.stderr.is_empty());
}

#[test]
fn a_program_error_exits_1_with_a_diagnostic_on_stderr() {
    let out = tpc(&["check", "-"], "vector x ~ N(0, 1)\nk = mean(x * y)\n");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("error[E0101]: unknown name `y`"),
        "{stderr}"
    );
    assert!(stderr.contains("<stdin>:2:14"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_missing_file_exits_1() {
    let out = tpc(&["check", "no/such/file.tp"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("cannot read"));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(tpc(&["check"], "").status.code(), Some(2));
    assert_eq!(tpc(&["check", "--bogus", "-"], "").status.code(), Some(2));
    assert_eq!(tpc(&["frobnicate"], "").status.code(), Some(2));
    assert_eq!(
        tpc(&["check", "--format", "xml", "-"], "").status.code(),
        Some(2)
    );
}

#[test]
fn json_output_is_the_ir() {
    let out = tpc(&["check", "--format", "json", "-"], VALID);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let instructions = json["instructions"]
        .as_array()
        .expect("an instruction list");
    let ops: Vec<&str> = instructions
        .iter()
        .map(|i| i["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["matrix", "group", "init_vector", "mat_mul", "moment"]);
    assert_eq!(json["outputs"], serde_json::json!([4]));
}

#[test]
fn dot_output_is_a_graph() {
    let out = tpc(&["check", "--dot", "-"], VALID);
    assert_eq!(out.status.code(), Some(0));
    let dot = String::from_utf8(out.stdout).unwrap();
    assert!(dot.starts_with("digraph {"), "{dot}");
    assert!(dot.contains("h = W @ x"), "{dot}");
    assert!(dot.contains("0 -> 3"), "{dot}");
}

#[test]
fn the_instruction_limit_is_configurable() {
    let program = "vector x[i in 0..100] ~ N(0, 1)\n";
    let out = tpc(&["check", "--max-instructions", "50", "-"], program);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("E0140"));
}

#[test]
fn help_describes_every_command_and_option() {
    let top = String::from_utf8(tpc(&["--help"], "").stdout).unwrap();
    assert!(
        top.contains("check") && top.contains("Exit status"),
        "{top}"
    );
    let check = String::from_utf8(tpc(&["check", "--help"], "").stdout).unwrap();
    for option in [
        "--format",
        "--dot",
        "--max-instructions",
        "standard input",
        "Examples",
    ] {
        assert!(
            check.contains(option),
            "`tpc check --help` lacks {option}:\n{check}"
        );
    }
}

const TRANSPOSE: &str = "matrix W ~ N(0, 2/n)\nvector x ~ N(0, 1)\nh = W @ x\na = tanh(h)\ny = W.T @ a\nm1 = mean(x * y)\n";

#[test]
fn derive_prints_the_zdot_in_text_latex_and_json() {
    let text = String::from_utf8(tpc(&["derive", "-"], TRANSPOSE).stdout).unwrap();
    assert!(text.contains("Ż^{Wᵀa} = 2·E[∂Z^a/∂Ẑ^{Wx}]·Z^x"), "{text}");
    let latex =
        String::from_utf8(tpc(&["derive", "--format", "latex", "-"], TRANSPOSE).stdout).unwrap();
    assert!(
        latex.contains("\\begin{align}") && latex.contains("\\dot{Z}^{W^{\\top} a}"),
        "{latex}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&tpc(&["derive", "--format", "json", "-"], TRANSPOSE).stdout)
            .unwrap();
    assert_eq!(json["zdot_vanishes"], false);
}

#[test]
fn eval_reports_value_error_and_method() {
    let out = tpc(&["eval", "--format", "json", "-"], TRANSPOSE);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m1 = &json["outputs"]["m1"];
    assert!(
        (m1["value"].as_f64().unwrap() - 0.960048508667).abs() < 1e-9,
        "{json}"
    );
    assert!(m1["error"].as_f64().unwrap() < 1e-9);
    assert_eq!(m1["method"], "exact");
    let text = String::from_utf8(
        tpc(
            &["eval", "--method", "mc", "--samples", "20000", "-"],
            TRANSPOSE,
        )
        .stdout,
    )
    .unwrap();
    assert!(text.contains("Monte Carlo"), "{text}");
}

#[test]
fn simulate_prints_means_rms_and_slope() {
    let out = tpc(
        &[
            "simulate", "--widths", "64,256", "--seeds", "3", "--format", "json", "-",
        ],
        TRANSPOSE,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m1 = &json[0];
    assert_eq!(m1["name"], "m1");
    assert_eq!(m1["widths"].as_array().unwrap().len(), 2);
    assert!(m1["slope"].is_number());
    // Far within four standard errors of the limit even at n = 256 (RMS ≈ 0.08 there).
    let mean = m1["widths"][1]["mean"].as_f64().unwrap();
    assert!((mean - 0.96).abs() < 0.3, "{mean}");
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

// `tpc gen mlp` and `tpc derive --scaling`.

#[test]
fn generated_mup_program_evaluates_to_case_5c() {
    let generated = tpc(
        &[
            "gen", "mlp", "--depth", "2", "--steps", "1", "--param", "mup", "--nonlin", "id",
        ],
        "",
    );
    assert_eq!(generated.status.code(), Some(0), "{}", stderr(&generated));
    let program = stdout(&generated);
    assert!(program.contains("matrix W2 ~ N(0, 1.0 / n)"), "{program}");
    let code: Vec<&str> = program.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(
        code.iter().all(|l| !l.contains("n^(")),
        "μP needs no explicit width power:\n{program}"
    );
    let out = tpc(&["eval", "--format", "json", "-"], &program);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!((json["outputs"]["f[1, 0]"]["value"].as_f64().unwrap() - 3.0).abs() < 1e-12);
    assert!((json["outputs"]["fc2[1]"]["value"].as_f64().unwrap() - 1.25).abs() < 1e-12);
}

#[test]
fn custom_exponents_write_explicit_powers_and_scale() {
    // SP with c = 1 written as a custom abc: the updates carry n^(-3/2) and n^(-1/2).
    let generated = tpc(
        &[
            "gen", "mlp", "--depth", "1", "--a", "0,0", "--b", "0,1/2", "--c", "1", "--nonlin",
            "tanh",
        ],
        "",
    );
    assert_eq!(generated.status.code(), Some(0), "{}", stderr(&generated));
    let program = stdout(&generated);
    assert!(program.contains("n^(-3/2)"), "{program}");
    assert!(program.contains("n^(1/2) * mean(v[0]"), "{program}");
    // The ordinary derivation refuses explicit powers and points at --scaling.
    let derive = tpc(&["derive", "-"], &program);
    assert_eq!(derive.status.code(), Some(1));
    assert!(stderr(&derive).contains("--scaling"), "{}", stderr(&derive));
    let scaling = tpc(&["derive", "--scaling", "--format", "json", "-"], &program);
    assert_eq!(scaling.status.code(), Some(0), "{}", stderr(&scaling));
    let json: serde_json::Value = serde_json::from_str(&stdout(&scaling)).unwrap();
    let fc = &json["quantities"]["fc1[1]"];
    assert_eq!(fc["exponent"], "-3");
    assert_eq!(fc["verdict"], "vanishes");
    assert_eq!(json["quantities"]["f[0, 0]"]["size"], "fluctuation");
    assert_eq!(json["quantities"]["f[0, 0]"]["verdict"], "indeterminate");
}

#[test]
fn scaling_text_names_what_blows_up() {
    let program = stdout(&tpc(&["gen", "mlp", "--depth", "1", "--param", "sp"], ""));
    let out = tpc(&["derive", "--scaling", "-"], &program);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Unstable: 3 quantities blow up: v[1] (Θ(n^(1/2)), random)"),
        "{text}"
    );
}

#[test]
fn bad_generator_arguments_are_usage_errors() {
    for (args, message) in [
        (vec!["--inputs", "[[1, 0"], "--inputs must be a JSON list"),
        (
            vec!["--targets", "[1, 2]"],
            "2 target(s) for 1 training input(s)",
        ),
        (vec!["--nonlin", "swish"], "unknown nonlinearity `swish`"),
        (
            vec!["--nonlin", "step"],
            "derivative is zero almost everywhere",
        ),
        (
            vec!["--eval", "[[1, 2, 3]]"],
            "inputs have 2 coordinates, but one has 3",
        ),
        (vec!["--sigma", "1,2"], "σ needs 1 or 3 values"),
        (vec!["--lr", "-1"], "learning rate must be positive"),
        (
            vec!["--a", "0,x,0", "--b", "0,0,0", "--c", "0"],
            "is not an exponent",
        ),
        (
            vec!["--a", "0,0", "--b", "0,0", "--c", "0"],
            "--depth 2 needs 3 exponents",
        ),
        (
            vec!["--a", "0,0,99999999999/7", "--b", "0,0,0", "--c", "0"],
            "at most",
        ),
    ] {
        let mut all = vec!["gen", "mlp"];
        all.extend(args.iter().copied());
        let out = tpc(&all, "");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
    let latex = tpc(
        &["derive", "--scaling", "--format", "latex", "-"],
        "vector x ~ N(0, 1)\n",
    );
    assert_eq!(latex.status.code(), Some(2));
}

#[test]
fn programs_with_explicit_width_powers_are_simulated_without_a_limit() {
    let program = stdout(&tpc(
        &[
            "gen", "mlp", "--depth", "1", "--param", "ntp", "--nonlin", "tanh",
        ],
        "",
    ));
    let out = tpc(
        &[
            "simulate", "-", "--widths", "64,128", "--seeds", "2", "--format", "json",
        ],
        &program,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no limit to compare with"),
        "{}",
        stderr(&out)
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let first = &json[0];
    assert_eq!(first["name"], "f[0, 0]");
    assert!(first["limit"].is_null());
    assert_eq!(first["widths"].as_array().unwrap().len(), 2);
    assert!(first["widths"][0]["rms_deviation"].is_null());
}
