//! Lowering semantics: each test compiles a small program and checks the IR it becomes,
//! one instruction per line in source-like form.

use tpc::ir::{LowerOptions, Op, Program};

fn lower(source: &str) -> Program {
    match tpc::compile(source.as_bytes(), &LowerOptions::default()) {
        Ok(p) => {
            tpc::ir::validate(&p).expect("lowered programs are valid");
            p
        }
        Err(d) => panic!("{}", d.render("test.tp", source)),
    }
}

fn listing(p: &Program) -> Vec<String> {
    (0..p.instructions.len()).map(|i| p.describe(i)).collect()
}

fn error_code(source: &str) -> &'static str {
    match tpc::compile(source.as_bytes(), &LowerOptions::default()) {
        Ok(_) => panic!("expected an error:\n{source}"),
        Err(d) => d.code,
    }
}

#[test]
fn matmul_of_an_expression_gets_a_temporary() {
    let p = lower("matrix W ~ N(0, 1/n)\nvector x ~ N(0, 1)\nh = W @ tanh(x) * 2\n");
    assert_eq!(
        listing(&p)[3..],
        ["%3 = tanh(x)", "%4 = W @ %3", "h = %4 * 2"]
    );
}

#[test]
fn an_instruction_made_by_the_statement_takes_its_name() {
    let p = lower("matrix W ~ N(0, 1/n)\nvector x ~ N(0, 1)\nh = W.T @ x\nk = mean(h)\n");
    assert_eq!(listing(&p)[3..], ["h = W.T @ x", "k = mean(h)"]);
}

#[test]
fn an_alias_is_an_identity_nonlin() {
    let p = lower("vector x ~ N(0, 1)\nv0 = x\n");
    assert_eq!(listing(&p)[2], "v0 = x");
    assert!(matches!(p.instructions[2].op, Op::Nonlin { .. }));
}

#[test]
fn constants_fold_and_moments_inside_expressions_become_temporaries() {
    let p = lower("const eta = 0.5\nvector x ~ N(0, 1)\nk = mean(x * x) * eta * 4 + 1\n");
    assert_eq!(
        listing(&p)[2..],
        ["%2 = mean(x * x)", "k = %2 * 0.5 * 4 + 1"]
    );
    let p = lower(
        "const a = [1, 2, 3]\nvector x ~ N(0, 1)\ny = x * (a[1] + dot(a, a) / norm([3, 4]))\n",
    );
    assert_eq!(listing(&p)[2], "y = x * 4.8");
}

#[test]
fn defs_are_inlined_and_differentiated() {
    let p = lower(
        "def phi(x) = tanh(x) * x\nvector h ~ N(0, 1)\na = phi(h)\nd = phi'(h)\nd2 = tanh''(h)\n",
    );
    assert_eq!(
        listing(&p)[2..],
        [
            "a = tanh(h) * h",
            "d = tanh'(h) * h + tanh(h)",
            "d2 = tanh''(h)"
        ]
    );
    // Derivative of a constant argument folds to a number: phi'(0) = tanh(0) = 0.
    let p = lower("def phi(x) = tanh(x) * x\nvector h ~ N(0, 1)\na = h * phi'(0.5)\n");
    // tanh(0.5) + 0.5 tanh'(0.5) = 0.855341023743 (twelve significant digits, as printed).
    assert_eq!(listing(&p)[2], "a = h * 0.855341023743");
}

#[test]
fn relu_prime_is_step_and_derivatives_that_vanish_fold_to_zero() {
    let p = lower("vector h ~ N(0, 1)\na = relu'(h)\nb = relu''(h) + h\n");
    assert_eq!(listing(&p)[2..], ["a = relu'(h)", "b = h"]);
}

#[test]
fn loops_unroll_with_dependent_ranges_and_build_families() {
    let p = lower(
        "const N = 3\nvector x[i in 0..N] ~ N(0, 1)\nfor i in 0..N, j in i..N { K[i, j] = mean(x[i] * x[j]) }\noutput K\n",
    );
    let family = p
        .families
        .iter()
        .find(|f| &*f.name == "K")
        .expect("K is a family");
    let members: Vec<Vec<i64>> = family.members.iter().map(|(k, _)| k.to_vec()).collect();
    assert_eq!(members, [[0, 0], [0, 1], [0, 2], [1, 1], [1, 2], [2, 2]]);
    assert_eq!(p.outputs.len(), 6);
    assert_eq!(p.display_name(p.outputs[1].index()), "K[0, 1]");
}

#[test]
fn a_recurrence_over_time_steps() {
    let p = lower(
        "matrix W ~ N(0, 1/n)\nvector h[t in 0..1] ~ N(0, 1)\nfor t in 0..3 {\n  h[t+1] = W @ tanh(h[t])\n  q[t] = mean(h[t+1]^2)\n}\n",
    );
    let matmuls = p
        .instructions
        .iter()
        .filter(|i| matches!(i.op, Op::MatMul { .. }))
        .count();
    assert_eq!(matmuls, 3);
    assert_eq!(p.describe(p.outputs[2].index()), "q[2] = mean(h[3]^2)");
}

