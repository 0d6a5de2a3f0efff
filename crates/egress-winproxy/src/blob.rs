//! The binary registry values in which Windows keeps proxy settings:
//! `WinHttpSettings` (WinHTTP: `HKLM\SOFTWARE\Microsoft\Windows\
//! CurrentVersion\Internet Settings\Connections`) and
//! `DefaultConnectionSettings` (WinINET: the same key under a user's hive,
//! `HKU\S-1-5-18` for SYSTEM).
//!
//! Layout, little-endian: a 32-bit version word (WinINET 0x46, earlier
//! 0x3C; WinHTTP 0x18 or 0x28), a 32-bit change counter, 32-bit flags (0x1
//! direct, 0x2 fixed proxy, 0x4 auto-configuration URL, 0x8 auto-detect),
//! then strings each prefixed by its 32-bit length: the proxy list, the
//! bypass list, the auto-configuration (PAC) URL. What follows is not read.

use std::fmt;

use crate::bypass::BypassList;
use crate::servers::ProxyServers;

/// Which value a blob is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    WinHttp,
    WinInet,
}

impl Store {
    pub fn value_name(self) -> &'static str {
        match self {
            Store::WinHttp => "WinHttpSettings",
            Store::WinInet => "DefaultConnectionSettings",
        }
    }

    fn versions(self) -> &'static [u32] {
        match self {
            Store::WinHttp => &[0x18, 0x28],
            Store::WinInet => &[0x3C, 0x46],
        }
    }
}

pub const FLAG_DIRECT: u32 = 0x1;
pub const FLAG_PROXY: u32 = 0x2;
pub const FLAG_AUTO_CONFIG_URL: u32 = 0x4;
pub const FLAG_AUTO_DETECT: u32 = 0x8;

/// Why a blob cannot be read; says where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    #[error("{value}: {len} bytes; the header alone takes 12")]
    TooShort { value: &'static str, len: usize },
    #[error("{value}: version word 0x{found:X}, expected {expected}; is this the right value?")]
    Version {
        value: &'static str,
        found: u32,
        expected: String,
    },
    #[error(
        "{value}: the {field} at byte {offset} claims {claimed} bytes, but only {available} follow"
    )]
    Length {
        value: &'static str,
        field: &'static str,
        offset: usize,
        claimed: u32,
        available: usize,
    },
    #[error(
        "{value}: the length of the {field} at byte {offset} is cut short ({available} of 4 bytes)"
    )]
    Cut {
        value: &'static str,
        field: &'static str,
        offset: usize,
        available: usize,
    },
    #[error("{value}: the proxy list cannot be read: {reason}")]
    ProxyList { value: &'static str, reason: String },
    #[error("{value}: the {field} is not text (a byte 0x{byte:02X} at {offset})")]
    NotText {
        value: &'static str,
        field: &'static str,
        offset: usize,
        byte: u8,
    },
}

/// Proxy settings as one store has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowsProxy {
    pub store: Store,
    pub flags: u32,
    /// The fixed proxy, when the proxy flag is set and the list names one.
    pub proxy: Option<ProxyServers>,
    pub bypass: BypassList,
    /// Bypass entries Windows ignores (a port that is not one).
    pub ignored_bypass: Vec<String>,
    /// The auto-configuration (PAC) URL, when its flag is set.
    pub pac_url: Option<String>,
    /// WPAD auto-detection is on.
    pub auto_detect: bool,
}

impl WindowsProxy {
    /// Direct, with no proxy, PAC or auto-detection.
    pub fn is_direct(&self) -> bool {
        self.proxy.is_none() && self.pac_url.is_none() && !self.auto_detect
    }
}

impl fmt::Display for WindowsProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(p) = &self.proxy {
            parts.push(format!("proxy {p}"));
            if !self.bypass.as_str().is_empty() {
                parts.push(format!("bypass {}", self.bypass.as_str()));
            }
        }
        if let Some(u) = &self.pac_url {
            parts.push(format!("PAC {}", crate::redact(u)));
        }
        if self.auto_detect {
            parts.push("auto-detect (WPAD)".to_owned());
        }
        if parts.is_empty() {
            parts.push("direct".to_owned());
        }
        f.write_str(&parts.join("; "))
    }
}

/// Decodes a blob of `store`. Every length is checked against what is
/// there; nothing panics.
pub fn decode(blob: &[u8], store: Store) -> Result<WindowsProxy, BlobError> {
    let value = store.value_name();
    let word = |at: usize| -> Option<u32> {
        blob.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (Some(version), Some(_counter), Some(flags)) = (word(0), word(4), word(8)) else {
        return Err(BlobError::TooShort {
            value,
            len: blob.len(),
        });
    };
    if !store.versions().contains(&version) {
        return Err(BlobError::Version {
            value,
            found: version,
            expected: store
                .versions()
                .iter()
                .map(|v| format!("0x{v:X}"))
                .collect::<Vec<_>>()
                .join(" or "),
        });
    }
    let mut at = 12;
    let string = |field: &'static str, at: &mut usize| -> Result<Option<String>, BlobError> {
        let Some(len) = word(*at) else {
            // A blob may end after a field (WinHTTP's before its PAC URL),
            // not within a length word.
            if *at >= blob.len() {
                return Ok(None);
            }
            return Err(BlobError::Cut {
                value,
                field,
                offset: *at,
                available: blob.len() - *at,
            });
        };
        let start = *at + 4;
        let available = blob.len() - start;
        if len as usize > available {
            return Err(BlobError::Length {
                value,
                field,
                offset: *at,
                claimed: len,
                available,
            });
        }
        let bytes = &blob[start..start + len as usize];
        if let Some(i) = bytes.iter().position(|b| !(0x20..0x7F).contains(b)) {
            return Err(BlobError::NotText {
                value,
                field,
                offset: start + i,
                byte: bytes[i],
            });
        }
        *at = start + len as usize;
        Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
    };
    let proxy_text = string("proxy list", &mut at)?.unwrap_or_default();
    let bypass_text = string("bypass list", &mut at)?.unwrap_or_default();
    let pac_text = string("auto-configuration URL", &mut at)?.unwrap_or_default();
    settings(store, value, flags, &proxy_text, &bypass_text, &pac_text)
}

