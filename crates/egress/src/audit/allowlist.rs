//! `egress audit allowlist`: a list, firewall rules, a Squid
//! configuration or a PAC file, read with egress-audit's readers and
//! reported per plan row.

use std::io::Read;

use anyhow::Context as _;
use std::sync::Arc;

use egress_audit::allowlist::{self, AllowlistReport};
use egress_audit::report::{allowlist_markdown, allowlist_text, nearest};
use egress_catalog::Plan;
use egress_catalog::explain::{Explainer, Placeholders};
use egress_catalog::plan;
use egress_pattern::HostPattern;

use super::{emit, open_bytes};
use crate::Exit;
use crate::cli::{AllowlistInput, AuditAllowlistArgs};
use crate::context;

pub(super) fn run(args: &AuditAllowlistArgs) -> anyhow::Result<Exit> {
    let loaded = context::load(&args.source)?;
    context::check_ids(&loaded.catalog, &args.select)?;
    let request = context::request(&loaded, &args.select, args.cloud);
    let plan = Arc::new(plan::resolve(&loaded.catalog, &request));
    let catalog = Arc::new(loaded.catalog.clone());
    let explainer = Explainer::new(
        std::slice::from_ref(&catalog),
        Some(plan.clone()),
        Placeholders::Unresolved,
    );
    let near = |pattern: &HostPattern| nearest(&catalog, &plan, &explainer, pattern);
    let mut entries = Vec::new();
    let mut notes = Vec::new();
    let mut problems = Vec::new();
    // A Squid configuration or a PAC file: asked, not read as a list.
    let mut program: Option<(String, String)> = None;
    let client = match &args.client {
        Some(text) => Some(
            egress_catalog::profile::AddressRange::parse(text)
                .map_err(|e| anyhow::anyhow!("--client {text}: {e}"))?,
        ),
        None => None,
    };
    if args.input != AllowlistInput::Squid {
        for (given, option) in [
            (args.root.is_some(), "--root"),
            (args.proxy_user.is_some(), "--proxy-user"),
        ] {
            if given {
                anyhow::bail!("{option} goes with --input squid");
            }
        }
    }
    // A PAC file answers for any client: its `myIpAddress()` is not the
    // client's address.
    if args.input == AllowlistInput::Pac && args.client.is_some() {
        anyhow::bail!(
            "--client goes with --input squid, plain, pan-edl, aws-network-firewall and azure-firewall (the rules' sources)"
        );
    }
    for name in &args.files {
        let mut bytes = Vec::new();
        open_bytes(name)?
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read {name}"))?;
        let text = match args.input {
            // Squid reads bytes: a comment in Latin-1 does not stop it.
            AllowlistInput::Squid => String::from_utf8_lossy(&bytes).into_owned(),
            // Browsers and pacparser run a PAC file with a Latin-1 comment.
            AllowlistInput::Pac => {
                let (text, error) = egress_text::decode_lossy(&bytes);
                if let Some(e) = error {
                    eprintln!(
                        "egress: warning: {name}:{}:{}: {}; read with U+FFFD in its place",
                        e.line, e.column, e.what
                    );
                }
                text.text
            }
            _ => {
                egress_text::decode(&bytes)
                    .map_err(|e| anyhow::anyhow!("{name}:{e}"))?
                    .text
            }
        };
        let read = match args.input {
            AllowlistInput::Squid | AllowlistInput::Pac => {
                if program.is_some() {
                    anyhow::bail!(
                        "--input squid and --input pac read one file (a Squid configuration names the others with `include`)"
                    );
                }
                program = Some((name.clone(), text));
                continue;
            }
            AllowlistInput::Plain => allowlist::read_plain(name, &text).map(|e| (e, Vec::new())),
            AllowlistInput::PanEdl => allowlist::read_pan_edl(name, &text),
            AllowlistInput::AwsNetworkFirewall => allowlist::read_aws(name, &text),
            AllowlistInput::AzureFirewall => allowlist::read_azure(name, &text),
        };
        match read {
            Ok((mut e, mut n)) => {
                entries.append(&mut e);
                notes.append(&mut n);
            }
            Err(mut e) => problems.append(&mut e),
        }
    }
    unreadable(&problems)?;
    let mut report = match program {
        Some((name, text)) if args.input == AllowlistInput::Pac => {
            pac_audit(&name, &text, &plan, &args.pac_blackhole, near)?
        }
        Some((name, text)) => squid_audit(&name, &text, args, client, &loaded, &plan, near)?,
        None => {
            let servers = context::server_sources(&loaded);
            let clients = egress_audit::asked::row_clients(&servers, client);
            let mut report = allowlist::audit(&plan, &entries, &clients, near);
            // What a list cannot say, said first.
            if matches!(args.input, AllowlistInput::Plain | AllowlistInput::PanEdl) {
                notes.insert(
                    0,
                    "this list cannot restrict ports or schemes: a row it allows is allowed on every port".to_owned(),
                );
            }
            let mut seen = std::collections::HashSet::new();
            notes.retain(|n| seen.insert(n.clone()));
            report.notes = notes;
            report
        }
    };
    if !plan.networks.is_empty() {
        report.notes.push(format!(
            "the plan's {} IP ranges are not judged: the audit reads host entries",
            plan.networks.len()
        ));
    }
    let header = crate::plan::header(&plan, &loaded);
    emit(
        args.format,
        &header,
        &report,
        allowlist_text,
        allowlist_markdown,
    )?;
    Ok(if report.blocks() {
        Exit::Found
    } else {
        Exit::Success
    })
}

