//! The dependency graph of a program (petgraph), built from the arena on demand.

use super::{ExprNode, Op, Program};
use petgraph::graph::{DiGraph, NodeIndex};

/// Instructions as nodes (weight: position in the arena), an edge from each operand to its
/// user. Node `i` of the graph is instruction `i`.
pub type DependencyGraph = DiGraph<usize, ()>;

/// The operands of instruction `i`, in order, without repeats.
pub fn operands(program: &Program, i: usize) -> Vec<usize> {
    let mut out = match &program.instructions[i].op {
        Op::Matrix { .. } | Op::Group { .. } | Op::InitScalar { .. } => Vec::new(),
        Op::InitVector { group, .. } => vec![group.index()],
        Op::MatMul { matrix, arg, .. } => vec![matrix.index(), arg.index()],
        Op::Nonlin { expr } | Op::Moment { expr } | Op::ScalarOp { expr } => expr
            .nodes
            .iter()
            .filter_map(|n| match n {
                ExprNode::Vector { id } => Some(id.index()),
                ExprNode::Scalar { id } => Some(id.index()),
                _ => None,
            })
            .collect(),
    };
    let mut seen = std::collections::HashSet::new();
    out.retain(|x| seen.insert(*x));
    out
}

/// Builds the dependency graph.
pub fn dependency_graph(program: &Program) -> DependencyGraph {
    let mut graph = DiGraph::with_capacity(program.instructions.len(), program.instructions.len());
    for i in 0..program.instructions.len() {
        graph.add_node(i);
    }
    for i in 0..program.instructions.len() {
        for operand in operands(program, i) {
            graph.add_edge(NodeIndex::new(operand), NodeIndex::new(i), ());
        }
    }
    graph
}

/// The dependency graph in Graphviz DOT, one node per instruction labelled with its source form.
pub fn to_dot(program: &Program) -> String {
    let graph = dependency_graph(program);
    let edge_attributes = |_, _| String::new();
    let node_attributes = |_, (_, &i): (NodeIndex, &usize)| {
        let shape = match program.instructions[i].op {
            Op::Matrix { .. } => "box",
            Op::Group { .. } | Op::InitVector { .. } | Op::InitScalar { .. } => "invhouse",
            Op::Moment { .. } | Op::ScalarOp { .. } => "ellipse",
            _ => "oval",
        };
        let label = program
            .describe(i)
            .replace('\\', "\\\\")
            .replace('"', "\\\"");
        format!("label = \"{label}\" shape = {shape}")
    };
    let dot = petgraph::dot::Dot::with_attr_getters(
        &graph,
        &[
            petgraph::dot::Config::EdgeNoLabel,
            petgraph::dot::Config::NodeNoLabel,
        ],
        &edge_attributes,
        &node_attributes,
    );
    format!("{dot:?}")
}
