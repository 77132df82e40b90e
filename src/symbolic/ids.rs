//! Typed handles: atoms, limit scalars and arena nodes.

use serde::Serialize;

/// An opaque Gaussian atom: the atom `Z^v` of an initial vector or the atom `Ẑ^{Mx}` of a
/// MatMul instruction. The `limit` module assigns the numbers; this module only compares them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AtomId(pub u32);

/// An opaque deterministic limit scalar `θ°` (an initial scalar's limit or a Moment's limit).
/// Scalars are constants with respect to every atom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ScalarId(pub u32);

/// A node of an [`Arena`](super::Arena). Children always have smaller ids than their parents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ExprId(pub(super) u32);

impl ExprId {
    /// The position of the node in its arena (ids are dense, starting at 0).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}
