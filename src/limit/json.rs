//! The limit as JSON: atoms, families with covariance entries, scalars, Z definitions, Ż
//! coefficients and moments, each with its source line. Expressions are given as one shared
//! DAG (`nodes`, children before parents) and referred to by node id, so the document stays
//! linear in the size of the limit however much the expressions share.

use super::display::{Names, SourceLines};
use super::*;
use crate::symbolic::{Node, Style, Symbols};
use serde_json::{json, Value};

/// One arena node as JSON, with children as node ids.
fn node_json(limit: &Limit, names: &Names, id: ExprId) -> Value {
    let number = |x: f64| {
        if x.is_finite() {
            json!(x)
        } else {
            json!(x.to_string())
        }
    };
    match limit.arena.node(id) {
        Node::Const(c) => json!({"id": id.index(), "op": "const", "value": number(*c)}),
        Node::Atom(a) => {
            json!({"id": id.index(), "op": "atom", "atom": a.0, "name": names.atom(*a, Style::Text)})
        }
        Node::Scalar(s) => {
            json!({"id": id.index(), "op": "scalar", "scalar": s.0, "name": names.scalar(*s, Style::Text)})
        }
        Node::Apply { f, order, arg } => {
            json!({"id": id.index(), "op": "apply", "f": f.name(), "order": order, "arg": arg.index()})
        }
        Node::Sum { constant, terms } => json!({
            "id": id.index(), "op": "add", "constant": number(*constant),
            "terms": terms.iter().map(|(e, c)| json!({"coef": number(*c), "expr": e.index()})).collect::<Vec<_>>(),
        }),
        Node::Product { factors } => json!({
            "id": id.index(), "op": "mul",
            "factors": factors.iter().map(|(b, e)| json!({"base": b.index(), "exponent": number(*e)})).collect::<Vec<_>>(),
        }),
    }
}

/// The limit as a JSON document (schema in `docs/derivation.md`).
pub fn to_json(limit: &Limit, source: &str) -> Value {
    let names = Names::new(limit);
    let (nodes, fields) = document(limit, source, &names);
    let mut map = serde_json::Map::new();
    map.insert(
        "nodes".into(),
        nodes
            .into_iter()
            .map(|id| node_json(limit, &names, id))
            .collect(),
    );
    map.extend(fields.into_iter().map(|(k, v)| (k.to_string(), v)));
    Value::Object(map)
}

/// Writes the document of [`to_json`], pretty-printed, without holding it in memory: the
/// nodes of a long training program's DAG are written one at a time.
pub fn write_json<W: std::io::Write>(
    limit: &Limit,
    source: &str,
    mut out: W,
) -> std::io::Result<()> {
    let names = Names::new(limit);
    let (nodes, fields) = document(limit, source, &names);
    // A nested value pretty-prints as it would inside the document once its lines are
    // indented; JSON strings escape their newlines, so every newline is a line break.
    let indented = |value: &Value, depth: usize| {
        let text = serde_json::to_string_pretty(value).expect("JSON serializes");
        text.replace('\n', &format!("\n{}", "  ".repeat(depth)))
    };
    out.write_all(b"{\n  \"nodes\": [")?;
    for (k, id) in nodes.into_iter().enumerate() {
        let separator = if k == 0 { "\n" } else { ",\n" };
        write!(
            out,
            "{separator}    {}",
            indented(&node_json(limit, &names, id), 2)
        )?;
    }
    out.write_all(b"\n  ]")?;
    for (key, value) in &fields {
        write!(out, ",\n  \"{key}\": {}", indented(value, 1))?;
    }
    out.write_all(b"\n}\n")?;
    out.flush()
}

