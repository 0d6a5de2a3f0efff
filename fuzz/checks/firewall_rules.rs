//! Firewall rules from untrusted bytes (`audit allowlist --input
//! aws-network-firewall`, `azure-firewall` and `pan-edl`: rule group JSON,
//! CloudFormation, Suricata rules, ARM templates, `az` output, PAN-OS
//! lists) must never panic; what reads as an entry admits at least one
//! host (or every host), on at least one scheme and port when it says
//! which.
//!
//! Shared by the fuzz target and the test that replays the seed corpus
//! (`crates/egress/tests/fuzz_seeds.rs`).

use egress_audit::allowlist::{read_aws, read_azure, read_pan_edl};

/// Runs one input; panics on a failed property.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for read in [read_aws, read_azure, read_pan_edl] {
        if let Ok((entries, _notes)) = read("rules", &text) {
            for e in entries {
                assert!(
                    e.every_host || !e.patterns.is_empty(),
                    "an entry admits a host: {e:?}"
                );
                assert!(
                    e.reach.as_ref().is_none_or(|r| !r.is_empty()),
                    "an entry that names its ports names one: {e:?}"
                );
                assert!(e.line >= 1, "an entry has a line: {e:?}");
            }
        }
    }
}
