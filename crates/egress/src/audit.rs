//! `egress audit`: what a site already has, held against the plan
//! (docs/audit.md). `audit log` streams proxy logs (gzip too) through
//! egress-audit's readers and tally; `audit allowlist` reads an
//! allowlist with egress-audit's readers and reports per plan row.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};

use anyhow::Context as _;
use std::sync::Arc;

use egress_audit::allowlist::{self, AllowlistReport, Verdict};
use egress_audit::log::{Format, Reader};
use egress_audit::tally::{Audit, AuthBlock, HostCount, Lookup, Report};
use egress_catalog::explain::{Explainer, Input, Placeholders};
use egress_catalog::plan;
use egress_catalog::{Catalog, Plan};
use egress_pattern::HostPattern;
use serde::Serialize;

use crate::Exit;
use crate::cli::{
    AllowlistInput, AuditAllowlistArgs, AuditCommand, AuditFormat, AuditLogArgs, LogInput,
};
use crate::context;

pub fn run(command: &AuditCommand) -> anyhow::Result<Exit> {
    match command {
        AuditCommand::Log(args) => log(args),
        AuditCommand::Allowlist(args) => allowlist(args),
    }
}

fn allowlist(args: &AuditAllowlistArgs) -> anyhow::Result<Exit> {
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
        allowlist_table,
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

/// What the catalog knows of an entry no plan row explains: the catalog
/// endpoints it covers and why the plan does not need them, or the
/// explain engine's near miss.
fn nearest(
    catalog: &Catalog,
    plan: &Plan,
    explainer: &Explainer,
    pattern: &HostPattern,
) -> Option<String> {
    let values = &plan.request.placeholders;
    let covered: Vec<String> = catalog
        .endpoints
        .iter()
        .filter_map(|e| {
            let p = e
                .destination
                .host()
                .resolve(|name| values.get(name).map(String::as_str))
                .ok()?;
            pattern.covers(&p).then(|| p.to_string())
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let sample = |p: &str| p.replacen('*', "x", 1);
    match covered.first() {
        Some(first) => {
            let input = Input::parse(&sample(first)).ok()?;
            let why = explainer
                .explain(&input)
                .plan
                .map(|v| v.reason)
                .unwrap_or_default();
            Some(format!(
                "the catalog needs only {} here; this plan does not: {why}",
                covered
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
        None => {
            let input = Input::parse(&sample(&pattern.to_string())).ok()?;
            explainer.explain(&input).near_miss.map(|n| n.reason)
        }
    }
}

fn verdict_text(v: Verdict) -> &'static str {
    match v {
        Verdict::Allowed => "allowed",
        Verdict::Broader => "allowed more broadly",
        Verdict::NotJudged => "NOT JUDGED",
        Verdict::NeedsAuth => "needs authentication",
        Verdict::Partly => "BLOCKED in part",
        Verdict::Blocked => "BLOCKED",
    }
}

/// The counts of a report: rows not judged and rows that need
/// authentication first (they are neither allowed nor blocked), then the
/// rest.
fn allowlist_summary(r: &AllowlistReport) -> String {
    let count = |v: Verdict| r.rows.iter().filter(|x| x.verdict == v).count();
    let mut parts = Vec::new();
    if count(Verdict::NotJudged) > 0 {
        parts.push(format!("{} NOT JUDGED", count(Verdict::NotJudged)));
    }
    if count(Verdict::NeedsAuth) > 0 {
        parts.push(format!(
            "{} need authentication (give --proxy-user)",
            count(Verdict::NeedsAuth)
        ));
    }
    parts.push(format!("{} allowed", count(Verdict::Allowed)));
    parts.push(format!("{} allowed more broadly", count(Verdict::Broader)));
    parts.push(format!("{} blocked in part", count(Verdict::Partly)));
    parts.push(format!("{} blocked", count(Verdict::Blocked)));
    let inspected = r
        .rows
        .iter()
        .filter(|x| {
            x.tls
                .as_deref()
                .is_some_and(|t| t.starts_with("TLS inspection:"))
        })
        .count();
    if inspected > 0 {
        parts.push(format!("{inspected} TLS-inspected"));
    }
    format!(
        "{} plan rows: {}; {} entries no row explains",
        r.rows.len(),
        parts.join(", "),
        r.unexplained.len()
    )
}

fn allowlist_table(header: &[String], r: &AllowlistReport) -> String {
    let mut out = String::new();
    for line in header {
        let _ = writeln!(out, "# {line}");
    }
    for note in &r.notes {
        let _ = writeln!(out, "# note: {note}");
    }
    let _ = writeln!(out, "# {}\n", allowlist_summary(r));
    let mut rows: Vec<&allowlist::RowAudit> = r
        .rows
        .iter()
        .filter(|x| x.verdict != Verdict::Allowed || x.tls.is_some())
        .collect();
    rows.sort_by_key(|x| std::cmp::Reverse(x.verdict));
    for row in rows {
        let _ = writeln!(out, "{}  {}", verdict_text(row.verdict), row.row);
        let _ = writeln!(out, "    features: {}", row.features.join(", "));
        let _ = writeln!(out, "    roles: {}", row.roles.join(", "));
        if let Some(tls) = &row.tls {
            let _ = writeln!(out, "    {tls}");
        }
        for e in &row.entries {
            // A rule, or a statement of its own (what else it admits,
            // how one request of the row fared).
            if ["also admits", "CONNECT ", "GET "]
                .iter()
                .any(|p| e.starts_with(p))
            {
                let _ = writeln!(out, "    {e}");
            } else {
                let _ = writeln!(out, "    by {e}");
            }
        }
    }
    if !r.unexplained.is_empty() {
        let _ = writeln!(out, "\nEntries no plan row explains:");
        for u in &r.unexplained {
            let _ = writeln!(out, "  {}:{}: {}", u.file, u.line, u.entry);
            if let Some(n) = &u.nearest {
                let _ = writeln!(out, "    {n}");
            }
        }
    }
    out
}

fn allowlist_markdown(header: &[String], r: &AllowlistReport) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = String::from("# egress audit allowlist\n\n");
    for line in header {
        let _ = writeln!(out, "- {}", cell(line));
    }
    for note in &r.notes {
        let _ = writeln!(out, "- note: {}", cell(note));
    }
    let _ = writeln!(
        out,
        "- {}\n\n## Plan rows\n\n| row | verdict | TLS | features | roles | entries |\n|---|---|---|---|---|---|",
        allowlist_summary(r)
    );
    for row in &r.rows {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            row.row,
            verdict_text(row.verdict),
            cell(row.tls.as_deref().unwrap_or("")),
            cell(&row.features.join(", ")),
            cell(&row.roles.join(", ")),
            cell(&row.entries.join("; "))
        );
    }
    if !r.unexplained.is_empty() {
        let _ = writeln!(
            out,
            "\n## Entries no plan row explains\n\n| entry | where | the catalog |\n|---|---|---|"
        );
        for u in &r.unexplained {
            let _ = writeln!(
                out,
                "| `{}` | {}:{} | {} |",
                u.entry,
                u.file,
                u.line,
                cell(u.nearest.as_deref().unwrap_or(""))
            );
        }
    }
    out
}

/// A file (or `-`, standard input) as bytes, through gzip when it is
/// compressed (its name ends in `.gz`, or it starts with gzip's magic).
fn open_bytes(name: &str) -> anyhow::Result<Box<dyn BufRead>> {
    const BUFFER: usize = 256 * 1024;
    let raw: Box<dyn Read> = if name == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(name).with_context(|| format!("cannot read {name}"))?)
    };
    let mut reader = BufReader::with_capacity(BUFFER, raw);
    let magic = reader
        .fill_buf()
        .with_context(|| format!("cannot read {name}"))?
        .starts_with(&[0x1f, 0x8b]);
    if magic || name.ends_with(".gz") {
        let gz = flate2::bufread::MultiGzDecoder::new(reader);
        return Ok(Box::new(BufReader::with_capacity(BUFFER, gz)));
    }
    Ok(Box::new(reader))
}

/// A log (or `-`) as UTF-8 text: gzip decompressed, a UTF-8 byte order
/// mark skipped, UTF-16 (with its mark, as Windows tools write) transcoded
/// as it is read (egress-text). Other bytes pass to the readers, which
/// judge each line.
fn open(name: &str) -> anyhow::Result<Box<dyn BufRead>> {
    let mut reader = open_bytes(name)?;
    let head = reader
        .fill_buf()
        .with_context(|| format!("cannot read {name}"))?;
    match egress_text::Encoding::sniff(head) {
        (egress_text::Encoding::Utf8, _) => Ok(reader),
        (egress_text::Encoding::Utf8Bom, mark) => {
            reader.consume(mark);
            Ok(reader)
        }
        (egress_text::Encoding::Utf16Le | egress_text::Encoding::Utf16Be, _) => Ok(Box::new(
            BufReader::with_capacity(256 * 1024, egress_text::Reader::new(reader)),
        )),
    }
}

/// Whole lines handed to a worker at a time.
const BLOCK: usize = 1 << 20;

/// Reads one log into `audit` (after the logs read before): in blocks of
/// whole lines, tallied on as many threads as there are cores (a W3C log
/// on one: its `#Fields:` lines apply to the lines after them), the
/// threads' tallies merged at the end, and what each block says of
/// authentication folded in log order as the blocks come back.
fn read_log<'l>(
    name: &str,
    format: Format,
    audit: &mut Audit<'l>,
    lookup: &'l Lookup<'l>,
    top: usize,
    unplanned: bool,
) -> anyhow::Result<()> {
    let mut input = open(name)?;
    let workers = match format {
        Format::W3c => 1,
        Format::Squid | Format::Egress => {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    };
    // Blocks go out numbered; what each says of authentication comes back
    // with its number and is folded in log order.
    let (send, receive) = std::sync::mpsc::sync_channel::<(u64, u64, Vec<u8>)>(2 * workers);
    let receive = std::sync::Mutex::new(receive);
    let (answer, answers) = std::sync::mpsc::channel::<(u64, AuthBlock)>();
    let (sent, tallies) = std::thread::scope(|scope| {
        let tallies: Vec<_> = (0..workers)
            .map(|_| {
                let answer = answer.clone();
                let receive = &receive;
                scope.spawn(move || {
                    let mut audit = Audit::new(lookup, top, unplanned);
                    let mut reader = Reader::new(format);
                    loop {
                        let next = receive.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok((number, first_line, block)) = next else {
                            return audit;
                        };
                        let auth = audit.block_lines(&mut reader, name, first_line, &block);
                        if answer.send((number, auth)).is_err() {
                            return audit;
                        }
                    }
                })
            })
            .collect();
        drop(answer);
        let folder = scope.spawn(|| {
            let mut waiting = BTreeMap::new();
            let mut next = 0u64;
            for (number, auth) in answers {
                waiting.insert(number, auth);
                while let Some(auth) = waiting.remove(&next) {
                    audit.fold(auth);
                    next += 1;
                }
            }
        });
        let sent = send_blocks(&mut *input, name, &send);
        drop(send);
        let tallies: Vec<Audit<'l>> = tallies
            .into_iter()
            .map(|t| t.join().expect("an audit thread panicked"))
            .collect();
        folder.join().expect("the fold thread panicked");
        (sent, tallies)
    });
    for tally in tallies {
        audit.merge(tally);
    }
    sent
}

/// Sends `input` in numbered blocks of whole lines, each with the number
/// of its first line.
fn send_blocks(
    input: &mut dyn Read,
    name: &str,
    send: &std::sync::mpsc::SyncSender<(u64, u64, Vec<u8>)>,
) -> anyhow::Result<()> {
    let mut carry = Vec::new();
    let mut number = 1u64;
    let mut blocks = 0u64;
    loop {
        // Sized for a whole block: read straight into (a read this large
        // passes the BufReader's buffer by) and never grown.
        let mut block = Vec::with_capacity(carry.len() + BLOCK);
        block.append(&mut carry);
        let before = block.len();
        input
            .take(BLOCK as u64)
            .read_to_end(&mut block)
            .with_context(|| format!("cannot read {name} after line {number}"))?;
        let end = block.len() == before;
        if block.is_empty() {
            return Ok(());
        }
        // A block ends after its last whole line; the rest starts the next
        // one (a line longer than a block grows it). At the end of the
        // input, the last line needs no line end.
        if !end {
            match memchr::memrchr(b'\n', &block) {
                Some(last) => carry = block.split_off(last + 1),
                None => {
                    carry = block;
                    continue;
                }
            }
        }
        let lines = memchr::memchr_iter(b'\n', &block).count() as u64;
        let first = number;
        number += lines;
        if send.send((blocks, first, block)).is_err() || end {
            return Ok(());
        }
        blocks += 1;
    }
}

fn log(args: &AuditLogArgs) -> anyhow::Result<Exit> {
    let loaded = context::load(&args.source)?;
    context::check_ids(&loaded.catalog, &args.select)?;
    let request = context::request(&loaded, &args.select, args.cloud);
    let plan = plan::resolve(&loaded.catalog, &request);
    let format = match args.input {
        LogInput::Squid => Format::Squid,
        LogInput::W3c => Format::W3c,
        LogInput::Egress => Format::Egress,
    };
    let lookup = Lookup::new(&plan, &[&loaded.catalog]);
    let (top, unplanned) = (args.top as usize, args.show_unplanned);
    // The files in the order given: one log, its challenges answered
    // across them.
    let mut audit = Audit::new(&lookup, top, unplanned);
    let format_name = match args.input {
        LogInput::Squid => "Squid's native, common or combined format",
        LogInput::W3c => "the W3C extended format",
        LogInput::Egress => "egress proxy's decision log",
    };
    // Never a verdict from a file read as nothing: each file's lines are
    // counted on their own.
    let mut notes = Vec::new();
    let mut nothing = Vec::new();
    for name in &args.files {
        let (lines, requests, bad) = audit.counts();
        read_log(name, format, &mut audit, &lookup, top, unplanned)?;
        let (after, requests_after, bad_after) = audit.counts();
        let (lines, requests, bad) = (after - lines, requests_after - requests, bad_after - bad);
        let first = audit
            .first_bad_in(name)
            .map(|b| format!(": first reason at {}:{}: {}", b.file, b.line, b.reason))
            .unwrap_or_default();
        if requests == 0 {
            let hint = if bad == 0 && lines > 0 {
                " (its lines are comments, directives or transactions without a request)"
            } else {
                "; check --input"
            };
            nothing.push(format!(
                "none of {lines} lines of {name} is a request in {format_name}{first}{hint}"
            ));
        } else if bad * 2 > lines {
            notes.push(format!(
                "most lines of {name} are not requests ({bad} of {lines}){first}; what follows reads only the rest"
            ));
        }
    }
    if !nothing.is_empty() {
        anyhow::bail!("{}", nothing.join("\n"));
    }
    let mut report = audit.report();
    report.notes = notes;
    let header = crate::plan::header(&plan, &loaded);
    emit(args.format, &header, &report, table, markdown)?;
    Ok(
        if report.needed.is_empty() && report.auth_failing.is_empty() {
            Exit::Success
        } else {
            Exit::Found
        },
    )
}

/// Writes a report in `format`: JSON (the header and the report's
/// fields), or the table or markdown its writers make.
fn emit<R: Serialize>(
    format: AuditFormat,
    header: &[String],
    report: &R,
    table: fn(&[String], &R) -> String,
    markdown: fn(&[String], &R) -> String,
) -> anyhow::Result<()> {
    #[derive(Serialize)]
    struct Doc<'a, R> {
        header: &'a [String],
        #[serde(flatten)]
        report: &'a R,
    }
    let text = match format {
        AuditFormat::Json => serde_json::to_string_pretty(&Doc { header, report })? + "\n",
        AuditFormat::Table => table(header, report),
        AuditFormat::Markdown => markdown(header, report),
    };
    crate::output::emit(&text, None)
}

