//! `tpc gen mlp` and `tpc derive --scaling` from the command line: output, pipes, JSON and
//! usage errors (exit 2, never a panic).

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

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

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
