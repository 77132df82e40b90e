//! Errors of lowering (name resolution, typing, constant evaluation, unrolling).

use super::load::LoadError;
use crate::diagnostics::{Diagnostic, Span};

/// Everything that can make a parsed program invalid.
#[derive(Clone, Debug, PartialEq)]
pub enum LowerError {
    /// The program defines nothing.
    EmptyProgram,
    /// A name that is never defined.
    UnknownName {
        /// The use.
        span: Span,
        /// The name.
        name: String,
        /// A similar name that exists.
        suggestion: Option<String>,
    },
    /// A name used before the statement that defines it.
    UseBeforeDefinition {
        /// The use.
        span: Span,
        /// The name.
        name: String,
        /// Where it is defined.
        defined_at: Span,
    },
    /// A name (or indexed member) defined twice.
    Redefinition {
        /// The second definition.
        span: Span,
        /// The name.
        name: String,
        /// The first definition, if it is in the source.
        previous: Option<Span>,
        /// Extra advice.
        help: Option<&'static str>,
    },
    /// A name that belongs to a built-in function.
    ReservedName {
        /// The definition.
        span: Span,
        /// The name.
        name: String,
    },
    /// A member of an indexed family that does not exist.
    UndefinedMember {
        /// The use.
        span: Span,
        /// The member as written, e.g. `x[7]`.
        member: String,
        /// The indices that do exist, summarised.
        defined: String,
    },
    /// An operand of the wrong type.
    TypeMismatch {
        /// The operand.
        span: Span,
        /// What the context needs.
        expected: &'static str,
        /// What it is.
        found: &'static str,
        /// The context, e.g. "the left side of `@`".
        context: &'static str,
        /// Extra advice.
        help: Option<&'static str>,
    },
    /// `.T.T`
    DoubleTranspose {
        /// The expression.
        span: Span,
    },
    /// A function called with the wrong number of arguments.
    WrongArity {
        /// The call.
        span: Span,
        /// The function.
        name: String,
        /// How many it takes.
        expected: usize,
        /// How many it got.
        found: usize,
        /// Where a user function is defined.
        defined_at: Option<Span>,
    },
    /// A call of a function that does not exist.
    UnknownFunction {
        /// The function's name.
        span: Span,
        /// The name.
        name: String,
        /// A similar function that exists.
        suggestion: Option<String>,
    },
    /// A `def` that calls itself, directly or through others.
    RecursiveDef {
        /// The recursive call.
        span: Span,
        /// The function.
        name: String,
        /// Its definition.
        defined_at: Span,
    },
    /// A derivative (`f'`) that cannot be taken.
    BadDerivative {
        /// The call.
        span: Span,
        /// Why.
        reason: String,
    },
    /// A matrix variance not of the form c/n with c > 0.
    BadMatrixVariance {
        /// The variance.
        span: Span,
        /// Why.
        reason: String,
    },
    /// A mean or covariance of the wrong shape.
    LawShape {
        /// The mean or covariance.
        span: Span,
        /// What was expected.
        expected: String,
        /// What it is.
        found: String,
    },
    /// A covariance that is not symmetric.
    CovarianceNotSymmetric {
        /// The covariance.
        span: Span,
        /// Row of the offending entry.
        row: usize,
        /// Column of the offending entry.
        col: usize,
        /// `C[row][col]`.
        upper: f64,
        /// `C[col][row]`.
        lower: f64,
    },
    /// A covariance with a negative eigenvalue.
    CovarianceNotPsd {
        /// The covariance.
        span: Span,
        /// The most negative eigenvalue.
        eigenvalue: f64,
        /// Its eigenvector.
        eigenvector: Vec<f64>,
    },
    /// Something that must be known at compile time is not.
    NotConstant {
        /// The expression.
        span: Span,
        /// What needed it, e.g. "a loop bound".
        what: &'static str,
        /// What it is instead.
        found: &'static str,
    },
    /// A value that must be an integer is not.
    NotInteger {
        /// The expression.
        span: Span,
        /// What needed it.
        what: &'static str,
        /// Its value.
        value: f64,
    },
    /// An index outside a constant's bounds.
    IndexOutOfRange {
        /// The index.
        span: Span,
        /// Its value.
        index: i64,
        /// The length indexed.
        len: usize,
    },
    /// Constants of incompatible shapes, or a shape an operation cannot take.
    ShapeMismatch {
        /// The expression.
        span: Span,
        /// What went wrong.
        message: String,
    },
    /// A division by a constant zero.
    DivisionByZero {
        /// The divisor.
        span: Span,
    },
    /// Internal: the program's parallel index spaces cannot be lowered by representatives
    /// (ranges of different sizes, say); [`super::lower`] unrolls it instead. Never returned.
    NotParallel,
    /// A `load("file")` that failed.
    Load {
        /// The `load(…)` call.
        span: Span,
        /// The file, resolved against the program's directory.
        path: String,
        /// What went wrong.
        error: LoadError,
    },
    /// The program unrolls to more instructions than allowed.
    TooLarge {
        /// The statement or loop being unrolled.
        span: Span,
        /// The limit.
        limit: usize,
    },
    /// One expression grows beyond a size limit (nested `def` inlining).
    ExpressionTooLarge {
        /// The expression.
        span: Span,
        /// The limit in nodes.
        limit: usize,
    },
}