/// Fails with every problem of an allowlist that cannot be read.
fn unreadable(problems: &[allowlist::ReadError]) -> anyhow::Result<()> {
    if problems.is_empty() {
        return Ok(());
    }
    Err(unreadable_error(problems))
}

/// Every problem of an allowlist that cannot be read, as one error.
fn unreadable_error(problems: &[allowlist::ReadError]) -> anyhow::Error {
    let count = match problems.len() {
        1 => "1 problem".to_owned(),
        n => format!("{n} problems"),
    };
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    anyhow::anyhow!(
        "the allowlist cannot be read ({count}):\n{}",
        lines.join("\n")
    )
}

/// Holds a Squid configuration against the plan: its includes and list
/// files read through [`SquidFiles`], authentication judged as
/// `--proxy-user` or the profile's proxy user, `src` rules as `--client`
/// or the profile's servers of each row's roles.
fn squid_audit(
    name: &str,
    text: &str,
    args: &AuditAllowlistArgs,
    client: Option<egress_catalog::profile::AddressRange>,
    loaded: &context::Loaded,
    plan: &Plan,
    nearest: impl Fn(&HostPattern) -> Option<String>,
) -> anyhow::Result<AllowlistReport> {
    let files = SquidFiles {
        root: args.root.clone(),
        folder: std::path::Path::new(name)
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default(),
    };
    if let Some(root) = &args.root
        && !root.is_dir()
    {
        anyhow::bail!("--root {}: not a folder", root.display());
    }
    let config = egress_audit::squid::read(name, text, &files).map_err(|p| unreadable_error(&p))?;
    let profile_proxy = loaded.profile.as_ref().and_then(|p| p.proxy.as_ref());
    let user: Option<String> = args.proxy_user.clone().or_else(|| {
        let proxy = profile_proxy?;
        if let Some(user) = &proxy.user {
            return Some(user.value.clone());
        }
        let url = url::Url::parse(&proxy.url.as_ref()?.value).ok()?;
        let user = percent_encoding::percent_decode_str(url.username())
            .decode_utf8_lossy()
            .into_owned();
        (!user.is_empty()).then_some(user)
    });
    let servers = context::server_sources(loaded);
    let clients = egress_audit::asked::row_clients(&servers, client);
    let mut report = egress_audit::squid::audit(&config, plan, user.as_deref(), &clients, nearest);
    match (&user, &args.proxy_user) {
        (Some(user), Some(_)) => report.notes.push(format!(
            "authentication rules are judged as the user `{user}` (--proxy-user)"
        )),
        (Some(user), None) => report.notes.push(format!(
            "authentication rules are judged as the user `{user}` (the profile's [proxy] user)"
        )),
        (None, _) => {}
    }
    if let Some(text) = &args.client {
        report.notes.push(format!(
            "`src` rules are judged for the client {text} (--client)"
        ));
    }
    Ok(report)
}

/// A Squid configuration's files as egress finds them: an absolute path
/// below `--root` when it is given; otherwise as written, then (not
/// found) below the configuration's folder.
struct SquidFiles {
    root: Option<std::path::PathBuf>,
    folder: std::path::PathBuf,
}

