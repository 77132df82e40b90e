//! Source text to AST: decoding, the pest grammar (`grammar/tp.pest`) and syntax errors.
//!
//! pest's types never leave this module.

pub mod ast;
mod parse;

pub use parse::{parse, MAX_EXPR_DEPTH, MAX_NESTING};

use crate::diagnostics::{Diagnostic, Span};

/// Everything that can go wrong before names are resolved.
#[derive(Clone, Debug, PartialEq)]
pub enum SyntaxError {
    /// The input bytes are not UTF-8.
    NotUtf8 {
        /// The first invalid byte.
        offset: usize,
    },
    /// The parser met something it did not expect.
    Unexpected {
        /// Where.
        span: Span,
        /// Descriptions of what would have been accepted.
        expected: Vec<&'static str>,
        /// The innermost bracket left open before the error, if any.
        unclosed: Option<Span>,
    },
    /// Brackets or operators nest beyond a limit.
    TooDeep {
        /// Where the limit was crossed.
        span: Span,
        /// The limit.
        limit: usize,
        /// What nests.
        what: &'static str,
    },
    /// A number literal too large to represent.
    NumberOutOfRange {
        /// The literal.
        span: Span,
    },
}

/// Decodes source bytes, rejecting input that is not UTF-8.
pub fn decode(bytes: &[u8]) -> Result<&str, SyntaxError> {
    std::str::from_utf8(bytes).map_err(|e| SyntaxError::NotUtf8 {
        offset: e.valid_up_to(),
    })
}

impl SyntaxError {
    /// The diagnostic describing this error. `source` is the text the spans refer to.
    pub fn to_diagnostic(&self, source: &str) -> Diagnostic {
        match self {
            SyntaxError::NotUtf8 { offset } => {
                Diagnostic::error("E0001", format!("input is not valid UTF-8 (byte {offset})"))
                    // In the lossy text the invalid byte is U+FFFD, three bytes long.
                    .with_primary(
                        Span::new(*offset, *offset + '\u{FFFD}'.len_utf8()),
                        "invalid byte here",
                    )
                    .with_help("save the program as UTF-8 text")
            }
            SyntaxError::Unexpected {
                span,
                expected,
                unclosed,
            } => {
                let found = describe_found(source, *span);
                let message = format!("syntax error: unexpected {found}");
                let label = if expected.is_empty() {
                    "unexpected here".to_string()
                } else {
                    format!("expected {}", join_alternatives(expected))
                };
                // Point at one character, or at the position itself at the end of a line.
                let start = span.start as usize;
                let end = match source.get(start..).and_then(|s| s.chars().next()) {
                    Some(c) if c != '\n' && c != '\r' => start + c.len_utf8(),
                    _ => start,
                };
                let mut d =
                    Diagnostic::error("E0002", message).with_primary(Span::new(start, end), label);
                if let Some(open) = unclosed {
                    d = d.with_secondary(*open, "this bracket is not closed");
                }
                if found == "`=`" || found.starts_with("`~`") {
                    d = d.with_help("statements are `name = expr`, `const name = expr`, `vector x ~ N(0, 1)`, …");
                }
                d
            }
            SyntaxError::TooDeep { span, limit, what } => Diagnostic::error(
                "E0003",
                format!("program nests too deeply: more than {limit} {what}"),
            )
            .with_primary(*span, format!("limit of {limit} crossed here"))
            .with_help("split the expression into several named steps"),
            SyntaxError::NumberOutOfRange { span } => {
                Diagnostic::error("E0004", "number literal out of range")
                    .with_primary(*span, "not representable as a finite 64-bit float")
            }
        }
    }
}

fn describe_found(source: &str, span: Span) -> String {
    match source
        .get(span.start as usize..)
        .and_then(|s| s.chars().next())
    {
        None => "end of input".to_string(),
        Some('\n') | Some('\r') => "end of line".to_string(),
        Some(c) => {
            let token: String = source[span.start as usize..]
                .chars()
                .take_while(|ch| ch.is_alphanumeric() || *ch == '_')
                .collect();
            if token.is_empty() {
                format!("`{c}`")
            } else {
                format!("`{token}`")
            }
        }
    }
}

fn join_alternatives(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}
