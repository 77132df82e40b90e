//! Finite-width simulation against exact values and the finite-width tables of
//! `docs/reference-values.md` (cases 1–4a).
//!
//! Tolerances (docs/derivation.md, “The Master Theorem”): a simulated scalar fluctuates around its limit with RMS error
//! ∝ n^{-1/2}. Each check uses either 4 × the RMS error listed for that n (per seed), or the
//! seed mean within 4 standard errors of the limit (the O(1/n) bias is far below that).
//! Reference comparisons run at n = 4096 (the width docs/reference-values.md lists RMS errors for);
//! seeds stay few so that `cargo test` (opt-level 1) stays fast.

use tpc::ir::{LowerOptions, Program};
use tpc::simulate::{self, stats, SimulationError};

fn compile(source: &str) -> Program {
    tpc::compile(source.as_bytes(), &LowerOptions::default())
        .unwrap_or_else(|d| panic!("{}", d.render("test.tp", source)))
}

fn program_file(name: &str) -> Program {
    let path = format!("{}/programs/{name}", env!("CARGO_MANIFEST_DIR"));
    compile(&std::fs::read_to_string(path).expect("example program exists"))
}

/// Position of the output called `name` in `program.outputs`.
fn output(program: &Program, name: &str) -> usize {
    program
        .outputs
        .iter()
        .position(|id| program.display_name(id.index()) == name)
        .unwrap_or_else(|| panic!("no output `{name}`"))
}

/// Per-seed values of each named output at one width.
fn run(program: &Program, width: usize, seeds: usize, base_seed: u64) -> simulate::Runs {
    simulate::simulate_many(program, &[width], seeds, base_seed, &|_, _| {})
        .expect("the simulation succeeds")
}

/// The seed mean is within 4 standard errors of `limit`.
fn assert_mean_near(values: &[f64], limit: f64, what: &str) {
    let e = stats::estimate(values).unwrap();
    let se = e.standard_error.unwrap();
    assert!(
        (e.mean - limit).abs() <= 4.0 * se,
        "{what}: mean {} ± {se} vs limit {limit}",
        e.mean
    );
}

/// Every seed is within 4 × the reference RMS error of `limit`.
fn assert_each_near(values: &[f64], limit: f64, rms: f64, what: &str) {
    for v in values {
        assert!(
            (v - limit).abs() <= 4.0 * rms,
            "{what}: {v} vs limit {limit} (4 × RMS = {})",
            4.0 * rms
        );
    }
}

#[test]
fn catalan_moments_converge_to_catalan_numbers() {
    // Case 4a at n = 4096, 8 seeds; RMS errors from its n = 4096 row.
    let program = program_file("catalan.tp");
    let runs = run(&program, 4096, 8, 100);
    let catalan = [1.0, 1.0, 2.0, 5.0, 14.0, 42.0, 132.0];
    let rms = [0.021, 0.029, 0.091, 0.31, 1.1, 3.7, 13.0];
    for k in 0..7 {
        let name = format!("c{k}");
        let values = runs.output(0, output(&program, &name));
        assert_mean_near(&values, catalan[k], &name);
        assert_each_near(&values, catalan[k], rms[k], &name);
        // The spread itself matches the reference (distinct seeds, right scale): the sample
        // sd of 8 values is within a factor 3 of the RMS error (χ² with 7 d.o.f.).
        let sd = stats::estimate(&values).unwrap().standard_error.unwrap() * 8f64.sqrt();
        assert!(
            sd > rms[k] / 3.0 && sd < 3.0 * rms[k],
            "{name}: sd {sd} vs RMS {}",
            rms[k]
        );
    }
    for (name, limit) in [("c02", 1.0), ("c04", 2.0), ("c24", 5.0), ("c13", 2.0)] {
        assert_mean_near(&runs.output(0, output(&program, name)), limit, name);
    }
}

