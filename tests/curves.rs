//! `tpc curves`: its limit column is `tpc eval`'s and its width columns are `tpc simulate`'s,
//! bit for bit; its CSV, JSON and SVG hold the rows and series asked for; μP learns features
//! at every width while NTK parametrization's feature change shrinks with the width; bad
//! requests are usage errors with clear messages.
//!
//! Sizes are small (T = 3 steps, widths 64 and 256, 2–4 seeds, 1000 particles) so that the
//! file runs in seconds; the values are checked against the commands they come from, not
//! against tolerances, except in the μP/NTK test, whose tolerances are stated there.

mod common;

use common::{stdout, tpc_in};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A directory of its own for this test, holding `mup.tp` and `ntk.tp`: `tpc gen mlp --depth 2
/// --nonlin tanh --steps 3` in μP and NTK parametrization (NTP), and `mup2.tp` with 2 steps.
fn programs(test: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!("tpc-curves-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    for (file, param, steps) in [
        ("mup", "mup", "3"),
        ("ntk", "ntp", "3"),
        ("mup2", "mup", "2"),
    ] {
        let args = [
            "gen", "mlp", "--depth", "2", "--param", param, "--nonlin", "tanh", "--steps", steps,
        ];
        let text = stdout(&tpc_in(&args, ".", ""));
        std::fs::write(dir.join(format!("{file}.tp")), text).expect("the program is written");
    }
    TempDir(dir)
}

/// Runs `tpc` in `dir` and returns its standard output, failing on a non-zero exit.
fn run(dir: &Path, args: &[&str]) -> String {
    stdout(&tpc_in(args, dir.to_str().expect("a UTF-8 path"), ""))
}

/// The evaluation options every command below shares: particles, few of them, seeded.
const EVAL: [&str; 6] = [
    "--method",
    "particles",
    "--particles",
    "1000",
    "--mc-seed",
    "3",
];

/// The simulation options every command below shares.
const SIMULATE: [&str; 6] = ["--widths", "64,256", "--seeds", "2", "--seed", "5"];

fn curves_json(dir: &Path, files: &[&str], extra: &[&str]) -> Value {
    let mut args = vec!["curves"];
    args.extend(files);
    args.extend(EVAL);
    args.extend(SIMULATE);
    args.extend(["--format", "json"]);
    args.extend(extra);
    serde_json::from_str(&run(dir, &args)).expect("curves JSON parses")
}

/// The curve called `name` of program `program` in a `--format json` document.
fn curve<'a>(json: &'a Value, program: &str, name: &str) -> &'a Value {
    json["curves"]
        .as_array()
        .expect("a list of curves")
        .iter()
        .find(|c| c["program"] == program && c["name"] == name)
        .unwrap_or_else(|| panic!("no curve {name} of {program} in {json}"))
}

#[test]
fn the_limit_column_is_what_tpc_eval_prints() {
    let dir = programs("limit");
    let curves = curves_json(&dir.0, &["mup.tp"], &[]);
    let mut args = vec!["eval", "mup.tp", "--format", "json"];
    args.extend(EVAL);
    let eval: Value = serde_json::from_str(&run(&dir.0, &args)).expect("eval JSON parses");
    let outputs = &eval["outputs"];
    // f[t, i]: the family f, nested [t][i], from step 0; chi from 0; fc1, fc2 from 1.
    let mut compared = 0;
    for (name, family, index) in [
        ("f[t, 0]", "f", Some(0)),
        ("f[t, 1]", "f", Some(1)),
        ("chi", "chi", None),
        ("fc1", "fc1", None),
        ("fc2", "fc2", None),
    ] {
        let start = outputs[family]["start"][0].as_i64().expect("a start index");
        for row in curve(&curves, "mup", name)["steps"].as_array().unwrap() {
            let t = (row["step"].as_i64().unwrap() - start) as usize;
            let (value, error) = match index {
                Some(i) => (
                    &outputs[family]["value"][t][i],
                    &outputs[family]["error"][t][i],
                ),
                None => (&outputs[family]["value"][t], &outputs[family]["error"][t]),
            };
            // Both are shortest round-trip decimals of float64s: equal text, equal bits.
            assert_eq!(&row["limit"]["value"], value, "{name} at step {t}");
            assert_eq!(&row["limit"]["error"], error, "{name} at step {t}");
            assert_eq!(row["limit"]["method"], outputs[family]["method"]);
            compared += 1;
        }
    }
    // f: 4 steps × 2 inputs, chi: 3, fc1 and fc2: 3 each.
    assert_eq!(compared, 8 + 3 + 3 + 3);
}

