//! Imports a vendor documentation page written in Microsoft Learn markdown
//! into an egress catalog: headings and anchors become features and roles,
//! code spans in list items, table cells and sentences become endpoints,
//! and everything the importer did not take is reported.
//!
//! This crate does no I/O of its own: the caller passes a reader, which is
//! asked for the page and for each file the page includes. It does not
//! depend on `egress-catalog`: its output is catalog text, which the caller
//! loads and checks like any other catalog file.

#![forbid(unsafe_code)]

use std::io;
use std::path::{Path, PathBuf};

mod expand;
mod known;
mod language;
pub mod m365;
pub mod m365_changes;
mod output;
mod page;

/// Reads one file, given its path: the page, then each include.
pub type Read<'a> = &'a mut dyn FnMut(&Path) -> io::Result<Vec<u8>>;

/// What to import.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub page: &'a Path,
    /// The folder the page's includes are resolved against, instead of the
    /// page's own folder.
    pub includes: Option<&'a Path>,
    /// The catalog revision; by default the year and month of the page's
    /// `ms.date`.
    pub revision: Option<&'a str>,
}

/// An imported page.
#[derive(Debug, Clone)]
pub struct Import {
    /// The catalog, in the format of `docs/catalog-format.md`.
    pub catalog: String,
    pub revision: String,
    /// The page's language (`en-US` when the front matter names none), and
    /// whether egress has a phrase table for it.
    pub language: String,
    pub language_known: bool,
    pub files: Vec<PathBuf>,
    pub endpoints: usize,
    /// `[[network]]` tables (IP ranges), from the Microsoft 365 web service.
    pub networks: usize,
    pub features: usize,
    /// Everything on the page that did not become part of the catalog, or
    /// became part of it by a guess: nothing is dropped silently.
    pub remarks: Vec<Remark>,
}

/// One thing the importer did not take, or took by a rule worth knowing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remark {
    pub file: PathBuf,
    pub line: u32,
    pub kind: RemarkKind,
    /// The code span, heading or annotation concerned.
    pub text: String,
    pub why: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RemarkKind {
    /// A code span that did not become an endpoint.
    NotTaken,
    /// A heading not in the table of known headings.
    UnknownHeading,
    /// An annotation (cloud, version, port) the importer could not read.
    NotUnderstood,
    /// An endpoint listed more than once in the same place.
    Merged,
    /// Change records applied (the Microsoft 365 web service's `/changes`).
    Applied,
}

impl RemarkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RemarkKind::NotTaken => "not taken",
            RemarkKind::UnknownHeading => "unknown heading",
            RemarkKind::NotUnderstood => "not understood",
            RemarkKind::Merged => "merged",
            RemarkKind::Applied => "applied",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}: cannot read the page: {error}", file.display())]
    Read { file: PathBuf, error: String },
    #[error(
        "{}:{line}: cannot read the included file {}: {error}\n  help: check the include path, or pass --includes DIR with the folder that holds the includes",
        file.display(),
        include.display()
    )]
    Include {
        file: PathBuf,
        line: u32,
        include: PathBuf,
        error: String,
    },
    #[error("{}:{line}: include cycle: {chain}\n  help: a page must not include itself, directly or through other includes", file.display())]
    IncludeCycle {
        file: PathBuf,
        line: u32,
        chain: String,
    },
    #[error("{}:{line}: includes nest deeper than {max} levels", file.display())]
    IncludeDepth {
        file: PathBuf,
        line: u32,
        max: usize,
    },
    #[error("{}:{line}: the page with its includes is larger than {max} bytes", file.display())]
    TooLarge {
        file: PathBuf,
        line: u32,
        max: usize,
    },
    #[error("{}:{line}:{column}: not a markdown page: {reason}", file.display())]
    NotMarkdown {
        file: PathBuf,
        line: u32,
        column: u32,
        reason: String,
    },
    #[error(
        "{}:1: the page lists no endpoints: no code span in it is a host name or URL{}\n  help: import the page that lists the endpoints, with its includes (some pages, like proxy-server-support.md, carry none)",
        file.display(),
        if remarks.is_empty() { String::new() } else { format!(" ({} code spans were not taken; see the report)", remarks.iter().filter(|r| r.kind == RemarkKind::NotTaken).count()) }
    )]
    NoEndpoints { file: PathBuf, remarks: Vec<Remark> },
    #[error(
        "{}:1: the front matter has no `ms.date`, so the revision is unknown\n  help: pass --revision YYYY-MM",
        file.display()
    )]
    NoRevision { file: PathBuf },
    #[error(
        "{}:{line}: `ms.date: {value}` is not a date; front matter writes dates MM/DD/YYYY, like 03/02/2025\n  help: correct the page's date, or pass --revision YYYY-MM",
        file.display()
    )]
    BadDate {
        file: PathBuf,
        line: u32,
        value: String,
    },
    #[error(
        "--revision `{revision}` is not a revision id\n  help: use lowercase letters, digits, `.` and `-`, like `2025-03`"
    )]
    BadRevision { revision: String },
    #[error(
        "{}:{line}:{column}: not the Microsoft 365 web service's `{answer}` answer: {reason}\n  help: {}",
        file.display(),
        answer.help()
    )]
    NotM365 {
        file: PathBuf,
        answer: M365Answer,
        line: u32,
        column: u32,
        reason: String,
    },
    #[error("{}:{error}", file.display())]
    NotText {
        file: PathBuf,
        error: egress_text::DecodeError,
    },
    #[error("{}", problems.join("\n"))]
    Records { problems: Vec<String> },
    #[error(
        "{}: not a catalog `egress catalog import --format m365-json` wrote: {reason}\n  help: apply a `/changes` answer to the catalog imported from the same instance's `/endpoints` answer",
        file.display()
    )]
    NotM365Catalog { file: PathBuf, reason: String },
}

