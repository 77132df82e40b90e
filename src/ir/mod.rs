//! The checked intermediate representation of a Tensor Program.
//!
//! A [`Program`] is an append-only arena of [`Instruction`]s in program order. Every
//! instruction defines one object (a matrix, a jointly Gaussian group, a vector or a scalar)
//! and refers only to *earlier* instructions, through typed [`Handle`]s: a [`VectorId`] can
//! only name an instruction that defines a vector. [`validate`] checks this once, so later
//! passes index the arena without error handling.
//!
//! The instructions are exactly those of NETSOR^T+ (docs/derivation.md, “Programs”):
//!
//! | op | defines | from the source |
//! |----|---------|-----------------|
//! | [`Op::Matrix`] | an n×n Gaussian matrix | `matrix W ~ N(0, c/n)` |
//! | [`Op::Group`] | a jointly Gaussian group of initial vectors | `vector u, v ~ N(mu, C)` |
//! | [`Op::InitVector`] | one member of a group | (one per declared vector) |
//! | [`Op::InitScalar`] | an initial scalar with a known limit | `scalar y = 1.0` |
//! | [`Op::MatMul`] | `W x` or `Wᵀ x` | `h = W @ x`, `g = W.T @ a` |
//! | [`Op::Nonlin`] | a coordinatewise function of vectors and scalars | `a = tanh(h) * k` |
//! | [`Op::Moment`] | the average `(1/n) Σ_α ψ(…)_α` | `k = mean(a * b)` |
//! | [`Op::ScalarOp`] | arithmetic on scalars | `chi = k - y` |
//!
//! **Families.** Loops and indexed declarations are unrolled, but the IR remembers which
//! instructions form an indexed family (`K[i, j]`, `h[t]`) in [`Program::families`], so a
//! later pass can treat a family of independent iterations as one object.

mod expr;
mod graph;
pub mod lower;
mod summary;
mod validate;

pub use expr::{power, Expr, ExprNode};
pub use graph::{dependency_graph, to_dot, DependencyGraph};
pub use lower::{lower, LowerError, LowerOptions, MAX_LIMIT_NODES};
pub use summary::Summary;
pub use validate::{validate, ValidationError};

use crate::diagnostics::Span;
use serde::{Serialize, Serializer};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

/// A typed index into [`Program::instructions`]; `T` says what the instruction defines.
pub struct Handle<T> {
    index: u32,
    marker: PhantomData<fn() -> T>,
}

impl<T> Handle<T> {
    /// The handle of the instruction at `index`.
    pub fn new(index: usize) -> Handle<T> {
        Handle {
            index: index as u32,
            marker: PhantomData,
        }
    }

    /// Position in [`Program::instructions`].
    pub fn index(self) -> usize {
        self.index as usize
    }
}

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Handle<T> {}
impl<T> PartialEq for Handle<T> {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index
    }
}
impl<T> Eq for Handle<T> {}
impl<T> PartialOrd for Handle<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Handle<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.index.cmp(&other.index)
    }
}
impl<T> std::hash::Hash for Handle<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.index.hash(state)
    }
}
impl<T> fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.index)
    }
}
impl<T> Serialize for Handle<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.index)
    }
}

/// Marker: the instruction defines a matrix.
pub enum MatrixKind {}
/// Marker: the instruction defines a jointly Gaussian group of initial vectors.
pub enum GroupKind {}
/// Marker: the instruction defines a vector.
pub enum VectorKind {}
/// Marker: the instruction defines a scalar.
pub enum ScalarKind {}

/// A handle to a matrix.
pub type MatrixId = Handle<MatrixKind>;
/// A handle to a group of initial vectors.
pub type GroupId = Handle<GroupKind>;
/// A handle to a vector.
pub type VectorId = Handle<VectorKind>;
/// A handle to a scalar.
pub type ScalarId = Handle<ScalarKind>;

/// What an instruction defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An n×n matrix.
    Matrix,
    /// A group of initial vectors.
    Group,
    /// A vector in Rⁿ.
    Vector,
    /// A scalar.
    Scalar,
}

/// A program name, possibly indexed: `h`, `x[3]`, `K[0, 2]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name {
    /// The base name.
    pub base: Arc<str>,
    /// The index values; empty for a plain name.
    pub index: Box<[i64]>,
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)?;
        if !self.index.is_empty() {
            f.write_str("[")?;
            for (i, v) in self.index.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{v}")?;
            }
            f.write_str("]")?;
        }
        Ok(())
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One instruction of the program.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Instruction {
    /// What it computes.
    #[serde(flatten)]
    pub op: Op,
    /// The program name it defines; `None` for a temporary introduced by lowering.
    pub name: Option<Name>,
    /// The source it came from.
    pub span: Span,
}

/// The operations of the IR.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// An initial matrix with iid N(0, variance/n) entries (`matrix W ~ N(0, c/n)`).
    Matrix {
        /// c in N(0, c/n), the σ_W² of the Master Theorem; c > 0.
        variance: f64,
    },
    /// A group of initial vectors, jointly Gaussian per coordinate (`vector u, v ~ N(mu, C)`).
    Group {
        /// The mean of each member.
        mean: Vec<f64>,
        /// The covariance between members, row-major, `members × members`, symmetric PSD.
        covariance: Vec<f64>,
    },
    /// Member `member` of a group (one per name in a `vector` declaration).
    InitVector {
        /// The group.
        group: GroupId,
        /// Position in the group.
        member: u32,
    },
    /// An initial scalar with a known limit (`scalar y = 1.0`).
    InitScalar {
        /// Its limit.
        value: f64,
    },
    /// `W x` or `Wᵀ x` (`W @ x`, `W.T @ x`).
    MatMul {
        /// The matrix.
        matrix: MatrixId,
        /// Whether it is `Wᵀ`.
        transposed: bool,
        /// The vector multiplied.
        arg: VectorId,
    },
    /// A coordinatewise function of vectors and scalars (Nonlin+).
    Nonlin {
        /// The function, over vector and scalar leaves.
        expr: Expr,
    },
    /// `(1/n) Σ_α ψ(…)_α` (`mean(…)`).
    Moment {
        /// The coordinatewise function averaged.
        expr: Expr,
    },
    /// Arithmetic on scalars: a Moment without vector arguments.
    ScalarOp {
        /// The expression, over scalar leaves only.
        expr: Expr,
    },
}