/// The document's fields but its nodes, and the nodes they refer to (children first).
fn document(
    limit: &Limit,
    source: &str,
    names: &Names,
) -> (Vec<ExprId>, Vec<(&'static str, Value)>) {
    let lines = SourceLines::new(source);
    let roots = std::cell::RefCell::new(Vec::new());
    let tree = |e: ExprId| {
        roots.borrow_mut().push(e);
        json!(e.index())
    };
    let line = |instruction: usize| limit.equation_of(instruction).map(|e| lines.line(e.span).0);
    let atoms: Vec<Value> = limit
        .atoms
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let id = AtomId(i as u32);
            let name = names.atom(id, Style::Text);
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
                names,
                ScalarId(i as u32),
                crate::symbolic::Style::Text,
            );
            let definition = match s.definition {
                ScalarDefinition::Given(v) => json!({"given": v}),
                ScalarDefinition::Expectation(e) => json!({"expectation": tree(e)}),
                ScalarDefinition::Deterministic(e) => json!({"deterministic": tree(e)}),
                ScalarDefinition::SteinSolution { solve, index } => {
                    json!({"stein_solution": {"solve": solve, "index": index}})
                }
                ScalarDefinition::ExpectedDerivative { z, atom } => {
                    json!({"expected_derivative": {"of": tree(z), "atom": atom.0}})
                }
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
                ScalarRole::SteinMoment {
                    instruction, atom, ..
                } => json!({
                    "stein_moment_of": limit.names[instruction], "atom": atom.0,
                    "line": line(instruction),
                }),
                ScalarRole::SteinCoefficient {
                    instruction, atom, ..
                } => json!({
                    "stein_coefficient_of": limit.names[instruction], "atom": atom.0,
                    "line": line(instruction),
                }),
            };
            json!({"id": i, "name": name, "definition": definition, "role": role})
        })
        .collect();
    let mut vectors = Vec::new();
    for eq in &limit.equations {
        let (line, text) = lines.line(eq.span);
        match &eq.kind {
            EquationKind::Nonlin { z } => vectors.push(json!({
                "name": limit.names[eq.instruction], "line": line, "source": text,
                "kind": "nonlin", "z": tree(*z),
            })),
            EquationKind::MatMul {
                hat,
                x,
                zdot,
                stein,
                z,
                ..
            } => vectors.push(json!({
                "name": limit.names[eq.instruction], "line": line, "source": text,
                "kind": "matmul", "hat": hat.0, "vector": limit.names[x.index()],
                "zdot": zdot.iter().map(|t| json!({
                    "atom": t.atom.0, "u": limit.names[t.u.index()],
                    "derivative": t.derivative.map(tree), "coefficient": tree(t.coefficient),
                })).collect::<Vec<_>>(),
                "stein": stein,
                "z": tree(*z),
            })),
            EquationKind::Initial { atoms, .. } => {
                for a in atoms {
                    let i = limit.atoms[a.0 as usize].instruction;
                    vectors.push(json!({
                        "name": limit.names[i], "line": line, "source": text,
                        "kind": "initial", "atom": a.0,
                    }));
                }
            }
            EquationKind::InitialScalar { .. } | EquationKind::Scalar { .. } => {}
        }
    }
    let stein: Vec<Value> = limit
        .stein
        .iter()
        .map(|s| {
            let family = &limit.families[s.family];
            let gram: Vec<Vec<Value>> = s
                .atoms
                .iter()
                .map(|&a| {
                    s.atoms
                        .iter()
                        .map(|&b| tree(family.integrand(a, b).expect("atoms of one family")))
                        .collect()
                })
                .collect();
            let b: Vec<Value> = s
                .moments
                .iter()
                .map(|m| match m {
                    SteinRhs::Expectation(scalar) => json!({"scalar": scalar.0}),
                    SteinRhs::Odd(group) => json!({"odd_in_group": group.index()}),
                })
                .collect();
            json!({
                "instruction": limit.names[s.instruction], "line": line(s.instruction),
                "vector": limit.names[s.x.index()], "family": s.family,
                "atoms": s.atoms.iter().map(|a| a.0).collect::<Vec<_>>(),
                "u": s.u.iter().map(|u| limit.names[u.index()].clone()).collect::<Vec<_>>(),
                "gram_expectation_of": gram, "b": b,
                "coefficients": s.coefficients.iter().map(|c| c.0).collect::<Vec<_>>(),
                "jump": s.jump.map(tree),
            })
        })
        .collect();
    let vanished: Vec<Value> = limit
        .vanished
        .iter()
        .map(|v| {
            let integrand = if v.stein {
                "stein_moment"
            } else {
                "derivative"
            };
            json!({
                "instruction": limit.names[v.instruction], "atom": v.atom.0,
                (integrand): v.integrand.map(tree), "odd_in_group": v.flipped.index(),
            })
        })
        .collect();
    let nodes = limit.arena.reachable(&roots.borrow());
    let fields = vec![
        ("atoms", Value::from(atoms)),
        ("families", Value::from(families)),
        ("scalars", Value::from(scalars)),
        ("vectors", Value::from(vectors)),
        (
            "outputs",
            json!(limit.outputs.iter().map(|s| s.0).collect::<Vec<_>>()),
        ),
        ("zdot_vanishes", json!(limit.zdot_vanishes())),
        ("stein", Value::from(stein)),
        ("vanished_by_symmetry", Value::from(vanished)),
    ];
    (nodes, fields)
}
