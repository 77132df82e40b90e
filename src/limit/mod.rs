//! The Master Theorem: the infinite-width limit of a program, derived symbolically.
//!
//! [`derive()`] turns a checked [`ir::Program`](crate::ir::Program) into a [`Limit`] exactly as
//! docs/derivation.md states it:
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
//! * where `Z^x` is not weakly differentiable in those atoms (it passes through a jump such as
//!   `step` or `sign` of an argument that depends on them), the derivative misses a Dirac
//!   mass, so the coefficients of all of them are found jointly by the derivative-free Stein
//!   form (3.4) instead: `Gram⁺ b` with `Gram_ij = E[Z^{u_i} Z^{u_j}]` and
//!   `b_i = E[Ẑ^{M'u_i} Z^x]` ([`SteinSolve`]);
//! * Nonlin: `Z^y = ψ(Z^x…; θ°…)`; Moment: `θ° = E[ψ(Z^x…; θ°…)]`; scalar arithmetic on the
//!   limits; all in program order.
//!
//! Every `Z` is an expression over atom symbols in one hash-consed
//! [`Arena`], so shared subexpressions are stored once.

mod derive;
mod display;
mod error;
mod json;
pub(crate) mod symmetry;

pub use derive::{derive, derive_deferred, derive_with, Coefficients, ZDotRule};
pub use display::{LimitDisplay, LimitFormat};
pub use error::LimitError;
pub use json::{to_json, write_json};

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
    /// The Ż's computed by the Stein form (3.4), indexed by [`ScalarDefinition::SteinSolution`].
    pub stein: Vec<SteinSolve>,
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

impl HatFamily {
    /// The integrand `Z^x Z^y` of the covariance of two of the family's atoms (either order).
    pub fn integrand(&self, a: AtomId, b: AtomId) -> Option<ExprId> {
        self.covariance
            .iter()
            .find(|e| (e.a, e.b) == (a, b) || (e.a, e.b) == (b, a))
            .map(|e| e.integrand)
    }
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
    /// `E[∂z/∂atom]`, a (3.3) coefficient whose derivative a deferred derivation
    /// ([`Coefficients::Deferred`]) left unexpanded; evaluation needs
    /// [`Coefficients::Expanded`], where this definition does not occur.
    ExpectedDerivative {
        /// `Z^x`, the expression differentiated.
        z: ExprId,
        /// The atom differentiated against.
        atom: AtomId,
    },
    /// Component `index` of `Gram⁺ b` of the Stein solve [`Limit::stein`]`[solve]` (3.4).
    SteinSolution {
        /// Position in [`Limit::stein`].
        solve: usize,
        /// Position in the solve's atoms.
        index: usize,
    },
}

/// Where a limit scalar comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScalarRole {
    /// The limit of a scalar instruction of the program.
    Instruction(usize),
    /// `E[∂Z^x/∂Ẑ]`, a coefficient of the Ż of a MatMul instruction (3.3).
    ZDotCoefficient {
        /// The MatMul instruction.
        instruction: usize,
        /// The vector `x` it multiplies.
        x: VectorId,
        /// The opposite-family atom differentiated against.
        atom: AtomId,
    },
    /// `b = E[Ẑ^{M'u} Z^x]`, an input of the Stein form (3.4) of a MatMul's Ż.
    SteinMoment {
        /// The MatMul instruction.
        instruction: usize,
        /// The vector `x` it multiplies.
        x: VectorId,
        /// The opposite-family atom `Ẑ^{M'u}`.
        atom: AtomId,
    },
    /// `(Gram⁺ b)_i`, the coefficient of `Z^{u_i}` in a MatMul's Ż by the Stein form (3.4).
    SteinCoefficient {
        /// The MatMul instruction.
        instruction: usize,
        /// The vector `x` it multiplies.
        x: VectorId,
        /// The opposite-family atom `Ẑ^{M'u_i}`.
        atom: AtomId,
    },
}

