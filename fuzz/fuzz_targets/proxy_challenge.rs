//! The `proxy_challenge` fuzz target: see `fuzz/checks/proxy_challenge.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/proxy_challenge.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::check(data));
