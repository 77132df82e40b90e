//! The documentation is executed: every block tagged `tp` in `README.md` and `docs/` is a
//! complete program that checks and evaluates (`tp no-limit`: checks, and has no limit to
//! evaluate), every block tagged `tp-error` fails to check — with the error code its text
//! names, when it names one (`# error E0103: …`) — and every value the documentation states
//! for a program (a number with six or more decimals in its comments) is what tpc computes.

use tpc::ir::LowerOptions;

/// A fenced code block of the language reference.
struct Block {
    /// The info string's first word: `tp` or `tp-error`.
    tag: String,
    /// The words after it: `no-limit` marks a program that checks but has no limit to
    /// evaluate (its text says why).
    attributes: Vec<String>,
    /// The first line of the block's content, 1-based, for messages.
    line: usize,
    /// The program text.
    text: String,
}

/// The fenced blocks of a Markdown file tagged `tp` or `tp-error`.
fn blocks(markdown: &str) -> Vec<Block> {
    all_blocks(markdown)
        .into_iter()
        .filter(|b| b.tag == "tp" || b.tag == "tp-error")
        .collect()
}

/// Every fenced block of a Markdown file.
fn all_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (number, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match open.take() {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let mut words = info.split_whitespace().map(str::to_string);
                    open = Some(Block {
                        tag: words.next().unwrap_or_default(),
                        attributes: words.collect(),
                        line: number + 2,
                        text: String::new(),
                    });
                }
            }
            Some(mut block) => {
                if trimmed.starts_with("```") {
                    blocks.push(block);
                } else {
                    block.text.push_str(line);
                    block.text.push('\n');
                    open = Some(block);
                }
            }
        }
    }
    assert!(open.is_none(), "an unclosed code block");
    blocks
}

/// The error code a `tp-error` block announces in a comment, e.g. `E0103`.
fn announced_code(text: &str) -> Option<&str> {
    let at = text.find("error E")? + "error ".len();
    text.get(at..at + 5)
}

#[test]
fn language_reference_examples() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/language.md");
    let markdown = std::fs::read_to_string(path).expect("docs/language.md is readable");
    let blocks = blocks(&markdown);
    assert!(
        blocks.iter().filter(|b| b.tag == "tp").count() >= 5,
        "too few `tp` examples found"
    );
    assert!(
        blocks.iter().any(|b| b.tag == "tp-error"),
        "no `tp-error` examples found"
    );
    for block in &blocks {
        let result = tpc::compile(block.text.as_bytes(), &LowerOptions::default());
        match (block.tag.as_str(), result) {
            ("tp", Ok(program)) => {
                if let Err(e) = tpc::ir::validate(&program) {
                    panic!("docs/language.md:{}: invalid IR: {e}", block.line);
                }
            }
            ("tp", Err(d)) => panic!(
                "docs/language.md:{}: a `tp` example does not check:\n{}",
                block.line,
                d.render("example.tp", &block.text)
            ),
            (_, Ok(_)) => panic!(
                "docs/language.md:{}: a `tp-error` example checks",
                block.line
            ),
            (_, Err(d)) => {
                if let Some(code) = announced_code(&block.text) {
                    assert_eq!(
                        d.code,
                        code,
                        "docs/language.md:{}: wrong error code:\n{}",
                        block.line,
                        d.render("example.tp", &block.text)
                    );
                }
            }
        }
    }
}

/// The Markdown files whose examples are programs: the README and every file of `docs/`.
fn markdown_files() -> Vec<(String, String)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut files = vec![format!("{root}/README.md")];
    let mut docs: Vec<String> = std::fs::read_dir(format!("{root}/docs"))
        .expect("docs/ is readable")
        .map(|e| e.expect("an entry").path().display().to_string())
        .filter(|p| p.ends_with(".md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable");
            (path, text)
        })
        .collect()
}

/// Every limit scalar of a program: its value and error bar.
fn limit_values(source: &str, dir: &str) -> Result<Vec<(f64, f64)>, tpc::Diagnostic> {
    let options = LowerOptions {
        base_dir: Some(dir.into()),
        ..LowerOptions::default()
    };
    let program = tpc::compile(source.as_bytes(), &options)?;
    let limit = tpc::limit::derive(&program).map_err(|e| e.to_diagnostic())?;
    let evaluation =
        tpc::eval::evaluate(&limit, &Default::default(), None).map_err(|e| e.to_diagnostic())?;
    Ok(evaluation
        .scalars
        .iter()
        .map(|v| (v.value, v.error))
        .collect())
}

