//! Helpers shared by the tests that run the `tpc` binary in a directory of their own.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `tpc` with `args` in directory `dir`, `stdin` on its standard input.
pub fn tpc_in(args: &[&str], dir: &str, stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tpc"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tpc runs");
    // A run refused for its flags exits before reading its input: not a failure to write.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().expect("tpc finishes")
}

/// The standard output of a run that must have succeeded.
pub fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "tpc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8")
}
