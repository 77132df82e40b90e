//! Numerical evaluation of a derived limit: every expectation by the most accurate method
//! that applies (docs/evaluation.md).
//!
//! For each expectation the evaluator integrates only over the marginal law of the atoms its
//! integrand reaches, expands the integrand by linearity into products of atoms and built-in
//! calls with numeric coefficients ([`expand`]; Moments are numbers), splits each product into
//! blocks of mutually independent atoms, and then tries, in order:
//!
//! 1. **exact**: polynomials in the atoms by Isserlis' theorem ([`polynomial`]), and the closed
//!    forms of relu, step, erf and erf′ of affine arguments `a·Z + b`, alone or in pairs
//!    ([`closed_form`], [`bivariate`] where the means are not 0; matched by [`forms`]);
//! 2. **quadrature**: tensor Gauss–Hermite ([`quadrature`]) on the factor of a possibly singular
//!    covariance ([`gaussian`]), up to a dimension limit, refined until a tolerance; a
//!    kink-aware rule ([`kink`]) when relu-like functions put kinks in the integrand (always,
//!    in one or two dimensions: never Monte Carlo there);
//! 3. **Monte Carlo** ([`monte_carlo`]): seeded, with a standard error, in any dimension.
//!
//! The Ż coefficients of the Stein form ((3.4) in docs/derivation.md) are then `Gram⁺ b` ([`stein`]), from
//! expectations computed as above.
//!
//! Every value carries an error estimate and the method used ([`Used`]).

pub mod adaptive;
pub mod bivariate;
pub mod closed_form;
pub mod conditional;
mod evaluate;
pub mod expand;
mod family;
pub mod forms;
pub mod gauss_hermite;
pub mod gaussian;
pub mod integrability;
pub mod kernel_map;
pub mod kink;
pub mod monte_carlo;
pub mod particles;
pub mod polynomial;
pub mod quadrature;
pub mod sensitivity;
pub mod stein;
pub mod trapezoid;

pub use evaluate::{evaluate, Progress};
pub use family::{evaluate_families, FamilyError, FamilyEvaluation, Tile, MAX_ARRAY_ENTRIES};

use crate::diagnostics::{Diagnostic, Span};
use serde::Serialize;

/// Which methods the evaluator may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Exact when possible, then quadrature, then Monte Carlo (saying so).
    Auto,
    /// Closed forms and Gaussian algebra only; an error otherwise.
    Exact,
    /// Exact or quadrature; an error (suggesting Monte Carlo) beyond the dimension limit.
    Quad,
    /// Monte Carlo for every expectation.
    Mc,
    /// Particles: the atoms sampled jointly, every expectation a particle mean ([`particles`]).
    Particles,
}

/// Settings of [`evaluate`].
#[derive(Clone, Debug, PartialEq)]
pub struct EvalOptions {
    /// Allowed methods.
    pub method: Method,
    /// Relative tolerance of quadrature refinement.
    pub tolerance: f64,
    /// Highest dimension integrated by tensor quadrature.
    pub max_dim: usize,
    /// Most points of one tensor grid: refinement stops (and says so) beyond it.
    pub max_points: usize,
    /// Monte Carlo samples per expectation.
    pub samples: usize,
    /// Monte Carlo and particle seed.
    pub seed: u64,
    /// Particles per replica ([`particles`]); with `fit_particles`, the most.
    pub particles: usize,
    /// Lower `particles` for a long program: halve it, not below
    /// [`particles::MIN_FITTED_PARTICLES`], while the work of the evaluation (particles ×
    /// replicas × operations per particle) exceeds [`particles::PARTICLE_WORK_BUDGET`]. Set
    /// when the number of particles is the default, not the user's choice.
    pub fit_particles: bool,
    /// Independent replicas of a particle evaluation, whose spread gives its error bars.
    pub replicas: usize,
    /// Most bytes the particle columns may take at once.
    pub max_memory: usize,
    /// Particles from a randomised Sobol' sequence (the default) instead of independent draws.
    pub quasi_random: bool,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            method: Method::Auto,
            tolerance: 1e-10,
            max_dim: 4,
            max_points: 1 << 20,
            samples: 1_000_000,
            seed: 0,
            particles: 1 << 15,
            fit_particles: true,
            replicas: 8,
            max_memory: 4 << 30,
            quasi_random: true,
        }
    }
}

