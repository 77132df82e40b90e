//! When each value can be freed: after its last use in program order.

use crate::ir::{dependency_graph, Kind, Program};
use petgraph::graph::NodeIndex;
use petgraph::Direction;

/// For every instruction, the matrices, groups and vectors whose last use it is.
///
/// A value that is never used dies at its own instruction. Scalars are never listed: they
/// are kept for the [`super::Sample`].
pub(super) struct Liveness {
    dying: Vec<Vec<usize>>,
}

impl Liveness {
    /// Computes the last uses from the dependency graph.
    pub(super) fn of(program: &Program) -> Liveness {
        let graph = dependency_graph(program);
        let mut dying = vec![Vec::new(); program.instructions.len()];
        for (i, instruction) in program.iter() {
            if instruction.op.kind() == Kind::Scalar {
                continue;
            }
            let last = graph
                .neighbors_directed(NodeIndex::new(i), Direction::Outgoing)
                .map(|user| user.index())
                .max()
                .unwrap_or(i);
            dying[last].push(i);
        }
        Liveness { dying }
    }

    /// The values last used by instruction `i`.
    pub(super) fn dying_at(&self, i: usize) -> &[usize] {
        &self.dying[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_die_at_their_last_use() {
        let source = "matrix W ~ N(0, 1/n)\nvector x ~ N(0, 1)\nh = W @ x\ny = W.T @ h\n\
                      k = mean(x * y)\nz = tanh(h)\noutput k\n";
        let program = crate::compile(source.as_bytes(), &Default::default()).unwrap();
        let liveness = Liveness::of(&program);
        let index = |name: &str| {
            (0..program.instructions.len())
                .find(|&i| program.display_name(i) == name)
                .unwrap()
        };
        let at = |name: &str| liveness.dying_at(index(name)).to_vec();
        assert!(at("y").contains(&index("W")));
        assert!(at("k").contains(&index("x")) && at("k").contains(&index("y")));
        assert!(at("z").contains(&index("h")) && at("z").contains(&index("z")));
        assert!(at("k").iter().all(|&i| program.display_name(i) != "k"));
    }
}
