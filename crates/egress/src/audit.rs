//! `egress audit`: what a site already has, held against the plan
//! (docs/audit.md). `audit log` streams proxy logs (gzip too) through
//! egress-audit's readers and tally; `audit allowlist` reads an
//! allowlist with egress-audit's readers and reports per plan row.

use std::io::{BufRead, BufReader, Read};

use anyhow::Context as _;
use serde::Serialize;

use crate::Exit;
use crate::cli::{AuditCommand, AuditFormat};

mod allowlist;
mod log;

pub fn run(command: &AuditCommand) -> anyhow::Result<Exit> {
    match command {
        AuditCommand::Log(args) => log::run(args),
        AuditCommand::Allowlist(args) => allowlist::run(args),
    }
}

/// A file (or `-`, standard input) as bytes, through gzip when it is
/// compressed (its name ends in `.gz`, or it starts with gzip's magic).
pub(super) fn open_bytes(name: &str) -> anyhow::Result<Box<dyn BufRead>> {
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
pub(super) fn open(name: &str) -> anyhow::Result<Box<dyn BufRead>> {
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

/// Writes a report in `format`: JSON (the header and the report's
/// fields), or the table or markdown its writers make.
pub(super) fn emit<R: Serialize>(
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
