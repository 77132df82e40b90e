//! The scaling report as text and JSON.

use super::{Scaling, Size, SizeKind, Verdict};
use crate::ir::Program;
use crate::scaling::expansion::Exponent;
use serde_json::{json, Value};
use std::fmt::Write;

/// At most this many quantities are named in the closing summary.
const LISTED: usize = 8;

/// `n^(e)` as the report writes it: `1`, `n`, `n^(1/2)`, `n^(-3/2)`.
fn power(e: Exponent) -> String {
    if e == Exponent::from_integer(0) {
        "1".into()
    } else if e == Exponent::from_integer(1) {
        "n".into()
    } else {
        format!("n^({e})")
    }
}

impl Size {
    /// `Θ(n^(-3/2))`, `O(1) fluctuation`, `0`, ….
    pub fn describe(&self) -> String {
        let p = power(self.exponent);
        match self.kind {
            _ if self.unbounded() => "faster than any power".into(),
            SizeKind::Theta => format!("Θ({p})"),
            SizeKind::ThetaRandom => format!("Θ({p}), random"),
            SizeKind::Fluctuation => format!("O({p}), fluctuation"),
            SizeKind::AtMost => format!("O({p})"),
            SizeKind::Below => format!("below {p}"),
            SizeKind::Zero => "0".into(),
        }
    }
}

impl Verdict {
    /// `vanishes`, `survives`, `blows up`, `indeterminate`.
    pub fn describe(&self) -> &'static str {
        match self {
            Verdict::Vanishes => "vanishes",
            Verdict::Survives => "survives",
            Verdict::BlowsUp => "blows up",
            Verdict::Indeterminate => "indeterminate",
            Verdict::MayBlowUp => "may blow up",
        }
    }
}

/// One line of the text report.
struct Row {
    name: String,
    size: String,
    terms: String,
    verdict: &'static str,
    note: Option<String>,
}

/// The named quantities in program order, with their display names.
fn named<'a>(
    program: &'a Program,
    scaling: &'a Scaling,
) -> impl Iterator<Item = (usize, String, &'a super::Quantity)> + 'a {
    scaling
        .quantities
        .iter()
        .enumerate()
        .filter_map(move |(i, q)| {
            let q = q.as_ref()?;
            program.instructions[i].name.as_ref()?;
            Some((i, program.display_name(i), q))
        })
}

/// The report: one line per named vector and scalar, then the quantities that blow up and
/// those that are indeterminate.
pub fn to_text(program: &Program, scaling: &Scaling) -> String {
    let rows: Vec<Row> = named(program, scaling)
        .map(|(_, name, q)| {
            let terms: Vec<String> = q.terms.iter().map(|e| power(*e)).collect();
            Row {
                name,
                size: q.size.describe(),
                terms: if terms.is_empty() {
                    "–".into()
                } else {
                    terms.join(" + ")
                },
                verdict: q.size.verdict().describe(),
                note: q.note.clone(),
            }
        })
        .collect();
    let width = |column: fn(&Row) -> &str, title: &str| {
        rows.iter()
            .map(|r| column(r).chars().count())
            .max()
            .unwrap_or(0)
            .max(title.chars().count())
    };
    let w0 = width(|r| &r.name, "quantity");
    let w1 = width(|r| &r.size, "size");
    let w2 = width(|r| &r.terms, "terms");
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w - s.chars().count()));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  {}  {}  n → ∞",
        pad("quantity", w0),
        pad("size", w1),
        pad("terms", w2)
    );
    for row in &rows {
        let note = row
            .note
            .as_ref()
            .map(|n| format!("  ({n})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}  {}  {}  {}{note}",
            pad(&row.name, w0),
            pad(&row.size, w1),
            pad(&row.terms, w2),
            row.verdict
        );
    }
    let list = |verdict: Verdict| -> Vec<String> {
        named(program, scaling)
            .filter(|(_, _, q)| q.size.verdict() == verdict)
            .map(|(_, name, q)| format!("{name} ({})", q.size.describe()))
            .collect()
    };
    let blows_up = list(Verdict::BlowsUp);
    let mut indeterminate = list(Verdict::MayBlowUp);
    indeterminate.extend(list(Verdict::Indeterminate));
    out.push('\n');
    if blows_up.is_empty() {
        out.push_str("Nothing blows up.\n");
    } else {
        let _ = writeln!(
            out,
            "Unstable: {} quantit{} blow{} up: {}.",
            blows_up.len(),
            if blows_up.len() == 1 { "y" } else { "ies" },
            if blows_up.len() == 1 { "s" } else { "" },
            blows_up.join(", ")
        );
    }
    if !indeterminate.is_empty() {
        let shown = indeterminate.len().min(LISTED);
        let more = match indeterminate.len() - shown {
            0 => String::new(),
            k => format!(" and {k} more"),
        };
        let _ = writeln!(
            out,
            "Not decided by powers alone: {}{more}.",
            indeterminate[..shown].join(", ")
        );
    }
    out
}

/// The report as JSON: one object per named quantity, keyed by name.
pub fn to_json(program: &Program, scaling: &Scaling) -> Value {
    let mut quantities = serde_json::Map::new();
    for (_, name, q) in named(program, scaling) {
        let kind = match q.size.kind {
            SizeKind::Theta => "theta",
            SizeKind::ThetaRandom => "theta-random",
            SizeKind::Fluctuation => "fluctuation",
            SizeKind::AtMost => "at-most",
            SizeKind::Below => "below",
            SizeKind::Zero => "zero",
        };
        let exponent = (!q.size.unbounded()).then(|| q.size.exponent.to_string());
        quantities.insert(
            name,
            json!({
                "exponent": exponent,
                "size": kind,
                "verdict": q.size.verdict().describe(),
                "terms": q.terms.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
                "note": q.note,
            }),
        );
    }
    json!({ "quantities": quantities })
}
