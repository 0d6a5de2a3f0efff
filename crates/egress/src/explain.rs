//! `egress explain`: which catalog endpoints match a host, and why or why
//! not; one input per argument, or a million from standard input.

use std::io::{BufRead, BufWriter, Write};
use std::sync::Arc;

use anyhow::bail;
use egress_catalog::explain::{Explainer, Explanation, Input, Placeholders};
use egress_catalog::wire::ExplainDoc;
use egress_catalog::{Catalog, Plan, embedded, plan};

use crate::Exit;
use crate::cli::{ExplainArgs, ExplainFormat, Select};
use crate::context::{self, InputError};

pub fn run(args: &ExplainArgs) -> anyhow::Result<Exit> {
    // Inputs on the command line are checked, all of them, before anything
    // is written.
    let mut bad = Vec::new();
    for text in args.inputs.iter().filter(|t| *t != "-") {
        if let Err(e) = Input::parse(text) {
            bad.push(format!("`{text}`: {e}"));
        }
    }
    if !bad.is_empty() {
        bail!("{}", bad.join("\n"));
    }

    // One catalog when one is named; otherwise every embedded revision, so
    // that the answer says which revisions list a host.
    let source = &args.source;
    let named = !source.catalog.is_empty() || source.revision.is_some();
    let loaded = if named || source.profile.is_some() {
        Some(context::load(source)?)
    } else {
        None
    };
    let catalogs: Vec<Arc<Catalog>> = match &loaded {
        Some(l) if named => vec![Arc::new(l.catalog.clone())],
        // The profile's revision with the site's own endpoints and
        // corrections, and the other revisions as they are.
        Some(l) => embedded::all()
            .map_err(InputError)?
            .into_iter()
            .map(|c| {
                Arc::new(if c.meta.revision == l.catalog.meta.revision {
                    l.catalog.clone()
                } else {
                    c
                })
            })
            .collect(),
        None => embedded::all()
            .map_err(InputError)?
            .into_iter()
            .map(Arc::new)
            .collect(),
    };
    let plan: Option<Arc<Plan>> = loaded.as_ref().filter(|l| l.profile.is_some()).map(|l| {
        let request = context::request(l, &Select::default(), None);
        Arc::new(plan::resolve(&l.catalog, &request))
    });
    let placeholders = if args.placeholders_as_labels {
        Placeholders::AsWildcards
    } else {
        Placeholders::Unresolved
    };
    let explainer = Explainer::new(&catalogs, plan, placeholders);

    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut unmatched = 0usize;
    let mut malformed = 0usize;
    for text in &args.inputs {
        if text != "-" {
            let input = Input::parse(text).expect("checked above");
            let e = explainer.explain(&input);
            unmatched += usize::from(!e.matched());
            write(&mut out, args.format, &input, &e)?;
            continue;
        }
        // Decoded as every text input (a UTF-16 list piped from
        // PowerShell, a BOM); a line that is not UTF-8 is malformed.
        let stdin = std::io::BufReader::with_capacity(
            1 << 16,
            egress_text::Reader::new(std::io::stdin().lock()),
        );
        for (n, line) in stdin.split(b'\n').enumerate() {
            let line = line?;
            let Ok(line) = std::str::from_utf8(&line) else {
                malformed += 1;
                out.flush()?;
                eprintln!(
                    "line {}: not UTF-8 text (save the list as UTF-8, or as UTF-16 with a byte order mark); skipped",
                    n + 1
                );
                continue;
            };
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() {
                continue;
            }
            match Input::parse(line) {
                Ok(input) => {
                    let e = explainer.explain(&input);
                    unmatched += usize::from(!e.matched());
                    write(&mut out, args.format, &input, &e)?;
                }
                Err(e) => {
                    // Reported and skipped; the run goes on.
                    malformed += 1;
                    out.flush()?;
                    eprintln!("line {}: `{}`: {e}; skipped", n + 1, line.trim());
                }
            }
        }
    }
    out.flush()?;
    if malformed > 0 {
        eprintln!("{malformed} malformed line(s) skipped");
    }
    Ok(if unmatched + malformed > 0 {
        Exit::Found
    } else {
        Exit::Success
    })
}

fn write(
    out: &mut impl Write,
    format: ExplainFormat,
    input: &Input,
    e: &Explanation,
) -> anyhow::Result<()> {
    match format {
        ExplainFormat::Jsonl => {
            serde_json::to_writer(&mut *out, &ExplainDoc::new(input, e))?;
            out.write_all(b"\n")?;
        }
        ExplainFormat::Table => {
            match e.matches.len() {
                0 => writeln!(out, "{}: no match", input.text)?,
                1 => writeln!(out, "{}: 1 match", input.text)?,
                n => writeln!(out, "{}: {n} matches", input.text)?,
            }
            for m in &e.matches {
                let ports: Vec<String> = m.ports.iter().map(u16::to_string).collect();
                writeln!(
                    out,
                    "  {}@{}  {}  {}  roles: {}  cloud: {}  ports: {}  ({}){}{}",
                    m.catalog,
                    m.revision,
                    m.pattern,
                    m.features.join(", "),
                    m.roles.join(", "),
                    m.cloud.as_str(),
                    ports.join(", "),
                    m.endpoint,
                    if m.via_placeholder {
                        "  [a placeholder stands for one label]"
                    } else {
                        ""
                    },
                    m.origin
                        .as_ref()
                        .map(|o| format!("  [{o}]"))
                        .unwrap_or_default()
                )?;
            }
            if let Some(n) = &e.near_miss {
                writeln!(out, "  near miss: {}", n.reason)?;
            }
            if let Some(p) = &e.plan {
                let verdict = if p.allowed { "allowed" } else { "not allowed" };
                writeln!(out, "  plan: {verdict}: {}", p.reason)?;
            }
        }
    }
    Ok(())
}