#[test]
fn the_width_columns_are_what_tpc_simulate_prints() {
    let dir = programs("simulate");
    for (file, label) in [("mup.tp", "mup"), ("ntk.tp", "ntk")] {
        let curves = curves_json(&dir.0, &[file], &[]);
        let mut args = vec!["simulate", file, "--format", "json"];
        args.extend(EVAL);
        args.extend(SIMULATE);
        let simulate: Value = serde_json::from_str(&run(&dir.0, &args)).expect("JSON parses");
        let table = simulate.as_array().expect("one entry per output");
        let mut compared = 0;
        for c in curves["curves"].as_array().unwrap() {
            assert_eq!(c["program"], label);
            for row in c["steps"].as_array().unwrap() {
                // The member's name as `tpc simulate` prints it: `f[2, 1]`, `fc1[3]`.
                let mut index = vec![row["step"].to_string()];
                index.extend(c["index"].as_array().unwrap().iter().map(|i| i.to_string()));
                let member = format!("{}[{}]", c["family"].as_str().unwrap(), index.join(", "));
                let entry = table
                    .iter()
                    .find(|e| e["name"] == member.as_str())
                    .unwrap_or_else(|| panic!("`tpc simulate` has no {member}"));
                let widths = row["widths"].as_array().unwrap();
                assert_eq!(widths.len(), 2);
                for (ours, theirs) in widths.iter().zip(entry["widths"].as_array().unwrap()) {
                    for key in ["width", "mean", "standard_error"] {
                        assert_eq!(ours[key], theirs[key], "{label} {member} {key}");
                    }
                }
                compared += 1;
            }
        }
        assert_eq!(compared, table.len(), "{label}: every output is on a curve");
    }
}

