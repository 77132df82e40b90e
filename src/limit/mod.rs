//! The Master Theorem: the infinite-width limit of a program, derived symbolically.
//!
//! [`derive`] turns a checked [`ir::Program`](crate::ir::Program) into a [`Limit`] exactly as
//! tp-math §3 states it:
//!
//! * one Gaussian atom `Z^v` per initial vector (a `vector` group keeps its joint law);
//! * one atom `Ẑ^{Mx}` per MatMul `M x` with `M ∈ {W, Wᵀ}`, shared by MatMuls of the same
//!   matrix, orientation and limit `Z^x` (they are equal almost surely, §3.2); `W` and `Wᵀ`
//!   are separate, mutually independent *families*, with
//!   `Cov(Ẑ^{Mx}, Ẑ^{My}) = σ_W² E[Z^x Z^y]` (uncentered);
//! * `Z^{Mx} = Ẑ^{Mx} + Ż^{Mx}`, `Ż^{Mx} = σ_W² Σ_i Z^{u_i} E[∂Z^x/∂Ẑ^{M'u_i}]` over the
//!   atoms of the opposite family `M'` introduced *before* the instruction, the partial
//!   derivative taken with every other atom symbol held fixed (§3.3). Terms whose derivative
//!   is structurally zero are dropped; so are terms whose expectation vanishes by a sign
//!   symmetry of the atoms' law (the gradient-independence argument of TP2, made exact and
//!   recorded in [`Limit::vanished`]);
//! * Nonlin: `Z^y = ψ(Z^x…; θ°…)`; Moment: `θ° = E[ψ(Z^x…; θ°…)]`; scalar arithmetic on the
//!   limits; all in program order.
//!
//! Every `Z` is an expression over atom symbols in one hash-consed
//! [`Arena`](crate::symbolic::Arena), so shared subexpressions are stored once.

mod derive;
mod display;
mod error;
mod json;
pub(crate) mod symmetry;

pub use derive::derive;
pub use display::{LimitDisplay, LimitFormat};
pub use error::LimitError;
pub use json::to_json;

use crate::diagnostics::Span;
use crate::ir::{GroupId, MatrixId, VectorId};
use crate::symbolic::{Arena, AtomId, ExprId, ScalarId};

/// The derived limit of a program.
#[derive(Debug)]
pub struct Limit {
    /// Every expression: the Z's, integrands, derivatives and coefficients.
    pub arena: Arena,
    /// The atoms, indexed by [`AtomId`].
    pub atoms: Vec<Atom>,
    /// The families of ZHat atoms, one per (matrix, orientation) used.
    pub families: Vec<HatFamily>,
    /// The limit scalars θ°, indexed by [`ScalarId`].
    pub scalars: Vec<LimitScalar>,
    /// `Z` of each vector instruction of the program, indexed by instruction.
    pub z: Vec<Option<ExprId>>,
    /// The limit scalar of each scalar instruction of the program, indexed by instruction.
    pub scalar_of: Vec<Option<ScalarId>>,
    /// The equations, one per instruction that defines something, in program order.
    pub equations: Vec<Equation>,
    /// Ż terms dropped because their expectation vanishes by symmetry.
    pub vanished: Vec<VanishedTerm>,
    /// The limits of the program's outputs.
    pub outputs: Vec<ScalarId>,
    /// Display names of the program's instructions (`h`, `x[2]`); for a temporary, its
    /// right side (`tanh(h)`, `W @ x`).
    pub names: Vec<String>,
    /// Whether each instruction is a temporary introduced by lowering (no program name).
    pub temporary: Vec<bool>,
}

/// A Gaussian atom.
#[derive(Clone, Debug, PartialEq)]
pub struct Atom {
    /// What it is.
    pub kind: AtomKind,
    /// The instruction that introduced it: the MatMul of a ZHat atom, the `vector`
    /// declaration member (`Op::InitVector`) of an initial atom.
    pub instruction: usize,
}

/// The two kinds of atoms.
#[derive(Clone, Debug, PartialEq)]
pub enum AtomKind {
    /// `Z^v` of an initial vector: member `member` of a jointly Gaussian group.
    Initial {
        /// The group.
        group: GroupId,
        /// Position in the group.
        member: u32,
    },
    /// `Ẑ^{Mx}` of a MatMul.
    Hat {
        /// Position in [`Limit::families`].
        family: usize,
        /// The vector multiplied (its first MatMul).
        arg: VectorId,
        /// `Z` of the vector multiplied.
        arg_z: ExprId,
    },
}

/// The ZHat atoms of one matrix in one orientation, jointly Gaussian and centered.
#[derive(Clone, Debug, PartialEq)]
pub struct HatFamily {
    /// The matrix.
    pub matrix: MatrixId,
    /// Whether this is the `Wᵀ` family.
    pub transposed: bool,
    /// σ_W²: the matrix's entries are N(0, σ_W²/n).
    pub sigma2: f64,
    /// The atoms, in the order they were introduced.
    pub atoms: Vec<AtomId>,
    /// `Cov(Ẑ_a, Ẑ_b) = σ_W² E[integrand]` for every pair `b ≤ a` (by introduction order).
    pub covariance: Vec<CovarianceEntry>,
}

