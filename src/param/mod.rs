//! abc-parametrizations of MLPs and their classification (docs/parametrizations.md; TP4 §3, §5).
//!
//! An [`Abc`] gives, for an L-hidden-layer MLP, the exponents of the width n in each layer's
//! multiplier (`a`), initialization (`b`) and the SGD learning rate (`c`). [`classify`] computes
//! the exponent r and applies TP4's theorems: stability, nontriviality, feature learning versus
//! the kernel regime, which layers learn features and which are updated maximally, and which
//! kernel a kernel-regime limit follows. The theorems are proved for SGD; for Adam,
//! [`classify_adam`] checks only stability at initialization and the maximal-update conditions
//! derived in docs/parametrizations.md.
//!
//! Two generators write Tensor Programs: [`generate_mlp`], SGD training of an abc-parametrized
//! MLP, and [`generate_kernel`], the NNGP and NTK kernel matrices of a fully connected network
//! over a data file.
//!
//! Exponents are exact rationals; arithmetic is overflow-checked and reports
//! [`ParamError::Overflow`] instead of panicking.

mod abc;
mod adam;
mod classify;
mod cnn_gen;
mod gen;
mod kernel_gen;
mod report;
mod resnet_gen;
mod transformer_gen;

pub use abc::{parse_exponent, Abc, Exponent, ParamError, Preset};
pub use adam::{classify_adam, AdamAbc, AdamClassification, AdamLayer};
pub use classify::{classify, Classification, Condition, Kernel, Maximal, Part, Relation};
pub use cnn_gen::{generate_cnn, CnnSpec, Padding};
pub use gen::{generate_mlp, GenError, Loss, MlpSpec};
pub use kernel_gen::{generate_kernel, KernelSpec};
pub use resnet_gen::{generate_resnet, ResnetSpec};
pub use transformer_gen::{generate_transformer, TransformerSpec};
