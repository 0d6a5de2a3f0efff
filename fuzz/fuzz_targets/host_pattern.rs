//! The `host_pattern` fuzz target: see `fuzz/checks/host_pattern.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/host_pattern.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::check(data));
