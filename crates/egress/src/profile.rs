//! `egress profile ...`: writing and checking site profiles.

use egress_catalog::profile::EXAMPLE;

use crate::cli::{ProfileCommand, Source};
use crate::context;
use crate::output::{self, Overwrite};

pub fn run(command: &ProfileCommand) -> anyhow::Result<()> {
    match command {
        ProfileCommand::Init { output: None } => output::emit(EXAMPLE, None),
        ProfileCommand::Init { output: Some(path) } => {
            output::write_atomically(path, EXAMPLE.as_bytes(), Overwrite::No)?;
            eprintln!(
                "wrote {}; edit it, then run `egress plan --profile {}`",
                path.display(),
                path.display()
            );
            Ok(())
        }
        ProfileCommand::Validate {
            catalog,
            revision,
            file,
        } => {
            let source = Source {
                catalog: catalog.iter().map(|c| c.display().to_string()).collect(),
                revision: revision.clone(),
                profile: Some(file.clone()),
            };
            let loaded = context::load(&source)?;
            println!(
                "ok: {}: checked against catalog {} revision {}",
                file.display(),
                loaded.catalog.meta.id,
                loaded.catalog.meta.revision
            );
            Ok(())
        }
    }
}
