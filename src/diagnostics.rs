//! One `Diagnostic` type for every phase, rendered with codespan-reporting at the edge only.
//!
//! Phases produce their own error enums; each converts into a [`Diagnostic`] (message,
//! labelled spans, notes). [`Diagnostic::render`] draws it against the source, to a `String`
//! for tests or to a terminal with colour.

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor};
use serde::Serialize;
use std::ops::Range;

/// A byte range in the source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// The span covering bytes `start..end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// The span as a byte range.
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The program is rejected.
    Error,
    /// The program is accepted, but something deserves attention.
    Warning,
}

/// A labelled source span.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What to say there.
    pub message: String,
    /// The primary label marks the offending code; secondary labels give context.
    pub primary: bool,
}

/// A message about a program, pointing at its source.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A short stable code, such as `E0101`.
    pub code: &'static str,
    /// One-line summary.
    pub message: String,
    /// Spans with explanations.
    pub labels: Vec<Label>,
    /// Notes and help lines shown under the source.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error with the given code and message.
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            labels: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A warning with the given code and message.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Adds the primary label.
    pub fn with_primary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: true,
        });
        self
    }

    /// Adds a secondary label.
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: false,
        });
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Adds a help line (a note starting with `help:`).
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.notes.push(format!("help: {}", help.into()));
        self
    }

    fn to_codespan(&self, source_len: usize) -> cs::Diagnostic<()> {
        let clamp = |span: Span| {
            let r = span.range();
            r.start.min(source_len)..r.end.min(source_len)
        };
        let labels = self
            .labels
            .iter()
            .map(|l| {
                let style = if l.primary {
                    cs::LabelStyle::Primary
                } else {
                    cs::LabelStyle::Secondary
                };
                cs::Label::new(style, (), clamp(l.span)).with_message(&l.message)
            })
            .collect();
        let base = match self.severity {
            Severity::Error => cs::Diagnostic::error(),
            Severity::Warning => cs::Diagnostic::warning(),
        };
        base.with_code(self.code)
            .with_message(&self.message)
            .with_labels(labels)
            .with_notes(self.notes.clone())
    }

    /// Renders the diagnostic against the source as plain text (no colour).
    pub fn render(&self, file_name: &str, source: &str) -> String {
        let mut buffer = termcolor::NoColor::new(Vec::new());
        self.emit(&mut buffer, file_name, source);
        String::from_utf8_lossy(&buffer.into_inner()).into_owned()
    }

    /// Writes the diagnostic to a terminal-like writer (colour if the writer supports it).
    pub fn emit(&self, writer: &mut dyn termcolor::WriteColor, file_name: &str, source: &str) {
        let file = SimpleFile::new(file_name, source);
        let config = term::Config::default();
        // Writing to a String buffer or a terminal only fails on a broken pipe; nothing to do then.
        let _ = term::emit(writer, &config, &file, &self.to_codespan(source.len()));
    }
}
