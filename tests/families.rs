//! Families evaluated as arrays (programs lowered by representatives) against the same
//! programs unrolled and evaluated scalar by scalar.

use tpc::eval::EvalOptions;
use tpc::ir::LowerOptions;
use tpc::output::OutputValue;

/// Both paths' outputs: (array path, unrolled path), and whether the array path was taken.
fn both(source: &str) -> (Vec<OutputValue>, Vec<OutputValue>, bool) {
    let options = EvalOptions::default();
    let parallel = tpc::compile(
        source.as_bytes(),
        &LowerOptions {
            parallel: true,
            ..LowerOptions::default()
        },
    )
    .expect("compiles");
    let took_arrays = parallel.parallel.is_some();
    let arrays = tpc::evaluate_outputs(
        source.as_bytes(),
        &LowerOptions::default(),
        &options,
        None,
        None,
    )
    .expect("evaluates");
    let program = tpc::compile(source.as_bytes(), &LowerOptions::default()).expect("compiles");
    let limit = tpc::limit::derive(&program).expect("derives");
    let evaluation = tpc::eval::evaluate(&limit, &options, None).expect("evaluates");
    let unrolled = tpc::output::collect(&program, &limit, &evaluation);
    (arrays.outputs, unrolled, took_arrays)
}

/// `tpc eval`'s route with default options, whole matrices.
fn evaluate(source: &str) -> tpc::Evaluated {
    tpc::evaluate_outputs(
        source.as_bytes(),
        &LowerOptions::default(),
        &EvalOptions::default(),
        None,
        None,
    )
    .expect("evaluates")
}

/// Same names, shapes, defined entries; values within `tolerance` relative (both paths use
/// the same closed forms and quadrature rules, so they agree to rounding).
fn assert_agree(a: &[OutputValue], b: &[OutputValue], tolerance: f64) {
    assert_eq!(a.len(), b.len(), "number of outputs");
    for (x, y) in a.iter().zip(b) {
        match (x, y) {
            (OutputValue::Scalar { name, value }, OutputValue::Scalar { name: m, value: w }) => {
                assert_eq!(name, m);
                assert!(
                    (value.value - w.value).abs() <= tolerance * w.value.abs().max(1.0),
                    "{name}: {} vs {}",
                    value.value,
                    w.value
                );
            }
            (OutputValue::Family(f), OutputValue::Family(g)) => {
                assert_eq!(f.name, g.name);
                assert_eq!(f.values.shape(), g.values.shape(), "{}", f.name);
                assert_eq!(f.start, g.start, "{}", f.name);
                for (index, (u, v)) in f
                    .values
                    .indexed_iter()
                    .zip(g.values.iter())
                    .map(|((i, u), v)| (i, (u, v)))
                {
                    assert_eq!(u.is_nan(), v.is_nan(), "{}{:?}: {u} vs {v}", f.name, index);
                    if !u.is_nan() {
                        assert!(
                            (u - v).abs() <= tolerance * v.abs().max(1.0),
                            "{}{:?}: {u} vs {v}",
                            f.name,
                            index
                        );
                    }
                }
            }
            _ => panic!("output kinds differ: {x:?} vs {y:?}"),
        }
    }
}

fn program(name: &str) -> String {
    std::fs::read_to_string(format!("{}/programs/{name}", env!("CARGO_MANIFEST_DIR")))
        .expect("program exists")
}

/// A program over inputs with a transpose (a nonzero Ż candidate), a shared bias atom, Moments
/// per member used inside pair Moments, and pairs mixing a ZHat with an initial atom.
const TRANSPOSE_OVER_INPUTS: &str = "const N = 4
const X = [[1, 0.2], [0.3, 1.1], [-0.5, 0.7], [0.9, -0.4]]
vector h[i in 0..N] ~ N(0, gram(X) / 2)
matrix W ~ N(0, 1.5 / n)
vector b ~ N(0.2, 0.3)
for i in 0..N {
    a[i] = tanh(W @ h[i] + b)
    g[i] = W.T @ (a[i] * b)
    s[i] = mean(g[i] * h[i])
}
for i in 0..N, j in 0..N {
    K[i, j] = mean(g[i] * g[j]) + s[i] * s[j]
    M[i, j] = mean(relu(W @ h[i]) * h[j] * h[j])
}
output K, M, s
";