/// Settings from their parts, wherever they were kept (`value`: where, for
/// errors): the proxy list is used only when the proxy flag is set, the
/// PAC URL only when its flag is.
pub(crate) fn settings(
    store: Store,
    value: &'static str,
    flags: u32,
    proxy_text: &str,
    bypass_text: &str,
    pac_text: &str,
) -> Result<WindowsProxy, BlobError> {
    let (bypass, ignored_bypass) = BypassList::parse(bypass_text);
    let proxy = if flags & FLAG_PROXY != 0 && !proxy_text.trim().is_empty() {
        // A list egress cannot read is an error, never a silent direct
        // route.
        Some(
            ProxyServers::parse(proxy_text)
                .map_err(|reason| BlobError::ProxyList { value, reason })?,
        )
    } else {
        None
    };
    Ok(WindowsProxy {
        store,
        flags,
        proxy,
        bypass,
        ignored_bypass,
        pac_url: (flags & FLAG_AUTO_CONFIG_URL != 0 && !pac_text.trim().is_empty())
            .then(|| pac_text.trim().to_owned()),
        auto_detect: flags & FLAG_AUTO_DETECT != 0,
    })
}

/// Encodes settings as Windows writes them (for tests and `.reg` files
/// made from a description).
pub fn encode(store: Store, flags: u32, proxy: &str, bypass: &str, pac_url: &str) -> Vec<u8> {
    let version = match store {
        Store::WinHttp => 0x28u32,
        Store::WinInet => 0x46,
    };
    let mut out = Vec::new();
    out.extend(version.to_le_bytes());
    out.extend(1u32.to_le_bytes());
    out.extend(flags.to_le_bytes());
    for s in [proxy, bypass, pac_url] {
        out.extend((s.len() as u32).to_le_bytes());
        out.extend(s.as_bytes());
    }
    // WinINET follows with fields egress does not read.
    out.extend([0u8; 28]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_flags() {
        let blob = encode(
            Store::WinInet,
            FLAG_DIRECT | FLAG_PROXY | FLAG_AUTO_CONFIG_URL,
            "http=a:80;https=b:8080",
            "<local>;*.contoso.com",
            "http://wpad.contoso.com/proxy.pac",
        );
        let p = decode(&blob, Store::WinInet).unwrap();
        assert_eq!(
            p.proxy.unwrap().for_scheme("https").unwrap().to_string(),
            "b:8080"
        );
        assert!(p.bypass.bypasses("https", "x.contoso.com", 443));
        assert_eq!(
            p.pac_url.as_deref(),
            Some("http://wpad.contoso.com/proxy.pac")
        );
        assert!(!p.auto_detect);
        // The proxy flag off: the list is kept by Windows but not used.
        let p = decode(
            &encode(Store::WinHttp, FLAG_DIRECT, "a:80", "", ""),
            Store::WinHttp,
        )
        .unwrap();
        assert!(p.is_direct());
        assert_eq!(p.to_string(), "direct");
    }

    #[test]
    fn bad_blobs_say_where() {
        assert!(matches!(
            decode(&[0x46, 0, 0], Store::WinInet),
            Err(BlobError::TooShort { .. })
        ));
        let blob = encode(Store::WinInet, FLAG_PROXY, "a:80", "", "");
        assert!(matches!(
            decode(&blob, Store::WinHttp),
            Err(BlobError::Version { found: 0x46, .. })
        ));
        let mut long = blob.clone();
        long[12] = 0xFF;
        assert_eq!(
            decode(&long, Store::WinInet).unwrap_err().to_string(),
            "DefaultConnectionSettings: the proxy list at byte 12 claims 255 bytes, but only 40 follow"
        );
        let mut binary = blob;
        binary[17] = 0x01;
        assert!(matches!(
            decode(&binary, Store::WinInet),
            Err(BlobError::NotText { offset: 17, .. })
        ));
        // A proxy list Windows keeps but egress cannot read: an error, not
        // a direct route; its user information never shows.
        let unreadable = encode(Store::WinHttp, FLAG_PROXY, "bob:s3cret@proxy:99999", "", "");
        let message = decode(&unreadable, Store::WinHttp).unwrap_err().to_string();
        assert!(
            message.starts_with("WinHttpSettings: the proxy list cannot be read"),
            "{message}"
        );
        assert!(!message.contains("s3cret"), "{message}");
    }
}
