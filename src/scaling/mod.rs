//! Width-power analysis (`tpc derive --scaling`): how every vector's coordinates and every
//! scalar of a program scale with the width n.
//!
//! A parametrization program writes powers of n explicitly (`n^(-1/2) * (W @ x)`); the
//! Master Theorem applies only once every quantity is Θ(1). This pass expands each quantity
//! as `Σ_e n^e c_e + O(n^ρ)` with exact rational exponents (see [`expansion`]) and reports
//! which terms vanish, survive or blow up as n → ∞:
//!
//! * a vector's coefficients are expressions over Θ(1) symbols: initial atoms, and one
//!   symbol `Z^{Mp}` per matrix product of a random part p (linear in p, so `W(x + δ) − Wx`
//!   cancels to `Wδ`);
//! * a Moment `mean(ψ)` keeps the limit `E[c_e]` of each term, which is zero when `c_e` is
//!   odd under the sign flip of a centered initial group (the law is invariant, see
//!   `limit::symmetry`), and adds the term's fluctuation `O(n^{e−1/2})`. So a Moment whose
//!   limit is zero, multiplied by `n^p` with p ≥ 1/2, is reported as *indeterminate
//!   (fluctuation-level)*, never guessed;
//! * a nonlinearity of `a₀ + δ` with δ vanishing is expanded in a Taylor series around the
//!   Θ(1) part `a₀` (first order with an `O(|δ|^{3/2})` remainder at a kink; a jump moves the
//!   root-mean-square coordinate by at most `O(|δ|^{1/2})`); of a growing argument, it is only
//!   bounded (`tanh`) or grows with it (`relu`).
//!
//! Coefficients are taken to be nonzero unless they are structurally zero or vanish by a
//! sign-flip symmetry: the exponents reported are exact upper bounds, and exact orders
//! unless a cancellation beyond these two kinds happens.

pub mod expansion;

mod analyze;
mod report;

pub use analyze::analyze;
pub use report::{to_json, to_text};

use crate::diagnostics::{Diagnostic, Span};
use expansion::{Expansion, Exponent, RestKind, UNBOUNDED};

/// Settings of the analysis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScalingOptions {
    /// Terms below `n^floor` are not tracked.
    pub floor: Exponent,
    /// The order of Taylor series of smooth nonlinearities.
    pub taylor_order: u32,
}

impl Default for ScalingOptions {
    fn default() -> ScalingOptions {
        ScalingOptions {
            floor: Exponent::from_integer(-6),
            taylor_order: 2,
        }
    }
}

/// The result: the size of every vector and scalar instruction.
#[derive(Clone, Debug, PartialEq)]
pub struct Scaling {
    /// Indexed by instruction; `None` for matrices and groups.
    pub quantities: Vec<Option<Quantity>>,
}

/// How one vector's coordinates, or one scalar, scale with n.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantity {
    /// The overall size.
    pub size: Size,
    /// The exponents of the tracked terms, largest first.
    pub terms: Vec<Exponent>,
    /// Why the analysis lost track, if it did (`the argument of tanh grows like n^(1/2)`).
    pub note: Option<String>,
}

/// The size of a quantity: `n^exponent`, in the sense given by `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    /// The power of n.
    pub exponent: Exponent,
    /// How much is known.
    pub kind: SizeKind,
}

/// What is known about a quantity's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeKind {
    /// Θ(n^e) with a deterministic leading coefficient.
    Theta,
    /// Θ(n^e), random at leading order (a deterministic part plus a fluctuation of the same
    /// order, almost surely nonzero).
    ThetaRandom,
    /// Only a fluctuation of size O(n^e) is left: the limit of the leading part is zero.
    Fluctuation,
    /// At most O(n^e); the structure was lost (a nonlinearity of a growing argument).
    AtMost,
    /// Every tracked term cancelled; smaller than the tracked order n^e.
    Below,
    /// Exactly zero.
    Zero,
}

/// Where a quantity goes as n → ∞.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It tends to zero.
    Vanishes,
    /// Θ(1).
    Survives,
    /// It grows without bound.
    BlowsUp,
    /// O(1), without a way to tell from the powers alone whether it vanishes.
    Indeterminate,
    /// At most a growing power: the structure was lost, so it may blow up.
    MayBlowUp,
}

