//! The `import_page` fuzz target: see `fuzz/checks/import_page.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/import_page.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::check(data));
