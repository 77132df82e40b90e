//! The exceptions: a diagnostic becomes `ProgramError` (the program is wrong) or
//! `EvaluationError` (the numbers failed), with the CLI's rendering as the message.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(tpc, Error, PyException, "Base class of tpc's exceptions.");
create_exception!(
    tpc,
    ProgramError,
    Error,
    "The program is wrong: the message is the diagnostic `tpc check` prints (file, line, caret, help)."
);
create_exception!(
    tpc,
    EvaluationError,
    Error,
    "Evaluation or simulation failed numerically (a NaN, an indefinite covariance, …)."
);

/// A diagnostic as the exception the CLI's exit code corresponds to: codes E03xx (simulation)
/// and E04xx (evaluation) are numerical failures, except E0407 (a family too large, a
/// property of the program); every other code is the program's. The message is the rendered
/// diagnostic, without colours; the exception carries `code` too.
pub fn diagnostic_error(
    py: Python<'_>,
    diagnostic: &tpc::Diagnostic,
    file_name: &str,
    source: &[u8],
) -> PyErr {
    let text = diagnostic.render(file_name, &String::from_utf8_lossy(source));
    let text = text.trim_end().to_string();
    let numerical = diagnostic.code != "E0407"
        && (diagnostic.code.starts_with("E03") || diagnostic.code.starts_with("E04"));
    let error = if numerical {
        EvaluationError::new_err(text)
    } else {
        ProgramError::new_err(text)
    };
    let value = error.value(py);
    // Attributes for programs that branch on the kind of failure.
    let _ = value.setattr("code", diagnostic.code);
    let _ = value.setattr("diagnostic_message", diagnostic.message.clone());
    error
}
