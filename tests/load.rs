//! `load("file")`: the data files of `tests/data/` read into constants, in every format, and
//! every way a file can be refused. Each `tests/data/error_*.tp` must be rejected; its
//! diagnostic is snapshotted after its source (as in `tests/errors.rs`).

mod common;

use common::{stdout, tpc_in};
use std::path::Path;
use tpc::ir::LowerOptions;

/// The directory of the fixtures, relative to the crate root (the tests' working directory),
/// so that the paths in snapshotted messages do not depend on the machine.
const DATA: &str = "tests/data";

/// The options of a program in `tests/data/`.
fn options() -> LowerOptions {
    LowerOptions {
        base_dir: Some(DATA.into()),
        ..LowerOptions::default()
    }
}

/// The values of the program's outputs, evaluated.
fn outputs(source: &str) -> Vec<(String, f64)> {
    let program = tpc::compile(source.as_bytes(), &options())
        .unwrap_or_else(|d| panic!("{}", d.render("t.tp", source)));
    let limit = tpc::limit::derive(&program).expect("derives");
    let evaluation =
        tpc::eval::evaluate(&limit, &tpc::eval::EvalOptions::default(), None).expect("evaluates");
    program
        .outputs
        .iter()
        .zip(&limit.outputs)
        .map(|(o, s)| {
            (
                program.display_name(o.index()),
                evaluation.scalars[s.0 as usize].value,
            )
        })
        .collect()
}

/// The shape and entries of the constant `load(file)` gives, read back through a program.
fn loaded(file: &str) -> (Vec<usize>, Vec<f64>) {
    let probe = |body: &str| outputs(&format!("const X = load(\"{file}\")\n{body}"));
    let rows = probe("r = len(X)\noutput r")[0].1 as usize;
    let matrix = tpc::compile(
        format!("const X = load(\"{file}\")\nconst d = cols(X)\nvector x ~ N(0, 1)").as_bytes(),
        &options(),
    )
    .is_ok();
    if !matrix {
        let values = probe(&format!("for i in 0..{rows} {{ v[i] = X[i] }}\noutput v"));
        return (vec![rows], values.into_iter().map(|(_, v)| v).collect());
    }
    let columns = probe("c = cols(X)\noutput c")[0].1 as usize;
    let values = probe(&format!(
        "for i in 0..{rows}, j in 0..{columns} {{ v[i, j] = X[i, j] }}\noutput v"
    ));
    (
        vec![rows, columns],
        values.into_iter().map(|(_, v)| v).collect(),
    )
}

const FOUR: [f64; 12] = [1.0, 0.0, 0.0, 0.6, 0.8, 0.0, 0.0, 0.0, 2.0, 1.0, 1.0, 1.0];

#[test]
fn every_format_gives_the_same_four_by_three_matrix() {
    for file in [
        "four.txt",
        "four.csv",
        "four_header.csv",
        "four.npy",
        "four_fortran.npy",
    ] {
        let (shape, values) = loaded(file);
        assert_eq!(shape, vec![4, 3], "{file}");
        assert_eq!(values, FOUR, "{file}: values in row-major order");
    }
}

#[test]
fn a_one_dimensional_npy_file_is_a_list() {
    assert_eq!(loaded("list.npy"), (vec![3], vec![0.5, -1.25, 3.0]));
}

#[test]
fn load_errors_are_snapshotted() {
    insta::glob!("data/error_*.tp", |path| {
        let source = std::fs::read_to_string(path).expect("error files are UTF-8");
        let file_name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            source.starts_with('#'),
            "{file_name}: the first line must be a `#` comment saying what is wrong"
        );
        let d = match tpc::compile(source.as_bytes(), &options()) {
            Ok(_) => panic!("{file_name} compiled"),
            Err(d) => d,
        };
        let rendered = d.render(&file_name, &source);
        insta::assert_snapshot!(format!("{source}\n----- ERROR -----\n{rendered}"));
    });
}

