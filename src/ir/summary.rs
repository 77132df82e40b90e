//! Human-readable views of a program: one line per instruction, and the one-screen summary
//! that `tpc check` prints.

use super::expr::format_number;
use super::{ExprNode, Op, Program};
use serde::Serialize;
use std::fmt;

impl Program {
    /// The name of an expression leaf as it reads in the source.
    fn leaf_name(&self, node: &ExprNode) -> String {
        match node {
            ExprNode::Vector { id } => self.display_name(id.index()),
            ExprNode::Scalar { id } => self.display_name(id.index()),
            ExprNode::Width => self.width.to_string(),
            _ => String::new(),
        }
    }

    /// The right side of a MatMul, Nonlin, Moment or scalar instruction in source-like form
    /// (`W.T @ a`, `tanh(h)`, `mean(x * y)`), or `None` for a declaration.
    pub fn right_side(&self, i: usize) -> Option<String> {
        let leaf = |n: &ExprNode| self.leaf_name(n);
        match &self.instructions[i].op {
            Op::MatMul {
                matrix,
                transposed,
                arg,
            } => Some(format!(
                "{}{} @ {}",
                self.display_name(matrix.index()),
                if *transposed { ".T" } else { "" },
                self.display_name(arg.index())
            )),
            Op::Nonlin { expr } | Op::ScalarOp { expr } => Some(expr.format(&leaf)),
            Op::Moment { expr } => Some(format!("mean({})", expr.format(&leaf))),
            _ => None,
        }
    }

    /// One line describing instruction `i` in source-like form, e.g. `h = W.T @ a`.
    pub fn describe(&self, i: usize) -> String {
        let name = self.display_name(i);
        let instruction = &self.instructions[i];
        match &instruction.op {
            Op::Matrix { variance } => {
                format!(
                    "matrix {name} ~ N(0, {}/{})",
                    format_number(*variance),
                    self.width
                )
            }
            Op::Group { mean, .. } => {
                format!("group {name} of {} jointly Gaussian vectors", mean.len())
            }
            Op::InitVector { group, member } => match &self.get(*group).op {
                Op::Group { mean, covariance } => {
                    let k = mean.len();
                    let m = *member as usize;
                    format!(
                        "vector {name} ~ N({}, {})",
                        format_number(mean[m]),
                        format_number(covariance[m * k + m])
                    )
                }
                _ => format!("vector {name}"),
            },
            Op::InitScalar { value } => format!("scalar {name} = {}", format_number(*value)),
            Op::MatMul { .. } | Op::Nonlin { .. } | Op::ScalarOp { .. } | Op::Moment { .. } => {
                format!("{name} = {}", self.right_side(i).expect("an instruction"))
            }
        }
    }

    /// Counts of each kind of object and instruction.
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            width: self.width.to_string(),
            instructions: self.instructions.len(),
            ..Summary::default()
        };
        for (i, instruction) in self.iter() {
            match &instruction.op {
                Op::Matrix { variance } => s.matrices.push((self.display_name(i), *variance)),
                Op::Group { .. } => s.groups += 1,
                Op::InitVector { .. } => s.initial_vectors += 1,
                Op::InitScalar { .. } => s.initial_scalars += 1,
                Op::MatMul {
                    transposed: false, ..
                } => s.matmuls += 1,
                Op::MatMul {
                    transposed: true, ..
                } => s.transposed_matmuls += 1,
                Op::Nonlin { .. } => s.nonlins += 1,
                Op::Moment { .. } => s.moments += 1,
                Op::ScalarOp { .. } => s.scalar_ops += 1,
            }
        }
        s.parallel = self
            .parallel
            .iter()
            .flat_map(|p| p.spaces.iter().map(|s| (s.size, s.representatives)))
            .collect();
        s.outputs = self
            .outputs
            .iter()
            .map(|o| self.display_name(o.index()))
            .collect();
        s.families = self
            .families
            .iter()
            .map(|f| (f.name.to_string(), f.members.len()))
            .collect();
        s
    }
}

/// What `tpc check` reports about a program.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// The width symbol.
    pub width: String,
    /// Every instruction, including declarations and temporaries.
    pub instructions: usize,
    /// Matrices with their variance constant c (entries N(0, c/n)).
    pub matrices: Vec<(String, f64)>,
    /// Jointly Gaussian groups of initial vectors.
    pub groups: usize,
    /// Initial vectors.
    pub initial_vectors: usize,
    /// Initial scalars.
    pub initial_scalars: usize,
    /// `W @ x` instructions.
    pub matmuls: usize,
    /// `W.T @ x` instructions.
    pub transposed_matmuls: usize,
    /// Nonlin instructions.
    pub nonlins: usize,
    /// Moment instructions.
    pub moments: usize,
    /// Scalar arithmetic instructions.
    pub scalar_ops: usize,
    /// Indexed families and their sizes.
    pub families: Vec<(String, usize)>,
    /// The outputs.
    pub outputs: Vec<String>,
    /// Parallel index spaces lowered by representatives: (members, representatives).
    pub parallel: Vec<(usize, usize)>,
}

fn list(f: &mut fmt::Formatter<'_>, items: &[String], limit: usize) -> fmt::Result {
    if items.is_empty() {
        return f.write_str("none");
    }
    let shown = items
        .iter()
        .take(limit)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > limit {
        write!(f, "{shown}, … ({} in all)", items.len())
    } else {
        f.write_str(&shown)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "width        {}", self.width)?;
        let matrices: Vec<String> = self
            .matrices
            .iter()
            .map(|(n, c)| format!("{n} ~ N(0, {}/{})", format_number(*c), self.width))
            .collect();
        write!(f, "matrices     {}: ", matrices.len())?;
        list(f, &matrices, 8)?;
        writeln!(f)?;
        writeln!(
            f,
            "initial      {} vector(s) in {} Gaussian group(s), {} scalar(s)",
            self.initial_vectors, self.groups, self.initial_scalars
        )?;
        for (size, representatives) in &self.parallel {
            writeln!(
                f,
                "parallel     an index space of {size} members, lowered by its first {representatives} \
                 (each stands for every member in the same position; `eval` computes arrays)"
            )?;
        }
        writeln!(
            f,
            "instructions {} in all: {} MatMul (W x), {} MatMul (Wᵀ x), {} Nonlin, {} Moment, {} scalar",
            self.instructions, self.matmuls, self.transposed_matmuls, self.nonlins, self.moments, self.scalar_ops
        )?;
        if !self.families.is_empty() {
            let families: Vec<String> = self
                .families
                .iter()
                .map(|(n, k)| format!("{n}[{k}]"))
                .collect();
            write!(f, "families     ")?;
            list(f, &families, 8)?;
            writeln!(f)?;
        }
        write!(f, "outputs      {}: ", self.outputs.len())?;
        list(f, &self.outputs, 12)?;
        writeln!(f)
    }
}
