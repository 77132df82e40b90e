//! `tpc test`: a program without a snapshot fails, `--accept` records one, the unchanged
//! program passes, and a changed parametrization fails with a readable difference.

mod common;

use std::path::PathBuf;
use std::process::Output;

/// A fresh directory for one test.
fn directory(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tpc-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

fn tpc(args: &[&str], dir: &std::path::Path) -> Output {
    common::tpc_in(args, dir.to_str().expect("UTF-8 path"), "")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const PROGRAM: &str = "matrix W ~ N(0, 2/n)\nvector x ~ N(0, 1)\nh = W @ x\n\
y = W.T @ tanh(h)\nm = mean(x * y)\noutput m\n";

#[test]
fn snapshots_are_recorded_checked_and_their_differences_shown() {
    let dir = directory("cycle");
    std::fs::write(dir.join("minimal.tp"), PROGRAM).unwrap();

    let missing = tpc(&["test"], &dir);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stdout(&missing).contains("no snapshot"),
        "{}",
        stdout(&missing)
    );

    common::stdout(&tpc(&["test", "--accept"], &dir));
    let snapshot = std::fs::read_to_string(dir.join("minimal.snap")).unwrap();
    assert!(snapshot.contains("## derive\n") && snapshot.contains("## scaling\n"));
    assert!(snapshot.contains("m = 0.96004850867"), "{snapshot}");

    let passed = common::stdout(&tpc(&["test", "minimal.tp"], &dir));
    assert!(
        passed.contains("ok   minimal.tp (derive, scaling, eval)"),
        "{passed}"
    );

    std::fs::write(dir.join("minimal.tp"), PROGRAM.replace("2/n", "1.5/n")).unwrap();
    let changed = tpc(&["test"], &dir);
    assert_eq!(changed.status.code(), Some(1));
    let report = stdout(&changed);
    assert!(report.contains("-  Ẑ^{Wx} ~ N(0, 2·E[(Z^x)²])"), "{report}");
    assert!(
        report.contains("+  Ẑ^{Wx} ~ N(0, 1.5·E[(Z^x)²])"),
        "{report}"
    );
    assert!(report.contains("m: recorded 0.96004850867"), "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn coordcheck_exponents_are_recorded_with_their_widths() {
    let dir = directory("coordcheck");
    let program = "vector x ~ N(0, 1)\nk = mean(x * x)\noutput k\n";
    std::fs::write(dir.join("moment.tp"), program).unwrap();
    common::stdout(&tpc(
        &[
            "test",
            "--accept",
            "--checks",
            "eval,coordcheck",
            "--widths",
            "64,128,256",
            "--seeds",
            "2",
        ],
        &dir,
    ));
    let snapshot = std::fs::read_to_string(dir.join("moment.snap")).unwrap();
    assert!(
        snapshot.contains("## coordcheck --widths 64,128,256 --seeds 2\n"),
        "{snapshot}"
    );
    assert!(snapshot.contains("\nx = "), "{snapshot}");
    assert!(!snapshot.contains("## derive"), "{snapshot}");
    // A tolerance edited below what the fit can meet fails, naming the entry.
    let tight = snapshot.replace("k = 1 ± 1e-9", "k = 1.5 ± 1e-9");
    std::fs::write(dir.join("moment.snap"), tight).unwrap();
    let failed = tpc(&["test", "."], &dir);
    assert_eq!(failed.status.code(), Some(1), "{}", stdout(&failed));
    assert!(
        stdout(&failed).contains("k: recorded 1.5 ± 1e-9, now 1 "),
        "{}",
        stdout(&failed)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_snapshot_that_cannot_be_read_is_a_file_error() {
    let dir = directory("broken");
    std::fs::write(dir.join("p.tp"), PROGRAM).unwrap();
    std::fs::write(dir.join("p.snap"), "## nonsense\n").unwrap();
    let out = tpc(&["test"], &dir);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`nonsense` is not a check"));
    let _ = std::fs::remove_dir_all(&dir);
}