fn summary(r: &Report) -> String {
    format!(
        "{} lines: {} requests ({} denied, {} failed, {} authentication challenges), {} not requests",
        r.lines, r.requests, r.denied, r.failed, r.challenged, r.bad_lines
    )
}

/// The clients whose authentication fails, one line each (and its
/// rows' features), for the table.
fn auth_failing_lines(r: &Report) -> Vec<String> {
    r.auth_failing
        .iter()
        .map(|a| {
            format!(
                "  {}  client {}{}  {} challenges (407), no other answer after  first {}  last {}\n    row {}: features {}; roles {}",
                a.host,
                a.client,
                a.user.as_deref().map_or(String::new(), |u| format!(" as {u}")),
                a.challenges,
                a.first_seen,
                a.last_seen,
                a.row,
                a.features.join(", "),
                a.roles.join(", ")
            )
        })
        .collect()
}

fn hosts(list: &[HostCount]) -> String {
    list.iter()
        .map(|h| format!("{} ({})", h.host, h.count))
        .collect::<Vec<_>>()
        .join(", ")
}

fn table(header: &[String], r: &Report) -> String {
    let mut out = String::new();
    for line in header {
        let _ = writeln!(out, "# {line}");
    }
    for note in &r.notes {
        let _ = writeln!(out, "# NOTE: {note}");
    }
    let _ = writeln!(out, "# read as: {}", r.read_as.join(", "));
    let _ = writeln!(out, "# {}", summary(r));
    for bad in &r.first_bad_lines {
        let _ = writeln!(
            out,
            "# not a request: {}:{}: {}",
            bad.file, bad.line, bad.reason
        );
    }
    let _ = writeln!(out);
    if r.needed.is_empty() {
        let _ = writeln!(out, "No denied or failed request is one the plan needs.");
    } else {
        let _ = writeln!(
            out,
            "Denied or failed requests the plan needs ({} rows): the features below break",
            r.needed.len()
        );
        for n in &r.needed {
            let statuses: Vec<String> = n
                .statuses
                .iter()
                .map(|(s, c)| format!("{s} x{c}"))
                .collect();
            let _ = writeln!(
                out,
                "  {}  {} requests ({})  first {}  last {}",
                n.row,
                n.count,
                statuses.join(", "),
                n.first_seen,
                n.last_seen
            );
            let _ = writeln!(out, "    features: {}", n.features.join(", "));
            let _ = writeln!(out, "    roles: {}", n.roles.join(", "));
            let more = if n.more_clients { ", ..." } else { "" };
            let _ = writeln!(out, "    clients: {}{more}", n.clients.join(", "));
            let _ = writeln!(out, "    hosts: {}", hosts(&n.hosts));
        }
    }
    if !r.auth_failing.is_empty() {
        let _ = writeln!(
            out,
            "\nAuthentication failing ({} client and host pairs): the proxy asked for credentials and never took them\n\
             Next: check the account these clients authenticate as (the site system's proxy account, or its computer account), and the proxy's authentication helper",
            r.auth_failing.len()
        );
        for line in auth_failing_lines(r) {
            let _ = writeln!(out, "{line}");
        }
    }
    if !r.wildcards.is_empty() {
        let _ = writeln!(out, "\nHosts seen under the plan's wildcards:");
        for w in &r.wildcards {
            let more = match w.count_error {
                0 => String::new(),
                e => format!(" (the most seen; counts at most {e} high)"),
            };
            let _ = writeln!(out, "  {}{more}: {}", w.row, hosts(&w.hosts));
        }
    }
    if !r.denied_not_in_catalog.is_empty() {
        let _ = writeln!(
            out,
            "\nDenied hosts the catalog does not know (most denied first):"
        );
        for h in &r.denied_not_in_catalog {
            let _ = writeln!(out, "  {} ({})", h.host, h.count);
        }
    }
    if let Some(unplanned) = &r.unplanned {
        let _ = writeln!(out, "\nAllowed hosts outside the plan (most seen first):");
        for h in unplanned {
            let _ = writeln!(out, "  {} ({})", h.host, h.count);
        }
    }
    out
}

