//! Replays the fuzz targets' seed corpora (`fuzz/corpus/`) through the same
//! checks the fuzz targets run, so that CI holds every seed without
//! cargo-fuzz or a long fuzzing run.

use std::path::Path;

#[path = "../../../fuzz/checks/firewall_rules.rs"]
mod firewall_rules;
#[path = "../../../fuzz/checks/host_pattern.rs"]
mod host_pattern;
#[path = "../../../fuzz/checks/import_page.rs"]
mod import_page;
#[path = "../../../fuzz/checks/m365.rs"]
mod m365;
#[path = "../../../fuzz/checks/proxy_challenge.rs"]
mod proxy_challenge;
#[path = "../../../fuzz/checks/proxy_log.rs"]
mod proxy_log;
#[path = "../../../fuzz/checks/request_head.rs"]
mod request_head;
#[path = "../../../fuzz/checks/squid_config.rs"]
mod squid_config;
#[path = "../../../fuzz/checks/text.rs"]
mod text;
#[path = "../../../fuzz/checks/windows_proxy.rs"]
mod windows_proxy;

/// Runs `check` on every file of the target's corpus (at least one).
#[track_caller]
fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let result = std::panic::catch_unwind(|| check(&data));
        assert!(result.is_ok(), "{target}: {} fails", path.display());
        n += 1;
    }
    assert!(n > 0, "{target}: the seed corpus is empty");
}

#[test]
fn host_pattern_seeds() {
    replay("host_pattern", host_pattern::check);
}

#[test]
fn import_page_seeds() {
    replay("import_page", import_page::check);
}

#[test]
fn text_seeds() {
    replay("text", text::check);
}

#[test]
fn windows_proxy_seeds() {
    replay("windows_proxy", windows_proxy::check);
}

#[test]
fn proxy_challenge_seeds() {
    replay("proxy_challenge", proxy_challenge::check);
}

#[test]
fn proxy_log_seeds() {
    replay("proxy_log", proxy_log::check);
}

#[test]
fn request_head_seeds() {
    replay("request_head", request_head::check);
}

#[test]
fn squid_config_seeds() {
    replay("squid_config", squid_config::check);
}

#[test]
fn firewall_rules_seeds() {
    replay("firewall_rules", firewall_rules::check);
}

#[test]
fn m365_seeds() {
    replay("m365", m365::check);
}
