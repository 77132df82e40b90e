//! The outputs as JSON, keys in program order.
//!
//! The maps are written by `Serialize` implementations that emit their keys in order (a
//! `serde_json::Map` would sort them), so no `preserve_order` feature is needed.

use super::{FamilyValue, OutputValue};
use ndarray::{ArrayViewD, Axis};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use std::io::{self, Write};

/// How families appear in the JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonOutputs {
    /// Inline, as nested arrays (`tpc eval --format json`):
    /// `{"value": [[…]], "error": [[…]], "method", "start"}`.
    Nested,
    /// As the names of the files written beside the JSON (`tpc eval --out DIR`):
    /// `{"file": "K.npy", "errors_file": "K.errors.npy", ["csv_file": "K.csv",] "shape",
    /// "start", "method"}`.
    Files {
        /// Whether `NAME.csv` was written too.
        csv: bool,
    },
}

/// Writes `{"outputs": {name: entry, …}, "notes": […]}`, pretty-printed with a final newline,
/// the outputs in program order, every note as `{"kind", "entry"[, "measure": {"name",
/// "value"}]}`.
///
/// A scalar's entry is `{"value", "error", "method"}`; a family's is given by `families`.
/// Methods are kebab-case (`closed-form`, `monte-carlo`); NaN (a family entry that the
/// program does not define) is `null`; `-0` is written as `0.0`.
pub fn write_json(
    out: &mut impl Write,
    outputs: &[OutputValue],
    notes: &[crate::eval::Note],
    families: JsonOutputs,
) -> io::Result<()> {
    let document = Document {
        outputs: Outputs { outputs, families },
        notes,
    };
    serde_json::to_writer_pretty(&mut *out, &document).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

#[derive(Serialize)]
struct Document<'a> {
    outputs: Outputs<'a>,
    notes: &'a [crate::eval::Note],
}

/// The outputs as one map, in order.
struct Outputs<'a> {
    outputs: &'a [OutputValue],
    families: JsonOutputs,
}

impl Serialize for Outputs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.outputs.len()))?;
        for output in self.outputs {
            match output {
                OutputValue::Scalar { name, value } => map.serialize_entry(
                    name,
                    &ScalarEntry {
                        value: value.value + 0.0,
                        error: value.error,
                        method: value.method,
                    },
                )?,
                OutputValue::Family(family) => match self.families {
                    JsonOutputs::Nested => map.serialize_entry(
                        &family.name,
                        &NestedEntry {
                            value: Nested(family.values.view()),
                            error: Nested(family.errors.view()),
                            method: family.method,
                            start: &family.start,
                        },
                    )?,
                    JsonOutputs::Files { csv } => {
                        map.serialize_entry(&family.name, &FilesEntry::new(family, csv))?
                    }
                },
            }
        }
        map.end()
    }
}

#[derive(Serialize)]
struct ScalarEntry {
    value: f64,
    error: f64,
    method: crate::eval::Used,
}

#[derive(Serialize)]
struct NestedEntry<'a> {
    value: Nested<'a>,
    error: Nested<'a>,
    method: crate::eval::Used,
    start: &'a [i64],
}

#[derive(Serialize)]
struct FilesEntry<'a> {
    file: String,
    errors_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    csv_file: Option<String>,
    shape: &'a [usize],
    start: &'a [i64],
    method: crate::eval::Used,
}

impl<'a> FilesEntry<'a> {
    fn new(family: &'a FamilyValue, csv: bool) -> FilesEntry<'a> {
        FilesEntry {
            file: format!("{}.npy", family.name),
            errors_file: format!("{}.errors.npy", family.name),
            csv_file: csv.then(|| format!("{}.csv", family.name)),
            shape: family.values.shape(),
            start: &family.start,
            method: family.method,
        }
    }
}

/// An array as nested JSON arrays, the first index outermost; NaN as `null`.
struct Nested<'a>(ArrayViewD<'a, f64>);

impl Serialize for Nested<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.ndim() == 0 {
            let x = *self.0.first().expect("a 0-dimensional array has one entry");
            // serde_json writes NaN as null.
            return serializer.serialize_f64(x + 0.0);
        }
        let outer = self.0.len_of(Axis(0));
        let mut seq = serializer.serialize_seq(Some(outer))?;
        for i in 0..outer {
            seq.serialize_element(&Nested(self.0.index_axis(Axis(0), i)))?;
        }
        seq.end()
    }
}
