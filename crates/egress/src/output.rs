//! Writing results: to standard output, or atomically to a file (a
//! temporary file in the same folder, renamed into place), so that a failed
//! run never leaves a partial file.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

pub fn emit(text: &str, path: Option<&Path>) -> anyhow::Result<()> {
    match path {
        Some(path) => write_atomically(path, text.as_bytes(), Overwrite::Yes),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
            Ok(())
        }
    }
}

/// Whether `path` can be written, checked before long work (the check's
/// probes) so that its results are not lost at the end: its folder exists
/// and takes a new file. Writes nothing that stays.
pub fn check_writable(path: &Path) -> anyhow::Result<()> {
    let dir = folder(path);
    tempfile::Builder::new()
        .prefix(".egress-")
        .tempfile_in(dir)
        .map(drop)
        .with_context(|| {
            format!(
                "cannot write {}: cannot create a file in {}",
                path.display(),
                dir.display()
            )
        })
}

fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    Yes,
    No,
}

pub fn write_atomically(path: &Path, bytes: &[u8], overwrite: Overwrite) -> anyhow::Result<()> {
    let dir = folder(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".egress-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    match overwrite {
        Overwrite::Yes => tmp.persist(path).map(drop),
        Overwrite::No => tmp.persist_noclobber(path).map(drop),
    }
    .map_err(|e| e.error)
    .with_context(|| match overwrite {
        Overwrite::Yes => format!("cannot write {}", path.display()),
        Overwrite::No => format!(
            "cannot write {} (it may exist already; egress never overwrites it)",
            path.display()
        ),
    })
}
