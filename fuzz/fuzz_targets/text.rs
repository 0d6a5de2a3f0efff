//! The `text` fuzz target: see `fuzz/checks/text.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/text.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::check(data));
