//! The Python extension module `tpc._tpc`: the compiler's front end, derivation, evaluation,
//! simulation and kernel generation, with NumPy arrays in and out. The Python package `tpc`
//! (python/tpc/__init__.py) wraps these functions in typed classes.

mod background;
mod errors;
mod kernel;
mod program;
mod results;
mod simulate;

use pyo3::prelude::*;

/// The module: functions and exception classes.
#[pymodule]
fn _tpc(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<errors::Error>())?;
    m.add("ProgramError", py.get_type::<errors::ProgramError>())?;
    m.add("EvaluationError", py.get_type::<errors::EvaluationError>())?;
    m.add_function(wrap_pyfunction!(program::check, m)?)?;
    m.add_function(wrap_pyfunction!(program::derive, m)?)?;
    m.add_function(wrap_pyfunction!(results::evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(simulate::simulate, m)?)?;
    m.add_function(wrap_pyfunction!(kernel::kernel, m)?)?;
    m.add_function(wrap_pyfunction!(kernel::gen_mlp, m)?)?;
    m.add_function(wrap_pyfunction!(kernel::gen_kernel, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
