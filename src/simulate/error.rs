//! Errors of running a program at finite width.

use crate::diagnostics::{Diagnostic, Span};

/// Why a finite-width simulation failed.
#[derive(Clone, Debug, PartialEq)]
pub enum SimulationError {
    /// An instruction produced NaN or ±∞ (in at least one coordinate, for a vector).
    NotFinite {
        /// The instruction's position in [`crate::ir::Program::instructions`].
        instruction: usize,
        /// Its source.
        span: Span,
        /// Its printable name (`k`, `h[2]`, or `%7` for a temporary).
        name: String,
    },
    /// The width was 0: a Tensor Program needs at least one coordinate.
    ZeroWidth,
}

impl SimulationError {
    /// The diagnostic describing this error.
    pub fn to_diagnostic(&self) -> Diagnostic {
        match self {
            SimulationError::NotFinite { span, name, .. } => Diagnostic::error(
                "E0301",
                format!("`{name}` is not a finite number in the simulation"),
            )
            .with_primary(*span, "this evaluates to NaN or ±∞ at finite width")
            .with_note(
                "the simulation runs the program literally at width n; a function was applied \
                 outside its domain (log or sqrt of a negative number, division by zero) or a \
                 value overflowed",
            )
            .with_help("check the arguments' ranges: Gaussian vectors take every real value"),
            SimulationError::ZeroWidth => {
                Diagnostic::error("E0302", "the simulation width must be at least 1")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_finite_points_at_the_instruction() {
        let error = SimulationError::NotFinite {
            instruction: 3,
            span: Span::new(10, 20),
            name: "k".into(),
        };
        let diagnostic = error.to_diagnostic();
        assert_eq!(diagnostic.code, "E0301");
        assert!(diagnostic.message.contains("`k`"));
        assert_eq!(diagnostic.labels[0].span, Span::new(10, 20));
        assert!(diagnostic.labels[0].primary);
    }
}
