//! `tpc derive --scaling`: the width-power report of a program.

use crate::DeriveFormat;
use tpc::ir::Program;
use tpc::scaling::{analyze, to_json, to_text, ScalingOptions};

/// Runs the analysis and prints it as text or JSON (LaTeX has no scaling form).
pub fn run(
    program: &Program,
    format: DeriveFormat,
    name: &str,
    bytes: &[u8],
) -> Result<(), crate::Reported> {
    let scaling = analyze(program, &ScalingOptions::default())
        .map_err(|e| crate::report(&e.to_diagnostic(), name, bytes))?;
    let text = match format {
        DeriveFormat::Text => format!(
            "Width powers of {name} (sizes of vector coordinates and scalars as n → ∞):\n\n{}",
            to_text(program, &scaling)
        ),
        DeriveFormat::Json => {
            serde_json::to_string_pretty(&to_json(program, &scaling)).expect("JSON serializes")
                + "\n"
        }
        DeriveFormat::Latex => {
            crate::usage_error("--scaling prints text or JSON; --format latex has no scaling form")
        }
    };
    crate::print(&text)
}
