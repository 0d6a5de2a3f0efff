//! The `request_head` fuzz target: see `fuzz/checks/request_head.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/request_head.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::check(data));
