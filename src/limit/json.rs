//! The limit as JSON: atoms, families with covariance entries, scalars, Z definitions, Ż
//! coefficients and moments as expression trees, each with its source line.

use super::display::{source_line, Names};
use super::*;
use serde_json::{json, Value};

/// The limit as a JSON document (schema in `docs/derivation.md`).
pub fn to_json(limit: &Limit, source: &str) -> Value {
    let names = Names::new(limit);
    let tree = |e: ExprId| limit.arena.to_json(e, &names);
    let line = |instruction: usize| {
        limit
            .equations
            .iter()
            .find(|e| e.instruction == instruction)
            .map(|e| source_line(source, e.span).0)
    };
    let atoms: Vec<Value> = limit
        .atoms
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let id = AtomId(i as u32);
            let name = crate::symbolic::Symbols::atom(&names, id, crate::symbolic::Style::Text);
            match &a.kind {
                AtomKind::Initial { group, member } => json!({
                    "id": i, "name": name, "kind": "initial", "group": group.index(),
                    "member": member, "line": line(a.instruction),
                }),
                AtomKind::Hat { family, arg, arg_z } => json!({
                    "id": i, "name": name, "kind": "hat", "family": family,
                    "vector": limit.names[arg.index()], "vector_z": tree(*arg_z),
                    "line": line(a.instruction),
                }),
            }
        })
        .collect();
    let families: Vec<Value> = limit
        .families
        .iter()
        .map(|f| {
            json!({
                "matrix": limit.names[f.matrix.index()],
                "transposed": f.transposed,
                "sigma2": f.sigma2,
                "atoms": f.atoms.iter().map(|a| a.0).collect::<Vec<_>>(),
                "covariance": f.covariance.iter().map(|c| json!({
                    "a": c.a.0, "b": c.b.0, "sigma2_times_expectation_of": tree(c.integrand),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let scalars: Vec<Value> = limit
        .scalars
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let name = crate::symbolic::Symbols::scalar(
                &names,
                ScalarId(i as u32),
                crate::symbolic::Style::Text,
            );
            let definition = match s.definition {
                ScalarDefinition::Given(v) => json!({"given": v}),
                ScalarDefinition::Expectation(e) => json!({"expectation": tree(e)}),
                ScalarDefinition::Deterministic(e) => json!({"deterministic": tree(e)}),
            };
            let role = match s.role {
                ScalarRole::Instruction(instruction) => json!({
                    "instruction": limit.names[instruction], "line": line(instruction),
                }),
                ScalarRole::ZDotCoefficient {
                    instruction, atom, ..
                } => json!({
                    "zdot_coefficient_of": limit.names[instruction], "atom": atom.0,
                    "line": line(instruction),
                }),
            };
            json!({"id": i, "name": name, "definition": definition, "role": role})
        })
        .collect();
    let mut vectors = Vec::new();
    for eq in &limit.equations {
        let (line, text) = source_line(source, eq.span);
        match &eq.kind {
            EquationKind::Nonlin { z } => vectors.push(json!({
                "name": limit.names[eq.instruction], "line": line, "source": text,
                "kind": "nonlin", "z": tree(*z),
            })),
            EquationKind::MatMul {
                hat, x, zdot, z, ..
            } => vectors.push(json!({
                "name": limit.names[eq.instruction], "line": line, "source": text,
                "kind": "matmul", "hat": hat.0, "vector": limit.names[x.index()],
                "zdot": zdot.iter().map(|t| json!({
                    "atom": t.atom.0, "u": limit.names[t.u.index()],
                    "derivative": tree(t.derivative), "coefficient": tree(t.coefficient),
                })).collect::<Vec<_>>(),
                "z": tree(*z),
            })),
            EquationKind::Initial { atoms, .. } => {
                for a in atoms {
                    let i = limit.atoms[a.0 as usize].instruction;
                    vectors.push(json!({
                        "name": limit.names[i], "line": line, "source": text,
                        "kind": "initial", "z": {"op": "atom", "id": a.0},
                    }));
                }
            }
            EquationKind::InitialScalar { .. } | EquationKind::Scalar { .. } => {}
        }
    }
    let vanished: Vec<Value> = limit
        .vanished
        .iter()
        .map(|v| {
            json!({
                "instruction": limit.names[v.instruction], "atom": v.atom.0,
                "derivative": tree(v.derivative), "odd_in_group": v.flipped.index(),
            })
        })
        .collect();
    json!({
        "atoms": atoms,
        "families": families,
        "scalars": scalars,
        "vectors": vectors,
        "outputs": limit.outputs.iter().map(|s| s.0).collect::<Vec<_>>(),
        "zdot_vanishes": limit.zdot_vanishes(),
        "vanished_by_symmetry": vanished,
    })
}
