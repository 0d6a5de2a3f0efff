//! The real tools the tests drive: found, or the test skipped out loud;
//! and loopback ports for them.
//!
//! The suite has tiers. `cargo test --workspace` needs only the Rust
//! toolchain and a C compiler: a test that drives a third-party tool asks
//! [`needs`] first and, when a tool is missing, returns after one line on
//! the process's real stderr naming the tool and its package. With
//! `EGRESS_REQUIRE_TOOLS=1` (as `scripts/test` and CI run) a missing tool
//! fails the test instead. The Windows tier (the Windows binary under
//! wine) runs only when asked for with `EGRESS_TEST_WINDOWS=1`, which
//! `scripts/test` sets when it has built that binary ([`windows_tier`]).
//! A test never passes silently because something it needs is missing.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

/// A third-party tool some tests drive, and where it comes from.
#[derive(Clone, Copy, Debug)]
pub struct Tool {
    /// What the tests run.
    pub name: &'static str,
    /// The Debian or PyPI package that provides it.
    pub package: &'static str,
    find: Find,
}

#[derive(Clone, Copy, Debug)]
enum Find {
    /// A program on `PATH` (or in `/usr/sbin`, `/sbin`, where Debian puts
    /// daemons and which a user's `PATH` often lacks).
    Program,
    /// A file `scripts/test` installs in a place of the tests' own.
    Installed(fn() -> PathBuf),
    /// A Python module: the path of the first `python3` (on `PATH`, then
    /// `/usr/bin`) that imports it.
    PythonModule(&'static str),
    /// Anything else: this function says where, or that it is not here.
    Other(fn() -> Option<PathBuf>),
}

/// Squid built with OpenSSL (Debian's squid-openssl, not the GnuTLS
/// `squid`): its `security_file_certgen` beside it for `ssl_bump`.
pub const SQUID: Tool = Tool {
    name: "squid (with OpenSSL: security_file_certgen)",
    package: "Debian package squid-openssl",
    find: Find::Other(squid_with_openssl),
};
/// The tests that listen on loopback addresses' low ports (127.0.0.2:80
/// for WPAD, 127.0.0.44:443) or give files to Squid's user run as root,
/// as `scripts/test` and CI do.
pub const ROOT: Tool = Tool {
    name: "root",
    package: "no package: run as root, as scripts/test and CI do",
    find: Find::Other(root),
};
pub const TINYPROXY: Tool = program("tinyproxy", "Debian package tinyproxy");
pub const PACTESTER: Tool = program("pactester", "Debian package libpacparser1");
pub const PROMTOOL: Tool = program("promtool", "Debian package prometheus");
pub const CURL: Tool = program("curl", "Debian package curl");
pub const CHROMIUM: Tool = program("chromium", "Debian package chromium");
pub const SYSTEMD_ANALYZE: Tool = program("systemd-analyze", "Debian package systemd");
pub const ARGON2: Tool = program("argon2", "Debian package argon2");
pub const WINE: Tool = program("wine", "Debian package wine");
pub const PYTHON3: Tool = program("python3", "Debian package python3");
pub const KILL: Tool = program("kill", "Debian package procps");
pub const PYTHON_REQUESTS: Tool = Tool {
    name: "python3 -c 'import requests'",
    package: "Debian package python3-requests",
    find: Find::PythonModule("requests"),
};
pub const MITMPROXY: Tool = Tool {
    name: "mitmdump",
    package: "PyPI package mitmproxy 11.0.2, in scripts/test's virtualenv",
    find: Find::Installed(mitmdump_path),
};
pub const PYSPNEGO: Tool = Tool {
    name: "pyspnego for /usr/bin/python3",
    package: "Debian package python3 and PyPI package pyspnego 0.12.4, where scripts/test puts it",
    find: Find::Installed(pyspnego_module),
};

const fn program(name: &'static str, package: &'static str) -> Tool {
    Tool::program(name, package)
}

impl Tool {
    /// A program found on `PATH`, provided by `package` (for benches'
    /// tools, which are not the tests').
    pub const fn program(name: &'static str, package: &'static str) -> Tool {
        Tool {
            name,
            package,
            find: Find::Program,
        }
    }

    /// Where the tool is, if it is there.
    pub fn find(&self) -> Option<PathBuf> {
        match self.find {
            Find::Program => {
                let path = std::env::var_os("PATH").unwrap_or_default();
                std::env::split_paths(&path)
                    .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
                    .map(|dir| dir.join(self.name))
                    .find(|p| is_executable(p))
            }
            Find::Installed(path) => Some(path()).filter(|p| p.exists()),
            Find::Other(find) => find(),
            Find::PythonModule(module) => PYTHON3
                .find()
                .into_iter()
                .chain([PathBuf::from("/usr/bin/python3")])
                .find(|python| {
                    std::process::Command::new(python)
                        .args(["-c", &format!("import {module}")])
                        .stdout(std::process::Stdio::null())
                        .stderr(std::process::Stdio::null())
                        .status()
                        .is_ok_and(|s| s.success())
                }),
        }
    }

