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
    temporary_beside(path, tempfile::Builder::new()).map(drop)
}

/// A temporary file in `path`'s folder, made by `builder`; the error names
/// the folder, not the temporary file.
fn temporary_beside(
    path: &Path,
    mut builder: tempfile::Builder<'_, '_>,
) -> anyhow::Result<tempfile::NamedTempFile> {
    let dir = folder(path);
    builder
        .prefix(".egress-")
        .tempfile_in(dir)
        .map_err(without_path)
        .with_context(|| {
            format!(
                "cannot write {}: cannot create a file in {}",
                path.display(),
                dir.display()
            )
        })
}

/// The OS error alone: tempfile's errors name the temporary file, which
/// means nothing to the user (the message names the folder instead).
fn without_path(e: std::io::Error) -> std::io::Error {
    let text = e.to_string();
    let os_error = text.split(" at path ").next().unwrap_or(&text);
    std::io::Error::new(e.kind(), os_error.to_owned())
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

/// Writes `bytes` to `path` through a temporary file in its folder. A new
/// file gets the mode the umask allows (`0666 & !umask`), as any tool's
/// output does; a replaced file keeps its mode, and its owner and group
/// where the process may set them, so that a web server or Squid that
/// reads it still can. (On Windows, the file takes its folder's inherited
/// permissions.)
pub fn write_atomically(path: &Path, bytes: &[u8], overwrite: Overwrite) -> anyhow::Result<()> {
    write_atomically_with(path, overwrite, |w| w.write_all(bytes))
}

/// As [`write_atomically`], the content written by `fill` through a
/// buffer, so that a large file is never held in memory whole.
pub fn write_atomically_with(
    path: &Path,
    overwrite: Overwrite,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let existing = match overwrite {
        Overwrite::Yes => std::fs::metadata(path).ok(),
        Overwrite::No => None,
    };
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = temporary_beside(path, builder)?;
    if let Some(old) = &existing {
        keep_mode_and_owner(tmp.as_file(), old)
            .with_context(|| format!("cannot write {}: cannot keep its mode", path.display()))?;
    }
    {
        let mut buffer = std::io::BufWriter::new(tmp.as_file_mut());
        fill(&mut buffer)
            .and_then(|()| buffer.flush())
            .and_then(|()| buffer.get_ref().sync_all())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
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

/// Gives the new file the replaced one's owner and group (each only where
/// allowed: root may set both, an owner the group it belongs to), then its
/// mode, after the owner since a change of owner clears set-id bits.
#[cfg(unix)]
fn keep_mode_and_owner(file: &std::fs::File, old: &std::fs::Metadata) -> std::io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt, fchown};
    if fchown(file, Some(old.uid()), Some(old.gid())).is_err() {
        let _ = fchown(file, None, Some(old.gid()));
    }
    file.set_permissions(std::fs::Permissions::from_mode(old.mode() & 0o7777))
}

/// Windows: the file takes its folder's inherited permissions.
#[cfg(not(unix))]
fn keep_mode_and_owner(_: &std::fs::File, _: &std::fs::Metadata) -> std::io::Result<()> {
    Ok(())
}

/// Progress for a stderr that is not a terminal: each redraw a line of its
/// own, no cursor movement.
#[derive(Debug)]
pub struct LogLines;

impl indicatif::TermLike for LogLines {
    fn width(&self) -> u16 {
        100
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.write_str(s)
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        if !s.trim().is_empty() {
            eprintln!("{s}");
        }
        Ok(())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}