fn markdown(header: &[String], r: &Report) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = String::from("# egress audit log\n\n");
    for line in header {
        let _ = writeln!(out, "- {}", cell(line));
    }
    for note in &r.notes {
        let _ = writeln!(out, "- **note: {}**", cell(note));
    }
    let _ = writeln!(out, "- read as: {}", cell(&r.read_as.join(", ")));
    let _ = writeln!(out, "- {}", summary(r));
    for bad in &r.first_bad_lines {
        let _ = writeln!(
            out,
            "- not a request: `{}:{}`: {}",
            bad.file,
            bad.line,
            cell(&bad.reason)
        );
    }
    let _ = writeln!(out, "\n## Denied or failed requests the plan needs\n");
    if r.needed.is_empty() {
        let _ = writeln!(out, "None.");
    } else {
        let _ = writeln!(
            out,
            "| plan row | requests | features | roles | first seen | last seen | clients | hosts |\n|---|---|---|---|---|---|---|---|"
        );
        for n in &r.needed {
            let more = if n.more_clients { ", ..." } else { "" };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} | {}{more} | {} |",
                n.row,
                n.count,
                cell(&n.features.join(", ")),
                cell(&n.roles.join(", ")),
                cell(&n.first_seen),
                cell(&n.last_seen),
                cell(&n.clients.join(", ")),
                cell(&hosts(&n.hosts))
            );
        }
    }
    if !r.auth_failing.is_empty() {
        let _ = writeln!(
            out,
            "\n## Authentication failing\n\nThe proxy asked these clients for credentials (407) and never took them. Check the account they authenticate as (the site system's proxy account, or its computer account) and the proxy's authentication helper.\n\n| host | client | user | challenges | features | roles | first seen | last seen |\n|---|---|---|---|---|---|---|---|"
        );
        for a in &r.auth_failing {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
                a.host,
                cell(&a.client),
                cell(a.user.as_deref().unwrap_or("")),
                a.challenges,
                cell(&a.features.join(", ")),
                cell(&a.roles.join(", ")),
                cell(&a.first_seen),
                cell(&a.last_seen)
            );
        }
    }
    if !r.wildcards.is_empty() {
        let _ = writeln!(
            out,
            "\n## Hosts seen under the plan's wildcards\n\n| wildcard | hosts (requests) |\n|---|---|"
        );
        for w in &r.wildcards {
            let _ = writeln!(out, "| `{}` | {} |", w.row, cell(&hosts(&w.hosts)));
        }
    }
    let lists = [
        (
            "Denied hosts the catalog does not know",
            Some(&r.denied_not_in_catalog),
        ),
        ("Allowed hosts outside the plan", r.unplanned.as_ref()),
    ];
    for (title, list) in lists {
        let Some(list) = list.filter(|l| !l.is_empty()) else {
            continue;
        };
        let _ = writeln!(out, "\n## {title}\n\n| host | requests |\n|---|---|");
        for h in list {
            let _ = writeln!(out, "| `{}` | {} |", h.host, h.count);
        }
    }
    out
}
