//! `load("file")`: a data file read into a constant list or matrix.
//!
//! The format follows the extension: `.npy` (NumPy, float64 little-endian, 1-D or 2-D, C or
//! Fortran order), `.csv` (comma-separated numbers, one row per line, an optional header line
//! of names), anything else whitespace-separated numbers, one row per line, with `#` comments
//! and blank lines skipped. Text and CSV files always give a matrix (rows × columns); an
//! `.npy` file gives its own shape. No more than [`MAX_CONSTANT_ELEMENTS`] numbers are ever
//! read: an `.npy` file is refused from its header, a text file as soon as it goes over.

use super::constant::{Tensor, MAX_CONSTANT_ELEMENTS};
use ndarray::{Array2, ArrayD, Dimension, IxDyn, ShapeBuilder};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// A line of a text or CSV file may be at most this long (64 MiB).
pub const MAX_LINE_BYTES: usize = 1 << 26;

/// Why a data file could not be loaded. The caller adds the file's path and the span of the
/// `load(…)` call.
#[derive(Clone, Debug, PartialEq)]
pub enum LoadError {
    /// The file cannot be opened or read.
    Unreadable {
        /// The operating system's reason.
        reason: String,
    },
    /// A row with another number of values than the first row.
    Ragged {
        /// The row's line (1-based).
        line: usize,
        /// Its number of values.
        found: usize,
        /// The line of the first row.
        first_line: usize,
        /// The first row's number of values.
        expected: usize,
    },
    /// A token that is not a number.
    NotANumber {
        /// Its line (1-based).
        line: usize,
        /// The token (shortened if long).
        token: String,
    },
    /// A NaN or infinite value.
    NotFinite {
        /// Where: "line 3, column 2" or "entry [2, 1]".
        location: String,
        /// The value.
        value: f64,
        /// The value as written, in a text file.
        token: Option<String>,
    },
    /// No numbers at all.
    Empty,
    /// An `.npy` file this reader does not take: another dtype, a rank other than 1 or 2, a
    /// malformed header or truncated data.
    BadNpy {
        /// What is wrong.
        reason: String,
    },
    /// More numbers than a constant may hold, or a line longer than [`MAX_LINE_BYTES`].
    TooLarge {
        /// What is too large.
        reason: String,
    },
    /// A caller-supplied array ([`LowerOptions::data`](super::LowerOptions::data)) that is
    /// not a non-empty list or matrix a constant may hold.
    BadArray {
        /// What is wrong.
        reason: String,
    },
}

/// Reads a data file; the format follows the extension (see the module documentation).
pub fn load(path: &Path) -> Result<Tensor, LoadError> {
    let file = File::open(path).map_err(unreadable)?;
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match extension.as_deref() {
        Some("npy") => read_npy(file),
        Some("csv") => read_text(BufReader::new(file), Separator::Comma),
        _ => read_text(BufReader::new(file), Separator::Whitespace),
    }
}

/// Checks a caller-supplied array as [`load`] checks a file: a non-empty list (1-D) or
/// matrix (2-D) of at most [`MAX_CONSTANT_ELEMENTS`] finite numbers; returns it in standard
/// (row-major) layout.
pub fn check_array(array: &ArrayD<f64>) -> Result<Tensor, LoadError> {
    let bad = |reason: String| LoadError::BadArray { reason };
    if array.ndim() == 0 || array.ndim() > 2 {
        return Err(bad(format!(
            "its shape {} has {} dimensions, but `load` reads lists (1-D) and matrices (2-D) only",
            shape_text(array.shape()),
            array.ndim()
        )));
    }
    if array.is_empty() {
        return Err(bad(format!(
            "its shape {} holds no numbers",
            shape_text(array.shape())
        )));
    }
    if array.len() > MAX_CONSTANT_ELEMENTS {
        return Err(bad(format!(
            "its shape {} holds more than the {MAX_CONSTANT_ELEMENTS} numbers a constant may hold",
            shape_text(array.shape())
        )));
    }
    if let Some((index, value)) = array.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(LoadError::NotFinite {
            location: format!("entry {:?}", index.slice()),
            value: *value,
            token: None,
        });
    }
    Ok(array.as_standard_layout().into_owned())
}

fn unreadable(e: std::io::Error) -> LoadError {
    LoadError::Unreadable {
        reason: e.to_string(),
    }
}

fn too_many(what: &str) -> LoadError {
    LoadError::TooLarge {
        reason: format!("{what} more than the {MAX_CONSTANT_ELEMENTS} numbers a constant may hold"),
    }
}

/// How the values of a line are separated.
#[derive(Clone, Copy, PartialEq)]
enum Separator {
    /// `.csv`: commas; a first line of names is a header.
    Comma,
    /// Spaces and tabs; `#` starts a comment.
    Whitespace,
}

