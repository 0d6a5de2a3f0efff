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
//! there is no blob. When both exist and what the flat values set says
//! something else, the other is returned too (with `MigrateProxy`, which
//! asks WinINET to rebuild the blob from the flat values when it next
//! starts), so that a report shows both.

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
    pub why: String,
    /// What the flat values say, when a blob is used and they say
    /// something else (or cannot be read).
    pub other: Option<String>,
}

/// The settings `hive` gives by egress's rule; `None` when it holds
/// neither a blob nor a flat value. Flat values that cannot be read are
/// an error only when they are what is used.
pub fn choose(hive: &Hive) -> Result<Option<Chosen>, BlobError> {
    let blob = hive
        .blob
        .as_deref()
        .map(|b| blob::decode(b, Store::WinInet))
        .transpose()?;
    let flat = (!hive.flat.is_empty()).then(|| hive.flat.settings());
    let migrate = hive.migrate_proxy == Some(1);
    Ok(match (blob, flat) {
        (None, None) => None,
        (None, Some(flat)) => Some(Chosen {
            settings: flat?,
            kept: Kept::Flat,
            why: "there is no DefaultConnectionSettings, so WinINET reads the flat values"
                .to_owned(),
            other: None,
        }),
        (Some(settings), flat) => {
            let other = match flat {
                None => None,
                Some(Err(e)) => Some(format!("cannot be read ({e})")),
                Some(Ok(flat)) => {
                    (!agree(&settings, &flat, &hive.flat)).then(|| format!("say `{flat}`"))
                }
            };
            let why = match (&other, migrate) {
                (None, _) => "WinINET reads DefaultConnectionSettings".to_owned(),
                (Some(_), false) => "WinINET reads DefaultConnectionSettings at run time and keeps the flat values as its copy".to_owned(),
                (Some(_), true) => "WinINET reads DefaultConnectionSettings at run time; MigrateProxy is 1, so it may rebuild it from the flat values when it next starts".to_owned(),
            };
            Some(Chosen {
                settings,
                kept: Kept::Blob,
                why,
                other,
            })
        }
    })
}

/// Whether the blob's settings say what the flat values set: only the
/// values that are there are compared (a flat copy rarely holds
/// `AutoDetect`).
fn agree(blob: &WindowsProxy, flat: &WindowsProxy, values: &Flat) -> bool {
    let shown = |p: &WindowsProxy| p.proxy.as_ref().map(ToString::to_string);
    (values.proxy_enable.is_none() && values.proxy_server.is_none()
        || shown(blob) == shown(flat)
            && (flat.proxy.is_none() || blob.bypass.as_str() == flat.bypass.as_str()))
        && (values.auto_config_url.is_none() || blob.pac_url == flat.pac_url)
        && (values.auto_detect.is_none() || blob.auto_detect == flat.auto_detect)
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
        let got = choose(&hive)
            .unwrap()
            .map(|c| (c.settings.to_string(), c.kept, c.other));
        let expected = expected.map(|(s, k, o)| (s.to_owned(), k, o.map(str::to_owned)));
        assert_eq!(got, expected);
    }

    #[test]
    fn the_blob_wins_and_the_flat_values_are_shown_when_they_differ() {
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
                Some("say `proxy b:3128; bypass <local>;*.contoso.com`"),
            )),
        );
        // MigrateProxy does not change which is used; the reason says it.
        let migrate = choose(&Hive {
            flat: flat(1, "b:3128"),
            migrate_proxy: Some(1),
            ..same.clone()
        })
        .unwrap()
        .unwrap();
        assert_eq!(migrate.kept, Kept::Blob);
        assert!(migrate.why.contains("MigrateProxy is 1"), "{}", migrate.why);
        // A blob with auto-detection on, flat values without `AutoDetect`:
        // they agree.
        check(
            Hive {
                blob: Some(blob::encode(
                    Store::WinInet,
                    FLAG_DIRECT | FLAG_PROXY | FLAG_AUTO_DETECT,
                    "a:8080",
                    "<local>;*.contoso.com",
                    "",
                )),
                flat: flat(1, "a:8080"),
                migrate_proxy: Some(1),
            },
            Some((
                "proxy a:8080; bypass <local>;*.contoso.com; auto-detect (WPAD)",
                Kept::Blob,
                None,
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
    fn an_unreadable_proxy_server_is_an_error_only_when_used() {
        let unreadable = flat(1, "bob:s3cret@proxy:99999");
        let beside = choose(&Hive {
            blob: Some(blob::encode(Store::WinInet, FLAG_DIRECT, "", "", "")),
            flat: unreadable.clone(),
            migrate_proxy: None,
        })
        .unwrap()
        .unwrap();
        let other = beside.other.unwrap();
        assert!(other.starts_with("cannot be read"), "{other}");
        assert!(!other.contains("s3cret"), "{other}");
        let message = choose(&Hive {
            flat: unreadable,
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
