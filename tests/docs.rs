//! The examples of `docs/language.md` are executed: every block tagged `tp` is a complete
//! program that checks, and every block tagged `tp-error` fails to check — with the error code
//! its text names, when it names one (`# error E0103: …`).

use tpc::ir::LowerOptions;

/// A fenced code block of the language reference.
struct Block {
    /// The info string: `tp` or `tp-error`.
    tag: String,
    /// The first line of the block's content, 1-based, for messages.
    line: usize,
    /// The program text.
    text: String,
}

/// The fenced blocks of a Markdown file tagged `tp` or `tp-error`.
fn blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (number, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match open.take() {
            None => {
                if let Some(tag) = trimmed.strip_prefix("```") {
                    open = Some(Block {
                        tag: tag.trim().to_string(),
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
    assert!(
        open.is_none(),
        "docs/language.md has an unclosed code block"
    );
    blocks
        .into_iter()
        .filter(|b| b.tag == "tp" || b.tag == "tp-error")
        .collect()
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

/// The README's tour is a real program whose stated answer is the evaluated limit.
#[test]
fn readme_tour_checks_and_gives_its_stated_answer() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let markdown = std::fs::read_to_string(path).expect("README.md is readable");
    let tours: Vec<Block> = blocks(&markdown)
        .into_iter()
        .filter(|b| b.tag == "tp")
        .collect();
    assert_eq!(tours.len(), 1, "the README has one `tp` example");
    let program = tpc::compile(tours[0].text.as_bytes(), &LowerOptions::default())
        .unwrap_or_else(|d| panic!("{}", d.render("README.md", &tours[0].text)));
    let limit = tpc::limit::derive(&program).expect("derives");
    let evaluation = tpc::eval::evaluate(&limit, &Default::default(), None).expect("evaluates");
    let m1 = evaluation.scalars[limit.outputs[0].0 as usize].value;
    // The comment states 2 E[tanh'(Z^h)] = 0.960048508667 (reference case 3).
    assert!(tours[0].text.contains("0.960048508667"));
    assert!((m1 - 0.960048508667).abs() < 1e-9, "{m1}");
}