/// Which answer of the Microsoft 365 web service a file should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum M365Answer {
    Endpoints,
    Changes,
}

impl std::fmt::Display for M365Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            M365Answer::Endpoints => "/endpoints",
            M365Answer::Changes => "/changes",
        })
    }
}

impl M365Answer {
    fn help(self) -> &'static str {
        match self {
            M365Answer::Endpoints => {
                "import the JSON array of records that https://endpoints.office.com/endpoints/worldwide returns (a `/changes` answer goes to `--format m365-changes`)"
            }
            M365Answer::Changes => {
                "apply the JSON array of change records that https://endpoints.office.com/changes/worldwide/VERSION returns (an `/endpoints` answer goes to `--format m365-json`)"
            }
        }
    }
}

/// Imports a page and its includes.
pub fn import(request: &Request<'_>, read: Read<'_>) -> Result<Import, ImportError> {
    let expanded = expand::expand(request.page, request.includes, read)?;
    let parsed = page::walk(&expanded);
    let remarks: Vec<Remark> = parsed
        .remarks
        .iter()
        .map(|r| Remark {
            file: expanded.files[r.at.file].path.clone(),
            line: r.at.line,
            kind: r.kind,
            text: r.text.clone(),
            why: r.why.clone(),
        })
        .collect();
    if parsed.endpoints.is_empty() {
        return Err(ImportError::NoEndpoints {
            file: request.page.to_owned(),
            remarks,
        });
    }
    let front = &expanded.files[0].front;
    let revision = match (request.revision, &front.date) {
        (Some(r), _) => {
            if !is_revision(r) {
                return Err(ImportError::BadRevision {
                    revision: r.to_owned(),
                });
            }
            r.to_owned()
        }
        (None, Some(date)) => date[..7].to_owned(),
        (None, None) => {
            return Err(match &front.bad_date {
                Some((line, value)) => ImportError::BadDate {
                    file: request.page.to_owned(),
                    line: *line,
                    value: value.clone(),
                },
                None => ImportError::NoRevision {
                    file: request.page.to_owned(),
                },
            });
        }
    };
    let catalog = output::catalog(&expanded, &parsed, &revision);
    let import = Import {
        catalog,
        revision,
        language: parsed.locale.clone(),
        language_known: parsed.language_known,
        files: expanded.files.iter().map(|f| f.path.clone()).collect(),
        endpoints: parsed.endpoints.len(),
        networks: 0,
        features: parsed.features.len(),
        remarks,
    };
    Ok(import)
}

fn is_revision(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 64
        && r.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
}
