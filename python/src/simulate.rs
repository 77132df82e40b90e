//! `simulate`: finite-width runs beside the limit, as `tpc simulate` tabulates them, with
//! the columns as NumPy arrays.

use crate::background;
use crate::program::Source;
use crate::results::{eval_options, notes_to_python};
use numpy::PyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use std::sync::Arc;
use tpc::eval::{EvalOptions, Note, Value};
use tpc::simulate::{simulate_many, simulation_table, OutputTable, MAX_WIDTH};

/// What a simulation returns before it becomes Python objects.
struct Simulated {
    table: Vec<OutputTable>,
    seeds: usize,
    notes: Vec<Note>,
}

/// Runs the program at every width and `seeds` seeds (`seed`, `seed + 1`, …) and evaluates
/// its limit; returns `(outputs, notes)`: per output a dict with `name`, `limit` (`None` or
/// `(value, error, method)`), `widths` (int64), `mean`, `standard_error`, `rms_deviation` (float64
/// arrays, one entry per width, NaN where undefined) and `slope` (float or `None`).
#[pyfunction]
#[pyo3(signature = (source, name, widths, seeds=8, seed=0, base_dir=None, consts=None,
                    method="auto", tol=1e-10, max_dim=4, samples=1_000_000))]
#[allow(clippy::too_many_arguments)]
pub fn simulate<'py>(
    py: Python<'py>,
    source: Vec<u8>,
    name: String,
    widths: Vec<usize>,
    seeds: usize,
    seed: u64,
    base_dir: Option<String>,
    consts: Option<&Bound<'py, PyDict>>,
    method: &str,
    tol: f64,
    max_dim: usize,
    samples: usize,
) -> PyResult<Bound<'py, PyTuple>> {
    if widths.is_empty() {
        return Err(PyValueError::new_err("widths must list at least one width"));
    }
    if let Some(&bad) = widths.iter().find(|&&w| w == 0 || w > MAX_WIDTH) {
        return Err(PyValueError::new_err(format!(
            "width {bad} is outside 1..={MAX_WIDTH} (a run stores every n×n matrix, 8 n² bytes)"
        )));
    }
    if seeds == 0 {
        return Err(PyValueError::new_err("seeds must be at least 1"));
    }
    let options = eval_options(method, tol, max_dim, samples, 0)?;
    let source = Arc::new(Source::new(source, name, base_dir, consts)?);
    let job = Arc::clone(&source);
    let simulated = background::run(py, move |cancel| {
        run(&job, &widths, seeds, seed, &options, &|_, _| cancel.check())
    })?
    .map_err(|d| source.error(py, &d))?;
    let outputs = PyList::empty(py);
    for output in simulated.table {
        let dict = PyDict::new(py);
        dict.set_item("name", &output.name)?;
        match output.limit {
            Some(Value {
                value,
                error,
                method,
            }) => dict.set_item("limit", (value, error, method.name()))?,
            None => dict.set_item("limit", py.None())?,
        }
        let column = |f: &dyn Fn(&tpc::simulate::WidthRow) -> f64| {
            PyArray1::from_vec(py, output.widths.iter().map(f).collect())
        };
        let widths: Vec<i64> = output.widths.iter().map(|w| w.width as i64).collect();
        dict.set_item("widths", PyArray1::from_vec(py, widths))?;
        dict.set_item("mean", column(&|w| w.mean))?;
        dict.set_item(
            "standard_error",
            column(&|w| w.standard_error.unwrap_or(f64::NAN)),
        )?;
        dict.set_item(
            "rms_deviation",
            column(&|w| w.rms_deviation.unwrap_or(f64::NAN)),
        )?;
        dict.set_item("slope", output.slope)?;
        outputs.append(dict)?;
    }
    let notes = notes_to_python(py, &simulated.notes)?;
    PyTuple::new(
        py,
        [
            outputs.into_any(),
            simulated.seeds.into_pyobject(py)?.into_any(),
            notes.into_any(),
        ],
    )
}

/// The runs and the table; the limit is left out (as `tpc simulate` does) for a program that
/// writes powers of the width, which has none.
fn run(
    source: &Source,
    widths: &[usize],
    seeds: usize,
    seed: u64,
    options: &EvalOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Simulated, tpc::Diagnostic> {
    let program = tpc::compile(&source.bytes, &source.options)?;
    let (limits, notes) = match tpc::output_limits(
        &source.bytes,
        &program,
        &source.options,
        options,
        Some(progress),
    )? {
        Some(limits) => (Some(limits.values), limits.notes),
        None => (
            None,
            vec![Note::new(
                "the program",
                "it writes powers of the width explicitly, so it has no limit to compare with",
            )],
        ),
    };
    let runs =
        simulate_many(&program, widths, seeds, seed, progress).map_err(|e| e.to_diagnostic())?;
    Ok(Simulated {
        table: simulation_table(&program, limits.as_deref(), &runs),
        seeds: runs.seeds.len(),
        notes,
    })
}