impl ScalarRole {
    /// The instruction the scalar belongs to: its own, or the MatMul whose Ż needs it.
    pub fn instruction(&self) -> usize {
        match *self {
            ScalarRole::Instruction(i)
            | ScalarRole::ZDotCoefficient { instruction: i, .. }
            | ScalarRole::SteinMoment { instruction: i, .. }
            | ScalarRole::SteinCoefficient { instruction: i, .. } => i,
        }
    }
}

/// One term of a Ż: `coefficient · Z^u`.
#[derive(Clone, Debug, PartialEq)]
pub struct ZDotTerm {
    /// The opposite-family atom `Ẑ^{M'u}`.
    pub atom: AtomId,
    /// The vector `u` it multiplies.
    pub u: VectorId,
    /// `∂Z^x/∂Ẑ^{M'u}` under (3.3); `None` under the Stein form (3.4), which takes no
    /// derivative, and where a deferred derivation left it unexpanded.
    pub derivative: Option<ExprId>,
    /// A scalar expression: `σ² E[∂Z^x/∂Ẑ^{M'u}]` (3.3), or the scalar `(Gram⁺ b)_i` (3.4).
    pub coefficient: ExprId,
}

/// The Stein form (3.4) of the Ż of one MatMul `M x`: for the opposite-family atoms
/// `Ẑ_i = Ẑ^{M'u_i}` that `Z^x` depends on, the coefficients of `Z^{u_i}` are
/// `c = Gram⁺ b`, `Gram_ij = E[Z^{u_i} Z^{u_j}]` (so `Cov(Ẑ) = σ² Gram`),
/// `b_i = E[Ẑ_i Z^x]`, `Gram⁺` the Moore–Penrose pseudo-inverse. Used where `Z^x` is not
/// weakly differentiable in these atoms, so that (3.3) would miss a Dirac mass.
#[derive(Clone, Debug, PartialEq)]
pub struct SteinSolve {
    /// The MatMul instruction.
    pub instruction: usize,
    /// The vector `x` it multiplies.
    pub x: VectorId,
    /// The opposite family, whose covariance integrands are the Gram entries
    /// ([`HatFamily::integrand`]).
    pub family: usize,
    /// The atoms `Ẑ_i`, in introduction order.
    pub atoms: Vec<AtomId>,
    /// The vectors `u_i`.
    pub u: Vec<VectorId>,
    /// The right side `b`.
    pub moments: Vec<SteinRhs>,
    /// The [`ScalarRole::SteinCoefficient`] scalars `c_i`.
    pub coefficients: Vec<ScalarId>,
    /// A jump of `Z^x` in these atoms (`step(…)`, `sign(…)`): why (3.3) does not apply;
    /// `None` where [`ZDotRule::Stein`] asked for the Stein form everywhere.
    pub jump: Option<ExprId>,
}

/// One entry `b_i = E[Ẑ_i Z^x]` of the right side of a [`SteinSolve`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SteinRhs {
    /// A [`ScalarRole::SteinMoment`] scalar.
    Expectation(ScalarId),
    /// 0, because `Ẑ_i Z^x` is odd under the sign flip of this centred initial group.
    Odd(GroupId),
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
    /// The integrand odd under the sign flip: `∂Z^x/∂Ẑ` (3.3), or the Stein moment's
    /// `Ẑ·Z^x` (3.4); `None` for a derivative a deferred derivation left unexpanded.
    pub integrand: Option<ExprId>,
    /// Whether the integrand is the Stein moment's.
    pub stein: bool,
    /// The initial group whose sign flip leaves the law invariant and negates the integrand.
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
        /// The Stein solve ([`Limit::stein`]) of the Ż, when the Stein form (3.4) is used.
        stein: Option<usize>,
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
    /// The equation of an instruction, if it defines something (equations are in program
    /// order, so this is a binary search).
    pub fn equation_of(&self, instruction: usize) -> Option<&Equation> {
        self.equations
            .binary_search_by_key(&instruction, |e| e.instruction)
            .ok()
            .map(|i| &self.equations[i])
    }

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
