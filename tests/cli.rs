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
    let written = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes());
    // A command that fails on its arguments exits without reading its input: a closed pipe.
    if let Err(e) = written {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "stdin: {e}");
    }
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
fn a_missing_file_exits_3() {
    let out = tpc(&["check", "no/such/file.tp"], "");
    assert_eq!(out.status.code(), Some(3));
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
fn check_lowers_a_parallel_index_space_by_representatives() {
    // 100,000 inputs, one Moment per pair: 10¹⁰ instructions unrolled, 7 by representatives.
    let program = "vector h[i in 0..100000] ~ N(0, 1)\nfor i in 0..100000, j in 0..100000 { K[i, j] = mean(h[i] * h[j]) }\noutput K\n";
    let out = tpc(&["check", "-"], program);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("parallel     an index space of 100000 members, lowered by its first 2"),
        "{text}"
    );
}

#[test]
fn a_family_too_large_for_arrays_or_unrolling_is_refused_not_allocated() {
    let program = "vector h[i in 0..100000] ~ N(0, 1)\n\
        for i in 0..100000, j in 0..100000 { K[i, j] = mean(h[i] * h[j]) }\noutput K\n";
    // As arrays: 10¹⁰ entries, above the array limit.
    let out = tpc(&["eval", "-"], program);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("E0407") && stderr.contains("100000 × 100000"),
        "{stderr}"
    );
    // Unrolled (the IR as JSON): the group's 100000 × 100000 covariance is refused up front.
    let out = tpc(&["check", "--format", "json", "-"], program);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("E0133") && stderr.contains("100000×100000 covariance"),
        "{stderr}"
    );
}

#[test]
fn derive_states_what_representative_members_stand_for() {
    let program = "vector h[i in 0..100000] ~ N(0, 1)\nmatrix W ~ N(0, 1/n)\n\
        for i in 0..100000 { x[i] = tanh(W @ h[i]) }\n\
        for i in 0..100000, j in 0..100000 { K[i, j] = mean(x[i] * x[j]) }\noutput K\n";
    let out = tpc(&["derive", "-"], program);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("Derived for members 0 and 1 of an index space of 100000 members"),
        "{text}"
    );
    assert!(text.contains("K[0, 1]"), "{text}");
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
    // `x[i - 1]` makes `i` sequential: the family is unrolled (a parallel one would be lowered
    // by two representatives, far below any limit).
    let program = "vector x[i in 0..100] ~ N(0, 1)\nfor i in 1..100 { y[i] = x[i] * x[i - 1] }\n";
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
    // Deferred by default: the coefficient is its definition, in JSON as in text.
    let coefficient = json["scalars"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["definition"].get("expected_derivative").is_some())
        .unwrap_or_else(|| panic!("a deferred coefficient: {json}"));
    assert!(
        coefficient["role"].get("zdot_coefficient_of").is_some(),
        "{coefficient}"
    );
}

#[test]
fn derive_expands_the_zdot_derivatives_on_request() {
    let note = "∂Z^a/∂Ẑ^{Wx} = tanh'(Z^h)";
    let deferred = String::from_utf8(tpc(&["derive", "-"], TRANSPOSE).stdout).unwrap();
    assert!(!deferred.contains(note), "{deferred}");
    let expanded =
        String::from_utf8(tpc(&["derive", "--derivatives", "-"], TRANSPOSE).stdout).unwrap();
    assert!(expanded.contains(note), "{expanded}");
    let json: serde_json::Value = serde_json::from_slice(
        &tpc(
            &["derive", "--derivatives", "--format", "json", "-"],
            TRANSPOSE,
        )
        .stdout,
    )
    .unwrap();
    assert!(json["scalars"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["definition"].get("expected_derivative").is_none()));
}

