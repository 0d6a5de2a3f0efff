//! Other people's proxies, as users have them: tinyproxy (Debian) and
//! mitmproxy (PyPI, in the virtualenv `scripts/test` makes), each in its own
//! folder and port, stopped when dropped.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::tools::{MITMPROXY, TINYPROXY, free_port};

/// A running proxy process.
#[derive(Debug)]
pub struct Running {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `port` accepts connections, or fails with `log`'s text.
fn wait_for(port: u16, child: &mut Child, log: &Path, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        let exited = child.try_wait().ok().flatten();
        assert!(
            exited.is_none() && Instant::now() < deadline,
            "{what} did not start ({exited:?}): {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// Starts tinyproxy on a new loopback port with `settings` (lines of
/// tinyproxy.conf: filters, `ConnectPort`, `BasicAuth`, `Upstream`...).
/// Its filter file, when `filter` is given, holds those lines.
pub fn tinyproxy(settings: &str, filter: Option<&str>) -> Running {
    let tinyproxy = TINYPROXY.path();
    let dir = crate::squid::folder();
    let d = dir.path();
    let port = free_port();
    let mut conf = format!(
        "Port {port}\nListen 127.0.0.1\nTimeout 10\nMaxClients 50\nLogLevel Info\n\
         LogFile \"{d}/tinyproxy.log\"\nPidFile \"{d}/tinyproxy.pid\"\n\
         User nobody\nGroup nogroup\n{settings}\n",
        d = d.display()
    );
    if let Some(filter) = filter {
        std::fs::write(d.join("filter"), filter).expect("the filter file");
        conf.push_str(&format!("Filter \"{}/filter\"\n", d.display()));
    }
    std::fs::write(d.join("tinyproxy.conf"), conf).expect("tinyproxy.conf");
    let log = d.join("tinyproxy.log");
    let mut child = Command::new(&tinyproxy)
        .args(["-d", "-c"])
        .arg(d.join("tinyproxy.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tinyproxy starts");
    wait_for(port, &mut child, &log, "tinyproxy");
    Running { child, port, dir }
}

/// Starts mitmdump on a new loopback port, its own CA made in its folder
/// (`Running::dir/mitmproxy-ca-cert.pem` once started), trusting
/// `upstream_ca` for the origins, with the addon `addon` (Python source,
/// may be empty) and further `--set` options.
pub fn mitmproxy(upstream_ca: &str, addon: &str, options: &[&str]) -> Running {
    let mitmdump = MITMPROXY.path();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let d = dir.path();
    std::fs::write(d.join("upstream-ca.pem"), upstream_ca).expect("the upstream CA");
    std::fs::write(d.join("addon.py"), addon).expect("the addon");
    let port = free_port();
    let log = d.join("mitmdump.log");
    let mut child = Command::new(&mitmdump)
        .args([
            "--listen-host",
            "127.0.0.1",
            "--listen-port",
            &port.to_string(),
        ])
        .arg("--set")
        .arg(format!("confdir={}", d.display()))
        .arg("--set")
        .arg(format!(
            "ssl_verify_upstream_trusted_ca={}/upstream-ca.pem",
            d.display()
        ))
        .arg("-s")
        .arg(d.join("addon.py"))
        .args(options)
        .stdout(std::fs::File::create(&log).expect("the log"))
        .stderr(Stdio::null())
        .spawn()
        .expect("mitmdump starts");
    wait_for(port, &mut child, &log, "mitmdump");
    Running { child, port, dir }
}

impl Running {
    /// mitmproxy's CA certificate (PEM), which it makes at its start.
    pub fn mitmproxy_ca(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mitmproxy-ca-cert.pem"))
            .expect("mitmproxy wrote its CA")
    }
}

/// A proxy that follows a script, for what no real proxy does on purpose
/// (a malformed NTLM challenge, a connection closed between the legs):
/// on each connection it answers the n-th request with `answers[n]` (raw
/// HTTP responses) and closes the connection after the last. Its port.
pub fn scripted_proxy(answers: &[&str]) -> u16 {
    use std::io::{Read, Write};
    let answers: Vec<String> = answers.iter().map(|a| a.to_string()).collect();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("its address").port();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let answers = answers.clone();
            thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                for answer in &answers {
                    // The request head, byte by byte up to the blank line.
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match stream.read(&mut byte) {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    if stream.write_all(answer.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}
