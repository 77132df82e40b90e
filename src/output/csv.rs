//! A family's values as CSV.

use super::FamilyValue;
use std::io::{self, Write};

/// Writes a family's values as CSV, each number with the shortest digits that read back to
/// the same float64 (`0.6740293842783713`, `1.5e-9`), an undefined member as an empty field:
///
/// * rank 1: one value per line;
/// * rank 2: one line per row of the matrix, values separated by commas;
/// * rank 3 and more: flattened, with a header `index1,index2,…,value` and one line per
///   defined member giving its indices (as in the program, from `start`) and value.
///
/// No header for ranks 1 and 2, so that `numpy.genfromtxt(f, delimiter=",")` reads the
/// array as it is; the start of the indices is in `outputs.json` (see `tpc eval --out`).
pub fn write_csv(out: &mut impl Write, family: &FamilyValue) -> io::Result<()> {
    let values = &family.values;
    let mut text = String::new();
    match values.ndim() {
        rank @ 0..=2 => {
            let cols = if rank == 2 { values.shape()[1] } else { 1 };
            for (k, &x) in values.iter().enumerate() {
                text.push_str(&csv_number(x));
                text.push(if (k + 1) % cols == 0 { '\n' } else { ',' });
            }
        }
        rank => {
            let header: Vec<String> = (1..=rank).map(|d| format!("index{d}")).collect();
            text.push_str(&header.join(","));
            text.push_str(",value\n");
            for (at, &x) in values.indexed_iter() {
                if x.is_nan() {
                    continue;
                }
                for d in 0..rank {
                    text.push_str(&(family.start[d] + at[d] as i64).to_string());
                    text.push(',');
                }
                text.push_str(&csv_number(x));
                text.push('\n');
            }
        }
    }
    out.write_all(text.as_bytes())
}

/// The shortest round-trip digits; scientific notation outside [1e-5, 1e16); NaN empty.
pub(crate) fn csv_number(x: f64) -> String {
    let x = x + 0.0; // −0 → 0
    if x.is_nan() {
        String::new()
    } else if x == 0.0 || (1e-5..1e16).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}