/// One covariance entry of a family.
#[derive(Clone, Debug, PartialEq)]
pub struct CovarianceEntry {
    /// The later atom.
    pub a: AtomId,
    /// The earlier (or same) atom.
    pub b: AtomId,
    /// `Z^x Z^y` for the vectors the two atoms multiply.
    pub integrand: ExprId,
}

/// A deterministic limit scalar θ°.
#[derive(Clone, Debug, PartialEq)]
pub struct LimitScalar {
    /// How it is computed.
    pub definition: ScalarDefinition,
    /// Where it comes from.
    pub role: ScalarRole,
}

/// How a limit scalar is computed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScalarDefinition {
    /// A given number (an initial scalar).
    Given(f64),
    /// `E[integrand]` over the atoms' joint law.
    Expectation(ExprId),
    /// A deterministic expression of other scalars.
    Deterministic(ExprId),
}

/// Where a limit scalar comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScalarRole {
    /// The limit of a scalar instruction of the program.
    Instruction(usize),
    /// `E[∂Z^x/∂Ẑ]`, a coefficient of the Ż of a MatMul instruction.
    ZDotCoefficient {
        /// The MatMul instruction.
        instruction: usize,
        /// The vector `x` it multiplies.
        x: VectorId,
        /// The opposite-family atom differentiated against.
        atom: AtomId,
    },
}

/// One term of a Ż: `coefficient · Z^u`, where `coefficient = σ² E[derivative]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ZDotTerm {
    /// The opposite-family atom `Ẑ^{M'u}`.
    pub atom: AtomId,
    /// The vector `u` it multiplies.
    pub u: VectorId,
    /// `∂Z^x/∂Ẑ^{M'u}`.
    pub derivative: ExprId,
    /// `σ² E[∂Z^x/∂Ẑ^{M'u}]`, a scalar expression.
    pub coefficient: ExprId,
}

/// A Ż term dropped because its expectation vanishes by symmetry.
#[derive(Clone, Debug, PartialEq)]
pub struct VanishedTerm {
    /// The MatMul instruction.
    pub instruction: usize,
    /// The vector it multiplies.
    pub x: VectorId,
    /// The opposite-family atom.
    pub atom: AtomId,
    /// `∂Z^x/∂Ẑ`, odd under the sign flip.
    pub derivative: ExprId,
    /// The initial group whose sign flip leaves the law invariant and negates the derivative.
    pub flipped: GroupId,
}

/// One derived equation, tied to the program line it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Equation {
    /// The instruction.
    pub instruction: usize,
    /// Its source.
    pub span: Span,
    /// What the equation says.
    pub kind: EquationKind,
}

/// The kinds of equations.
#[derive(Clone, Debug, PartialEq)]
pub enum EquationKind {
    /// Initial vectors `Z^v` with their joint law.
    Initial {
        /// The atoms, one per member.
        atoms: Vec<AtomId>,
        /// Their means.
        mean: Vec<f64>,
        /// Their covariance, row-major.
        covariance: Vec<f64>,
    },
    /// An initial scalar.
    InitialScalar {
        /// Its limit.
        scalar: ScalarId,
    },
    /// `Z^y = ψ(…)` for a Nonlin.
    Nonlin {
        /// `Z^y`.
        z: ExprId,
    },
    /// `Z^y = Ẑ^{Mx} + Ż^{Mx}` for a MatMul.
    MatMul {
        /// `Ẑ^{Mx}`.
        hat: AtomId,
        /// Whether this instruction introduced the atom (else it reuses an equal one).
        new_atom: bool,
        /// The vector multiplied.
        x: VectorId,
        /// The Ż terms kept.
        zdot: Vec<ZDotTerm>,
        /// `Z^y`.
        z: ExprId,
    },
    /// `θ° = E[…]` or a deterministic expression: a Moment or scalar arithmetic.
    Scalar {
        /// The limit scalar.
        scalar: ScalarId,
    },
}

impl Limit {
    /// The family of a ZHat atom, if it is one.
    pub fn family_of(&self, atom: AtomId) -> Option<&HatFamily> {
        match self.atoms[atom.0 as usize].kind {
            AtomKind::Hat { family, .. } => Some(&self.families[family]),
            AtomKind::Initial { .. } => None,
        }
    }

    /// Whether every Ż of the program vanishes (no Ż term was kept).
    pub fn zdot_vanishes(&self) -> bool {
        self.equations.iter().all(|e| match &e.kind {
            EquationKind::MatMul { zdot, .. } => zdot.is_empty(),
            _ => true,
        })
    }
}