impl Op {
    /// What the operation defines.
    pub fn kind(&self) -> Kind {
        match self {
            Op::Matrix { .. } => Kind::Matrix,
            Op::Group { .. } => Kind::Group,
            Op::InitVector { .. } | Op::MatMul { .. } | Op::Nonlin { .. } => Kind::Vector,
            Op::InitScalar { .. } | Op::Moment { .. } | Op::ScalarOp { .. } => Kind::Scalar,
        }
    }
}

/// An indexed family of program names (`h[i]`, `K[i, j]`), in definition order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Family {
    /// The base name.
    pub name: Arc<str>,
    /// What its members are.
    pub kind: Kind,
    /// Each member's index and defining instruction.
    pub members: Vec<(Box<[i64]>, usize)>,
}

/// A checked Tensor Program.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Program {
    /// The name of the width symbol (`n` unless `width` renames it).
    pub width: Arc<str>,
    /// The instructions, in program order.
    pub instructions: Vec<Instruction>,
    /// The scalars reported by `eval` and `simulate`, in order.
    pub outputs: Vec<ScalarId>,
    /// The indexed families of names.
    pub families: Vec<Family>,
    /// Index spaces lowered once per representative member; `None` for a fully unrolled
    /// program.
    #[serde(skip)]
    pub parallel: Option<Arc<ParallelSpaces>>,
    /// The largest size (nodes and terms) its derived limit may reach
    /// ([`LowerOptions::max_limit_nodes`]).
    #[serde(skip)]
    pub max_limit_nodes: usize,
}

/// The parallel index spaces of a program lowered by representatives (see
/// [`LowerOptions::parallel`]): every family indexed by such a space was lowered for the
/// space's first few members only, each standing for every member with the same equality
/// pattern (`K[0, 1]` for every `K[i, j]` with `i < j`, `K[0, 0]` for the diagonal).
#[derive(Clone, Debug, PartialEq)]
pub struct ParallelSpaces {
    /// The spaces.
    pub spaces: Vec<IndexSpace>,
    /// The space of each dimension of each family (`None`: sequential, unrolled), by base name.
    pub family_dims: std::collections::HashMap<Arc<str>, Vec<Option<usize>>>,
    /// The full law of each initial group with representative members.
    pub groups: Vec<GroupData>,
    /// Scalars read from a constant at indices of representative members (`K1[i, j]`).
    pub data_scalars: Vec<DataScalar>,
}

/// An initial scalar of a program lowered by representatives whose value is an entry of a
/// constant at the members' indices: its value for other members is read from the constant.
#[derive(Clone, Debug, PartialEq)]
pub struct DataScalar {
    /// The `InitScalar` instruction.
    pub instruction: usize,
    /// The constant.
    pub data: Arc<ndarray::ArrayD<f64>>,
    /// Each index of the entry.
    pub index: Vec<DataIndex>,
}

/// One index of a [`DataScalar`]'s entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataIndex {
    /// A fixed index.
    Fixed(usize),
    /// The member standing for representative `rep` of space `space`.
    Member {
        /// The index space.
        space: usize,
        /// The representative.
        rep: usize,
    },
}

/// One parallel index space.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexSpace {
    /// Its size `N`: its indices run over `0..N`.
    pub size: usize,
    /// Representatives lowered: the members `0..representatives`.
    pub representatives: usize,
}

/// The full law of an initial group whose members were lowered by representatives.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupData {
    /// The group instruction.
    pub group: GroupId,
    /// The mean of every actual member.
    pub mean: Arc<Vec<f64>>,
    /// The covariance of the actual members.
    pub covariance: GroupCovariance,
    /// For each representative member of the group: where its actual row is.
    pub rows: Vec<MemberRow>,
}

/// The covariance of a group's actual members.
#[derive(Clone, Debug, PartialEq)]
pub enum GroupCovariance {
    /// `variance · I`.
    Iid(f64),
    /// A dense matrix.
    Dense(Arc<ndarray::Array2<f64>>),
}

impl GroupCovariance {
    /// Entry `(a, b)`.
    pub fn get(&self, a: usize, b: usize) -> f64 {
        match self {
            GroupCovariance::Iid(v) => {
                if a == b {
                    *v
                } else {
                    0.0
                }
            }
            GroupCovariance::Dense(m) => m[[a, b]],
        }
    }
}

/// The actual row of a representative group member: `offset + Σ stride · (actual index of
/// representative rep of space)`.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberRow {
    /// The row when every parallel index is 0.
    pub offset: usize,
    /// `(space, representative, stride)` per parallel dimension.
    pub terms: Vec<(usize, usize, usize)>,
}

impl Program {
    /// The instruction a handle refers to.
    pub fn get<T>(&self, handle: Handle<T>) -> &Instruction {
        &self.instructions[handle.index()]
    }

    /// A printable name for an instruction: its program name, or `%i` for a temporary.
    pub fn display_name(&self, index: usize) -> String {
        match &self.instructions[index].name {
            Some(name) => name.to_string(),
            None => format!("%{index}"),
        }
    }

    /// Iterates over the instructions with their positions.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Instruction)> {
        self.instructions.iter().enumerate()
    }
}
