//! tpc — a compiler for Tensor Programs.
//!
//! A Tensor Program (Greg Yang's NETSOR^T+) is a straight-line program of MatMul, Nonlin and
//! Moment instructions on width-n vectors. tpc parses `.tp` source, checks it, derives its
//! infinite-width limit symbolically, evaluates it, and runs it at finite width.
//!
//! The pipeline, one module per pass (see `docs/architecture.md`):
//!
//! ```text
//! source ─syntax::parse→ AST ─ir::lower→ IR ─limit::derive→ Limit ─eval::evaluate→ Evaluation
//!                                         └─simulate::simulate(width, seed)→ Sample
//! ```
//!
//! [`compile`] runs the front end: bytes in, a checked [`ir::Program`] or a [`Diagnostic`] out.
//! The library does no printing and no file I/O.

pub mod builtins;
pub mod coordcheck;
pub mod diagnostics;
pub mod eval;
pub mod ir;
pub mod limit;
pub mod linalg;
pub mod output;
pub mod param;
pub mod scaling;
pub mod simulate;
pub mod symbolic;
pub mod syntax;

pub use diagnostics::Diagnostic;

/// The front end: decodes, parses and lowers a program.
///
/// Never panics, whatever the input; every failure is a [`Diagnostic`] pointing into the
/// source (for bytes that are not UTF-8, into their lossy decoding).
pub fn compile(bytes: &[u8], options: &ir::LowerOptions) -> Result<ir::Program, Diagnostic> {
    let source =
        syntax::decode(bytes).map_err(|e| e.to_diagnostic(&String::from_utf8_lossy(bytes)))?;
    let ast = syntax::parse(source).map_err(|e| e.to_diagnostic(source))?;
    ir::lower(&ast, options).map_err(|e| e.to_diagnostic())
}
