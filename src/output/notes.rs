//! Notes as a reader takes them in: one line per kind, with how many entries it concerns and
//! the worst of them; every note on request.

use crate::eval::Note;

/// The notes grouped by kind, in order of first appearance: a kind that concerns one entry
/// is that note; several are one line with their count and the worst entry (the largest
/// measure, or the first). With `verbose`, every note on a line of its own.
pub fn note_lines(notes: &[Note], verbose: bool) -> Vec<String> {
    if verbose {
        return notes.iter().map(Note::to_string).collect();
    }
    let mut kinds: Vec<(&str, Vec<&Note>)> = Vec::new();
    for note in notes {
        match kinds.iter_mut().find(|(kind, _)| *kind == note.kind) {
            Some((_, group)) => group.push(note),
            None => kinds.push((&note.kind, vec![note])),
        }
    }
    let grouped = kinds.iter().any(|(_, group)| group.len() > 1);
    let mut lines: Vec<String> = kinds
        .into_iter()
        .map(|(kind, group)| match group.as_slice() {
            [one] => one.to_string(),
            _ => {
                let worst = group
                    .iter()
                    .max_by(|a, b| magnitude(a).total_cmp(&magnitude(b)))
                    .expect("a group has a note");
                let measure = worst
                    .measure
                    .as_ref()
                    .map_or(String::new(), |m| format!(" ({} {:.1e})", m.name, m.value));
                let which = if worst.measure.is_some() {
                    "worst"
                } else {
                    "first"
                };
                format!(
                    "{kind}: {} entries; the {which}: {}{measure}",
                    group.len(),
                    worst.entry
                )
            }
        })
        .collect();
    if grouped {
        lines.push("(`--verbose` lists every note)".to_string());
    }
    lines
}

/// How bad a note is, for choosing the worst of a kind; -1 without a measure, so the first
/// such note is kept.
fn magnitude(note: &Note) -> f64 {
    note.measure.as_ref().map_or(-1.0, |m| m.value.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_of_one_kind_are_one_line_with_a_count_and_the_worst() {
        let notes = vec![
            Note::measured("a", "stopped short", "error estimate", 1e-11),
            Note::new("b", "Monte Carlo, because reasons"),
            Note::measured("c", "stopped short", "error estimate", 6.3e-11),
            Note::measured("d", "stopped short", "error estimate", 2e-11),
        ];
        assert_eq!(
            note_lines(&notes, false),
            [
                "stopped short: 3 entries; the worst: c (error estimate 6.3e-11)",
                "b: Monte Carlo, because reasons",
                "(`--verbose` lists every note)",
            ]
        );
        assert_eq!(note_lines(&notes, true).len(), 4);
        assert_eq!(
            note_lines(&notes[1..2], false),
            ["b: Monte Carlo, because reasons"]
        );
    }
}
