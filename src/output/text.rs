//! The text table of `tpc eval`: a line per scalar, a compact block per family.

use super::number::{format_error, format_measured, format_number};
use super::{FamilyValue, OutputValue};
use ndarray::Axis;
use std::fmt::Write;

/// Families up to this many rows and columns (and entries in all) print whole.
const WHOLE: usize = 12;
/// The corner of a larger family that is printed: rows, and columns (rank ≥ 2).
const CORNER: usize = 6;

/// The table of `tpc eval`: a header, then per output in order its value, error estimate and
/// method. A family's line shows its shape (`5×5 array`, `array of 5`) and its largest
/// error, followed by the array itself, or for more than 12 rows or columns its range,
/// top-left corner and a pointer to `tpc eval --out`.
pub fn to_text(outputs: &[OutputValue]) -> String {
    let width = outputs
        .iter()
        .map(|o| o.name().chars().count())
        .max()
        .unwrap_or(0)
        .max(6);
    let mut t = format!(
        "{:width$}  {:>20}  {:>9}  method\n",
        "output", "value", "error"
    );
    for output in outputs {
        match output {
            OutputValue::Scalar { name, value } => {
                let _ = writeln!(
                    t,
                    "{name:width$}  {:>20}  {:>9}  {}",
                    format_measured(value.value, value.error),
                    format_error(value.error),
                    value.method.name()
                );
            }
            OutputValue::Family(family) => {
                let shape: Vec<String> =
                    family.values.shape().iter().map(usize::to_string).collect();
                let _ = writeln!(
                    t,
                    "{:width$}  {:>20}  {:>9}  {}",
                    family.name,
                    match shape.len() {
                        1 => format!("array of {}", shape[0]),
                        _ => format!("{} array", shape.join("×")),
                    },
                    format_error(family.max_error()),
                    family.method.name()
                );
                family_block(&mut t, family);
            }
        }
    }
    t
}

/// The array of a family, indented under its line: each 2-dimensional slice (rank ≥ 3: one
/// per leading index, labelled `K[1, :, :]`) with its indices along the top and the side.
fn family_block(t: &mut String, family: &FamilyValue) {
    let shape = family.values.shape();
    let rank = shape.len();
    let (rows, cols) = match rank {
        0 => return,
        1 => (1, shape[0]),
        _ => (shape[rank - 2], shape[rank - 1]),
    };
    let slices = family.values.len() / (rows * cols).max(1);
    let whole = rows <= WHOLE && cols <= WHOLE && family.values.len() <= WHOLE * WHOLE;
    if !whole {
        let range = match family.range() {
            Some((lo, hi)) => format!("min {}, max {}", format_number(lo), format_number(hi)),
            None => "no value".to_string(),
        };
        let part = if rank == 1 {
            "first entries"
        } else {
            "top-left corner"
        };
        let _ = writeln!(
            t,
            "  {range} over {} defined entries; the {part}:",
            family.defined()
        );
    }
    let cube = family
        .values
        .to_shape((slices, rows, cols))
        .expect("the same number of entries");
    let errors: Vec<f64> = family.errors.iter().copied().collect();
    let leading = &shape[..rank.saturating_sub(2)];
    for s in 0..if whole { slices } else { slices.min(1) } {
        if rank > 2 {
            let mut index = vec![String::new(); leading.len()];
            let mut rest = s;
            for d in (0..leading.len()).rev() {
                index[d] = (family.start[d] + (rest % leading[d]) as i64).to_string();
                rest /= leading[d];
            }
            let _ = writeln!(t, "  {}[{}, :, :]", family.name, index.join(", "));
        }
        let shown_rows = if whole { rows } else { rows.min(CORNER) };
        let shown_cols = match (whole, rank) {
            (true, _) => cols,
            (false, 1) => cols.min(WHOLE),
            (false, _) => cols.min(CORNER),
        };
        let slice = cube.index_axis(Axis(0), s);
        let cells: Vec<Vec<String>> = (0..shown_rows)
            .map(|r| {
                (0..shown_cols)
                    .map(|c| {
                        let at = s * rows * cols + r * cols + c;
                        format_measured(slice[[r, c]], errors[at])
                    })
                    .collect()
            })
            .collect();
        let col_start = family.start[rank - 1];
        let row_labels: Vec<String> = (0..shown_rows)
            .map(|r| match rank {
                1 => String::new(),
                _ => (family.start[rank - 2] + r as i64).to_string(),
            })
            .collect();
        let label_width = row_labels.iter().map(|l| l.len()).max().unwrap_or(0);
        let widths: Vec<usize> = (0..shown_cols)
            .map(|c| {
                cells
                    .iter()
                    .map(|row| row[c].chars().count())
                    .chain([(col_start + c as i64).to_string().len()])
                    .max()
                    .unwrap_or(1)
            })
            .collect();
        let more_cols = if shown_cols < cols { "  …" } else { "" };
        let header: Vec<String> = widths
            .iter()
            .enumerate()
            .map(|(c, w)| format!("{:>w$}", col_start + c as i64))
            .collect();
        let _ = writeln!(t, "  {:label_width$}  {}", "", header.join("  "));
        for (label, row) in row_labels.iter().zip(&cells) {
            let row: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:>w$}"))
                .collect();
            let _ = writeln!(t, "  {label:>label_width$}  {}{more_cols}", row.join("  "));
        }
        if shown_rows < rows {
            let _ = writeln!(t, "  {:label_width$}  {:>w$}", "", "⋮", w = widths[0]);
        }
    }
    if !whole {
        let _ = writeln!(
            t,
            "  (the whole array: `tpc eval --out DIR` writes {}.npy, or `--format json`)",
            family.name
        );
    }
}
