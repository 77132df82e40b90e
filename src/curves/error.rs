//! Why curves cannot be drawn from the programs and outputs asked for.

use std::fmt;

/// A request for curves that the programs cannot answer: a usage error, not a program's.
#[derive(Clone, Debug, PartialEq)]
pub enum CurveError {
    /// The program reports no indexed family, so it has no output over steps.
    NoFamilies {
        /// The program's label.
        program: String,
        /// Its outputs, every one a scalar.
        scalars: Vec<String>,
    },
    /// The output asked for is a scalar, not a family indexed by the step.
    Scalar {
        /// The program's label.
        program: String,
        /// The output's name.
        output: String,
    },
    /// The program has no output of that name.
    Unknown {
        /// The program's label.
        program: String,
        /// The name asked for.
        output: String,
        /// The names it could have been: families and curves.
        curves: Vec<String>,
    },
    /// Two programs define a curve of one name over different steps.
    DifferentSteps {
        /// The curve's name.
        curve: String,
        /// One program's label and steps.
        first: (String, String),
        /// The other's.
        second: (String, String),
    },
}

impl fmt::Display for CurveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CurveError::NoFamilies { program, scalars } => write!(
                f,
                "`{program}` has no output indexed by the training step ({}); a curve is a \
                 family whose first index is the step (`fc1[t]`, `f[t, i]`, as \
                 `tpc gen mlp --steps T` writes them)",
                match scalars.as_slice() {
                    [] => "it has no outputs".to_string(),
                    [one] => format!("its only output, `{one}`, is a scalar"),
                    many => format!("its outputs {} are scalars", quoted(many)),
                }
            ),
            CurveError::Scalar { program, output } => write!(
                f,
                "`{output}` is a scalar output of `{program}`, not a family indexed by the \
                 training step: a curve is a family whose first index is the step (`fc1[t]`, \
                 `f[t, i]`)"
            ),
            CurveError::Unknown {
                program,
                output,
                curves,
            } => write!(
                f,
                "`{program}` has no output family or curve `{output}` (it has: {})",
                curves.join(", ")
            ),
            CurveError::DifferentSteps {
                curve,
                first,
                second,
            } => write!(
                f,
                "`{curve}` runs over steps {} in `{}` but {} in `{}`: curves of several programs \
                 are compared step by step, so generate them with the same number of steps",
                first.1, first.0, second.1, second.0
            ),
        }
    }
}

impl std::error::Error for CurveError {}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