#[test]
fn a_program_with_a_transpose_over_inputs_agrees_with_its_unrolled_evaluation() {
    let (a, b, took) = both(TRANSPOSE_OVER_INPUTS);
    assert!(took, "the array path applies");
    assert_agree(&a, &b, 1e-9);
}

#[test]
fn constants_indexed_by_members_are_data_per_member() {
    // `X[i, 0]` (a fixed and a member index), `C[j, i]` (members in reverse order) and a
    // constant in arithmetic, inside Moments and scalar instructions.
    let source = "const X = [[1, 0.2], [0.3, 1.1], [-0.5, 0.7], [0.9, -0.4], [0.2, 0.2]]
const N = len(X)
const C = gram(X) / 2
vector h[i in 0..N] ~ N(0, C)
for i in 0..N, j in 0..N {
    T[i, j] = mean(relu(h[i]) * h[j]) * X[i, 0] + 2 * C[j, i] - X[j, 1]
}
output T
";
    let (a, b, took) = both(source);
    assert!(took, "the array path applies");
    assert_agree(&a, &b, 1e-12);
}

#[test]
fn example_kernel_programs_agree_with_their_unrolled_evaluation() {
    // Every one is evaluated as arrays: with the backward pass (ntk_*) and constants indexed
    // by members (`Sigma[1, i, j] = K1[i, j]`).
    for name in [
        "kernel_matrix.tp",
        "nngp_relu.tp",
        "ntk_relu.tp",
        "nngp_erf.tp",
        "ntk_erf.tp",
        "nngp_tanh.tp",
        "ntk_tanh.tp",
    ] {
        let (a, b, took) = both(&program(name));
        assert!(took, "{name}: the array path applies");
        assert_agree(&a, &b, 1e-12);
    }
}

/// An MLP kernel program over `x` (rows are inputs), NNGP and NTK by the forward recursion;
/// `bias` adds a shared initial vector to every layer.
fn mlp_program(x: &[Vec<f64>], depth: usize, phi: &str, sw2: f64, bias: Option<f64>) -> String {
    let rows: Vec<String> = x
        .iter()
        .map(|r| {
            format!(
                "[{}]",
                r.iter()
                    .map(|v| format!("{v:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    let (n, d, top) = (x.len(), x[0].len(), depth + 1);
    let b = if bias.is_some() { " + b" } else { "" };
    let bias_decl = bias.map_or(String::new(), |v| format!("vector b ~ N(0, {v:?})\n"));
    let sb2 = bias.map_or(0.0, |v| v);
    format!(
        "const N = {n}\nconst d = {d}\nconst sw2 = {sw2:?}\nconst X = [{}]\n\
         vector h1[i in 0..N] ~ N(0, sw2 * gram(X) / d)\n{bias_decl}\
         matrix W[l in 2..{top}] ~ N(0, sw2 / n)\n\
         for i in 0..N {{ x[1, i] = {phi}(h1[i]) }}\n\
         for l in 2..{top}, i in 0..N {{\n    h[l, i] = W[l] @ x[l - 1, i]{b}\n    x[l, i] = {phi}(h[l, i])\n}}\n\
         for i in 0..N, j in 0..N {{ Sigma[1, i, j] = mean(h1[i] * h1[j]) }}\n\
         for l in 2..{}, i in 0..N, j in 0..N {{ Sigma[l, i, j] = sw2 * mean(x[l - 1, i] * x[l - 1, j]) + {sb2:?} }}\n\
         for i in 0..N, j in 0..N {{ Theta[1, i, j] = Sigma[1, i, j] }}\n\
         for i in 0..N, j in 0..N {{ Dot[1, i, j] = sw2 * mean({phi}'(h1[i]) * {phi}'(h1[j])) }}\n\
         for l in 2..{top}, i in 0..N, j in 0..N {{ Dot[l, i, j] = sw2 * mean({phi}'(h[l, i]) * {phi}'(h[l, j])) }}\n\
         for l in 1..{top}, i in 0..N, j in 0..N {{ Theta[l + 1, i, j] = Sigma[l + 1, i, j] + Dot[l, i, j] * Theta[l, i, j] }}\n\
         for i in 0..N, j in i..N {{\n    NNGP[i, j] = Sigma[{top}, i, j]\n    NTK[i, j] = Theta[{top}, i, j]\n}}\n\
         output NTK, NNGP\n",
        rows.join(", "),
        top + 1
    )
}

fn family<'a>(outputs: &'a [OutputValue], name: &str) -> &'a tpc::output::FamilyValue {
    outputs
        .iter()
        .find_map(|o| match o {
            OutputValue::Family(f) if f.name == name => Some(f),
            _ => None,
        })
        .expect("the family is an output")
}

/// The relu NNGP/NTK recursion in closed form (arc-cosine kernels), written independently of
/// tpc: Σ¹ = σw² XXᵀ/d; Σ ← σw² E[relu relu], Θ ← Σ + σw² E[step step] Θ.
fn relu_reference(x: &[Vec<f64>], depth: usize, sw2: f64) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    use std::f64::consts::PI;
    let n = x.len();
    let d = x[0].len() as f64;
    let mut k: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| sw2 * x[i].iter().zip(&x[j]).map(|(a, b)| a * b).sum::<f64>() / d)
                .collect()
        })
        .collect();
    let mut t = k.clone();
    for _ in 0..depth {
        let diag: Vec<f64> = (0..n).map(|i| k[i][i]).collect();
        let mut next = k.clone();
        for i in 0..n {
            for j in 0..n {
                let s = (diag[i] * diag[j]).sqrt();
                let rho = (k[i][j] / s).clamp(-1.0, 1.0);
                let theta = rho.acos();
                next[i][j] = sw2 * s / (2.0 * PI) * ((1.0 - rho * rho).sqrt() + (PI - theta) * rho);
                t[i][j] = next[i][j] + sw2 * (PI - theta) / (2.0 * PI) * t[i][j];
            }
        }
        k = next;
    }
    (k, t)
}

