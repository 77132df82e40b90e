//! `kernel`: the NNGP and NTK matrices of a fully connected network over a data set, and the
//! program generators of `tpc gen`.

use crate::background;
use crate::errors::EvaluationError;
use crate::program::Source;
use numpy::{PyArray, PyArrayDyn, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use tpc::builtins::Builtin;
use tpc::eval::EvalOptions;
use tpc::ir::LowerOptions;
use tpc::output::OutputValue;
use tpc::param::{generate_kernel, generate_mlp, Abc, KernelSpec, Loss, MlpSpec, Preset};

/// The name under which the inputs reach the generated kernel program's `load`.
const INPUTS: &str = "inputs";

/// A built-in nonlinearity by name.
fn nonlinearity(name: &str) -> PyResult<Builtin> {
    Builtin::from_name(name)
        .ok_or_else(|| PyValueError::new_err(format!("unknown nonlinearity {name:?}")))
}

/// The kernel program's specification from Python's arguments.
fn kernel_spec(
    nonlin: &str,
    depth: usize,
    inputs: &str,
    weight_var: Option<f64>,
    bias_var: f64,
    ntk: bool,
) -> PyResult<KernelSpec> {
    let mut spec = KernelSpec::new(nonlinearity(nonlin)?, depth, inputs, ntk);
    if let Some(sw2) = weight_var {
        spec.weight_var = sw2;
    }
    spec.bias_var = bias_var;
    Ok(spec)
}

/// An N×N kernel matrix handed to NumPy.
type Matrix<'py> = Bound<'py, PyArrayDyn<f64>>;

/// The NNGP and (with `ntk`) NTK matrices, N×N float64, of the network `tpc gen kernel`
/// describes, over the rows of `x` (N inputs of dimension d): the program is generated and
/// evaluated as `tpc eval` would, with the inputs handed over in memory.
#[pyfunction]
#[pyo3(signature = (x, nonlin="relu", depth=3, weight_var=None, bias_var=0.0, ntk=true))]
pub fn kernel<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    nonlin: &str,
    depth: usize,
    weight_var: Option<f64>,
    bias_var: f64,
    ntk: bool,
) -> PyResult<(Matrix<'py>, Option<Matrix<'py>>)> {
    let spec = kernel_spec(nonlin, depth, INPUTS, weight_var, bias_var, ntk)?;
    let program = generate_kernel(&spec).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let inputs = Arc::new(x.as_array().to_owned().into_dyn());
    let source = Arc::new(Source {
        bytes: program.into_bytes(),
        name: "<kernel>".into(),
        options: LowerOptions {
            data: BTreeMap::from([(INPUTS.to_string(), inputs)]),
            ..LowerOptions::default()
        },
    });
    let job = Arc::clone(&source);
    let evaluated = background::run(py, move |_| {
        tpc::evaluate_outputs(
            &job.bytes,
            &job.options,
            &EvalOptions::default(),
            None,
            None,
        )
    })?
    .map_err(|d| source.error(py, &d))?;
    let mut families = evaluated.outputs.into_iter().filter_map(|o| match o {
        OutputValue::Family(f) => Some(PyArray::from_owned_array(py, f.values)),
        OutputValue::Scalar { .. } => None,
    });
    let nngp = families
        .next()
        .ok_or_else(|| EvaluationError::new_err("the kernel program gave no NNGP matrix"))?;
    Ok((nngp, families.next()))
}

/// The source of `tpc gen kernel`: a program whose inputs are read by `load(inputs)`.
#[pyfunction]
#[pyo3(signature = (inputs, nonlin="relu", depth=3, weight_var=None, bias_var=0.0, ntk=true))]
pub fn gen_kernel(
    inputs: &str,
    nonlin: &str,
    depth: usize,
    weight_var: Option<f64>,
    bias_var: f64,
    ntk: bool,
) -> PyResult<String> {
    let spec = kernel_spec(nonlin, depth, inputs, weight_var, bias_var, ntk)?;
    generate_kernel(&spec).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The source of `tpc gen mlp`: SGD training of an abc-parametrized MLP with `depth` hidden
/// layers, parametrization `param` (a preset name) or the exponents `a`, `b`, `c`.
#[pyfunction]
#[pyo3(signature = (depth=2, param="mup", lr_exponent=None, a=None, b=None, c=None, steps=1,
                    nonlin="tanh", inputs=vec![vec![1.0, 0.0]], targets=vec![1.0],
                    eval=vec![vec![0.5, -1.0]], lr=1.0, loss="mse", sigma=vec![1.0]))]
#[allow(clippy::too_many_arguments)]
pub fn gen_mlp(
    depth: usize,
    param: &str,
    lr_exponent: Option<String>,
    a: Option<Vec<String>>,
    b: Option<Vec<String>>,
    c: Option<String>,
    steps: usize,
    nonlin: &str,
    inputs: Vec<Vec<f64>>,
    targets: Vec<f64>,
    eval: Vec<Vec<f64>>,
    lr: f64,
    loss: &str,
    sigma: Vec<f64>,
) -> PyResult<String> {
    let bad = |e: &dyn std::fmt::Display| PyValueError::new_err(e.to_string());
    let exponent = |s: &String| tpc::param::parse_exponent(s).map_err(|e| bad(&e));
    if depth == 0 {
        return Err(PyValueError::new_err("depth must be at least 1"));
    }
    let (abc, label) = match (a, b, c) {
        (Some(a), Some(b), Some(c)) => {
            let a = a.iter().map(exponent).collect::<PyResult<Vec<_>>>()?;
            let b = b.iter().map(exponent).collect::<PyResult<Vec<_>>>()?;
            if a.len() != depth + 1 {
                return Err(PyValueError::new_err(format!(
                    "depth {depth} needs {} exponents in a and b (layers 1..=L+1); got {}",
                    depth + 1,
                    a.len()
                )));
            }
            let abc = Abc::new(a, b, exponent(&c)?).map_err(|e| bad(&e))?;
            (abc, "a custom abc-parametrization".to_string())
        }
        (None, None, None) => {
            let preset = Preset::from_name(param).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "unknown parametrization {param:?}: use one of {}",
                    Preset::NAMES.join(", ")
                ))
            })?;
            let mut abc = Abc::preset(preset, depth);
            if let Some(c) = &lr_exponent {
                abc.c = exponent(c)?;
            }
            let label = format!("{} (c = {})", preset.name(), abc.c);
            (abc, label)
        }
        _ => {
            return Err(PyValueError::new_err(
                "give all of a, b and c for a custom parametrization, or none",
            ))
        }
    };
    let layers = abc.a.len();
    let sigma = match sigma.as_slice() {
        [s] => vec![*s; layers],
        s => s.to_vec(),
    };
    let spec = MlpSpec {
        abc,
        label,
        steps,
        nonlin: nonlinearity(nonlin)?,
        inputs,
        targets,
        eval,
        lr,
        loss: match loss {
            "mse" => Loss::Mse,
            "logistic" => Loss::Logistic,
            other => {
                return Err(PyValueError::new_err(format!(
                    "unknown loss {other:?}: use \"mse\" or \"logistic\""
                )))
            }
        },
        sigma,
    };
    generate_mlp(&spec).map_err(|e| bad(&e))
}