/// Reads rows of numbers, one per line, into a matrix.
fn read_text(mut reader: impl BufRead, separator: Separator) -> Result<Tensor, LoadError> {
    let mut values: Vec<f64> = Vec::new();
    // The first row's width and line.
    let mut first: Option<(usize, usize)> = None;
    let mut rows = 0;
    let mut bytes = Vec::new();
    let mut line = 0;
    loop {
        bytes.clear();
        let read = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut bytes)
            .map_err(unreadable)?;
        if read == 0 {
            break;
        }
        line += 1;
        if bytes.len() > MAX_LINE_BYTES {
            return Err(LoadError::TooLarge {
                reason: format!("line {line} is longer than {} MiB", MAX_LINE_BYTES >> 20),
            });
        }
        let text = String::from_utf8_lossy(&bytes);
        let content = match separator {
            Separator::Whitespace => text.split('#').next().unwrap_or_default(),
            Separator::Comma => &text,
        }
        .trim();
        if content.is_empty() {
            continue;
        }
        let fields: Vec<&str> = match separator {
            Separator::Whitespace => content.split_whitespace().collect(),
            Separator::Comma => content.split(',').map(str::trim).collect(),
        };
        let is_header = separator == Separator::Comma
            && line == 1
            && fields.iter().all(|f| f.parse::<f64>().is_err());
        if is_header {
            continue;
        }
        for (column, field) in fields.iter().enumerate() {
            let value: f64 = field.parse().map_err(|_| LoadError::NotANumber {
                line,
                token: shorten(field),
            })?;
            if !value.is_finite() {
                return Err(LoadError::NotFinite {
                    location: format!("line {line}, column {}", column + 1),
                    value,
                    token: Some(shorten(field)),
                });
            }
            if values.len() == MAX_CONSTANT_ELEMENTS {
                return Err(too_many(&format!("it has, by line {line},")));
            }
            values.push(value);
        }
        match first {
            None => first = Some((fields.len(), line)),
            Some((expected, first_line)) if expected != fields.len() => {
                return Err(LoadError::Ragged {
                    line,
                    found: fields.len(),
                    first_line,
                    expected,
                })
            }
            Some(_) => {}
        }
        rows += 1;
    }
    let Some((columns, _)) = first else {
        return Err(LoadError::Empty);
    };
    Ok(Array2::from_shape_vec((rows, columns), values)
        .expect("every row has `columns` values")
        .into_dyn())
}

/// A token for a message: at most 40 characters.
fn shorten(token: &str) -> String {
    match token.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &token[..at]),
        None => token.to_string(),
    }
}

/// Reads a NumPy `.npy` file of float64 (`<f8`) values, 1-D or 2-D, C or Fortran order.
/// The format: the magic `\x93NUMPY`, a version, the header's length, then the header, a
/// Python dict literal such as `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`,
/// then the raw values.
fn read_npy(file: File) -> Result<Tensor, LoadError> {
    let size = file.metadata().map_err(unreadable)?.len();
    let mut reader = BufReader::new(file);
    let bad = |reason: String| LoadError::BadNpy { reason };
    let mut magic = [0u8; 8];
    reader
        .read_exact(&mut magic)
        .map_err(|_| bad("the file is too short to be an .npy file".into()))?;
    if &magic[..6] != b"\x93NUMPY" {
        return Err(bad(
            "not an .npy file (it does not start with `\\x93NUMPY`)".into(),
        ));
    }
    let header_length = match magic[6] {
        1 => {
            let mut b = [0u8; 2];
            reader.read_exact(&mut b).map_err(|_| truncated_header())?;
            u16::from_le_bytes(b) as u64
        }
        2 | 3 => {
            let mut b = [0u8; 4];
            reader.read_exact(&mut b).map_err(|_| truncated_header())?;
            u32::from_le_bytes(b) as u64
        }
        major => {
            return Err(bad(format!(
                "unknown .npy format version {major}.{}",
                magic[7]
            )))
        }
    };
    let data_offset = 8 + if magic[6] == 1 { 2 } else { 4 } + header_length;
    if data_offset > size {
        return Err(truncated_header());
    }
    let mut header = vec![0u8; header_length as usize];
    reader.read_exact(&mut header).map_err(unreadable)?;
    let header = String::from_utf8_lossy(&header);
    let (descr, fortran_order, shape) = parse_npy_header(&header).map_err(bad)?;
    if descr != "<f8" {
        return Err(bad(format!(
            "its dtype is `{descr}`, but `load` reads float64 (`<f8`) only: save the array \
             with `np.save(path, x.astype('<f8'))`"
        )));
    }
    if shape.is_empty() || shape.len() > 2 {
        return Err(bad(format!(
            "its shape {} has {} dimensions, but `load` reads lists (1-D) and matrices (2-D) only",
            shape_text(&shape),
            shape.len()
        )));
    }
    let elements = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= MAX_CONSTANT_ELEMENTS)
        .ok_or_else(|| too_many(&format!("its shape {} holds", shape_text(&shape))))?;
    let expected = data_offset + 8 * elements as u64;
    if size != expected {
        return Err(bad(format!(
            "shape {} needs {} bytes of data, but the file has {}",
            shape_text(&shape),
            8 * elements,
            size.saturating_sub(data_offset)
        )));
    }
    if elements == 0 {
        return Err(LoadError::Empty);
    }
    let mut data = vec![0u8; 8 * elements];
    reader.read_exact(&mut data).map_err(unreadable)?;
    let values: Vec<f64> = data
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().expect("chunks of 8 bytes")))
        .collect();
    let array = if fortran_order {
        ArrayD::from_shape_vec(IxDyn(&shape).f(), values)
    } else {
        ArrayD::from_shape_vec(IxDyn(&shape), values)
    }
    .expect("the shape's product is the number of values");
    if let Some((index, value)) = array.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(LoadError::NotFinite {
            location: format!("entry {:?}", index.slice()),
            value: *value,
            token: None,
        });
    }
    Ok(array.as_standard_layout().into_owned())
}

