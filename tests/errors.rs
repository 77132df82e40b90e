//! Error diagnostics: every `tests/errors/*.tp` must be rejected, and its rendered diagnostic
//! is snapshotted after its source (gleam style: SOURCE, then ERROR).
//!
//! The explicit tests below feed programs too large or too deep to keep as files, and check
//! that they are refused with the right code, quickly, instead of crashing or hanging.

use std::time::{Duration, Instant};
use tpc::ir::LowerOptions;
use tpc::Diagnostic;

/// Compiles `source` under `options`, expecting an error.
fn compile_err(source: &[u8], options: &LowerOptions) -> Diagnostic {
    match tpc::compile(source, options) {
        Ok(program) => panic!(
            "expected an error, but the program compiled to {} instructions",
            program.instructions.len()
        ),
        Err(d) => d,
    }
}

/// Compiles `source` under the default options, expects error `code`, and checks that it
/// took less than `budget` (so the limit is enforced before the work, not after it).
fn refused_quickly(source: &str, code: &str, budget: Duration) -> Diagnostic {
    let start = Instant::now();
    let d = compile_err(source.as_bytes(), &LowerOptions::default());
    let elapsed = start.elapsed();
    assert_eq!(d.code, code, "wrong error: {}", d.render("test.tp", source));
    assert!(
        elapsed < budget,
        "refusing took {elapsed:?}, more than {budget:?}"
    );
    assert_spans_within(&d, source);
    d
}

/// Every label of `d` lies inside `source`, on character boundaries.
fn assert_spans_within(d: &Diagnostic, source: &str) {
    for label in &d.labels {
        let r = label.span.range();
        assert!(
            r.start <= r.end && r.end <= source.len(),
            "label {label:?} outside a source of {} bytes",
            source.len()
        );
        assert!(
            source.is_char_boundary(r.start) && source.is_char_boundary(r.end),
            "label {label:?} splits a character"
        );
    }
}

/// The options a file is compiled under. Under the default limit `too_large.tp` takes tens of
/// seconds to refuse (lowering unrolls up to the limit first), so it gets a small limit.
fn options_for(file_name: &str) -> LowerOptions {
    match file_name {
        "too_large.tp" => LowerOptions {
            max_instructions: 1000,
            ..LowerOptions::default()
        },
        _ => LowerOptions::default(),
    }
}

#[test]
fn error_files_are_rejected_with_the_snapshotted_diagnostic() {
    insta::glob!("errors/*.tp", |path| {
        let source = std::fs::read_to_string(path).expect("error files are UTF-8");
        let file_name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            source.starts_with('#'),
            "{file_name}: the first line must be a `#` comment saying what is wrong"
        );
        let d = compile_err(source.as_bytes(), &options_for(&file_name));
        assert_spans_within(&d, &source);
        let rendered = d.render(&file_name, &source);
        insta::assert_snapshot!(format!("{source}\n----- ERROR -----\n{rendered}"));
    });
}

#[test]
fn invalid_utf8_is_rejected_at_the_first_bad_byte() {
    let bytes = b"vector x ~ N(0, 1)\nk = mean(x \xff* x)\n";
    let d = compile_err(bytes, &LowerOptions::default());
    assert_eq!(d.code, "E0001");
    assert_eq!(d.labels[0].span.start, 30, "the offset of the 0xff byte");
    let lossy = String::from_utf8_lossy(bytes);
    insta::assert_snapshot!(d.render("not_utf8.tp", &lossy));
}

#[test]
fn truncated_utf8_at_the_end_is_rejected() {
    // The first two bytes of a three-byte character, at the very end of the input.
    let bytes = b"vector x ~ N(0, 1)\n# \xe2\x88";
    let d = compile_err(bytes, &LowerOptions::default());
    assert_eq!(d.code, "E0001");
    let rendered = d.render("t.tp", &String::from_utf8_lossy(bytes));
    assert!(rendered.contains("not valid UTF-8"), "{rendered}");
}

