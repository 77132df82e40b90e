//! A program's results as a user reads them: scalars as numbers, indexed families as dense
//! arrays, in the order the program's `output` statement lists them.

use crate::eval::{Used, Value};
use ndarray::ArrayD;

/// One entry of a program's `output` statement, evaluated.
#[derive(Clone, Debug, PartialEq)]
pub enum OutputValue {
    /// A plain scalar output (`output m1`).
    Scalar {
        /// The program name.
        name: String,
        /// Its limit.
        value: Value,
    },
    /// An indexed family of scalars (`output K` with `K[i, j]` defined in loops).
    Family(FamilyValue),
}

/// An indexed family of output scalars as dense arrays over the family's index ranges.
#[derive(Clone, Debug, PartialEq)]
pub struct FamilyValue {
    /// The base name (`K`).
    pub name: String,
    /// The smallest index in each dimension: entry `[a, b]` of the arrays is member
    /// `name[start[0] + a, start[1] + b]`.
    pub start: Vec<i64>,
    /// Limits; NaN where the program defines no member (e.g. below the diagonal of a
    /// family written over `j in i..N`).
    pub values: ArrayD<f64>,
    /// Error estimates, same shape; NaN where no member is defined.
    pub errors: ArrayD<f64>,
    /// The least accurate method over the members.
    pub method: Used,
}
