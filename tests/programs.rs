//! The example programs in `programs/`: each one compiles to a valid IR, starts with a header
//! comment, and has its summary snapshotted.

use std::path::{Path, PathBuf};
use tpc::ir::LowerOptions;

/// Every `programs/*.tp`, sorted by name.
fn programs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("programs");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "tp"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no programs in {}", dir.display());
    paths
}

/// Compiles a program, panicking with the rendered diagnostic if it does not check.
fn compile(path: &Path) -> tpc::ir::Program {
    let bytes = std::fs::read(path).expect("the program is readable");
    tpc::compile(&bytes, &LowerOptions::default()).unwrap_or_else(|d| {
        let source = String::from_utf8_lossy(&bytes);
        panic!("{}", d.render(&path.display().to_string(), &source))
    })
}

#[test]
fn every_program_compiles_to_a_valid_ir() {
    for path in programs() {
        let program = compile(&path);
        if let Err(e) = tpc::ir::validate(&program) {
            panic!("{}: invalid IR: {e}", path.display());
        }
        assert!(
            !program.outputs.is_empty(),
            "{}: no outputs",
            path.display()
        );
    }
}

#[test]
fn every_program_starts_with_a_header_comment() {
    for path in programs() {
        let text = std::fs::read_to_string(&path).expect("the program is UTF-8");
        let header: Vec<&str> = text.lines().take_while(|l| l.starts_with('#')).collect();
        assert!(
            header.len() >= 2,
            "{}: a program starts with a `#` header comment saying what it computes",
            path.display()
        );
    }
}

#[test]
fn summaries() {
    insta::glob!("../programs", "*.tp", |path| {
        insta::assert_snapshot!(compile(path).summary().to_string());
    });
}