#[test]
fn minimal_transpose_program_matches_case_3() {
    // Case 3 (tanh, σ² = 2) at n = 4096, 8 seeds; RMS errors from its n = 4096 row.
    let program = program_file("transpose_minimal.tp");
    let runs = run(&program, 4096, 8, 200);
    for (name, limit, rms) in [
        ("m1", 0.960048508672, 1.8e-2),
        ("m2", 1.961644630331, 5.9e-2),
        ("m3", 0.464140258142, 6.5e-3),
    ] {
        let values = runs.output(0, output(&program, name));
        assert_each_near(&values, limit, rms, name);
        assert_mean_near(&values, limit, name);
    }
    // The gradient-independence shortcut (m1 → 0, m2 → 1.04) is excluded by far.
    let m1 = stats::estimate(&runs.output(0, output(&program, "m1"))).unwrap();
    assert!(m1.mean > 0.8);
}

/// Case 1 limits Σ^l for relu, entries (ξ,ξ), (ξ,ξ'), (ξ',ξ').
const RELU_SIGMA: [[f64; 3]; 4] = [
    [1.0, 0.9, 2.25],
    [1.0, 1.016321351650, 2.25],
    [1.0, 1.100150678738, 2.25],
    [1.0, 1.162968652266, 2.25],
];
const ENTRIES: [(usize, usize); 3] = [(0, 0), (0, 1), (1, 1)];

#[test]
fn relu_nngp_matches_case_1() {
    // n = 4096, 12 seeds (as the reference row); RMS error of Σ⁴₁₂ from the case 1 relu
    // n = 4096 row (9.3e-2). Fewer seeds make the sample standard error itself too noisy for a
    // 4-standard-error test over twelve entries.
    let program = program_file("nngp_relu.tp");
    let runs = run(&program, 4096, 12, 300);
    for (l, limits) in RELU_SIGMA.iter().enumerate() {
        for (&(i, j), &limit) in ENTRIES.iter().zip(limits) {
            let name = format!("Sigma[{}, {i}, {j}]", l + 1);
            let values = runs.output(0, output(&program, &name));
            if l == 0 {
                // Σ¹ is an initial scalar: exact.
                assert!(values.iter().all(|&v| v == limit), "{name}");
            } else {
                assert_mean_near(&values, limit, &name);
            }
        }
    }
    let sigma12 = runs.output(0, output(&program, "Sigma[4, 0, 1]"));
    assert_each_near(&sigma12, 1.162968652266, 9.3e-2, "Sigma[4, 0, 1]");
}

#[test]
fn relu_ntk_matches_case_2() {
    // n = 4096, 6 seeds; RMS errors of Θ₁₂, Θ₁₁ from the case 2 relu n = 4096 row.
    let program = program_file("ntk_relu.tp");
    let runs = run(&program, 4096, 6, 400);
    let theta = [
        ("Theta[0, 0]", 4.0, Some(2.2e-1)),
        ("Theta[0, 1]", 2.928430027777, Some(2.2e-1)),
        ("Theta[1, 1]", 9.0, None),
    ];
    for (name, limit, rms) in theta {
        let values = runs.output(0, output(&program, name));
        assert_mean_near(&values, limit, name);
        if let Some(rms) = rms {
            assert_each_near(&values, limit, rms, name);
        }
    }
    let sigma = runs.output(0, output(&program, "Sigma[4, 0, 1]"));
    assert_mean_near(&sigma, 1.162968652266, "Sigma[4, 0, 1]");
}

#[test]
fn catalan_error_shrinks_like_inverse_square_root_of_width() {
    // RMS error of ⟨v2, v2⟩_n around 2 at n = 256, 1024, 4096. Theory and case 4a say slope
    // −1/2; with 24/16/8 seeds each RMS carries ~15–25% sampling error, so the fitted slope is
    // only known to about ±0.15: accept [−0.8, −0.2].
    let program = program_file("catalan.tp");
    let c2 = output(&program, "c2");
    let points: Vec<(usize, f64)> = [(256, 24), (1024, 16), (4096, 8)]
        .iter()
        .map(|&(n, seeds)| {
            let runs = run(&program, n, seeds, 500);
            (n, stats::rms_deviation(&runs.output(0, c2), 2.0).unwrap())
        })
        .collect();
    let slope = stats::log_log_slope(&points).unwrap();
    assert!(
        (-0.8..=-0.2).contains(&slope),
        "slope {slope}, points {points:?}"
    );
}

