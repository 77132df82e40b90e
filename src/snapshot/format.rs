//! The text form of a snapshot file.

use super::CheckKind;

/// The comment a snapshot file starts with.
const PREAMBLE: &str = "# tpc test snapshot: `tpc test` checks the program against it, \
`tpc test --accept` rewrites it.\n# Values and exponents are `name = number ± tolerance`; \
a tolerance may be edited by hand.\n";

/// One recorded check.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    /// What it checks.
    pub kind: CheckKind,
    /// The options it ran with, as written after the kind (`--widths 256,512 --seeds 4`).
    pub options: String,
    /// What it recorded, line by line.
    pub body: String,
}

/// The recorded checks of one program.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// In file order.
    pub sections: Vec<Section>,
}

impl Snapshot {
    /// The file text: the preamble, then every section as `## KIND OPTIONS` and its body.
    pub fn to_text(&self) -> String {
        let mut text = PREAMBLE.to_string();
        for s in &self.sections {
            text.push_str(&format!("\n## {}", s.kind.name()));
            if !s.options.is_empty() {
                text.push_str(&format!(" {}", s.options));
            }
            text.push('\n');
            text.push_str(&s.body);
            if !s.body.ends_with('\n') {
                text.push('\n');
            }
        }
        text
    }
}

/// Reads a snapshot file; an error names the line that is not understood.
pub fn parse(text: &str) -> Result<Snapshot, String> {
    let mut sections: Vec<Section> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if let Some(header) = line.strip_prefix("## ") {
            let (kind, options) = header.split_once(' ').unwrap_or((header, ""));
            let kind = CheckKind::from_name(kind).ok_or_else(|| {
                format!(
                    "line {}: `{kind}` is not a check (derive, scaling, eval, coordcheck)",
                    number + 1
                )
            })?;
            sections.push(Section {
                kind,
                options: options.trim().to_string(),
                body: String::new(),
            });
        } else if let Some(section) = sections.last_mut() {
            section.body.push_str(line);
            section.body.push('\n');
        } else if !(line.is_empty() || line.starts_with('#')) {
            return Err(format!(
                "line {}: text before the first `## ` section",
                number + 1
            ));
        }
    }
    // The blank line before each header belongs to the layout, not to the body.
    for section in &mut sections {
        while section.body.ends_with("\n\n") {
            section.body.pop();
        }
    }
    Ok(Snapshot { sections })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_reads_back_as_written() {
        let snapshot = Snapshot {
            sections: vec![
                Section {
                    kind: CheckKind::Eval,
                    options: String::new(),
                    body: "m1 = 0.96 ± 1e-12\n".to_string(),
                },
                Section {
                    kind: CheckKind::Coordcheck,
                    options: "--widths 64,128 --seeds 2".to_string(),
                    body: "x = 0 ± 0.1\n\nk = -0.5 ± 0.1\n".to_string(),
                },
            ],
        };
        assert_eq!(parse(&snapshot.to_text()), Ok(snapshot));
        assert!(parse("## nonsense\n").unwrap_err().contains("line 1"));
        assert!(parse("stray\n## eval\n").unwrap_err().contains("line 1"));
    }
}
