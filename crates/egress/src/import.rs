//! `egress catalog import PAGE.md`: a docs page into a catalog, with a
//! report on stderr of everything on the page that did not become part of
//! it.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use egress_catalog::{SourceFile, catalog};
use egress_import::{ImportError, Remark, Request};

use crate::Exit;
use crate::cli::ImportArgs;
use crate::output;

pub fn run(args: &ImportArgs) -> anyhow::Result<Exit> {
    let mut read = |path: &Path| std::fs::read(path);
    let request = Request {
        page: &args.page,
        includes: args.includes.as_deref(),
        revision: args.revision.as_deref(),
    };
    let import = match egress_import::import(&request, &mut read) {
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
    let name = args.output.as_deref().map_or_else(
        || "<imported catalog>".to_owned(),
        |p| p.display().to_string(),
    );
    catalog::load(&SourceFile::new(name, import.catalog.clone()))
        .map_err(crate::context::InputError)
        .context("the imported catalog does not load; this is a bug in the importer")?;
    output::emit(&import.catalog, args.output.as_deref())?;
    eprintln!(
        "imported {} endpoints in {} features from {} file{} (language {}{}), revision {}; {} remark{}",
        import.endpoints,
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
    Ok(Exit::Success)
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
