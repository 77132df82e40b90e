//! The derived limit: snapshots of every example program's equations (text and LaTeX), and
//! structural checks against the reference cases of `docs/reference-values.md`.

use std::path::Path;
use tpc::builtins::Builtin;
use tpc::ir::{LowerOptions, Program};
use tpc::limit::{self, EquationKind, Limit, LimitDisplay, LimitFormat, ScalarDefinition};
use tpc::symbolic::{AtomId, ExprId};

fn compile(source: &str) -> Program {
    tpc::compile(source.as_bytes(), &LowerOptions::default())
        .unwrap_or_else(|d| panic!("{}", d.render("test.tp", source)))
}

fn derive_file(path: &Path) -> (String, Program, Limit) {
    let source = std::fs::read_to_string(path).expect("program file");
    let program = compile(&source);
    let limit = limit::derive(&program)
        .unwrap_or_else(|e| panic!("{}", e.to_diagnostic().render("test.tp", &source)));
    (source, program, limit)
}

fn program_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("programs")
        .join(name)
}

/// The instruction defining `name`.
fn instruction(program: &Program, name: &str) -> usize {
    (0..program.instructions.len())
        .find(|&i| program.display_name(i) == name)
        .unwrap_or_else(|| panic!("no instruction named {name}"))
}

fn z(limit: &Limit, program: &Program, name: &str) -> ExprId {
    limit.z[instruction(program, name)].expect("a vector")
}

/// The ZHat atom a MatMul instruction uses.
fn hat(limit: &Limit, program: &Program, name: &str) -> AtomId {
    let i = instruction(program, name);
    limit
        .equations
        .iter()
        .find_map(|e| match &e.kind {
            EquationKind::MatMul { hat, .. } if e.instruction == i => Some(*hat),
            _ => None,
        })
        .expect("a MatMul equation")
}

#[test]
fn every_program_derives_and_its_equations_are_snapshotted() {
    insta::glob!("../programs", "*.tp", |path| {
        let (source, _, limit) = derive_file(path);
        let name = format!("programs/{}", path.file_name().unwrap().to_string_lossy());
        let text = LimitDisplay::new(&limit, &source, &name, LimitFormat::Text).to_string();
        insta::assert_snapshot!("text", text);
    });
}

/// What `tpc derive` prints by default for a relu network trained by SGD: Ż coefficients as
/// their definitions `E[∂Z^x/∂Ẑ]`, no derivative notes, the Stein form where relu' jumps.
#[test]
fn deferred_equations_of_a_training_program_are_snapshotted() {
    let path = program_path("relu_sgd_two_steps.tp");
    let source = std::fs::read_to_string(&path).unwrap();
    let limit = limit::derive_deferred(&compile(&source)).unwrap();
    let name = "programs/relu_sgd_two_steps.tp";
    let text = LimitDisplay::new(&limit, &source, name, LimitFormat::Text).to_string();
    insta::assert_snapshot!("deferred_relu_sgd_two_steps", text);
}

#[test]
fn every_program_has_a_latex_form_that_is_well_formed() {
    insta::glob!("../programs", "*.tp", |path| {
        let (source, _, limit) = derive_file(path);
        let name = format!("programs/{}", path.file_name().unwrap().to_string_lossy());
        let latex = LimitDisplay::new(&limit, &source, &name, LimitFormat::Latex).to_string();
        // Without a TeX installation, check what makes an align environment fail to compile:
        // balanced braces and \left/\right pairs, no double superscripts, no blank lines.
        let body: String = latex
            .lines()
            .filter(|l| !l.trim_start().starts_with('%'))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            body.starts_with("\\begin{align}") && body.ends_with("\\end{align}"),
            "{latex}"
        );
        let mut depth = 0i64;
        for c in body.chars() {
            depth += match c {
                '{' => 1,
                '}' => -1,
                _ => 0,
            };
            assert!(depth >= 0, "unbalanced braces in {name}");
        }
        assert_eq!(depth, 0, "unbalanced braces in {name}");
        assert_eq!(
            body.matches("\\left").count(),
            body.matches("\\right").count()
        );
        assert!(!body.contains("\n\n"), "blank line inside align in {name}");
        assert!(!body.contains("}^{2}^"), "double superscript in {name}");
        insta::assert_snapshot!("latex", latex);
    });
}

