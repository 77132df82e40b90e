//! Robustness: `tpc::compile` never panics, whatever it is fed, and every error it returns
//! renders to a non-empty diagnostic whose labels lie inside the source.
//!
//! Three generators: random bytes, soups of the language's tokens, and valid programs
//! (`programs/*.tp` plus a few inline ones) mutated by deleting, duplicating and swapping
//! characters and lines and inserting tokens. A panic inside `compile` fails the property.

use proptest::prelude::*;
use proptest::test_runner::Config;
use tpc::ir::LowerOptions;

/// A lower instruction limit than the default, so that a mutation that turns `0..3` into
/// `0..33333333` is refused in milliseconds rather than seconds.
fn options() -> LowerOptions {
    LowerOptions {
        max_instructions: 100_000,
        ..LowerOptions::default()
    }
}

/// Compiles `bytes`; on error checks the diagnostic against the text it is rendered with
/// (the lossy decoding, for bytes that are not UTF-8).
fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let Err(d) = tpc::compile(bytes, &options()) else {
        return Ok(());
    };
    let source = String::from_utf8_lossy(bytes);
    for label in &d.labels {
        let r = label.span.range();
        prop_assert!(
            r.start <= r.end && r.end <= source.len(),
            "{} label {:?} outside a source of {} bytes",
            d.code,
            label,
            source.len()
        );
    }
    prop_assert!(!d.message.is_empty(), "{} has no message", d.code);
    let rendered = d.render("fuzz.tp", &source);
    prop_assert!(
        rendered.contains(d.code),
        "rendering lost the code: {rendered}"
    );
    prop_assert!(
        rendered.contains(&d.message),
        "rendering lost the message: {rendered}"
    );
    Ok(())
}

/// Every kind of token of the language, with a few near misses.
const TOKENS: &[&str] = &[
    "width",
    "const",
    "matrix",
    "vector",
    "scalar",
    "def",
    "output",
    "for",
    "in",
    "N",
    "n",
    "x",
    "y",
    "W",
    "h",
    "k",
    "t",
    "xi",
    "phi",
    "tanh",
    "relu",
    "step",
    "mean",
    "gram",
    "dot",
    "norm",
    "eye",
    "len",
    "sqrt",
    "exp",
    "0",
    "1",
    "2",
    "0.5",
    "1e-3",
    "2.5E+2",
    "1e400",
    "100000000",
    "=",
    "~",
    "@",
    "+",
    "-",
    "*",
    "/",
    "^",
    ".T",
    ".",
    "..",
    "'",
    ",",
    ";",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    " ",
    " ",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "# comment\n",
    "é",
    "∞",
    "$",
    "_",
    "T",
];

/// Valid programs to mutate, besides those in `programs/`.
const INLINE_PROGRAMS: &[&str] = &[
    "vector x ~ N(0, 1); k = mean(x * x)\n",
    "matrix W ~ N(0, 2/n)\nvector x ~ N(0, 1)\nh = W @ x\na = tanh(h)\ny = W.T @ a\n\
     m1 = mean(x * y)\noutput m1\n",
    "width m\nconst eta = 0.5\nmatrix W ~ N(0, 1/m)\nvector u, v ~ N(0, [[1, 0.6], [0.6, 2.25]])\n\
     def phi(z) = tanh(z) + 0.1 * z\nh = W @ phi(u)\nk = mean(phi'(h) * v)\nc = eta * k - 1\n",
    "const T = 3\nmatrix W ~ N(0, 1/n)\nvector h[i in 0..1] ~ N(0, 1)\nscalar s = 1.0\n\
     for t in 0..T {\n  h[t+1] = W @ tanh(h[t]) + 0.1 * h[t]\n  k[t] = mean(h[t+1] * h[t+1])\n}\n\
     output k\n",
    "const xi = [[1, 0], [0.9, 1.2]]\nvector h1[i in 0..2] ~ N(0, gram(xi) / 2)\n\
     for i in 0..2, j in i..2 { K[i, j] = mean(relu(h1[i]) * relu(h1[j])) }\noutput K\n",
];

