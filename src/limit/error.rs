//! Errors of deriving a limit.

use crate::diagnostics::{Diagnostic, Span};

/// Why a program's limit cannot be derived.
#[derive(Clone, Debug, PartialEq)]
pub enum LimitError {
    /// The width symbol appears in a Nonlin, Moment or scalar expression: the program is
    /// not written with Θ(1) coordinates, so the Master Theorem does not apply as stated.
    WidthInExpression {
        /// The instruction.
        span: Span,
        /// The width symbol's name.
        width: String,
    },
    /// The derived limit outgrew [`crate::ir::LowerOptions::max_limit_nodes`].
    TooLarge {
        /// The instruction whose derivation passed the limit.
        span: Span,
        /// The arena's size (nodes plus the terms they list) after it.
        nodes: usize,
        /// The limit in force.
        limit: usize,
    },
}

impl LimitError {
    /// The diagnostic describing this error.
    pub fn to_diagnostic(&self) -> Diagnostic {
        match self {
            LimitError::WidthInExpression { span, width } => Diagnostic::error(
                "E0201",
                format!("the width `{width}` appears in an instruction"),
            )
            .with_primary(*span, format!("this depends on `{width}` explicitly"))
            .with_note("the Master Theorem assumes every vector has Θ(1) coordinates and every scalar a finite limit; powers of the width only belong in `matrix W ~ N(0, c/n)`")
            .with_help("analyse explicit width powers with `tpc derive --scaling`"),
            LimitError::TooLarge { span, nodes, limit } => Diagnostic::error(
                "E0203",
                format!("the derived limit needs more than {limit} expression nodes and terms"),
            )
            .with_primary(*span, format!("after deriving this instruction it holds {nodes}"))
            .with_note("the size of the derived equations grows faster than the program here (Ż coefficients of vectors that depend on many earlier ZHat atoms, or long sums rebuilt at every step); each node or term takes about 34 bytes")
            .with_help("raise the limit with `--max-limit-nodes N`, or derive fewer steps"),
        }
    }
}