/// The method that produced a value (the least accurate one, when several combine).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Used {
    /// A given number.
    Given,
    /// Gaussian algebra (polynomials): exact up to rounding.
    Exact,
    /// A closed-form expectation: exact up to rounding.
    ClosedForm,
    /// A kink-aware quadrature rule.
    KinkAware,
    /// Tensor Gauss–Hermite quadrature.
    Quadrature,
    /// Monte Carlo; the error is a standard error.
    MonteCarlo,
    /// Particles; the error is the standard error over replicas.
    Particles,
}

impl Used {
    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Used::Given => "given",
            Used::Exact => "exact",
            Used::ClosedForm => "closed form",
            Used::KinkAware => "kink-aware quadrature",
            Used::Quadrature => "quadrature",
            Used::MonteCarlo => "Monte Carlo",
            Used::Particles => "particles",
        }
    }
}

/// A number with its error estimate and method.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Value {
    /// The value.
    pub value: f64,
    /// An error estimate: rounding-level for exact methods, the refinement difference for
    /// quadrature, one standard error for Monte Carlo (propagated to first order).
    pub error: f64,
    /// How it was computed.
    pub method: Used,
}

/// Every limit scalar's value.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Indexed by [`crate::symbolic::ScalarId`].
    pub scalars: Vec<Value>,
    /// What the user should know: fallbacks to Monte Carlo, tolerances not reached.
    pub notes: Vec<Note>,
}

/// Something the user should know about how one entry was computed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Note {
    /// What happened, in words shared by every entry it happened to (`quadrature stopped
    /// short of the tolerance`): notes are grouped by it.
    pub kind: String,
    /// The entry it happened to (`f[2]`, `the ZHat covariance of h[1] and h[0]`).
    pub entry: String,
    /// How bad it is, where a number says so; the worst note of a kind has the largest
    /// magnitude.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measure: Option<Measure>,
}

/// A number that says how bad a [`Note`] is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Measure {
    /// What it is (`error estimate`, `eigenvalue`).
    pub name: String,
    /// Its value.
    pub value: f64,
}

impl Note {
    /// A note without a number.
    pub fn new(entry: &str, kind: impl Into<String>) -> Note {
        Note {
            kind: kind.into(),
            entry: entry.to_string(),
            measure: None,
        }
    }

    /// A note with a number saying how bad it is.
    pub fn measured(entry: &str, kind: impl Into<String>, name: &str, value: f64) -> Note {
        Note {
            measure: Some(Measure {
                name: name.to_string(),
                value,
            }),
            ..Note::new(entry, kind)
        }
    }
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.entry, self.kind)?;
        if let Some(Measure { name, value }) = &self.measure {
            write!(f, " ({name} {value:.1e})")?;
        }
        Ok(())
    }
}