    /// The tool's path, or a failed test naming its package: for helpers
    /// that tests call after [`needs`].
    pub fn path(&self) -> PathBuf {
        self.find().unwrap_or_else(|| {
            panic!(
                "`{}` is missing: install the {} (scripts/test does, as root)",
                self.name, self.package
            )
        })
    }
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

/// Whether every tool in `tools` is here, for a test to call first and
/// return when it is not. A missing tool fails the test under
/// `EGRESS_REQUIRE_TOOLS=1`; otherwise each one is named on stderr (and
/// in `EGRESS_SKIP_LOG`, which `scripts/test` counts).
pub fn needs(tools: &[Tool]) -> bool {
    let missing: Vec<&Tool> = tools.iter().filter(|t| t.find().is_none()).collect();
    if missing.is_empty() {
        return true;
    }
    let named = missing
        .iter()
        .map(|t| format!("`{}` ({})", t.name, t.package))
        .collect::<Vec<_>>()
        .join(", ");
    let installable = missing.iter().filter(|t| t.name != ROOT.name).count();
    let remedy = match installable {
        0 => "run the tests as root, as scripts/test and CI do",
        1 => "scripts/test installs it, as root",
        _ => "scripts/test installs them, as root",
    };
    assert!(
        std::env::var_os("EGRESS_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
        "EGRESS_REQUIRE_TOOLS=1 and this test needs what is missing: {named}; {remedy}"
    );
    skipped(&format!("needs {named}; {remedy}"));
    false
}

/// Whether the Windows tier runs: the Windows release binary under wine,
/// asked for with `EGRESS_TEST_WINDOWS=1` (which `scripts/test` sets after
/// building the binary and the wine prefix). Otherwise the test is named
/// as skipped.
pub fn windows_tier() -> bool {
    if std::env::var_os("EGRESS_TEST_WINDOWS").is_some_and(|v| v == "1") {
        return true;
    }
    skipped(
        "the Windows tier was not asked for (scripts/test runs it; or build the Windows \
         binary as scripts/test does and set EGRESS_TEST_WINDOWS=1)",
    );
    false
}

/// Names the running test as skipped, and why, on the process's real
/// stderr (libtest captures `eprintln!` of a passing test, and this must
/// be seen), and appends the line to the file `EGRESS_SKIP_LOG` names.
pub fn skipped(why: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let line = format!("egress-test: SKIPPED {test}: {why}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Some(log) = std::env::var_os("EGRESS_SKIP_LOG") {
        // One short append per line: whole lines, even from parallel tests.
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn squid_with_openssl() -> Option<PathBuf> {
    let squid = Tool::program("squid", "").find()?;
    Path::new("/usr/lib/squid/security_file_certgen")
        .exists()
        .then_some(squid)
}

/// The root folder when this process runs as root: a file it makes is
/// root's.
#[cfg(unix)]
fn root() -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt as _;
    let probe = tempfile::NamedTempFile::new().ok()?;
    (probe.as_file().metadata().ok()?.uid() == 0).then(|| PathBuf::from("/"))
}

#[cfg(not(unix))]
fn root() -> Option<PathBuf> {
    None
}

/// mitmproxy's `mitmdump`: `EGRESS_MITMDUMP`, or the virtualenv
/// `scripts/test` makes under `target/test-tools/mitmproxy`.
fn mitmdump_path() -> PathBuf {
    std::env::var_os("EGRESS_MITMDUMP").map_or_else(
        || workspace().join("target/test-tools/mitmproxy/bin/mitmdump"),
        PathBuf::from,
    )
}

/// pyspnego's folder, for Squid's NTLM helper: in `EGRESS_TEST_TOOLS` or
/// `/var/tmp/egress-test-tools` (a folder Squid's user can read).
pub fn pyspnego_path() -> PathBuf {
    std::env::var_os("EGRESS_TEST_TOOLS")
        .map_or_else(
            || PathBuf::from("/var/tmp/egress-test-tools"),
            PathBuf::from,
        )
        .join("pyspnego-0.12.4")
}

/// pyspnego's module, when the Python that Squid runs its helper with
/// (`/usr/bin/python3`) is there too.
fn pyspnego_module() -> PathBuf {
    if Path::new("/usr/bin/python3").exists() {
        pyspnego_path().join("spnego/__init__.py")
    } else {
        PathBuf::from("/usr/bin/python3")
    }
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
    use std::process::{Command, Stdio};
    let mut check = Command::new(PROMTOOL.path())
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