#[test]
fn eval_reports_value_error_and_method() {
    let out = tpc(&["eval", "--format", "json", "-"], TRANSPOSE);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m1 = &json["outputs"]["m1"];
    assert!(
        (m1["value"].as_f64().unwrap() - 0.960048508672).abs() < 1e-9,
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
    // f[t, i] and fc2[t] are families: nested arrays indexed from their first index, `start`
    // (fc2 is defined for t = 1 only).
    assert!((json["outputs"]["f"]["value"][1][0].as_f64().unwrap() - 3.0).abs() < 1e-12);
    assert_eq!(json["outputs"]["fc2"]["start"], serde_json::json!([1]));
    assert!((json["outputs"]["fc2"]["value"][0].as_f64().unwrap() - 1.25).abs() < 1e-12);
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

// `tpc eval`: outputs in program order, families as arrays, `--out`.

fn program(name: &str) -> String {
    let path = format!("{}/programs/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).expect("the example program is readable")
}

fn eval_json(args: &[&str], source: &str) -> (String, serde_json::Value) {
    let mut all = vec!["eval", "--format", "json"];
    all.extend_from_slice(args);
    all.push("-");
    let out = tpc(&all, source);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let json = serde_json::from_str(&text).expect("valid JSON");
    (text, json)
}

#[test]
fn eval_json_keeps_the_order_of_the_output_statement() {
    // `output Theta, Sigma`: Theta first, though a sorted map would put Sigma first.
    let (text, json) = eval_json(&[], &program("ntk_relu.tp"));
    let theta = text.find("\"Theta\"").expect("Theta is an output");
    let sigma = text.find("\"Sigma\"").expect("Sigma is an output");
    assert!(theta < sigma, "{text}");
    assert!(text.find("\"outputs\"") < text.find("\"notes\""), "{text}");
    // Inside a family, numeric order: Theta[i, j] at value[i][j] (i ≤ j defined); the exact
    // limits of the program's header, to the rounding of the closed forms.
    let theta = &json["outputs"]["Theta"];
    assert_eq!(theta["method"], "closed-form");
    assert_eq!(theta["start"], serde_json::json!([0, 0]));
    let value = |i: usize, j: usize| theta["value"][i][j].as_f64().unwrap();
    assert!((value(0, 0) - 4.0).abs() < 1e-12);
    assert!((value(0, 1) - 2.928430027777).abs() < 1e-11);
    assert!((value(1, 1) - 9.0).abs() < 1e-12);
    assert!(theta["value"][1][0].is_null() && theta["error"][1][0].is_null());
    // Sigma[l, i, j] for l = 1..4: a 4×2×2 array starting at [1, 0, 0].
    let sigma = &json["outputs"]["Sigma"];
    assert_eq!(sigma["start"], serde_json::json!([1, 0, 0]));
    assert_eq!(sigma["value"].as_array().unwrap().len(), 4);
    assert!((sigma["value"][3][0][1].as_f64().unwrap() - 1.162968652266).abs() < 1e-11);
    assert!((sigma["value"][0][0][1].as_f64().unwrap() - 0.9).abs() < 1e-15);
}

#[test]
fn eval_json_nests_a_kernel_matrix_with_null_below_the_diagonal() {
    let (_, json) = eval_json(&[], &program("kernel_matrix.tp"));
    let k = &json["outputs"]["K"];
    let rows = k["value"].as_array().expect("nested arrays");
    assert_eq!(rows.len(), 5);
    for (i, row) in rows.iter().enumerate() {
        let row = row.as_array().unwrap();
        assert_eq!(row.len(), 5);
        for (j, x) in row.iter().enumerate() {
            // K[i, j] is written for j ≥ i only.
            assert_eq!(x.is_null(), j < i, "K[{i}, {j}] = {x}");
            assert_eq!(k["error"][i][j].is_null(), j < i);
        }
    }
    // Values from the program's header (closed form, 12 digits).
    assert!((k["value"][0][4].as_f64().unwrap() + 0.102146575318).abs() < 1e-11);
    assert!((k["value"][3][3].as_f64().unwrap() - 0.672994914757).abs() < 1e-11);
}

/// The header dict and the float64 values of a `.npy` file, checking the format's layout.
fn read_npy(bytes: &[u8]) -> (String, Vec<f64>) {
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00", "magic and version 1.0");
    let length = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    assert_eq!((10 + length) % 64, 0, "the data starts at a multiple of 64");
    let header = std::str::from_utf8(&bytes[10..10 + length]).unwrap();
    assert!(header.ends_with('\n'));
    let data = &bytes[10 + length..];
    assert_eq!(data.len() % 8, 0);
    let values = data
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    (header.trim_end().to_string(), values)
}

#[test]
fn eval_out_writes_npy_files_equal_to_the_json() {
    let dir = format!("{}/eval_out_kernel", env!("CARGO_TARGET_TMPDIR"));
    let _ = std::fs::remove_dir_all(&dir);
    let source = program("kernel_matrix.tp");
    let (_, json) = eval_json(&["--out", &dir, "--csv"], &source);
    let read = |file: &str| std::fs::read(format!("{dir}/{file}")).expect(file);

    for (file, key) in [("K.npy", "value"), ("K.errors.npy", "error")] {
        let (header, values) = read_npy(&read(file));
        assert_eq!(
            header, "{'descr': '<f8', 'fortran_order': False, 'shape': (5, 5), }",
            "{file}"
        );
        assert_eq!(values.len(), 25);
        for (k, x) in values.iter().enumerate() {
            let expected = &json["outputs"]["K"][key][k / 5][k % 5];
            match expected.as_f64() {
                None => assert!(x.is_nan(), "{file}[{k}] = {x}, JSON {expected}"),
                // serde_json prints the shortest round-trip digits; its default parser may
                // be 1 ulp off, so equality within 2 ulp.
                Some(e) => assert!((x - e).abs() <= 4.0 * f64::EPSILON * e.abs(), "{file}[{k}]"),
            }
        }
    }

    // The CSV: one line per row, an empty field below the diagonal, the same numbers.
    let csv = String::from_utf8(read("K.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    for (i, line) in lines.iter().enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 5, "{line}");
        for (j, field) in fields.iter().enumerate() {
            if j < i {
                assert_eq!(*field, "", "{line}");
            } else {
                let x: f64 = field.parse().unwrap();
                let e = json["outputs"]["K"]["value"][i][j].as_f64().unwrap();
                assert!((x - e).abs() <= 4.0 * f64::EPSILON * e.abs(), "{line}");
            }
        }
    }

    // outputs.json names the files and keeps what the arrays lose: start and method.
    let index: serde_json::Value = serde_json::from_slice(&read("outputs.json")).unwrap();
    assert_eq!(
        index["outputs"]["K"],
        serde_json::json!({
            "file": "K.npy", "errors_file": "K.errors.npy", "csv_file": "K.csv",
            "shape": [5, 5], "start": [0, 0], "method": "closed-form"
        })
    );
}

#[test]
fn eval_out_puts_scalars_in_outputs_json() {
    let dir = format!("{}/eval_out_scalars", env!("CARGO_TARGET_TMPDIR"));
    let _ = std::fs::remove_dir_all(&dir);
    let out = tpc(&["eval", "--out", &dir, "-"], TRANSPOSE_OUT);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("outputs.json"), "{}", stderr(&out));
    let text = std::fs::read_to_string(format!("{dir}/outputs.json")).unwrap();
    // Program order (`output y, m1`), not sorted.
    assert!(text.find("\"y\"") < text.find("\"m1\""), "{text}");
    let index: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(index["outputs"]["y"]["value"], 1.5);
    assert_eq!(index["outputs"]["m1"]["method"], "exact");
    // No family, so no .npy file.
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(files.len(), 1);
}

const TRANSPOSE_OUT: &str = "matrix W ~ N(0, 2/n)\nvector x ~ N(0, 1)\nh = W @ x\na = tanh(h)\ny0 = W.T @ a\nm1 = mean(x * y0)\nscalar y = 1.5\noutput y, m1\n";

#[test]
fn eval_csv_needs_out() {
    let out = tpc(&["eval", "--csv", "-"], TRANSPOSE);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--out"), "{}", stderr(&out));
    let help = stdout(&tpc(&["eval", "--help"], ""));
    for option in [
        "--out",
        "--csv",
        "K.npy",
        "outputs.json",
        "kernel_matrix.tp",
    ] {
        assert!(
            help.contains(option),
            "`tpc eval --help` lacks {option}:\n{help}"
        );
    }
}

#[test]
fn eval_table_prints_a_family_as_a_matrix() {
    let out = tpc(&["eval", "-"], &program("ntk_relu.tp"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    // The family's line: shape, largest error (its digits are the evaluator's), method.
    assert!(
        lines[1].starts_with("Theta              2×2 array  "),
        "{text}"
    );
    assert!(lines[1].ends_with("  closed form"), "{text}");
    // Its matrix, indices along the top and the side, `·` where no member is defined.
    assert_eq!(
        lines[2..5],
        [
            "     0              1",
            "  0  4  2.92843002778",
            "  1  ·              9"
        ],
        "{text}"
    );
    assert!(
        lines[5].starts_with("Sigma            4×2×2 array"),
        "{text}"
    );
    assert_eq!(
        lines[6..10],
        [
            "  Sigma[1, :, :]",
            "     0     1",
            "  0  1   0.9",
            "  1  ·  2.25"
        ],
        "{text}"
    );
    assert!(text.contains("  Sigma[4, :, :]\n"), "{text}");
}

/// The `console` blocks of docs/evaluation.md whose first line is `$ tpc eval …` (run from the
/// repository root) show exactly its output.
#[test]
fn eval_docs_examples_are_the_real_output() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/evaluation.md");
    let markdown = std::fs::read_to_string(path).expect("docs/evaluation.md is readable");
    let mut examples = 0;
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "```console" {
            continue;
        }
        let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        let Some(command) = block[0].strip_prefix("$ tpc eval ") else {
            continue;
        };
        let args: Vec<String> = std::iter::once("eval".to_string())
            .chain(command.split_whitespace().map(|a| {
                if a.starts_with("programs/") {
                    format!("{}/{a}", env!("CARGO_MANIFEST_DIR"))
                } else {
                    a.to_string()
                }
            }))
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = tpc(&args, "");
        assert_eq!(out.status.code(), Some(0), "{command}: {}", stderr(&out));
        assert_eq!(stdout(&out), block[1..].join("\n") + "\n", "{command}");
        examples += 1;
    }
    assert!(
        examples >= 1,
        "no `$ tpc eval` example in docs/evaluation.md"
    );
}