fn truncated_header() -> LoadError {
    LoadError::BadNpy {
        reason: "the file ends inside its header".into(),
    }
}

/// `(3, 4)` for messages.
fn shape_text(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The dtype, order and shape of an `.npy` header.
fn parse_npy_header(header: &str) -> Result<(String, bool, Vec<usize>), String> {
    let malformed = || format!("its header is malformed: `{}`", shorten(header.trim()));
    let value = |key: &str| -> Result<&str, String> {
        let at = header
            .find(&format!("'{key}'"))
            .or_else(|| header.find(&format!("\"{key}\"")))
            .ok_or_else(malformed)?;
        header[at + key.len() + 2..]
            .trim_start()
            .strip_prefix(':')
            .map(str::trim_start)
            .ok_or_else(malformed)
    };
    let descr = value("descr")?;
    let quote = descr
        .chars()
        .next()
        .filter(|c| *c == '\'' || *c == '"')
        .ok_or_else(|| {
            "its dtype is a structured dtype; `load` reads float64 (`<f8`) only".to_string()
        })?;
    let descr = descr[1..]
        .split(quote)
        .next()
        .ok_or_else(malformed)?
        .to_string();
    let fortran_order = match value("fortran_order")? {
        v if v.starts_with("True") => true,
        v if v.starts_with("False") => false,
        _ => return Err(malformed()),
    };
    let shape = value("shape")?
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(malformed)?
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.trim_end_matches('L')
                .parse::<usize>()
                .map_err(|_| malformed())
        })
        .collect::<Result<Vec<usize>, String>>()?;
    Ok((descr, fortran_order, shape))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_headers_of_numpy_are_parsed() {
        let h = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }          \n";
        assert_eq!(
            parse_npy_header(h),
            Ok(("<f8".to_string(), false, vec![3, 4]))
        );
        let h = "{'descr': '<i8', 'fortran_order': True, 'shape': (5,), }";
        assert_eq!(parse_npy_header(h), Ok(("<i8".to_string(), true, vec![5])));
        let h = "{'descr': '<f8', 'fortran_order': False, 'shape': (), }";
        assert_eq!(parse_npy_header(h), Ok(("<f8".to_string(), false, vec![])));
        assert!(parse_npy_header("{'descr': '<f8'}").is_err());
    }

    #[test]
    fn caller_arrays_are_checked_as_files_are() {
        let fortran = Array2::from_shape_vec((2, 3).f(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
            .unwrap()
            .into_dyn();
        let checked = check_array(&fortran).unwrap();
        assert!(checked.is_standard_layout());
        assert_eq!(checked, fortran);
        let bad = |a: ArrayD<f64>| check_array(&a).unwrap_err();
        assert!(matches!(
            bad(ArrayD::zeros(IxDyn(&[0, 2]))),
            LoadError::BadArray { .. }
        ));
        assert!(matches!(
            bad(ArrayD::zeros(IxDyn(&[1, 1, 1]))),
            LoadError::BadArray { .. }
        ));
        assert!(matches!(
            bad(ArrayD::zeros(IxDyn(&[]))),
            LoadError::BadArray { .. }
        ));
        let mut nan = ArrayD::zeros(IxDyn(&[2, 2]));
        nan[[1, 0]] = f64::NAN;
        assert!(matches!(
            bad(nan),
            LoadError::NotFinite { location, value, token: None }
                if location == "entry [1, 0]" && value.is_nan()
        ));
    }

    #[test]
    fn text_rows_become_a_matrix() {
        let t = read_text(
            &b"# x y\n1 2\n\n3 4 # trailing\n"[..],
            Separator::Whitespace,
        );
        assert_eq!(t.unwrap().shape(), &[2, 2]);
        let t = read_text(&b"a,b\n1,2\r\n3, 4\n"[..], Separator::Comma).unwrap();
        assert_eq!(
            t.iter().copied().collect::<Vec<_>>(),
            vec![1.0, 2.0, 3.0, 4.0]
        );
    }
}