fn with_help(d: Diagnostic, help: Option<&str>) -> Diagnostic {
    match help {
        Some(h) => d.with_help(h),
        None => d,
    }
}

impl LowerError {
    /// The diagnostic describing this error.
    pub fn to_diagnostic(&self) -> Diagnostic {
        use LowerError::*;
        match self {
            EmptyProgram => Diagnostic::error("E0100", "the program is empty")
                .with_note("a program needs at least one declaration or instruction")
                .with_help("start with e.g. `vector x ~ N(0, 1)` and `k = mean(x * x)`"),
            UnknownName {
                span,
                name,
                suggestion,
            } => {
                let d = Diagnostic::error("E0101", format!("unknown name `{name}`"))
                    .with_primary(*span, "not defined anywhere in the program");
                match suggestion {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d,
                }
            }
            UseBeforeDefinition {
                span,
                name,
                defined_at,
            } => Diagnostic::error("E0102", format!("`{name}` is used before it is defined"))
                .with_primary(*span, "used here")
                .with_secondary(*defined_at, "defined later here")
                .with_note("a Tensor Program is straight-line: every name must be defined before it is used"),
            Redefinition {
                span,
                name,
                previous,
                help,
            } => {
                let mut d = Diagnostic::error("E0103", format!("`{name}` is defined twice"))
                    .with_primary(*span, "redefined here");
                if let Some(p) = previous {
                    d = d.with_secondary(*p, "first defined here");
                }
                with_help(
                    d.with_note("every name of a Tensor Program is defined exactly once"),
                    *help,
                )
            }
            ReservedName { span, name } => Diagnostic::error(
                "E0105",
                format!("`{name}` is the name of a built-in function"),
            )
            .with_primary(*span, "cannot be redefined")
            .with_help("choose another name"),
            UndefinedMember {
                span,
                member,
                defined,
            } => Diagnostic::error("E0104", format!("`{member}` is not defined"))
                .with_primary(*span, "no such member (at this point of the program)")
                .with_note(format!("defined members: {defined}")),
            TypeMismatch {
                span,
                expected,
                found,
                context,
                help,
            } => with_help(
                Diagnostic::error("E0110", format!("{context} must be {expected}, found {found}"))
                    .with_primary(*span, format!("this is {found}")),
                *help,
            ),
            DoubleTranspose { span } => Diagnostic::error("E0111", "`.T.T` is not allowed")
                .with_primary(*span, "transposed twice")
                .with_help("`W.T.T` is `W`: write `W @ x`"),
            WrongArity {
                span,
                name,
                expected,
                found,
                defined_at,
            } => {
                let plural = if *expected == 1 { "" } else { "s" };
                let mut d = Diagnostic::error(
                    "E0112",
                    format!("`{name}` takes {expected} argument{plural}, but {found} were given"),
                )
                .with_primary(*span, format!("{found} argument(s) here"));
                if let Some(def) = defined_at {
                    d = d.with_secondary(*def, "defined here");
                }
                d
            }
            UnknownFunction {
                span,
                name,
                suggestion,
            } => {
                let d = Diagnostic::error("E0113", format!("unknown function `{name}`"))
                    .with_primary(*span, "not a built-in or a `def`");
                match suggestion {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help("built-ins: relu, step, tanh, erf, sigmoid, gelu, softplus, sin, cos, exp, log, sqrt, abs, sign, id; helpers: mean, gram, dot, norm, eye, len, cols, load"),
                }
            }
            RecursiveDef {
                span,
                name,
                defined_at,
            } => Diagnostic::error("E0114", format!("`{name}` is recursive"))
                .with_primary(*span, "calls itself here")
                .with_secondary(*defined_at, "defined here")
                .with_note("a `def` is inlined at every call, so it cannot call itself, directly or through other functions"),
            BadDerivative { span, reason } => {
                Diagnostic::error("E0115", "cannot take this derivative")
                    .with_primary(*span, reason.clone())
            }
            BadMatrixVariance { span, reason } => Diagnostic::error(
                "E0120",
                "a matrix's entries must have variance c/n with c > 0",
            )
            .with_primary(*span, reason.clone())
            .with_help("write e.g. `matrix W ~ N(0, 2/n)`"),
            LawShape {
                span,
                expected,
                found,
            } => Diagnostic::error("E0121", "the law has the wrong shape")
                .with_primary(*span, format!("expected {expected}, found {found}")),
            CovarianceNotSymmetric {
                span,
                row,
                col,
                upper,
                lower,
            } => Diagnostic::error("E0122", "the covariance matrix is not symmetric")
                .with_primary(*span, format!("C[{row}][{col}] = {upper} but C[{col}][{row}] = {lower}")),
            CovarianceNotPsd {
                span,
                eigenvalue,
                eigenvector,
            } => {
                let round = |x: f64| crate::ir::expr::format_number((x * 1e6).round() / 1e6);
                // A long eigenvector (a family's covariance) is shown by its nonzero entries.
                let shown = if eigenvector.len() <= 12 {
                    let v: Vec<String> = eigenvector.iter().map(|&x| round(x)).collect();
                    format!("[{}]", v.join(", "))
                } else {
                    let v: Vec<String> = eigenvector
                        .iter()
                        .enumerate()
                        .filter(|(_, x)| x.abs() >= 5e-7)
                        .take(12)
                        .map(|(i, &x)| format!("{} at member {i}", round(x)))
                        .collect();
                    format!("{}, 0 elsewhere", v.join(", "))
                };
                Diagnostic::error("E0123", "the covariance matrix is not positive semi-definite")
                    .with_primary(*span, format!("it has the negative eigenvalue {}", crate::ir::expr::format_number(*eigenvalue)))
                    .with_note(format!("eigenvector: {shown}"))
                    .with_note("a covariance must satisfy vᵀ C v ≥ 0 for every v")
            }
            NotConstant { span, what, found } => {
                Diagnostic::error("E0130", format!("{what} must be a compile-time constant"))
                    .with_primary(*span, format!("this is {found}"))
                    .with_help("constants are numbers, `const` names, loop indices and arithmetic on them")
            }
            NotInteger { span, what, value } => {
                Diagnostic::error("E0131", format!("{what} must be an integer"))
                    .with_primary(*span, format!("this is {}", crate::ir::expr::format_number(*value)))
            }
            IndexOutOfRange { span, index, len } => {
                Diagnostic::error("E0132", format!("index {index} is out of range"))
                    .with_primary(*span, format!("valid indices are 0..{len}"))
            }
            ShapeMismatch { span, message } => {
                Diagnostic::error("E0133", "constant shapes do not fit")
                    .with_primary(*span, message.clone())
            }
            DivisionByZero { span } => Diagnostic::error("E0134", "division by zero")
                .with_primary(*span, "this divisor is 0"),
            NotParallel => Diagnostic::error(
                "E0199",
                "internal: a parallel index space could not be lowered by representatives",
            ),
            Load { span, path, error } => load_diagnostic(*span, path, error),
            TooLarge { span, limit } => Diagnostic::error(
                "E0140",
                format!("the program unrolls to more than {limit} instructions"),
            )
            .with_primary(*span, "unrolling stopped here")
            .with_help("shrink the loop ranges, or raise the limit with `--max-instructions`"),
            ExpressionTooLarge { span, limit } => Diagnostic::error(
                "E0141",
                format!("this expression grows beyond {limit} nodes when functions are inlined"),
            )
            .with_primary(*span, "expanded here")
            .with_help("introduce intermediate vectors instead of nesting `def`s"),
        }
    }
}

