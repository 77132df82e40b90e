//! Snapshot tests of programs, for `tpc test`: a program's derived equations, scaling report,
//! evaluated values and coord-check exponents, recorded in a text file beside it and checked
//! against what tpc computes now.
//!
//! A snapshot is a list of [`Section`]s, each a header line `## KIND [OPTIONS]` and its body.
//! [`record`] computes the sections of a program; [`compare`] checks the current sections
//! against recorded ones (text for equations and reports, numbers within the recorded
//! tolerances for values and exponents) and describes every difference readably.

mod compare;
mod format;
mod record;

pub use compare::{compare, Difference};
pub use format::{parse, Section, Snapshot};
pub use record::{record, CheckKind, RecordOptions};

/// The snapshot file of a program: `NAME.snap` beside `NAME.tp`.
pub fn snapshot_path(program: &std::path::Path) -> std::path::PathBuf {
    program.with_extension("snap")
}
