//! placeholder
mod arena;
mod construct;
mod diff;
mod ids;
mod node;
mod tape;
pub use arena::Arena;
pub use ids::{AtomId, ExprId, ScalarId};
pub use node::Node;
pub use tape::Tape;