impl SquidFiles {
    /// Where to look for `path`, in order. Below `--root`, `..` never
    /// leaves the root, as it never leaves `/`.
    fn candidates(&self, path: &str) -> Vec<std::path::PathBuf> {
        let relative = path.trim_start_matches('/');
        match &self.root {
            Some(root) if path.starts_with('/') => vec![root.join(confined(relative))],
            Some(_) => vec![self.folder.join(path)],
            None if path.starts_with('/') => vec![path.into(), self.folder.join(relative)],
            None => vec![path.into(), self.folder.join(path)],
        }
    }

    /// The first candidate for `path` that `open` takes, or why none.
    fn first<T>(
        &self,
        path: &str,
        open: impl Fn(&std::path::Path) -> std::io::Result<T>,
    ) -> Result<T, String> {
        let candidates = self.candidates(path);
        let mut last = std::io::Error::from(std::io::ErrorKind::NotFound);
        for candidate in &candidates {
            match open(candidate) {
                Ok(found) => return Ok(found),
                Err(e) => last = e,
            }
        }
        let tried: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
        let hint = if self.root.is_none() && path.starts_with('/') {
            "; give --root DIR, a copy of the proxy's file tree"
        } else {
            ""
        };
        Err(format!("{last} (tried {}){hint}", tried.join(", ")))
    }
}

/// A path below a root with `.` and `..` taken as the root takes them:
/// `..` at the top stays at the top.
fn confined(relative: &str) -> std::path::PathBuf {
    let mut parts: Vec<&str> = Vec::new();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.iter().collect()
}

impl egress_audit::squid::Files for SquidFiles {
    fn read(&self, path: &str) -> Result<String, String> {
        // Squid reads bytes: a comment in Latin-1 does not stop it.
        self.first(path, |p| {
            std::fs::read(p).map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        })
    }

    fn list(&self, path: &str) -> Result<Vec<String>, String> {
        self.first(path, |p| {
            Ok(std::fs::read_dir(p)?
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect())
        })
    }
}

/// Holds a PAC file against the plan: each row's URLs are asked of it
/// (egress-pac), and a row whose URL it routes to one of `blackholes` is
/// blocked. The PAC's DNS lookups get no answer.
fn pac_audit(
    name: &str,
    text: &str,
    plan: &Plan,
    blackholes: &[String],
    nearest: impl Fn(&HostPattern) -> Option<String>,
) -> anyhow::Result<AllowlistReport> {
    /// The machine a PAC file asks about, for an audit: no DNS answers,
    /// the loopback address as its own.
    struct Offline;
    impl egress_pac::PacHost for Offline {
        fn resolve(&self, host: &str) -> Vec<std::net::IpAddr> {
            host.parse().into_iter().collect()
        }
        fn my_addresses(&self) -> Vec<std::net::IpAddr> {
            vec![std::net::Ipv4Addr::LOCALHOST.into()]
        }
    }
    let route = |r: &str| {
        r.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_uppercase()
    };
    let blackholes: Vec<String> = blackholes.iter().map(|b| route(b)).collect();
    let pac = std::cell::RefCell::new(
        egress_pac::Pac::compile(name, text, std::rc::Rc::new(Offline))
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let decide = |r: &egress_audit::asked::Request<'_>| {
        // What a client passes: the URL without a CONNECT's port 443.
        let url = if r.method == "CONNECT" {
            match r.port {
                443 => format!("https://{}/", r.host),
                port => format!("https://{}:{port}/", r.host),
            }
        } else {
            r.url.to_owned()
        };
        match pac.borrow_mut().find_proxy(&url, r.host) {
            Ok((result, _)) => {
                let first = result.split(';').next().unwrap_or_default();
                egress_audit::asked::Decision::plain(
                    !blackholes.contains(&route(first)),
                    Some(format!("{name}: {url} -> {result}")),
                )
            }
            Err(e) => {
                egress_audit::asked::Decision::plain(false, Some(format!("{name}: {url}: {e}")))
            }
        }
    };
    let notes = vec![
        "a PAC file's DNS lookups (dnsResolve, isResolvable, isInNet on a name) get no answer here, and myIpAddress() is 127.0.0.1".to_owned(),
        "a PAC file routes by URL and host only: it cannot restrict ports".to_owned(),
    ];
    Ok(egress_audit::asked::by_asking(
        plan,
        &decide,
        false,
        &|_| vec![egress_audit::asked::Client::Unknown],
        Vec::new(),
        notes,
        nearest,
    ))
}
