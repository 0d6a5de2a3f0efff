//! A real Squid (Debian's `squid-openssl`) on loopback, with its own folder, port,
//! pid file and logs, so that tests run in parallel; stopped when dropped.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::tools::{PYSPNEGO, SQUID, free_port, pyspnego_path};

#[derive(Debug)]
pub struct Squid {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Drop for Squid {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A folder Squid may write to (it drops root for the `proxy` user).
pub fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    #[cfg(unix)]
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("a folder anyone may write");
    dir
}

impl Squid {
    /// Starts Squid in `dir` (from [`folder`]) with the access rules
    /// `rules` after a configuration that listens on a new loopback port,
    /// resolves `names` to 127.0.0.1 (and nothing else: no DNS), and
    /// caches nothing. The configuration must parse without a warning or
    /// an error (`squid -k parse`).
    pub fn start(dir: tempfile::TempDir, names: &[&str], rules: &str) -> Squid {
        let squid = SQUID.path();
        let d = dir.path();
        let hosts: String = names.iter().map(|n| format!("127.0.0.1 {n}\n")).collect();
        std::fs::write(d.join("hosts"), hosts).expect("the hosts file");
        let port = free_port();
        let conf = format!(
            "http_port 127.0.0.1:{port}\n\
             pid_filename {d}/squid.pid\n\
             access_log stdio:{d}/access.log\n\
             cache_log {d}/cache.log\n\
             cache_store_log none\n\
             cache deny all\n\
             cache_mem 8 MB\n\
             coredump_dir {d}\n\
             hosts_file {d}/hosts\n\
             dns_nameservers 127.0.0.1\n\
             pinger_enable off\n\
             netdb_filename none\n\
             shutdown_lifetime 0 seconds\n\
             visible_hostname egress-test\n\
             {rules}",
            d = d.display(),
        );
        let conf_path = d.join("squid.conf");
        std::fs::write(&conf_path, conf).expect("squid.conf");
        parse(&squid, &conf_path);
        run(&squid, &conf_path, port, dir)
    }
}

/// The directives whose files the tests own: dropped from a proxy's
/// configuration before Squid runs it, and set to the test's folder.
const OWN_FILES: &[&str] = &[
    "pid_filename",
    "access_log",
    "cache_log",
    "cache_store_log",
    "cache_dir",
    "coredump_dir",
    "hosts_file",
    "dns_nameservers",
];

/// Writes a proxy's file tree below `root`: each file at its absolute
/// path (as the configuration names it, `/etc/squid/squid.conf`) joined
/// to `root`, readable by Squid's user.
pub fn write_tree(root: &Path, files: &[(&str, String)]) {
    for (path, text) in files {
        let file = root.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(file.parent().expect("a folder")).expect("the tree's folders");
        std::fs::write(&file, text).expect("a file of the tree");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for folder in file.ancestors().skip(1).take_while(|f| f.starts_with(root)) {
                std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o755))
                    .expect("chmod");
            }
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        }
    }
}

impl Squid {
    /// Starts Squid on a proxy's configuration as written: `files` (see
    /// [`write_tree`]) with the main configuration at `config`, both by
    /// their absolute paths. Squid runs a copy in its own folder, changed
    /// only where a test must (line endings kept): the tree's paths point
    /// into the copy, `http_port` listens on a new loopback port (its
    /// options kept), and the pid file, logs, cache and core dumps go to
    /// the folder; `hosts` (name, address) is its hosts file (no DNS). The
    /// configuration must pass `squid -k parse`.
    pub fn start_tree(files: &[(&str, String)], config: &str, hosts: &[(&str, &str)]) -> Squid {
        let squid = SQUID.path();
        let dir = folder();
        let d = dir.path().to_owned();
        let tree = d.join("tree");
        // Paths into the tree, after a blank, a quote, `=` or `(`.
        let mut tops: Vec<&str> = files
            .iter()
            .filter_map(|(path, _)| path.trim_start_matches('/').split('/').next())
            .collect();
        tops.sort_unstable();
        tops.dedup();
        let moved = |text: &str| {
            let mut out = text.to_owned();
            for top in &tops {
                for before in [' ', '\t', '"', '\'', '=', '('] {
                    out = out.replace(
                        &format!("{before}/{top}/"),
                        &format!("{before}{}/{top}/", tree.display()),
                    );
                }
            }
            out
        };
        let port = free_port();
        let copies: Vec<(&str, String)> = files
            .iter()
            .map(|(path, text)| {
                // Line by line, each with its own ending.
                let text: String = moved(text)
                    .split_inclusive('\n')
                    .filter_map(|line| {
                        let body = line.trim_end_matches(['\r', '\n']);
                        let ending = &line[body.len()..];
                        let mut words = body.split_whitespace();
                        match words.next() {
                            Some("http_port") => {
                                let options: Vec<&str> = words.skip(1).collect();
                                Some(format!(
                                    "http_port 127.0.0.1:{port} {}{ending}",
                                    options.join(" ")
                                ))
                            }
                            Some(w) if OWN_FILES.contains(&w) => None,
                            _ => Some(line.to_owned()),
                        }
                    })
                    .collect();
                (*path, text)
            })
            .collect();
        write_tree(&tree, &copies);
        // Squid's certificate database, made as Squid's documentation says
        // (`security_file_certgen -c`), for Squid's user.
        for (_, text) in &copies {
            for line in text.lines().filter(|l| l.starts_with("sslcrtd_program")) {
                let words: Vec<&str> = line.split_whitespace().collect();
                let Some(db) = words
                    .iter()
                    .position(|w| *w == "-s")
                    .and_then(|i| words.get(i + 1))
                else {
                    continue;
                };
                let made = Command::new(words[1])
                    .args(["-c", "-s", db, "-M", "4MB"])
                    .output()
                    .expect("security_file_certgen runs");
                assert!(made.status.success(), "security_file_certgen -c: {made:?}");
                let owned = Command::new("chown")
                    .args(["-R", "proxy:proxy", db])
                    .status()
                    .expect("chown runs");
                assert!(owned.success(), "chown -R proxy {db}");
            }
        }
        let hosts: String = hosts.iter().map(|(n, a)| format!("{a} {n}\n")).collect();
        std::fs::write(d.join("hosts"), hosts).expect("the hosts file");
        let main = tree.join(config.trim_start_matches('/'));
        let own = format!(
            "pid_filename {d}/squid.pid\n\
             access_log stdio:{d}/access.log\n\
             cache_log {d}/cache.log\n\
             cache_store_log none\n\
             coredump_dir {d}\n\
             hosts_file {d}/hosts\n\
             dns_nameservers 127.0.0.1\n\
             pinger_enable off\n\
             netdb_filename none\n\
             shutdown_lifetime 0 seconds\n",
            d = d.display()
        );
        let text = std::fs::read_to_string(&main).expect("the main configuration");
        std::fs::write(&main, own + &text).expect("the main configuration");
        let parse = Command::new(&squid)
            .args(["-k", "parse", "-f"])
            .arg(&main)
            .output()
            .expect("squid -k parse runs");
        assert!(
            parse.status.success(),
            "squid -k parse refuses {config}:\n{}",
            String::from_utf8_lossy(&parse.stderr)
        );
        run(&squid, &main, port, dir)
    }
}

