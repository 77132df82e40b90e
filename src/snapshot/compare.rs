//! Checking current sections against recorded ones.

use super::{CheckKind, Section, Snapshot};
use crate::output::format_significant;
use similar::TextDiff;

/// One way the program's checks differ from its snapshot, described for a reader.
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    /// The check.
    pub kind: CheckKind,
    /// What differs: a unified diff of text, or the entries out of tolerance.
    pub description: String,
}

/// The differences of `current` from `recorded`, section by section (in `recorded`'s
/// order; `current` must have been computed for the same checks). Equations and reports
/// must match line for line; values and exponents must lie within the recorded tolerances,
/// and name the same entries.
pub fn compare(recorded: &Snapshot, current: &Snapshot) -> Vec<Difference> {
    recorded
        .sections
        .iter()
        .zip(&current.sections)
        .filter_map(|(old, new)| {
            let description = match old.kind {
                CheckKind::Eval | CheckKind::Coordcheck => compare_numbers(old, new),
                CheckKind::Derive | CheckKind::Scaling => compare_text(&old.body, &new.body),
            }?;
            Some(Difference {
                kind: old.kind,
                description,
            })
        })
        .collect()
}

/// A unified diff, `None` for equal texts.
fn compare_text(old: &str, new: &str) -> Option<String> {
    (old != new).then(|| {
        TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(2)
            .header("recorded", "now")
            .to_string()
    })
}

/// A recorded entry: `name = number ± tolerance`, or `name = WORD` (`zero`).
#[derive(Clone, Debug, PartialEq)]
enum Entry {
    Number { value: f64, tolerance: f64 },
    Word(String),
}

/// The entries of a body by name, in order; `None` if a line is not an entry (an error).
fn entries(body: &str) -> Option<Vec<(&str, Entry)>> {
    body.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let (name, rest) = line.rsplit_once(" = ")?;
            let entry = match rest.split_once(" ± ") {
                Some((value, tolerance)) => Entry::Number {
                    value: value.trim().parse().ok()?,
                    tolerance: tolerance.trim().parse().ok()?,
                },
                None => Entry::Word(rest.trim().to_string()),
            };
            Some((name.trim(), entry))
        })
        .collect()
}

/// Entries missing, added or out of tolerance, one line each; `None` if all agree.
fn compare_numbers(old: &Section, new: &Section) -> Option<String> {
    let (Some(recorded), Some(now)) = (entries(&old.body), entries(&new.body)) else {
        return compare_text(&old.body, &new.body);
    };
    let mut lines = Vec::new();
    for (name, was) in &recorded {
        let Some((_, is)) = now.iter().find(|(n, _)| n == name) else {
            lines.push(format!("  {name}: recorded, no longer computed"));
            continue;
        };
        match (was, is) {
            (Entry::Number { value, tolerance }, Entry::Number { value: current, .. }) => {
                let off = (current - value).abs();
                // NaN never agrees.
                let agrees = off.partial_cmp(tolerance).is_some_and(|o| o.is_le());
                if !agrees {
                    lines.push(format!(
                        "  {name}: recorded {}, now {} (off by {})",
                        describe(was),
                        format_significant(*current, 15),
                        format_significant(off, 2)
                    ));
                }
            }
            _ if was != is => lines.push(format!(
                "  {name}: recorded {}, now {}",
                describe(was),
                describe(is)
            )),
            _ => {}
        }
    }
    for (name, is) in &now {
        if !recorded.iter().any(|(n, _)| n == name) {
            lines.push(format!("  {name}: new, {}", describe(is)));
        }
    }
    (!lines.is_empty()).then(|| lines.join("\n") + "\n")
}

fn describe(entry: &Entry) -> String {
    match entry {
        Entry::Number { value, tolerance } => format!(
            "{} ± {}",
            format_significant(*value, 15),
            format_significant(*tolerance, 2)
        ),
        Entry::Word(word) => word.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(kind: CheckKind, body: &str) -> Snapshot {
        Snapshot {
            sections: vec![Section {
                kind,
                options: String::new(),
                body: body.to_string(),
            }],
        }
    }

    #[test]
    fn values_agree_within_the_recorded_tolerance() {
        let recorded = snapshot(CheckKind::Eval, "m1 = 0.96 ± 1e-3\nm2 = 2 ± 1e-9\n");
        let close = snapshot(CheckKind::Eval, "m1 = 0.9605 ± 1e-12\nm2 = 2 ± 1e-9\n");
        assert_eq!(compare(&recorded, &close), []);
        let off = snapshot(CheckKind::Eval, "m1 = 0.97 ± 1e-12\nm3 = 1 ± 1e-9\n");
        let d = compare(&recorded, &off);
        assert_eq!(d.len(), 1);
        assert!(d[0]
            .description
            .contains("m1: recorded 0.96 ± 0.001, now 0.97 (off by 0.01)"));
        assert!(d[0]
            .description
            .contains("m2: recorded, no longer computed"));
        assert!(d[0].description.contains("m3: new, 1 ± 1e-9"));
    }

    #[test]
    fn text_differences_are_a_unified_diff() {
        let recorded = snapshot(CheckKind::Derive, "a\nb\nc\n");
        let now = snapshot(CheckKind::Derive, "a\nB\nc\n");
        let d = compare(&recorded, &now);
        assert!(
            d[0].description.contains("-b\n+B\n"),
            "{}",
            d[0].description
        );
        let words = snapshot(CheckKind::Coordcheck, "x = zero\n");
        let slope = snapshot(CheckKind::Coordcheck, "x = -0.5 ± 0.05\n");
        assert!(compare(&words, &slope)[0]
            .description
            .contains("x: recorded zero, now -0.5 ± 0.05"));
    }
}