fn random_inputs(n: usize, d: usize, seed: u64) -> Vec<Vec<f64>> {
    // A small LCG: the inputs only need to be varied, with different norms.
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    (0..n).map(|_| (0..d).map(|_| next()).collect()).collect()
}

#[test]
fn relu_kernel_matrices_match_the_closed_form_recursion() {
    // 60 inputs of different norms, depth 5: every entry, upper triangle, to 1e-13 relative
    // (both sides are the same closed form in double precision; depth compounds rounding).
    let x = random_inputs(60, 4, 7);
    let source = mlp_program(&x, 5, "relu", 2.0, None);
    let evaluated = evaluate(&source);
    assert!(evaluated.notes.is_empty(), "{:?}", evaluated.notes);
    let (k, t) = relu_reference(&x, 5, 2.0);
    let (nngp, ntk) = (
        family(&evaluated.outputs, "NNGP"),
        family(&evaluated.outputs, "NTK"),
    );
    // The program's first output is NTK: program order is kept.
    assert_eq!(evaluated.outputs[0].name(), "NTK");
    for i in 0..60 {
        for j in 0..60 {
            let (a, b) = (nngp.values[[i, j]], ntk.values[[i, j]]);
            if j < i {
                assert!(
                    a.is_nan() && b.is_nan(),
                    "below the diagonal is not defined"
                );
                continue;
            }
            assert!(
                (a - k[i][j]).abs() <= 1e-13 * k[i][j].abs().max(1e-300),
                "NNGP[{i}, {j}] {a} vs {}",
                k[i][j]
            );
            assert!(
                (b - t[i][j]).abs() <= 1e-13 * t[i][j].abs().max(1e-300),
                "NTK[{i}, {j}] {b} vs {}",
                t[i][j]
            );
        }
    }
}

