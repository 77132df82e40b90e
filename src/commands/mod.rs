//! Subcommands too large for a dispatch arm in `main.rs`, one file each.
//!
//! Each file takes its parsed clap arguments and uses `crate::{read_input, report, print}`
//! for input, diagnostics and output, like the arms in `main.rs`.

pub mod classify;
pub mod coordcheck;
pub mod curves;
pub mod eval;
pub mod gen;
pub mod param_args;
pub mod scaling;
pub mod simulate;
pub mod test;
pub mod values;
