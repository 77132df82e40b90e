//! `simulate`: one run of a program at width n.

use super::kernels::{Dense, Leaves};
use super::liveness::Liveness;
use super::random::{instruction_key, sample_group, sample_matrix};
use super::{Sample, SimulationError};
use crate::ir::{Op, Program};
use std::collections::HashMap;

/// Runs `program` literally at width `width` with randomness from `seed` (docs/derivation.md, “At finite width”).
///
/// Matrices get iid N(0, c/n) entries, each Gaussian group N(mean, C) per coordinate (C may
/// be singular), and every instruction is then evaluated in program order; `ExprNode::Width`
/// is n. The result holds every scalar.
///
/// **Reproducible:** the same (program, width, seed) gives bit-identical results on any
/// thread count (see [`super`] for how the streams are derived).
///
/// **Memory:** a matrix is sampled at its first MatMul and freed after its last; a vector or
/// group is freed after its last use. Peak memory is therefore the largest, over program
/// points, of 8n² bytes per live matrix plus 8n bytes per live vector; for a program whose
/// matrices are all in use at once, one n×n matrix per distinct matrix.
///
/// Fails with [`SimulationError::NotFinite`] at the first instruction producing NaN or ±∞,
/// and with [`SimulationError::ZeroWidth`] if `width` is 0.
pub fn simulate(program: &Program, width: usize, seed: u64) -> Result<Sample, SimulationError> {
    simulate_observed(program, width, seed, &mut |_, _| {})
}

/// [`simulate`], calling `observe(i, x)` with the coordinates `x` of every vector
/// instruction `i` (initial vectors, MatMuls, Nonlins) as soon as it is computed, in program
/// order.
///
/// The run is the same as [`simulate`]'s, bit for bit, and so is its memory: the observer
/// sees each vector before it can be freed and keeps only what it copies. A vector that is
/// not finite fails the run before it is observed.
pub fn simulate_observed(
    program: &Program,
    width: usize,
    seed: u64,
    observe: &mut dyn FnMut(usize, &[f64]),
) -> Result<Sample, SimulationError> {
    if width == 0 {
        return Err(SimulationError::ZeroWidth);
    }
    let count = program.instructions.len();
    let liveness = Liveness::of(program);
    let mut vectors: Vec<Option<Vec<f64>>> = vec![None; count];
    let mut scalars: Vec<Option<f64>> = vec![None; count];
    let mut matrices: HashMap<usize, Dense> = HashMap::new();
    let mut groups: HashMap<usize, Vec<Vec<f64>>> = HashMap::new();

    for (i, instruction) in program.iter() {
        let finite = match &instruction.op {
            Op::Matrix { .. } => true,
            Op::Group { mean, covariance } => {
                let members = sample_group(instruction_key(seed, i), width, mean, covariance);
                groups.insert(i, members);
                true
            }
            Op::InitVector { group, member } => {
                let members = &groups[&group.index()];
                vectors[i] = Some(members[*member as usize].clone());
                true
            }
            Op::InitScalar { value } => {
                scalars[i] = Some(*value);
                value.is_finite()
            }
            Op::MatMul {
                matrix,
                transposed,
                arg,
            } => {
                let w = matrices.entry(matrix.index()).or_insert_with(|| {
                    let Op::Matrix { variance } = program.get(*matrix).op else {
                        unreachable!("a MatrixId names a matrix instruction")
                    };
                    sample_matrix(instruction_key(seed, matrix.index()), width, variance)
                });
                let x = vectors[arg.index()].as_ref().expect("a live vector");
                let y = if *transposed {
                    w.transpose_mul_vec(x)
                } else {
                    w.mul_vec(x)
                };
                let finite = all_finite(&y);
                vectors[i] = Some(y);
                finite
            }
            Op::Nonlin { expr } => {
                let y = Leaves::new(&vectors, &scalars, width).coordinatewise(expr);
                let finite = all_finite(&y);
                vectors[i] = Some(y);
                finite
            }
            Op::Moment { expr } => {
                let value = Leaves::new(&vectors, &scalars, width).average(expr);
                scalars[i] = Some(value);
                value.is_finite()
            }
            Op::ScalarOp { expr } => {
                let value = Leaves::new(&vectors, &scalars, width).scalar(expr);
                scalars[i] = Some(value);
                value.is_finite()
            }
        };
        if !finite {
            return Err(SimulationError::NotFinite {
                instruction: i,
                span: instruction.span,
                name: program.display_name(i),
            });
        }
        if let Some(x) = &vectors[i] {
            observe(i, x);
        }
        for &dead in liveness.dying_at(i) {
            vectors[dead] = None;
            matrices.remove(&dead);
            groups.remove(&dead);
        }
    }
    Ok(Sample::new(width, seed, scalars, program.outputs.clone()))
}

/// Whether every coordinate is a finite number.
fn all_finite(values: &[f64]) -> bool {
    values.iter().all(|v| v.is_finite())
}