/// `tpc simulate`'s limit column comes from the evaluation `tpc eval` runs, also where `auto`
/// hands a training program to particles (before, simulate derived and evaluated the limit by
/// its own route: Monte Carlo over 13-dimensional marginals, which failed with E0402 at 10
/// steps). Five steps already have expectations above quadrature's 4 dimensions. Equal JSON
/// text is equal bits: the seed and the particle count fix the values.
#[test]
fn simulate_reports_the_limit_tpc_eval_computes() {
    let dir =
        TempDir(std::env::temp_dir().join(format!("tpc-simulate-auto-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).expect("a temporary directory");
    let args = [
        "gen", "mlp", "--depth", "2", "--param", "mup", "--nonlin", "tanh", "--steps", "5",
    ];
    let text = stdout(&tpc_in(&args, ".", ""));
    std::fs::write(dir.0.join("t5.tp"), text).expect("the program is written");
    let options = ["--particles", "1000", "--mc-seed", "3", "--format", "json"];
    let mut eval_args = vec!["eval", "t5.tp"];
    eval_args.extend(options);
    let eval: Value = serde_json::from_str(&run(&dir.0, &eval_args)).expect("eval JSON parses");
    let mut simulate_args = vec!["simulate", "t5.tp", "--widths", "64", "--seeds", "2"];
    simulate_args.extend(options);
    let simulate: Value = serde_json::from_str(&run(&dir.0, &simulate_args)).expect("JSON");
    let fc1 = &eval["outputs"]["fc1"];
    assert_eq!(fc1["method"], "particles", "auto chose particles: {fc1}");
    let start = fc1["start"][0].as_i64().expect("a start index");
    let table = simulate.as_array().expect("one entry per output");
    let mut compared = 0;
    for (t, value) in fc1["value"].as_array().expect("values").iter().enumerate() {
        let name = format!("fc1[{}]", start + t as i64);
        let entry = table
            .iter()
            .find(|e| e["name"] == name.as_str())
            .unwrap_or_else(|| panic!("`tpc simulate` has no {name}"));
        assert_eq!(&entry["limit"]["value"], value, "{name}");
        assert_eq!(&entry["limit"]["error"], &fc1["error"][t], "{name}");
        compared += 1;
    }
    assert_eq!(compared, 5);
}

#[test]
fn csv_has_a_header_and_a_line_per_curve_and_step() {
    let dir = programs("csv");
    let mut args = vec!["curves", "mup.tp", "ntk.tp", "--output", "fc1,f[t, 1]"];
    args.extend(EVAL);
    args.extend(SIMULATE);
    args.extend(["--format", "csv"]);
    let csv = run(&dir.0, &args);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "program,curve,step,limit,limit_error,mean_n64,standard_error_n64,mean_n256,standard_error_n256"
    );
    // Curves of one name together, in the order of the `output` statement (f before fc1),
    // programs in the order given: f[t, 1] (steps 0..=3) then fc1 (steps 1..=3).
    let keys: Vec<String> = lines[1..]
        .iter()
        .map(|l| l.rsplitn(7, ',').last().unwrap().to_string())
        .collect();
    let expected: Vec<String> = [("mup", "\"f[t, 1]\"", 0..4), ("ntk", "\"f[t, 1]\"", 0..4)]
        .into_iter()
        .chain([("mup", "fc1", 1..4), ("ntk", "fc1", 1..4)])
        .flat_map(|(p, c, steps)| steps.map(move |t| format!("{p},{c},{t}")))
        .collect();
    assert_eq!(keys, expected);
    for line in &lines[1..] {
        // From the right: six numbers after the step (standard error and mean at n = 256 and
        // 64, limit error, limit), the limit and its error empty for NTK (no limit).
        let fields: Vec<&str> = line.rsplitn(7, ',').collect();
        assert_eq!(fields.len(), 7, "{line}");
        let limit_empty = fields[4].is_empty() && fields[5].is_empty();
        assert_eq!(limit_empty, line.starts_with("ntk"), "{line}");
        for number in &fields[..4] {
            number.parse::<f64>().unwrap_or_else(|_| panic!("{line}"));
        }
    }
}

#[test]
fn json_and_svg_name_every_program_width_and_curve() {
    let dir = programs("svg");
    let json = curves_json(
        &dir.0,
        &["mup.tp", "ntk.tp"],
        &["--output", "fc1,fc2", "--svg", "fc.svg"],
    );
    assert_eq!(json["widths"], serde_json::json!([64, 256]));
    assert_eq!(json["seeds"], 2);
    let programs = json["programs"].as_array().unwrap();
    assert_eq!(programs[0]["label"], "mup");
    assert_eq!(programs[0]["limit"], true);
    assert_eq!(programs[1]["label"], "ntk");
    assert_eq!(programs[1]["limit"], false);
    let names: Vec<(&str, &str)> = json["curves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["program"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("fc1", "mup"),
            ("fc1", "ntk"),
            ("fc2", "mup"),
            ("fc2", "ntk")
        ]
    );
    assert!(curve(&json, "ntk", "fc1")["steps"][0]["limit"].is_null());
    let svg = std::fs::read_to_string(dir.0.join("fc.svg")).expect("the SVG is written");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    // plotters writes each text on a line of its own.
    let texts: Vec<&str> = svg.lines().map(str::trim).collect();
    for text in [
        "fc1",
        "fc2",
        "step",
        "mup limit",
        "mup n = 64",
        "mup n = 256",
        "ntk n = 64",
        "ntk n = 256",
    ] {
        assert!(texts.contains(&text), "the SVG lacks the text {text}");
    }
    assert!(!svg.contains("ntk limit"), "NTK has no limit to draw");
    // On a log axis: ticks are powers of ten and the same series are drawn.
    let mut args = vec![
        "curves", "mup.tp", "ntk.tp", "--output", "fc1", "--svg", "log.svg",
    ];
    args.extend([
        "--log-y",
        "--particles",
        "200",
        "--widths",
        "64",
        "--seeds",
        "2",
    ]);
    run(&dir.0, &args);
    let log = std::fs::read_to_string(dir.0.join("log.svg")).expect("the SVG is written");
    let texts: Vec<&str> = log.lines().map(str::trim).collect();
    for text in ["fc1", "mup limit", "mup n = 64", "ntk n = 64", "1e-2"] {
        assert!(texts.contains(&text), "the log SVG lacks the text {text}");
    }
}

/// The feature change fc_l[t] = ⟨x^l_t − x^l_0, same⟩/(ηχ₀)² is Θ(n^{-2r}) (TP4): r = 0 in
/// μP, so it stays Θ(1) and converges to its nonzero limit; r = 1/2 in NTK parametrization, so
/// it falls as 1/n: 16× the width should divide it by about 16.
///
/// Tolerances, from the spread of 8 seeds (standard errors up to 15% of the mean at n = 64,
/// 4% at n = 1024, seen in the runs, so the ratio of the two means has a relative standard
/// error of about 16%): NTK's ratio n = 1024 / n = 64 must be at most 0.25 (predicted 1/16;
/// 0.25 is more than 4 standard errors above it), μP's at least 0.5 (predicted 1, minus an
/// O(1/n) bias; 0.5 is about 3 standard errors below 1 and more than 4 above 0.25). μP's mean
/// at n = 1024 must lie within 4 combined standard errors (seeds and particle replicas) of its
/// limit, which must be above 0.01 (it is about 0.03 for fc1 and 0.06 for fc2; NTK's is 0).
#[test]
fn mup_learns_features_at_every_width_and_ntk_does_not() {
    let dir = programs("mup-ntk");
    let mut args = vec![
        "curves", "mup.tp", "ntk.tp", "--output", "fc1,fc2", "--format", "json",
    ];
    args.extend(EVAL);
    args.extend(["--widths", "64,1024", "--seeds", "8", "--seed", "11"]);
    let json: Value = serde_json::from_str(&run(&dir.0, &args)).expect("JSON parses");
    for name in ["fc1", "fc2"] {
        for (program, low, high) in [("mup", 0.5, f64::INFINITY), ("ntk", 0.0, 0.25)] {
            for row in curve(&json, program, name)["steps"].as_array().unwrap() {
                let at = |k: usize, key: &str| row["widths"][k][key].as_f64().unwrap();
                let ratio = at(1, "mean") / at(0, "mean");
                assert!(
                    (low..=high).contains(&ratio),
                    "{program} {name} step {}: n = 1024 / n = 64 = {ratio}, expected in [{low}, {high}]",
                    row["step"]
                );
                if program == "mup" {
                    let limit = row["limit"]["value"].as_f64().unwrap();
                    let error = row["limit"]["error"].as_f64().unwrap();
                    let combined = error.hypot(at(1, "standard_error"));
                    assert!(limit > 0.01, "{row}");
                    assert!((at(1, "mean") - limit).abs() <= 4.0 * combined, "{row}");
                }
            }
        }
    }
}

/// Runs `tpc curves` expecting a usage error; returns its message.
fn refused(dir: &Path, args: &[&str], stdin: &str) -> String {
    let mut all = vec!["curves"];
    all.extend(args);
    let out = tpc_in(&all, dir.to_str().unwrap(), stdin);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stdout.is_empty());
    String::from_utf8(out.stderr).expect("UTF-8")
}