mod random_programs {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]
        /// The array path and the unrolled path agree on random kernel programs: any
        /// nonlinearity with or without a closed form, biases (a shared atom in every
        /// integrand), inputs of different norms (and possibly repeated rows). Both apply the
        /// same rules to the same marginal laws, so they agree to rounding (1e-10 leaves room
        /// for quadrature refinement stopping one level apart on a rounding-level difference).
        #[test]
        fn array_path_agrees_with_unrolling(
            n in 3usize..6,
            d in 1usize..4,
            depth in 1usize..4,
            phi in prop::sample::select(vec!["relu", "erf", "tanh", "id", "sin"]),
            bias in prop::option::of(0.05f64..0.5),
            seed in 0u64..1000,
            repeat_row in any::<bool>(),
        ) {
            let mut x = random_inputs(n, d, seed);
            if repeat_row {
                x[n - 1] = x[0].clone();
            }
            let source = mlp_program(&x, depth, phi, 1.5, bias);
            let (arrays, unrolled, took) = both(&source);
            prop_assert!(took, "the array path applies");
            assert_agree(&arrays, &unrolled, 1e-10);
        }
    }
}

#[test]
fn tiles_reassemble_to_the_whole_matrix_bit_for_bit() {
    let x = random_inputs(9, 3, 11);
    for (phi, bias) in [("relu", None), ("erf", Some(0.2)), ("tanh", None)] {
        let source = mlp_program(&x, 2, phi, 1.5, bias);
        let halves = [0..4, 4..9];
        let tiles: Vec<_> = halves
            .iter()
            .flat_map(|r| halves.iter().map(move |c| (r.clone(), c.clone())))
            .collect();
        assert_tiles_reassemble(&source, &tiles, phi);
    }
}

/// Each tile `(rows, cols)` of `source`'s NNGP and NTK starts where it should, has the tile's
/// shape, and holds the whole matrix's entries bit for bit (NaN where neither defines one).
fn assert_tiles_reassemble(
    source: &str,
    tiles: &[(std::ops::Range<usize>, std::ops::Range<usize>)],
    label: &str,
) {
    let run = |tile: Option<tpc::eval::Tile>| {
        tpc::evaluate_outputs(
            source.as_bytes(),
            &LowerOptions::default(),
            &EvalOptions::default(),
            tile.as_ref(),
            None,
        )
        .expect("evaluates")
        .outputs
    };
    let whole = run(None);
    for (rows, cols) in tiles {
        let tile = run(Some(tpc::eval::Tile {
            rows: rows.clone(),
            cols: cols.clone(),
        }));
        for name in ["NNGP", "NTK"] {
            let (part, all) = (family(&tile, name), family(&whole, name));
            assert_eq!(part.start, vec![rows.start as i64, cols.start as i64]);
            assert_eq!(part.values.shape(), &[rows.len(), cols.len()]);
            for ((i, j), &v) in part.values.indexed_iter().map(|(d, v)| ((d[0], d[1]), v)) {
                let w = all.values[[rows.start + i, cols.start + j]];
                assert!(
                    v.to_bits() == w.to_bits() || (v.is_nan() && w.is_nan()),
                    "{label} {name}[{}, {}]: {v} vs {w}",
                    rows.start + i,
                    cols.start + j
                );
            }
        }
    }
}

#[test]
fn a_tile_outside_the_index_space_is_an_error() {
    let source = mlp_program(&random_inputs(5, 2, 3), 1, "relu", 2.0, None);
    let tile = tpc::eval::Tile {
        rows: 0..3,
        cols: 3..8,
    };
    let error = tpc::evaluate_outputs(
        source.as_bytes(),
        &LowerOptions::default(),
        &EvalOptions::default(),
        Some(&tile),
        None,
    )
    .expect_err("the tile does not fit");
    assert_eq!(error.code, "E0406");
    assert!(
        error.message.contains("does not fit the 5 members"),
        "{}",
        error.message
    );
}