/// The programs in `programs/*.tp` followed by the inline ones, read once.
fn seeds() -> &'static [String] {
    static SEEDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(read_seeds)
}

fn read_seeds() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("programs");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "tp"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut seeds: Vec<String> = files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    seeds.extend(INLINE_PROGRAMS.iter().map(|s| s.to_string()));
    seeds
}

#[test]
fn the_seed_programs_compile() {
    // Otherwise the mutation test would mutate programs that are already broken.
    for seed in seeds() {
        if let Err(d) = tpc::compile(seed.as_bytes(), &options()) {
            panic!("{}", d.render("seed.tp", seed));
        }
    }
}

/// One edit of a program's text. Positions are taken modulo the current length.
#[derive(Clone, Debug)]
enum Mutation {
    DeleteChar(usize),
    DuplicateChar(usize),
    SwapChars(usize, usize),
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    InsertToken(usize, &'static str),
    DeleteRange(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let pos = any::<usize>();
    prop_oneof![
        pos.prop_map(Mutation::DeleteChar),
        pos.prop_map(Mutation::DuplicateChar),
        (pos, pos).prop_map(|(a, b)| Mutation::SwapChars(a, b)),
        pos.prop_map(Mutation::DeleteLine),
        pos.prop_map(Mutation::DuplicateLine),
        (pos, pos).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (pos, proptest::sample::select(TOKENS)).prop_map(|(a, t)| Mutation::InsertToken(a, t)),
        (pos, 1..12usize).prop_map(|(a, l)| Mutation::DeleteRange(a, l)),
    ]
}

/// Applies `m` to `text`, working on characters so the result stays UTF-8.
fn apply(text: &str, m: &Mutation) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    let nc = chars.len().max(1);
    let nl = lines.len().max(1);
    match *m {
        Mutation::DeleteChar(i) if !chars.is_empty() => {
            chars.remove(i % nc);
        }
        Mutation::DuplicateChar(i) if !chars.is_empty() => {
            let c = chars[i % nc];
            chars.insert(i % nc, c);
        }
        Mutation::SwapChars(i, j) if !chars.is_empty() => chars.swap(i % nc, j % nc),
        Mutation::DeleteRange(i, len) if !chars.is_empty() => {
            let start = i % nc;
            chars.drain(start..(start + len).min(chars.len()));
        }
        Mutation::InsertToken(i, token) => {
            let at = i % (chars.len() + 1);
            chars.splice(at..at, token.chars());
        }
        Mutation::DeleteLine(i) if !lines.is_empty() => {
            lines.remove(i % nl);
            return lines.concat();
        }
        Mutation::DuplicateLine(i) if !lines.is_empty() => {
            let line = lines[i % nl];
            lines.insert(i % nl, line);
            return lines.concat();
        }
        Mutation::SwapLines(i, j) if !lines.is_empty() => {
            lines.swap(i % nl, j % nl);
            return lines.concat();
        }
        _ => {}
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(Config { cases: 2000, ..Config::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        check(&bytes)?;
    }

    #[test]
    fn random_ascii_never_panics(text in "[ -~\n]{0,200}") {
        check(text.as_bytes())?;
    }

    #[test]
    fn token_soups_never_panic(
        tokens in proptest::collection::vec(proptest::sample::select(TOKENS), 0..60)
    ) {
        check(tokens.concat().as_bytes())?;
    }

    #[test]
    fn mutated_programs_never_panic(
        seed in any::<prop::sample::Index>(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let seeds = seeds();
        let mut text = seeds[seed.index(seeds.len())].clone();
        for m in &mutations {
            text = apply(&text, m);
        }
        check(text.as_bytes())?;
    }
}

#[test]
fn a_label_on_a_multibyte_character_renders() {
    // `é` is two bytes; a syntax error right on it must still render.
    let source = "vector x ~ N(0, 1)\nk = mean(x é x)\n";
    let d = tpc::compile(source.as_bytes(), &options()).expect_err("`é` is not a token");
    let rendered = d.render("t.tp", source);
    assert!(rendered.contains("E0002"), "{rendered}");
}
