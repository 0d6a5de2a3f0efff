//! The `firewall_rules` fuzz target: see `fuzz/checks/firewall_rules.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/firewall_rules.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::check(data));
