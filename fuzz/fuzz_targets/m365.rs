//! The `m365` fuzz target: see `fuzz/checks/m365.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/m365.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::check(data));