#[test]
fn a_huge_npy_header_is_refused_without_reading_data() {
    // huge.npy is 128 bytes, a header claiming 20000 × 10000 values: refused from the header.
    let d = tpc::compile(b"const X = load(\"huge.npy\")\n", &options()).unwrap_err();
    assert_eq!(d.code, "E0156");
    assert!(
        std::fs::metadata(Path::new(DATA).join("huge.npy"))
            .unwrap()
            .len()
            < 200
    );
}

#[test]
fn eval_with_load_equals_eval_with_the_data_pasted_in() {
    let source = std::fs::read_to_string(Path::new(DATA).join("kernel.tp")).unwrap();
    let literal = "[[1, 0, 0], [0.6, 0.8, 0], [0, 0, 2], [1, 1, 1]]";
    let pasted = source.replace("load(\"four.txt\")", literal);
    assert_ne!(pasted, source);
    // The file's loads are relative to its directory, wherever tpc runs.
    for format in ["text", "json"] {
        let with_load = stdout(&tpc_in(
            &["eval", "--format", format, "tests/data/kernel.tp"],
            ".",
            "",
        ));
        let with_literal = stdout(&tpc_in(&["eval", "--format", format, "-"], ".", &pasted));
        assert_eq!(with_load, with_literal);
        if format == "json" {
            let json: serde_json::Value = serde_json::from_str(&with_load).unwrap();
            // K[2, 2] = σw² E[relu(u)²] with u ~ N(0, σw² |x₂|²/d) = 2 · (8/3)/2.
            assert_eq!(
                json["outputs"]["K"]["value"][2][2],
                8.0 / 3.0,
                "{with_load}"
            );
            assert_eq!(json["outputs"]["T"]["value"][3][3], 4.0, "{with_load}");
        }
    }
}

#[test]
fn a_program_from_standard_input_loads_relative_to_the_current_directory() {
    let source = "const X = load(\"four.csv\")\nk = X[2, 2] + cols(X)\noutput k\n";
    let out = stdout(&tpc_in(&["eval", "--format", "json", "-"], DATA, source));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["outputs"]["k"]["value"], 5.0, "{out}");
    let out = tpc_in(&["eval", "-"], ".", source);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("E0150") && stderr.contains("`four.csv`"),
        "{stderr}"
    );
}

#[test]
fn a_string_with_a_hash_or_brackets_stays_one_token_across_lines() {
    // `#` and `)` inside a string are not a comment or a bracket, even inside a multi-line list.
    let source = "const v = [\n  len(load(\"no#such).txt\")),\n]\n";
    let d = tpc::compile(source.as_bytes(), &options()).unwrap_err();
    assert_eq!(d.code, "E0150", "{}", d.render("t.tp", source));
    assert!(d.message.contains("no#such).txt"), "{}", d.message);
}

/// An array the caller supplies under a file's name is read instead of the file
/// (`LowerOptions::data`, the Python package's `consts`); other names still read files.
#[test]
fn caller_arrays_come_before_files() {
    let source = "const A = load(\"four.txt\")\nconst B = load(\"X\")\n\
                  vector h ~ N(0, A[0, 0] + B[1])\nm = mean(h * h)\n";
    let data = std::collections::BTreeMap::from([
        (
            "four.txt".to_string(),
            std::sync::Arc::new(ndarray::arr2(&[[5.0]]).into_dyn()),
        ),
        (
            "X".to_string(),
            std::sync::Arc::new(ndarray::arr1(&[0.0, 0.25]).into_dyn()),
        ),
    ]);
    let options = LowerOptions { data, ..options() };
    let program = tpc::compile(source.as_bytes(), &options)
        .unwrap_or_else(|d| panic!("{}", d.render("t.tp", source)));
    let limit = tpc::limit::derive(&program).expect("derives");
    let evaluation =
        tpc::eval::evaluate(&limit, &tpc::eval::EvalOptions::default(), None).expect("evaluates");
    // E[h²] = the variance, 5 + 0.25, exactly (Gaussian algebra).
    assert_eq!(evaluation.scalars[limit.outputs[0].0 as usize].value, 5.25);
}
