//! Finite-width simulation: run a checked program literally at width n (docs/derivation.md, “At finite width”).
//!
//! [`simulate`] samples the initial matrices (iid N(0, c/n) entries) and the Gaussian groups
//! (N(mean, C) per coordinate), then evaluates every instruction in order: MatMul as a dense
//! O(n²) matrix–vector product (`Wᵀ x` without forming Wᵀ), Nonlin coordinatewise, Moment as
//! the average over coordinates. Every scalar of the program is then one draw of a random
//! variable that converges to its Master Theorem limit as n → ∞, with O(n^{-1/2})
//! fluctuations in practice (§7.4). [`simulate_many`] repeats this over seeds and widths in
//! parallel, and [`stats`] summarizes the runs (mean ± standard error, RMS error around a
//! limit, log-log slope of the error against n).
//!
//! **Reproducibility.** Each instruction draws from its own ChaCha8 streams, keyed by
//! (seed, instruction index) and, for a matrix, the row; Gaussians come from rand_distr's
//! `StandardNormal`. Products and averages fix their floating-point summation order, so a
//! (program, width, seed) gives the same bits whatever the thread count or evaluation order.
//! Across machines the bits agree as far as the platform's `exp`, `ln` and `tanh` agree (the
//! Gaussian sampler's rare rejection steps and several built-ins call the system libm).
//!
//! **Errors.** A NaN or ±∞ anywhere stops the run with [`SimulationError::NotFinite`],
//! naming the instruction and its source span.

mod error;
mod kernels;
mod liveness;
mod many;
mod random;
mod run;
mod sample;
pub mod stats;
mod table;

pub use error::SimulationError;
pub(crate) use many::run_many;
pub use many::{simulate_many, Runs};
pub use run::{simulate, simulate_observed};
pub use sample::Sample;
pub use table::{report_order, simulation_table, OutputTable, WidthRow};

/// The largest width a simulation accepts: a run stores every n×n weight matrix in memory
/// (8 n² bytes each, 8 GiB at this width).
pub const MAX_WIDTH: usize = 1 << 15;
