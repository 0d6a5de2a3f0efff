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