/// Case 4a: alternating W and Wᵀ on a linear chain, σ² = 1.
#[test]
fn catalan_chain_matches_the_printed_derivation_of_case_4a() {
    let (_, p, mut limit) = derive_file(&program_path("catalan.tp"));
    let zv = |name: &str, limit: &Limit| z(limit, &p, name);
    let (v0, v1, v2, v3, v4) = (
        zv("v0", &limit),
        zv("v1", &limit),
        zv("v2", &limit),
        zv("v3", &limit),
        zv("v4", &limit),
    );
    let hat_wv0 = limit.arena.atom(hat(&limit, &p, "v1"));
    let hat_wt_v1 = limit.arena.atom(hat(&limit, &p, "v2"));
    let hat_wv2 = limit.arena.atom(hat(&limit, &p, "v3"));
    let hat_wt_v3 = limit.arena.atom(hat(&limit, &p, "v4"));
    assert_eq!(v1, hat_wv0, "Z^{{v1}} = Ẑ^{{Wv0}}");
    let expected = limit.arena.add(hat_wt_v1, v0);
    assert_eq!(v2, expected, "Z^{{v2}} = Ẑ^{{Wᵀv1}} + Z^{{v0}}");
    let expected = limit.arena.add(hat_wv2, hat_wv0);
    assert_eq!(v3, expected, "Z^{{v3}} = Ẑ^{{Wv2}} + Ẑ^{{Wv0}}");
    let partial = limit.arena.add(hat_wt_v3, v0);
    let expected = limit.arena.add(partial, v2);
    assert_eq!(v4, expected, "Z^{{v4}} = Ẑ^{{Wᵀv3}} + Z^{{v0}} + Z^{{v2}}");
    let _ = v3;
}

/// Case 3: Ż^{Wᵀa} = σ² Z^x E[φ'(Z^h)] with σ² = 2 (the σ² in the Ż catches pitfall 1).
#[test]
fn minimal_transpose_program_has_the_zdot_of_case_3() {
    let (_, p, mut limit) = derive_file(&program_path("transpose_minimal.tp"));
    let y = instruction(&p, "y");
    let eq = limit
        .equations
        .iter()
        .find(|e| e.instruction == y)
        .expect("equation of y")
        .clone();
    let EquationKind::MatMul {
        zdot, hat: hat_y, ..
    } = &eq.kind
    else {
        panic!("y is a MatMul")
    };
    assert_eq!(zdot.len(), 1);
    let term = &zdot[0];
    assert_eq!(p.display_name(term.u.index()), "x");
    let hat_wx = limit.arena.atom(hat(&limit, &p, "h"));
    let tanh_prime = limit.arena.apply(Builtin::Tanh, 1, hat_wx);
    assert_eq!(
        term.derivative,
        Some(tanh_prime),
        "∂Z^a/∂Ẑ^{{Wx}} = tanh'(Ẑ^{{Wx}})"
    );
    // coefficient = 2 · E[tanh'(Ẑ^{Wx})], a limit scalar.
    let scalars = limit.arena.scalars(term.coefficient);
    assert_eq!(scalars.len(), 1);
    let kappa = limit.arena.scalar(scalars[0]);
    let expected = limit.arena.scale(kappa, 2.0);
    assert_eq!(term.coefficient, expected);
    match limit.scalars[scalars[0].0 as usize].definition {
        limit::ScalarDefinition::Expectation(e) => assert_eq!(e, tanh_prime),
        other => panic!("expected an expectation, found {other:?}"),
    }
    // Z^y = Ẑ^{Wᵀa} + 2 κ Z^x
    let hat_y = limit.arena.atom(*hat_y);
    let x = z(&limit, &p, "x");
    let product = limit.arena.mul(expected, x);
    let expected_y = limit.arena.add(hat_y, product);
    assert_eq!(limit.z[y], Some(expected_y));
    assert!(!limit.zdot_vanishes());
}