#[test]
fn joint_laws_and_families_from_data() {
    let p = lower("const xi = [[1, 0], [0.9, 1.2]]\nvector h[i in 0..2], b ~ N([0, 0, 0.5], [[1, 0.9, 0], [0.9, 2.25, 0], [0, 0, 1]])\nk = mean(h[1] * b)\n");
    match &p.instructions[0].op {
        Op::Group { mean, covariance } => {
            assert_eq!(mean, &[0.0, 0.0, 0.5]);
            assert_eq!(covariance[1], 0.9);
        }
        other => panic!("expected a group, found {other:?}"),
    }
    let p = lower(
        "const xi = [[1, 0], [0.9, 1.2]]\nvector h[i in 0..2] ~ N(0, 1.5 * gram(xi) / 2 + 0.1)\n",
    );
    match &p.instructions[0].op {
        Op::Group { covariance, .. } => {
            let expected = [0.85, 0.775, 0.775, 1.7875];
            for (c, e) in covariance.iter().zip(expected) {
                assert!((c - e).abs() < 1e-15, "{covariance:?}");
            }
        }
        other => panic!("expected a group, found {other:?}"),
    }
}

#[test]
fn matrix_families_and_width_powers() {
    let p = lower("const s = [1, 2, 4]\nmatrix W[l in 0..3] ~ N(0, s[l] * n^-1)\nvector x ~ N(0, 1)\ny = n^(-1/2) * (W[2] @ x)\n");
    assert_eq!(
        listing(&p)[..3],
        [
            "matrix W[0] ~ N(0, 1/n)",
            "matrix W[1] ~ N(0, 2/n)",
            "matrix W[2] ~ N(0, 4/n)"
        ]
    );
    assert_eq!(listing(&p)[5..], ["%5 = W[2] @ x", "y = n^(-0.5) * %5"]);
}

#[test]
fn width_can_be_renamed() {
    let p = lower("width m\nmatrix W ~ N(0, 3/m)\nvector n ~ N(0, 1)\nk = mean(n)\n");
    assert_eq!(p.describe(0), "matrix W ~ N(0, 3/m)");
}

#[test]
fn consts_in_loops_are_local_to_the_iteration() {
    let p = lower("vector x ~ N(0, 1)\nfor t in 0..3 {\n  const c = t * 2\n  y[t] = x * c\n}\n");
    assert_eq!(p.describe(4), "y[2] = x * 4");
}

#[test]
fn lines_inside_brackets_are_joined() {
    let p = lower("vector x ~ N(0, 1)\nk = (mean(x * x)   # a comment inside\n  + 1)\nconst m = [[1, 0],  # row 0\n           [0, 1]]\nj = mean(x * m[1, 1])\n");
    assert_eq!(p.outputs.len(), 2);
}

#[test]
fn statements_can_share_a_line() {
    let p = lower("vector x ~ N(0, 1); k = mean(x * x); output k");
    assert_eq!(p.outputs.len(), 1);
}

#[test]
fn error_codes_of_typical_mistakes() {
    let cases = [
        ("vector x ~ N(0, 1)\ny = x\ny = x\n", "E0103"),
        ("vector x ~ N(0, 1)\nk = mean(2 * mean(x))\n", "E0110"),
        (
            "matrix W ~ N(0, 1/n)\nvector x ~ N(0, 1)\ny = W.T.T @ x\n",
            "E0111",
        ),
        (
            "matrix W ~ N(0, 1/n)\nvector x ~ N(0, 1)\ny = (W.T).T @ x\n",
            "E0111",
        ),
        ("vector x ~ N(0, 1)\ny = x.T\n", "E0110"),
        ("vector x ~ N(0, 1)\ny = tanh(x, x)\n", "E0112"),
        (
            "def f(a, b) = a * b\nvector x ~ N(0, 1)\ny = f'(x, x)\n",
            "E0115",
        ),
        (
            "def f(a, b) = a * b\nvector x ~ N(0, 1)\ny = f(x)\n",
            "E0112",
        ),
        ("def f(a) = f(a)\nvector x ~ N(0, 1)\ny = f(x)\n", "E0114"),
        (
            "vector x ~ N(0, 1)\nfor t in 0..mean(x) { y[t] = x }\n",
            "E0130",
        ),
        (
            "vector x ~ N(0, 1)\nfor t in 0..2.5 { y[t] = x }\n",
            "E0131",
        ),
        (
            "const a = [1, 2]\nvector x ~ N(0, 1)\ny = x * a[2]\n",
            "E0132",
        ),
        ("vector x ~ N(0, 1)\ny = x * [1, 2]\n", "E0110"),
        ("matrix W ~ N(0, 1)\n", "E0120"),
        ("vector u, v ~ N(0, [[1, 0.5], [0.4, 1]])\n", "E0122"),
        ("vector u, v ~ N(0, [1, 2])\n", "E0121"),
        (
            "vector x ~ N(0, 1)\nfor t in 0..2 { y[t] = x }\nz = y[2]\n",
            "E0104",
        ),
        ("vector x ~ N(0, 1)\noutput x\n", "E0110"),
        ("def tanh(x) = x\n", "E0105"),
        ("vector x ~ N(0, 1)\nrelu = mean(x)\n", "E0105"),
        (
            "const c = 1\nvector x ~ N(0, 1)\nfor t in 0..2 { const c = t; k[t] = mean(x) * c }\n",
            "E0103",
        ),
        ("vector n ~ N(0, 1)\n", "E0103"),
        ("# nothing here\n", "E0100"),
        ("const a = 1 / 0\n", "E0134"),
        ("vector x ~ N(0, 1)\nk = mean(x) / (2 - 2)\n", "E0134"),
    ];
    for (source, code) in cases {
        assert_eq!(error_code(source), code, "{source}");
    }
}