/// Why a limit could not be evaluated.
#[derive(Clone, Debug, PartialEq)]
pub enum EvalError {
    /// A value is NaN or infinite.
    NotFinite {
        /// The quantity.
        name: String,
        /// Its instruction.
        span: Span,
        /// The value.
        value: f64,
    },
    /// A covariance is not positive semi-definite beyond rounding.
    Covariance {
        /// The quantity.
        name: String,
        /// Its instruction.
        span: Span,
        /// What is wrong.
        message: String,
    },
    /// A Ż coefficient left unexpanded by a deferred derivation
    /// ([`Coefficients::Deferred`](crate::limit::Coefficients)): evaluation needs the limit of
    /// [`crate::limit::derive`].
    DeferredCoefficient {
        /// The quantity.
        name: String,
        /// Its instruction.
        span: Span,
    },
    /// `--method exact` and no exact form applies.
    NoExactForm {
        /// The quantity.
        name: String,
        /// Its instruction.
        span: Span,
    },
    /// `--method quad` and quadrature cannot do it.
    NeedsMonteCarlo {
        /// The quantity.
        name: String,
        /// Its instruction.
        span: Span,
        /// Why.
        reason: String,
    },
    /// The expectation does not exist (a non-integrable pole, or growth faster than the
    /// Gaussian decays).
    NotIntegrable {
        /// The quantity.
        name: String,
        /// Its instruction.
        span: Span,
        /// What the probe measured.
        reason: String,
    },
    /// The particle columns would take more memory than allowed.
    Memory {
        /// Bytes needed.
        needed: usize,
        /// Bytes allowed.
        limit: usize,
        /// Columns live at once in one replica.
        columns: usize,
        /// Particles per replica.
        particles: usize,
        /// Replicas run at once.
        at_once: usize,
    },
    /// A numerical routine failed.
    Numerical {
        /// The quantity.
        name: String,
        /// Its instruction.
        span: Span,
        /// What happened.
        message: String,
    },
}

impl EvalError {
    /// The diagnostic describing this error.
    pub fn to_diagnostic(&self) -> Diagnostic {
        match self {
            EvalError::NotFinite { name, span, value } => Diagnostic::error("E0401", format!("the limit of {name} is {value}"))
                .with_primary(*span, "computed from this instruction")
                .with_note("a NaN or infinite value: check for log or sqrt of negative values, division by zero, or overflow"),
            EvalError::Covariance { name, span, message } => Diagnostic::error("E0402", format!("the covariance behind {name} is not positive semi-definite"))
                .with_primary(*span, message.clone()),
            EvalError::DeferredCoefficient { name, span } => Diagnostic::error("E0410", format!("{name} is not expanded: the limit was derived for printing"))
                .with_primary(*span, "the derivative behind this Ż coefficient was left as its definition")
                .with_help("evaluate a limit from `limit::derive` (expanded coefficients), not `limit::derive_deferred`"),
            EvalError::NoExactForm { name, span } => Diagnostic::error("E0403", format!("no exact form for the limit of {name}"))
                .with_primary(*span, "this expectation needs numerical integration")
                .with_help("use `--method auto` or `--method quad`"),
            EvalError::NeedsMonteCarlo { name, span, reason } => Diagnostic::error("E0404", format!("quadrature cannot evaluate {name}"))
                .with_primary(*span, reason.clone())
                .with_help("use `--method mc` (or `--method auto`, which falls back to Monte Carlo)"),
            EvalError::NotIntegrable { name, span, reason } => Diagnostic::error("E0409", format!("the expectation behind {name} does not exist"))
                .with_primary(*span, reason.clone())
                .with_note("no method can give it a value: quadrature and Monte Carlo would print a number that means nothing")
                .with_help("keep denominators away from zero (e.g. `1/(1 + x*x)` instead of `1/(x*x)`) and growth below exp(x²/2)"),
            EvalError::Memory { needed, limit, columns, particles, at_once } => Diagnostic::error("E0408", format!(
                "particle evaluation needs {:.1} GiB, above the limit of {:.1} GiB",
                *needed as f64 / f64::from(1u32 << 30),
                *limit as f64 / f64::from(1u32 << 30)))
                .with_note(format!("{columns} columns of {particles} particles live at once, 8 bytes each, in {at_once} replica(s) at a time"))
                .with_help("use fewer `--particles` (and more `--replicas`), or raise `--max-memory`"),
            EvalError::Numerical { name, span, message } => Diagnostic::error("E0405", format!("numerical failure while evaluating {name}"))
                .with_primary(*span, message.clone()),
        }
    }
}