/// Case 5C: in the linear μP network after one step, the Ż of the forward product W h_1(ξ)
/// is −η χ° ⟨ξ₀, ξ⟩ Z^{nV₀}: the input layer's share of f_1 (docs/parametrizations.md).
#[test]
fn linear_mup_step_has_the_zdot_of_case_5c() {
    let (_, p, mut limit) = derive_file(&program_path("sgd_two_steps.tp"));
    for (input, inner) in [("hb1[0]", 1.0), ("hb1[1]", 0.5)] {
        let i = instruction(&p, input);
        // hb1 = W @ x1 - … : the MatMul is the temporary just before it.
        let matmul = (0..i)
            .rev()
            .find(|&k| matches!(p.instructions[k].op, tpc::ir::Op::MatMul { .. }))
            .unwrap();
        let eq = limit
            .equations
            .iter()
            .find(|e| e.instruction == matmul)
            .unwrap()
            .clone();
        let EquationKind::MatMul { zdot, .. } = &eq.kind else {
            panic!()
        };
        assert_eq!(zdot.len(), 1, "{input}");
        assert_eq!(p.display_name(zdot[0].u.index()), "dhb0");
        // coefficient = σ² · ∂Z^{x1}/∂Ẑ^{Wᵀdhb0} = −η χ0° ⟨ξ₀, ξ⟩ with η = 1, σ² = 1.
        let chi0 = limit.scalar_of[instruction(&p, "chi0")].unwrap();
        let chi = limit.arena.scalar(chi0);
        let expected = limit.arena.scale(chi, -inner);
        assert_eq!(zdot[0].coefficient, expected, "{input}");
    }
    // Z^{dhb0} = Z^{nV0}: φ = id.
    assert_eq!(z(&limit, &p, "dhb0"), z(&limit, &p, "nV0"));
}

#[test]
fn bp_like_programs_have_no_zdot_and_say_why() {
    // tanh NTK: the Ż terms are structurally nonzero but odd in the readout.
    let (source, _, limit) = derive_file(&program_path("ntk_tanh.tp"));
    assert!(limit.zdot_vanishes());
    assert!(!limit.vanished.is_empty());
    let text = LimitDisplay::new(&limit, &source, "ntk_tanh.tp", LimitFormat::Text).to_string();
    assert!(
        text.contains("every Ż vanishes; the gradient-independence shortcut"),
        "{text}"
    );
    // relu NTK: dh = dx ⊙ step(h) jumps in the forward atoms, so the Stein form (3.4) is used
    // (step' = 0 would drop a Dirac mass); its moments E[Ẑ·Z^{dh}] are odd in the readout.
    let (_, _, limit) = derive_file(&program_path("ntk_relu.tp"));
    assert!(limit.zdot_vanishes());
    assert_eq!(limit.vanished.len(), 4);
    assert!(limit.vanished.iter().all(|v| v.stein));
    // NNGP: no transposes at all.
    let (source, _, limit) = derive_file(&program_path("nngp_tanh.tp"));
    let text = LimitDisplay::new(&limit, &source, "nngp_tanh.tp", LimitFormat::Text).to_string();
    assert!(
        text.contains("ZDot: none (no transposed matrix is used"),
        "{text}"
    );
}

#[test]
fn a_symmetry_is_used_only_for_a_centered_vector() {
    // ∂Z^g/∂Ẑ^{Wx} = v·sigmoid'(h): even in x, odd in v. With v centered the term vanishes
    // (E[v] E[sigmoid'(h)] = 0); with mean 0.5 it is 0.5·E[sigmoid'(h)] ≠ 0 and must stay.
    let program = |mean: f64| {
        format!("matrix W ~ N(0, 1/n)\nvector x ~ N(0, 1)\nvector v ~ N({mean}, 1)\nh = W @ x\ng = v * sigmoid(h)\ny = W.T @ g\nk = mean(y * x)\n")
    };
    let centered = limit::derive(&compile(&program(0.0))).unwrap();
    assert!(centered.zdot_vanishes());
    assert_eq!(centered.vanished.len(), 1);
    let shifted = limit::derive(&compile(&program(0.5))).unwrap();
    assert!(!shifted.zdot_vanishes());
    assert!(shifted.vanished.is_empty());
}

#[test]
fn a_term_with_an_atom_without_parity_is_kept() {
    // Flipping x: Ẑ^{W relu(x)} has no parity, so ∂Z^g/∂Ẑ^{Va} = Ẑ^{W relu(x)}·sigmoid''(c)
    // is mixed and its expectation is not claimed to vanish.
    let source = "matrix W ~ N(0, 1/n)\nmatrix V ~ N(0, 1/n)\nvector x ~ N(0, 1)\na = W @ x\nb = W @ relu(x)\nc = V @ a\ng = sigmoid'(c) * b\ny = V.T @ g\nk = mean(y * a)\n";
    let limit = limit::derive(&compile(source)).unwrap();
    assert!(!limit.zdot_vanishes(), "{:?}", limit.vanished);
}

