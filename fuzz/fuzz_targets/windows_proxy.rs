//! The `windows_proxy` fuzz target: see `fuzz/checks/windows_proxy.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/windows_proxy.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::check(data));
