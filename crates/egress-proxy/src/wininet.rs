//! WinINET's settings in one registry hive: the `DefaultConnectionSettings`
//! blob under `Internet Settings\Connections`, and the flat values under
//! `Internet Settings` (`ProxyEnable`, `ProxyServer`, `ProxyOverride`,
//! `AutoConfigURL`, `AutoDetect`), which Group Policy, older tools and
//! scripts write and WinINET still reads.
//!
//! Microsoft does not document which of the two wins when both exist.
//! egress's rule (docs/proxy-discovery.md): the blob, which WinINET reads
//! at run time and writes whenever the settings change in Internet
//! Options, keeping the flat values as its copy; the flat values when
//! there is no blob, or when `MigrateProxy` is 1, which asks WinINET to
//! build the blob from the flat values the next time it starts (what a
//! tool that writes only the flat values sets). When both exist and say
//! different things, both are returned, so that a report can show them.

use crate::blob::{
    self, BlobError, FLAG_AUTO_CONFIG_URL, FLAG_AUTO_DETECT, FLAG_DIRECT, FLAG_PROXY, Store,
    WindowsProxy,
};

/// The flat values of `Internet Settings`, as found (`None`: not set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flat {
    pub proxy_enable: Option<u32>,
    pub proxy_server: Option<String>,
    pub proxy_override: Option<String>,
    pub auto_config_url: Option<String>,
    pub auto_detect: Option<u32>,
}

impl Flat {
    /// No flat value is set.
    pub fn is_empty(&self) -> bool {
        *self == Flat::default()
    }

    /// The settings they make, as WinINET reads them: the proxy when
    /// `ProxyEnable` is 1, the PAC URL when `AutoConfigURL` is set,
    /// auto-detection when `AutoDetect` is 1.
    pub fn settings(&self) -> Result<WindowsProxy, BlobError> {
        let mut flags = FLAG_DIRECT;
        if self.proxy_enable == Some(1) {
            flags |= FLAG_PROXY;
        }
        if self
            .auto_config_url
            .as_deref()
            .is_some_and(|u| !u.trim().is_empty())
        {
            flags |= FLAG_AUTO_CONFIG_URL;
        }
        if self.auto_detect == Some(1) {
            flags |= FLAG_AUTO_DETECT;
        }
        blob::settings(
            Store::WinInet,
            "ProxyServer",
            flags,
            self.proxy_server.as_deref().unwrap_or_default(),
            self.proxy_override.as_deref().unwrap_or_default(),
            self.auto_config_url.as_deref().unwrap_or_default(),
        )
    }
}

/// What one hive holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hive {
    /// `Connections\DefaultConnectionSettings`.
    pub blob: Option<Vec<u8>>,
    pub flat: Flat,
    /// `MigrateProxy`.
    pub migrate_proxy: Option<u32>,
}

/// Which of the two a hive's settings were taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    Blob,
    Flat,
}

/// A hive's settings, with what was not used when the two disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub settings: WindowsProxy,
    pub kept: Kept,
    /// Why those (egress's rule, applied).
    pub why: &'static str,
    /// The other one, when both are set and say something else.
    pub other: Option<WindowsProxy>,
}

