//! The Windows registry, live (on Windows) or as a `reg export` file
//! (`--registry`), as the proxy sources read it.

use std::path::PathBuf;

use anyhow::Context as _;
use egress_winproxy::{RegFile, RegValue};

/// Reads a `.reg` file given with `--registry`.
pub fn read_registry(path: &std::path::Path) -> anyhow::Result<(PathBuf, RegFile)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file = RegFile::parse(&bytes).map_err(|errors| {
        let lines: Vec<String> = errors
            .0
            .iter()
            .map(|e| format!("{}:{e}", path.display()))
            .collect();
        anyhow::anyhow!("{}", lines.join("\n"))
    })?;
    Ok((path.to_owned(), file))
}

/// A value from the Windows registry, as a `.reg` file would hold it.
#[cfg(windows)]
pub(super) fn registry_value(key: &str, name: &str) -> anyhow::Result<Option<RegValue>> {
    use winreg::RegKey;
    use winreg::enums::{
        HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE, HKEY_USERS, REG_BINARY, REG_DWORD, REG_SZ,
    };
    let (root, path) = key.split_once('\\').unwrap_or((key, ""));
    let root = match root {
        "HKEY_LOCAL_MACHINE" => RegKey::predef(HKEY_LOCAL_MACHINE),
        "HKEY_USERS" => RegKey::predef(HKEY_USERS),
        _ => RegKey::predef(HKEY_CURRENT_USER),
    };
    let Ok(subkey) = root.open_subkey(path) else {
        return Ok(None);
    };
    let raw = match subkey.get_raw_value(name) {
        Ok(v) => v,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(anyhow::anyhow!("cannot read {key}\\{name}: {e}")),
    };
    let bytes = raw.bytes.to_vec();
    Ok(Some(match raw.vtype {
        REG_BINARY => RegValue::Binary(bytes),
        REG_DWORD if bytes.len() == 4 => {
            RegValue::Dword(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        }
        REG_SZ => {
            let units = bytes
                .chunks_exact(2)
                .map(|p| u16::from_le_bytes([p[0], p[1]]))
                .take_while(|u| *u != 0);
            RegValue::String(
                char::decode_utf16(units)
                    .map(|c| c.unwrap_or('\u{FFFD}'))
                    .collect(),
            )
        }
        other => RegValue::Other {
            kind: other as u32,
            data: bytes,
        },
    }))
}

#[cfg(not(windows))]
pub(super) fn registry_value(key: &str, name: &str) -> anyhow::Result<Option<RegValue>> {
    anyhow::bail!(
        "{key}\\{name} lives in the Windows registry; on this system give a `reg export` of that key with --registry FILE.reg"
    )
}
