//! The `proxy_log` fuzz target: see `fuzz/checks/proxy_log.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/proxy_log.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::check(data));
