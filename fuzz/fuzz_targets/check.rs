//! Fuzz target `check`: arbitrary bytes through the front end (`tpc::compile`: decode, parse,
//! lower, check) and, when they compile, through the derivation of the limit
//! (`tpc::limit::derive`). Any panic, abort, stack overflow, timeout (`-timeout`) or
//! allocation past `-rss_limit_mb` is a finding; an error diagnostic is an ordinary outcome.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(program) = tpc::compile(bytes, &tpc::ir::LowerOptions::default()) {
        let _ = tpc::limit::derive(&program);
    }
});
