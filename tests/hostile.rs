//! Hostile input: limits are enforced before the work they bound, and what `tpc gen` writes
//! always passes `tpc check`.
//!
//! The time budgets below are generous (10–50× what the work takes on a loaded 2-core
//! machine); they catch a limit checked after the work (minutes, gigabytes), not slowness.

mod common;

use common::{stdout, tpc_in};
use std::time::{Duration, Instant};
use tpc::ir::LowerOptions;

#[test]
fn a_loop_nest_past_the_instruction_limit_is_refused_before_unrolling() {
    // 3000 × 3000 iterations, each one instruction: 9M, over a limit of 1M. Unrolling the
    // first million before noticing took seconds and hundreds of MB.
    let source = "vector x ~ N(0, 1)\nh[0, 0] = x\n\
                  for t in 0..3000 {\n  for s in 0..3000 {\n    h[t + 1, s] = tanh(h[t, 0])\n  }\n}\n\
                  m = mean(h[5, 0] * h[5, 0])\noutput m\n";
    let options = LowerOptions {
        max_instructions: 1_000_000,
        ..LowerOptions::default()
    };
    let start = Instant::now();
    let error = tpc::compile(source.as_bytes(), &options).expect_err("over the limit");
    assert_eq!(error.code, "E0140");
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
    // The loop is pointed at, and the help says how to raise the limit.
    let text = error.render("loop.tp", source);
    assert!(text.contains("loop.tp:3:5"), "{text}");
    assert!(text.contains("--max-instructions"), "{text}");
}

#[test]
fn a_loop_whose_inner_range_uses_the_outer_index_is_still_bounded_correctly() {
    // The inner range depends on t, so the nest's size is not known up front: the bound
    // must not overestimate (this 5,050-iteration nest compiles) …
    let source = "vector x ~ N(0, 1)\nh[0, 0] = x\n\
                  for t in 0..100 {\n  for s in 0..t + 1 {\n    h[t + 1, s] = tanh(h[t, 0])\n  }\n}\n\
                  m = mean(h[5, 0] * h[5, 0])\noutput m\n";
    let options = LowerOptions {
        max_instructions: 20_000,
        ..LowerOptions::default()
    };
    assert!(tpc::compile(source.as_bytes(), &options).is_ok());
    // … and a limit it does cross is still enforced.
    let options = LowerOptions {
        max_instructions: 5_000,
        ..LowerOptions::default()
    };
    let error = tpc::compile(source.as_bytes(), &options).expect_err("over the limit");
    assert_eq!(error.code, "E0140");
}

#[test]
fn an_input_over_the_size_cap_is_refused_without_reading_it_all() {
    let program = std::fs::read_to_string("programs/rnn.tp").unwrap();
    let out = tpc_in(
        &["check", "--max-input-bytes", "100", "-"],
        env!("CARGO_MANIFEST_DIR"),
        &program,
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("larger than 100 bytes"), "{stderr}");
    assert!(stderr.contains("--max-input-bytes"), "{stderr}");
    // The same program passes under the default cap.
    stdout(&tpc_in(
        &["check", "-"],
        env!("CARGO_MANIFEST_DIR"),
        &program,
    ));
}

#[test]
fn generated_training_programs_of_a_hundred_steps_check() {
    // A step's forward pass sums over every earlier step on one line: 100 steps write
    // expressions of over 500 operators, which once failed with E0003.
    let dir = env!("CARGO_MANIFEST_DIR");
    for (depth, steps) in [("2", "100"), ("3", "64")] {
        let generated = stdout(&tpc_in(
            &[
                "gen", "mlp", "--depth", depth, "--steps", steps, "--nonlin", "tanh",
            ],
            dir,
            "",
        ));
        let summary = stdout(&tpc_in(&["check", "-"], dir, &generated));
        assert!(summary.contains("instructions"), "{summary}");
    }
}

#[test]
fn a_quadrature_grid_over_the_point_budget_is_never_built() {
    // A 10-dimensional integrand under --max-dim 10: the smallest grid pair is 8^10 and
    // 16^10 points, far over the budget, so Monte Carlo is used at once (this once spent
    // 100 s building the first grid).
    let source = "vector a, b, c, d, e, f, g, h, i, j ~ N(0, 1)\n\
                  m = mean(cos(a * b * c * d * e * f * g * h * i * j))\noutput m\n";
    let start = Instant::now();
    let out = tpc_in(
        &["eval", "--max-dim", "10", "-"],
        env!("CARGO_MANIFEST_DIR"),
        source,
    );
    let text = stdout(&out) + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("Monte Carlo"), "{text}");
    assert!(text.contains("point budget"), "{text}");
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn width_powers_outside_the_scaling_analysis_are_refused_not_rounded() {
    let run = |power: &str| {
        let source = format!(
            "matrix W ~ N(0, 1/n)\nvector x ~ N(0, 1)\nh = W @ x\nm = mean(n^({power}) * h * h)\noutput m\n"
        );
        tpc_in(
            &["derive", "--scaling", "-"],
            env!("CARGO_MANIFEST_DIR"),
            &source,
        )
    };
    // n^((1/3)^40) grows, however slowly: it is not Θ(1). 2^62 is a fraction, but beyond
    // the exact exponents tracked; neither is silently rounded.
    for power in ["(1/3)^40", "2^62"] {
        let out = run(power);
        assert!(!out.status.success(), "{power} accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("E0202"), "{stderr}");
        assert!(!stderr.contains("4611686018427388000"), "{stderr}");
    }
    // Exact fractions, and an exact zero, are still analysed.
    assert!(stdout(&run("1/3")).contains("Θ(n^(1/3))"));
    assert!(stdout(&run("0.5 - 0.5")).contains("Nothing blows up"));
}

#[test]
fn a_derived_limit_past_the_node_limit_is_refused_with_the_flag_that_raises_it() {
    // The chain `h[t+1] = W.T @ tanh(W @ h[t])` derives to Θ(k²) nodes and terms (tens of
    // thousands at k = 40); a limit of 5,000 stops it at the instruction that passes it.
    let source = "vector h[t in 0..1] ~ N(0, 1)\nmatrix W ~ N(0, 1/n)\n\
                  for t in 0..40 {\n  h[t + 1] = W.T @ tanh(W @ h[t])\n}\n\
                  m = mean(h[40] * h[40])\noutput m\n";
    let out = tpc_in(&["--max-limit-nodes", "5000", "derive", "-"], ".", source);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("E0203"), "{stderr}");
    assert!(stderr.contains("--max-limit-nodes"), "{stderr}");
    assert!(stderr.contains("<stdin>:4:"), "{stderr}");
    // The scaling analysis keeps far less (about 150), under the same limit.
    let out = tpc_in(
        &["--max-limit-nodes", "100", "derive", "--scaling", "-"],
        ".",
        source,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("E0203") && stderr.contains("scaling analysis"),
        "{stderr}"
    );
    assert!(stderr.contains("--max-limit-nodes"), "{stderr}");
    // The default limit lets it through.
    let out = tpc_in(&["derive", "-"], ".", source);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
