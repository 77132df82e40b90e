//! A program as Python hands it over (source bytes, a name for messages, the directory of
//! `load` paths, caller arrays), checking it and deriving its limit.

use crate::background;
use crate::errors::diagnostic_error;
use numpy::PyReadonlyArrayDyn;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::collections::BTreeMap;
use std::sync::Arc;
use tpc::ir::LowerOptions;
use tpc::limit::{LimitDisplay, LimitFormat};

/// A program and everything lowering it needs, owned, so that it can move to a work thread.
pub struct Source {
    /// The program's bytes.
    pub bytes: Vec<u8>,
    /// The name diagnostics show (a file's path, or `<string>`).
    pub name: String,
    /// How to lower it: `load` paths and caller arrays.
    pub options: LowerOptions,
}

impl Source {
    /// Takes the arguments every entry point shares: `consts` maps names to float64 arrays.
    pub fn new(
        bytes: Vec<u8>,
        name: String,
        base_dir: Option<String>,
        consts: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Source> {
        let mut data = BTreeMap::new();
        if let Some(consts) = consts {
            for (key, value) in consts.iter() {
                let key: String = key.extract()?;
                let array: PyReadonlyArrayDyn<'_, f64> = value.extract().map_err(|_| {
                    PyValueError::new_err(format!(
                        "consts[{key:?}] must be a float64 NumPy array (numpy.asarray(x, dtype=float))"
                    ))
                })?;
                data.insert(key, Arc::new(array.as_array().to_owned()));
            }
        }
        Ok(Source {
            bytes,
            name,
            options: LowerOptions {
                base_dir: base_dir.map(Into::into),
                data,
                ..LowerOptions::default()
            },
        })
    }

    /// The options with families over parallel index spaces lowered by representatives.
    pub fn parallel(&self) -> LowerOptions {
        LowerOptions {
            parallel: true,
            ..self.options.clone()
        }
    }

    /// A diagnostic of this program as a Python exception.
    pub fn error(&self, py: Python<'_>, diagnostic: &tpc::Diagnostic) -> PyErr {
        diagnostic_error(py, diagnostic, &self.name, &self.bytes)
    }
}

/// Compiles the program; raises `ProgramError` with the diagnostic if it is wrong.
#[pyfunction]
#[pyo3(signature = (source, name, base_dir=None, consts=None))]
pub fn check(
    py: Python<'_>,
    source: Vec<u8>,
    name: String,
    base_dir: Option<String>,
    consts: Option<&Bound<'_, PyDict>>,
) -> PyResult<()> {
    let source = Arc::new(Source::new(source, name, base_dir, consts)?);
    let job = Arc::clone(&source);
    background::run(py, move |_| {
        tpc::compile(&job.bytes, &job.parallel()).map(drop)
    })?
    .map_err(|d| source.error(py, &d))
}

/// The limit as `tpc derive --format FORMAT` prints it: `text` or `latex` (families over
/// parallel index spaces by representative members), or `json` (every instruction); with
/// `derivatives`, every Ż coefficient's derivative expanded (`--derivatives`).
#[pyfunction]
#[pyo3(signature = (source, name, format, base_dir=None, consts=None, derivatives=false))]
pub fn derive(
    py: Python<'_>,
    source: Vec<u8>,
    name: String,
    format: &str,
    base_dir: Option<String>,
    consts: Option<&Bound<'_, PyDict>>,
    derivatives: bool,
) -> PyResult<String> {
    let format = match format {
        "text" => Some(LimitFormat::Text),
        "latex" => Some(LimitFormat::Latex),
        "json" => None,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown format {other:?}: use \"text\", \"latex\" or \"json\""
            )))
        }
    };
    let source = Arc::new(Source::new(source, name, base_dir, consts)?);
    let job = Arc::clone(&source);
    background::run(py, move |_| derive_text(&job, format, derivatives))?
        .map_err(|d| source.error(py, &d))
}

fn derive_text(
    source: &Source,
    format: Option<LimitFormat>,
    derivatives: bool,
) -> Result<String, tpc::Diagnostic> {
    let options = match format {
        Some(_) => source.parallel(),
        None => source.options.clone(),
    };
    let program = tpc::compile(&source.bytes, &options)?;
    let limit = if derivatives {
        tpc::limit::derive(&program)
    } else {
        tpc::limit::derive_deferred(&program)
    }
    .map_err(|e| e.to_diagnostic())?;
    let text = String::from_utf8_lossy(&source.bytes);
    Ok(match format {
        Some(format) => LimitDisplay::new(&limit, &text, &source.name, format).to_string(),
        None => {
            let mut json = Vec::new();
            tpc::limit::write_json(&limit, &text, &mut json).expect("writing to memory succeeds");
            String::from_utf8(json).expect("JSON is UTF-8")
        }
    })
}