#[test]
fn equal_products_share_one_atom() {
    let source =
        "matrix W ~ N(0, 1/n)\nvector x ~ N(0, 1)\na = W @ x\nb = W @ x\nk = mean(a * b)\n";
    let p = compile(source);
    let limit = limit::derive(&p).unwrap();
    assert_eq!(z(&limit, &p, "a"), z(&limit, &p, "b"));
    assert_eq!(limit.families[0].atoms.len(), 1);
}

#[test]
fn the_width_inside_an_instruction_is_an_error() {
    let source = "vector x ~ N(0, 1)\ny = n^(-1/2) * x\n";
    let error = limit::derive(&compile(source)).unwrap_err();
    let rendered = error.to_diagnostic().render("test.tp", source);
    assert!(
        rendered.contains("E0201") && rendered.contains("2:1"),
        "{rendered}"
    );
}

/// The streamed document (`tpc derive --format json`) is the in-memory one, pretty-printed as
/// serde prints it, on every example program, expanded and deferred.
#[test]
fn streamed_json_is_the_json_document() {
    for entry in std::fs::read_dir(program_path("")).expect("programs/") {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|e| e != "tp") {
            continue;
        }
        let (source, program, expanded) = derive_file(&path);
        let deferred = limit::derive_deferred(&program).expect("it derives");
        for limit in [&expanded, &deferred] {
            let mut streamed = Vec::new();
            limit::write_json(limit, &source, &mut streamed).expect("writes to memory");
            let document = limit::to_json(limit, &source);
            let expected = serde_json::to_string_pretty(&document).unwrap() + "\n";
            assert_eq!(
                String::from_utf8(streamed).unwrap(),
                expected,
                "{}",
                path.display()
            );
        }
    }
}