/// Reference values of the depth-10 kernels on a = √3(1, 0, 0), b = √3(0.6, 0.8, 0), computed
/// by the NumPy closed-form recursion that kernel-matrix users run (σw² = 2 for relu, 1 for
/// erf, no bias), quoted to 10 significant digits; the relu NTK diagonal is exactly
/// (L + 1) Σ¹(a, a) = 11 · 2.
#[test]
fn depth_ten_kernels_match_reference_values_with_an_exact_diagonal() {
    let s = 3f64.sqrt();
    let x = vec![vec![s, 0.0, 0.0], vec![0.6 * s, 0.8 * s, 0.0]];
    let cases = [
        ("relu", 2.0, 1.813222659, 8.716482184),
        ("erf", 1.0, 0.07802787198, 0.8974814758),
    ];
    for (phi, sw2, nngp_ab, ntk_ab) in cases {
        let source = mlp_program(&x, 10, phi, sw2, None);
        let out = evaluate(&source).outputs;
        let (nngp, ntk) = (family(&out, "NNGP"), family(&out, "NTK"));
        // 10 significant digits quoted: 1e-9 relative.
        assert!(
            (nngp.values[[0, 1]] - nngp_ab).abs() <= 1e-9 * nngp_ab,
            "{phi} NNGP {}",
            nngp.values[[0, 1]]
        );
        assert!(
            (ntk.values[[0, 1]] - ntk_ab).abs() <= 1e-9 * ntk_ab,
            "{phi} NTK {}",
            ntk.values[[0, 1]]
        );
        if phi == "relu" {
            // Exact to rounding: 11 layers of Σ(a, a) = 2 each, relu at correlation exactly 1.
            assert!(
                (ntk.values[[0, 0]] - 22.0).abs() <= 4.0 * f64::EPSILON * 22.0,
                "{}",
                ntk.values[[0, 0]]
            );
            assert!(
                (nngp.values[[1, 1]] - 2.0).abs() <= 2.0 * f64::EPSILON * 2.0,
                "{}",
                nngp.values[[1, 1]]
            );
        }
    }
}

/// The tanh kernels (no closed form: the Mehler series with its tail bound) against an
/// independent per-pair recursion by tensor Gauss–Hermite quadrature of degree 200 on each
/// pair's own 2 × 2 covariance, at depth 3 over inputs of different norms. Degree 200 is
/// accurate to ~1e-13 here; the tolerance 1e-11 relative leaves room for both methods'
/// rounding through three layers. The reported error must cover the difference.
#[test]
fn tanh_kernels_match_pairwise_gauss_hermite() {
    let x = random_inputs(8, 3, 5);
    let depth = 3;
    let source = mlp_program(&x, depth, "tanh", 1.0, None);
    let out = evaluate(&source).outputs;
    let (nngp, ntk) = (family(&out, "NNGP"), family(&out, "NTK"));
    let rule = tpc::eval::gauss_hermite::hermite(200);
    let d = x[0].len() as f64;
    let dot = |i: usize, j: usize| x[i].iter().zip(&x[j]).map(|(a, b)| a * b).sum::<f64>() / d;
    let e1 = |q: f64, f: &dyn Fn(f64) -> f64| -> f64 {
        rule.nodes
            .iter()
            .zip(&rule.weights)
            .map(|(z, w)| w * f(q.sqrt() * z))
            .sum()
    };
    let e2 = |q1: f64, q2: f64, c: f64, f: &dyn Fn(f64) -> f64| -> f64 {
        let a = q1.sqrt();
        let b = c / a;
        let r = (q2 - b * b).max(0.0).sqrt();
        let mut s = 0.0;
        for (z1, w1) in rule.nodes.iter().zip(&rule.weights) {
            for (z2, w2) in rule.nodes.iter().zip(&rule.weights) {
                s += w1 * w2 * f(a * z1) * f(b * z1 + r * z2);
            }
        }
        s
    };
    let tanh = |u: f64| u.tanh();
    let dtanh = |u: f64| 1.0 - u.tanh() * u.tanh();
    for i in 0..8 {
        for j in i..8 {
            let (mut k11, mut k22, mut k12) = (dot(i, i), dot(j, j), dot(i, j));
            let mut t = k12;
            for _ in 0..depth {
                let square = |v: f64| v * v;
                let (e11, e22) = (e1(k11, &|u| square(tanh(u))), e1(k22, &|u| square(tanh(u))));
                let e12 = e2(k11, k22, k12, &tanh);
                let d12 = e2(k11, k22, k12, &dtanh);
                t = e12 + d12 * t;
                (k11, k22, k12) = (e11, e22, e12);
            }
            for (name, f, want) in [("NNGP", nngp, k12), ("NTK", ntk, t)] {
                let (got, error) = (f.values[[i, j]], f.errors[[i, j]]);
                let diff = (got - want).abs();
                assert!(
                    diff <= 1e-11 * want.abs().max(1e-3),
                    "{name}[{i}, {j}]: {got} vs {want}"
                );
                assert!(
                    diff <= error + 1e-13,
                    "{name}[{i}, {j}]: error {diff:e} above the reported {error:e}"
                );
            }
        }
    }
}

