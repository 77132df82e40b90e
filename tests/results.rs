//! Results a researcher can use: honest error bars, outputs in order, notes that inform
//! without flooding, readable numbers and one exit-status convention.

mod common;

use std::process::Output;
use tpc::eval::{EvalOptions, Method};
use tpc::ir::LowerOptions;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn tpc(args: &[&str], stdin: &str) -> Output {
    common::tpc_in(args, ROOT, stdin)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every output value (family members flattened, in order) with its error bar.
fn values(source: &str, options: &EvalOptions) -> Vec<(String, f64, f64)> {
    let evaluated = tpc::evaluate_outputs(
        source.as_bytes(),
        &LowerOptions {
            base_dir: Some(ROOT.into()),
            ..LowerOptions::default()
        },
        options,
        None,
        None,
    )
    .expect("evaluates");
    let mut all = Vec::new();
    for output in evaluated.outputs {
        match output {
            tpc::output::OutputValue::Scalar { name, value } => {
                all.push((name, value.value, value.error))
            }
            tpc::output::OutputValue::Family(f) => {
                for (v, e) in f.values.iter().zip(f.errors.iter()) {
                    all.push((f.name.clone(), *v, *e));
                }
            }
        }
    }
    all
}

fn program(name: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/programs/{name}")).expect("a program")
}

/// rnn.tp's q[t] are polynomials of atoms whose covariances come from quadrature that stops
/// short of its tolerance (a note says 6e-11): their error bars carry it.
#[test]
fn covariance_errors_reach_the_values_built_on_them() {
    let q: Vec<(String, f64, f64)> = values(&program("rnn.tp"), &EvalOptions::default())
        .into_iter()
        .filter(|(name, ..)| name == "q")
        .collect();
    assert_eq!(q.len(), 5);
    // q[0] and q[1] come from the given law; later steps from integrated covariances.
    assert_eq!(q[0].2, 0.0);
    for (_, value, error) in &q[2..] {
        assert!(*error > 1e-13 && *error < 1e-8, "{value} ± {error}");
    }
}

/// A scalar known to Monte Carlo accuracy enters a later expectation multiplied by 1e-6:
/// its error reaches the result weighted by that factor, not in full.
#[test]
fn scalar_errors_are_weighted_by_how_much_the_result_depends_on_them() {
    let source = "matrix W ~ N(0, 2/n)\nvector x ~ N(0, 1)\nh = W @ x\n\
                  k = mean(relu(h) * relu(h) * tanh(x))\nm = mean(1e-6 * k * x * x)\noutput k, m\n";
    let options = EvalOptions {
        method: Method::Mc,
        samples: 20_000,
        ..EvalOptions::default()
    };
    let v = values(source, &options);
    let (k_error, m_error) = (v[0].2, v[1].2);
    assert!(k_error > 1e-3, "{k_error}");
    assert!(m_error < 1e-3 * k_error, "m ± {m_error}, k ± {k_error}");
}

/// Under Monte Carlo the error bars of sgd_two_steps.tp's f2 (built on dozens of Monte
/// Carlo expectations) match the spread of the value over Monte Carlo seeds.
#[test]
fn monte_carlo_error_bars_match_the_spread_over_seeds() {
    let source = program("sgd_two_steps.tp");
    let runs: Vec<(f64, f64)> = (1..=6)
        .map(|seed| {
            let options = EvalOptions {
                method: Method::Mc,
                samples: 40_000,
                seed,
                ..EvalOptions::default()
            };
            let f2 = values(&source, &options)
                .into_iter()
                .find(|(name, ..)| name == "f2")
                .expect("f2[0]");
            (f2.1, f2.2)
        })
        .collect();
    let mean = runs.iter().map(|r| r.0).sum::<f64>() / 6.0;
    let spread = (runs.iter().map(|r| (r.0 - mean).powi(2)).sum::<f64>() / 5.0).sqrt();
    let bar = runs.iter().map(|r| r.1).sum::<f64>() / 6.0;
    assert!(
        bar > 0.4 * spread && bar < 4.0 * spread,
        "error bar {bar}, spread over seeds {spread}"
    );
    // The exact limit is −13: every bar is a usable fraction of the value.
    assert!(bar < 0.3 * 13.0, "{bar}");
}

/// A family defined from its last member to its first is reported in index order, by
/// `simulate --format json` as by `eval`.
#[test]
fn outputs_keep_program_order_and_numeric_index_order() {
    let source = "vector x ~ N(0, 1)\nfor i in 0..12 { k[11 - i] = mean(x * x) * (12 - i) }\n\
                  s = mean(x * x)\noutput s, k\n";
    let out = tpc(
        &[
            "simulate", "-", "--widths", "64", "--seeds", "2", "--format", "json",
        ],
        source,
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let names: Vec<&str> = json
        .as_array()
        .expect("an array of outputs")
        .iter()
        .map(|o| o["name"].as_str().expect("a name"))
        .collect();
    let expected: Vec<String> = std::iter::once("s".to_string())
        .chain((0..12).map(|i| format!("k[{i}]")))
        .collect();
    assert_eq!(names, expected);

    let text = common::stdout(&tpc(
        &["eval", "programs/ntk_relu.tp", "--format", "json"],
        "",
    ));
    assert!(text.find("\"Theta\"") < text.find("\"Sigma\""), "{text}");
}

/// Notes go to standard error, one line per kind with a count and the worst entry, every
/// one with --verbose, and into the JSON as objects naming their entries. Two steep tanh
/// products in two dimensions stop Gauss–Hermite at its point budget (order 1024 per axis,
/// last differences near 1e-5), which a note must say for each.
#[test]
fn notes_are_grouped_on_standard_error_and_name_their_entries() {
    let source = "vector x ~ N(0, 1)\nvector y ~ N(0, 1)\nu = x + 0.5 * y\n\
                  a = mean(tanh(8 * x) * tanh(8 * u))\nb = mean(tanh(6 * x) * tanh(9 * u))\n\
                  output a, b\n";
    let out = tpc(&["eval", "-"], source);
    let (table, diagnostics) = (String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(!table.contains("note"), "{table}");
    let grouped: Vec<&str> = diagnostics
        .lines()
        .filter(|l| l.starts_with("note:"))
        .collect();
    assert!(
        grouped[0].contains(
            "quadrature stopped short of the tolerance: 2 entries; the worst: a (error estimate"
        ),
        "{diagnostics}"
    );
    let verbose = stderr(&tpc(&["eval", "-", "--verbose"], source));
    let lines: Vec<&str> = verbose.lines().filter(|l| l.starts_with("note:")).collect();
    assert_eq!(lines.len(), 2, "{verbose}");
    assert_ne!(lines[0], lines[1]);

    let out = tpc(&["eval", "-", "--format", "json"], source);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let notes = json["notes"].as_array().expect("notes");
    assert_eq!(notes.len(), 2);
    assert_ne!(notes[0]["entry"], notes[1]["entry"]);
    assert_eq!(notes[0]["measure"]["name"], "error estimate");
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

/// The simulate table prints significant digits: no negative zero, no 309-digit integer.
#[test]
fn simulate_prints_significant_digits() {
    let source = "vector x ~ N(0, 1)\ntiny = -1e-20 * mean(x * x)\nhuge = 1e300 * mean(x * x)\n\
                  output tiny, huge\n";
    let out = tpc(
        &["simulate", "-", "--widths", "64,128", "--seeds", "3"],
        source,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("-0.0") && !text.contains(" -0 "), "{text}");
    assert!(text.lines().all(|l| l.chars().count() < 100), "{text}");
    assert!(text.contains("limit -1e-20 ± 0"), "{text}");
    assert!(text.contains("limit 1e300 ± 0"), "{text}");
}

/// One convention: 1 the program has an error, 2 usage, 3 a file, 4 a numerical failure.
#[test]
fn exit_statuses_say_what_failed() {
    let status = |args: &[&str], stdin: &str| tpc(args, stdin).status.code();
    let program = "vector x ~ N(0, 1)\nk = mean(tanh(x) * x)\noutput k\n";
    assert_eq!(status(&["check", "no/such/file.tp"], ""), Some(3));
    assert_eq!(status(&["eval", "-"], "k = mean(y)\n"), Some(1));
    assert_eq!(
        status(&["eval", "-", "--method", "exact"], program),
        Some(4)
    );
    for flags in [
        &["simulate", "-", "--widths", "0"][..],
        &["simulate", "-", "--widths", "abc"],
        &["simulate", "-", "--widths", "18446744073709551615"],
        &["coordcheck", "-", "--widths", "4294967296"],
        &["simulate", "-", "--seeds", "0"],
        &["eval", "-", "--samples", "0"],
        &["eval", "-", "--tol", "nan"],
        &["eval", "-", "--tol", "inf"],
        &["eval", "-", "--tol=-1"],
    ] {
        let out = tpc(flags, program);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("invalid value"), "{flags:?}");
    }
    assert_eq!(status(&["eval", "-"], program), Some(0));
}

/// `simulate --help` shows its default widths as the flag takes them.
#[test]
fn help_shows_defaults_as_the_flags_take_them() {
    let help = String::from_utf8_lossy(&tpc(&["simulate", "--help"], "").stdout).into_owned();
    assert!(help.contains("[default: 256,1024,4096]"), "{help}");
    let top = String::from_utf8_lossy(&tpc(&["--help"], "").stdout).into_owned();
    assert!(top.contains("3 a file cannot be read or written"), "{top}");
}