#[test]
fn json_lists_atoms_families_scalars_and_zdot_coefficients() {
    let (source, _, limit) = derive_file(&program_path("transpose_minimal.tp"));
    let json = limit::to_json(&limit, &source);
    assert_eq!(json["atoms"].as_array().unwrap().len(), 3);
    assert_eq!(json["families"].as_array().unwrap().len(), 2);
    assert_eq!(json["families"][0]["sigma2"], 2.0);
    let y = json["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "y")
        .unwrap();
    assert_eq!(y["zdot"][0]["u"], "x");
    let node = |id: &serde_json::Value| {
        let nodes = json["nodes"].as_array().unwrap();
        nodes.iter().find(|n| n["id"] == *id).unwrap().clone()
    };
    let derivative = node(&y["zdot"][0]["derivative"]);
    assert_eq!(derivative["op"], "apply");
    assert_eq!(derivative["f"], "tanh");
    assert_eq!(derivative["order"], 1);
    assert_eq!(node(&derivative["arg"])["op"], "atom");
    // Children come before parents.
    let ids: Vec<u64> = json["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_u64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert!(y["line"].as_u64().is_some());
    assert_eq!(json["zdot_vanishes"], false);
}

#[test]
fn the_derivation_guide_shows_the_current_output() {
    let (source, _, limit) = derive_file(&program_path("transpose_minimal.tp"));
    let text = LimitDisplay::new(
        &limit,
        &source,
        "programs/transpose_minimal.tp",
        LimitFormat::Text,
    )
    .to_string();
    let guide =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/derivation.md"))
            .unwrap();
    assert!(
        guide.contains(&text),
        "docs/derivation.md is out of date; paste:\n{text}"
    );
}

#[test]
fn the_derivation_guide_shows_the_current_stein_form() {
    let (source, _, limit) = derive_file(&program_path("transpose_minimal_step.tp"));
    let text = LimitDisplay::new(
        &limit,
        &source,
        "programs/transpose_minimal_step.tp",
        LimitFormat::Text,
    )
    .to_string();
    let start = text
        .find("line 17")
        .expect("the line of the transposed product");
    let block = text[start..].split("\n\n").next().unwrap();
    assert!(block.contains("Stein form (3.4)"), "{text}");
    let guide =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/derivation.md"))
            .unwrap();
    assert!(
        guide.contains(block),
        "docs/derivation.md is out of date; paste:\n{block}"
    );
}

/// The number of lines of the equations as text without those only an expanded derivation
/// has: the `∂Z/∂Ẑ` notes under a Ż.
fn lines_without_derivative_notes(text: &str) -> usize {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('∂'))
        .count()
}

/// `(instruction, atom, flipped group)` of every term that vanished by symmetry.
fn vanished(limit: &Limit) -> Vec<(usize, AtomId, usize)> {
    let mut v: Vec<_> = limit
        .vanished
        .iter()
        .map(|v| (v.instruction, v.atom, v.flipped.index()))
        .collect();
    v.sort();
    v
}

/// A deterministic spread of test values: atoms in [−1.5, 1.5], scalars in [0.5, 1.5].
fn test_value(k: u32, spread: f64, offset: f64) -> f64 {
    let x = (f64::from(k) * 12.9898 + 78.233).sin() * 43758.5453;
    offset + spread * (x - x.floor())
}

/// A deferred derivation (what `tpc derive` prints) keeps exactly the Ż terms of the expanded
/// one (what evaluation uses) and drops the same ones by symmetry: on every example program
/// and on generated training programs, including Gaussian-linear ones (whose derivatives
/// are still expanded and folded) and kinked ones. Every Z is the same function of the atoms
/// and scalars (checked by value at test points: the two arenas store equal expressions
/// with factors in different orders, so they print in different orders; tolerance 1e-12
/// relative, rounding of a few dozen operations), and the printed equations have the same
/// lines but for the derivative notes.
#[test]
fn deferred_coefficients_keep_the_terms_of_the_expanded_derivation() {
    let mut sources: Vec<(String, String)> = std::fs::read_dir(program_path(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tp"))
        .map(|p| {
            let name = p.display().to_string();
            (name, std::fs::read_to_string(p).unwrap())
        })
        .collect();
    for (nonlin, steps) in [("tanh", 3), ("relu", 2), ("id", 2)] {
        let f = Builtin::from_name(nonlin).unwrap();
        let abc = tpc::param::Abc::preset(tpc::param::Preset::Mup, 2);
        let spec = tpc::param::MlpSpec::reference(abc, "μP", f, steps);
        let source = tpc::param::generate_mlp(&spec).unwrap();
        sources.push((format!("gen mlp {nonlin} T={steps}"), source));
    }
    sources.sort();
    let mut deferred_terms = 0;
    let mut folded_terms = 0;
    for (name, source) in &sources {
        let program = compile(source);
        let expanded = limit::derive(&program).unwrap();
        let deferred = limit::derive_deferred(&program).unwrap();
        let text = |l: &Limit| LimitDisplay::new(l, source, name, LimitFormat::Text).to_string();
        assert_eq!(
            lines_without_derivative_notes(&text(&deferred)),
            lines_without_derivative_notes(&text(&expanded)),
            "{name}"
        );
        assert_eq!(vanished(&deferred), vanished(&expanded), "{name}");
        assert_eq!(deferred.scalars.len(), expanded.scalars.len(), "{name}");
        for (d, e) in deferred.scalars.iter().zip(&expanded.scalars) {
            assert_eq!(d.role, e.role, "{name}");
            match (d.definition, e.definition) {
                (
                    ScalarDefinition::ExpectedDerivative { z, atom },
                    ScalarDefinition::Expectation(derivative),
                ) => {
                    deferred_terms += 1;
                    assert!(deferred.arena.depends_on(z, atom), "{name}");
                    assert!(!expanded.arena.is_deterministic(derivative), "{name}");
                }
                (ScalarDefinition::ExpectedDerivative { .. }, other) => {
                    panic!("{name}: deferred where the expanded derivation has {other:?}")
                }
                _ => {}
            }
        }
        let value = |l: &Limit, z| {
            l.arena.eval(
                z,
                |a| test_value(a.0, 3.0, -1.5),
                |s| test_value(s.0 + 1000, 1.0, 0.5),
            )
        };
        for (i, (d, e)) in deferred.z.iter().zip(&expanded.z).enumerate() {
            assert_eq!(d.is_some(), e.is_some(), "{name}");
            if let (Some(d), Some(e)) = (d, e) {
                let (a, b) = (value(&deferred, *d), value(&expanded, *e));
                assert!(
                    (a - b).abs() <= 1e-12 * (1.0 + b.abs()) || (a.is_nan() && b.is_nan()),
                    "{name}: Z of instruction {i}: {a} deferred, {b} expanded"
                );
            }
        }
        for eq in &deferred.equations {
            if let EquationKind::MatMul {
                zdot, stein: None, ..
            } = &eq.kind
            {
                folded_terms += zdot.iter().filter(|t| t.derivative.is_some()).count();
            }
        }
    }
    assert!(deferred_terms > 20, "the programs exercise deferred terms");
    assert!(
        folded_terms > 2,
        "the programs exercise folded deterministic terms"
    );
}