/// Runs Squid in the foreground on `conf` (its logs in `dir`) and waits
/// until it listens on `port`. Each Squid gets a service name of its own
/// (`-n`), which names its shared memory segments: two Squids under the
/// default name, started at once, collide on them.
fn run(squid: &Path, conf: &Path, port: u16, dir: tempfile::TempDir) -> Squid {
    let child = Command::new(squid)
        .args(["-n", &format!("egress{port}"), "-N", "-f"])
        .arg(conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("squid starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "squid did not start: {}",
            std::fs::read_to_string(dir.path().join("cache.log")).unwrap_or_default()
        );
        thread::sleep(Duration::from_millis(50));
    }
    Squid { child, port, dir }
}

/// `squid -k parse`: succeeds, and says no WARNING or ERROR.
fn parse(squid: &Path, conf: &Path) {
    let parse = Command::new(squid)
        .args(["-k", "parse", "-f"])
        .arg(conf)
        .output()
        .expect("squid -k parse runs");
    let messages = String::from_utf8_lossy(&parse.stderr).into_owned()
        + &String::from_utf8_lossy(&parse.stdout);
    assert!(parse.status.success(), "squid -k parse failed:\n{messages}");
    let bad: Vec<&str> = messages
        .lines()
        .filter(|l| l.contains("WARNING") || l.contains("ERROR"))
        .collect();
    assert!(
        bad.is_empty(),
        "squid -k parse complains:\n{}",
        bad.join("\n")
    );
}

/// Squid configuration lines that require NTLM, checked by a helper built
/// on pyspnego (`squid_ntlm_helper.py`) against `users` (domain, user,
/// password), written into `dir` (from [`folder`]) with the helper. With
/// `basic`, Squid offers Basic too, first (`basic_ncsa_auth`, the user
/// `alice` with the password `s3cret`).
pub fn ntlm_rules(dir: &Path, users: &[(&str, &str, &str)], basic: bool) -> String {
    PYSPNEGO.path();
    let pyspnego = pyspnego_path();
    // Squid's helper runs as Squid's user: every folder on the way must
    // let others in.
    #[cfg(unix)]
    for folder in pyspnego.ancestors() {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(folder)
            .map(|m| m.permissions().mode())
            .unwrap_or(0);
        assert!(
            mode & 0o001 != 0,
            "{} is not open to others (mode {:o}): Squid's NTLM helper could not load pyspnego",
            folder.display(),
            mode & 0o777
        );
    }
    let helper = dir.join("ntlm_helper.py");
    std::fs::write(&helper, include_str!("squid_ntlm_helper.py")).expect("the helper");
    let users_file = dir.join("ntlm_users");
    let lines: String = users
        .iter()
        .map(|(d, u, p)| format!("{d}:{u}:{p}\n"))
        .collect();
    std::fs::write(&users_file, lines).expect("the users file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::set_permissions(&users_file, std::fs::Permissions::from_mode(0o644))
            .expect("chmod");
    }
    let basic = if basic {
        // `s3cret`, as `openssl passwd -apr1` writes it.
        std::fs::write(
            dir.join("passwd"),
            "alice:$apr1$hCCxMmJN$7mYY4mPzOl/9V//VgImkU.\n",
        )
        .expect("the password file");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.join("passwd"), std::fs::Permissions::from_mode(0o644))
                .expect("chmod");
        }
        format!(
            "auth_param basic program /usr/lib/squid/basic_ncsa_auth {}/passwd\n\
             auth_param basic realm egress\n",
            dir.display()
        )
    } else {
        String::new()
    };
    format!(
        "{basic}auth_param ntlm program /usr/bin/env EGRESS_PYSPNEGO={} NTLM_USER_FILE={} /usr/bin/python3 {}\n\
         auth_param ntlm children 20 startup=0 idle=1\n\
         acl authenticated proxy_auth REQUIRED\n\
         http_access allow authenticated\n\
         http_access deny all\n",
        pyspnego.display(),
        users_file.display(),
        helper.display()
    )
}