/// The numbers with six or more decimals in the comments of `text` (the first `lines` lines),
/// each with the half unit of its last digit.
fn documented_numbers(text: &str, lines: usize) -> Vec<(String, f64, f64)> {
    let mut numbers = Vec::new();
    for line in text.lines().take(lines) {
        let Some(at) = line.find('#') else { continue };
        let comment = &line[at..];
        let bytes = comment.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let starts = bytes[i].is_ascii_digit()
                && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'.'));
            if !starts {
                i += 1;
                continue;
            }
            let end = (i..bytes.len())
                .find(|&j| !(bytes[j].is_ascii_digit() || bytes[j] == b'.'))
                .unwrap_or(bytes.len());
            let token = &comment[i..end];
            let negative = i > 0 && bytes[i - 1] == b'-';
            if let Some((_, decimals)) = token.split_once('.') {
                if decimals.len() >= 6 && !decimals.contains('.') {
                    let value: f64 = token.parse().expect("digits");
                    let value = if negative { -value } else { value };
                    numbers.push((
                        token.to_string(),
                        value,
                        0.5 * 10f64.powi(-(decimals.len() as i32)),
                    ));
                }
            }
            i = end;
        }
    }
    numbers
}

/// Each documented number must be the limit of some scalar of its program, to its last digit.
fn assert_documented(place: &str, source: &str, numbers: &[(String, f64, f64)], dir: &str) {
    if numbers.is_empty() {
        return;
    }
    let values = limit_values(source, dir)
        .unwrap_or_else(|d| panic!("{place}: {}", d.render("example.tp", source)));
    for (text, number, half_unit) in numbers {
        let found = values
            .iter()
            .any(|(v, e)| (v - number).abs() <= half_unit + 4.0 * e + 1e-15);
        assert!(
            found,
            "{place}: the documented value {text} is not what tpc computes (closest: {:?})",
            values
                .iter()
                .map(|(v, _)| *v)
                .min_by(|a, b| (a - number).abs().total_cmp(&(b - number).abs()))
        );
    }
}

/// Every `tp` example of the README and docs/ evaluates (or, marked `no-limit`, is refused by
/// the derivation with E0201, which its text explains), and its stated values are tpc's.
#[test]
fn documented_examples_evaluate_to_their_stated_values() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut evaluated = 0;
    for (path, markdown) in markdown_files() {
        for block in blocks(&markdown).iter().filter(|b| b.tag == "tp") {
            let place = format!("{path}:{}", block.line);
            if block.attributes.iter().any(|a| a == "no-limit") {
                let d = limit_values(&block.text, root).expect_err(&place);
                assert_eq!(d.code, "E0201", "{place}");
                continue;
            }
            if let Err(d) = limit_values(&block.text, root) {
                panic!(
                    "{place}: does not evaluate:\n{}",
                    d.render("example.tp", &block.text)
                );
            }
            let numbers = documented_numbers(&block.text, usize::MAX);
            assert_documented(&place, &block.text, &numbers, root);
            evaluated += 1;
        }
    }
    assert!(evaluated >= 7, "only {evaluated} examples evaluated");
}

/// The program of examples/library_api.rs states the value it computes.
#[test]
fn the_library_example_states_its_value() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/library_api.rs");
    let text = std::fs::read_to_string(path).expect("readable");
    let start = text
        .find("const PROGRAM: &str = \"\\\n")
        .expect("the program constant")
        + 25;
    let end = start + text[start..].find("\";").expect("its end");
    let program = &text[start..end];
    let numbers = documented_numbers(program, usize::MAX);
    assert!(!numbers.is_empty(), "the example states a value");
    assert_documented(path, program, &numbers, env!("CARGO_MANIFEST_DIR"));
}

/// The limits stated in the headers of the example programs (all but the training programs
/// whose header values come from Monte Carlo) are what tpc computes.
#[test]
fn program_headers_state_the_values_tpc_computes() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/programs");
    for name in [
        "attention_nngp.tp",
        "catalan.tp",
        "cnn1d_nngp.tp",
        "cnn2d_nngp.tp",
        "kernel_matrix.tp",
        "layernorm_nngp.tp",
        "nngp_erf.tp",
        "nngp_relu.tp",
        "nngp_tanh.tp",
        "ntk_erf.tp",
        "ntk_relu.tp",
        "ntk_tanh.tp",
        "resnet_block_nngp.tp",
        "rnn.tp",
        "sgd_two_steps.tp",
        "transpose_minimal.tp",
        "transpose_minimal_relu.tp",
        "transpose_minimal_step.tp",
    ] {
        let source = std::fs::read_to_string(format!("{dir}/{name}")).expect("readable");
        let header = source.lines().take_while(|l| l.starts_with('#')).count();
        let numbers = documented_numbers(&source, header);
        assert_documented(name, &source, &numbers, dir);
    }
}

/// The `tpc check` sample of docs/language.md's worked example is what tpc prints for it.
#[test]
fn the_check_sample_is_what_tpc_prints() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/language.md");
    let markdown = std::fs::read_to_string(path).expect("readable");
    let worked = &markdown[markdown
        .find("## 13. A worked example")
        .expect("section 13")..];
    let all = all_blocks(worked);
    let program = &all
        .iter()
        .find(|b| b.tag == "tp")
        .expect("the example")
        .text;
    let sample = &all
        .iter()
        .find(|b| b.tag == "text")
        .expect("the sample")
        .text;
    let compiled = tpc::compile(
        program.as_bytes(),
        &LowerOptions {
            parallel: true,
            ..LowerOptions::default()
        },
    )
    .expect("checks");
    assert_eq!(*sample, format!("example.tp\n{}", compiled.summary()));
}
