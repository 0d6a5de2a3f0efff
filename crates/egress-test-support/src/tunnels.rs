//! Many idle tunnels through a proxy, with the origin and the clients
//! each in a process of its own (`tunnels.py`, on the system's Python):
//! a proxy's open-file and memory use under thousands of long-lived
//! channels, measured from outside.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};

const SCRIPT: &str = include_str!("tunnels.py");

/// A running helper process, killed when dropped.
#[derive(Debug)]
pub struct Helper {
    child: Child,
    /// Open while the helper should hold its connections.
    _stdin: Option<ChildStdin>,
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[String]) -> (Helper, String) {
    let mut child = Command::new(crate::tools::PYTHON3.path())
        .arg("-c")
        .arg(SCRIPT)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    let stdin = child.stdin.take();
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("a pipe"))
        .read_line(&mut line)
        .expect("the helper's first line");
    (
        Helper {
            child,
            _stdin: stdin,
        },
        line.trim().to_owned(),
    )
}

/// An origin that holds every connection open (and echoes): the process
/// and its port.
pub fn origin() -> (Helper, u16) {
    let (helper, line) = start(&["origin".to_owned()]);
    let port = line
        .strip_prefix("port ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("the origin said `{line}`"));
    (helper, port)
}

/// `n` tunnels through the proxy on 127.0.0.1:`proxy_port` to `target`
/// (`host:port`), each with one echo through it; returns once all are
/// held (or panics with what the clients said). They close when the
/// helper is dropped.
pub fn clients(proxy_port: u16, target: &str, n: usize) -> Helper {
    let (helper, line) = start(&[
        "clients".to_owned(),
        proxy_port.to_string(),
        target.to_owned(),
        n.to_string(),
    ]);
    assert_eq!(
        line,
        format!("held {n}"),
        "the clients did not hold their tunnels"
    );
    helper
}
