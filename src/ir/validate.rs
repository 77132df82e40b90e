//! The IR validator: every operand refers to an earlier instruction of the right kind.

use super::{ExprNode, Kind, Op, Program};
use std::fmt;

/// A broken IR invariant (a bug in whatever built the program, never a user error).
#[derive(Clone, Debug, PartialEq)]
pub struct ValidationError {
    /// The offending instruction.
    pub instruction: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "instruction %{}: {}", self.instruction, self.message)
    }
}

impl std::error::Error for ValidationError {}

/// Checks the arena invariants once, so later passes may index without checks:
/// operands are earlier instructions of the kind their handle type promises, group members
/// exist, covariances are square, expressions are in dependency order, scalar arithmetic
/// reads no vectors, and outputs are scalars.
pub fn validate(program: &Program) -> Result<(), ValidationError> {
    for (i, instruction) in program.iter() {
        let fail = |message: String| ValidationError {
            instruction: i,
            message,
        };
        let expect = |operand: usize, kind: Kind| -> Result<(), ValidationError> {
            if operand >= i {
                return Err(fail(format!("operand %{operand} is not earlier")));
            }
            let found = program.instructions[operand].op.kind();
            if found != kind {
                return Err(fail(format!(
                    "operand %{operand} is a {found:?}, expected a {kind:?}"
                )));
            }
            Ok(())
        };
        match &instruction.op {
            Op::Matrix { variance } => {
                if !(*variance > 0.0 && variance.is_finite()) {
                    return Err(fail(format!("matrix variance {variance} is not positive")));
                }
            }
            Op::Group { mean, covariance } => {
                if mean.is_empty() || covariance.len() != mean.len() * mean.len() {
                    return Err(fail("group covariance is not members × members".into()));
                }
            }
            Op::InitVector { group, member } => {
                expect(group.index(), Kind::Group)?;
                if let Op::Group { mean, .. } = &program.get(*group).op {
                    if *member as usize >= mean.len() {
                        return Err(fail(format!("group has no member {member}")));
                    }
                }
            }
            Op::InitScalar { .. } => {}
            Op::MatMul { matrix, arg, .. } => {
                expect(matrix.index(), Kind::Matrix)?;
                expect(arg.index(), Kind::Vector)?;
            }
            Op::Nonlin { expr } | Op::Moment { expr } | Op::ScalarOp { expr } => {
                if expr.nodes.is_empty() {
                    return Err(fail("empty expression".into()));
                }
                for (position, node) in expr.nodes.iter().enumerate() {
                    if node.children().any(|c| c >= position) {
                        return Err(fail(format!(
                            "expression node {position} uses a later node"
                        )));
                    }
                    match node {
                        ExprNode::Vector { id } => {
                            if matches!(instruction.op, Op::ScalarOp { .. }) {
                                return Err(fail("scalar arithmetic reads a vector".into()));
                            }
                            expect(id.index(), Kind::Vector)?;
                        }
                        ExprNode::Scalar { id } => expect(id.index(), Kind::Scalar)?,
                        _ => {}
                    }
                }
            }
        }
    }
    for output in &program.outputs {
        let kind = program
            .instructions
            .get(output.index())
            .map(|i| i.op.kind());
        if kind != Some(Kind::Scalar) {
            return Err(ValidationError {
                instruction: output.index(),
                message: "output is not a scalar".into(),
            });
        }
    }
    Ok(())
}