/// The settings `hive` gives by egress's rule; `None` when it holds
/// neither a blob nor a flat value.
pub fn choose(hive: &Hive) -> Result<Option<Chosen>, BlobError> {
    let blob = hive
        .blob
        .as_deref()
        .map(|b| blob::decode(b, Store::WinInet))
        .transpose()?;
    let flat = match hive.flat.is_empty() {
        true => None,
        false => Some(hive.flat.settings()?),
    };
    let migrate = hive.migrate_proxy == Some(1);
    let disagree = |a: &WindowsProxy, b: &WindowsProxy| a.to_string() != b.to_string();
    Ok(match (blob, flat) {
        (None, None) => None,
        (Some(settings), None) => Some(Chosen {
            settings,
            kept: Kept::Blob,
            why: "only DefaultConnectionSettings is set",
            other: None,
        }),
        (None, Some(settings)) => Some(Chosen {
            settings,
            kept: Kept::Flat,
            why: "there is no DefaultConnectionSettings, so WinINET reads the flat values",
            other: None,
        }),
        (Some(blob), Some(flat)) if migrate => Some(Chosen {
            other: disagree(&blob, &flat).then_some(blob),
            settings: flat,
            kept: Kept::Flat,
            why: "MigrateProxy is 1: WinINET builds DefaultConnectionSettings from the flat values when it next starts",
        }),
        (Some(blob), Some(flat)) => Some(Chosen {
            other: disagree(&blob, &flat).then_some(flat),
            settings: blob,
            kept: Kept::Blob,
            why: "WinINET reads DefaultConnectionSettings at run time and keeps the flat values as its copy",
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(enable: u32, server: &str) -> Flat {
        Flat {
            proxy_enable: Some(enable),
            proxy_server: Some(server.to_owned()),
            proxy_override: Some("<local>;*.contoso.com".to_owned()),
            ..Flat::default()
        }
    }

    #[track_caller]
    fn check(hive: Hive, expected: Option<(&str, Kept, Option<&str>)>) {
        let got = choose(&hive).unwrap().map(|c| {
            (
                c.settings.to_string(),
                c.kept,
                c.other.map(|o| o.to_string()),
            )
        });
        let expected = expected.map(|(s, k, o)| (s.to_owned(), k, o.map(str::to_owned)));
        assert_eq!(got, expected);
    }

    #[test]
    fn the_blob_wins_unless_migrate_proxy_asks_for_the_flat_values() {
        let blob = blob::encode(Store::WinInet, FLAG_DIRECT | FLAG_PROXY, "a:8080", "", "");
        let same = Hive {
            blob: Some(blob.clone()),
            flat: flat(1, "a:8080"),
            migrate_proxy: None,
        };
        check(Hive::default(), None);
        check(
            Hive {
                flat: flat(1, "b:3128"),
                ..Hive::default()
            },
            Some((
                "proxy b:3128; bypass <local>;*.contoso.com",
                Kept::Flat,
                None,
            )),
        );
        check(
            Hive {
                blob: Some(blob.clone()),
                ..Hive::default()
            },
            Some(("proxy a:8080", Kept::Blob, None)),
        );
        // Agreeing up to the bypass list shown: the blob's is empty.
        check(
            Hive {
                flat: Flat {
                    proxy_override: None,
                    ..flat(1, "a:8080")
                },
                ..same.clone()
            },
            Some(("proxy a:8080", Kept::Blob, None)),
        );
        check(
            Hive {
                flat: flat(1, "b:3128"),
                ..same.clone()
            },
            Some((
                "proxy a:8080",
                Kept::Blob,
                Some("proxy b:3128; bypass <local>;*.contoso.com"),
            )),
        );
        check(
            Hive {
                flat: flat(1, "b:3128"),
                migrate_proxy: Some(1),
                ..same.clone()
            },
            Some((
                "proxy b:3128; bypass <local>;*.contoso.com",
                Kept::Flat,
                Some("proxy a:8080"),
            )),
        );
        // ProxyEnable 0 keeps the server but does not use it.
        check(
            Hive {
                flat: flat(0, "b:3128"),
                ..Hive::default()
            },
            Some(("direct", Kept::Flat, None)),
        );
        check(
            Hive {
                flat: Flat {
                    auto_config_url: Some("http://pac.contoso.com/proxy.pac".to_owned()),
                    auto_detect: Some(1),
                    ..Flat::default()
                },
                ..Hive::default()
            },
            Some((
                "PAC http://pac.contoso.com/proxy.pac; auto-detect (WPAD)",
                Kept::Flat,
                None,
            )),
        );
    }

    #[test]
    fn an_unreadable_proxy_server_is_an_error() {
        let message = choose(&Hive {
            flat: flat(1, "bob:s3cret@proxy:99999"),
            ..Hive::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            message.starts_with("ProxyServer: the proxy list cannot be read"),
            "{message}"
        );
        assert!(!message.contains("s3cret"), "{message}");
    }
}
