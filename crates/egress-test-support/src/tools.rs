//! Finding the real tools the tests run, and loopback ports for them.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

/// The path of `tool`, or a failed test naming the Debian `package` to
/// install (`scripts/test` installs it, as root).
pub fn require(tool: &str, package: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"] {
        let p = Path::new(dir).join(tool);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "`{tool}` is missing: install the Debian package `{package}` (scripts/test does, as root)"
    );
}

/// A loopback port that was free a moment ago, for a tool that takes its
/// port on the command line.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a loopback port")
        .port()
}

/// `promtool check metrics` (Debian's `prometheus`) on an exposition:
/// a failed test with promtool's complaints unless it passes.
pub fn promtool_check_metrics(text: &str) {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut check = Command::new(require("promtool", "prometheus"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    check
        .stdin
        .take()
        .expect("promtool's stdin")
        .write_all(text.as_bytes())
        .expect("promtool reads the metrics");
    let out = check.wait_with_output().expect("promtool ends");
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
