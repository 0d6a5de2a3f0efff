//! `egress catalog import PAGE.md`: a docs page into a catalog, with a
//! report on stderr of everything on the page that did not become part of
//! it.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use egress_catalog::{SourceFile, catalog};
use egress_import::m365::Instance;
use egress_import::{ImportError, Remark, Request};

use crate::Exit;
use crate::cli::{ImportArgs, ImportFormat, M365Instance};
use crate::output;

pub fn run(args: &ImportArgs) -> anyhow::Result<Exit> {
    let mut read = |path: &Path| std::fs::read(path);
    let request = Request {
        page: &args.page,
        includes: args.includes.as_deref(),
        revision: args.revision.as_deref(),
    };
    let imported = match args.format {
        ImportFormat::Markdown => egress_import::import(&request, &mut read),
        ImportFormat::M365Json => m365(args),
        ImportFormat::M365Changes => changes(args),
    };
    let (text, _) = checked(imported, args.output.as_deref())?;
    output::emit(&text, args.output.as_deref())?;
    Ok(Exit::Success)
}

/// An import's catalog text and the catalog it loads as: the remarks and
/// a summary on stderr (the remarks too when it failed).
pub fn checked(
    imported: Result<egress_import::Import, ImportError>,
    output: Option<&Path>,
) -> anyhow::Result<(String, egress_catalog::Catalog)> {
    let import = match imported {
        Ok(import) => import,
        Err(error) => {
            if let ImportError::NoEndpoints { remarks, .. } = &error {
                eprint!("{}", report(remarks));
            }
            return Err(error.into());
        }
    };
    eprint!("{}", report(&import.remarks));
    // The output must be a catalog egress itself accepts; check it before
    // anything is written.
    let name = output.map_or_else(
        || "<imported catalog>".to_owned(),
        |p| p.display().to_string(),
    );
    let loaded = catalog::load(&SourceFile::new(name, import.catalog.clone()))
        .map_err(crate::context::InputError)
        .context("the imported catalog does not load; this is a bug in the importer")?;
    eprintln!(
        "imported {} endpoints{} in {} features from {} file{} (language {}{}), revision {}; {} remark{}",
        import.endpoints,
        if import.networks > 0 {
            format!(" and {} networks (IP ranges)", import.networks)
        } else {
            String::new()
        },
        import.features,
        import.files.len(),
        if import.files.len() == 1 { "" } else { "s" },
        import.language,
        if import.language_known {
            ""
        } else {
            ", no phrase table"
        },
        import.revision,
        import.remarks.len(),
        if import.remarks.len() == 1 { "" } else { "s" },
    );
    Ok((import.catalog, loaded))
}

/// The web service's answer in `args.page` as a catalog (its revision:
/// `--revision`, or the day it describes).
fn m365(args: &ImportArgs) -> Result<egress_import::Import, ImportError> {
    let bytes = std::fs::read(&args.page).map_err(|e| ImportError::Read {
        file: args.page.clone(),
        error: e.to_string(),
    })?;
    let describes = args
        .describes
        .unwrap_or_else(|| jiff::ZonedDateTime::now().date())
        .to_string();
    let revision = args.revision.clone().unwrap_or_else(|| describes.clone());
    let request = egress_import::m365::M365Request {
        file: &args.page,
        instance: instance(args.instance),
        service_areas: &args.service_areas,
        revision: &revision,
        describes: &describes,
    };
    egress_import::m365::import(&bytes, &request)
}

/// The `/changes` answer in `args.page` applied to the catalog `--to`.
fn changes(args: &ImportArgs) -> Result<egress_import::Import, ImportError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| ImportError::Read {
            file: path.to_owned(),
            error: e.to_string(),
        })
    };
    let bytes = read(&args.page)?;
    let to = args.to.as_deref().unwrap_or(Path::new(""));
    let catalog = egress_text::decode(&read(to)?)
        .map_err(|error| ImportError::NotText {
            file: to.to_owned(),
            error,
        })?
        .text;
    let request = egress_import::m365_changes::ChangesRequest {
        file: &args.page,
        catalog_file: to,
        catalog: &catalog,
        service_areas: &args.service_areas,
    };
    egress_import::m365_changes::apply(&bytes, &request)
}

/// The importer's name for an instance.
pub fn instance(i: M365Instance) -> Instance {
    match i {
        M365Instance::Worldwide => Instance::Worldwide,
        M365Instance::UsgovDod => Instance::UsGovDod,
        M365Instance::UsgovGcchigh => Instance::UsGovGccHigh,
        M365Instance::China => Instance::China,
    }
}

/// One line per remark: `file:line: kind: `text`: why`.
fn report(remarks: &[Remark]) -> String {
    let mut out = String::new();
    for r in remarks {
        let _ = writeln!(
            out,
            "{}:{}: {}: `{}`: {}",
            r.file.display(),
            r.line,
            r.kind.as_str(),
            r.text,
            r.why
        );
    }
    out
}