#[test]
fn bad_requests_are_usage_errors_that_say_what_is_wrong() {
    let dir = programs("errors");
    let scalars = "vector x ~ N(0, 1)\nm = mean(x * x)\nk = mean(x * x * x * x)\noutput m, k\n";
    let mixed =
        "vector x[t in 0..3] ~ N(0, 1)\nfor t in 0..3 { m[t] = mean(x[t] * x[t]) }\nk = mean(x[0] * x[1])\noutput m, k\n";
    let cases = [
        ("no_family", refused(&dir.0, &["-"], scalars)),
        (
            "scalar_output",
            refused(&dir.0, &["-", "--output", "k"], mixed),
        ),
        (
            "unknown_output",
            refused(&dir.0, &["mup.tp", "--output", "fc3"], ""),
        ),
        (
            "different_steps",
            refused(&dir.0, &["mup.tp", "mup2.tp"], ""),
        ),
        ("stdin_twice", refused(&dir.0, &["-", "-"], scalars)),
    ];
    for (name, message) in cases {
        insta::assert_snapshot!(format!("curves_{name}"), message);
    }
}

#[test]
fn a_selected_curve_is_found_with_or_without_spaces() {
    let dir = programs("select");
    for selector in ["f[t, 1]", "f[t,1]", " f [ t , 1 ] "] {
        let args = [
            "curves",
            "mup.tp",
            "--output",
            selector,
            "--widths",
            "64",
            "--seeds",
            "1",
            "--format",
            "json",
            "--particles",
            "200",
        ];
        let json: Value = serde_json::from_str(&run(&dir.0, &args)).expect("JSON parses");
        let names: Vec<&str> = json["curves"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["f[t, 1]"], "{selector}");
        // One seed: no standard error.
        assert!(json["curves"][0]["steps"][0]["widths"][0]["standard_error"].is_null());
    }
}

/// A family too sparse for dense arrays (`tpc eval` reports its members as scalars) is still
/// one curve, its limits found by member name: E[x²] = 1 and E[x⁴] = 3 for x ~ N(0, 1),
/// which tpc computes exactly (Isserlis), so they are compared exactly.
#[test]
fn a_sparse_family_is_one_curve_with_its_exact_limits() {
    let program =
        "vector x ~ N(0, 1)\nm[0] = mean(x * x)\nm[20000000] = mean(x * x * x * x)\noutput m\n";
    let args = [
        "curves", "-", "--widths", "64", "--seeds", "2", "--format", "json",
    ];
    let json: Value = serde_json::from_str(&stdout(&tpc_in(&args, ".", program))).unwrap();
    let m = curve(&json, "<stdin>", "m");
    let steps: Vec<(i64, f64)> = m["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_i64().unwrap(),
                s["limit"]["value"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(steps, [(0, 1.0), (20_000_000, 3.0)]);
}
