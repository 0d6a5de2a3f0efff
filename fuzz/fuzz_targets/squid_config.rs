//! The `squid_config` fuzz target: see `fuzz/checks/squid_config.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/squid_config.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::check(data));