impl Quantity {
    fn of(expansion: &Expansion, note: Option<String>) -> Quantity {
        Quantity {
            size: Size::of(expansion),
            terms: expansion.terms.iter().map(|t| t.0).collect(),
            note,
        }
    }
}

impl Size {
    fn of(expansion: &Expansion) -> Size {
        let (exponent, kind) = match (expansion.terms.first(), expansion.rest) {
            (None, None) => (Exponent::from_integer(0), SizeKind::Zero),
            (Some(&(e, _)), None) => (e, SizeKind::Theta),
            (Some(&(e, _)), Some(r)) if r.exponent < e => (e, SizeKind::Theta),
            (Some(&(e, _)), Some(r)) => match r.kind {
                RestKind::Fluctuation => (e, SizeKind::ThetaRandom),
                _ => (e, SizeKind::AtMost),
            },
            (None, Some(r)) => (
                r.exponent,
                match r.kind {
                    RestKind::Truncated => SizeKind::Below,
                    RestKind::Fluctuation => SizeKind::Fluctuation,
                    RestKind::Opaque => SizeKind::AtMost,
                },
            ),
        };
        Size { exponent, kind }
    }

    /// Whether the quantity vanishes, survives or blows up.
    pub fn verdict(&self) -> Verdict {
        let zero = Exponent::from_integer(0);
        match self.kind {
            SizeKind::Zero | SizeKind::Below => Verdict::Vanishes,
            _ if self.exponent < zero => Verdict::Vanishes,
            SizeKind::Theta | SizeKind::ThetaRandom if self.exponent == zero => Verdict::Survives,
            SizeKind::Theta | SizeKind::ThetaRandom => Verdict::BlowsUp,
            SizeKind::Fluctuation | SizeKind::AtMost if self.exponent == zero => {
                Verdict::Indeterminate
            }
            SizeKind::Fluctuation | SizeKind::AtMost => Verdict::MayBlowUp,
        }
    }

    /// The exponent a finite-width measurement of the size should show, when it is exact.
    pub fn predicted_exponent(&self) -> Option<Exponent> {
        matches!(self.kind, SizeKind::Theta | SizeKind::ThetaRandom).then_some(self.exponent)
    }

    /// Whether the exponent stands for growth faster than every power.
    pub fn unbounded(&self) -> bool {
        self.exponent >= Exponent::from_integer(UNBOUNDED)
    }
}

/// Why the analysis cannot run.
#[derive(Clone, Debug, PartialEq)]
pub enum ScalingError {
    /// A power of the width whose exponent is not a simple fraction.
    IrrationalPower {
        /// The instruction.
        span: Span,
        /// The exponent.
        value: f64,
    },
    /// The analysis's expressions outgrew [`crate::ir::LowerOptions::max_limit_nodes`].
    TooLarge {
        /// The instruction whose analysis passed the limit.
        span: Span,
        /// The arena's size (nodes plus the terms they list) after it.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
}

impl ScalingError {
    /// The diagnostic describing this error.
    pub fn to_diagnostic(&self) -> Diagnostic {
        match self {
            ScalingError::IrrationalPower { span, value } => Diagnostic::error(
                "E0202",
                format!(
                    "the power {} of the width is not a fraction the scaling analysis tracks",
                    crate::symbolic::format_number(*value, crate::symbolic::Style::Text)
                ),
            )
            .with_primary(
                *span,
                "this raises a width-dependent quantity to that power",
            )
            .with_note(
                "the scaling analysis tracks exact exponents p/q with q ≤ 1000 and |p| ≤ 1000000",
            ),
            ScalingError::TooLarge { span, size, limit } => Diagnostic::error(
                "E0203",
                format!("the scaling analysis needs more than {limit} expression nodes and terms"),
            )
            .with_primary(*span, format!("after analysing this instruction it holds {size}"))
            .with_note("the expansions grow faster than the program here (long sums rebuilt at every step); each node or term takes about 34 bytes")
            .with_help("raise the limit with `--max-limit-nodes N`, or analyse fewer steps"),
        }
    }
}