#[test]
fn same_seed_gives_identical_bits_on_any_thread_count() {
    let program = program_file("ntk_relu.tp");
    let a = simulate::simulate(&program, 300, 9).unwrap();
    let b = simulate::simulate(&program, 300, 9).unwrap();
    assert_eq!(a, b);
    assert_ne!(
        a.outputs(),
        simulate::simulate(&program, 300, 10).unwrap().outputs()
    );

    // Widths above the kernels' task sizes, so 2 threads really split the work.
    let many = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| simulate::simulate_many(&program, &[300, 1100], 3, 7, &|_, _| {}))
            .unwrap()
    };
    let one = many(1);
    assert_eq!(one, many(2));
    // simulate_many's seed s is base_seed + s.
    let direct = simulate::simulate(&program, 1100, 9).unwrap();
    assert_eq!(one.values[1][2], direct.outputs());
}

#[test]
fn progress_counts_every_run() {
    let program = compile("vector x ~ N(0, 1)\nk = mean(x * x)\noutput k\n");
    let calls = std::sync::Mutex::new(Vec::new());
    let runs = simulate::simulate_many(&program, &[10, 20], 3, 0, &|done, total| {
        calls.lock().unwrap().push((done, total))
    })
    .unwrap();
    let mut calls = calls.into_inner().unwrap();
    calls.sort();
    assert_eq!(calls, (1..=6).map(|d| (d, 6)).collect::<Vec<_>>());
    assert_eq!(runs.seeds, vec![0, 1, 2]);
    assert_eq!(runs.values.len(), 2);
    assert!(runs.values.iter().all(|w| w.len() == 3));
}

#[test]
fn not_finite_value_names_the_instruction() {
    let source = "vector x ~ N(0, 1)\nk = mean(log(x - 100))\noutput k\n";
    let program = compile(source);
    let error = simulate::simulate(&program, 64, 1).unwrap_err();
    let SimulationError::NotFinite {
        instruction,
        span,
        name,
    } = &error
    else {
        panic!("expected NotFinite, got {error:?}");
    };
    assert_eq!(name, "k");
    assert_eq!(program.display_name(*instruction), "k");
    assert!(source[span.range()].contains("log"));
    let diagnostic = error.to_diagnostic();
    assert_eq!(diagnostic.code, "E0301");
    assert!(diagnostic.render("nan.tp", source).contains("`k`"));
    // simulate_many reports the same error.
    let many = simulate::simulate_many(&program, &[64, 128], 2, 1, &|_, _| {});
    assert_eq!(many.unwrap_err(), error);
}

#[test]
fn singular_covariance_gives_equal_members() {
    // u and v have covariance [[1, 1], [1, 1]]: the same vector up to rounding.
    let program = compile(
        "vector u, v ~ N(0, [[1, 1], [1, 1]])\n\
         d = mean((u - v) * (u - v))\nk = mean(u * v)\noutput d, k\n",
    );
    let sample = simulate::simulate(&program, 4096, 3).unwrap();
    let [d, k] = sample.outputs()[..] else {
        unreachable!()
    };
    assert!(d < 1e-24, "⟨u − v, u − v⟩ = {d}");
    // ⟨u, u⟩ over 4096 coordinates: sd √(2/4096) = 0.022; 5 sd.
    assert!((k - 1.0).abs() < 0.11, "⟨u, v⟩ = {k}");
}

#[test]
fn exact_scalars_mean_and_width() {
    // Scalar arithmetic is exact; `n` is the width; a nonzero group mean is respected.
    let program = compile(
        "vector b ~ N(0.5, 1)\nscalar y = 1.5\nz = y * y + 1\nw = mean(b * 0 + n)\n\
         m = mean(b)\noutput z, w, m\n",
    );
    let sample = simulate::simulate(&program, 10_000, 4).unwrap();
    let [z, w, m] = sample.outputs()[..] else {
        unreachable!()
    };
    assert_eq!(z, 3.25);
    assert_eq!(w, 10_000.0);
    // sd of the mean 1/√10000 = 0.01; 5 sd.
    assert!((m - 0.5).abs() < 0.05, "mean {m}");
    assert_eq!(sample.width(), 10_000);
    assert_eq!(sample.seed(), 4);
}

#[test]
fn zero_width_is_an_error() {
    let program = compile("vector x ~ N(0, 1)\nk = mean(x)\noutput k\n");
    assert_eq!(
        simulate::simulate(&program, 0, 0),
        Err(SimulationError::ZeroWidth)
    );
}
