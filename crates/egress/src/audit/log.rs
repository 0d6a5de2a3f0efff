//! `egress audit log`: proxy logs (gzip too) streamed through
//! egress-audit's readers and tally, on every core.

use std::collections::BTreeMap;
use std::io::Read;

use anyhow::Context as _;

use egress_audit::log::{Format, Reader};
use egress_audit::report::{log_markdown, log_text};
use egress_audit::tally::{Audit, AuthBlock, Lookup};
use egress_catalog::plan;

use super::{emit, open};
use crate::Exit;
use crate::cli::{AuditLogArgs, LogInput};
use crate::context;

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

pub(super) fn run(args: &AuditLogArgs) -> anyhow::Result<Exit> {
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
    emit(args.format, &header, &report, log_text, log_markdown)?;
    Ok(
        if report.needed.is_empty() && report.auth_failing.is_empty() {
            Exit::Success
        } else {
            Exit::Found
        },
    )
}
