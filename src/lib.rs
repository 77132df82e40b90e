//! tpc — a compiler for Tensor Programs.

pub mod builtins;
pub mod symbolic;
