//! The files egress writes are for others too. A new file gets
//! `0666 & !umask`; a replaced file keeps its mode (and its owner, where
//! the process may set it); the write stays atomic. Unix only: Windows
//! files take their folder's inherited permissions.
#![cfg(unix)]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use egress_test_support::tools::{ROOT, needs};

/// Runs `egress render squid -o <file>` under `umask`, with `file` first
/// created with `existing` mode when given; returns the mode it ends with.
fn mode_after(umask: &str, existing: Option<u32>) -> u32 {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("egress.conf");
    if let Some(mode) = existing {
        std::fs::write(&file, "old\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    run(umask, &file);
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("http_access")
    );
    assert_eq!(
        entries(dir.path()),
        ["egress.conf"],
        "no temporary file stays"
    );
    std::fs::metadata(&file).unwrap().mode() & 0o7777
}

fn run(umask: &str, file: &Path) {
    let egress = assert_cmd::cargo::cargo_bin!("egress");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask {umask} && exec \"$0\" render squid -o \"$1\""
        ))
        .arg(egress)
        .arg(file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn new_files_follow_the_umask_and_replaced_files_keep_their_mode() {
    for (umask, existing, expected) in [
        ("022", None, 0o644),
        ("077", None, 0o600),
        ("002", None, 0o664),
        ("022", Some(0o640), 0o640),
        ("077", Some(0o644), 0o644),
        ("022", Some(0o600), 0o600),
    ] {
        assert_eq!(
            mode_after(umask, existing),
            expected,
            "umask {umask}, existing {:?}",
            existing.map(|m| format!("{m:o}"))
        );
    }
}

/// Run as root (as on a site system or in a container), a replaced file
/// keeps its owner and group: Squid's `cache_effective_user` still reads
/// it. As another user, the process cannot give a file away; that case is
/// only the mode's, above.
#[test]
fn replaced_files_keep_their_owner_when_run_as_root() {
    if !needs(&[ROOT]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("egress.conf");
    std::fs::write(&file, "old\n").unwrap();
    std::os::unix::fs::chown(&file, Some(65534), Some(65534)).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    run("022", &file);
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid(), meta.mode() & 0o7777),
        (65534, 65534, 0o640)
    );
}
