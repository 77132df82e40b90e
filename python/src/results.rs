//! `evaluate`: every output's limit, scalars as floats and families as NumPy arrays handed
//! over without copying, with the evaluation's notes as dicts.

use crate::background;
use crate::program::Source;
use numpy::PyArray;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use std::sync::Arc;
use tpc::eval::{EvalOptions, Method, Note};
use tpc::output::OutputValue;

/// Evaluation settings from Python's keyword arguments, checked as the CLI checks its flags.
pub fn eval_options(
    method: &str,
    tol: f64,
    max_dim: usize,
    samples: usize,
    seed: u64,
) -> PyResult<EvalOptions> {
    let method = match method {
        "auto" => Method::Auto,
        "exact" => Method::Exact,
        "quad" => Method::Quad,
        "mc" => Method::Mc,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown method {other:?}: use \"auto\", \"exact\", \"quad\" or \"mc\""
            )))
        }
    };
    if !(tol > 0.0 && tol.is_finite()) {
        return Err(PyValueError::new_err(format!(
            "tol must be a positive finite number, not {tol}"
        )));
    }
    if samples == 0 {
        return Err(PyValueError::new_err("samples must be at least 1"));
    }
    Ok(EvalOptions {
        method,
        tolerance: tol,
        max_dim,
        samples,
        seed,
        ..EvalOptions::default()
    })
}

/// Evaluates every output; returns `(outputs, notes)`: per output, in the program's order, a
/// tuple `(name, value, error, method, start)` where value and error are floats for a
/// scalar, float64 arrays of the family's shape for a family (`start`: the family's smallest
/// index per dimension, `None` for a scalar); notes are dicts `{kind, entry, measure}`.
#[pyfunction]
#[pyo3(signature = (source, name, base_dir=None, consts=None, method="auto", tol=1e-10,
                    max_dim=4, samples=1_000_000, seed=0))]
#[allow(clippy::too_many_arguments)]
pub fn evaluate<'py>(
    py: Python<'py>,
    source: Vec<u8>,
    name: String,
    base_dir: Option<String>,
    consts: Option<&Bound<'py, PyDict>>,
    method: &str,
    tol: f64,
    max_dim: usize,
    samples: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyTuple>> {
    let options = eval_options(method, tol, max_dim, samples, seed)?;
    let source = Arc::new(Source::new(source, name, base_dir, consts)?);
    let job = Arc::clone(&source);
    let evaluated = background::run(py, move |cancel| {
        let progress = move |_: usize, _: usize| cancel.check();
        tpc::evaluate_outputs(&job.bytes, &job.options, &options, None, Some(&progress))
    })?
    .map_err(|d| source.error(py, &d))?;
    evaluated_to_python(py, evaluated)
}

/// `(outputs, notes)` as [`evaluate`] returns them; arrays move into NumPy without a copy.
pub fn evaluated_to_python(
    py: Python<'_>,
    evaluated: tpc::Evaluated,
) -> PyResult<Bound<'_, PyTuple>> {
    let outputs = PyList::empty(py);
    for output in evaluated.outputs {
        let item = match output {
            OutputValue::Scalar { name, value } => (
                name,
                value.value.into_pyobject(py)?.into_any(),
                value.error.into_pyobject(py)?.into_any(),
                value.method.name(),
                py.None().into_bound(py),
            )
                .into_pyobject(py)?,
            OutputValue::Family(family) => (
                family.name,
                PyArray::from_owned_array(py, family.values).into_any(),
                PyArray::from_owned_array(py, family.errors).into_any(),
                family.method.name(),
                PyTuple::new(py, family.start)?.into_any(),
            )
                .into_pyobject(py)?,
        };
        outputs.append(item)?;
    }
    let notes = notes_to_python(py, &evaluated.notes)?;
    PyTuple::new(py, [outputs.into_any(), notes.into_any()])
}

/// Notes as a list of dicts: `kind` (what happened), `entry` (to what), `measure` (`None` or
/// `(name, value)`: how bad).
pub fn notes_to_python<'py>(py: Python<'py>, notes: &[Note]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for note in notes {
        let dict = PyDict::new(py);
        dict.set_item("kind", &note.kind)?;
        dict.set_item("entry", &note.entry)?;
        match &note.measure {
            Some(m) => dict.set_item("measure", (m.name.as_str(), m.value))?,
            None => dict.set_item("measure", py.None())?,
        }
        list.append(dict)?;
    }
    Ok(list)
}