/// Above 100 members a group's covariance is checked pair by pair (every joint law a program
/// over a parallel index uses involves a few members): a non-PSD pair or an asymmetry is
/// still refused, naming the members.
#[test]
fn a_large_covariance_is_checked_pair_by_pair() {
    let n = 150;
    let matrix = |entry: &dyn Fn(usize, usize) -> f64| -> String {
        let rows: Vec<String> = (0..n)
            .map(|i| {
                let row: Vec<String> = (0..n).map(|j| entry(i, j).to_string()).collect();
                format!("[{}]", row.join(", "))
            })
            .collect();
        format!("[{}]", rows.join(", "))
    };
    let program = |c: String| {
        format!(
            "const C = {c}\nvector h[i in 0..{n}] ~ N(0, C)\n\
             for i in 0..{n}, j in 0..{n} {{ K[i, j] = mean(h[i] * h[j]) }}\noutput K\n"
        )
    };
    let identity = |i: usize, j: usize| if i == j { 1.0 } else { 0.0 };
    let not_psd = program(matrix(&|i, j| match (i, j) {
        (3, 7) | (7, 3) => 2.0,
        _ => identity(i, j),
    }));
    let options = LowerOptions {
        parallel: true,
        ..LowerOptions::default()
    };
    let error = tpc::compile(not_psd.as_bytes(), &options).expect_err("not PSD");
    assert_eq!(error.code, "E0123");
    let notes = format!("{:?}", error.notes);
    assert!(
        notes.contains("at member 3") && notes.contains("at member 7") && notes.len() < 400,
        "{notes}"
    );
    let asymmetric = program(matrix(&|i, j| match (i, j) {
        (5, 9) => 0.5,
        _ => identity(i, j),
    }));
    let error = tpc::compile(asymmetric.as_bytes(), &options).expect_err("not symmetric");
    assert_eq!(error.code, "E0122");
    // A valid one of that size passes, and its kernel is the covariance.
    let valid = program(matrix(&|i, j| match (i, j) {
        (3, 7) | (7, 3) => 0.5,
        _ => identity(i, j),
    }));
    let k = evaluate(&valid).outputs;
    assert_eq!(family(&k, "K").values[[3, 7]], 0.5);
}

/// A network whose layers change nonlinearity (relu, then tanh, whose kernel map has no closed
/// form, then erf and relu again), whose kernels mix across layers: the closed-form layers of
/// the array path run fused entry by entry, in segments broken where a template is read by
/// work that is not fused (the tanh layer's quadrature reads layer 2's covariance). Against the unrolled
/// path, which evaluates every scalar on its own (agreement to rounding: the same rules on the
/// same laws; 1e-10 leaves room for the tanh quadrature stopping a level apart).
#[test]
fn fused_layers_broken_by_other_work_agree_with_unrolling() {
    let x = random_inputs(6, 3, 5);
    let rows: Vec<String> = x
        .iter()
        .map(|r| {
            let r: Vec<String> = r.iter().map(|v| format!("{v:?}")).collect();
            format!("[{}]", r.join(", "))
        })
        .collect();
    let source = format!(
        "const N = 6\nconst X = [{}]\n\
         vector h1[i in 0..N] ~ N(0, 2 * gram(X) / 3)\n\
         matrix W[l in 2..5] ~ N(0, 2 / n)\n\
         for i in 0..N {{\n\
             x1[i] = relu(h1[i])\n\
             h2[i] = W[2] @ x1[i]\n\
             x2[i] = tanh(h2[i])\n\
             h3[i] = W[3] @ x2[i]\n\
             x3[i] = erf(h3[i])\n\
             h4[i] = W[4] @ x3[i]\n\
             x4[i] = relu(h4[i])\n\
         }}\n\
         for i in 0..N, j in 0..N {{\n\
             S2[i, j] = 2 * mean(x1[i] * x1[j])\n\
             S3[i, j] = 2 * mean(x2[i] * x2[j]) + S2[i, j]\n\
             S4[i, j] = 2 * mean(x3[i] * x3[j]) * S3[i, j]\n\
             S5[i, j] = 2 * mean(x4[i] * x4[j]) + mean(relu'(h4[i]) * relu'(h4[j])) * S4[i, j]\n\
         }}\n\
         output S2, S3, S4, S5\n",
        rows.join(", ")
    );
    let (arrays, unrolled, took) = both(&source);
    assert!(took, "the array path applies");
    assert_agree(&arrays, &unrolled, 1e-10);
}

