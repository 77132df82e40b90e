//! Compile-time constants: numbers, lists and matrices, and the helpers that build them.

use super::error::LowerError;
use crate::builtins::Builtin;
use crate::diagnostics::Span;
use ndarray::{Array1, Array2, ArrayD, IxDyn};

/// Constants may hold at most this many numbers (`eye(100000)` is refused, not allocated):
/// 2²⁷, room for a 10,000 × 1,000 data set or the 10,000² gram matrix of 10,000 inputs.
pub const MAX_CONSTANT_ELEMENTS: usize = 1 << 27;

/// A compile-time value: a number (rank 0), a list (rank 1) or a matrix (rank 2).
pub type Tensor = ArrayD<f64>;

/// A number as a rank-0 tensor.
pub fn number(value: f64) -> Tensor {
    ArrayD::from_elem(IxDyn(&[]), value)
}

/// The value of a rank-0 tensor.
pub fn as_number(t: &Tensor) -> Option<f64> {
    (t.ndim() == 0).then(|| t.iter().copied().next().unwrap_or(f64::NAN))
}

/// Describes a tensor's shape for messages: "a number", "a list of 3", "a 2×2 matrix".
pub fn describe(t: &Tensor) -> String {
    match t.shape() {
        [] => "a number".to_string(),
        [n] => format!("a list of {n}"),
        [r, c] => format!("a {r}×{c} matrix"),
        s => format!("an array of shape {s:?}"),
    }
}

/// A list literal: all items must have the same shape; the result has one more dimension.
pub fn list(items: Vec<Tensor>, span: Span) -> Result<Tensor, LowerError> {
    let Some(first) = items.first() else {
        return Ok(ArrayD::zeros(IxDyn(&[0])));
    };
    let inner = first.shape().to_vec();
    if inner.len() >= 2 {
        return Err(LowerError::ShapeMismatch {
            span,
            message: "constants have at most two dimensions (lists and matrices)".into(),
        });
    }
    if let Some(bad) = items.iter().find(|t| t.shape() != inner.as_slice()) {
        return Err(LowerError::ShapeMismatch {
            span,
            message: format!(
                "list items must have the same shape: {} and {}",
                describe(first),
                describe(bad)
            ),
        });
    }
    let mut shape = vec![items.len()];
    shape.extend(&inner);
    let data: Vec<f64> = items.iter().flat_map(|t| t.iter().copied()).collect();
    check_size(data.len(), span)?;
    Ok(ArrayD::from_shape_vec(IxDyn(&shape), data).expect("shape matches data"))
}

fn check_size(elements: usize, span: Span) -> Result<(), LowerError> {
    if elements > MAX_CONSTANT_ELEMENTS {
        return Err(LowerError::ShapeMismatch {
            span,
            message: format!("constants may hold at most {MAX_CONSTANT_ELEMENTS} numbers"),
        });
    }
    Ok(())
}

/// Elementwise arithmetic with a number broadcast against a list or matrix.
pub fn binary(
    a: &Tensor,
    b: &Tensor,
    op: impl Fn(f64, f64) -> f64,
    span: Span,
) -> Result<Tensor, LowerError> {
    if a.shape() == b.shape() {
        return Ok(ndarray::Zip::from(a).and(b).map_collect(|&x, &y| op(x, y)));
    }
    if let Some(x) = as_number(a) {
        return Ok(b.mapv(|y| op(x, y)));
    }
    if let Some(y) = as_number(b) {
        return Ok(a.mapv(|x| op(x, y)));
    }
    Err(LowerError::ShapeMismatch {
        span,
        message: format!("cannot combine {} with {}", describe(a), describe(b)),
    })
}

/// A built-in (or its derivative) applied elementwise.
pub fn apply(function: Builtin, order: u32, t: &Tensor) -> Tensor {
    t.mapv(|x| function.eval(order, x))
}

/// Indexes a list or matrix: `xi[0]` is a row, `K[0, 1]` an entry.
pub fn index(t: &Tensor, indices: &[(i64, Span)], span: Span) -> Result<Tensor, LowerError> {
    if indices.len() > t.ndim() {
        return Err(LowerError::ShapeMismatch {
            span,
            message: format!("{} cannot take {} indices", describe(t), indices.len()),
        });
    }
    let mut view = t.view();
    for &(i, ispan) in indices {
        let len = view.shape()[0];
        if i < 0 || i as usize >= len {
            return Err(LowerError::IndexOutOfRange {
                span: ispan,
                index: i,
                len,
            });
        }
        view = view.index_axis_move(ndarray::Axis(0), i as usize);
    }
    Ok(view.to_owned())
}