/// The diagnostic of a failed `load`: codes E0150–E0157, pointing at the call.
fn load_diagnostic(span: Span, path: &str, error: &LoadError) -> Diagnostic {
    let (code, message, label) = match error {
        LoadError::Unreadable { reason } => (
            "E0150",
            format!("cannot read the data file `{path}`"),
            reason.clone(),
        ),
        LoadError::Ragged {
            line,
            found,
            first_line,
            expected,
        } => (
            "E0151",
            format!("the rows of `{path}` have different lengths"),
            format!(
                "line {line} has {found} number{}, but the first row (line {first_line}) has {expected}",
                if *found == 1 { "" } else { "s" }
            ),
        ),
        LoadError::NotANumber { line, token } => (
            "E0152",
            format!("`{path}` holds something that is not a number"),
            if token.is_empty() {
                format!("line {line} has an empty field")
            } else {
                format!("line {line}: `{token}` is not a number")
            },
        ),
        LoadError::NotFinite {
            location,
            value,
            token,
        } => (
            "E0153",
            format!("`{path}` holds a value that is not finite"),
            format!(
                "{location} is {}{}",
                if value.is_nan() { "NaN" } else { "infinite" },
                token
                    .as_ref()
                    .map_or(String::new(), |t| format!(" (`{t}`)"))
            ),
        ),
        LoadError::Empty => (
            "E0154",
            format!("the data file `{path}` holds no numbers"),
            "nothing to load".to_string(),
        ),
        LoadError::BadNpy { reason } => (
            "E0155",
            format!("`load` cannot read the .npy file `{path}`"),
            reason.clone(),
        ),
        LoadError::TooLarge { reason } => (
            "E0156",
            format!("the data file `{path}` is too large"),
            reason.clone(),
        ),
        LoadError::BadArray { reason } => (
            "E0157",
            format!("the array `{path}` given to the program cannot be loaded"),
            reason.clone(),
        ),
    };
    let d = Diagnostic::error(code, message).with_primary(span, label);
    match error {
        LoadError::Unreadable { .. } => d.with_note(
            "a path is relative to the directory of the program file (to the current directory for a program read from standard input)",
        ),
        LoadError::NotANumber { .. } | LoadError::Ragged { .. } if path.to_ascii_lowercase().ends_with(".csv") => d
            .with_note(
                "a `.csv` file holds comma-separated numbers, one row per line, after an optional first line of names",
            ),
        LoadError::NotANumber { .. } | LoadError::Ragged { .. } => d.with_note(
            "a text file holds numbers separated by spaces, one row per line; `#` starts a comment",
        ),
        _ => d,
    }
}
