//! One `Diagnostic` type for every phase, rendered with codespan-reporting at the edge only.
//!
//! Phases produce their own error enums; each converts into a [`Diagnostic`] (message,
//! labelled spans, notes). [`Diagnostic::render`] draws it against the source, to a `String`
//! for tests or to a terminal with colour.

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::{Files, SimpleFile};
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
    ///
    /// A source line longer than [`MAX_QUOTED_LINE`] characters is quoted only around the
    /// primary label, with `…` where it is cut, so that a huge line is never echoed whole.
    pub fn emit(&self, writer: &mut dyn termcolor::WriteColor, file_name: &str, source: &str) {
        let anchor = self
            .labels
            .iter()
            .find(|l| l.primary)
            .or(self.labels.first())
            .map(|l| l.span.start as usize);
        let excerpt = Excerpt::new(source, anchor);
        let mut shown = self.clone();
        for label in &mut shown.labels {
            label.span = Span::new(excerpt.map(label.span.start), excerpt.map(label.span.end));
        }
        let file = ExcerptFile {
            file: SimpleFile::new(file_name, excerpt.text.as_str()),
            excerpt: &excerpt,
            source,
        };
        let config = term::Config::default();
        // Writing to a String buffer or a terminal only fails on a broken pipe; nothing to do then.
        let _ = term::emit(
            writer,
            &config,
            &file,
            &shown.to_codespan(excerpt.text.len()),
        );
    }
}

/// Source lines longer than this many bytes are quoted in part.
pub const MAX_QUOTED_LINE: usize = 240;

/// The source as a diagnostic quotes it: every line longer than [`MAX_QUOTED_LINE`] bytes
/// cut to a window (around the anchor on the anchor's line, else its start), with `…` marking
/// the cuts. Line numbers are unchanged.
struct Excerpt {
    text: String,
    cuts: Vec<Cut>,
}

/// One cut line, in old (source) and new (excerpt) offsets.
struct Cut {
    /// The whole line in the source, with its line break.
    line: Range<usize>,
    /// The part of the line that is kept, in the source.
    window: Range<usize>,
    /// Where that part starts in the excerpt.
    new_start: usize,
    /// The whole line in the excerpt.
    new_line: Range<usize>,
    /// New minus old offset for everything after the line.
    shift_after: isize,
}

impl Excerpt {
    fn new(source: &str, anchor: Option<usize>) -> Excerpt {
        let mut text = String::new();
        let mut cuts = Vec::new();
        let mut start = 0;
        for line in source.split_inclusive('\n') {
            let end = start + line.len();
            let body = line.trim_end_matches(['\n', '\r']);
            if body.len() <= MAX_QUOTED_LINE {
                text.push_str(line);
                start = end;
                continue;
            }
            let centre = anchor
                .filter(|a| (start..end).contains(a))
                .map_or(0, |a| a - start);
            let mut from = centre.saturating_sub(MAX_QUOTED_LINE / 4);
            while !body.is_char_boundary(from) {
                from -= 1;
            }
            let mut to = (from + MAX_QUOTED_LINE).min(body.len());
            while !body.is_char_boundary(to) {
                to -= 1;
            }
            let new_line_start = text.len();
            if from > 0 {
                text.push('…');
            }
            let new_start = text.len();
            text.push_str(&body[from..to]);
            if to < body.len() {
                text.push('…');
            }
            text.push_str(&line[body.len()..]);
            cuts.push(Cut {
                line: start..end,
                window: start + from..start + to,
                new_start,
                new_line: new_line_start..text.len(),
                shift_after: text.len() as isize - end as isize,
            });
            start = end;
        }
        Excerpt { text, cuts }
    }

    /// Where a source offset lands in the excerpt.
    fn map(&self, offset: u32) -> usize {
        let offset = offset as usize;
        let k = self.cuts.partition_point(|c| c.line.start <= offset);
        let Some(cut) = k.checked_sub(1).map(|k| &self.cuts[k]) else {
            return offset;
        };
        if offset >= cut.line.end {
            (offset as isize + cut.shift_after) as usize
        } else {
            cut.new_start + offset.clamp(cut.window.start, cut.window.end) - cut.window.start
        }
    }

    /// The source offset an excerpt offset quotes (the window's edge for a `…`).
    fn unmap(&self, offset: usize) -> usize {
        let k = self.cuts.partition_point(|c| c.new_line.start <= offset);
        let Some(cut) = k.checked_sub(1).map(|k| &self.cuts[k]) else {
            return offset;
        };
        if offset >= cut.new_line.end {
            (offset as isize - cut.shift_after) as usize
        } else {
            let inside = offset.saturating_sub(cut.new_start);
            (cut.window.start + inside).min(cut.window.end)
        }
    }
}

/// The excerpt as codespan sees it: its text and lines, with columns counted in the source.
struct ExcerptFile<'a> {
    file: SimpleFile<&'a str, &'a str>,
    excerpt: &'a Excerpt,
    source: &'a str,
}

impl<'a> Files<'a> for ExcerptFile<'a> {
    type FileId = ();
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: ()) -> Result<&'a str, codespan_reporting::files::Error> {
        Files::name(&self.file, id)
    }

    fn source(&'a self, id: ()) -> Result<&'a str, codespan_reporting::files::Error> {
        Files::source(&self.file, id)
    }

    fn line_index(
        &'a self,
        id: (),
        byte_index: usize,
    ) -> Result<usize, codespan_reporting::files::Error> {
        Files::line_index(&self.file, id, byte_index)
    }

    fn line_range(
        &'a self,
        id: (),
        line_index: usize,
    ) -> Result<Range<usize>, codespan_reporting::files::Error> {
        Files::line_range(&self.file, id, line_index)
    }

    fn column_number(
        &'a self,
        _id: (),
        _line_index: usize,
        byte_index: usize,
    ) -> Result<usize, codespan_reporting::files::Error> {
        let mut offset = self.excerpt.unmap(byte_index).min(self.source.len());
        while !self.source.is_char_boundary(offset) {
            offset -= 1;
        }
        let line_start = self.source[..offset].rfind('\n').map_or(0, |p| p + 1);
        Ok(self.source[line_start..offset].chars().count() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_line_is_quoted_around_the_label_only() {
        let long = "x + ".repeat(50_000);
        let source = format!("a = 1\nb = {long}y\nc = z\n");
        let y = source.find('y').unwrap();
        let z = source.find('z').unwrap();
        let text = Diagnostic::error("E0000", "unknown name")
            .with_primary(Span::new(y, y + 1), "here")
            .with_secondary(Span::new(z, z + 1), "and here")
            .render("f.tp", &source);
        assert!(text.len() < 2_000, "{} bytes quoted", text.len());
        assert!(text.contains("2 │ …"), "{text}");
        // The location is the source's line and column.
        let column = y - source[..y].rfind('\n').unwrap();
        assert!(text.contains(&format!("f.tp:2:{column}")), "{text}");
        assert!(text.contains("y"), "{text}");
        // The later line keeps its number and its label.
        assert!(text.contains("3 │ c = z"), "{text}");
        assert!(text.contains("and here"), "{text}");
    }

    #[test]
    fn short_lines_are_quoted_whole() {
        let source = "a = 1\nb = q\n";
        let text = Diagnostic::error("E0000", "unknown name")
            .with_primary(Span::new(10, 11), "here")
            .render("f.tp", source);
        assert!(text.contains("2 │ b = q"), "{text}");
        assert!(text.contains("^ here"), "{text}");
    }
}
