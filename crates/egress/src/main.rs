//! The `egress` command: parses arguments, dispatches to one function per
//! subcommand, and maps outcomes to exit codes (0 success, 1 the check
//! found a problem, 2 usage, input or runtime error). Only this crate knows
//! about clap, the terminal and exit codes.

#![forbid(unsafe_code)]

mod audit;
mod catalog;
mod check;
mod cli;
mod context;
mod diff;
mod discover;
mod explain;
mod fetch;
mod import;
mod net;
mod output;
mod pac;
mod plan;
mod profile;
mod proxy;
mod render;
mod report;
mod routes;
mod serve;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use cli::{Cli, Command};

/// How a command that ran to its end went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Exit status 0.
    Success,
    /// Exit status 1: the command found a problem (an input that matched
    /// nothing, an endpoint that failed).
    Found,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(Exit::Success) => ExitCode::SUCCESS,
        Ok(Exit::Found) => ExitCode::from(1),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            report::error(&err);
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<Exit> {
    let done = |r: anyhow::Result<()>| r.map(|()| Exit::Success);
    match &cli.command {
        Command::Plan(args) => done(plan::run(args)),
        Command::Explain(args) => explain::run(args),
        Command::Render(args) => render::run(args),
        Command::Check(args) => check::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Proxy(args) => proxy::run(args),
        Command::Audit(command) => audit::run(command),
        Command::Catalog(command) => catalog::run(command),
        Command::Profile(command) => done(profile::run(command)),
        Command::Pac(command) => pac::run(command),
        Command::Routes(args) => routes::run(args),
        Command::Completions { shell } => {
            let mut command = Cli::command();
            let mut buf = Vec::new();
            clap_complete::generate(*shell, &mut command, "egress", &mut buf);
            done(output::emit(&String::from_utf8(buf)?, None))
        }
    }
}

/// A reader that closed standard output early (`egress plan | head`) is not
/// an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