#[test]
fn brackets_nested_100000_deep_are_refused_not_a_stack_overflow() {
    let depth = 100_000;
    let source = format!(
        "vector x ~ N(0, 1)\nk = mean({}x{})\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let d = refused_quickly(&source, "E0003", Duration::from_secs(5));
    assert!(d.message.contains("nests too deeply"), "{}", d.message);
}

#[test]
fn two_hundred_nested_parentheses_are_refused_with_a_clear_message() {
    let source = format!(
        "# 200 nested parentheses\nvector x ~ N(0, 1)\nh = {}x{}\n",
        "(".repeat(200),
        ")".repeat(200)
    );
    let d = refused_quickly(&source, "E0003", Duration::from_secs(5));
    insta::assert_snapshot!(d.render("deep_nesting.tp", &source));
}

#[test]
fn a_power_tower_200000_long_is_refused() {
    let source = format!(
        "vector x ~ N(0, 1)\nh = x{}\nk = mean(h)\n",
        "^x".repeat(200_000)
    );
    refused_quickly(&source, "E0003", Duration::from_secs(5));
}

#[test]
fn a_chain_of_200000_unary_minuses_is_refused() {
    let source = format!(
        "vector x ~ N(0, 1)\nh = {}x\nk = mean(h * h)\n",
        "- ".repeat(200_000)
    );
    refused_quickly(&source, "E0003", Duration::from_secs(5));
}

#[test]
fn a_long_sum_is_not_deep_nesting() {
    // Generated training programs write sums over all earlier steps on one line: 8,000
    // terms (16,000 operators) must compile, on the caller's small test-thread stack too.
    let terms = vec!["0.5 * x"; 8_000].join(" + ");
    let source = format!("vector x ~ N(0, 1)\nh = {terms}\nk = mean(h * x)\n");
    let program = tpc::compile(source.as_bytes(), &LowerOptions::default())
        .unwrap_or_else(|d| panic!("{}", d.render("sum.tp", &source)));
    let limit = tpc::limit::derive(&program).expect("derives");
    let values = tpc::eval::evaluate(&limit, &Default::default(), None).expect("evaluates");
    // E[h x] = 8000 · 0.5 · E[x²] = 4000 exactly (a linear integrand).
    let k = values.scalars[limit.outputs[0].0 as usize].value;
    assert!((k - 4_000.0).abs() < 1e-8, "{k}");
}

#[test]
fn a_short_chain_of_unary_minuses_compiles() {
    // The limit must not reject ordinary code: `- - - - x` is `x`.
    let source = "vector x ~ N(0, 1)\nh = - - - - x\nk = mean(h * x)\n";
    assert!(tpc::compile(source.as_bytes(), &LowerOptions::default()).is_ok());
}

#[test]
fn a_sum_of_a_million_ones_is_refused() {
    let source = format!(
        "vector x ~ N(0, 1)\nk = mean(x * x) * (1{})\n",
        "+1".repeat(1_000_000)
    );
    refused_quickly(&source, "E0003", Duration::from_secs(10));
}

#[test]
fn a_billion_by_billion_identity_is_refused() {
    let source = "const I = eye(1e9)\nvector u, v ~ N(0, I)\nk = mean(u * v)\n";
    let d = refused_quickly(source, "E0133", Duration::from_secs(2));
    insta::assert_snapshot!(d.render("huge_eye.tp", source));
}

#[test]
fn a_def_chain_doubling_40_times_is_refused() {
    // f1(x) = f0(x) + f0(x), …: the inlined expression has 2^40 leaves.
    let mut source = String::from("vector x ~ N(0, 1)\ndef f0(z) = tanh(z)\n");
    for i in 1..=40 {
        source += &format!("def f{i}(z) = f{}(z) + f{}(z)\n", i - 1, i - 1);
    }
    source += "h = f40(x)\nk = mean(h * h)\n";
    let d = refused_quickly(&source, "E0141", Duration::from_secs(10));
    insta::assert_snapshot!(d.render("def_chain.tp", &source));
}

#[test]
fn a_hundred_million_iterations_are_refused_after_the_limit_not_the_range() {
    // The time to refuse must depend on the limit, not on the loop's range.
    let source = "matrix W ~ N(0, 1/n)\nvector x[i in 0..1] ~ N(0, 1)\n\
                  for t in 0..100000000 {\n    x[t+1] = tanh(x[t])\n}\n";
    let options = LowerOptions {
        max_instructions: 100_000,
        ..LowerOptions::default()
    };
    let start = Instant::now();
    let d = compile_err(source.as_bytes(), &options);
    assert_eq!(d.code, "E0140");
    assert!(d.message.contains("100000"), "{}", d.message);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn the_instruction_limit_is_exact() {
    // 1 iteration of the declaration's binder + 1 Gaussian group + 1 vector, then
    // 3 iterations of (1 loop iteration + 1 Nonlin): 9 units of work.
    let source = "vector x[i in 0..1] ~ N(0, 1)\nfor t in 0..3 { x[t+1] = tanh(x[t]) }\n";
    let fits = LowerOptions {
        max_instructions: 9,
        ..LowerOptions::default()
    };
    assert!(tpc::compile(source.as_bytes(), &fits).is_ok());
    let tight = LowerOptions {
        max_instructions: 8,
        ..LowerOptions::default()
    };
    assert_eq!(compile_err(source.as_bytes(), &tight).code, "E0140");
}

/// A statement followed by a comment is underlined without the comment, whatever the rule
/// that ends the statement (a bare name, an indexed member, an expression, a `#` in a string).
#[test]
fn error_spans_end_before_a_trailing_comment() {
    for (source, underlined) in [
        ("vector x ~ N(0, 1)\noutput x     # a comment\n", "x"),
        (
            "vector x ~ N(0, 1)\nh[0] = x\noutput h[0]  # a member\n",
            "h[0]",
        ),
        (
            "vector x ~ N(0, 1)\nk = mean(x) + y   # y is undefined\n",
            "y",
        ),
        (
            "vector x ~ N(0, 1)\nconst c = 1\nk = mean(x * q)   # \"#\" in a comment\n",
            "q",
        ),
    ] {
        let d = compile_err(source.as_bytes(), &LowerOptions::default());
        let primary = d
            .labels
            .iter()
            .find(|l| l.primary)
            .expect("a primary label");
        assert_eq!(
            &source[primary.span.start as usize..primary.span.end as usize],
            underlined,
            "{source}"
        );
    }
}