/// The names of the constant helpers, for suggestions.
pub const HELPERS: [&str; 7] = ["gram", "dot", "norm", "eye", "len", "cols", "load"];

/// Applies a constant helper (`gram`, `dot`, `norm`, `eye`, `len`, `cols`) to evaluated
/// arguments. Returns `None` if `name` is not such a helper (nor for `load`, whose argument is
/// a string: the caller reads the file); argument counts are checked by the caller.
pub fn helper(name: &str, args: &[(Tensor, Span)]) -> Option<Result<Tensor, LowerError>> {
    let shape_error = |message: String, span: Span| LowerError::ShapeMismatch { span, message };
    let result = match name {
        "gram" => {
            let (x, s) = &args[0];
            match x.view().into_dimensionality::<ndarray::Ix2>() {
                Ok(m) => check_size(m.nrows().saturating_mul(m.nrows()), *s)
                    .map(|()| m.dot(&m.t()).into_dyn()),
                Err(_) => Err(shape_error(
                    format!(
                        "`gram` needs a matrix whose rows are inputs, found {}",
                        describe(x)
                    ),
                    *s,
                )),
            }
        }
        "dot" => {
            let (a, sa) = &args[0];
            let (b, _) = &args[1];
            match (
                a.view().into_dimensionality::<ndarray::Ix1>(),
                b.view().into_dimensionality::<ndarray::Ix1>(),
            ) {
                (Ok(a), Ok(b)) if a.len() == b.len() => Ok(number(a.dot(&b))),
                _ => Err(shape_error(
                    format!(
                        "`dot` needs two lists of the same length, found {} and {}",
                        describe(a),
                        describe(b)
                    ),
                    sa.join(args[1].1),
                )),
            }
        }
        "norm" => {
            let (a, s) = &args[0];
            match a.view().into_dimensionality::<ndarray::Ix1>() {
                Ok(a) => Ok(number(a.dot(&a).sqrt())),
                Err(_) => Err(shape_error(
                    format!("`norm` needs a list, found {}", describe(a)),
                    *s,
                )),
            }
        }
        "eye" => {
            let (d, s) = &args[0];
            match as_number(d) {
                Some(v)
                    if v >= 0.0 && v.fract() == 0.0 && v * v <= MAX_CONSTANT_ELEMENTS as f64 =>
                {
                    Ok(Array2::<f64>::eye(v as usize).into_dyn())
                }
                _ => Err(shape_error(
                    format!(
                        "`eye` needs a non-negative integer of at most {}",
                        (MAX_CONSTANT_ELEMENTS as f64).sqrt().floor()
                    ),
                    *s,
                )),
            }
        }
        "len" => {
            let (a, s) = &args[0];
            match a.shape().first() {
                Some(&n) => Ok(number(n as f64)),
                None => Err(shape_error(
                    "`len` needs a list or matrix, found a number".into(),
                    *s,
                )),
            }
        }
        "cols" => {
            let (a, s) = &args[0];
            match a.shape() {
                [_, columns] => Ok(number(*columns as f64)),
                _ => Err(shape_error(
                    format!("`cols` needs a matrix, found {}", describe(a)),
                    *s,
                )),
            }
        }
        _ => return None,
    };
    Some(result)
}

/// How many arguments a helper takes.
pub fn helper_arity(name: &str) -> Option<usize> {
    match name {
        "gram" | "norm" | "eye" | "len" | "cols" | "load" => Some(1),
        "dot" => Some(2),
        _ => None,
    }
}

/// Converts a list to a vector of numbers.
pub fn as_list(t: &Tensor) -> Option<Array1<f64>> {
    t.view()
        .into_dimensionality::<ndarray::Ix1>()
        .ok()
        .map(|v| v.to_owned())
}

/// Converts a matrix constant.
pub fn as_matrix(t: &Tensor) -> Option<Array2<f64>> {
    t.view()
        .into_dimensionality::<ndarray::Ix2>()
        .ok()
        .map(|v| v.to_owned())
}
