//! Curves as a text table (one block per curve) and as CSV (one line per curve and step).

use super::Curve;
use crate::output::{csv_number, format_error, format_measured};
use std::io::{self, Write};

/// The curves as text: a line of seeds, then per curve a title (program, curve, the limit's
/// method) and a row per step: the limit ± error, then per width the mean ± standard error,
/// each to the digits its error bar supports (as `tpc simulate` prints them).
pub fn curves_text(curves: &[Curve], widths: &[usize], seeds: usize) -> String {
    let mut text = format!("{seeds} seed(s) per width\n");
    for curve in curves {
        let method = curve
            .steps
            .iter()
            .filter_map(|s| s.limit.map(|l| l.method))
            .max();
        text.push_str(&format!(
            "\n{}: {}  ({})\n",
            curve.program,
            curve.name,
            method.map_or("no limit".to_string(), |m| format!("limit: {}", m.name()))
        ));
        let mut rows: Vec<Vec<String>> = vec![std::iter::once("step".to_string())
            .chain(std::iter::once("limit".to_string()))
            .chain(widths.iter().map(|n| format!("n = {n}")))
            .collect()];
        for step in &curve.steps {
            let mut row = vec![step.step.to_string()];
            row.push(step.limit.map_or("–".to_string(), |l| {
                format!(
                    "{} ± {}",
                    format_measured(l.value, l.error),
                    format_error(l.error)
                )
            }));
            for &n in widths {
                row.push(match step.widths.iter().find(|w| w.width == n) {
                    Some(w) => match w.standard_error {
                        Some(se) => {
                            format!("{} ± {}", format_measured(w.mean, se), format_error(se))
                        }
                        None => format_measured(w.mean, 0.0),
                    },
                    None => "–".to_string(),
                });
            }
            rows.push(row);
        }
        let columns = rows[0].len();
        let width: Vec<usize> = (0..columns)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        for row in rows {
            let cells: Vec<String> = row
                .iter()
                .zip(&width)
                .map(|(cell, &w)| format!("{}{cell}", " ".repeat(w - cell.chars().count())))
                .collect();
            text.push_str(&format!("  {}\n", cells.join("   ")));
        }
    }
    text
}

/// Writes the curves as CSV with a header: `program,curve,step,limit,limit_error`, then
/// `mean_nW,standard_error_nW` per width W; a line per curve and step. Numbers have the
/// shortest digits that read back to the same float64; a missing number (no limit, one
/// seed) is an empty field; a field with a comma (`f[t, 0]`) is quoted.
pub fn write_csv(out: &mut impl Write, curves: &[Curve], widths: &[usize]) -> io::Result<()> {
    let mut text = String::from("program,curve,step,limit,limit_error");
    for n in widths {
        text.push_str(&format!(",mean_n{n},standard_error_n{n}"));
    }
    text.push('\n');
    let number = |x: Option<f64>| x.map_or(String::new(), csv_number);
    for curve in curves {
        for step in &curve.steps {
            text.push_str(&format!(
                "{},{},{},{},{}",
                field(&curve.program),
                field(&curve.name),
                step.step,
                number(step.limit.map(|l| l.value)),
                number(step.limit.map(|l| l.error)),
            ));
            for &n in widths {
                let point = step.widths.iter().find(|w| w.width == n);
                text.push_str(&format!(
                    ",{},{}",
                    number(point.map(|w| w.mean)),
                    number(point.and_then(|w| w.standard_error))
                ));
            }
            text.push('\n');
        }
    }
    out.write_all(text.as_bytes())
}

/// A CSV field, quoted (with quotes doubled) when it holds a comma, a quote or a line break.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