/// Built-ins of linear combinations of several atoms (a convolution's pre-activations, one
/// ZHat per tap), with means from the initial group (shifted pairs: bivariate normal closed
/// forms), products of combinations themselves (`id`), and a pooled product multiplied out:
/// the array path's projected blocks against the same program unrolled, where each entry's
/// whole law is gathered. Both are closed forms, so they agree to rounding (1e-12 asserted).
const COMBINATIONS_OVER_INPUTS: &str = "const N = 5
const X = [[1, 0.2, -0.3], [0.3, 1.1, 0.5], [-0.5, 0.7, 0.2], [0.9, -0.4, 1], [0.2, 0.2, -1],
           [0.7, -0.1, 0.4], [-0.2, 0.6, 0.8], [0.5, 0.5, 0.5], [1.2, -0.8, 0.1], [0, 1, -0.6]]
vector h[i in 0..N, p in 0..2] ~ N(0.3, gram(X) / 3)
matrix A ~ N(0, 1 / n)
matrix B ~ N(0, 2 / n)
for i in 0..N {
    u[i] = A @ relu(h[i, 0]) + B @ relu(h[i, 1])
    v[i] = A @ relu(h[i, 1]) + B @ step(h[i, 0])
    pool[i] = (relu(u[i]) + relu(v[i])) / 2
}
for i in 0..N, j in i..N {
    S[i, j] = mean(relu(h[i, 0] + h[i, 1]) * step(h[j, 0] - 2 * h[j, 1] + 0.1))
    P[i, j] = mean(pool[i] * pool[j])
    L[i, j] = mean((u[i] + v[i]) * (u[j] - 0.5 * v[j]))
}
output S, P, L
";

#[test]
fn combinations_of_atoms_agree_with_their_unrolled_evaluation() {
    let (a, b, took) = both(COMBINATIONS_OVER_INPUTS);
    assert!(took, "the array path applies");
    assert_agree(&a, &b, 1e-12);
    let evaluated = evaluate(COMBINATIONS_OVER_INPUTS);
    for name in ["S", "P", "L"] {
        let f = family(&evaluated.outputs, name);
        assert!(
            f.method <= tpc::eval::Used::ClosedForm,
            "{name} by {:?}",
            f.method
        );
    }
}

/// Tiles of a generated CNN's kernels (projected templates filled a row at a time, rows with
/// gaps where the tile leaves members out) put together are the whole matrices, bit for bit.
#[test]
fn cnn_tiles_reassemble_to_the_whole_matrix_bit_for_bit() {
    use tpc::param::{generate_cnn, CnnSpec, Padding};
    let inputs: Vec<Vec<Vec<f64>>> = random_inputs(6, 9, 5)
        .into_iter()
        .map(|x| x.into_iter().map(|v| vec![v]).collect())
        .collect();
    let source = generate_cnn(&CnnSpec {
        nonlin: tpc::builtins::Builtin::Relu,
        depth: 2,
        dims: 2,
        kernel: 3,
        stride: 1,
        padding: Padding::Same,
        weight_var: 2.0,
        inputs,
        shape: vec![3, 3],
        ntk: true,
    })
    .expect("generates");
    assert_tiles_reassemble(&source, &[(0..2, 2..6), (1..4, 0..6), (3..6, 3..6)], "cnn");
}
