//! placeholder
mod arena;
mod construct;
mod diff;
mod ids;
mod json;
mod node;
mod print;
mod tape;
pub use arena::Arena;
pub use ids::{AtomId, ExprId, ScalarId};
pub use node::Node;
pub use print::{format_number, NumberedSymbols, Printed, Style, Symbols};
pub use tape::Tape;
